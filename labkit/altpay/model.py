"""The Part E profit model (course reference ``pci_and_payments.md``, "A defensible model")::

    ΔR     = B × ℓ                       extra revenue: reachable revenue × measured lift
    V      = α × (R + ΔR)                 volume paid with the method (α: adoption share)
    ΔFees  = V × (f − f_card) + ΔR × f_card
    ΔGP    = g × ΔR − ΔFees − cost

Fees are a percentage plus a fixed amount per order, turned into a rate with the
average order value (``f = pct + fixed / AOV``). Sales that would have been paid by card
anyway cost only the fee difference; the bigger baskets of BNPL shoppers are not added,
since they are mostly self-selection.

``overrides`` (in :func:`compare` and the charts) map a group (``"bnpl"``) or a method id
(``"klarna"``) to :func:`estimate` keywords; a method's own entry wins over its group's.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping

import pandas as pd

from labkit.altpay.data import GROUPS, AltPayData, load_data
from labkit.altpay.retailer import Retailer, mobile_share_range

# parameters estimate() accepts per group, and those that live on the Retailer
LEVERS = ("lift", "adoption", "fee_pct", "integration_cost")
RETAILER_PARAMS = ("revenue", "mobile_revenue_share", "gross_margin", "aov")


def incremental_profit(
    *,
    revenue: float,
    reachable: float,
    lift: float,
    adoption: float,
    fee_rate: float,
    card_fee_rate: float,
    gross_margin: float,
    cost: float = 0.0,
) -> dict[str, float]:
    """The model's arithmetic for one set of numbers (all rates as fractions)."""
    delta_revenue = reachable * lift
    volume = adoption * (revenue + delta_revenue)
    delta_fees = volume * (fee_rate - card_fee_rate) + delta_revenue * card_fee_rate
    delta_gp = gross_margin * delta_revenue - delta_fees - cost
    return {"delta_revenue": delta_revenue, "volume": volume, "delta_fees": delta_fees, "delta_gp": delta_gp}


def fee_rate(fee_pct: float, fee_fixed: float, aov: float) -> float:
    """A percent-plus-fixed fee as a share of an average order (fee_pct in percent)."""
    return fee_pct / 100 + fee_fixed / aov


@dataclass(frozen=True)
class Estimate:
    """Incremental yearly gross profit of one method: ``low`` / ``base`` / ``high`` follow the
    lift range, everything else at its base. The other fields describe the base case."""

    method_id: str
    method: str
    group: str
    low: float
    base: float
    high: float
    lift: tuple[float, float, float]
    adoption: float
    fee_pct: float
    fee_fixed: float
    fee_rate: float
    card_fee_rate: float
    reachable: float
    delta_revenue: float
    delta_fees: float
    integration_cost: float
    break_even_lift: float
    gross_margin: float = field(repr=False, default=float("nan"))

    def as_dict(self) -> dict:
        d = asdict(self)
        d["lift_low"], d["lift_base"], d["lift_high"] = d.pop("lift")
        return d


def _resolve_method(data: AltPayData, method_or_group: str, retailer: Retailer, overrides) -> str:
    methods = data.methods
    if method_or_group in methods.index:
        return method_or_group
    if method_or_group in GROUPS:
        ids = methods.index[methods["group"] == method_or_group]
        best = max(ids, key=lambda m: estimate(retailer, m, data=data, **overrides).base)
        return best
    raise KeyError(f"unknown method or group {method_or_group!r}; methods: {', '.join(methods.index)}")


def _as_range(value) -> tuple[float, float, float]:
    if isinstance(value, (tuple, list)):
        low, base, high = (float(v) for v in value)
        return low, base, high
    v = float(value)
    return v, v, v


