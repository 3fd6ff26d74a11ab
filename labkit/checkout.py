"""Part B: the checkout server on Stripe's Payment Intents API (a Flask app factory).

Routes (the handout's, hardened):

* ``GET /?product=prod_001&quantity=1``: the shop page with the card field (Stripe.js);
* ``POST /create-payment-intent``: JSON ``{"product_id", "quantity"}`` or
  ``{"items": [{"product_id", "quantity"}, ...]}``, optional ``"checkout_id"``;
  answers ``{"clientSecret", "amount", "currency", "description"}``. The amount always
  comes from the catalog (``labkit/data/catalog.json``), never from the browser;
* ``GET /payment-success?payment_intent=pi_…``: status, amount and currency, read from Stripe.

Bad input gets a JSON error with a 4xx status and a message saying what to send instead.
The page carries a strict Content-Security-Policy: scripts and frames only from the page
itself and the active Stripe.js origin (js.stripe.com in test mode, the fake offline).
Only the publishable key is ever rendered; the secret key stays in :class:`Backend`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import uuid
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import stripe
from flask import Flask, Response, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException

from labkit.backend import Backend
from labkit.settings import Settings

log = logging.getLogger("labkit.checkout")

MAX_BODY = 8 * 1024  # an order is a few dozen bytes; anything bigger is refused with 413
INTEGRATION = "lab09-itec442"
ALLOWED_FIELDS = ("product_id", "quantity", "items", "checkout_id")
_CHECKOUT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_PI_ID = re.compile(r"^pi_[A-Za-z0-9]{1,64}$")
_ASSETS = ("checkout.js", "checkout.css")


class OrderError(ValueError):
    """A request the server refuses, with the HTTP status and a message a student can act on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------------- catalog
@lru_cache(maxsize=1)
def _catalog_text() -> str:
    return resources.files("labkit").joinpath("data", "catalog.json").read_text(encoding="utf-8")


def load_catalog() -> dict[str, Any]:
    """The shop's catalog (a fresh copy): ``{"store", "max_quantity", "products": {id: {...}}}``."""
    return json.loads(_catalog_text())


