"""The request the student's own page sends to its server, and variations of it in the same shape.

While the browser pays on the student's page, :class:`Recorder` keeps each POST the page sends to its
own server (path, Content-Type, body, cookie) and each address the browser loads from it. :func:`learn`
finds in the order request where the products are (a value or a key equal to a catalog id), how
quantities are written beside them, and which values change from one checkout attempt to the next
(a checkout id, a PaymentMethod id…). :meth:`Order.cart` then writes any cart the way that page writes
one, so the checks send only what the page itself sends, with honest or tampered values.
"""
from __future__ import annotations

import copy
import json
import random
import re
import string
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from labkit.tabs import listen

MONEY_KEY = re.compile(r"price|amount|total|cost|cents|sum|charge", re.I)
QTY_KEY = re.compile(r"q(?:ty|uant)|count|units|num", re.I)
ATTEMPT_KEY = re.compile(r"attempt|idem|checkout_?id|nonce|session|uuid|request_?id|key|token", re.I)
PM_ID = re.compile(r"pm_[A-Za-z0-9]{6,}")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
HANDOUT_REQUEST = ("/create-payment-intent", "application/json", '{"product_id": "prod_001"}')


@dataclass
class Request:
    page: int  # which page load (one per checkout attempt) sent it
    path: str
    content_type: str
    body: str
    cookie: str = ""


class Recorder:
    """Records what pages opened by the checks send to (and load from) the student's server."""

    def __init__(self, checkout_url: str) -> None:
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(checkout_url))
        self.posts: list[Request] = []
        self.loaded: list[str] = []  # same-origin addresses the browser fetched (GET)
        self.pages = 0
        self.double_click: int | None = None  # PaymentIntents one double click on Pay made (None: not tried)

    def adopt(self, other: "Recorder") -> None:
        """What ``other`` recorded on the same checkout, as if recorded here first (its pages numbered first)."""
        shift = other.pages
        self.posts = [*other.posts, *(replace(r, page=r.page + shift) for r in self.posts)]
        self.loaded = [*other.loaded, *(u for u in self.loaded if u not in other.loaded)]
        self.pages += shift

    def attach(self, page: Any) -> None:
        self.pages += 1
        number = self.pages

        def seen(req: Any) -> None:
            try:
                if not req.url.startswith(self.origin + "/"):
                    return
                if req.method == "GET" and req.url not in self.loaded:
                    self.loaded.append(req.url)
                elif req.method == "POST":
                    headers = req.all_headers()
                    path = req.url[len(self.origin):]
                    self.posts.append(Request(number, path, headers.get("content-type", ""), req.post_data or "",
                                              headers.get("cookie", "")))
            except Exception:  # a page closing under us: what was recorded stays
                pass

        listen(page, "request", seen)  # every frame of the page, and the windows it opens
        listen(page, "popup", lambda popup: popup.on("request", seen))


def leaves(value: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in leaves(v, path + (k,))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in leaves(v, path + (i,))]
    return [(path, value)]


