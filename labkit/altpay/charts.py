"""Part E charts: each method's profit range, and one method's profit against the lift."""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from labkit.altpay.data import AltPayData, load_data
from labkit.altpay.fmt import pct
from labkit.altpay.model import compare, overrides_for, recommend, sensitivity
from labkit.altpay.retailer import Retailer


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
        method_or_group = recommend(compare(retailer, overrides=overrides, data=data))[0]
    group = data.methods.loc[method_or_group, "group"] if method_or_group in data.methods.index else method_or_group
    s = sensitivity(retailer, method_or_group, "lift", data=data,
                    overrides=overrides_for(overrides, method_or_group, group))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(s["lift"] * 100, s["delta_gp"] / 1e3, color="#2a7ab0", lw=2)
    low, base, high = s.attrs["assumed_range"]
    ax.axvspan(low * 100, high * 100, color="#2a7ab0", alpha=0.12, label="assumed lift range")
    ax.axvline(base * 100, color="black", lw=1, ls="--", label=f"base lift {pct(base)}")
    be = s.attrs["break_even_lift"]
    if be < s["lift"].max():
        ax.axvline(be * 100, color="#b03a2e", lw=1, ls=":", label=f"break-even {pct(be)}")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("lift in revenue per reachable visitor, %")
    ax.set_ylabel("incremental gross profit, $k/yr")
    ax.set_title(f"{s.attrs['method']}: sensitivity to the lift assumption")
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax
