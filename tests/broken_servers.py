"""Deliberately broken merchant servers, each with one mistake the PCI checks must catch.

Small Flask apps (factories, nothing at import time). They are for tests only: never copy them.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from flask import Flask, Response, request

SELF_HOSTED_PAGE = """<!DOCTYPE html>
<html><head><title>Broken checkout</title></head>
<body>
<form id="payment-form">
  <input id="cardholder-name" name="cardholder-name">
  <input name="cardnumber" autocomplete="cc-number">
  <input name="exp-date" autocomplete="cc-exp">
  <input name="cvc" autocomplete="cc-csc">
  <button id="submit-btn" type="submit">Pay</button>
</form>
<script src="/app.js"></script>
</body></html>"""

SELF_HOSTED_JS = """
document.getElementById('payment-form').addEventListener('submit', function (e) {
  e.preventDefault();
  var f = e.target;
  fetch('/pay', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({card: f.cardnumber.value, exp: f['exp-date'].value, cvc: f.cvc.value})});
});
"""


def logging_checkout(log_path: Path) -> Flask:
    """A checkout that draws its own card inputs, posts the card to itself, and logs the request body."""
    app = Flask("broken.logging_checkout")
    log = logging.getLogger(f"broken.checkout.{id(app)}")
    handler = logging.FileHandler(log_path)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    app.extensions["broken_log_handler"] = handler

    @app.get("/")
    def index():
        return SELF_HOSTED_PAGE

    @app.get("/app.js")
    def script():
        return Response(SELF_HOSTED_JS, mimetype="application/javascript")

    @app.post("/pay")
    def pay():
        log.info("payment request: %s", request.get_data(as_text=True))  # the mistake
        handler.flush()
        return {"ok": True}

    return app


def no_csp_checkout(script_host: str = "https://cdn.example-analytics.test") -> Flask:
    """A page that loads a third-party script and sends no Content-Security-Policy."""
    app = Flask("broken.no_csp")

    @app.get("/")
    def index():
        return (f'<!DOCTYPE html><html><head><script src="https://js.stripe.com/v3/"></script>'
                f'<script src="{script_host}/track.js"></script></head><body><div id="card-element"></div>'
                f'<script>var x = 1;</script></body></html>')

    return app


def loose_csp_checkout() -> Flask:
    """A page whose CSP lets any inline or remote script run."""
    app = Flask("broken.loose_csp")

    @app.get("/")
    def index():
        resp = Response('<!DOCTYPE html><html><head><script src="https://js.stripe.com/v3/"></script></head>'
                        '<body></body></html>')
        resp.headers["Content-Security-Policy"] = "default-src * 'unsafe-inline' 'unsafe-eval'"
        return resp

    return app


def secret_in_page_checkout(secret_key: str) -> Flask:
    """A page that renders the secret key into its script (the classic copy-paste mistake)."""
    app = Flask("broken.secret_in_page")

    @app.get("/")
    def index():
        return ('<!DOCTYPE html><html><head><script src="/config.js"></script></head><body>'
                '<div id="card-element"></div></body></html>')

    @app.get("/config.js")
    def config():
        return Response(f'var stripe = Stripe("{secret_key}");', mimetype="application/javascript")

    return app


def debug_checkout() -> Flask:
    """A Flask app with debug on (the Werkzeug debugger wraps it, as app.run(debug=True) does)."""
    app = Flask("broken.debug")
    app.debug = True

    @app.get("/")
    def index():
        return "<html><body>shop</body></html>"

    @app.get("/boom")
    def boom():
        raise RuntimeError("an unhandled error")

    return app


def unsigned_webhooks() -> Flask:
    """A webhook handler that trusts any JSON body (no Stripe-Signature check) and records it."""
    app = Flask("broken.unsigned_webhooks")
    received: list[dict] = []
    app.extensions["received"] = received

    @app.post("/webhook")
    def webhook():
        received.append(json.loads(request.get_data()))
        return {"received": True}

    return app


class WerkzeugServer:
    """Werkzeug's development server in a thread: what ``app.run(debug=True)`` serves, with the
    debugger (BackgroundServer refuses debug apps, rightly)."""

    def __init__(self, app: Flask, debugger: bool = True) -> None:
        from werkzeug.debug import DebuggedApplication
        from werkzeug.serving import make_server

        wsgi = DebuggedApplication(app, evalex=True) if debugger else app
        self._server = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> "WerkzeugServer":
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
