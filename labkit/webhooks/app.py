"""The Part C webhook handler: a Flask app that never loses, duplicates or forges an order.

``POST /webhook`` checks ``Stripe-Signature`` on the raw body before parsing anything
(Stripe's 300-second tolerance), then hands the event to :class:`OrderStore`, which
applies it exactly once and commits before the 2xx goes out. ``GET /orders`` is the
handout's order list; ``GET /deliveries`` is the log of every delivery and its outcome.

Without a webhook secret the app refuses to start, unless it is explicitly started in
the insecure demo mode, which every response and every log line then flags.
"""
from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import Flask, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from labkit.serving import BackgroundServer, wait_while_running
from labkit.settings import Settings, SettingsError, load_settings, redact
from labkit.webhooks.store import Delivery, OrderStore

log = logging.getLogger("labkit.webhooks")

TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE  # 300 s, as Stripe's libraries
MAX_BODY = 512 * 1024
INSECURE_HEADER = "X-Labkit-Insecure-Demo"
INSECURE_WARNING = ("INSECURE DEMO MODE: Stripe-Signature is NOT verified; anyone who can reach this port can "
                    "create, pay or refund orders. Never run a handler like this outside a demo.")
FAULTS = ("crash-before-commit", "crash-after-commit", "error-before-commit")
FAULT_SETTING = "LABKIT_WEBHOOK_FAULT"  # test-only fault injection; unset in normal use
LISTEN_HELP = (
    "Stripe test mode needs the signing secret of the endpoint that delivers to this handler.\n"
    "On this machine, let the Stripe CLI forward test-mode events here:\n\n"
    "    stripe listen --forward-to localhost:{port}/webhook\n\n"
    "It prints 'Your webhook signing secret is whsec_…'. Put that value in .env as\n"
    "STRIPE_WEBHOOK_SECRET=whsec_… (or paste it when asked), keep `stripe listen` running,\n"
    "and trigger events with `stripe trigger payment_intent.succeeded` or `labkit trigger …`."
)


class WebhookConfigError(SettingsError):
    """The handler cannot start safely (no secret, insecure mode off the loopback, …)."""


class SecretHolder:
    """The signing secret, settable once the endpoint is registered (never printed)."""

    def __init__(self, value: str | None = None) -> None:
        self._value = value or None
        self._lock = threading.Lock()

    def set(self, value: str) -> None:
        with self._lock:
            self._value = value

    def get(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"<SecretHolder {redact(self._value)}>"


@dataclass
class Fault:
    """Test-only fault injection: die (``os._exit``) or raise around the commit, once."""

    kind: str
    event_type: str | None = None
    fired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, spec: str | None) -> "Fault | None":
        """``crash-before-commit`` or ``crash-before-commit:payment_intent.succeeded``."""
        if not spec:
            return None
        kind, _, event_type = spec.partition(":")
        if kind not in FAULTS:
            raise WebhookConfigError(f"{FAULT_SETTING} must be one of {', '.join(FAULTS)} (optionally ':<event type>'),"
                                     f" not {spec!r}.")
        return cls(kind, event_type or None)

    def hooks(self, type_: str) -> tuple[Any, Any]:
        if self.event_type and type_ != self.event_type:
            return None, None
        with self.lock:
            if self.fired:
                return None, None
            self.fired = True

        def crash() -> None:
            log.critical("fault injection: the process dies now (%s)", self.kind)
            logging.shutdown()
            os._exit(70)

        def error() -> None:
            raise RuntimeError("fault injection: a handler error before commit")

        if self.kind == "crash-before-commit":
            return crash, None
        if self.kind == "crash-after-commit":
            return None, crash
        return error, None


@dataclass
class WebhookState:
    """What the routes share; kept in ``app.extensions['labkit_webhooks']``."""

    settings: Settings
    store: OrderStore
    secret: SecretHolder
    insecure_demo: bool = False
    fault: Fault | None = None
    tolerance: int = TOLERANCE
    endpoint_id: str | None = None  # the endpoint registered with the fake Stripe, if any


def _rejection(reason_code: str, reason: str, status: int = 400):
    return {"error": {"code": reason_code, "reason": reason}}, status


def _signature_summary(header: str | None) -> str | None:
    """What the log keeps of Stripe-Signature: its timestamp and how many v1 entries (no MACs)."""
    if header is None:
        return None
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    t = next((v for k, v in parts if k.strip() == "t"), None)
    v1 = sum(1 for k, _ in parts if k.strip() == "v1")
    return f"t={t[:12] if t else '?'}, v1 x{v1}"


