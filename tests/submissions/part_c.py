"""Made-up webhook handlers for the Part C checks: each one mistake, or a correct alternative.

Most are one targeted edit of the solution's ``webhook_handler.py`` (so they stay in step with it);
``json_file_orders`` is a handler written from scratch the way a student would. ``EXPECTED`` says
how each must be graded; ``OLD`` records what the checks before this module gave each (measured
on commit 850bf58, signature/succeeded/duplicate): every mistake but one passed all three, the
re-serialised body kept its 8 signature points, and correct work that acknowledges first lost 17.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .builder import ROOT, _edit, starter

HANDLER = "webhook_handler.py"
VERIFY = 'stripe.WebhookSignature.verify_header(payload.decode("utf-8"), header, WEBHOOK_SECRET, TOLERANCE)'


def _solution_handler(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / HANDLER, dest / HANDLER)


def solution(dest: Path) -> None:
    _solution_handler(dest)


def reserialised_body(dest: Path) -> None:
    """Verifies a re-serialised body: every genuine event (Stripe indents its JSON) is refused."""
    _solution_handler(dest)
    _edit(dest, HANDLER, VERIFY, VERIFY.replace('payload.decode("utf-8")', "json.dumps(json.loads(payload))"))


def _paid_on(type_: str):
    def build(dest: Path) -> None:
        _solution_handler(dest)
        _edit(dest, HANDLER, '    "payment_intent.succeeded": handle_payment_succeeded,\n',
              f'    "payment_intent.succeeded": handle_payment_succeeded,\n    "{type_}": handle_payment_succeeded,\n')
    build.__doc__ = f"Marks the order paid on {type_} too."
    return build


paid_on_created = _paid_on("payment_intent.created")
paid_on_processing = _paid_on("payment_intent.processing")


def paid_on_failed(dest: Path) -> None:
    """Marks the order paid on a declined payment (the failure handler copied from the success one)."""
    _solution_handler(dest)
    _edit(dest, HANDLER, '    "payment_intent.payment_failed": handle_payment_failed,\n',
          '    "payment_intent.payment_failed": handle_payment_succeeded,\n')


def seen_in_memory(dest: Path) -> None:
    """Orders in SQLite, but the ids of the events already applied in a set in memory."""
    _solution_handler(dest)
    _edit(dest, HANDLER, '_lock = threading.Lock()\n', '_lock = threading.Lock()\nSEEN = set()  # event ids applied\n')
    _edit(dest, HANDLER, 'if _db.execute("SELECT 1 FROM events WHERE id = ?", (event["id"],)).fetchone():',
          'if event["id"] in SEEN:')
    _edit(dest, HANDLER, '            _db.execute("COMMIT")\n        except BaseException:',
          '            _db.execute("COMMIT")\n            SEEN.add(event["id"])\n        except BaseException:')
    _edit(dest, HANDLER, '"INSERT INTO events VALUES', '"INSERT OR REPLACE INTO events VALUES')


def orders_in_memory(dest: Path) -> None:
    """Everything right, but the database lives in memory: a restart loses every order."""
    _solution_handler(dest)
    _edit(dest, HANDLER, 'ORDERS_DB = os.environ.get("ORDERS_DB", "orders.db")', 'ORDERS_DB = ":memory:"')


def acks_then_applies(dest: Path) -> None:
    """Correct: answers 200 at once and applies the event two seconds later, as Stripe advises."""
    _solution_handler(dest)
    _edit(dest, HANDLER, '    outcome = apply_once(event)  # the delivery is logged in the same transaction\n',
          '    threading.Timer(2.0, apply_once, args=(event,)).start()  # acknowledge now, apply later\n'
          '    outcome = "queued"\n')


def hangs_on_unhandled(dest: Path) -> None:
    """Hangs on every event type it has no handler for (it waits for a person who never comes)."""
    _solution_handler(dest)
    _edit(dest, HANDLER, '    handler = HANDLERS.get(event["type"])\n',
          '    handler = HANDLERS.get(event["type"])\n    if handler is None:\n'
          '        threading.Event().wait()  # hold it until someone looks\n')


def unknown_type_500(dest: Path) -> None:
    """Looks the handler up with [] : an event type it does not handle raises KeyError, a 500."""
    _solution_handler(dest)
    _edit(dest, HANDLER, 'handler = HANDLERS.get(event["type"])', 'handler = HANDLERS[event["type"]]')


def accepts_empty_secret(dest: Path) -> None:
    """Verifies by hand, also with a 'previous' secret while rolling it, which is empty when not set."""
    _solution_handler(dest)
    _edit(dest, HANDLER, VERIFY, "verify_any(payload, header)")
    _edit(dest, HANDLER, "# ---------------------------------------------------------------- the webhook\n",
          "# ---------------------------------------------------------------- the webhook\n"
          "def verify_any(payload, header):\n"
          "    import hashlib, hmac\n"
          "    parts = dict(p.split(\"=\", 1) for p in header.split(\",\") if \"=\" in p)\n"
          "    if abs(time.time() - int(parts.get(\"t\", \"0\"))) > TOLERANCE:\n"
          "        raise ValueError(\"too old\")\n"
          "    for secret in (WEBHOOK_SECRET, os.environ.get(\"STRIPE_WEBHOOK_SECRET_PREVIOUS\", \"\")):\n"
          "        mac = hmac.new(secret.encode(), parts[\"t\"].encode() + b\".\" + payload, hashlib.sha256)\n"
          "        if hmac.compare_digest(mac.hexdigest(), parts.get(\"v1\", \"\")):\n"
          "            return\n"
          "    raise ValueError(\"bad signature\")\n\n\n")


def accepts_replay(dest: Path) -> None:
    """Calls verify_header without a tolerance (its default is none): an old signature still passes."""
    _solution_handler(dest)
    _edit(dest, HANDLER, VERIFY, VERIFY.replace(", TOLERANCE)", ")"))


JSON_HANDLER = '''\
import json
import os
import threading

import stripe
from flask import Flask, jsonify, request

app = Flask(__name__)
SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]
STORE = os.environ.get("ORDERS_DB", "orders.json") + ".json"
lock = threading.Lock()


def load():
    if not os.path.exists(STORE):
        return {"orders": [], "events": []}
    with open(STORE) as f:
        return json.load(f)


def save(data):
    with open(STORE + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(STORE + ".tmp", STORE)


@app.route("/webhook", methods=["POST"])
def webhook():
    try:
        event = stripe.Webhook.construct_event(request.data, request.headers.get("Stripe-Signature"), SECRET)
    except (ValueError, stripe.error.SignatureVerificationError):
        return "bad signature", 400
    with lock:
        data = load()
        if event["id"] in data["events"]:
            return jsonify(ok=True)
        data["events"].append(event["id"])
        if event["type"] == "payment_intent.succeeded":
            pi = event["data"]["object"]
            data["orders"].append({"payment_intent": pi["id"], "status": "paid",
                                   "amount": pi["amount_received"] / 100})
        save(data)
    return jsonify(ok=True)


@app.route("/orders")
def orders():
    return jsonify(load()["orders"])
'''


def json_file_orders(dest: Path) -> None:
    """Correct, written from scratch: orders and seen event ids in one JSON file, a list of orders."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / HANDLER).write_text(JSON_HANDLER, encoding="utf-8")


