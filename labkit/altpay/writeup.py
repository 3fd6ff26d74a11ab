"""The instructor's model answer for Part E (solution edition only).

:func:`model_answer` writes the ~400-word analysis from :func:`~labkit.altpay.figures.figures_for`
for a set of assumptions. Its prose is the template
``labkit/data/model_answers/altpay_part_e.md.j2``; this module only hands it the figures.
The student edition has neither this module nor the template: students write their own text
in ``answers/part_e.md``.
"""
from __future__ import annotations

import math
import re
from typing import Mapping

from labkit.altpay import fmt
from labkit.altpay.data import GROUP_LABELS, GROUPS, AltPayData, data_path, load_data
from labkit.altpay.figures import figures_for
from labkit.altpay.retailer import Retailer

TEMPLATE = "altpay_part_e.md.j2"  # in labkit/data/model_answers/


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(data_path("model_answers"))),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    env.filters.update(k=fmt.k, pct=fmt.pct, money=fmt.money, join=fmt.join,
                       fee=lambda f: fmt.fee_text(*f), range_pct=lambda lh: fmt.range_pct(*lh))
    return env


def _paragraphs(markdown: str) -> str:
    """One line per paragraph: the template wraps its prose, the text does not."""
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", markdown) if p.strip()]
    return "\n\n".join(paras) + "\n"


def _close_runners_up(fig: dict, group: str, within: float = 5000) -> dict | None:
    """The group's other methods when all are within ``within`` dollars (or 2%) of its best
    (base case): their names and the gap rounded up to $1k; None otherwise."""
    methods = fig["methods"]
    best = methods[fig["best_in_group"][group]]
    others = [m for mid, m in methods.items() if m["group"] == group and mid != fig["best_in_group"][group]]
    if not others or best["base"] - min(m["base"] for m in others) > max(within, 0.02 * abs(best["base"])):
        return None
    gap = max(1000, math.ceil((best["base"] - min(m["base"] for m in others)) / 1000) * 1000)
    return {"names": [m["method"] for m in others], "gap": gap}


def model_answer(retailer: Retailer | None = None, *, overrides: Mapping[str, Mapping] | None = None,
                 data: AltPayData | None = None) -> str:
    """The Part E analysis (about 400 words, Markdown) for these assumptions, every figure
    from :func:`figures_for`, ending with the two recommended methods. In the solution
    edition this is the instructor's model answer; a student writes their own."""
    r = retailer or Retailer()
    data = data or load_data()
    fig = figures_for(r, overrides=overrides, data=data)
    m = data.methods
    picked_groups = {fig["methods"][p]["group"] for p in fig["recommended"]}
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
        "left": [GROUP_LABELS[g].lower() for g in GROUPS if g not in picked_groups],
        "close": _close_runners_up(fig, "bnpl"),
    }
    return _paragraphs(_environment().get_template(TEMPLATE).render(**ctx))


def analysis_text(retailer: Retailer | None = None, *, overrides: Mapping[str, Mapping] | None = None,
                  data: AltPayData | None = None) -> str:
    """The same as :func:`model_answer` (the name notebook 05 and the tests have used)."""
    return model_answer(retailer, overrides=overrides, data=data)

