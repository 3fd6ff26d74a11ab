"""An offline fake of Stripe test mode: the REST API, signed webhooks, and a fake Stripe.js.

>>> from labkit.fakestripe import FakeStripe
>>> with FakeStripe() as fake:                       # a free port on 127.0.0.1
...     client = stripe.StripeClient("sk_test_anything", base_addresses={"api": fake.url})
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.fakestripe.api import FakeStripeApp, create_app
from labkit.fakestripe.webhooks import DEFAULT_RETRY_SCHEDULE
from labkit.kit_server import BackgroundServer

__all__ = ["FakeStripe", "FakeStripeApp", "RemoteFake", "authenticate_3ds", "create_app"]


def authenticate_3ds(client: Any, payment_intent: str, result: str = "complete", **params: Any) -> Any:
    """Finish a pending 3D Secure challenge from code, as the challenge's Complete or Fail
    button would: ``result`` is ``"complete"`` or ``"fail"``. Returns the PaymentIntent.

    Only the fake Stripe has this (``POST /v1/test_helpers/payment_intents/{id}/authenticate``);
    in Stripe test mode the challenge is finished in the browser.
    """
    resp = client.raw_request("post", f"/v1/test_helpers/payment_intents/{payment_intent}/authenticate",
                              result=result, **params)
    return client.deserialize(resp, api_mode="V1")


class FakeStripe:
    """The fake Stripe app served from a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, db_path: str | Path | None = None,
                 retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE, delivery_timeout: float = 5.0,
                 allow_remote_webhooks: bool = False, allowed_hosts: tuple[str, ...] = ()) -> None:
        self.app = create_app(db_path=db_path, retry_schedule=retry_schedule, delivery_timeout=delivery_timeout,
                              allow_remote_webhooks=allow_remote_webhooks, allowed_hosts=allowed_hosts)
        # The app checks the Host itself (with allowed_hosts); the server's own check takes the same names.
        self.server = BackgroundServer(self.app, host, port, name="fake Stripe",
                                       allowed_hosts=None if not allowed_hosts else allowed_hosts)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def js_url(self) -> str:
        return self.server.url + "/v3/"

    def start(self) -> "FakeStripe":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.app.close()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Wait until every delivery due now has been attempted (retries later are not waited for)."""
        return self.app.deliverer.wait_idle(timeout)

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.app.engine.deliveries)

    def __enter__(self) -> "FakeStripe":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<FakeStripe {self.url if self.server.running else 'stopped'}>"


class RemoteFake:
    """The same test controls for a fake Stripe running in another process (``labkit demo``
    shares one with every notebook), over its HTTP extensions under ``/v1/labkit/``."""

    def __init__(self, url: str, secret_key: str) -> None:
        import requests

        self.url = url.rstrip("/")
        self._session = requests.Session()
        self._session.trust_env = False  # it is on this machine: never through a proxy
        self._session.headers["Authorization"] = f"Bearer {secret_key}"

    @property
    def js_url(self) -> str:
        return self.url + "/v3/"

    def _get(self, path: str) -> dict[str, Any]:
        resp = self._session.get(self.url + path, timeout=10)
        if resp.status_code == 404:
            raise RuntimeError(f"{self.url} is not the kit's fake Stripe (no {path}): "
                               "unset LABKIT_STRIPE_API_BASE to let labkit start its own")
        resp.raise_for_status()
        return resp.json()

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._get("/v1/labkit/webhook_queue")["due_now"] == 0:
                return True
            time.sleep(0.05)
        return False

    def deliveries(self) -> list[dict[str, Any]]:
        return list(reversed(self._get("/v1/labkit/deliveries")["data"]))

    def stop(self) -> None:
        """Not ours to stop: whoever started it does."""
        self._session.close()

    def __repr__(self) -> str:
        return f"<RemoteFake {self.url}>"
