"""Stripe's webhook signature, in one place: ``Stripe-Signature: t=<unix time>,v1=<hex HMAC>``.

The v1 signature is HMAC-SHA256, keyed with the endpoint's ``whsec_…`` secret, of the
bytes ``f"{t}."`` followed by the exact request body (docs.stripe.com/webhooks, "Verify
signatures manually"; checked against stripe-python 16.1.0's ``stripe/_webhook.py``,
2026-11-26). Everything in the kit that signs a payload (the fake Stripe's deliveries,
``labkit trigger``, the tests) builds the header here; verifying is left to the ``stripe``
package's ``Webhook.construct_event``, as a student's handler does.
"""
from __future__ import annotations

import hashlib
import hmac
import time

__all__ = ["compute_signature", "signature_header", "parse_header"]


def _bytes(payload: bytes | str) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def compute_signature(payload: bytes | str, secret: str, timestamp: int) -> str:
    """The hex v1 signature of ``payload`` signed at ``timestamp`` with ``secret``."""
    signed = f"{int(timestamp)}.".encode() + _bytes(payload)
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``: ``t=…,v1=…`` (now, unless given)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={compute_signature(payload, secret, t)}"


def parse_header(header: str) -> tuple[int | None, list[str]]:
    """``"t=1,v1=ab,v0=cd,v1=ef"`` → ``(1, ["ab", "ef"])``: the timestamp (None if absent or not a
    number) and every v1 signature, in order. Unknown schemes are ignored, as Stripe's libraries do."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in (header or "").split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    return timestamp, signatures
