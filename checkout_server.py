"""Lab 09, Part B: the checkout server, on Stripe's Payment Intents API.

    labkit checkout            # serves this file on http://localhost:5000 (offline: with the kit's fake Stripe)
    python checkout_server.py  # the same with your own test keys in the environment or .env

The payment flow, top to bottom:

1. ``GET /`` shows the shop page (templates/checkout.html) with Stripe's card field. The card
   field is an iframe served by Stripe: card numbers go from the browser straight to Stripe
   and never reach this server.
2. The page sends the cart to ``POST /create-payment-intent``. This server checks it
   (``parse_order``), prices it from its own catalog (never from the browser), and creates a
   PaymentIntent with one idempotency key per checkout attempt (``idempotency_key``).
3. The page confirms the payment with Stripe.js (static/checkout.js: ``confirmCardPayment``),
   which runs 3D Secure when the bank asks, and shows the outcome.
4. ``GET /payment-success?payment_intent=pi_…`` reads the payment's status back from Stripe.
   Fulfilment does not happen here: Stripe tells webhook_handler.py (Part C).

Keys come from the environment (``STRIPE_SECRET_KEY``, ``STRIPE_PUBLISHABLE_KEY``), as in the
handout. Offline, the kit sets them and points the ``stripe`` module and the page's Stripe.js
at its fake Stripe: this file is the same in both modes.
"""
import hashlib
import json
import os
import re
import sys
import uuid

import stripe
from dotenv import load_dotenv
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from labkit.checkout import load_catalog
from labkit.money import format_money, to_major

load_dotenv()  # a .env file beside this one, if any (never committed)


def key_from_env(name, prefixes):
    """A test key from the environment, or one line saying what to set (and exit)."""
    value = os.environ.get(name, "").strip()
    if not value.startswith(prefixes):
        problem = "is not set" if not value else f"is not a test key ({prefixes[0]}…)"
        sys.exit(f"checkout_server.py: {name} {problem}. Set it in .env or the environment (Stripe Dashboard → "
                 "Developers → API keys), or run `labkit checkout` to use the kit's offline fake Stripe.")
    return value


app = Flask(__name__)  # templates/ and static/ beside this file
MAX_BODY = app.config["MAX_CONTENT_LENGTH"] = 8 * 1024  # an order is a few dozen bytes
stripe.api_key = key_from_env("STRIPE_SECRET_KEY", ("sk_test_", "rk_test_"))
PUBLISHABLE_KEY = key_from_env("STRIPE_PUBLISHABLE_KEY", ("pk_test_",))

# The shop's catalog: the handout's PRODUCTS, prices in cents (labkit/data/catalog.json).
CATALOG = load_catalog()
PRODUCTS = CATALOG["products"]
MAX_QUANTITY = CATALOG["max_quantity"]
INTEGRATION = "lab09-itec442"
CHECKOUT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # one per checkout attempt, made by the page

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


def page_quantity(raw):
    """``?quantity=`` on the page's address: ASCII digits from 1 to MAX_QUANTITY, else None."""
    if raw is None or not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        return None
    return int(raw) if 1 <= int(raw) <= MAX_QUANTITY else None


@app.get("/")
def index():
    """The shop page: the catalog, a quantity per product, Stripe's card field and a Pay button."""
    product_id = request.args.get("product", CATALOG["default_product"])
    quantity = page_quantity(request.args.get("quantity", "1"))
    if product_id not in PRODUCTS:
        return render_template("checkout.html", catalog=CATALOG, page_error="Unknown product.", config=None), 404
    if quantity is None:
        return render_template("checkout.html", catalog=CATALOG, config=None,
                               page_error=f"The quantity must be a whole number from 1 to {MAX_QUANTITY}."), 400
    config = {
        "publishableKey": PUBLISHABLE_KEY,  # the only key the browser ever sees
        "maxQuantity": MAX_QUANTITY,
        "selected": product_id,
        "quantity": quantity,
        "products": {pid: {"name": p["name"], "price": p["price"]} for pid, p in PRODUCTS.items()},
    }
    return render_template("checkout.html", catalog=CATALOG, page_error=None, config=config,
                           selected=product_id, quantity=quantity)


