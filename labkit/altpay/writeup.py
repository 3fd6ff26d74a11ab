"""The Part E write-up: the figures a text should quote, and the instructor's model answer.

* :func:`figures_for` gives, for a retailer and any overrides (the student's own
  assumptions), the key figures as plain numbers: per method the base extra gross profit a
  year and its low / high range, the two recommended methods, and the assumptions behind
  them with their sources. A checker compares a student's text with these.
* :func:`model_answer` is the ~400-word analysis the kit writes from the same figures (the
  instructor's model answer in the solution edition). Its prose is the template
  ``labkit/data/altpay_writeup.md.j2``; this module only computes what the template quotes.

Both are pure: they read the data files and return values, and write nothing.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Mapping

import pandas as pd

from labkit.altpay import fmt
from labkit.altpay.data import GROUP_LABELS, GROUPS, AltPayData, data_path, load_data
from labkit.altpay.model import compare, naive_estimate, recommend
from labkit.altpay.retailer import Retailer, conversion_range, derived_mobile_revenue_share, mobile_share_range

PART_E_START = "<!-- labkit:part-e:start -->"
PART_E_END = "<!-- labkit:part-e:end -->"
TEMPLATE = "altpay_writeup.md.j2"


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


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_path(TEMPLATE).parent)),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    env.filters.update(k=fmt.k, pct=fmt.pct, money=fmt.money, join=fmt.join,
                       fee=lambda f: fmt.fee_text(*f), range_pct=lambda lh: fmt.range_pct(*lh))
    return env


def _paragraphs(markdown: str) -> str:
    """One line per paragraph: the template wraps its prose, the text does not."""
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", markdown) if p.strip()]
    return "\n\n".join(paras) + "\n"


def model_answer(retailer: Retailer | None = None, *, overrides: Mapping[str, Mapping] | None = None,
                 data: AltPayData | None = None) -> str:
    """The Part E analysis (about 400 words, Markdown) for these assumptions, every figure
    from :func:`figures_for`, ending with the two recommended methods. In the solution
    edition this is the instructor's model answer; a student writes their own."""
    r = retailer or Retailer()
    data = data or load_data()
    fig = figures_for(r, overrides=overrides, data=data)
    m = data.methods
    ctx = {
        "f": fig, "r": r, "m": fig["methods"], "labels": GROUP_LABELS,
        "wallet": fig["methods"][fig["best_in_group"]["wallet"]],
        "bnpl": fig["methods"][fig["best_in_group"]["bnpl"]],
        "crypto": fig["methods"][fig["best_in_group"]["crypto"]],
        "wallet_row": m.loc["wallet"], "card": m.loc["card"],
        "bnpl_rows": m[m["group"] == "bnpl"], "crypto_rows": m[m["group"] == "crypto"],
        "bnpl_direct": data.range("fee_pct", "bnpl"), "handout_conv": data.range("handout_conv_lift", "wallet"),
        "handout_aov": data.range("handout_aov_lift", "bnpl"),
        "ctx": {key: data.value(key, "context") for key in ("crypto_ever_used", "crypto_paid")},
        "sourced_share": math.isclose(r.mobile_revenue_share, data.value("mobile_revenue_share", "retailer")),
        "left": [GROUP_LABELS[g].lower() for g in GROUPS if g not in {fig["methods"][p]["group"] for p in fig["recommended"]}],
    }
    return _paragraphs(_environment().get_template(TEMPLATE).render(**ctx))


def analysis_text(retailer: Retailer | None = None, *, overrides: Mapping[str, Mapping] | None = None,
                  data: AltPayData | None = None) -> str:
    """The same as :func:`model_answer` (the name notebook 05 and the tests have used)."""
    return model_answer(retailer, overrides=overrides, data=data)


def word_count(text: str) -> int:
    """Words of prose: Markdown markers and the heading line are not counted."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    body = re.sub(r"[*`]", " ", body)
    return len([w for w in body.split() if re.search(r"\w", w)])


def write_part_e(path: str | Path, text: str) -> Path:
    """Write ``text`` into ``path`` between the Part E markers: replace that section if the
    file has it, append it otherwise; create the file (and its folder) if absent.
    (Kept for notebook 05 and the report until the kit's one module for the marked sections
    of ``pci_assessment.md`` takes it over.)"""
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