def _verify(state: WebhookState, raw: bytes, header: str | None) -> tuple[str, str] | None:
    """``None`` if the delivery is authentic and fresh, else ``(code, reason)``."""
    secret = state.secret.get()
    if not header:
        return "missing_signature", "no Stripe-Signature header: not sent by Stripe, refused"
    try:
        stripe.WebhookSignature.verify_header(raw, header, secret, tolerance=state.tolerance)
    except UnicodeDecodeError:
        return "invalid_body", "the body is not UTF-8 text"
    except stripe.SignatureVerificationError as exc:
        message = str(exc.user_message or exc)
        if message.startswith("Unable to extract"):
            return "malformed_signature", "Stripe-Signature is malformed (expected 't=<unix time>,v1=<hex HMAC>')"
        if message.startswith("No signatures found with expected scheme"):
            return "malformed_signature", "Stripe-Signature has no v1 signature"
        if message.startswith("No signatures found matching"):
            return ("signature_mismatch", "no v1 signature matches this body with this endpoint's secret: "
                    "forged, tampered with, or signed with another secret")
        if message.startswith("Timestamp outside"):
            t = _signature_summary(header)
            return ("stale_timestamp", f"the signature is valid but its timestamp ({t.split(',')[0]}) is more than "
                    f"{state.tolerance} s old: a replayed or badly delayed delivery")
        return "invalid_signature", "Stripe-Signature could not be verified"
    return None


def create_app(settings: Settings, store: OrderStore, secret: str | SecretHolder | None, *,
               insecure_demo: bool = False, fault: str | Fault | None = None,
               tolerance: int = TOLERANCE) -> Flask:
    """The webhook app. ``secret`` may be a :class:`SecretHolder` filled in after start-up
    (until then every delivery gets a 503, which Stripe retries)."""
    holder = secret if isinstance(secret, SecretHolder) else SecretHolder(secret)
    if insecure_demo and holder:
        raise WebhookConfigError("insecure demo mode is for running WITHOUT a secret; a secret is configured, "
                                 "so run the handler normally.")
    if not insecure_demo and not isinstance(secret, SecretHolder) and not holder:
        raise WebhookConfigError(
            "no webhook signing secret: the handler refuses to start rather than accept unsigned events. "
            "Set STRIPE_WEBHOOK_SECRET (see `labkit webhooks --help`), or run "
            "`labkit webhooks --insecure-demo` to see why that is dangerous.")
    if insecure_demo and settings.host not in ("127.0.0.1", "localhost", "::1"):
        raise WebhookConfigError(f"insecure demo mode only listens on this machine, not on {settings.host}.")
    state = WebhookState(settings, store, holder, insecure_demo,
                         fault if isinstance(fault, Fault) or fault is None else Fault.parse(fault), tolerance)

    app = Flask("labkit.webhooks")
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY)
    app.json.sort_keys = False
    app.extensions["labkit_webhooks"] = state
    if insecure_demo:
        log.warning(INSECURE_WARNING)

    @app.after_request
    def _headers(response):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if state.insecure_demo:
            response.headers[INSECURE_HEADER] = "signatures are NOT verified"
        return response

    @app.get("/")
    def index():
        return jsonify({"service": "labkit webhook handler (Part C)",
                        "routes": {"POST /webhook": "Stripe events (signed)", "GET /orders": "orders by PaymentIntent",
                                   "GET /deliveries": "recent deliveries and their outcome", "GET /health": "status"},
                        **({"warning": INSECURE_WARNING} if state.insecure_demo else {})})

    @app.get("/health")
    def health():
        return jsonify({"ok": True, "ready": bool(state.secret) or state.insecure_demo,
                        "mode": "insecure-demo" if state.insecure_demo else "verified",
                        **({"warning": INSECURE_WARNING} if state.insecure_demo else {})})

    @app.get("/orders")
    def orders():
        return jsonify(state.store.orders())

    @app.get("/deliveries")
    def deliveries():
        try:
            limit = int(request.args.get("limit", 50))
        except ValueError:
            limit = 50
        return jsonify({"deliveries": state.store.deliveries(limit)})

    @app.post("/webhook")
    def webhook():
        started = time.time()
        header = request.headers.get("Stripe-Signature")
        meta = dict(received_at=started, remote_addr=request.remote_addr, signature=_signature_summary(header))
        try:
            raw = request.get_data(cache=False)
        except RequestEntityTooLarge:
            state.store.record_delivery(Delivery(**meta), 413, "rejected", f"body over {MAX_BODY} bytes")
            return _rejection("body_too_large", f"the body is over {MAX_BODY} bytes", 413)
        meta["body_bytes"] = len(raw)

        def reject(code: str, reason: str, status: int = 400):
            claimed = _claimed(raw)
            log.warning("webhook rejected (%s): %s", code, reason)
            state.store.record_delivery(Delivery(**meta), status, "rejected", f"{code}: {reason}", *claimed)
            return _extra(_rejection(code, reason, status))

        if not state.insecure_demo:
            if not state.secret:
                state.store.record_delivery(Delivery(**meta), 503, "not_ready", "the signing secret is not set yet")
                return _rejection("not_ready", "the handler is starting; retry later", 503)
            problem = _verify(state, raw, header)
            if problem:
                return reject(*problem)
        else:
            log.warning("INSECURE DEMO: accepting a delivery without verifying its signature")
        try:
            event = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return reject("invalid_json", "the body is not JSON")
        if not (isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"].startswith("evt_")
                and isinstance(event.get("type"), str) and isinstance((event.get("data") or {}).get("object"), dict)):
            return reject("not_an_event", "the body is not a Stripe event (id evt_…, type, data.object)")

        before, after = state.fault.hooks(event["type"]) if state.fault else (None, None)
        delivery = Delivery(**meta, verified=not state.insecure_demo)
        try:
            result = state.store.process(event, delivery, before_commit=before, after_commit=after)
        except Exception as exc:  # rolled back: answer 500 so Stripe retries
            log.exception("handler failed on %s (%s); rolled back, Stripe will retry", event["id"], event["type"])
            try:
                state.store.record_delivery(delivery, 500, "error", type(exc).__name__, event["id"], event["type"])
            except Exception:
                log.exception("could not log the failed delivery")
            return _extra(({"error": {"code": "handler_error",
                                      "reason": "the handler failed and rolled back; Stripe will retry"}}, 500))
        log.info("%s %s: %s%s", result.event_id, result.type, result.outcome,
                 f" ({result.note})" if result.note else "")
        return _extra(({"received": True, "event": result.event_id, "type": result.type,
                        "outcome": result.outcome, "order": result.payment_intent, "note": result.note}, 200))

    def _extra(answer):
        body, status = answer
        if state.insecure_demo:
            body = {**body, "warning": INSECURE_WARNING}
        return jsonify(body), status

    return app


