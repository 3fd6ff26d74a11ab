"""Kept-alive HTTP/1.1 calls between the kit's processes on this machine, on ``http.client``.

The kit's one client for talking to its own servers: the fake Stripe delivers webhooks with it,
and offline the ``stripe`` package reaches the fake through it (:mod:`labkit.stripe_transport`).
Compared with ``requests`` it reads no proxy settings, no ``.netrc`` and no CA bundle on each call
(about 1.5 ms of CPU per call here, a third of what the checkout spends on a payment; see
bench/bench_checkout.py), and a proxy configured for the internet can never capture 127.0.0.1.

One :class:`KeptAlive` holds one connection (one thread's worth); a connection the server closed
while idle is noticed before it is reused, and a call that fails on a reused connection is sent
once more on a fresh one (the server never read it; Stripe's library puts an idempotency key on
every POST, and webhook deliveries are at-least-once anyway).
"""
from __future__ import annotations

import http.client
import select
from dataclasses import dataclass
from urllib.parse import urlsplit

CALL_ERRORS = (OSError, http.client.HTTPException)  # what a failed call raises (a timeout is an OSError)
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Did the server close this idle connection? (An idle socket that is readable is at EOF.)"""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class KeptAlive:
    """One kept-alive connection, reopened when the origin changes or the server closed it."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._origin: tuple[str, str, int | None] | None = None

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, limit: int | None = None) -> Reply:
        """Send one request and read its answer (at most ``limit`` bytes of body, if given)."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        reused = self._conn is not None and self._origin == origin and not _dropped(self._conn)
        if not reused:
            self._open(origin)
        try:
            return self._send(method, target, body, headers or {}, limit)
        except STALE:
            self.close()
            if not reused:
                raise
        except BaseException:
            self.close()
            raise
        self._open(origin)
        try:
            return self._send(method, target, body, headers or {}, limit)
        except BaseException:
            self.close()
            raise

    def _open(self, origin: tuple[str, str, int | None]) -> None:
        self.close()
        cls = http.client.HTTPSConnection if origin[0] == "https" else http.client.HTTPConnection
        self._conn, self._origin = cls(origin[1], origin[2], timeout=self.timeout), origin

    def _send(self, method: str, target: str, body: bytes | None, headers: dict[str, str],
              limit: int | None) -> Reply:
        assert self._conn is not None
        self._conn.request(method, target, body=body, headers=headers)
        resp = self._conn.getresponse()
        data = resp.read(limit) if limit is not None else resp.read()
        if resp.will_close or (limit is not None and not resp.isclosed()):
            self.close()  # the server said close, or we left part of the body unread
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
