"""The fake Stripe's HTTP layer: a WSGI app speaking Stripe's REST API.

Form-encoded parameters (``metadata[k]=v``, ``expand[0]=x``), Bearer/Basic auth,
``Idempotency-Key`` replay, ``Request-Id`` headers, cursor pagination, ``expand``,
CORS for the browser endpoints, and the static Stripe.js files.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from labkit.fakestripe.engine import API_VERSION, Ctx, Engine, _int
from labkit.fakestripe.errors import StripeError, auth_error, invalid, no_such
from labkit.fakestripe.state import Store, new_id
from labkit.fakestripe.webhooks import DEFAULT_RETRY_SCHEDULE, Deliverer
from labkit.serving import static_type

log = logging.getLogger("labkit.fakestripe")

MAX_BODY = 256 * 1024
_SECRET_KEY = re.compile(r"^(sk|rk)_test_[A-Za-z0-9_]+$")
_PUBLISHABLE_KEY = re.compile(r"^pk_test_[A-Za-z0-9_]+$")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed",
    "Access-Control-Max-Age": "600",
}

# Which ids each object type can expand, and the type they expand to.
EXPANDABLE = {
    "payment_intent": {"latest_charge": "charge", "payment_method": "payment_method"},
    "charge": {"payment_intent": "payment_intent", "balance_transaction": "balance_transaction"},
    "refund": {"charge": "charge", "payment_intent": "payment_intent"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
}

# Browser endpoints a publishable key may call (Stripe.js's subset).
PUBLISHABLE_ENDPOINTS = {"create_payment_method", "retrieve_payment_intent", "confirm_payment_intent", "authenticate"}


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0]=x`` → ``{"a": {"b": ["x"]}}`` (Stripe's bracket encoding)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        if not parts or key.startswith("["):
            raise invalid(f"Invalid parameter name: {key}", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            part = "" if part == "[]" else part
            if isinstance(node, list):
                if part == "" or not part.isdigit():
                    node.append(value if last else {})
                    node = node[-1]
                    continue
                idx = int(part)
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = value
                else:
                    if node[idx] is None:
                        node[idx] = {}
                    node = node[idx]
                continue
            if last:
                node[part] = value
            else:
                nxt = parts[i + 1]
                if part not in node or not isinstance(node[part], (dict, list)):
                    node[part] = [] if (nxt == "[]" or nxt.isdigit()) else {}
                node = node[part]
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _listify(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_listify(v) for v in node if v is not None]
    return node


class FakeStripeApp:
    """The WSGI application. ``FakeStripeApp()`` is cheap; it starts its webhook workers."""

    def __init__(self, *, db_path: str | Path | None = None,
                 retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE,
                 delivery_timeout: float = 5.0, allow_remote_webhooks: bool = False) -> None:
        self.store = Store(db_path)
        self.allow_remote_webhooks = allow_remote_webhooks
        self.deliverer = Deliverer(self.store.get, self._on_delivery, retry_schedule, delivery_timeout)
        self.engine = Engine(self.store, self.deliverer.enqueue)
        self.url_map = Map([
            Rule("/v1/account", endpoint="account", methods=["GET"]),
            Rule("/v1/accounts/<id>", endpoint="account", methods=["GET"]),
            Rule("/v1/balance", endpoint="balance", methods=["GET"]),
            Rule("/v1/balance_transactions", endpoint="list:balance_transaction", methods=["GET"]),
            Rule("/v1/balance_transactions/<id>", endpoint="get:balance_transaction", methods=["GET"]),
            Rule("/v1/payment_intents", endpoint="create_payment_intent", methods=["POST"]),
            Rule("/v1/payment_intents", endpoint="list:payment_intent", methods=["GET"]),
            Rule("/v1/payment_intents/<id>", endpoint="retrieve_payment_intent", methods=["GET"]),
            Rule("/v1/payment_intents/<id>", endpoint="update_payment_intent", methods=["POST"]),
            Rule("/v1/payment_intents/<id>/confirm", endpoint="confirm_payment_intent", methods=["POST"]),
            Rule("/v1/payment_intents/<id>/cancel", endpoint="cancel_payment_intent", methods=["POST"]),
            Rule("/v1/payment_intents/<id>/capture", endpoint="capture_payment_intent", methods=["POST"]),
            Rule("/v1/test_helpers/payment_intents/<id>/authenticate", endpoint="authenticate", methods=["POST"]),
            Rule("/v1/payment_methods", endpoint="create_payment_method", methods=["POST"]),
            Rule("/v1/payment_methods/<id>", endpoint="get:payment_method", methods=["GET"]),
            Rule("/v1/charges", endpoint="list:charge", methods=["GET"]),
            Rule("/v1/charges/<id>", endpoint="get:charge", methods=["GET"]),
            Rule("/v1/refunds", endpoint="create_refund", methods=["POST"]),
            Rule("/v1/refunds", endpoint="list:refund", methods=["GET"]),
            Rule("/v1/refunds/<id>", endpoint="get:refund", methods=["GET"]),
            Rule("/v1/disputes", endpoint="list:dispute", methods=["GET"]),
            Rule("/v1/disputes/<id>", endpoint="get:dispute", methods=["GET"]),
            Rule("/v1/events", endpoint="list:event", methods=["GET"]),
            Rule("/v1/events/<id>", endpoint="get:event", methods=["GET"]),
            Rule("/v1/webhook_endpoints", endpoint="create_webhook_endpoint", methods=["POST"]),
            Rule("/v1/webhook_endpoints", endpoint="list:webhook_endpoint", methods=["GET"]),
            Rule("/v1/webhook_endpoints/<id>", endpoint="get:webhook_endpoint", methods=["GET"]),
            Rule("/v1/webhook_endpoints/<id>", endpoint="update_webhook_endpoint", methods=["POST"]),
            Rule("/v1/webhook_endpoints/<id>", endpoint="delete_webhook_endpoint", methods=["DELETE"]),
            Rule("/v1/labkit/deliveries", endpoint="deliveries", methods=["GET"]),
            Rule("/v1/labkit/webhook_queue", endpoint="webhook_queue", methods=["GET"]),
        ])
        self.filters: dict[str, dict[str, str]] = {  # list filter param -> index name
            "charge": {"payment_intent": "charge.payment_intent"},
            "refund": {"charge": "refund.charge", "payment_intent": "refund.payment_intent"},
            "dispute": {"charge": "dispute.charge", "payment_intent": "dispute.payment_intent"},
            "event": {"type": "event.type"},
        }

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        self.deliverer.stop()
        self.store.close()

    def _on_delivery(self, endpoint_id: str, event_id: str, attempt: int, status: int | None, outcome: str) -> None:
        self.engine.record_delivery(endpoint_id, event_id, attempt, status, outcome)

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        request_id = new_id("req", 14)
        path = request.path
        if not path.startswith("/v1/"):
            return self._static(request)
        if request.method == "OPTIONS":
            return Response(status=204, headers=CORS_HEADERS)
        try:
            try:
                endpoint, args = self.url_map.bind_to_environ(request.environ).match()
            except HTTPException:
                raise StripeError(404, "invalid_request_error",
                                  f"Unrecognized request URL ({request.method}: {path}). Please see "
                                  "https://stripe.com/docs or we can help at https://support.stripe.com/.")
            params = self._params(request)
            key, publishable = self._authenticate(request, params, endpoint)
            ctx = Ctx(request_id=request_id, idempotency_key=request.headers.get("Idempotency-Key"),
                      base_url=request.host_url.rstrip("/"), publishable=publishable)
            with self.store.lock:
                if request.method == "POST" and ctx.idempotency_key:
                    status, body, replayed = self._idempotent(key, request, params, lambda: self._run(endpoint, args, params, ctx))
                else:
                    (status, body), replayed = self._run(endpoint, args, params, ctx), False
        except StripeError as exc:
            status, body, replayed = exc.status, json.dumps(exc.body()), False
        except Exception:  # a bug in the fake: answer like Stripe's 500, log the traceback
            log.exception("fake Stripe failed on %s %s", request.method, path)
            status, body, replayed = 500, json.dumps({"error": {
                "type": "api_error", "message": "The fake Stripe hit an internal error (see its log)."}}), False
        headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION, **CORS_HEADERS,
                   "Cache-Control": "no-cache, no-store"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status, headers=headers, content_type="application/json")

    def _run(self, endpoint: str, args: dict[str, str], params: dict[str, Any], ctx: Ctx) -> tuple[int, str]:
        try:
            return 200, json.dumps(self._call(endpoint, args, params, ctx))
        except StripeError as exc:
            return exc.status, json.dumps(exc.body())

    def _idempotent(self, key: str, request: Request, params: dict[str, Any],
                    run: Callable[[], tuple[int, str]]) -> tuple[int, str, bool]:
        idem = request.headers["Idempotency-Key"]
        fingerprint = hashlib.sha256(json.dumps([request.method, request.path, params], sort_keys=True).encode()).hexdigest()
        record = self.store.idempotency.get((key, idem))
        if record is not None:
            if record["fingerprint"] != fingerprint:
                raise StripeError(400, "idempotency_error",
                                  "Keys for idempotent requests can only be used with the same parameters they were "
                                  f"first used with. Try using a key other than '{idem}' if you meant to execute a "
                                  "different request.")
            return record["status"], record["body"], True
        status, body = run()
        if status < 500:
            self.store.idempotency[(key, idem)] = {"fingerprint": fingerprint, "status": status, "body": body}
        return status, body, False

    # ------------------------------------------------------------------ request parsing
    def _params(self, request: Request) -> dict[str, Any]:
        pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
        if request.method == "POST":
            try:
                raw = request.get_data(cache=True)
            except HTTPException:
                raise invalid("Request body too large.")
            if raw:
                ctype = request.mimetype
                if ctype == "application/json":
                    raise invalid("Stripe's API takes form-encoded parameters "
                                  "(Content-Type: application/x-www-form-urlencoded), not JSON.")
                pairs += parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return decode_form(pairs)

    def _authenticate(self, request: Request, params: dict[str, Any], endpoint: str) -> tuple[str, bool]:
        header = request.headers.get("Authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
            except Exception:
                key = ""
        if not key and isinstance(params.get("key"), str):
            key = params["key"]
        if not key:
            raise auth_error("You did not provide an API key. You need to provide your API key in the Authorization "
                             "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
                             "https://stripe.com/docs/api#authentication for details, or we can help at "
                             "https://support.stripe.com/.")
        masked = f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"
        if _PUBLISHABLE_KEY.match(key):
            if endpoint not in PUBLISHABLE_ENDPOINTS:
                raise auth_error("This API call cannot be made with a publishable API key. Please use a secret API "
                                 f"key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.")
            return key, True
        if key.startswith(("sk_live_", "rk_live_", "pk_live_")):
            raise auth_error(f"Invalid API Key provided: {masked}. The offline fake Stripe accepts test-mode keys only.")
        if not _SECRET_KEY.match(key):
            raise auth_error(f"Invalid API Key provided: {masked}")
        params.pop("key", None)
        return key, False

    # ------------------------------------------------------------------ endpoints
    def _call(self, endpoint: str, args: dict[str, str], params: dict[str, Any], ctx: Ctx) -> Any:
        expand = params.pop("expand", None) or []
        if isinstance(expand, str):
            expand = [expand]
        e = self.engine
        if endpoint.startswith("list:"):
            return self._list(endpoint[5:], params, expand)
        if endpoint.startswith("get:"):
            typ = endpoint[4:]
            obj = self.store.get(args["id"], typ)
            if obj is None:
                raise no_such(typ, args["id"])
            if typ == "webhook_endpoint":
                obj = {k: v for k, v in obj.items() if k != "secret"}
            return self._expand(obj, expand)
        if endpoint == "account":
            if args.get("id") not in (None, e.account["id"]):
                raise no_such("account", args["id"], "account")
            return e.account
        if endpoint == "balance":
            return e.balance()
        if endpoint == "deliveries":
            return {"object": "list", "data": list(reversed(e.deliveries)), "has_more": False,
                    "url": "/v1/labkit/deliveries"}
        if endpoint == "webhook_queue":
            return {"object": "labkit.webhook_queue", "due_now": self.deliverer.due_now(),
                    "pending": self.deliverer.pending()}
        if endpoint == "create_webhook_endpoint":
            return e.create_webhook_endpoint(params, ctx, self.allow_remote_webhooks)
        if endpoint == "update_webhook_endpoint":
            obj = e.update_webhook_endpoint(args["id"], params, ctx, self.allow_remote_webhooks)
            return {k: v for k, v in obj.items() if k != "secret"}
        if endpoint == "delete_webhook_endpoint":
            return e.delete_webhook_endpoint(args["id"])
        method = getattr(e, endpoint)
        obj = method(args["id"], params, ctx) if "id" in args else method(params, ctx)
        return self._expand(obj, expand)

    def _expand(self, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        if not paths:
            return obj
        obj = Store.snapshot(obj)
        for path in paths:
            self._expand_path(obj, str(path).split("."), str(path))
        return obj

    def _expand_path(self, obj: dict[str, Any], parts: list[str], full: str) -> None:
        field, rest = parts[0], parts[1:]
        target_type = EXPANDABLE.get(obj.get("object", ""), {}).get(field)
        if target_type is None:
            raise invalid(f"This property cannot be expanded ({full}).", "expand")
        value = obj.get(field)
        if isinstance(value, str):
            found = self.store.get(value, target_type)
            value = Store.snapshot(found) if found is not None else value
            obj[field] = value
        if rest and isinstance(value, dict):
            self._expand_path(value, rest, full)

    def _list(self, typ: str, params: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        limit = _int(params.pop("limit", 10), "limit", 1, 100)
        after, before = params.pop("starting_after", None), params.pop("ending_before", None)
        created = params.pop("created", None)
        index = None
        for name, value in params.items():
            index_name = self.filters.get(typ, {}).get(name)
            if index_name is None:
                raise invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")
            index = (index_name, value)
        ids = self.store.ids(typ, index)
        for cursor, name in ((after, "starting_after"), (before, "ending_before")):
            if cursor is not None and cursor not in ids:
                raise no_such(typ, cursor, name)
        if created is not None:
            page, has_more = self._created_page(ids.ids, created, limit, after, before)
        else:
            page, has_more = ids.page(limit, after, before)
        url = "/v1/" + {"payment_intent": "payment_intents", "charge": "charges", "refund": "refunds",
                        "dispute": "disputes", "event": "events", "webhook_endpoint": "webhook_endpoints",
                        "balance_transaction": "balance_transactions"}[typ]
        data = []
        for obj_id in page:
            obj = self.store.objects[obj_id]
            if typ == "webhook_endpoint":
                obj = {k: v for k, v in obj.items() if k != "secret"}
            data.append(self._expand(obj, [p[5:] for p in expand if str(p).startswith("data.")]))
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def _created_page(self, ids: list[str], created: Any, limit: int, after: str | None, before: str | None):
        if isinstance(created, dict):
            bounds = {op: _int(v, f"created[{op}]") for op, v in created.items()}
        else:
            bounds = {"eq": _int(created, "created")}
        ops = {"gt": lambda c, v: c > v, "gte": lambda c, v: c >= v, "lt": lambda c, v: c < v,
               "lte": lambda c, v: c <= v, "eq": lambda c, v: c == v}
        for op in bounds:
            if op not in ops:
                raise invalid(f"Received unknown parameter: created[{op}]", f"created[{op}]", "parameter_unknown")
        matching = [i for i in ids if all(ops[op](self.store.objects[i]["created"], v) for op, v in bounds.items())]
        sub = type(self.store.ids("none"))()
        for i in matching:
            sub.add(i)
        if (after and after not in sub) or (before and before not in sub):
            return [], False
        return sub.page(limit, after, before)

    # ------------------------------------------------------------------ static Stripe.js
    def _static(self, request: Request) -> Response:
        path = request.path
        if path in ("/", ""):
            return Response("labkit fake Stripe: the Stripe API at /v1, Stripe.js at /v3/\n", content_type="text/plain")
        if path.rstrip("/") == "/v3":
            name = "stripe.js"
        elif path.startswith("/3ds/"):
            name = "3ds.html"
        elif path.startswith("/elements/"):
            name = path[len("/elements/"):].strip("/") + ".html"
        elif path.startswith("/static/"):
            name = path[len("/static/"):]
        else:
            name = ""
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name or "-") or ".." in name:
            return self._not_found()
        try:
            data = resources.files("labkit.fakestripe").joinpath("static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self._not_found()
        return Response(data, content_type=static_type(name), headers={
            "Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})

    @staticmethod
    def _not_found() -> Response:
        return Response("Not found\n", status=404, content_type="text/plain")


def create_app(**options: Any) -> FakeStripeApp:
    """The fake Stripe WSGI app (see :class:`FakeStripeApp` for the options)."""
    return FakeStripeApp(**options)