def _claimed(raw: bytes) -> tuple[str | None, str | None]:
    """The event id and type a rejected body claims to carry (unverified, for the log)."""
    try:
        body = json.loads(raw)
        if isinstance(body, dict):
            eid, typ = body.get("id"), body.get("type")
            return (eid if isinstance(eid, str) else None), (typ if isinstance(typ, str) else None)
    except (ValueError, UnicodeDecodeError):
        pass
    return None, None


# ---------------------------------------------------------------------- background (notebooks, Lab)
class WebhookServer(BackgroundServer):
    """The background server; stopping it also removes its fake-Stripe endpoint and closes the store."""

    state: WebhookState
    backend: Any = None

    def stop(self) -> None:
        state = getattr(self, "state", None)
        if state is not None and state.endpoint_id and self.backend is not None:
            try:
                self.backend.client.v1.webhook_endpoints.delete(state.endpoint_id)
            except stripe.StripeError:
                pass  # the fake may already be gone
            state.endpoint_id = None
        super().stop()
        if state is not None:
            state.store.close()


def register_endpoint(client: stripe.StripeClient, url: str) -> tuple[str, str]:
    """Register ``url`` for every event type; ``(endpoint id, signing secret)``.

    Endpoints already registered for the same URL are deleted first: their secrets are
    lost (Stripe shows a secret only at creation), so their deliveries would fail.
    """
    for old in client.v1.webhook_endpoints.list(params={"limit": 100}).auto_paging_iter():
        if old.url == url:
            client.v1.webhook_endpoints.delete(old.id)
    endpoint = client.v1.webhook_endpoints.create(params={
        "url": url, "enabled_events": ["*"], "description": "labkit webhook handler (Part C)"})
    return endpoint.id, endpoint.secret


def serve(backend, port: int = 0, host: str | None = None, *, db_path=None, secret: str | None = None,
          insecure_demo: bool = False, fault: str | None = None) -> tuple[WebhookServer, OrderStore]:
    """Start the handler in a background thread; ``(server, store)``.

    The secret is, in order: ``secret``, ``STRIPE_WEBHOOK_SECRET``, or (offline) the one the
    fake Stripe returns when this server's ``/webhook`` is registered with it. In Stripe
    test mode without a secret it raises, explaining ``stripe listen``.
    """
    settings: Settings = backend.settings
    secret = secret or settings.webhook_secret
    if not secret and not insecure_demo and not backend.offline:
        raise WebhookConfigError(LISTEN_HELP.format(port=port or settings.webhook_port))
    store = OrderStore(db_path or settings.db_path)
    holder = SecretHolder(secret)
    try:
        app = create_app(settings, store, holder, insecure_demo=insecure_demo,
                         fault=fault if fault is not None else settings.extra.get(FAULT_SETTING))
        server = WebhookServer(app, host or settings.host, port, name="webhooks")
        server.state, server.backend = app.extensions["labkit_webhooks"], backend
        server.start()
    except BaseException:
        store.close()
        raise
    if not holder and not insecure_demo:
        try:
            server.state.endpoint_id, whsec = register_endpoint(backend.client, server.url + "/webhook")
        except BaseException:
            server.stop()
            raise
        holder.set(whsec)
    return server, store


