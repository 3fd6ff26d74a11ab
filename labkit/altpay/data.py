"""The Part E data files, read into pandas, and the tables that show them.

Two files in ``labkit/data`` hold every figure, each with its source and year:

* ``altpay_methods.csv``: one row per method (card baseline, wallets, BNPL, crypto) with
  fees, settlement, who bears fraud and default risk, tokenization, and the conversion and
  order-value lifts that have been published (percent columns end in ``_pct``;
  ``*_vendor_claim`` says whether a figure is the seller's own claim). Each ``*_source``
  names the publisher, the title, the date and the address, or says "not verified".
* ``altpay_assumptions.csv``: the retailer (the handout's by default), planning ranges
  (low / base / high) per method group, the handout's own claims and context figures.
  ``kind`` says whether a row is from the handout, sourced, or a plain assumption.

Fractions (0.05) are used in Python, percent (5) in the data files.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from labkit.altpay.fmt import fee_text

GROUPS = ("wallet", "bnpl", "crypto")
GROUP_LABELS = MappingProxyType(
    {"card": "Cards", "wallet": "Digital wallets", "bnpl": "Buy now, pay later", "crypto": "Crypto"}
)
# the figures of the methods table: (figure columns, source column, year column)
METHOD_FIGURES = (
    (("fee_pct", "fee_pct_low", "fee_pct_high", "fee_fixed_usd"), "fee_source", "fee_year"),
    (("settlement",), "settlement_source", "settlement_year"),
    (("fraud_risk", "default_risk"), "risk_source", "risk_year"),
    (("tokenization",), "tokenization_source", "tokenization_year"),
    (("conv_lift_pct_low", "conv_lift_pct_high"), "conv_lift_source", "conv_lift_year"),
    (("aov_lift_pct_low", "aov_lift_pct_high"), "aov_lift_source", "aov_lift_year"),
)


def data_path(name: str) -> Path:
    """A file of ``labkit/data``."""
    return Path(str(resources.files("labkit") / "data" / name))


def load_methods(path: str | Path | None = None) -> pd.DataFrame:
    """The comparison table: one row per method, indexed by ``method_id``."""
    df = pd.read_csv(path or data_path("altpay_methods.csv"))
    for col in ("fee_verify", "conv_lift_vendor_claim", "aov_lift_vendor_claim"):
        df[col] = df[col].map(lambda v: None if pd.isna(v) else str(v).strip().lower() == "true")
    return df.set_index("method_id", drop=False)


def load_assumptions(path: str | Path | None = None) -> pd.DataFrame:
    """Retailer defaults, planning ranges, the handout's claims and context figures."""
    return pd.read_csv(path or data_path("altpay_assumptions.csv"))


@dataclass(frozen=True)
class AltPayData:
    """Both data files, read once and passed around (so a notebook can edit a copy: make a
    new ``AltPayData`` from the edited frames rather than changing these in place)."""

    methods: pd.DataFrame
    assumptions: pd.DataFrame

    @cached_property
    def _rows(self) -> dict[tuple[str, str], pd.Series]:
        # the model looks rows up thousands of times; build a fresh AltPayData after editing a frame
        rows: dict[tuple[str, str], pd.Series] = {}
        for _, r in self.assumptions.iterrows():
            rows.setdefault((r["key"], r["group"]), r)
        return rows

    def row(self, key: str, group: str) -> pd.Series:
        try:
            return self._rows[(key, group)]
        except KeyError:
            raise KeyError(f"no assumption {key!r} for group {group!r} in altpay_assumptions.csv") from None

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

    def source(self, key: str, group: str) -> str:
        """Where an assumption comes from, with its year: ``"Adobe Analytics, … (2024)"``."""
        r = self.row(key, group)
        return str(r["source"]) + ("" if pd.isna(r["year"]) else f" ({int(r['year'])})")


def load_data() -> AltPayData:
    return AltPayData(load_methods(), load_assumptions())


NOT_VERIFIED = "not verified"  # the mark the data files give a figure the kit could not read at its source


def unverified(source: object) -> bool:
    """Whether a ``*_source`` cell says the figure was not read at its source (issue 24: the
    table a student copies must carry the mark the data file gives)."""
    return isinstance(source, str) and NOT_VERIFIED in source


def _marks(*marks: str) -> str:
    shown = [m for m in marks if m]
    return f" ({', '.join(shown)})" if shown else ""


def _lift_text(row: pd.Series, kind: str) -> str:
    lo, hi = row[f"{kind}_pct_low"], row[f"{kind}_pct_high"]
    if pd.isna(hi):
        return "none published"
    if hi == 0:
        return "about 0"
    span = f"+{lo:g}%" if lo == hi else f"+{lo:g}% to +{hi:g}%"
    return span + _marks("vendor" if row[f"{kind}_vendor_claim"] else "",
                         NOT_VERIFIED if unverified(row[f"{kind}_source"]) else "")


def _fee_text(row: pd.Series) -> str:
    p, f, lo, hi = row["fee_pct"], row["fee_fixed_usd"], row["fee_pct_low"], row["fee_pct_high"]
    if lo == hi:
        return fee_text(p, f)
    return fee_text(p, f) + f" (seen {lo:g}–{hi:g}%" + (f", {NOT_VERIFIED})" if unverified(row["fee_source"]) else ")")


def comparison_table(methods: pd.DataFrame | None = None) -> pd.DataFrame:
    """The methods side by side in words: fee, settlement, risk, tokenization, published lifts. A lift
    or a fee range whose source says "not verified" (vendor anecdotes, Shopify's Klarna rates) shows
    that mark beside the figure, so a student who copies the table copies the mark too."""
    m = load_methods() if methods is None else methods
    return pd.DataFrame({
        "method": m["method"],
        "fee": [_fee_text(r) for _, r in m.iterrows()],
        "settlement": m["settlement"],
        "fraud risk": m["fraud_risk"],
        "default risk": m["default_risk"],
        "tokenization": m["tokenization"],
        "conversion lift": [_lift_text(r, "conv_lift") for _, r in m.iterrows()],
        "order-value lift": [_lift_text(r, "aov_lift") for _, r in m.iterrows()],
    }).set_index("method")


def sources_table(methods: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per sourced figure: method, what, source, year, vendor claim, and whether the
    kit could read the figure at the source named ("not verified" otherwise)."""
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
                         "vendor claim": "yes" if claim is True else ("no" if claim is False else "price/doc"),
                         "checked": NOT_VERIFIED if unverified(src) else "read at the source"})
    return pd.DataFrame(rows)