OK = {"webhook:signature": "evidenced", "webhook:succeeded": "evidenced", "webhook:duplicate": "evidenced",
      "webhook:acknowledges": "evidenced", "webhook:restart": "evidenced"}
# kind -> (builder, the statuses it must get)
EXPECTED = {
    "solution": (solution, OK),
    "starter": (starter, {"webhook:signature": "missing", "webhook:succeeded": "missing",
                          "webhook:duplicate": "missing"}),
    "reserialised_body": (reserialised_body, {"webhook:signature": "missing", "webhook:succeeded": "missing",
                                              "webhook:duplicate": "missing"}),
    "paid_on_created": (paid_on_created, {**OK, "webhook:succeeded": "missing"}),
    "paid_on_processing": (paid_on_processing, {**OK, "webhook:succeeded": "missing"}),
    "paid_on_failed": (paid_on_failed, {**OK, "webhook:succeeded": "missing"}),
    "seen_in_memory": (seen_in_memory, {**OK, "webhook:duplicate": "partial"}),
    "orders_in_memory": (orders_in_memory, {**OK, "webhook:restart": "partial"}),
    "acks_then_applies": (acks_then_applies, OK),
    "hangs_on_unhandled": (hangs_on_unhandled, {**OK, "webhook:acknowledges": "missing"}),
    "unknown_type_500": (unknown_type_500, {**OK, "webhook:acknowledges": "missing"}),
    "accepts_empty_secret": (accepts_empty_secret, {**OK, "webhook:signature": "missing"}),
    "accepts_replay": (accepts_replay, {**OK, "webhook:signature": "partial"}),
    "json_file_orders": (json_file_orders, OK),
}

# What the checks of commit 850bf58 said (signature, succeeded, duplicate); they had no other Part C item.
OLD = {
    "solution": ("evidenced", "evidenced", "evidenced"),
    "starter": ("missing", "missing", "missing"),
    "reserialised_body": ("evidenced", "missing", "missing"),
    "paid_on_created": ("evidenced", "evidenced", "evidenced"),
    "paid_on_processing": ("evidenced", "evidenced", "evidenced"),
    "paid_on_failed": ("evidenced", "evidenced", "evidenced"),
    "seen_in_memory": ("evidenced", "evidenced", "evidenced"),
    "orders_in_memory": ("evidenced", "evidenced", "evidenced"),
    "acks_then_applies": ("evidenced", "missing", "missing"),
    "hangs_on_unhandled": ("evidenced", "evidenced", "evidenced"),
    "unknown_type_500": ("evidenced", "evidenced", "evidenced"),
    "accepts_empty_secret": ("evidenced", "evidenced", "evidenced"),
    "accepts_replay": ("evidenced", "evidenced", "evidenced"),
    "json_file_orders": ("evidenced", "evidenced", "evidenced"),
}
