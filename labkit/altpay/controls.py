"""Part E in a notebook (display only): widgets for the main assumptions, redrawing the picks.

The controls start at exactly the data's values (Klarna's 5.99%, not a rounded 6.0%), and
:func:`table_for` changes only what a control has moved away from its start, so the widget
untouched shows the same table, chart and recommendation as :func:`~labkit.altpay.compare`.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

from labkit.altpay.charts import plot_ranges
from labkit.altpay.data import AltPayData, load_data
from labkit.altpay.fmt import k
from labkit.altpay.model import compare, recommend
from labkit.altpay.retailer import Retailer

RETAILER_CONTROLS = ("mobile_revenue_share", "gross_margin", "aov")
# name: (label, low, high, step, readout format) for the sliders
SLIDERS = {
    "mobile_revenue_share": ("mobile share of revenue", 0.2, 0.9, 0.01, ".0%"),
    "gross_margin": ("gross margin", 0.2, 0.6, 0.01, ".0%"),
    "aov": ("average order ($)", 40, 400, 5, ".0f"),
    "wallet_lift": ("wallet lift (base)", 0, 0.2, 0.005, ".1%"),
    "bnpl_lift": ("BNPL lift (base)", 0, 0.12, 0.005, ".1%"),
    "bnpl_adoption": ("BNPL adoption", 0, 0.25, 0.005, ".1%"),
}


def bnpl_methods(data: AltPayData) -> list[str]:
    m = data.methods
    return list(m.index[m["group"] == "bnpl"])


def defaults(retailer: Retailer | None = None, data: AltPayData | None = None) -> dict[str, float]:
    """Every control's starting value: the retailer's figures, the data's base lifts and
    adoption, and each BNPL method's own fee (``fee_klarna`` = 5.99)."""
    retailer = retailer or Retailer()
    data = data or load_data()
    values = {f: float(getattr(retailer, f)) for f in RETAILER_CONTROLS}
    values["wallet_lift"] = data.range("lift", "wallet")[1]
    values["bnpl_lift"] = data.range("lift", "bnpl")[1]
    values["bnpl_adoption"] = data.value("adoption", "bnpl")
    for mid in bnpl_methods(data):
        values[f"fee_{mid}"] = float(data.methods.loc[mid, "fee_pct"])
    return values


def _rescale(rng: tuple[float, float, float], new_base: float) -> tuple[float, float, float]:
    """Move a (low, base, high) range so its base is ``new_base``, keeping its proportions."""
    low, base, high = rng
    if base == 0:
        return (low, new_base, high + new_base)
    return (low * new_base / base, new_base, high * new_base / base)


def table_for(retailer: Retailer | None, values: Mapping[str, float], data: AltPayData | None = None) -> pd.DataFrame:
    """The :func:`compare` table for the controls' ``values``; a value equal to its default
    changes nothing."""
    retailer = retailer or Retailer()
    data = data or load_data()
    start = defaults(retailer, data)
    moved = {name: float(v) for name, v in values.items() if name in start and float(v) != start[name]}
    r_changes = {f: moved[f] for f in RETAILER_CONTROLS if f in moved}
    r = retailer.with_(**r_changes) if r_changes else retailer
    overrides: dict[str, dict] = {"wallet": {}, "bnpl": {}}
    if "wallet_lift" in moved:
        overrides["wallet"]["lift"] = _rescale(data.range("lift", "wallet"), moved["wallet_lift"])
    if "bnpl_lift" in moved:
        overrides["bnpl"]["lift"] = _rescale(data.range("lift", "bnpl"), moved["bnpl_lift"])
    if "bnpl_adoption" in moved:
        overrides["bnpl"]["adoption"] = moved["bnpl_adoption"]
    for mid in bnpl_methods(data):
        if f"fee_{mid}" in moved:
            overrides[mid] = {"fee_pct": moved[f"fee_{mid}"]}
    return compare(r, overrides=overrides, data=data)


def recommendation_line(table: pd.DataFrame) -> str:
    """``Recommended: Klarna (base $142k) and Apple Pay / Google Pay (base $119k)``."""
    picks = recommend(table)
    return "Recommended: " + " and ".join(f"{table.loc[m, 'method']} (base {k(table.loc[m, 'base'])})" for m in picks)


def controls(retailer: Retailer | None = None, data: AltPayData | None = None) -> dict:
    """The ipywidgets controls by name, at their :func:`defaults`."""
    import ipywidgets as w

    data = data or load_data()
    start = defaults(retailer, data)
    style = {"description_width": "170px"}
    layout = w.Layout(width="480px")
    out = {}
    for name, (label, lo, hi, step, fmt) in SLIDERS.items():
        v = start[name]
        out[name] = w.FloatSlider(value=v, min=min(lo, v), max=max(hi, v), step=step, description=label,
                                  readout_format=fmt, style=style, layout=layout, continuous_update=False)
    for mid in bnpl_methods(data):
        out[f"fee_{mid}"] = w.BoundedFloatText(
            value=start[f"fee_{mid}"], min=0, max=20, step=0.01, style=style, layout=w.Layout(width="300px"),
            description=f"{data.methods.loc[mid, 'method']} fee (% of order)")
    return out


def widgets(retailer: Retailer | None = None, *, data: AltPayData | None = None):
    """Controls for the main assumptions, redrawing the ranges chart and the two picks.
    Returns an ipywidgets ``VBox`` (display it in a notebook)."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    retailer = retailer or Retailer()
    data = data or load_data()
    ctrls = controls(retailer, data)

    def redraw(**values):
        table = table_for(retailer, values, data)
        print(recommendation_line(table))
        plot_ranges(table)
        plt.show()

    out = w.interactive_output(redraw, ctrls)
    return w.VBox([w.HTML("<b>Part E assumptions</b> (other figures from the data files; "
                          "fees start at each method's own)"), *ctrls.values(), out])
