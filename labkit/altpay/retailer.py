"""The merchant of Part E: revenue, margin, average order, and how much of its revenue is mobile.

Mobile's share of *revenue* is not its share of *visits*. With t the share of visits, k a
mobile order's value relative to a desktop one, and c a mobile visit's conversion rate
relative to a desktop one::

    s = t·k·c / (t·k·c + 1 − t)          and back:   c = s·(1 − t) / (t·k·(1 − s))

By default s is the share Adobe Analytics measured for retailers of $10M–$100M (about 43%,
21 Aug 2024); with the handout's 65% of visits and Adobe's 32%-smaller mobile baskets this
means mobile visits convert at about 60% of the desktop rate. Change the traffic share and
s follows at that conversion ratio; change the conversion ratio and s follows too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from labkit.altpay.data import load_data
from labkit.altpay.fmt import money, pct

_FROM_DATA = ("revenue", "mobile_traffic_share", "mobile_basket_factor", "gross_margin", "aov")


def derived_mobile_revenue_share(traffic_share: float, basket_factor: float, conversion_factor: float = 1.0) -> float:
    """Mobile share of revenue from its share of visits t, its relative order value k and its
    relative conversion rate c: t·k·c / (t·k·c + 1 − t)."""
    mobile = traffic_share * basket_factor * conversion_factor
    total = mobile + (1 - traffic_share)
    return mobile / total if total else 0.0


def implied_conversion_factor(revenue_share: float, traffic_share: float, basket_factor: float) -> float:
    """The relative mobile conversion rate c that makes the shares agree (NaN if undefined)."""
    denom = traffic_share * basket_factor * (1 - revenue_share)
    return revenue_share * (1 - traffic_share) / denom if denom else math.nan


@dataclass(frozen=True)
class Retailer:
    """The merchant. Fields left as ``None`` take the handout's retailer and the sourced
    defaults from ``altpay_assumptions.csv``; see the module's docstring for how
    ``mobile_revenue_share`` and ``mobile_conversion_factor`` fill each other in."""

    revenue: float | None = None
    mobile_traffic_share: float | None = None
    mobile_basket_factor: float | None = None
    mobile_revenue_share: float | None = None
    gross_margin: float | None = None
    aov: float | None = None
    mobile_conversion_factor: float | None = None
    name: str = "the handout's outdoor gear retailer"

    def __post_init__(self) -> None:
        data = None
        for f in _FROM_DATA:
            if getattr(self, f) is None:
                data = data or load_data()
                object.__setattr__(self, f, data.value(f, "retailer"))
        t, k = self.mobile_traffic_share, self.mobile_basket_factor
        if self.mobile_revenue_share is None:
            if self.mobile_conversion_factor is None:
                data = data or load_data()
                object.__setattr__(self, "mobile_revenue_share", data.value("mobile_revenue_share", "retailer"))
            else:
                object.__setattr__(self, "mobile_revenue_share",
                                   derived_mobile_revenue_share(t, k, self.mobile_conversion_factor))
        if self.mobile_conversion_factor is None:
            object.__setattr__(self, "mobile_conversion_factor",
                               implied_conversion_factor(self.mobile_revenue_share, t, k))
        self._check()

    def _check(self) -> None:
        checks = {
            "revenue": self.revenue > 0,
            "aov": self.aov > 0,
            "gross_margin": 0 < self.gross_margin < 1,
            "mobile_traffic_share": 0 <= self.mobile_traffic_share <= 1,
            "mobile_basket_factor": self.mobile_basket_factor > 0,
            "mobile_revenue_share": 0 <= self.mobile_revenue_share <= 1,
            "mobile_conversion_factor": math.isnan(self.mobile_conversion_factor) or self.mobile_conversion_factor >= 0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"Retailer: out of range: {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)}")

    @property
    def mobile_revenue(self) -> float:
        return self.revenue * self.mobile_revenue_share

    def summary(self) -> pd.DataFrame:
        """The retailer's figures, readable, with where each default comes from."""
        data = load_data()
        rows = []
        for f, label, fmt in (
            ("revenue", "annual online revenue", money),
            ("mobile_traffic_share", "mobile share of visits", pct),
            ("mobile_basket_factor", "mobile order value vs desktop", pct),
            ("mobile_revenue_share", "mobile share of revenue", pct),
            ("mobile_conversion_factor", "mobile conversion rate vs desktop", pct),
            ("gross_margin", "gross margin", pct),
            ("aov", "average order value", money),
        ):
            value = getattr(self, f)
            rows.append({"parameter": f, "meaning": label, "value": fmt(value), "from": self._origin(f, value, data)})
        return pd.DataFrame(rows).set_index("parameter")

    def _origin(self, f: str, value: float, data) -> str:
        if f == "mobile_conversion_factor":
            implied = implied_conversion_factor(self.mobile_revenue_share, self.mobile_traffic_share,
                                                self.mobile_basket_factor)
            return "implied: s·(1 − t) / (t·k·(1 − s))" if math.isclose(value, implied) else "set by you"
        r = data.row(f, "retailer")
        if math.isclose(value, data.value(f, "retailer")):
            return f"{r['kind']}: {r['cite']}"
        if f == "mobile_revenue_share":
            derived = derived_mobile_revenue_share(self.mobile_traffic_share, self.mobile_basket_factor,
                                                   self.mobile_conversion_factor)
            if math.isclose(value, derived):
                return "derived: t·k·c / (t·k·c + 1 − t)"
        return "set by you"

    def with_(self, **changes) -> "Retailer":
        """A copy with some fields changed. Changing the traffic share, the basket factor or the
        conversion ratio re-derives the revenue share; setting the revenue share re-implies
        the conversion ratio."""
        shares = {"mobile_traffic_share", "mobile_basket_factor", "mobile_conversion_factor"}
        if (shares & changes.keys()) and "mobile_revenue_share" not in changes:
            changes["mobile_revenue_share"] = None
        elif "mobile_revenue_share" in changes and "mobile_conversion_factor" not in changes:
            changes["mobile_conversion_factor"] = None
        return replace(self, **changes)


def mobile_share_range(retailer: Retailer, data=None) -> tuple[float, float, float]:
    """(low, base, high) mobile share of revenue for this retailer: its own share as the base,
    the ends from the conversion-ratio range in the data (mobile converting at 40% of the
    desktop rate, and alike), at its traffic share and basket factor."""
    lo_c, hi_c = conversion_range(data)
    t, k = retailer.mobile_traffic_share, retailer.mobile_basket_factor
    low, high = derived_mobile_revenue_share(t, k, lo_c), derived_mobile_revenue_share(t, k, hi_c)
    s = retailer.mobile_revenue_share
    return min(low, s), s, max(high, s)


def conversion_range(data=None) -> tuple[float, float]:
    """(low, high) of a mobile visit's conversion rate relative to a desktop one, from the data."""
    data = data or load_data()
    row = data.row("mobile_conversion_factor", "retailer")
    return float(row["low"]) / 100, float(row["high"]) / 100
