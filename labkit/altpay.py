"""Alternative payments (handout Part E): the data, a profit model, charts and the write-up.

Two data files in ``labkit/data`` hold every figure, each with its source and year:

* ``altpay_methods.csv``: one row per method (card baseline, wallets, BNPL, crypto) with
  fees, settlement, who bears fraud and default risk, tokenization, and the conversion and
  order-value lifts that have been published (percent columns end in ``_pct``;
  ``*_vendor_claim`` says whether a figure is the seller's own claim).
* ``altpay_assumptions.csv``: the retailer (the handout's by default), planning ranges
  (low / base / high) per method group, the handout's own claims and context figures.
  ``kind`` says whether a row is from the handout, sourced, or a plain assumption.

The model (course reference ``pci_and_payments.md``, "A defensible model")::

    ΔR     = B × ℓ                       extra revenue: reachable revenue × measured lift
    V      = α × (R + ΔR)                 volume paid with the method (α: adoption share)
    ΔFees  = V × (f − f_card) + ΔR × f_card
    ΔGP    = g × ΔR − ΔFees − cost

Fees are a percentage plus a fixed amount per order, turned into a rate with the
average order value (``f = pct + fixed / AOV``). Sales that would have been paid by card
anyway cost only the fee difference; the bigger baskets of BNPL shoppers are not added,
since they are mostly self-selection. Fractions (0.05) are used in Python, percent (5) in
the data files.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

import pandas as pd

GROUPS = ("wallet", "bnpl", "crypto")
GROUP_LABELS = MappingProxyType(
    {"card": "Cards", "wallet": "Digital wallets", "bnpl": "Buy now, pay later", "crypto": "Crypto"}
)
PART_E_START = "<!-- labkit:part-e:start -->"
PART_E_END = "<!-- labkit:part-e:end -->"
# parameters estimate() accepts per group, and those that live on the Retailer
LEVERS = ("lift", "adoption", "fee_pct", "integration_cost")
RETAILER_PARAMS = ("revenue", "mobile_revenue_share", "gross_margin", "aov")


# --------------------------------------------------------------------------- data
def _data_path(name: str) -> Path:
    return Path(str(resources.files("labkit") / "data" / name))


def load_methods(path: str | Path | None = None) -> pd.DataFrame:
    """The comparison table: one row per method, indexed by ``method_id``."""
    df = pd.read_csv(path or _data_path("altpay_methods.csv"))
    for col in ("fee_verify", "conv_lift_vendor_claim", "aov_lift_vendor_claim"):
        df[col] = df[col].map(lambda v: None if pd.isna(v) else str(v).strip().lower() == "true")
    return df.set_index("method_id", drop=False)


def load_assumptions(path: str | Path | None = None) -> pd.DataFrame:
    """Retailer defaults, planning ranges, the handout's claims and context figures."""
    return pd.read_csv(path or _data_path("altpay_assumptions.csv"))


@dataclass(frozen=True)
class AltPayData:
    """Both data files, read once and passed around (so a notebook can edit a copy)."""

    methods: pd.DataFrame
    assumptions: pd.DataFrame

    def row(self, key: str, group: str) -> pd.Series:
        a = self.assumptions
        hit = a[(a["key"] == key) & (a["group"] == group)]
        if hit.empty:
            raise KeyError(f"no assumption {key!r} for group {group!r} in altpay_assumptions.csv")
        return hit.iloc[0]

    def value(self, key: str, group: str, which: str = "base") -> float:
        """A figure as used in Python: percent rows become fractions."""
        r = self.row(key, group)
        v = r[which]
        if pd.isna(v):
            raise KeyError(f"assumption {key!r}/{group!r} has no {which} value")
        return float(v) / 100 if r["unit"] == "%" else float(v)

    def range(self, key: str, group: str) -> tuple[float, float, float]:
        """(low, base, high); a missing low/high falls back to the base and vice versa."""
        r = self.row(key, group)
        vals = [r[c] for c in ("low", "base", "high")]
        if pd.isna(vals[1]):
            vals[1] = (vals[0] + vals[2]) / 2
        vals = [vals[1] if pd.isna(v) else v for v in vals]
        scale = 0.01 if r["unit"] == "%" else 1.0
        return tuple(float(v) * scale for v in vals)  # type: ignore[return-value]


def load_data() -> AltPayData:
    return AltPayData(load_methods(), load_assumptions())


