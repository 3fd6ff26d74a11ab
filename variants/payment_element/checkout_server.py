"""Lab 09, Part B with the Payment Element (a model solution beside the handout's card Element).

    labkit checkout --folder variants/payment_element

What changes from the handout's flow (docs.stripe.com/payments/accept-a-payment?ui=elements, 2026-12-04):

1. ``GET /`` shows the shop page with Stripe's Payment Element (``elements.create('payment')``), an
   iframe served by Stripe, like the card Element: card data never reaches this server.
2. ``POST /create-payment-intent`` is the handout's: the server prices the cart from its catalog and
   answers the PaymentIntent's client secret (automatic payment methods, the default since 2023-08-16).
3. The page calls ``elements.submit()`` then ``stripe.confirmPayment({elements, clientSecret,
   confirmParams: {return_url}})``. A decline comes back as an error on the page; a success (after 3D
   Secure if the bank asks) sends the browser to ``return_url`` with ``payment_intent``,
   ``payment_intent_client_secret`` and ``redirect_status``.
4. ``GET /complete`` is that return page: it reads the payment's status from Stripe with the secret key,
   never from ``redirect_status`` alone (anyone can type that into the address bar).
"""
import os

import stripe
from dotenv import load_dotenv
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from labkit.orders import CATALOG, OrderError, parse_order, parse_quantity, read_json

load_dotenv()
app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 8 * 1024
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
PUBLISHABLE_KEY = os.environ["STRIPE_PUBLISHABLE_KEY"]

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self' https://js.stripe.com",
    "frame-src https://js.stripe.com https://hooks.stripe.com", "connect-src 'self' https://api.stripe.com",
    "img-src 'self' data:", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
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
    product_id = request.args.get("product", CATALOG["default_product"])
    quantity = parse_quantity(request.args.get("quantity", "1"))
    if product_id not in CATALOG["products"] or quantity is None:
        return jsonify({"error": "Unknown product or a quantity outside 1 to "
                                 f"{CATALOG['max_quantity']}."}), 400
    config = {"publishableKey": PUBLISHABLE_KEY, "maxQuantity": CATALOG["max_quantity"], "selected": product_id,
              "quantity": quantity,
              "products": {pid: {"name": p["name"], "price": p["price"]} for pid, p in CATALOG["products"].items()}}
    return render_template("checkout.html", catalog=CATALOG, config=config, selected=product_id, quantity=quantity)


@app.post("/create-payment-intent")
def create_payment_intent():
    """The handout's endpoint, unchanged: the amount from the catalog, the product in metadata."""
    # BEGIN SOLUTION
    order = parse_order(read_json(request), CATALOG)
    try:
        intent = stripe.PaymentIntent.create(
            amount=order.amount, currency=order.currency, description=f"{CATALOG['store']}: {order.label}",
            metadata=order.metadata(), automatic_payment_methods={"enabled": True},
            idempotency_key=order.idempotency_key())
    except stripe.StripeError as exc:
        return stripe_error(exc)
    return jsonify({"clientSecret": intent.client_secret, "amount": order.amount, "currency": order.currency})
    # END SOLUTION


@app.get("/complete")
def complete():
    """The return_url: the outcome as Stripe records it (redirect_status is only a hint)."""
    # BEGIN SOLUTION
    pi_id = request.args.get("payment_intent", "")
    if not pi_id.startswith("pi_") or not pi_id[3:].isalnum() or len(pi_id) > 80:
        return render_template("complete.html", outcome="failed", title="No payment to show",
                               message="This page is where Stripe sends you back after paying.", intent=None), 400
    try:
        intent = stripe.PaymentIntent.retrieve(pi_id)
    except stripe.StripeError as exc:
        return render_template("complete.html", outcome="failed", title="Could not read the payment",
                               message=exc.user_message or "Stripe refused the request.", intent=None), 502
    if intent.status == "succeeded":
        title, message, outcome = "✓ Payment succeeded!", f"ID: {intent.id}", "succeeded"
    elif intent.status == "processing":
        title, message, outcome = "Payment processing", "We'll email you when it completes.", "processing"
    else:
        error = intent.last_payment_error
        title, message, outcome = "Payment failed", (error.message if error else f"Status: {intent.status}"), "failed"
    return render_template("complete.html", outcome=outcome, title=title, message=message, intent=intent)
    # END SOLUTION


@app.get("/payment-success")
def payment_success():
    pi_id = request.args.get("payment_intent", "").strip()
    if not pi_id.startswith("pi_") or not pi_id[3:].isalnum() or len(pi_id) > 80:
        return jsonify({"error": "Add ?payment_intent=pi_… (the id shown after paying)."}), 400
    try:
        intent = stripe.PaymentIntent.retrieve(pi_id)
    except stripe.StripeError as exc:
        return stripe_error(exc)
    return jsonify({"id": intent.id, "status": intent.status, "amount": intent.amount / 100,
                    "currency": intent.currency.upper()})


def stripe_error(exc):
    if isinstance(exc, stripe.APIConnectionError):
        return jsonify({"error": "Could not reach Stripe: check the connection (or run `labkit status`)."}), 503
    status = exc.http_status if exc.http_status and exc.http_status < 500 else 502
    return jsonify({"error": exc.user_message or "Stripe refused the request.", "code": exc.code}), status


@app.errorhandler(OrderError)
def order_error(exc):
    return jsonify({"error": exc.message}), exc.status


@app.errorhandler(HTTPException)
def http_error(exc):
    return jsonify({"error": f"{exc.name}: {exc.description}"}), exc.code


@app.errorhandler(Exception)
def unexpected(exc):
    app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return jsonify({"error": "The checkout server hit an unexpected error; see its log."}), 500


if __name__ == "__main__":
    app.run(port=5000)
