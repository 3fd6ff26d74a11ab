"""The figures a Part E text should quote, for the student's own assumptions.

:func:`figures_for` gives, for a retailer and any overrides, the key figures as plain numbers
(JSON-ready): per method the base extra gross profit a year and its low / high range, the two
recommended methods, the mobile-share range and where the recommendation turns, and the
assumptions behind them with their sources. A checker compares a student's text
(``answers/part_e.md``) with these; the solution edition's model answer
(:mod:`labkit.altpay.writeup`) quotes them. It is pure: it reads the data files and writes nothing.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from labkit.altpay.data import GROUPS, AltPayData, load_data
from labkit.altpay.model import compare, naive_estimate, recommend
from labkit.altpay.retailer import Retailer, conversion_range, derived_mobile_revenue_share, mobile_share_range


def _method_figures(t: pd.DataFrame) -> dict[str, dict]:
    cols = ("method", "group", "low", "base", "high", "lift_low", "lift_base", "lift_high", "adoption",
            "fee_pct", "fee_fixed", "break_even_lift", "best_in_group", "recommended")
    return {mid: {c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in cols}
            for mid, row in t.iterrows()}


def _switch_share(r: Retailer, picks: list[str], end: float, overrides, data) -> float | None:
    """The mobile share between r's and ``end`` where the recommendation changes, or None."""
    def order(s: float) -> list[str]:
        return recommend(compare(r.with_(mobile_revenue_share=s), overrides=overrides, data=data))

    if order(end) == picks:
        return None
    lo, hi = r.mobile_revenue_share, end
    for _ in range(16):  # to about 0.001 of a percentage point
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if order(mid) == picks else (lo, mid)
    return (lo + hi) / 2


def _assumptions(r: Retailer, data: AltPayData, lifts: dict[str, tuple]) -> dict[str, dict]:
    card = data.methods.loc["card"]
    cite = lambda key: str(data.row(key, "retailer")["cite"])  # noqa: E731
    return {
        "mobile_revenue_share": {"value": r.mobile_revenue_share, "cite": cite("mobile_revenue_share"),
                                 "source": data.source("mobile_revenue_share", "retailer")},
        "mobile_conversion_factor": {"value": r.mobile_conversion_factor, "cite": cite("mobile_conversion_factor"),
                                     "source": data.source("mobile_conversion_factor", "retailer"),
                                     "range": conversion_range(data)},
        "mobile_basket_factor": {"value": r.mobile_basket_factor, "cite": cite("mobile_basket_factor"),
                                 "source": data.source("mobile_basket_factor", "retailer")},
        "gross_margin": {"value": r.gross_margin, "cite": cite("gross_margin"),
                         "source": data.source("gross_margin", "retailer")},
        "card_fee": {"value": (float(card["fee_pct"]), float(card["fee_fixed_usd"])),
                     "cite": f"Stripe pricing, {int(card['fee_year'])}", "source": str(card["fee_source"])},
        "lift": {"value": lifts, "cite": str(data.row("lift", "bnpl")["cite"]),
                 "source": data.source("lift", "bnpl")},
    }


def _at_conversion_ends(r: Retailer, data: AltPayData) -> dict[str, float]:
    lo_c, hi_c = conversion_range(data)
    t, k = r.mobile_traffic_share, r.mobile_basket_factor
    return {"at_conversion_low": derived_mobile_revenue_share(t, k, lo_c),
            "at_conversion_high": derived_mobile_revenue_share(t, k, hi_c)}


def figures_for(retailer: Retailer | None = None, *, overrides: Mapping[str, Mapping] | None = None,
                data: AltPayData | None = None) -> dict:
    """The key figures a Part E text should quote, for these assumptions. Dollars are plain
    floats a year (round them yourself: the model answer rounds to $1k); shares are fractions.

    Keys (stable): ``retailer`` (revenue, mobile_traffic_share, mobile_basket_factor,
    mobile_conversion_factor, mobile_revenue_share, gross_margin, aov); ``methods``
    (method id → method, group, low, base, high, lift_low/base/high, adoption, fee_pct,
    fee_fixed, break_even_lift, best_in_group, recommended); ``recommended`` (the two method
    ids, best first) and ``recommended_names``; ``mobile_share`` (low, base, high, and
    ``switch_at``: the share where the recommendation changes within that range, or None;
    ``wallet_base``: the best wallet's base at low / base / high; ``at_conversion_low`` and
    ``at_conversion_high``: the share at the two ends of the conversion-ratio range); ``naive`` (the handout's
    shortcut per group); ``assumptions`` (mobile_revenue_share, mobile_conversion_factor,
    mobile_basket_factor, gross_margin, card_fee, lift (per group, the best method's
    (low, base, high) as used): each ``value``, short ``cite`` and full ``source``)."""
    r = retailer or Retailer()
    data = data or load_data()
    t = compare(r, overrides=overrides, data=data)
    picks = recommend(t)
    low, base, high = mobile_share_range(r, data)
    wallet = t[(t["group"] == "wallet") & t["best_in_group"]].index[0]
    wallet_at = {}
    for name, s in (("low", low), ("base", base), ("high", high)):
        ts = t if s == base else compare(r.with_(mobile_revenue_share=s), overrides=overrides, data=data)
        wallet_at[name] = float(ts.loc[wallet, "base"])
    switch = [x for x in (_switch_share(r, picks, e, overrides, data) for e in (low, high)) if x is not None]
    best = {g: t[(t["group"] == g) & t["best_in_group"]].index[0] for g in GROUPS}
    return {
        "retailer": {f: float(getattr(r, f)) for f in ("revenue", "mobile_traffic_share", "mobile_basket_factor",
                                                        "mobile_conversion_factor", "mobile_revenue_share",
                                                        "gross_margin", "aov")},
        "methods": _method_figures(t),
        "recommended": picks,
        "recommended_names": [t.loc[p, "method"] for p in picks],
        "best_in_group": best,
        "mobile_share": {"low": low, "base": base, "high": high, "switch_at": switch[0] if switch else None,
                         "wallet_base": wallet_at, **_at_conversion_ends(r, data)},
        "naive": {g: naive_estimate(r, best[g], data=data) for g in ("wallet", "bnpl")},
        "assumptions": _assumptions(r, data, {g: tuple(float(x) for x in t.loc[best[g], ["lift_low", "lift_base",
                                                                                       "lift_high"]]) for g in GROUPS}),
    }

