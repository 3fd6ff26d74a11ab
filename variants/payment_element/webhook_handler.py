"""Lab 09, Part C: the webhook handler, for the Payment Element variant (variants/payment_element).

The Payment Element pays a PaymentIntent, as the card Element does: the handout's handler applies
unchanged (payment_intent.succeeded and the rest). Stripe tells this server what happened to each payment.

    labkit webhooks              # serves this file on http://localhost:5001/webhook (offline: registered with the fake)
    python webhook_handler.py    # the same with STRIPE_WEBHOOK_SECRET from `stripe listen`

The browser's word that a payment went through can be forged or lost; fulfilment waits for
Stripe's signed event. Top to bottom:

1. ``POST /webhook`` checks the ``Stripe-Signature`` header against the exact bytes received
   (an HMAC with this endpoint's secret and a timestamp) before reading anything. A forged,
   tampered, replayed-too-late or unsigned event gets a 400 and changes nothing.
2. Each verified event is applied exactly once: its id is stored in the same SQLite
   transaction as the order change, and the 200 goes out only after the commit. Stripe
   delivers some events twice and retries failures, so a duplicate must change nothing.
3. One handler per event type records what its event says (paid, failed, disputed, refunded);
   the order's status follows from all of them, so events arriving in any order (Stripe does not
   promise one) end in the same state, and a late failure never undoes a payment.
4. ``GET /orders`` lists the orders by PaymentIntent id, as in the handout.

Settings come from the environment: STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET (required: this
handler never runs unverified) and ORDERS_DB (the SQLite file, default orders.db).
"""
import json
import os
import sqlite3
import threading
import time

import stripe
from dotenv import load_dotenv
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

load_dotenv()
app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 512 * 1024
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
ORDERS_DB = os.environ.get("ORDERS_DB", "orders.db")
TOLERANCE = 300  # seconds between Stripe signing an event and us accepting it

if not WEBHOOK_SECRET:  # fail closed: without the secret, anyone could post a fake payment
    raise SystemExit("STRIPE_WEBHOOK_SECRET is not set: copy the whsec_… secret that `stripe listen` prints "
                     "(offline, `labkit webhooks` sets it for you).")

# ---------------------------------------------------------------- the database (SQLite)
_lock = threading.Lock()
_db = sqlite3.connect(ORDERS_DB, check_same_thread=False, isolation_level=None, timeout=30)
_db.execute("PRAGMA journal_mode=WAL")
_db.execute("PRAGMA synchronous=NORMAL")  # in WAL mode a commit survives the process being killed
_db.executescript("""
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT, payment_intent TEXT, received REAL);
CREATE TABLE IF NOT EXISTS orders (payment_intent TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (at REAL, status INTEGER, outcome TEXT, event_id TEXT, type TEXT);
""")


def log_delivery(status, outcome, event_id=None, type_=None):
    with _lock:
        _db.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?)", (time.time(), status, outcome, event_id, type_))


# ---------------------------------------------------------------- the webhook
@app.post("/webhook")
def webhook():
    """Verify the event's signature on the raw body, then apply it exactly once.

    - Verify the raw body with ``stripe.WebhookSignature.verify_header(body, Stripe-Signature,
      WEBHOOK_SECRET, TOLERANCE)`` (what ``stripe.Webhook.construct_event`` does first) before
      reading it; refuse (400, JSON) anything that fails, and a timestamp more than TOLERANCE
      seconds in the future too (Stripe's library only checks the past).
    - Apply the event with ``apply_once(event)`` and answer 200 only after it is committed.
    """
    # BEGIN SOLUTION
    payload = request.get_data()
    header = request.headers.get("Stripe-Signature", "")
    try:  # the HMAC of the exact bytes received; raises on a forged, tampered, stale or missing signature
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), header, WEBHOOK_SECRET, TOLERANCE)
        signed_at = int(header.split("t=", 1)[1].split(",", 1)[0])
        event = json.loads(payload)  # read only after it is verified
    except (ValueError, TypeError, IndexError, stripe.SignatureVerificationError):  # TypeError: a non-ASCII header
        log_delivery(400, "rejected: bad signature or body")
        return jsonify({"error": "Invalid signature or payload."}), 400
    if signed_at > time.time() + TOLERANCE:
        log_delivery(400, "rejected: signed in the future")
        return jsonify({"error": "Invalid signature timestamp."}), 400
    if not isinstance(event, dict) or not isinstance((event.get("data") or {}).get("object"), dict) \
            or not isinstance(event.get("id"), str):
        log_delivery(200, "ignored: not an event with data.object")
        return jsonify({"received": True, "ignored": "no data.object"}), 200  # a retry could never help
    outcome = apply_once(event)  # the delivery is logged in the same transaction
    return jsonify({"received": True, "outcome": outcome}), 200
    # END SOLUTION


