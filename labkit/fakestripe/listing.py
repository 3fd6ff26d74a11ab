"""Reading objects back: retrieve, list (cursor pagination, ``created`` filters), ``expand``,
and ``/v1/payment_intents/search``."""
from __future__ import annotations

import re
from typing import Any

from labkit.fakestripe.common import as_int, as_str, check_params, without_secret
from labkit.fakestripe.errors import invalid, no_such
from labkit.fakestripe.state import OrderedIds, Store

# Which fields of each object type can be expanded, and the type they expand to ("*" = any).
EXPANDABLE = {
    "payment_intent": {"latest_charge": "charge", "payment_method": "payment_method", "customer": "customer"},
    "charge": {"payment_intent": "payment_intent", "balance_transaction": "balance_transaction",
               "customer": "customer", "refunds": "refunds"},
    "refund": {"charge": "charge", "payment_intent": "payment_intent", "balance_transaction": "balance_transaction"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
    "balance_transaction": {"source": "*"},
    "checkout.session": {"payment_intent": "payment_intent", "customer": "customer"},
    "price": {"product": "product"},
}
LIST_URLS = {"payment_intent": "/v1/payment_intents", "charge": "/v1/charges", "refund": "/v1/refunds",
             "dispute": "/v1/disputes", "event": "/v1/events", "webhook_endpoint": "/v1/webhook_endpoints",
             "balance_transaction": "/v1/balance_transactions", "payment_method": "/v1/payment_methods",
             "checkout.session": "/v1/checkout/sessions", "item": "/v1/checkout/sessions", "price": "/v1/prices"}
FILTERS = {  # list filter param -> index name
    "charge": {"payment_intent": "charge.payment_intent"},
    "refund": {"charge": "refund.charge", "payment_intent": "refund.payment_intent"},
    "dispute": {"charge": "dispute.charge", "payment_intent": "dispute.payment_intent"},
    "event": {"type": "event.type"},
    "checkout.session": {"payment_intent": "checkout.session.payment_intent"},
    "item": {"session": "item.session"},
}
_OPS = {"gt": lambda c, v: c > v, "gte": lambda c, v: c >= v, "lt": lambda c, v: c < v,
        "lte": lambda c, v: c <= v, "eq": lambda c, v: c == v}
MAX_EXPAND_DEPTH = 4  # Stripe allows expansions up to four levels deep (docs.stripe.com/expand)


def expand_paths(params: dict[str, Any]) -> list[str]:
    raw = params.pop("expand", None)
    if raw is None:
        return []
    raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw) or len(raw) > 20:
        raise invalid("Invalid array: expand must be a list of up to 20 field paths", "expand",
                      "parameter_invalid_array")
    return raw


