"""What each event type does to an order: pure functions, no database, no HTTP.

An event is turned into an :class:`Effect` (which PaymentIntent, what happened), and
:func:`merge` folds an effect into an order. The merge is built so that the final order
does not depend on the order the events arrive in: being paid, refunded or disputed
only ever moves forward (a flag set once stays set, a refunded amount only grows), and
the failure details kept are those of the newest failure. So a late, older event never
undoes a newer state: a ``payment_failed`` arriving after ``succeeded`` leaves the order
paid and is noted as an earlier attempt.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Currencies whose amounts have no minor unit (Stripe's list, the ones the lab may meet).
ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "pyg", "isk", "ugx", "xaf", "xof"}

HANDLED_TYPES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.dispute.created",
    "charge.refunded",
)


@dataclass(frozen=True)
class Effect:
    """What one event says about one order."""

    payment_intent: str
    kind: str  # "paid" | "failed" | "disputed" | "refunded"
    created: int  # the event's creation time (seconds)
    event_id: str
    fields: dict[str, Any] = field(default_factory=dict)


def _product(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return None
    return metadata.get("product_name") or metadata.get("product") or None


def effect_of(event: dict[str, Any]) -> Effect | None:
    """The effect of a verified event, or ``None`` for a type this handler does not act on."""
    type_ = event.get("type")
    obj = (event.get("data") or {}).get("object") or {}
    created = int(event.get("created") or 0)
    eid = str(event.get("id"))
    if type_ == "payment_intent.succeeded":
        return Effect(obj["id"], "paid", created, eid, {
            "amount_minor": obj.get("amount_received") or obj.get("amount"),
            "currency": obj.get("currency"),
            "product": _product(obj.get("metadata")),
            "charge": obj.get("latest_charge") if isinstance(obj.get("latest_charge"), str) else None,
        })
    if type_ == "payment_intent.payment_failed":
        error = obj.get("last_payment_error") or {}
        return Effect(obj["id"], "failed", created, eid, {
            "amount_minor": obj.get("amount"), "currency": obj.get("currency"),
            "product": _product(obj.get("metadata")),
            "failure_code": error.get("code"), "decline_code": error.get("decline_code"),
            "failure_message": error.get("message"),
        })
    if type_ == "charge.dispute.created":
        pi = obj.get("payment_intent")
        if not pi:
            return None
        return Effect(pi, "disputed", created, eid, {
            "amount_minor": obj.get("amount"), "currency": obj.get("currency"),
            "dispute": obj.get("id"), "dispute_reason": obj.get("reason"),
            "charge": obj.get("charge") if isinstance(obj.get("charge"), str) else None,
        })
    if type_ == "charge.refunded":
        pi = obj.get("payment_intent")
        if not pi:
            return None
        return Effect(pi, "refunded", created, eid, {
            "amount_minor": obj.get("amount_captured") or obj.get("amount"), "currency": obj.get("currency"),
            "product": _product(obj.get("metadata")), "charge": obj.get("id"),
            "refunded_minor": int(obj.get("amount_refunded") or 0), "fully_refunded": bool(obj.get("refunded")),
        })
    return None


def new_order(payment_intent: str) -> dict[str, Any]:
    return {
        "payment_intent": payment_intent, "amount_minor": None, "currency": None, "product": None,
        "charge": None, "paid": False, "failures": 0, "failure_code": None, "decline_code": None,
        "failure_message": None, "failure_at": None, "refunded_minor": 0, "fully_refunded": False, "disputed": False,
        "dispute": None, "dispute_reason": None,
    }


def status_of(order: dict[str, Any]) -> str:
    """One word for the order, most urgent first."""
    if order["disputed"]:
        return "disputed"
    if order["fully_refunded"]:
        return "refunded"
    if order["refunded_minor"]:
        return "partially_refunded"
    if order["paid"]:
        return "paid"
    if order["failures"]:
        return "payment_failed"
    return "pending"


def fulfillment_of(order: dict[str, Any]) -> str | None:
    """What the warehouse should do: ship, hold for the dispute, or cancel."""
    status = status_of(order)
    return {"paid": "queued", "partially_refunded": "queued", "disputed": "on_hold",
            "refunded": "canceled"}.get(status)


def merge(order: dict[str, Any] | None, effect: Effect) -> tuple[dict[str, Any], str]:
    """Fold ``effect`` into ``order`` (a copy is returned) and say what changed, in words."""
    o = dict(order) if order is not None else new_order(effect.payment_intent)
    f = effect.fields
    before = status_of(o)

    def fill(*names: str) -> None:  # facts any event may supply while the order lacks them
        for name in names:
            if o.get(name) is None and f.get(name) is not None:
                o[name] = f[name]

    if effect.kind == "paid":
        # The PaymentIntent's own success is authoritative for what was bought and paid.
        for name in ("amount_minor", "currency", "product", "charge"):
            if f.get(name) is not None:
                o[name] = f[name]
        o["paid"] = True
        note = "paid; fulfillment queued" if before in ("pending", "payment_failed") else \
            f"payment confirmed; stays {status_of(o)}"
    elif effect.kind == "failed":
        fill("amount_minor", "currency", "product")
        o["failures"] += 1
        stamp = [effect.created, effect.event_id]
        if o["failure_at"] is None or stamp > list(o["failure_at"]):
            o.update(failure_code=f.get("failure_code"), decline_code=f.get("decline_code"),
                     failure_message=f.get("failure_message"), failure_at=stamp)
        note = (f"payment failed ({f.get('failure_code')})" if not o["paid"]
                else f"an earlier attempt failed ({f.get('failure_code')}); the order stays {status_of(o)}")
    elif effect.kind == "disputed":
        fill("amount_minor", "currency", "charge")
        o.update(disputed=True, dispute=f.get("dispute"), dispute_reason=f.get("dispute_reason"))
        note = f"disputed ({f.get('dispute_reason')}); fulfillment on hold"
    elif effect.kind == "refunded":
        fill("amount_minor", "currency", "product", "charge")
        o["refunded_minor"] = max(o["refunded_minor"], int(f.get("refunded_minor") or 0))
        o["fully_refunded"] = o["fully_refunded"] or bool(f.get("fully_refunded"))
        note = "refunded; fulfillment canceled" if o["fully_refunded"] else "partially refunded"
        if status_of(o) == "disputed":
            note += "; the dispute still decides the status"
    else:  # pragma: no cover - effect_of only builds the kinds above
        raise ValueError(f"unknown effect kind {effect.kind!r}")
    return o, note


def major_units(amount_minor: int | None, currency: str | None) -> float | None:
    """The amount as the handout shows it (dollars, not cents)."""
    if amount_minor is None:
        return None
    return float(amount_minor) if (currency or "").lower() in ZERO_DECIMAL else amount_minor / 100
