"""The order model of the instructor's two other model solutions (``variants/payment_element`` and
``variants/checkout_session``): the catalog's lines, amount and metadata, one idempotency key per attempt.

The handout's integration (``checkout_server.py``) has the student write this lesson in the file itself
(``parse_order``, ``idempotency_key``); the variants teach the Payment Element and Checkout Sessions, so
they import it from here instead. Not shipped in the student edition (``labkit/release.py``).
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from labkit.catalog import load_catalog

MAX_BODY = 8 * 1024  # an order is a few dozen bytes; anything bigger is refused with 413
INTEGRATION = "lab09-itec442"
ALLOWED_FIELDS = ("product_id", "quantity", "items", "checkout_id")
_CHECKOUT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # used with fullmatch: no trailing newline sneaks in
_QUANTITY = re.compile(r"[0-9]{1,2}")
CATALOG = load_catalog()


class OrderError(ValueError):
    """A request the server refuses, with the HTTP status and a message a student can act on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
    if checkout_id is not None and not (isinstance(checkout_id, str) and _CHECKOUT_ID.fullmatch(checkout_id)):
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


def read_json(req) -> Any:
    """The JSON body of a Flask request, or :class:`OrderError` saying what to send."""
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


def parse_quantity(raw: str | None, catalog: dict[str, Any] | None = None) -> int | None:
    """``?quantity=`` as an int from 1 to the catalog's maximum, else ``None`` (ASCII digits only)."""
    max_q = int((catalog or CATALOG).get("max_quantity", 10))
    if raw is None or not _QUANTITY.fullmatch(raw):
        return None
    value = int(raw)
    return value if 1 <= value <= max_q else None