def apply_once(event):
    """Apply ``event`` to its order once: the event id and the order change in one transaction.

    Record the id in the ``events`` table, update the ``orders`` table and log the delivery in
    ``deliveries``, all in one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``); an id already there
    means a duplicate: change nothing. Answer "processed", "duplicate" or "unhandled".
    """
    # BEGIN SOLUTION
    handler = HANDLERS.get(event["type"])
    with _lock:
        _db.execute("BEGIN IMMEDIATE")
        try:
            if _db.execute("SELECT 1 FROM events WHERE id = ?", (event["id"],)).fetchone():
                _db.execute("INSERT INTO deliveries VALUES (?, 200, 'duplicate', ?, ?)",
                            (time.time(), event["id"], event["type"]))
                _db.execute("COMMIT")
                return "duplicate"
            obj = event["data"]["object"]
            pi_id = obj.get("payment_intent") if obj.get("object") != "payment_intent" else obj.get("id")
            if handler and isinstance(pi_id, str):
                row = _db.execute("SELECT data FROM orders WHERE payment_intent = ?", (pi_id,)).fetchone()
                order = json.loads(row[0]) if row else {"status": "pending", "events": []}
                handler(order, obj)
                order["status"], order["fulfillment"] = order_status(order)
                order["events"].append(event["type"])
                _db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?)", (pi_id, json.dumps(order)))
            _db.execute("INSERT INTO events VALUES (?, ?, ?, ?)", (event["id"], event["type"], pi_id, time.time()))
            _db.execute("INSERT INTO deliveries VALUES (?, 200, ?, ?, ?)", (time.time(), "processed" if handler
                        else "unhandled", event["id"], event["type"]))
            _db.execute("COMMIT")
        except BaseException:
            _db.execute("ROLLBACK")
            raise
    return "processed" if handler else "unhandled"
    # END SOLUTION


# ---------------------------------------------------------------- one handler per event type
# Each handler records the facts its event tells about the order; ``order_status`` then derives the
# status from all the facts, so events arriving in any order end in the same state.
def handle_payment_succeeded(order, payment_intent):
    """Record the payment: amount (dollars), currency, the product from metadata."""
    # BEGIN SOLUTION
    order.update(paid=True, amount=payment_intent["amount_received"] / 100,
                 currency=payment_intent["currency"].upper(),
                 product=(payment_intent.get("metadata") or {}).get("product_name", "Unknown"))
    print(f"[webhook] payment succeeded: {payment_intent['id']} ${order['amount']:.2f}")
    # END SOLUTION


def handle_payment_failed(order, payment_intent):
    """Note the failure (Stripe's code and message); it never undoes a payment."""
    # BEGIN SOLUTION
    error = payment_intent.get("last_payment_error") or {}
    order["last_failure"] = {"code": error.get("code"), "message": error.get("message")}
    print(f"[webhook] payment failed: {payment_intent['id']} ({error.get('code')})")
    # END SOLUTION


def handle_dispute(order, dispute):
    """A dispute: keep the reason (for the evidence to send Stripe); fulfilment goes on hold."""
    # BEGIN SOLUTION
    order.update(disputed=True, dispute_reason=dispute.get("reason"))
    print(f"[webhook] DISPUTE on {dispute.get('charge')}: {dispute.get('reason')}")
    # END SOLUTION


def handle_refund(order, charge):
    """A refund: how much came back, and whether it was all of it."""
    # BEGIN SOLUTION
    order.update(refunded=charge.get("amount_refunded", 0) / 100, fully_refunded=bool(charge.get("refunded")))
    print(f"[webhook] refund on {charge.get('id')}: ${order['refunded']:.2f}")
    # END SOLUTION


def order_status(order):
    """(status, fulfilment) from the facts the events recorded, whatever order they came in."""
    if order.get("fully_refunded"):
        return "refunded", "cancelled"
    if order.get("disputed"):
        return "disputed", "on hold"
    if order.get("paid"):
        return "paid", "queued"
    return ("failed" if order.get("last_failure") else "pending"), None


HANDLERS = {
    "payment_intent.succeeded": handle_payment_succeeded,
    "payment_intent.payment_failed": handle_payment_failed,
    "charge.dispute.created": handle_dispute,
    "charge.refunded": handle_refund,
}


# ---------------------------------------------------------------- reading
@app.get("/orders")
def list_orders():
    """The orders by PaymentIntent id, as in the handout."""
    with _lock:
        rows = _db.execute("SELECT payment_intent, data FROM orders").fetchall()
    return jsonify({pi: json.loads(data) for pi, data in rows})


@app.get("/deliveries")
def list_deliveries():
    """Every delivery, refused ones too, newest first (for the instructor)."""
    with _lock:
        rows = _db.execute("SELECT * FROM deliveries ORDER BY at DESC LIMIT 500").fetchall()
    keys = ("at", "http_status", "outcome", "event_id", "type")
    return jsonify({"deliveries": [dict(zip(keys, row)) for row in rows]})


@app.errorhandler(HTTPException)
def http_error(exc):
    return jsonify({"error": f"{exc.name}: {exc.description}"}), exc.code


@app.errorhandler(Exception)
def unexpected(exc):  # a 500 makes Stripe retry later; the log says why
    app.logger.exception("webhook: unexpected error")
    return jsonify({"error": "The handler hit an unexpected error; Stripe will retry."}), 500


if __name__ == "__main__":
    print("Webhook handler on http://localhost:5001/webhook")
    app.run(port=5001)  # never debug=True