def get_at(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


def set_at(value: Any, path: tuple, new: Any) -> None:
    get_at(value, path[:-1])[path[-1]] = new


def _put(body: Any, path: tuple, new: Any) -> Any:
    """``body`` with ``new`` at ``path`` (the whole body when the path is empty)."""
    if not path:
        return new
    set_at(body, path, new)
    return body


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _qty_key(holder: dict, skip: str) -> str | None:
    keys = [k for k, v in holder.items() if k != skip and isinstance(k, str) and not MONEY_KEY.search(k)
            and (_number(v) or (isinstance(v, str) and v.isdigit()))]
    named = [k for k in keys if QTY_KEY.search(k)]
    return (named or keys or [None])[0] if len(named) == 1 or len(keys) == 1 else (named[0] if named else None)


@dataclass
class Order:
    """The page's order request, understood: where its cart is, and what changes per attempt."""

    request: Request
    kind: str  # "json" or "form"
    body: Any
    shape: str  # "lines" (a list of objects), "single", "ids" (a list of ids), "keyed" ({id: qty}),
    #             "named" (a field per product named after it: qty-prod_001=2, a form's usual cart), "none"
    where: tuple = ()  # the list (lines, ids), the object (single) or the mapping (keyed)
    product_key: str | None = None
    qty_key: str | None = None
    attempt: list[tuple] = field(default_factory=list)  # leaves that change from one attempt to the next
    recorded: bool = True  # False: the page sent nothing we saw; this is the handout's request
    name_pattern: tuple[str, str] = ("", "")  # "named": the text before and after the product id in a field's name

    def lines(self, body: Any = None) -> list[tuple[str, Any]]:
        """The cart in ``body`` (default: the recorded one) as (product id, quantity) pairs."""
        body = self.body if body is None else body
        if self.shape == "lines":
            return [(it.get(self.product_key), it.get(self.qty_key, 1) if self.qty_key else 1)
                    for it in get_at(body, self.where) if isinstance(it, dict)]
        if self.shape == "single":
            holder = get_at(body, self.where)
            return [(holder.get(self.product_key), holder.get(self.qty_key, 1) if self.qty_key else 1)]
        if self.shape == "ids":
            ids = [v for v in get_at(body, self.where) if isinstance(v, str)]
            return [(pid, ids.count(pid)) for pid in dict.fromkeys(ids)]
        if self.shape == "keyed":
            return list(get_at(body, self.where).items())
        if self.shape == "named":
            before, after = self.name_pattern
            found = [(k[len(before):len(k) - len(after)], v) for k, v in get_at(body, self.where).items()
                     if isinstance(k, str) and k.startswith(before) and k.endswith(after)]
            return [(pid, int(v) if isinstance(v, str) and v.isdigit() else v) for pid, v in found
                    if not (isinstance(v, str) and v.isdigit() and int(v) == 0) and v != 0]
        return []

    @property
    def has_quantity(self) -> bool:
        return self.shape in ("keyed", "ids", "named") or bool(self.qty_key)

    @property
    def multi(self) -> bool:
        return self.shape in ("lines", "ids", "keyed", "named")

    def cart(self, lines: list[tuple[str, Any]], catalog: dict[str, Any], fresh: Callable[[Any], Any]) -> Any:
        """The recorded request with its cart replaced by ``lines`` and new values for each attempt leaf.
        Money fields the page sends honestly (a unit price or the total) are set to the catalog's values."""
        body = copy.deepcopy(self.body)
        for path in self.attempt:
            set_at(body, path, fresh(get_at(body, path)))
        old_total = _total(self.lines(), catalog)
        if self.shape == "lines":
            template = next(it for it in get_at(body, self.where) if isinstance(it, dict))
            items = []
            for pid, qty in lines:
                item = copy.deepcopy(template)
                _honest_unit(item, self.product_key, template.get(self.product_key), pid, qty, catalog)
                item[self.product_key] = pid
                if self.qty_key:
                    item[self.qty_key] = qty
                items.append(item)
            body = _put(body, self.where, items)
        elif self.shape == "single":
            holder = get_at(body, self.where)
            holder[self.product_key] = lines[0][0]
            if self.qty_key:
                holder[self.qty_key] = lines[0][1]
        elif self.shape == "ids":
            body = _put(body, self.where, [pid for pid, qty in lines for _ in range(int(qty))])
        elif self.shape == "keyed":
            body = _put(body, self.where, dict(lines))
        elif self.shape == "named":
            holder, (before, after) = get_at(body, self.where), self.name_pattern
            as_text = self.kind == "form"
            for key in [k for k in holder if isinstance(k, str) and k.startswith(before) and k.endswith(after)]:
                holder[key] = "0" if as_text else 0
            for pid, qty in lines:
                holder[f"{before}{pid}{after}"] = str(qty) if as_text and isinstance(qty, int) else qty
        new_total = _total(lines, catalog)
        for path, value in leaves(body):
            key = path[-1] if path and isinstance(path[-1], str) else ""
            if self.shape == "lines" and path[:len(self.where)] == self.where:
                continue  # the lines' own prices were set above
            if old_total and new_total is not None and _number(value) and MONEY_KEY.search(key):
                if value == old_total:
                    set_at(body, path, new_total)
                elif value == old_total / 100:
                    set_at(body, path, new_total / 100)
        return body

    def encode(self, body: Any) -> bytes:
        if self.kind == "form":
            return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}).encode()
        return json.dumps(body).encode()


def _unit(pid: Any, catalog: dict[str, Any]) -> int | None:
    product = catalog["products"].get(pid) if isinstance(pid, str) else None
    return int(product["price"]) if product else None


def _total(lines: list[tuple[str, Any]], catalog: dict[str, Any]) -> int | None:
    try:
        return sum(_unit(pid, catalog) * int(qty) for pid, qty in lines)
    except (TypeError, ValueError, OverflowError):
        return None


def _honest_unit(item: dict, key: str | None, old_pid: Any, pid: str, qty: Any, catalog: dict[str, Any]) -> None:
    old, new = _unit(old_pid, catalog), _unit(pid, catalog)
    for k, v in list(item.items()):
        if k != key and isinstance(k, str) and MONEY_KEY.search(k) and _number(v) and old and new:
            if v == old:
                item[k] = new
            elif v == old / 100:
                item[k] = new / 100


def decode(req: Request) -> tuple[str, Any] | None:
    text = req.body or ""
    if "json" in req.content_type or text.lstrip().startswith(("{", "[")):
        try:
            return "json", json.loads(text)
        except ValueError:
            return None
    if "x-www-form-urlencoded" in req.content_type:
        return "form", dict(parse_qsl(text, keep_blank_values=True))
    return None


def _dicts(value: Any, path: tuple = ()) -> list[tuple[tuple, dict]]:
    """Every object in ``value`` with its path (``value`` itself first)."""
    out = [(path, value)] if isinstance(value, dict) else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for k, v in items:
        out += _dicts(v, path + (k,))
    return out