class Reader:
    def __init__(self, store: Store) -> None:
        self.store = store

    def shown(self, obj: dict[str, Any]) -> dict[str, Any]:
        return without_secret(obj) if obj.get("object") == "webhook_endpoint" else obj

    def retrieve(self, typ: str, obj_id: str, params: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        check_params(params, set())
        obj = self.store.get(obj_id, typ)
        if obj is None:
            raise no_such(typ, obj_id)
        return self.expand(self.shown(obj), expand)

    def expand(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        if not paths:
            return obj
        obj = Store.snapshot(obj)
        for path in paths:
            parts = path.split(".")
            if len(parts) > MAX_EXPAND_DEPTH:
                raise invalid(f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property ({path[:100]}).",
                              "expand")
            self._expand_path(obj, parts, path)
        return obj

    def _expand_path(self, obj: dict[str, Any], parts: list[str], full: str) -> None:
        field, rest = parts[0], parts[1:]
        target_type = EXPANDABLE.get(obj.get("object", ""), {}).get(field)
        if target_type is None:
            raise invalid(f"This property cannot be expanded ({full[:100]}).", "expand")
        if target_type == "refunds":
            value: Any = self.charge_refunds(obj["id"], {"limit": 10})
        else:
            value = obj.get(field)
            if isinstance(value, str):
                found = self.store.get(value, None if target_type == "*" else target_type)
                value = Store.snapshot(found) if found is not None else value
        obj[field] = value
        if rest and isinstance(value, dict):
            if value.get("object") == "list":
                if rest[0] != "data" or len(rest) < 2:
                    raise invalid(f"This property cannot be expanded ({full[:100]}).", "expand")
                for item in value["data"]:
                    self._expand_path(item, rest[1:], full)
            else:
                self._expand_path(value, rest, full)

    def charge_refunds(self, ch_id: str, params: dict[str, Any], expand: list[str] = ()) -> dict[str, Any]:
        if self.store.get(ch_id, "charge") is None:
            raise no_such("charge", ch_id)
        page = self.list("refund", {**params, "charge": ch_id}, list(expand))
        page["url"] = f"/v1/charges/{ch_id}/refunds"
        return page

    def list(self, typ: str, params: dict[str, Any], expand: list[str],
             keep: Any = None) -> dict[str, Any]:
        limit = as_int(params.pop("limit", 10), "limit", 1, 100)
        after = params.pop("starting_after", None)
        before = params.pop("ending_before", None)
        created = params.pop("created", None)
        index = None
        for name, value in params.items():
            index_name = FILTERS.get(typ, {}).get(name)
            if index_name is None:
                raise invalid(f"Received unknown parameter: {name[:100]}", name[:100], "parameter_unknown")
            index = (index_name, as_str(value, name))
        ids = self.store.ids(typ, index)
        for cursor, name in ((after, "starting_after"), (before, "ending_before")):
            if cursor is not None and as_str(cursor, name) not in ids:
                raise no_such(typ, cursor[:80], name)
        if created is not None or keep is not None:
            ids = self._filtered(ids, self._created_test(created), keep, after, before)
            if ids is None:
                return {"object": "list", "data": [], "has_more": False, "url": LIST_URLS[typ]}
        page, has_more = ids.page(limit, after, before)
        sub = [p[5:] for p in expand if p.startswith("data.")]
        if len(sub) != len(expand):
            raise invalid("Expand list items with data.<field> (for example data.latest_charge).", "expand")
        data = [self.expand(self.shown(self.store.objects[i]), sub) for i in page]
        return {"object": "list", "data": data, "has_more": has_more, "url": LIST_URLS[typ]}

    @staticmethod
    def _created_test(created: Any) -> Any:
        if created is None:
            return None
        bounds = ({op: as_int(v, f"created[{op}]") for op, v in created.items()} if isinstance(created, dict)
                  else {"eq": as_int(created, "created")})
        for op in bounds:
            if op not in _OPS:
                raise invalid(f"Received unknown parameter: created[{op[:40]}]", f"created[{op[:40]}]",
                              "parameter_unknown")
        return lambda obj: all(_OPS[op](obj["created"], v) for op, v in bounds.items())

    def _filtered(self, ids: OrderedIds, created: Any, keep: Any, after: str | None,
                  before: str | None) -> OrderedIds | None:
        sub = OrderedIds()
        for i in ids.ids:
            obj = self.store.objects[i]
            if (created is None or created(obj)) and (keep is None or keep(obj)):
                sub.add(i)
        if (after and after not in sub) or (before and before not in sub):
            return None
        return sub

    # -- /v1/payment_intents/search ---------------------------------------------------
    def search_payment_intents(self, params: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        check_params(params, {"query", "limit", "page"})
        if "query" not in params:
            raise invalid("Missing required param: query.", "query", "parameter_missing")
        test = parse_query(as_str(params["query"], "query"))
        limit = as_int(params.get("limit", 10), "limit", 1, 100)
        ids = self.store.ids("payment_intent").ids
        end = len(ids)
        if params.get("page"):
            cursor = as_str(params["page"], "page")
            pos = self.store.ids("payment_intent").pos.get(cursor[5:] if cursor.startswith("page_") else "")
            if pos is None:
                raise invalid("Invalid page: use next_page from the previous search result.", "page")
            end = pos
        found: list[str] = []
        i = end - 1
        while i >= 0 and len(found) <= limit:
            if test(self.store.objects[ids[i]]):
                found.append(ids[i])
            i -= 1
        has_more = len(found) > limit
        found = found[:limit]
        sub = [p[5:] for p in expand if p.startswith("data.")]
        return {"object": "search_result", "data": [self.expand(self.store.objects[i], sub) for i in found],
                "has_more": has_more, "next_page": f"page_{found[-1]}" if has_more else None,
                "url": "/v1/payment_intents/search"}


_CLAUSE = re.compile(r"""\s*(-?)(metadata\[(['"])(.{1,40}?)\3\]|[a-z_]+)\s*(:|>=|<=|>|<)\s*(['"])(.{0,500}?)\6\s*"""
                     r"""|\s*(-?)([a-z_]+)\s*(>=|<=|>|<|:)\s*(-?[0-9]{1,15})\s*""")
SEARCH_FIELDS = {"amount", "created", "currency", "customer", "status", "payment_method"}


def parse_query(query: str) -> Any:
    """Stripe's search language, the part the lab uses: ``field:'value'``, ``metadata['k']:'v'``,
    ``amount>1000``, ``-field:'v'`` (not), joined by all-``AND`` or all-``OR``."""
    if len(query) > 1000:
        raise invalid("The search query is too long.", "query")
    words = re.split(r"\s+(AND|OR)\s+", query.strip())
    joins = set(words[1::2])
    if len(joins) > 1:
        raise invalid("A search query cannot mix AND and OR.", "query")
    tests = [_clause(c) for c in words[0::2]]
    if "OR" in joins:
        return lambda obj: any(t(obj) for t in tests)
    return lambda obj: all(t(obj) for t in tests)


def _clause(text: str) -> Any:
    m = _CLAUSE.fullmatch(text)
    if m is None:
        raise invalid(f"Invalid search query clause: {text[:100]}. Use field:'value' (for example status:'succeeded').",
                      "query")
    if m.group(2):
        neg, field, key, op, value = m.group(1), m.group(2), m.group(4), m.group(5), m.group(7)
    else:
        neg, field, key, op, value = m.group(8), m.group(9), None, m.group(10), m.group(11)
    if key is None and field not in SEARCH_FIELDS:
        raise invalid(f"Field '{field}' is not supported for search on payment_intent.", "query")

    def test(obj: dict[str, Any]) -> bool:
        actual = obj["metadata"].get(key) if key is not None else obj.get(field)
        if op == ":":
            ok = str(actual) == value if actual is not None else False
        else:
            if not isinstance(actual, int) or not re.fullmatch(r"-?[0-9]{1,15}", value):
                return False
            ok = {">": actual > int(value), "<": actual < int(value),
                  ">=": actual >= int(value), "<=": actual <= int(value)}[op]
        return ok != bool(neg)
    return test