class OrderError(Exception):
    """A request this server refuses: the HTTP status and a message saying what to send instead."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def read_json(req):
    """The request's JSON body, or OrderError saying what to send (too big, not JSON, wrong Content-Type)."""
    if req.content_length is not None and req.content_length > MAX_BODY:
        raise OrderError(413, f"The request body is too large ({req.content_length} bytes; the limit is {MAX_BODY}).")
    raw = req.get_data(cache=True)
    if not raw.strip():
        raise OrderError(400, 'No request body. Send JSON such as {"product_id": "prod_001", "quantity": 1} '
                              "with Content-Type: application/json.")
    if req.mimetype != "application/json":
        raise OrderError(415, f"Content-Type must be application/json (got {req.mimetype or 'none'}). "
                              'With fetch: headers: {"Content-Type": "application/json"}.')
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OrderError(400, "The body is not UTF-8 text; send JSON.")
    except (ValueError, RecursionError) as exc:
        raise OrderError(400, f"The body is not valid JSON ({str(exc)[:80]}). "
                              'Send for example {"product_id": "prod_001", "quantity": 1}.')


def parse_order(data):
    """Check the page's order against PRODUCTS and price it there, never from the browser.

    The page sends ``{"items": [{"product_id": "prod_001", "quantity": 2}, …], "checkout_id": "…"}``;
    the handout's ``{"product_id": "prod_001"}`` (one of it) and ``{"product_id": …, "quantity": …}`` work too.
    - Each product must be in PRODUCTS, listed once; each quantity a whole number (a JSON integer, not
      ``2.5``, ``"2"`` or ``true``) from 1 to MAX_QUANTITY.
    - Any other field (``amount``, ``price``, ``total``, ``currency``…) is refused: prices come from PRODUCTS.
    - ``checkout_id`` (optional): 8 to 64 letters, digits, ``-`` or ``_``, made by the page once per attempt.
    Return ``{"lines": {product_id: quantity}, "amount": cents, "currency": …, "checkout_id": … or None}``;
    raise ``OrderError(400 or 404, "what to send instead")`` for anything else.
    """
    # BEGIN SOLUTION
    example = '{"items": [{"product_id": "prod_001", "quantity": 1}]}'
    if not isinstance(data, dict):
        raise OrderError(400, f"The body must be a JSON object such as {example}.")
    extra = sorted(str(k) for k in data if k not in ("items", "product_id", "quantity", "checkout_id"))
    if extra:
        raise OrderError(400, f"Unknown field(s): {', '.join(extra)}. The server prices the order from its own "
                              "catalog; it never takes an amount from the browser. Send items and checkout_id only.")
    if "items" in data and ("product_id" in data or "quantity" in data):
        raise OrderError(400, "Send either items, or product_id and quantity, not both.")
    if "items" not in data and "product_id" not in data:
        raise OrderError(400, f"Missing product_id or items. Send for example {example}.")
    items = data["items"] if "items" in data else [{k: data[k] for k in ("product_id", "quantity") if k in data}]
    if not isinstance(items, list) or not 1 <= len(items) <= len(PRODUCTS):
        raise OrderError(400, f"items must be a non-empty list of up to {len(PRODUCTS)} lines (list each product "
                              f"once), such as {example}.")
    lines = {}
    for i, item in enumerate(items):
        where = f"items[{i}]." if "items" in data else ""
        if not isinstance(item, dict) or set(item) - {"product_id", "quantity"}:
            raise OrderError(400, f"items[{i}] must be an object with product_id and quantity only (no unknown "
                                  "field(s) such as a price: prices come from the catalog).")
        product_id, quantity = item.get("product_id"), item.get("quantity", 1)
        if not isinstance(product_id, str):
            raise OrderError(400, f"{where}product_id must be a product id string, one of {', '.join(PRODUCTS)}.")
        if product_id not in PRODUCTS:
            raise OrderError(404, f"Unknown product {product_id[:40]!r}. Choose one of {', '.join(PRODUCTS)}.")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise OrderError(400, f"{where}quantity must be a whole number from 1 to {MAX_QUANTITY}, "
                                  f"not {json.dumps(quantity)[:40]}.")
        if product_id in lines:
            raise OrderError(400, f"{product_id} is listed twice; list it once with the total quantity.")
        lines[product_id] = quantity
    currencies = {PRODUCTS[p]["currency"] for p in lines}
    if len(currencies) > 1:
        raise OrderError(400, "These products are priced in different currencies; pay for them separately.")
    checkout_id = data.get("checkout_id")
    if checkout_id is not None and not (isinstance(checkout_id, str) and CHECKOUT_ID.fullmatch(checkout_id)):
        raise OrderError(400, "checkout_id must be 8 to 64 letters, digits, '-' or '_' (one per checkout attempt, "
                              "e.g. a random UUID), or left out.")
    amount = sum(PRODUCTS[p]["price"] * q for p, q in lines.items())
    return {"lines": lines, "amount": amount, "currency": currencies.pop(), "checkout_id": checkout_id}
    # END SOLUTION


