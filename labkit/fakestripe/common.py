"""What every resource module of the fake Stripe shares: constants, the per-call context,
and the parameter checks (integers, booleans, strings, metadata) with Stripe's 400 shapes."""
from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from labkit.fakestripe import cards as cardtable
from labkit.fakestripe.errors import invalid, unknown_param
from labkit.fakestripe.strings import check_text

API_VERSION = "2026-10-28.endive"  # the version stripe-python 16.1 pins
ACCOUNT_ID = "acct_1LabkitOfflineFake"

# Smallest amount per currency (in the currency's smallest unit), from Stripe's docs.
MIN_AMOUNT = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "jpy": 50, "chf": 50, "mxn": 1000}
MAX_AMOUNT = 99999999
CARD_FEE_PERCENT, CARD_FEE_FIXED = 2.9, 30  # Stripe US standard card pricing, stripe.com/pricing
DISPUTE_FEE = 1500  # Stripe US dispute fee, $15.00 (stripe.com/pricing; not verified 2026-11-26)

# Metadata limits, docs.stripe.com/api/metadata (checked 2026-11-26).
METADATA_KEYS, METADATA_KEY_LEN, METADATA_VALUE_LEN = 50, 40, 500

EVENT_TYPES = {
    "payment_intent.created", "payment_intent.requires_action", "payment_intent.processing",
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
    "payment_intent.amount_capturable_updated",
    "charge.succeeded", "charge.failed", "charge.captured", "charge.updated", "charge.refunded",
    "charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.updated", "charge.dispute.closed",
    "refund.created", "refund.updated", "payment_method.created", "payment_method.updated",
    "checkout.session.completed", "checkout.session.expired", "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
}

_INTEGER = re.compile(r"-?[0-9]{1,15}")  # ASCII digits only: "²" and Arabic-Indic digits are not numbers


@dataclass
class Ctx:
    """Per-request facts the resources need, and the deliveries to queue once the call is committed."""

    request_id: str
    idempotency_key: str | None = None
    base_url: str = ""
    publishable: bool = False  # the caller used a publishable key (the browser)
    outbox: list[tuple[str, str, int | None]] = field(default_factory=list)  # (endpoint, event, job id)


def now() -> int:
    return int(time.time())


def as_int(value: Any, param: str, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not _INTEGER.fullmatch(str(value).strip()):
        raise invalid(f"Invalid integer: {str(value)[:40]}", param, "parameter_invalid_integer")
    n = int(str(value).strip())
    if lo is not None and n < lo:
        raise invalid(f"This value must be greater than or equal to {lo}.", param, "parameter_invalid_integer")
    if hi is not None and n > hi:
        raise invalid(f"This value must be less than or equal to {hi}.", param, "parameter_invalid_integer")
    return n


def as_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(f"Invalid boolean: {str(value)[:40]}", param, "parameter_invalid_boolean")


def as_str(value: Any, param: str, empty_ok: bool = False) -> str:
    """A string parameter (an id, a cursor, a URL): a hash or an array is a 400, not a crash."""
    if not isinstance(value, str) or (not value and not empty_ok):
        raise invalid(f"Invalid string: {param} must be a string", param, "parameter_invalid_string")
    return value


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {param} must be a hash", param, "parameter_invalid_object")
    return value


def check_params(params: dict[str, Any], allowed: set[str] | frozenset[str], prefix: str = "") -> None:
    for key in params:
        if key not in allowed:
            raise unknown_param(f"{prefix}[{key}]" if prefix else key)


def str_or_none(params: dict[str, Any], key: str) -> str | None:
    """A string parameter, or None when absent or empty (unset); checked as Stripe checks it (strings.RULES)."""
    if key not in params or params[key] in ("", None):
        return None

    return check_text(key, as_str(params[key], key))


def metadata(raw: Any, current: dict[str, str] | None = None) -> dict[str, str]:
    result = dict(current or {})
    if raw in ("", None):
        return {} if raw == "" else result
    if not isinstance(raw, dict):
        raise invalid("Invalid object", "metadata", "parameter_invalid_object")
    for key, value in raw.items():
        if len(key) > METADATA_KEY_LEN:
            raise invalid(f"Metadata keys can have up to {METADATA_KEY_LEN} characters: {key[:60]}",
                          f"metadata[{key[:60]}]", "parameter_invalid_string")
        if value in ("", None):
            result.pop(key, None)
            continue
        if not isinstance(value, str):
            raise invalid("Invalid string: metadata values must be strings", f"metadata[{key}]",
                          "parameter_invalid_string")
        if len(value) > METADATA_VALUE_LEN:
            raise invalid(f"Metadata values can have up to {METADATA_VALUE_LEN} characters, but you passed in a "
                          f"value that is {len(value)} characters.", f"metadata[{key}]", "parameter_invalid_string")
        result[key] = value
    if len(result) > METADATA_KEYS:
        raise invalid(f"Metadata can have up to {METADATA_KEYS} keys.", "metadata", "parameter_invalid_object")
    return result


def fingerprint(number: str) -> str:
    return hashlib.sha256(("labkit:" + number).encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _cards_by_fingerprint() -> dict[str, cardtable.TestCard]:
    return {fingerprint(c.number): c for c in cardtable.all_cards()}


def card_of(pm: dict[str, Any]) -> cardtable.TestCard | None:
    """The test card behind a PaymentMethod (found by its fingerprint; the number is not kept)."""
    return _cards_by_fingerprint().get(pm["card"]["fingerprint"])


def without_secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A webhook endpoint as listed and retrieved: the signing secret is shown only at creation."""
    return {k: v for k, v in obj.items() if k != "secret"}