def estimate(
    retailer: Retailer | None = None,
    method_or_group: str = "wallet",
    *,
    lift: float | tuple[float, float, float] | None = None,
    adoption: float | None = None,
    fee_pct: float | None = None,
    fee_fixed: float | None = None,
    integration_cost: float | None = None,
    data: AltPayData | None = None,
) -> Estimate:
    """Low / base / high incremental gross profit of a method (``"klarna"``) or of the best
    method of a group (``"bnpl"``). Keyword arguments replace the group's assumptions:
    ``lift`` as a fraction or a (low, base, high) tuple, ``fee_pct`` in percent."""
    retailer = retailer or Retailer()
    data = data or load_data()
    overrides = {k: v for k, v in dict(lift=lift, adoption=adoption, fee_pct=fee_pct, fee_fixed=fee_fixed,
                                       integration_cost=integration_cost).items() if v is not None}
    method_id = _resolve_method(data, method_or_group, retailer, overrides)
    row = data.methods.loc[method_id]
    group = row["group"]
    if group == "card":
        raise ValueError("the card is the baseline: its incremental profit is zero by definition")
    card = data.methods.loc["card"]
    lifts = _as_range(lift) if lift is not None else data.range("lift", group)
    alpha = float(adoption) if adoption is not None else data.value("adoption", group)
    pct = float(fee_pct) if fee_pct is not None else float(row["fee_pct"])
    fixed = float(fee_fixed) if fee_fixed is not None else float(row["fee_fixed_usd"])
    cost = float(integration_cost) if integration_cost is not None else data.value("integration_cost", group)
    f = fee_rate(pct, fixed, retailer.aov)
    f_card = fee_rate(float(card["fee_pct"]), float(card["fee_fixed_usd"]), retailer.aov)
    reachable = retailer.revenue * (
        retailer.mobile_revenue_share * data.value("reach_mobile", group)
        + (1 - retailer.mobile_revenue_share) * data.value("reach_desktop", group)
    )
    common = dict(revenue=retailer.revenue, reachable=reachable, adoption=alpha, fee_rate=f,
                  card_fee_rate=f_card, gross_margin=retailer.gross_margin, cost=cost)
    low, base, high = (incremental_profit(lift=x, **common) for x in lifts)
    # ΔGP is linear in ℓ: solve ΔGP(ℓ) = 0
    at0 = incremental_profit(lift=0.0, **common)["delta_gp"]
    slope = incremental_profit(lift=1.0, **common)["delta_gp"] - at0
    break_even = -at0 / slope if slope > 0 else math.inf
    return Estimate(
        method_id=method_id, method=row["method"], group=group,
        low=low["delta_gp"], base=base["delta_gp"], high=high["delta_gp"],
        lift=lifts, adoption=alpha, fee_pct=pct, fee_fixed=fixed, fee_rate=f, card_fee_rate=f_card,
        reachable=reachable, delta_revenue=base["delta_revenue"], delta_fees=base["delta_fees"],
        integration_cost=cost, break_even_lift=break_even if break_even > 0 else 0.0,
        gross_margin=retailer.gross_margin,
    )


def overrides_for(overrides: Mapping[str, Mapping] | None, method_id: str, group: str) -> dict:
    """The :func:`estimate` keywords for one method: its group's entry, then its own."""
    overrides = overrides or {}
    return {**overrides.get(group, {}), **overrides.get(method_id, {})}


def compare(
    retailer: Retailer | None = None,
    *,
    overrides: Mapping[str, Mapping] | None = None,
    data: AltPayData | None = None,
) -> pd.DataFrame:
    """Every non-card method's low / base / high incremental gross profit (USD a year).

    ``overrides`` maps a group or a method id to estimate() keywords, e.g.
    ``{"bnpl": {"lift": 0.04}, "klarna": {"fee_pct": 5.0}}``.
    ``best_in_group`` marks the best method of each group; ``recommended`` the best
    methods of the two best groups (by base case)."""
    retailer = retailer or Retailer()
    data = data or load_data()
    rows = []
    for method_id, row in data.methods.iterrows():
        if row["group"] == "card":
            continue
        e = estimate(retailer, method_id, data=data, **overrides_for(overrides, method_id, row["group"]))
        rows.append(e.as_dict())
    df = pd.DataFrame(rows).set_index("method_id", drop=False)
    df["best_in_group"] = False
    best = df.sort_values("base", ascending=False).groupby("group", sort=False).head(1)
    df.loc[best.index, "best_in_group"] = True
    top2 = best.sort_values("base", ascending=False).index[:2]
    df["recommended"] = df.index.isin(top2)
    cols = ["method", "group", "low", "base", "high", "lift_low", "lift_base", "lift_high", "adoption",
            "fee_pct", "fee_fixed", "fee_rate", "card_fee_rate", "reachable", "delta_revenue", "delta_fees",
            "integration_cost", "break_even_lift", "best_in_group", "recommended"]
    return df[cols]


def recommend(table: pd.DataFrame) -> list[str]:
    """The two recommended method ids from :func:`compare`, best first."""
    return list(table[table["recommended"]].sort_values("base", ascending=False).index)