@dataclass(frozen=True)
class Line:
    product_id: str
    name: str
    unit_price: int  # cents
    quantity: int
    currency: str

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Order:
    lines: tuple[Line, ...]
    checkout_id: str | None

    @property
    def amount(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def currency(self) -> str:
        return self.lines[0].currency

    @property
    def label(self) -> str:
        return ", ".join(line.name if line.quantity == 1 else f"{line.name} x{line.quantity}" for line in self.lines)

    def metadata(self) -> dict[str, str]:
        meta = {
            "product_id": ",".join(line.product_id for line in self.lines),
            "product_name": self.label[:500],
            "quantity": str(sum(line.quantity for line in self.lines)),
            "items": ",".join(f"{line.product_id}:{line.quantity}" for line in self.lines),
            "integration": INTEGRATION,
        }
        if self.checkout_id:
            meta["checkout_id"] = self.checkout_id
        return meta

    def idempotency_key(self) -> str:
        """One key per checkout attempt and cart: a double click replays, a changed cart is a new payment."""
        cart = hashlib.sha256(json.dumps([(l.product_id, l.quantity) for l in self.lines]).encode()).hexdigest()[:16]
        return f"labkit-checkout-{self.checkout_id or uuid.uuid4().hex}-{cart}"


def _quantity(value: Any, where: str, max_quantity: int) -> int:
    hint = f"{where} must be a whole number from 1 to {max_quantity}"
    if isinstance(value, bool) or not isinstance(value, int):
        shown = json.dumps(value)[:40]
        raise OrderError(400, f"{hint}, not {shown}. Send it as a JSON number, e.g. \"quantity\": 2.")
    if not 1 <= value <= max_quantity:
        raise OrderError(400, f"{hint}, not {value}.")
    return value


def parse_order(data: Any, catalog: dict[str, Any]) -> Order:
    """Validate a decoded JSON order against the catalog; :class:`OrderError` says what is wrong."""
    products = catalog["products"]
    max_q = int(catalog.get("max_quantity", 10))
    choices = ", ".join(products)
    example = '{"product_id": "prod_001", "quantity": 1}'
    if not isinstance(data, dict):
        raise OrderError(400, f"The body must be a JSON object such as {example}.")
    extra = [k for k in data if k not in ALLOWED_FIELDS]
    if extra:
        money = [k for k in extra if k.lower() in ("amount", "price", "total", "currency", "unit_price")]
        why = (" The server computes the price from its own catalog; it never takes an amount from the browser."
               if money else "")
        raise OrderError(400, f"Unknown field(s): {', '.join(sorted(map(str, extra)))}.{why} "
                              f"Send only {', '.join(ALLOWED_FIELDS)}.")
    checkout_id = data.get("checkout_id")
    if checkout_id is not None and not (isinstance(checkout_id, str) and _CHECKOUT_ID.match(checkout_id)):
        raise OrderError(400, "checkout_id must be 8 to 64 letters, digits, '-' or '_' (one per checkout attempt, "
                              "e.g. a random UUID), or left out.")

    if "items" in data:
        if "product_id" in data or "quantity" in data:
            raise OrderError(400, "Send either product_id and quantity, or items, not both.")
        items = data["items"]
        if not isinstance(items, list) or not items:
            raise OrderError(400, f"items must be a non-empty list such as [{example}].")
        if len(items) > len(products):
            raise OrderError(400, f"items lists {len(items)} lines but the catalog has only {len(products)} products; "
                                  "list each product once with its quantity.")
        raw = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise OrderError(400, f"items[{i}] must be an object such as {example}.")
            unknown = [k for k in item if k not in ("product_id", "quantity")]
            if unknown:
                raise OrderError(400, f"items[{i}] has unknown field(s): {', '.join(sorted(map(str, unknown)))}. "
                                      "Each item takes product_id and quantity only; prices come from the catalog.")
            raw.append((item.get("product_id"), item.get("quantity", 1), f"items[{i}]"))
    else:
        if "product_id" not in data:
            raise OrderError(400, f"Missing product_id. Send for example {example} (products: {choices}).")
        raw = [(data.get("product_id"), data.get("quantity", 1), "")]

    lines: list[Line] = []
    seen: set[str] = set()
    for product_id, qty, where in raw:
        prefix = f"{where}." if where else ""
        if not isinstance(product_id, str) or not product_id:
            raise OrderError(400, f"{prefix}product_id must be a product id string, one of {choices}.")
        product = products.get(product_id)
        if product is None:
            raise OrderError(404, f"Unknown product {product_id[:40]!r}. Choose one of {choices}.")
        if product_id in seen:
            raise OrderError(400, f"{product_id} is listed twice; list it once with the total quantity.")
        seen.add(product_id)
        quantity = _quantity(qty, f"{prefix}quantity", max_q)
        lines.append(Line(product_id, product["name"], int(product["price"]), quantity, product["currency"]))
    if len({line.currency for line in lines}) > 1:
        raise OrderError(400, "These products are priced in different currencies; pay for them separately.")
    return Order(tuple(lines), checkout_id)


def _read_json(req) -> Any:
    if req.content_length is not None and req.content_length > MAX_BODY:
        raise OrderError(413, f"The request body is too large ({req.content_length} bytes; the limit is {MAX_BODY}). "
                              "An order is a small JSON object.")
    raw = req.get_data(cache=True)  # MAX_CONTENT_LENGTH also caps chunked bodies
    if not raw.strip():
        raise OrderError(400, 'No request body. Send JSON such as {"product_id": "prod_001", "quantity": 1} '
                              "with Content-Type: application/json.")
    if req.mimetype != "application/json":
        shown = req.mimetype or "none"
        raise OrderError(415, f"Content-Type must be application/json (got {shown}). "
                              "With fetch: headers: {\"Content-Type\": \"application/json\"}.")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OrderError(400, "The body is not UTF-8 text; send JSON.")
    except (ValueError, RecursionError) as exc:
        raise OrderError(400, f"The body is not valid JSON ({str(exc)[:80]}). "
                              'Send for example {"product_id": "prod_001", "quantity": 1}.')


# ---------------------------------------------------------------------- responses
def _error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": message, **{k: v for k, v in extra.items() if v is not None}}), status


def _stripe_error(exc: stripe.StripeError, backend: Backend) -> tuple[Response, int]:
    """Stripe's own message, with a status that says whose fault it is."""
    err = getattr(exc, "error", None)
    message = exc.user_message or str(exc) or "Stripe returned an error."
    status = exc.http_status or 502
    if isinstance(exc, stripe.APIConnectionError):
        return _error(503, f"Could not reach Stripe at {backend.api_base}. Is it running / are you online? "
                           "Try `labkit status`.", type="api_connection_error")
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        status, message = 502, f"Stripe rejected the server's secret key: {message} Check it with `labkit status`."
    elif status >= 500:
        status = 502
    return _error(status, message, type=getattr(err, "type", None), code=exc.code,
                  decline_code=getattr(err, "decline_code", None), request_id=exc.request_id)


def content_security_policy(backend: Backend) -> str:
    """Scripts and frames from this page and the active Stripe.js origin only; nobody may frame us."""
    js = backend.js_origin
    frames = [js] if backend.offline else [js, "https://hooks.stripe.com"]  # Stripe's 3DS frames (Stripe's CSP guide)
    connect = ["'self'", backend.api_origin]
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {js}",
        f"frame-src {' '.join(dict.fromkeys(frames))}",
        f"connect-src {' '.join(dict.fromkeys(connect))}",
        "img-src 'self' data:",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _dollars(cents: int, currency: str) -> float:
    return float(cents) if currency.lower() in ("jpy",) else cents / 100


# ---------------------------------------------------------------------- the app
def create_app(settings: Settings, backend: Backend) -> Flask:
    """The checkout app. ``backend`` supplies the Stripe client and the Stripe.js URL."""
    templates = str(resources.files("labkit").joinpath("templates"))
    app = Flask("labkit.checkout", template_folder=templates, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY, JSON_SORT_KEYS=False, TEMPLATES_AUTO_RELOAD=False)
    app.json.sort_keys = False
    csp = content_security_policy(backend)
    catalog = load_catalog()
    client = backend.client
    mode = "offline fake Stripe" if backend.offline else "Stripe test mode"

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = csp
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.errorhandler(OrderError)
    def order_error(exc: OrderError):
        return _error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:
            return _error(413, f"The request body is too large (the limit is {MAX_BODY} bytes). "
                               "An order is a small JSON object.")
        if exc.code == 405:
            allowed = ", ".join(sorted(set(exc.valid_methods or []) - {"HEAD", "OPTIONS"}))
            return _error(405, f"{request.method} is not allowed on {request.path}; use {allowed}.")
        if exc.code == 404:
            return _error(404, f"No page at {request.path}. The checkout is at /, the API at "
                               "POST /create-payment-intent and GET /payment-success.")
        return _error(exc.code or 400, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # never a traceback in the response
        log.exception("checkout: unexpected error on %s %s", request.method, request.path)
        return _error(500, "The checkout server hit an unexpected error; see its log.")

    @app.get("/")
    def index():
        product_id = request.args.get("product") or request.args.get("product_id") or catalog["default_product"]
        raw_q = request.args.get("quantity", "1")
        max_q = int(catalog.get("max_quantity", 10))
        problem = None
        if product_id not in catalog["products"]:
            problem = (404, f"Unknown product {product_id[:40]!r}.")
        elif not raw_q.isdigit() or not 1 <= int(raw_q) <= max_q:
            problem = (400, f"quantity must be a whole number from 1 to {max_q}.")
        if problem:
            html = render_template("checkout.html", page_error=problem[1], catalog=catalog, mode=mode,
                                   offline=backend.offline, js_url=None, config=None)
            return html, problem[0]
        config = {
            "publishableKey": settings.publishable_key,
            "currency": catalog["products"][product_id]["currency"],
            "maxQuantity": max_q,
            "selected": product_id,
            "quantity": int(raw_q),
            "products": {pid: {"name": p["name"], "price": p["price"]} for pid, p in catalog["products"].items()},
        }
        return render_template("checkout.html", page_error=None, catalog=catalog, mode=mode, offline=backend.offline,
                               js_url=backend.js_url, config=config, selected=product_id, quantity=int(raw_q))

    @app.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    @app.get("/assets/<name>")
    def asset(name: str):
        if name not in _ASSETS:
            return _error(404, f"No asset {name[:40]!r}.")
        from labkit.serving import static_type  # never the OS's guess: Windows may say .js is text/plain

        resp = send_from_directory(templates, name, max_age=0, mimetype=static_type(name))
        resp.headers["Cache-Control"] = "no-cache"
        return resp

    @app.post("/create-payment-intent")
    def create_payment_intent():
        order = parse_order(_read_json(request), catalog)
        try:
            intent = client.v1.payment_intents.create(
                params={
                    "amount": order.amount,
                    "currency": order.currency,
                    "description": f"{catalog['store']}: {order.label}"[:1000],
                    "metadata": order.metadata(),
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": order.idempotency_key()},
            )
        except stripe.StripeError as exc:
            return _stripe_error(exc, backend)
        return jsonify({"clientSecret": intent.client_secret, "amount": order.amount,
                        "currency": order.currency, "description": order.label})

    @app.get("/payment-success")
    def payment_success():
        pi_id = request.args.get("payment_intent", "").strip()
        if not pi_id:
            return _error(400, "No payment ID provided: add ?payment_intent=pi_… (the id shown after paying).")
        if not _PI_ID.match(pi_id):
            return _error(400, f"{pi_id[:40]!r} is not a PaymentIntent id (they look like pi_3Nc…).")
        try:
            intent = client.v1.payment_intents.retrieve(pi_id)
        except stripe.StripeError as exc:
            return _stripe_error(exc, backend)
        pi = intent.to_dict()
        err = pi.get("last_payment_error") or {}
        return jsonify({
            "id": pi["id"],
            "status": pi["status"],
            "amount": _dollars(pi["amount"], pi["currency"]),
            "currency": pi["currency"].upper(),
            "product": (pi.get("metadata") or {}).get("product_name"),
            "last_payment_error": err.get("message") if err else None,
        })

    return app


def serve(backend: Backend, port: int = 0, host: str | None = None):
    """Start the checkout in a background thread (port 0 = a free port); returns the started server."""
    from labkit.serving import BackgroundServer

    app = create_app(backend.settings, backend)
    return BackgroundServer(app, host or backend.settings.host, port, name="checkout").start()


# ---------------------------------------------------------------------- labkit checkout
# What a student might send, and what the server should answer (notebook 02 shows these).
EXAMPLE_REQUESTS: list[tuple[str, Any]] = [
    ("the handout's body", {"product_id": "prod_001"}),
    ("two hats and glasses", {"items": [{"product_id": "prod_001", "quantity": 2},
                                        {"product_id": "prod_003", "quantity": 1}]}),
    ("unknown product", {"product_id": "prod_999"}),
    ("quantity 0", {"product_id": "prod_001", "quantity": 0}),
    ("quantity 2.5", {"product_id": "prod_001", "quantity": 2.5}),
    ("a price from the browser", {"product_id": "prod_001", "amount": 1}),
    ("a form, not JSON", "product_id=prod_001"),
]


def try_requests(checkout_url: str, examples: list[tuple[str, Any]] | None = None):
    """POST each example to ``/create-payment-intent`` and tabulate the answers (a DataFrame)."""
    import pandas as pd
    import requests

    url = checkout_url.rstrip("/") + "/create-payment-intent"
    rows = []
    for label, body in examples or EXAMPLE_REQUESTS:
        if isinstance(body, str):
            resp = requests.post(url, data=body, timeout=10,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        else:
            resp = requests.post(url, json=body, timeout=10)
        answer = resp.json()
        if resp.ok:
            pi_id = answer["clientSecret"].split("_secret_")[0]
            shown = f"clientSecret of {pi_id} received, amount ${answer['amount'] / 100:.2f}"
        else:
            shown = answer["error"]
        rows.append({"request": label, "HTTP": resp.status_code, "answer": shown})
    return pd.DataFrame(rows).set_index("request")


def add_checkout_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default LABKIT_CHECKOUT_PORT or 5000; 0 = a free one)")
    parser.add_argument("--host", default=None, help="interface (default LABKIT_HOST or 127.0.0.1)")


def run_checkout(args: argparse.Namespace) -> int:
    from labkit.backend import connect, connect_shared
    from labkit.settings import load_settings
    from labkit.serving import BackgroundServer, wait_while_running

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    port = settings.checkout_port if args.port is None else args.port
    host = args.host or settings.host
    # Offline, share the fake with `labkit webhooks` (port 12111) so purchases reach the handler.
    with (connect_shared(settings) if settings.offline else connect(settings)) as backend:
        app = create_app(settings, backend)
        try:
            server = BackgroundServer(app, host, port, name="checkout").start()
        except OSError as exc:
            print(f"labkit checkout: cannot listen on {host}:{port}: {exc.strerror or exc}. "
                  "Stop the other server or choose another port with --port.", file=sys.stderr)
            return 1
        try:
            print(f"Checkout server on {server.url}  ({'offline fake Stripe at ' + backend.api_base if backend.offline else 'Stripe test mode'})")
            print("Test card: 4242 4242 4242 4242 | any future date | any CVC | any ZIP")
            print("Ctrl-C to stop.", flush=True)
            try:
                wait_while_running(server)  # Ctrl-C works on Windows too (a bare join() ignores it)
            except KeyboardInterrupt:
                print("\nCheckout server stopped.")
        finally:
            server.stop()
    return 0
