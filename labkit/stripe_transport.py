"""Offline, the ``stripe`` package reaches the fake Stripe over :mod:`labkit.loopback_http`.

Stripe's library sends every call through an ``HTTPClient`` (``requests`` when it is installed);
it lets a program choose another one (``stripe.default_http_client``, ``StripeClient(http_client=)``).
Offline, the kit chooses this one for the student's servers and for itself: the same requests,
headers, idempotency keys and retries (the library decides those above this layer), sent over a
kept-alive ``http.client`` connection per thread. In Stripe test mode nothing here is used: the
library's own client talks to api.stripe.com, proxies and certificates included.

Why: profiling bench/bench_checkout.py showed ``requests`` spending about 1.5 ms of CPU per call on
proxy, ``.netrc`` and certificate lookups that a call to 127.0.0.1 never needs; and on a laptop
with an ``HTTP_PROXY`` but no ``NO_PROXY``, ``requests`` would send the fake's 127.0.0.1 calls
to the proxy.
"""
from __future__ import annotations

import io
import threading
from typing import Any, Mapping
from urllib.parse import urlsplit

import stripe

from labkit.loopback_http import CALL_ERRORS, KeptAlive


class LoopbackHTTPClient(stripe.HTTPClient):
    """A ``stripe.HTTPClient`` for a Stripe API on this machine: one kept-alive connection per thread."""

    name = "labkit-loopback"

    def __init__(self, timeout: float = 80.0) -> None:  # 80 s: the library's own default
        super().__init__()
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> KeptAlive:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = KeptAlive(self.timeout)
        return conn

    def _call(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any):
        body = post_data.encode("utf-8") if isinstance(post_data, str) else post_data
        try:
            reply = self._connection().request(method.upper(), url, body, dict(headers or {}))
        except CALL_ERRORS as exc:
            raise stripe.APIConnectionError(f"Could not reach the Stripe API at {urlsplit(url).netloc} "
                                            f"({type(exc).__name__}: {exc}).", should_retry=True) from None
        return reply

    def request(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
                *, _usage: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        reply = self._call(method, url, headers, post_data)
        return reply.body, reply.status, reply.headers

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
                       *, _usage: Any = None) -> tuple[io.BytesIO, int, Mapping[str, str]]:
        reply = self._call(method, url, headers, post_data)
        return io.BytesIO(reply.body), reply.status, reply.headers

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def use_loopback_transport() -> LoopbackHTTPClient:
    """Send this process's Stripe calls (module-level ``stripe.X.create`` and new ``StripeClient``s)
    through one :class:`LoopbackHTTPClient`. Only for an API on this machine (the fake)."""
    client = LoopbackHTTPClient()
    stripe.default_http_client = client
    try:  # StripeClient(...) makes its own client through this function unless given one
        import stripe._stripe_client as sc

        sc.new_default_http_client = lambda *args, **kwargs: client
    except (ImportError, AttributeError):
        pass
    return client