def _lift_text(row: pd.Series, kind: str) -> str:
    lo, hi = row[f"{kind}_pct_low"], row[f"{kind}_pct_high"]
    if pd.isna(hi):
        return "none published"
    if hi == 0:
        return "about 0"
    span = f"+{lo:g}%" if lo == hi else f"+{lo:g}% to +{hi:g}%"
    return span + (" (vendor)" if row[f"{kind}_vendor_claim"] else "")


def comparison_table(methods: pd.DataFrame | None = None) -> pd.DataFrame:
    """The methods side by side in words: fee, settlement, risk, tokenization, published lifts."""
    m = load_methods() if methods is None else methods
    return pd.DataFrame({
        "method": m["method"],
        "fee": [_fee(p, f) + ("" if lo == hi else f" (seen {lo:g}–{hi:g}%)")
                for p, f, lo, hi in zip(m["fee_pct"], m["fee_fixed_usd"], m["fee_pct_low"], m["fee_pct_high"])],
        "settlement": m["settlement"],
        "fraud risk": m["fraud_risk"],
        "default risk": m["default_risk"],
        "tokenization": m["tokenization"],
        "conversion lift": [_lift_text(r, "conv_lift") for _, r in m.iterrows()],
        "order-value lift": [_lift_text(r, "aov_lift") for _, r in m.iterrows()],
    }).set_index("method")


