"""Lab 09, Part B with a Checkout Session on Stripe's hosted page (a model solution beside the handout's).

    labkit checkout --folder variants/checkout_session

Stripe's prebuilt page (docs.stripe.com/checkout/quickstart, 2026-12-04), the integration Stripe
recommends for most shops:

1. ``GET /`` shows the cart and a "Checkout" button; no card field on this page at all.
2. ``POST /create-checkout-session`` prices the cart from the server's catalog (``line_items`` with
   ``price_data``; never an amount from the browser), puts the product in the PaymentIntent's
   metadata for the webhook handler, and sends the browser (303) to the session's ``url`` on Stripe.
3. The customer pays on Stripe's page (test cards, 3D Secure); a decline is shown there.
4. Stripe sends the browser to ``/success?session_id=cs_…`` (``{CHECKOUT_SESSION_ID}``); that page reads
   the session from Stripe with the secret key. Fulfilment waits for ``checkout.session.completed``
   (webhook_handler.py).
"""
import os

import stripe
from dotenv import load_dotenv
from flask import Flask, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from labkit.orders import CATALOG, OrderError, parse_order, read_json

load_dotenv()
app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 8 * 1024
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]

# No Stripe.js and no Stripe frame on these pages: the card is typed on Stripe's own page.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "img-src 'self' data:", "style-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self' https://checkout.stripe.com", "frame-ancestors 'none'",
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
    selected = request.args.get("product", CATALOG["default_product"])
    canceled = request.args.get("canceled") is not None
    return render_template("checkout.html", catalog=CATALOG, selected=selected, canceled=canceled)


def _order_from_request():
    """The cart as JSON (``{"items": […]}`` or ``{"product_id": …}``) or as the page's form fields."""
    if request.is_json:
        return parse_order(read_json(request), CATALOG)
    items = []
    for pid in CATALOG["products"]:
        q = request.form.get(f"qty-{pid}", "0").strip() or "0"
        if not (q.isascii() and q.isdigit()):  # "2.5", "-1", "abc": say so, never drop the line quietly
            raise OrderError(400, f"The quantity of {CATALOG['products'][pid]['name']} must be a whole number "
                                  f"from 0 to {CATALOG['max_quantity']}, not {q[:20]!r}.")
        if int(q) > 0:
            items.append({"product_id": pid, "quantity": int(q)})
    if not items:
        raise OrderError(400, "The cart is empty: choose a quantity of at least one product.")
    return parse_order({"items": items, "checkout_id": request.form.get("checkout_id")}, CATALOG)


@app.post("/create-checkout-session")
def create_checkout_session():
    """A Checkout Session priced from the catalog; the browser goes to Stripe's page (303)."""
    # BEGIN SOLUTION
    order = _order_from_request()
    base = request.host_url  # this shop's address as the browser sees it
    try:
        session = stripe.checkout.Session.create(
            mode="payment",
            line_items=[{"price_data": {"currency": order.currency, "unit_amount": line.unit_price,
                                        "product_data": {"name": line.name}},
                         "quantity": line.quantity} for line in order.lines],
            payment_intent_data={"metadata": order.metadata(), "description": f"{CATALOG['store']}: {order.label}"},
            metadata=order.metadata(),
            success_url=base + "success?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=base + "?canceled=1",
            idempotency_key=order.idempotency_key() + "-session",
        )
    except stripe.StripeError as exc:
        return jsonify({"error": exc.user_message or "Stripe refused the request."}), 502
    if request.is_json:
        return jsonify({"url": session.url, "id": session.id})
    return redirect(session.url, code=303)
    # END SOLUTION


@app.get("/success")
def success():
    """Where Stripe sends the customer back: the session's outcome, read from Stripe."""
    # BEGIN SOLUTION
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_") or not session_id.replace("_", "").isalnum() or len(session_id) > 200:
        return render_template("success.html", outcome="failed", title="No payment to show", message="", session=None), 400
    try:
        session = stripe.checkout.Session.retrieve(session_id)
    except stripe.StripeError as exc:
        return render_template("success.html", outcome="failed", title="Could not read the payment",
                               message=exc.user_message or "", session=None), 502
    if session.status == "complete" and session.payment_status == "paid":
        title, message, outcome = "✓ Payment succeeded!", f"ID: {session.payment_intent}", "succeeded"
    else:
        title, message, outcome = "Payment not completed", f"Status: {session.status}", "failed"
    return render_template("success.html", outcome=outcome, title=title, message=message, session=session)
    # END SOLUTION


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