def _products_in(body: Any, ids: set[str]) -> list[tuple]:
    """Paths to catalog ids: values equal to one, or keys equal to one (``{"prod_001": 2}``)."""
    found = [p for p, v in leaves(body) if isinstance(v, str) and v in ids]
    return found + [p + (k,) for p, d in _dicts(body) for k in d if k in ids]


def _dict_at(body: Any, path: tuple) -> dict | None:
    try:
        value = get_at(body, path)
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _shape(order: Order, ids: set[str]) -> None:
    body = order.body
    keyed = [p for p in _products_in(body, ids) if _dict_at(body, p[:-1]) is not None
             and p[-1] in ids and _number(get_at(body, p))]
    values = [p for p, v in leaves(body) if p and isinstance(v, str) and v in ids]  # a bare "prod_001": no cart
    named = [(p, k) for p, d in _dicts(body) for k, v in d.items() if isinstance(k, str) and k not in ids
             and any(i in k for i in ids) and (_number(v) or (isinstance(v, str) and v.isdigit()))]
    if keyed:
        order.shape, order.where = "keyed", keyed[0][:-1]
    elif named and not values:
        path, key = named[0]
        pid = max((i for i in ids if i in key), key=len)
        order.shape, order.where = "named", path
        order.name_pattern = (key[:key.index(pid)], key[key.index(pid) + len(pid):])
    elif values and isinstance(values[0][-1], int) and _dict_at(body, values[0][:-1]) is None:
        order.shape, order.where = "ids", values[0][:-1]
    elif values and len(values[0]) >= 2 and isinstance(values[0][-2], int):
        order.shape, order.where, order.product_key = "lines", values[0][:-2], values[0][-1]
        order.qty_key = _qty_key(get_at(body, values[0][:-1]), values[0][-1])
    elif values:
        order.shape, order.where, order.product_key = "single", values[0][:-1], values[0][-1]
        order.qty_key = _qty_key(get_at(body, values[0][:-1]), values[0][-1])


def _attempt_leaves(order: Order, others: list[Any], ids: set[str]) -> list[tuple]:
    cart = {order.where + (i, order.product_key) for i in range(50)} | {order.where + (i, order.qty_key)
                                                                         for i in range(50)}
    cart |= {order.where + (order.product_key,), order.where + (order.qty_key,)}
    out = []
    for path, value in leaves(order.body):
        if path in cart or (order.shape in ("ids", "keyed") and path[:len(order.where)] == order.where):
            continue
        if order.shape == "named" and path[:-1] == order.where and _named_key(path[-1], order, ids):
            continue
        changes = any(_value_at(other, path) != value for other in others)
        key = str(path[-1]) if path else ""
        looks = isinstance(value, str) and (PM_ID.fullmatch(value) or UUID_RE.fullmatch(value) or
                                            (ATTEMPT_KEY.search(key) and len(value) >= 8 and value not in ids))
        if changes or looks:
            out.append(path)
    return out


def _named_key(key: Any, order: Order, ids: set[str]) -> bool:
    before, after = order.name_pattern
    return isinstance(key, str) and key.startswith(before) and key.endswith(after) and \
        key[len(before):len(key) - len(after)] in ids


def _value_at(body: Any, path: tuple) -> Any:
    try:
        return get_at(body, path)
    except (KeyError, IndexError, TypeError):
        return object()


def learn(recorded: list[Request], catalog: dict[str, Any]) -> Order:
    """The page's order request (the first POST naming a catalog product, else the first POST), or the
    handout's ``{"product_id": "prod_001"}`` when the page sent nothing the checks could read."""
    ids = set(catalog["products"])
    decoded = [(req, decode(req)) for req in recorded]
    decoded = [(req, d) for req, d in decoded if d is not None]
    naming = [(req, d) for req, d in decoded if _products_in(d[1], ids)]
    chosen = (naming or decoded or [None])[0]
    if chosen is None:
        req = Request(0, *HANDOUT_REQUEST)
        order = Order(req, "json", json.loads(req.body), "none", recorded=False)
    else:
        req, (kind, body) = chosen
        order = Order(req, kind, body, "none")
    _shape(order, ids)
    others = [d[1] for r, d in decoded if r.path == order.request.path and r.page != order.request.page]
    order.attempt = _attempt_leaves(order, others, ids) if order.recorded else []
    return order


def fresh_value(value: Any, new_payment_method: Callable[[], str]) -> Any:
    """A new value of the same form for a leaf that changes per attempt (a pm_… gets a real new one)."""
    if isinstance(value, str):
        if PM_ID.fullmatch(value):
            return new_payment_method()
        if UUID_RE.fullmatch(value):
            return str(uuid.uuid4())
        pick = {str.isdigit: string.digits, str.islower: string.ascii_lowercase, str.isupper: string.ascii_uppercase}
        out = "".join(next((random.choice(chars) for test, chars in pick.items() if test(c)), c) for c in value)
        return out if out != value else value + "x"
    if _number(value):
        return value + random.randint(1, 10**6)
    return value