def sources_table(methods: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per sourced figure: method, what, source, year, vendor claim."""
    m = load_methods() if methods is None else methods
    kinds = {"fee": "fee", "settlement": "settlement", "risk": "fraud/default risk",
             "tokenization": "tokenization", "conv_lift": "conversion lift", "aov_lift": "order-value lift"}
    rows = []
    for _, r in m.iterrows():
        for prefix, label in kinds.items():
            src = r[f"{prefix}_source"]
            if pd.isna(src):
                continue
            claim = r.get(f"{prefix}_vendor_claim")
            rows.append({"method": r["method"], "figure": label, "source": src, "year": int(r[f"{prefix}_year"]),
                         "vendor claim": "yes" if claim is True else ("no" if claim is False else "price/doc")})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- retailer
def derived_mobile_revenue_share(traffic_share: float, basket_factor: float) -> float:
    """Mobile share of revenue from its share of visits, if a mobile order is worth
    ``basket_factor`` of a desktop one and both convert alike: t·k / (t·k + 1 − t)."""
    mobile = traffic_share * basket_factor
    return mobile / (mobile + (1 - traffic_share))


@dataclass(frozen=True)
class Retailer:
    """The merchant. Fields left as ``None`` take the handout's retailer from the data file;
    ``mobile_revenue_share`` left as ``None`` is derived from the traffic share."""

    revenue: float | None = None
    mobile_traffic_share: float | None = None
    mobile_basket_factor: float | None = None
    mobile_revenue_share: float | None = None
    gross_margin: float | None = None
    aov: float | None = None
    name: str = "the handout's outdoor gear retailer"

    def __post_init__(self) -> None:
        data = None
        for f in ("revenue", "mobile_traffic_share", "mobile_basket_factor", "gross_margin", "aov"):
            if getattr(self, f) is None:
                data = data or load_data()
                object.__setattr__(self, f, data.value(f, "retailer"))
        if self.mobile_revenue_share is None:
            object.__setattr__(
                self,
                "mobile_revenue_share",
                derived_mobile_revenue_share(self.mobile_traffic_share, self.mobile_basket_factor),
            )
        checks = {
            "revenue": self.revenue > 0,
            "aov": self.aov > 0,
            "gross_margin": 0 < self.gross_margin < 1,
            "mobile_traffic_share": 0 <= self.mobile_traffic_share <= 1,
            "mobile_basket_factor": self.mobile_basket_factor > 0,
            "mobile_revenue_share": 0 <= self.mobile_revenue_share <= 1,
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
            ("revenue", "annual online revenue", _money),
            ("mobile_traffic_share", "mobile share of visits", _pct),
            ("mobile_basket_factor", "mobile order value vs desktop", _pct),
            ("mobile_revenue_share", "mobile share of revenue", _pct),
            ("gross_margin", "gross margin", _pct),
            ("aov", "average order value", _money),
        ):
            value = getattr(self, f)
            if f == "mobile_revenue_share":
                derived = derived_mobile_revenue_share(self.mobile_traffic_share, self.mobile_basket_factor)
                origin = "derived: t·k / (t·k + 1 − t)" if math.isclose(value, derived) else "set by you"
            else:
                r = data.row(f, "retailer")
                default = data.value(f, "retailer")
                origin = (f"{r['kind']}: {r['source']}" + (f" ({int(r['year'])})" if not pd.isna(r["year"]) else "")
                          if math.isclose(value, default) else "set by you")
            rows.append({"parameter": f, "meaning": label, "value": fmt(value), "from": origin})
        return pd.DataFrame(rows).set_index("parameter")

    def with_(self, **changes) -> "Retailer":
        # changing the traffic share or basket factor re-derives the revenue share
        if ({"mobile_traffic_share", "mobile_basket_factor"} & changes.keys()) and "mobile_revenue_share" not in changes:
            changes["mobile_revenue_share"] = None
        return replace(self, **changes)


# --------------------------------------------------------------------------- model
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


def _group_overrides(overrides: Mapping[str, Mapping] | None, group: str) -> dict:
    return dict((overrides or {}).get(group, {}))


def compare(
    retailer: Retailer | None = None,
    *,
    overrides: Mapping[str, Mapping] | None = None,
    data: AltPayData | None = None,
) -> pd.DataFrame:
    """Every non-card method's low / base / high incremental gross profit (USD a year).

    ``overrides`` maps a group to estimate() keywords, e.g. ``{"bnpl": {"lift": 0.04}}``.
    ``best_in_group`` marks the best method of each group; ``recommended`` the best
    methods of the two best groups (by base case)."""
    retailer = retailer or Retailer()
    data = data or load_data()
    rows = []
    for method_id, row in data.methods.iterrows():
        if row["group"] == "card":
            continue
        e = estimate(retailer, method_id, data=data, **_group_overrides(overrides, row["group"]))
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
    if param in ("gross_margin", "aov", "mobile_revenue_share", "revenue"):
        low, _, high = data.range(param, "retailer")
        return low, getattr(retailer, param), high
    raise KeyError(param)


def _evaluate(retailer: Retailer, method_id: str, param: str, value: float, data: AltPayData,
              overrides: Mapping | None = None) -> Estimate:
    kw = dict(overrides or {})
    if param in RETAILER_PARAMS:
        retailer = replace(retailer, **{param: value})
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


# --------------------------------------------------------------------------- Part B payments
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
                     "payments": n, "volume_usd": volume_cents / 100, "fee_usd": fee_cents / 100,
                     "fee_share": fee_cents / volume_cents if volume_cents else float("nan")})
    out = pd.DataFrame(rows).set_index("method_id")
    out["vs_card_usd"] = (out["fee_usd"] - out.loc["card", "fee_usd"]).round(2)
    out.attrs["ignored"] = int(len(p) - n)
    return out


def _stripe_round(cents: float) -> int:
    """Round a fee to whole cents, halves up (fees are positive)."""
    return int(math.floor(cents + 0.5))


# --------------------------------------------------------------------------- charts
def plot_ranges(table: pd.DataFrame | None = None, ax=None, *, title: str | None = None):
    """Horizontal bars from low to high with the base marked, one per method (USD k a year)."""
    import matplotlib.pyplot as plt

    table = compare() if table is None else table
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.55 * len(table) + 1.2))
    t = table.iloc[::-1]
    y = range(len(t))
    colors = {"wallet": "#2a7ab0", "bnpl": "#d9822b", "crypto": "#7a5cb0"}
    for i, (_, r) in zip(y, t.iterrows()):
        ax.barh(i, (r["high"] - r["low"]) / 1e3, left=r["low"] / 1e3, color=colors.get(r["group"], "grey"),
                alpha=0.9 if r.get("recommended", False) else 0.45, height=0.6)
        ax.plot([r["base"] / 1e3] * 2, [i - 0.3, i + 0.3], color="black", lw=2)
    labels = [f"{r['method']}{' ★' if r.get('recommended', False) else ''}" for _, r in t.iterrows()]
    ax.set_yticks(list(y), labels)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("incremental gross profit, $k a year (bar: lift range; line: base)")
    ax.set_title(title or "Alternative payments: incremental gross profit (★ recommended)")
    ax.figure.tight_layout()
    return ax


def plot_lift_sensitivity(retailer: Retailer | None = None, method_or_group: str | None = None, ax=None, *,
                          data: AltPayData | None = None, overrides: Mapping | None = None):
    """Base-case ΔGP of a method (default: the winner) against the lift, with the assumed
    range shaded and the break-even lift marked."""
    import matplotlib.pyplot as plt

    retailer = retailer or Retailer()
    data = data or load_data()
    if method_or_group is None:
        method_or_group = recommend(compare(retailer, data=data))[0]
    group = data.methods.loc[method_or_group, "group"] if method_or_group in data.methods.index else method_or_group
    s = sensitivity(retailer, method_or_group, "lift", data=data, overrides=_group_overrides(overrides, group))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(s["lift"] * 100, s["delta_gp"] / 1e3, color="#2a7ab0", lw=2)
    low, base, high = s.attrs["assumed_range"]
    ax.axvspan(low * 100, high * 100, color="#2a7ab0", alpha=0.12, label="assumed lift range")
    ax.axvline(base * 100, color="black", lw=1, ls="--", label=f"base lift {_pct(base)}")
    be = s.attrs["break_even_lift"]
    if be < s["lift"].max():
        ax.axvline(be * 100, color="#b03a2e", lw=1, ls=":", label=f"break-even {_pct(be)}")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("lift in revenue per reachable visitor, %")
    ax.set_ylabel("incremental gross profit, $k/yr")
    ax.set_title(f"{s.attrs['method']}: sensitivity to the lift assumption")
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax


# --------------------------------------------------------------------------- widgets
def widgets(retailer: Retailer | None = None, *, data: AltPayData | None = None):
    """Sliders for the main assumptions, redrawing the ranges chart and the two picks.
    Returns an ipywidgets ``VBox`` (display it in a notebook)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    retailer = retailer or Retailer()
    data = data or load_data()
    style = {"description_width": "170px"}
    layout = w.Layout(width="480px")

    def slider(desc, value, lo, hi, step, fmt):
        return w.FloatSlider(value=round(value, 4), min=lo, max=hi, step=step, description=desc,
                             readout_format=fmt, style=style, layout=layout, continuous_update=False)

    controls = {
        "mobile_revenue_share": slider("mobile share of revenue", retailer.mobile_revenue_share, 0.2, 0.9, 0.01, ".0%"),
        "gross_margin": slider("gross margin", retailer.gross_margin, 0.2, 0.6, 0.01, ".0%"),
        "aov": slider("average order ($)", retailer.aov, 40, 400, 5, ".0f"),
        "wallet_lift": slider("wallet lift (base)", data.range("lift", "wallet")[1], 0, 0.2, 0.005, ".1%"),
        "bnpl_lift": slider("BNPL lift (base)", data.range("lift", "bnpl")[1], 0, 0.12, 0.005, ".1%"),
        "bnpl_adoption": slider("BNPL adoption", data.value("adoption", "bnpl"), 0, 0.25, 0.005, ".1%"),
        "bnpl_fee_pct": slider("BNPL fee (% of order)", 6.0, 2.0, 10.0, 0.1, ".1f"),
    }

    def redraw(mobile_revenue_share, gross_margin, aov, wallet_lift, bnpl_lift, bnpl_adoption, bnpl_fee_pct):
        r = replace(retailer, mobile_revenue_share=mobile_revenue_share, gross_margin=gross_margin, aov=aov)
        wl, bl = data.range("lift", "wallet"), data.range("lift", "bnpl")
        overrides = {
            "wallet": {"lift": _rescale(wl, wallet_lift)},
            "bnpl": {"lift": _rescale(bl, bnpl_lift), "adoption": bnpl_adoption, "fee_pct": bnpl_fee_pct},
        }
        table = compare(r, overrides=overrides, data=data)
        picks = recommend(table)
        print("Recommended: " + " and ".join(f"{table.loc[m, 'method']} (base {_k(table.loc[m, 'base'])})" for m in picks))
        plot_ranges(table)
        plt.show()

    out = w.interactive_output(redraw, controls)
    return w.VBox([w.HTML("<b>Part E assumptions</b> (other figures from the data files)"),
                   *controls.values(), out])


def _rescale(rng: tuple[float, float, float], new_base: float) -> tuple[float, float, float]:
    """Move a (low, base, high) range so its base is ``new_base``, keeping its proportions."""
    low, base, high = rng
    if base == 0:
        return (low, new_base, high + new_base)
    return (low * new_base / base, new_base, high * new_base / base)


# --------------------------------------------------------------------------- the write-up
def _k(x: float) -> str:
    """$ rounded to thousands: $138k, −$3k, $1.2M."""
    sign = "−" if x < 0 else ""
    x = abs(x)
    if round(x / 1e3) >= 1000:
        return f"{sign}${x / 1e6:.1f}M"
    return f"{sign}${x / 1e3:,.0f}k"


def _pct(x: float, places: int = 2) -> str:
    """A fraction as a short percent: 0.05 → 5%, 0.0025 → 0.25%, 0.558 → 56%."""
    p = x * 100
    if abs(p) >= 10:
        return f"{p:.0f}%"
    s = f"{p:.{places}f}".rstrip("0").rstrip(".")
    return f"{s}%"


def _money(x: float) -> str:
    return f"${x:,.2f}" if x % 1 else f"${x:,.0f}"


def _fee(pct: float, fixed: float) -> str:
    return f"{pct:g}%" + (f" + {_money(fixed)}" if fixed else "")


def _join(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _range_pct(lo: float, hi: float) -> str:
    return _pct(lo) if lo == hi else f"{_pct(lo)}–{_pct(hi)}"


def analysis_text(retailer: Retailer | None = None, *, overrides: Mapping[str, Mapping] | None = None,
                  data: AltPayData | None = None) -> str:
    """The Part E write-up (about 400 words, Markdown), every figure computed from the model
    and the data files, ending with the two recommended methods."""
    r = retailer or Retailer()
    data = data or load_data()
    t = compare(r, overrides=overrides, data=data)
    m = data.methods
    best = t[t["best_in_group"]]
    g = {row["group"]: row for _, row in best.iterrows()}
    picks = recommend(t)
    card = m.loc["card"]
    ctx = lambda key: data.value(key, "context")  # noqa: E731
    bnpl_rows = m[m["group"] == "bnpl"]
    crypto_rows = m[m["group"] == "crypto"]
    bnpl_fee_lo, bnpl_fee_hi = data.range("fee_pct", "bnpl")[0], data.range("fee_pct", "bnpl")[2]
    h_conv = data.range("handout_conv_lift", "wallet")
    h_aov = data.range("handout_aov_lift", "bnpl")
    wl, bl, cl = g["wallet"], g["bnpl"], g["crypto"]
    runner_up = t[(t["group"] == "bnpl") & (~t["best_in_group"])].sort_values("base", ascending=False)
    naive_bnpl = naive_estimate(r, bl.name, data=data)
    naive_wallet = naive_estimate(r, wl.name, data=data)
    mobile_from_traffic = math.isclose(
        r.mobile_revenue_share, derived_mobile_revenue_share(r.mobile_traffic_share, r.mobile_basket_factor))

    def rng(row) -> str:
        return f"{_k(row['low'])} to {_k(row['high'])} a year (base {_k(row['base'])})"

    mobile_line = (
        f"{_pct(r.mobile_traffic_share)} of visits are mobile, but mobile baskets are about "
        f"{_pct(1 - r.mobile_basket_factor)} smaller, so mobile is about {_pct(r.mobile_revenue_share)} of revenue "
        f"({_k(r.mobile_revenue)}), not {_pct(r.mobile_traffic_share)}."
        if mobile_from_traffic else
        f"Mobile is taken as {_pct(r.mobile_revenue_share)} of revenue ({_k(r.mobile_revenue)})."
    )
    paras = [
        "## Part E — Alternative payments analysis",
        f"*Computed with `labkit.altpay` from the kit's data files (sources and years there; vendor claims "
        f"flagged). Yearly incremental gross profit, before integration cost unless stated, rounded to $1k.*",
        f"**The retailer.** {_k(r.revenue)} revenue, {_pct(r.gross_margin)} gross margin, {_money(r.aov)} average "
        f"order. {mobile_line}",
        f"**How it is counted.** A method earns only the extra revenue a holdout test would measure (reachable "
        f"revenue × lift); sales that would have been paid by card anyway cost only the fee difference. The "
        f"handout's shortcut (adoption × (conversion lift + order-value lift) × margin − fees) credits BNPL "
        f"shoppers' larger baskets, mostly self-selection, to BNPL and charges the full fee on sales that "
        f"would have come anyway: it gives {_k(naive_bnpl)} for {bl['method']} and {_k(naive_wallet)} for "
        f"wallets, errors in both directions.",
        f"**Digital wallets.** Apple Pay and Google Pay replace the card number with a device token and sign each "
        f"payment with a one-time cryptogram, so a stolen token is useless elsewhere and authenticated wallet "
        f"payments shift fraud liability to the issuer. The fee is the card's ({_fee(wl['fee_pct'], wl['fee_fixed'])}). "
        f"Published lifts ({_range_pct(m.loc['wallet', 'conv_lift_pct_low'] / 100, m.loc['wallet', 'conv_lift_pct_high'] / 100)}) "
        f"are vendor claims and the handout's {_range_pct(h_conv[0], h_conv[2])} is unsourced; at a "
        f"{_range_pct(wl['lift_low'], wl['lift_high'])} lift on mobile revenue: {rng(wl)}.",
        f"**Buy now, pay later.** Through Stripe, {_join(bnpl_rows['method'])} charge "
        f"{_range_pct(bnpl_rows['fee_pct'].min() / 100, bnpl_rows['fee_pct'].max() / 100)} + "
        f"{_money(bnpl_rows['fee_fixed_usd'].max())} (direct contracts {_range_pct(bnpl_fee_lo, bnpl_fee_hi)}) "
        f"against the card's {_fee(card['fee_pct'], card['fee_fixed_usd'])}, pay the merchant upfront and "
        f"carry the default and fraud risk. Order-value lifts ({_range_pct(h_aov[0], h_aov[2])} in the handout, "
        f"more from vendors) are left out. At {_range_pct(bl['lift_low'], bl['lift_high'])} more sales and "
        f"{_pct(bl['adoption'])} of revenue paid this way: {rng(bl)}; it breaks even at a "
        f"{_pct(bl['break_even_lift'])} lift.",
        f"**Crypto.** {_join(crypto_rows['method'])} charge "
        f"{_range_pct(crypto_rows['fee_pct'].min() / 100, crypto_rows['fee_pct'].max() / 100)}, settle in dollars "
        f"or USDC so the merchant carries no price volatility, and are final: no chargebacks, manual refunds. "
        f"Demand is thin: {_pct(ctx('crypto_ever_used'))} of U.S. adults have used crypto and "
        f"{_pct(ctx('crypto_paid'))} have paid with it. {cl['method']}: {rng(cl)}.",
    ]
    fit = ("suits a store whose traffic is mostly mobile" if r.mobile_traffic_share > 0.5
           else f"reaches the {_pct(r.mobile_revenue_share)} of revenue that is mobile")
    reasons = {
        "wallet": lambda row: (
            f"it costs no more than a card, {fit}, and stays positive even at the low lift ({_k(row['low'])})"
            if row["low"] > 0 else f"it costs no more than a card and {fit}, but loses money at the low lift "
            f"({_k(row['low'])})"),
        "bnpl": lambda row: (
            f"the provider carries the credit risk and a lift above {_pct(row['break_even_lift'])} pays for the "
            f"higher fee" + (
                f"; {_join(runner_up['method'])} come within "
                f"{_k(max(1000, math.ceil(abs(row['base'] - runner_up['base'].min()) / 1000) * 1000))}"
                if len(runner_up) else "")),
        "crypto": lambda row: f"fees are below the card's, though demand is small ({_pct(ctx('crypto_paid'))} of adults pay with it)",
    }
    recs = [f"({i}) {t.loc[p, 'method']}, base {_k(t.loc[p, 'base'])}: {reasons[t.loc[p, 'group']](t.loc[p])}"
            for i, p in enumerate(picks, 1)]
    left = [GROUP_LABELS[x].lower() for x in GROUPS if x not in {t.loc[p, "group"] for p in picks}]
    paras.append(
        f"**Recommendation.** Add {'; '.join(recs)}. Leave {' and '.join(left)} for later. Roll each out "
        f"behind a holdout group and keep it only if the measured lift beats its break-even."
    )
    return "\n\n".join(paras) + "\n"


def word_count(text: str) -> int:
    """Words of prose: Markdown markers and the heading line are not counted."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    body = re.sub(r"[*`]", " ", body)
    return len([w for w in body.split() if re.search(r"\w", w)])


def write_part_e(path: str | Path, text: str) -> Path:
    """Write ``text`` into ``path`` between the Part E markers: replace that section if the
    file has it, append it otherwise; create the file (and its folder) if absent."""
    path = Path(path)
    block = f"{PART_E_START}\n{text.rstrip()}\n{PART_E_END}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = old.find(PART_E_START), old.find(PART_E_END)
    if start != -1 and end != -1 and end > start:
        rest = old[end + len(PART_E_END):].lstrip("\n")
        new = old[:start] + block + ("\n" + rest if rest else "")
    else:
        if start != -1 or end != -1:
            raise ValueError(f"{path}: unbalanced Part E markers; fix them by hand")
        new = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    return path
