"""Lab 09, Part B: the checkout server, on Stripe's Payment Intents API.

    labkit checkout            # serves this file on http://localhost:5000 (offline: with the kit's fake Stripe)
    python checkout_server.py  # the same with your own test keys in the environment or .env

The payment flow, top to bottom:

1. ``GET /`` shows the shop page (templates/checkout.html) with Stripe's card field. The card
   field is an iframe served by Stripe: card numbers go from the browser straight to Stripe
   and never reach this server.
2. The page sends the cart to ``POST /create-payment-intent``. This server prices it from its
   own catalog (never from the browser), creates a PaymentIntent and answers its client secret.
3. The page confirms the payment with Stripe.js (static/checkout.js: ``confirmCardPayment``),
   which runs 3D Secure when the bank asks, and shows the outcome.
4. ``GET /payment-success?payment_intent=pi_…`` reads the payment's status back from Stripe.
   Fulfilment does not happen here: Stripe tells webhook_handler.py (Part C).

Keys come from the environment (``STRIPE_SECRET_KEY``, ``STRIPE_PUBLISHABLE_KEY``), as in the
handout. Offline, the kit sets them and points the ``stripe`` module and the page's Stripe.js
at its fake Stripe: this file is the same in both modes.
"""
import os

import stripe
from dotenv import load_dotenv
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from labkit.checkout import CATALOG, OrderError, parse_order, parse_quantity, read_json

load_dotenv()  # a .env file beside this one, if any (never committed)
app = Flask(__name__)  # templates/ and static/ beside this file
app.config["MAX_CONTENT_LENGTH"] = 8 * 1024  # an order is a few dozen bytes
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
PUBLISHABLE_KEY = os.environ["STRIPE_PUBLISHABLE_KEY"]

# The page may load scripts and frames from itself and Stripe only, and nobody may frame it.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' https://js.stripe.com",
    "frame-src https://js.stripe.com https://hooks.stripe.com",
    "connect-src 'self' https://api.stripe.com",
    "img-src 'self' data:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


@app.after_request
def security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@app.get("/")
def index():
    """The shop page: the catalog, a quantity per product, Stripe's card field and a Pay button."""
    product_id = request.args.get("product", CATALOG["default_product"])
    quantity = parse_quantity(request.args.get("quantity", "1"))
    if product_id not in CATALOG["products"]:
        return render_template("checkout.html", catalog=CATALOG, page_error="Unknown product.", config=None), 404
    if quantity is None:
        return render_template("checkout.html", catalog=CATALOG, config=None,
                               page_error=f"The quantity must be a whole number from 1 to {CATALOG['max_quantity']}."), 400
    config = {
        "publishableKey": PUBLISHABLE_KEY,  # the only key the browser ever sees
        "maxQuantity": CATALOG["max_quantity"],
        "selected": product_id,
        "quantity": quantity,
        "products": {pid: {"name": p["name"], "price": p["price"]} for pid, p in CATALOG["products"].items()},
    }
    return render_template("checkout.html", catalog=CATALOG, page_error=None, config=config,
                           selected=product_id, quantity=quantity)


@app.post("/create-payment-intent")
def create_payment_intent():
    """Create a PaymentIntent for the cart the page sends, and answer its client secret.

    The page sends ``{"items": [{"product_id": "prod_001", "quantity": 2}], "checkout_id": "…"}``
    (the handout's ``{"product_id": "prod_001"}`` works too); ``parse_order`` checks it against
    CATALOG and raises OrderError (a 4xx with a message) for anything else.
    - The amount comes from the catalog: any price the browser sends is refused, never used.
    - The product goes in the PaymentIntent's metadata (the webhook handler reads it).
    - One idempotency key per checkout attempt: a double click replays, it never pays twice.
    - Answer ``{"clientSecret": …, "amount": …, "currency": …}``.
    """
    # BEGIN SOLUTION
    order = parse_order(read_json(request), CATALOG)
    try:
        intent = stripe.PaymentIntent.create(
            amount=order.amount,
            currency=order.currency,
            description=f"{CATALOG['store']}: {order.label}",
            metadata=order.metadata(),
            automatic_payment_methods={"enabled": True},
            idempotency_key=order.idempotency_key(),
        )
    except stripe.StripeError as exc:
        return stripe_error(exc)
    return jsonify({"clientSecret": intent.client_secret, "amount": order.amount,
                    "currency": order.currency, "description": order.label})
    # END SOLUTION


@app.get("/payment-success")
def payment_success():
    """The payment's status, amount and currency, read from Stripe (never from the browser).

    ``GET /payment-success?payment_intent=pi_…`` answers ``{"id", "status", "amount", "currency"}``
    with the amount in dollars; a missing or malformed id gets a 400 JSON error.
    """
    # BEGIN SOLUTION
    pi_id = request.args.get("payment_intent", "").strip()
    if not pi_id.startswith("pi_") or not pi_id[3:].isalnum() or not pi_id.isascii() or len(pi_id) > 80:
        return jsonify({"error": "Add ?payment_intent=pi_… (the id shown after paying)."}), 400
    try:
        intent = stripe.PaymentIntent.retrieve(pi_id)
    except stripe.StripeError as exc:
        return stripe_error(exc)
    error = intent.last_payment_error
    return jsonify({
        "id": intent.id,
        "status": intent.status,
        "amount": intent.amount / 100,
        "currency": intent.currency.upper(),
        "product": intent.metadata.to_dict().get("product_name"),
        "last_payment_error": error.message if error else None,
    })
    # END SOLUTION


def stripe_error(exc):
    """Stripe's message as JSON, with a status that says whose fault it was."""
    if isinstance(exc, stripe.APIConnectionError):
        return jsonify({"error": "Could not reach Stripe: check the connection (or run `labkit status`)."}), 503
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return jsonify({"error": "Stripe refused this server's secret key: check it with `labkit status`."}), 502
    status = exc.http_status if exc.http_status and exc.http_status < 500 else 502
    message = exc.user_message or getattr(exc.error, "message", None) or "Stripe refused the request."
    return jsonify({"error": message, "code": exc.code}), status


@app.errorhandler(OrderError)
def order_error(exc):
    return jsonify({"error": exc.message}), exc.status


@app.errorhandler(HTTPException)
def http_error(exc):  # 404, 405, 413… as JSON, never an HTML page
    return jsonify({"error": f"{exc.name}: {exc.description}"}), exc.code


@app.errorhandler(Exception)
def unexpected(exc):  # never a traceback in the answer (the log has it)
    app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return jsonify({"error": "The checkout server hit an unexpected error; see its log."}), 500


if __name__ == "__main__":
    print("Checkout server on http://localhost:5000  (test card 4242 4242 4242 4242, any future date, any CVC)")
    app.run(port=5000)  # never debug=True: its console runs any code a visitor types
