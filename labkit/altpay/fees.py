"""The Part B test payments priced with each method's fees (amounts in integer cents).

USD only (payments in other currencies are left out); cents become dollars through
:mod:`labkit.money`.
"""
from __future__ import annotations

import math

import pandas as pd

from labkit.altpay.data import AltPayData, load_data
from labkit.money import to_major


def as_payments(frame, *, amount: str = "amount", currency: str = "currency", status: str = "status") -> pd.DataFrame:
    """Any table of payments (a DataFrame or a list of dicts such as PaymentIntents) as the
    frame :func:`card_fee_baseline` takes: ``amount`` (int cents), ``currency``, ``status``."""
    df = pd.DataFrame(frame)
    missing = [c for c in (amount, currency, status) if c not in df.columns]
    if missing:
        raise ValueError(f"payments table lacks column(s) {missing}; it has {list(df.columns)}")
    out = pd.DataFrame({
        "amount": df[amount].astype("int64"),
        "currency": df[currency].astype(str).str.lower(),
        "status": df[status].astype(str),
    })
    return out


def card_fee_baseline(payments: pd.DataFrame, *, data: AltPayData | None = None) -> pd.DataFrame:
    """Fees every method would charge on the ``succeeded`` USD payments of ``payments``
    (columns ``amount`` in cents, ``currency``, ``status``), payment by payment: a percentage
    of the amount plus the fixed fee per payment. ``attrs['ignored']`` counts the rows left
    out (not succeeded, or not USD)."""
    data = data or load_data()
    p = as_payments(payments)
    counted = p[(p["status"] == "succeeded") & (p["currency"] == "usd")]
    n, volume_cents = len(counted), int(counted["amount"].sum())
    rows = []
    for method_id, m in data.methods.iterrows():
        fee_cents = sum(
            _stripe_round(a * float(m["fee_pct"]) / 100 + float(m["fee_fixed_usd"]) * 100) for a in counted["amount"]
        )
        rows.append({"method_id": method_id, "method": m["method"], "group": m["group"],
                     "payments": n, "volume_usd": to_major(volume_cents), "fee_usd": to_major(fee_cents),
                     "fee_share": fee_cents / volume_cents if volume_cents else float("nan")})
    out = pd.DataFrame(rows).set_index("method_id")
    out["vs_card_usd"] = (out["fee_usd"] - out.loc["card", "fee_usd"]).round(2)
    out.attrs["ignored"] = int(len(p) - n)
    return out


def _stripe_round(cents: float) -> int:
    """Round a fee to whole cents, halves up (fees are positive)."""
    return int(math.floor(cents + 0.5))