# ---------------------------------------------------------------------- labkit webhooks
def add_webhooks_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None, help="port (default LABKIT_WEBHOOK_PORT or 5001)")
    parser.add_argument("--host", default=None, help="interface (default LABKIT_HOST or 127.0.0.1)")
    parser.add_argument("--db", default=None, help="SQLite file for orders (default LABKIT_DB or out/labkit.db)")
    parser.add_argument("--insecure-demo", action="store_true",
                        help="accept UNSIGNED events (demonstration only; every response is flagged)")
    parser.epilog = ("The signing secret: STRIPE_WEBHOOK_SECRET if set; offline, the endpoint is registered with "
                     "the fake Stripe (LABKIT_STRIPE_API_BASE, else the one at 127.0.0.1:12111, started if "
                     "needed); in Stripe test mode, run `stripe listen --forward-to localhost:5001/webhook` and "
                     "use the secret it prints.")


def _ask_for_secret(port: int) -> str | None:
    print(LISTEN_HELP.format(port=port), file=sys.stderr)
    if not sys.stdin.isatty():
        return None
    value = getpass.getpass("\nPaste the whsec_… secret from `stripe listen` (input hidden): ").strip()
    if not value.startswith("whsec_"):
        print("labkit webhooks: that is not a whsec_… secret.", file=sys.stderr)
        return None
    return value


def run_webhooks(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("waitress").setLevel(logging.WARNING)
    logging.getLogger("stripe").setLevel(logging.WARNING)
    settings = load_settings()
    port = settings.webhook_port if args.port is None else args.port
    settings = settings.with_(host=args.host or settings.host, webhook_port=port,
                              db_path=args.db if args.db else settings.db_path)
    from labkit.backend import connect_shared

    backend = None
    secret = settings.webhook_secret
    source = "STRIPE_WEBHOOK_SECRET"
    if args.insecure_demo:
        if secret:
            raise WebhookConfigError("--insecure-demo is for running without a secret, and STRIPE_WEBHOOK_SECRET "
                                     "is set: run without --insecure-demo.")
        source = "NONE: insecure demo"
    elif not secret and settings.offline:
        backend = connect_shared(settings, start=True)
        source = f"registered with the fake Stripe at {backend.api_base}"
    elif not secret:
        secret = _ask_for_secret(port)
        if not secret:
            print("labkit webhooks: no webhook secret, so the handler does not start (it never accepts "
                  "unsigned events).", file=sys.stderr)
            return 2
        source = "pasted from `stripe listen`"
    fault = settings.extra.get(FAULT_SETTING)
    store = OrderStore(settings.db_path)
    holder = SecretHolder(secret)
    try:
        app = create_app(settings, store, holder if not secret else secret, insecure_demo=args.insecure_demo,
                         fault=fault)
        server = WebhookServer(app, settings.host, port, name="webhooks")
        server.state, server.backend = app.extensions["labkit_webhooks"], backend
        try:
            server.start()
        except OSError as exc:
            print(f"labkit webhooks: cannot listen on {settings.host}:{port}: {exc.strerror or exc}. "
                  "Choose another port with --port.", file=sys.stderr)
            return 1
        if backend is not None:
            server.state.endpoint_id, whsec = register_endpoint(backend.client, server.url + "/webhook")
            holder.set(whsec)
        print(f"Webhook handler listening on {server.url}/webhook", flush=True)
        print(f"  signing secret  {redact(holder.get()) if holder else '(none)'}  ({source})")
        print(f"  orders          {server.url}/orders      deliveries  {server.url}/deliveries")
        print(f"  database        {settings.db_path}")
        if args.insecure_demo:
            print("\n  !!! " + INSECURE_WARNING + " !!!\n")
        if fault:
            print(f"  FAULT INJECTION {fault} (test only: {FAULT_SETTING})")
        print("  Ctrl-C to stop.", flush=True)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `kill` stops it as cleanly as Ctrl-C
        try:
            wait_while_running(server)  # Ctrl-C within a fraction of a second on every OS
        except KeyboardInterrupt:
            print("\nWebhook handler stopped.")
        finally:
            server.stop()
    finally:
        store.close()
        if backend is not None:
            backend.close()
    return 0


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """``python webhook_handler.py [--port 5001] [--insecure-demo]``."""
    parser = argparse.ArgumentParser(prog="webhook_handler.py", description="Part C webhook handler (labkit)")
    add_webhooks_arguments(parser)
    try:
        return run_webhooks(parser.parse_args(argv))
    except SettingsError as exc:
        print(f"webhook_handler.py: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
