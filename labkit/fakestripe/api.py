"""The fake Stripe's HTTP layer: a WSGI app speaking Stripe's REST API.

Per request, in this order: the Host header (against DNS rebinding), the route, the API
key (before the body is decoded), the Origin (web pages may only call what Stripe.js calls,
with the publishable key), the form parameters (within :mod:`~labkit.fakestripe.forms`'
limits), then the handler from :data:`~labkit.fakestripe.engine.ROUTES` under the store's
lock, in one transaction with its idempotency record and webhook deliveries.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from labkit.fakestripe.common import API_VERSION, Ctx
from labkit.fakestripe.engine import ROUTES, Engine, Route
from labkit.fakestripe.errors import StripeError, auth_error, forbidden, invalid
from labkit.fakestripe.forms import MAX_BODY, decode_form, parse_pairs
from labkit.fakestripe.listing import expand_paths
from labkit.fakestripe.state import Store, new_id
from labkit.fakestripe.webhooks import DEFAULT_RETRY_SCHEDULE, Deliverer, Job
from labkit.hostcheck import HostCheck
from labkit.kit_server import static_type

log = logging.getLogger("labkit.fakestripe")

_SECRET_KEY = re.compile(r"(sk|rk)_test_[A-Za-z0-9_]{1,200}")
_PUBLISHABLE_KEY = re.compile(r"pk_test_[A-Za-z0-9_]{1,200}")
NO_KEY = ("You did not provide an API key. You need to provide your API key in the Authorization header, using "
          "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
          "for details, or we can help at https://support.stripe.com/.")

# Only what Stripe.js calls from a web page gets CORS headers (with the publishable key and a client secret).
BROWSER_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type, Stripe-Version",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Expose-Headers": "Request-Id",
    "Access-Control-Max-Age": "600",
}


class FakeStripeApp:
    """The WSGI application. ``FakeStripeApp()`` is cheap; it resumes pending deliveries from ``db_path``."""

    def __init__(self, *, db_path: str | Path | None = None,
                 retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE,
                 delivery_timeout: float = 5.0, allow_remote_webhooks: bool = False,
                 allowed_hosts: Iterable[str] = ()) -> None:
        self.store = Store(db_path)
        self.deliverer = Deliverer(self.store.get, self._on_delivery, retry_schedule, delivery_timeout)
        self.engine = Engine(self.store, allow_remote_webhooks)
        self.engine.deliverer = self.deliverer
        self.routes: dict[str, Route] = {}
        rules = []
        for n, route in enumerate(ROUTES):
            self.routes[str(n)] = route
            rules.append(Rule(route.path, endpoint=str(n), methods=[route.method]))
        self.url_map = Map(rules)
        self._adapter = self.url_map.bind("fakestripe")  # matched by path and method only
        self._wsgi = HostCheck(self._serve, allowed_hosts)
        for job_id, endpoint, event, attempt, delay in self.store.pending_jobs():
            self.deliverer.put(Job(endpoint, event, attempt, job_id), delay)

    def close(self) -> None:
        self.deliverer.stop()
        self.store.close()

    def _on_delivery(self, job: Job, status: int | None, outcome: str, retry_in: float | None) -> None:
        self.engine.record_delivery(job.endpoint_id, job.event_id, job.attempt, status, outcome)
        self.store.job_done(job.job_id, None if retry_in is None else job.attempt + 1, retry_in or 0.0)

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict, start_response: Callable) -> Any:
        return self._wsgi(environ, start_response)

    def _serve(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        request.max_content_length = MAX_BODY
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if not request.path.startswith("/v1/"):
            return self._static(request)
        request_id = new_id("req", 14)
        if request.method == "OPTIONS":
            return self._preflight(request)
        route: Route | None = None
        try:
            route, args = self._match(request)
            key, publishable = self._authenticate(request, route)
            self._check_origin(request, route, publishable)
            params = self._params(request)
            params.pop("key", None)
            ctx = Ctx(request_id=request_id, idempotency_key=request.headers.get("Idempotency-Key"),
                      base_url=_origin(request.environ), publishable=publishable)
            status, body, replayed = self._run_call(route, args, params, ctx, key, request)
        except StripeError as exc:
            status, body, replayed = exc.status, json.dumps(exc.body()), False
        except sqlite3.Error as exc:  # --db: the call could not be written (a full disk, a file made read-only)
            problem = self.store.write_problem(exc)
            log.error("fake Stripe: %s", problem)  # one line, no traceback; the call left nothing behind
            status, body, replayed = 500, json.dumps({"error": {"type": "api_error", "message": problem}}), False
        except Exception:  # a bug in the fake: answer like Stripe's 500, log the traceback
            log.exception("fake Stripe failed on %s %s", request.method, request.path)
            status, body, replayed = 500, json.dumps({"error": {
                "type": "api_error", "message": "The fake Stripe hit an internal error (see its log)."}}), False
        headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION, "Cache-Control": "no-cache, no-store"}
        if route is not None and route.browser:
            headers.update(BROWSER_CORS)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status, headers=headers, content_type="application/json")

    def _match(self, request: Request) -> tuple[Route, dict[str, str]]:
        try:
            endpoint, args = self._adapter.match(request.path, request.method)
        except HTTPException:
            raise StripeError(404, "invalid_request_error",
                              f"Unrecognized request URL ({request.method}: {request.path[:200]}). Please see "
                              "https://stripe.com/docs or we can help at https://support.stripe.com/.")
        return self.routes[endpoint], args

    def _preflight(self, request: Request) -> Response:
        """CORS preflight: allowed only for the routes Stripe.js calls."""
        adapter = self._adapter
        wanted = request.headers.get("Access-Control-Request-Method", "").upper()
        for method in ([wanted] if wanted else ["POST", "GET"]):
            try:
                endpoint, _ = adapter.match(request.path, method)
            except HTTPException:
                continue
            if self.routes[endpoint].browser:
                return Response(status=204, headers=BROWSER_CORS)
        return Response(status=403)

    def _run_call(self, route: Route, args: dict[str, str], params: dict[str, Any], ctx: Ctx, key: str,
                  request: Request) -> tuple[int, str, bool]:
        expand = expand_paths(params)
        idem = request.headers.get("Idempotency-Key") if route.method == "POST" else None
        if idem is not None and not (0 < len(idem) <= 255):
            raise invalid("Idempotency-Key must be 1 to 255 characters long.", None, "idempotency_key_invalid")
        fingerprint = hashlib.sha256(json.dumps([request.method, request.path, params, expand],
                                                sort_keys=True).encode()).hexdigest() if idem else ""
        account = hashlib.sha256(key.encode()).hexdigest()[:32]  # the key itself is never written to disk
        with self.store.transaction():
            if idem is not None:
                record = self.store.idempotent_get(account, idem)
                if record is not None:
                    if record["fingerprint"] != fingerprint:
                        raise StripeError(400, "idempotency_error",
                                          "Keys for idempotent requests can only be used with the same parameters "
                                          f"they were first used with. Try using a key other than '{idem[:80]}' if "
                                          "you meant to execute a different request.")
                    return record["status"], record["body"], True
            writes = self.store.writes
            try:
                status, body = 200, json.dumps(route.handler(self.engine, args, params, ctx, expand))
            except StripeError as exc:
                status, body = exc.status, json.dumps(exc.body())
            # Stripe keeps no idempotency record for a request that failed validation (nothing written).
            if idem is not None and (status == 200 or self.store.writes != writes):
                self.store.idempotent_put(account, idem, {"fingerprint": fingerprint, "status": status, "body": body})
        for endpoint_id, event_id, job_id in ctx.outbox:  # committed: now the webhooks may go
            self.deliverer.enqueue(endpoint_id, event_id, job_id=job_id)
        return status, body, False

    # ------------------------------------------------------------------ key, origin, parameters
    def _authenticate(self, request: Request, route: Route) -> tuple[str, bool]:
        header = request.headers.get("Authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:], validate=True).decode("utf-8").split(":", 1)[0]
            except (binascii.Error, UnicodeDecodeError, ValueError):
                key = ""
        elif not header and route.browser:  # Stripe.js sends its publishable key as a parameter
            key = self._key_param(request)
        if not key:
            raise auth_error(NO_KEY)
        masked = f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"
        if _PUBLISHABLE_KEY.fullmatch(key):
            if not route.browser:
                raise auth_error("This API call cannot be made with a publishable API key. Please use a secret API "
                                 "key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.")
            return key, True
        if key.startswith(("sk_live_", "rk_live_", "pk_live_")):
            raise auth_error(f"Invalid API Key provided: {masked[:16]}. The offline fake Stripe accepts test-mode keys only.")
        if not _SECRET_KEY.fullmatch(key):
            raise auth_error(f"Invalid API Key provided: {masked[:16]}")
        return key, False

    def _key_param(self, request: Request) -> str:
        for name, value in self._pairs(request):
            if name == "key":
                return value
        return ""

    @staticmethod
    def _check_origin(request: Request, route: Route, publishable: bool) -> None:
        """A web page (any Origin but the fake's own) may use only the publishable key, on Stripe.js's routes."""
        origin = request.headers.get("Origin")
        if origin is None or origin == _origin(request.environ):
            return
        if publishable and route.browser:
            return
        raise forbidden("The offline fake Stripe refuses secret-key calls from web pages (this request came from "
                        f"{origin[:100]}). Call it from your server, or use Stripe.js with the publishable key.")

    def _pairs(self, request: Request) -> list[tuple[str, str]]:
        if "pairs" in request.environ.setdefault("labkit.fakestripe", {}):
            return request.environ["labkit.fakestripe"]["pairs"]
        pairs = parse_pairs(request.query_string.decode("latin-1"))
        if request.method in ("POST", "DELETE"):
            try:
                raw = request.get_data(cache=True)
            except HTTPException:
                raise StripeError(413, "invalid_request_error",
                                  f"Request body too large: the fake Stripe takes up to {MAX_BODY // 1024} KiB.")
            if raw and request.mimetype == "application/json":
                raise invalid("Stripe's API takes form-encoded parameters "
                              "(Content-Type: application/x-www-form-urlencoded), not JSON.")
            if raw:
                pairs = pairs + parse_pairs(raw.decode("utf-8", "replace"))
        if len(pairs) > 1000:
            raise invalid("Too many parameters: a request may carry up to 1000.", None, "parameter_invalid")
        request.environ["labkit.fakestripe"]["pairs"] = pairs
        return pairs

    def _params(self, request: Request) -> dict[str, Any]:
        return decode_form(self._pairs(request))

    # ------------------------------------------------------------------ static Stripe.js and the 3DS page
    def _static(self, request: Request) -> Response:
        path = request.path
        if path in ("/", ""):
            return Response("labkit fake Stripe: the Stripe API at /v1, Stripe.js at /v3/\n", content_type="text/plain")
        back = re.fullmatch(r"/3ds/(pi_[A-Za-z0-9]{1,64})/return", path)
        if back:
            return self._challenge_return(back.group(1), request.args.get("client_secret", ""))
        if path.rstrip("/") == "/v3":
            return self._stripe_js()
        if re.fullmatch(r"/c/(pay|embedded)/cs_test_[A-Za-z0-9]{1,80}", path):
            name = "checkout.html"  # the Checkout Session's payment page (hosted, or in the embedded iframe)
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
    def _stripe_js() -> Response:
        """Stripe.js: the handout's card Element (stripe.js), then today's integrations (stripe_today.js)."""
        folder = resources.files("labkit.fakestripe").joinpath("static")
        data = b"\n".join(folder.joinpath(name).read_bytes() for name in ("stripe.js", "stripe_today.js"))
        return Response(data, content_type=static_type("stripe.js"), headers={
            "Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})

    def _challenge_return(self, pi_id: str, client_secret: str) -> Response:
        with self.store.lock:
            url = self.engine.return_url_after_challenge(pi_id, client_secret)
        if url is None:
            return self._not_found()
        return Response(status=303, headers={"Location": url, "Cache-Control": "no-store",
                                             "Referrer-Policy": "no-referrer"})

    @staticmethod
    def _not_found() -> Response:
        return Response("Not found\n", status=404, content_type="text/plain")


def _origin(environ: dict[str, Any]) -> str:
    """``http://127.0.0.1:12111``: this server as the browser names it (the Host header, already checked)."""
    return f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST') or environ.get('SERVER_NAME', '')}"


def create_app(**options: Any) -> FakeStripeApp:
    """The fake Stripe WSGI app (see :class:`FakeStripeApp` for the options)."""
    return FakeStripeApp(**options)