def idempotency_key(order):
    """One Stripe idempotency key per checkout attempt and cart.

    The same ``checkout_id`` with the same cart (a double click, a retried request) gives the same key, so
    Stripe answers with the PaymentIntent it already made; a changed cart is a new payment. Without a
    ``checkout_id`` every request is its own attempt.
    """
    # BEGIN SOLUTION
    cart = hashlib.sha256(json.dumps(sorted(order["lines"].items())).encode()).hexdigest()[:16]
    return f"labkit-checkout-{order['checkout_id'] or uuid.uuid4().hex}-{cart}"
    # END SOLUTION


@app.post("/create-payment-intent")
def create_payment_intent():
    """Create a PaymentIntent for the cart the page sends, and answer its client secret.

    - ``parse_order(read_json(request))`` checks the cart and prices it from the catalog.
    - The product goes in the PaymentIntent's metadata (the webhook handler reads ``product_name``).
    - ``idempotency_key(order)``: a double click replays, it never pays twice.
    - Answer ``{"clientSecret": …, "amount": …, "currency": …, "display": "$18.00"}``.
    """
    # BEGIN SOLUTION
    order = parse_order(read_json(request))
    label = ", ".join(PRODUCTS[p]["name"] + (f" x{q}" if q > 1 else "") for p, q in order["lines"].items())
    metadata = {
        "product_id": ",".join(order["lines"]),
        "product_name": label[:500],
        "quantity": str(sum(order["lines"].values())),
        "items": ",".join(f"{p}:{q}" for p, q in order["lines"].items()),
        "integration": INTEGRATION,
    }
    if order["checkout_id"]:
        metadata["checkout_id"] = order["checkout_id"]
    try:
        intent = stripe.PaymentIntent.create(
            amount=order["amount"],
            currency=order["currency"],
            description=f"{CATALOG['store']}: {label}",
            metadata=metadata,
            automatic_payment_methods={"enabled": True},
            idempotency_key=idempotency_key(order),
        )
    except stripe.StripeError as exc:
        return stripe_error(exc)
    return jsonify({"clientSecret": intent.client_secret, "amount": intent.amount, "currency": intent.currency,
                    "display": format_money(intent.amount, intent.currency), "description": label})
    # END SOLUTION


@app.get("/payment-success")
def payment_success():
    """The payment's status, amount and currency, read from Stripe (never from the browser).

    ``GET /payment-success?payment_intent=pi_…`` answers ``{"id", "status", "amount", "currency", …}`` with
    the amount in the currency's main unit (``to_major``: 1800 USD cents → 18.0; 500 JPY → 500) and as
    text (``format_money``); a missing or malformed id gets a 400 JSON error.
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
        "amount": to_major(intent.amount, intent.currency),
        "currency": intent.currency.upper(),
        "display": format_money(intent.amount, intent.currency),
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