def naive_estimate(
    retailer: Retailer | None = None, method_or_group: str = "bnpl", *, data: AltPayData | None = None
) -> float:
    """The handout's back-of-envelope: α·R·(conversion lift + order-value lift)·g − α·R·f,
    with the handout's claimed lifts (mid-points). Shown only to contrast with the model:
    it credits self-selected bigger baskets to the method and charges the full fee on sales
    that would have been paid by card anyway."""
    retailer = retailer or Retailer()
    data = data or load_data()
    e = estimate(retailer, method_or_group, data=data)
    claimed = 0.0
    for key in ("handout_conv_lift", "handout_aov_lift"):
        try:
            claimed += data.range(key, e.group)[1]
        except KeyError:
            pass
    volume = e.adoption * retailer.revenue
    return volume * claimed * retailer.gross_margin - volume * e.fee_rate


# --------------------------------------------------------------------------- sensitivity
def _param_range(data: AltPayData, retailer: Retailer, group: str, param: str, base_est: Estimate):
    """(low, base, high) of a parameter for the sensitivity table, or None if not varied."""
    if param == "lift":
        return base_est.lift
    if param in ("adoption", "integration_cost"):
        return data.range(param, group)
    if param == "fee_pct":
        try:
            low, _, high = data.range("fee_pct", group)
        except KeyError:
            return None
        return low * 100, base_est.fee_pct, high * 100
    if param == "mobile_revenue_share":
        return mobile_share_range(retailer, data)
    if param in ("gross_margin", "aov", "revenue"):
        low, _, high = data.range(param, "retailer")
        return low, getattr(retailer, param), high
    raise KeyError(param)


def _evaluate(retailer: Retailer, method_id: str, param: str, value: float, data: AltPayData,
              overrides: Mapping | None = None) -> Estimate:
    kw = dict(overrides or {})
    if param in RETAILER_PARAMS:
        retailer = retailer.with_(**{param: value})
    elif param in LEVERS:
        kw[param] = value
    else:
        raise KeyError(f"unknown parameter {param!r}; use one of {LEVERS + RETAILER_PARAMS}")
    return estimate(retailer, method_id, data=data, **kw)


def sensitivity(
    retailer: Retailer | None = None,
    method_or_group: str = "wallet",
    param: str = "lift",
    values: Iterable[float] | None = None,
    *,
    overrides: Mapping | None = None,
    data: AltPayData | None = None,
) -> pd.DataFrame:
    """Base-case ΔGP of one method as one parameter moves (others at base).
    Default values: 0 to 1.5 × the range's high end in 16 steps (from the first step up for
    the retailer's own figures, which must stay positive)."""
    retailer = retailer or Retailer()
    data = data or load_data()
    e = estimate(retailer, method_or_group, data=data, **dict(overrides or {}))
    if values is None:
        low, base, high = _param_range(data, retailer, e.group, param, e)
        first = 1 if param in RETAILER_PARAMS else 0  # a retailer needs positive revenue, margin, AOV
        values = [high * 1.5 * i / 15 for i in range(first, 16)]
    rows = []
    for v in values:
        est = _evaluate(retailer, e.method_id, param, float(v), data, overrides)
        rows.append({param: float(v), "delta_revenue": est.delta_revenue, "delta_fees": est.delta_fees,
                     "delta_gp": est.base})
    out = pd.DataFrame(rows)
    out.attrs.update(method_id=e.method_id, method=e.method, param=param, assumed_range=_param_range(
        data, retailer, e.group, param, e), break_even_lift=e.break_even_lift)
    return out


def sensitivity_table(
    retailer: Retailer | None = None,
    method_or_group: str = "wallet",
    *,
    data: AltPayData | None = None,
) -> pd.DataFrame:
    """One parameter at a time from its low to its high value (others at base): the base-case
    ΔGP at each end and the swing, largest first."""
    retailer = retailer or Retailer()
    data = data or load_data()
    e = estimate(retailer, method_or_group, data=data)
    rows = []
    for param in ("lift", "adoption", "fee_pct", "gross_margin", "aov", "mobile_revenue_share", "integration_cost"):
        rng = _param_range(data, retailer, e.group, param, e)
        if rng is None:
            continue
        low, base, high = rng
        at_low = _evaluate(retailer, e.method_id, param, low, data).base
        at_high = _evaluate(retailer, e.method_id, param, high, data).base
        rows.append({"parameter": param, "low": low, "base": base, "high": high,
                     "gp_at_low": at_low, "gp_at_base": e.base, "gp_at_high": at_high,
                     "swing": abs(at_high - at_low)})
    out = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs.update(method_id=e.method_id, method=e.method)
    return out

