"""Alternative payments (handout Part E): the data, a profit model, charts, widgets and the write-up.

``from labkit import altpay`` gives the names notebook 05 uses; they live in:

* :mod:`labkit.altpay.data`: the two data files (``altpay_methods.csv``, ``altpay_assumptions.csv``)
  and the tables that show them;
* :mod:`labkit.altpay.retailer`: the merchant, and its mobile share of revenue;
* :mod:`labkit.altpay.model`: the profit model, the comparison, the recommendation, sensitivity;
* :mod:`labkit.altpay.fees`: the Part B test payments priced with each method's fees;
* :mod:`labkit.altpay.charts` and :mod:`labkit.altpay.controls` (the widgets): display only;
* :mod:`labkit.altpay.figures`: :func:`figures_for`, the figures a Part E text should quote;
* :mod:`labkit.altpay.section`: the Part E section of ``pci_assessment.md``, and word counts;
* :mod:`labkit.altpay.writeup` (solution edition only): :func:`model_answer`, the instructor's
  model answer, from ``data/model_answers/altpay_part_e.md.j2``.
"""
from labkit.altpay.charts import plot_lift_sensitivity, plot_ranges
from labkit.altpay.data import (GROUP_LABELS, GROUPS, AltPayData, comparison_table, load_assumptions, load_data,
                                load_methods, sources_table)
from labkit.altpay.fees import as_payments, card_fee_baseline
from labkit.altpay.fmt import k as _k  # noqa: F401  (notebook 05 uses altpay._k)
from labkit.altpay.model import (LEVERS, RETAILER_PARAMS, Estimate, compare, estimate, fee_rate, incremental_profit,
                                 naive_estimate, recommend, sensitivity, sensitivity_table)
from labkit.altpay.retailer import (Retailer, derived_mobile_revenue_share, implied_conversion_factor,
                                    mobile_share_range)
from labkit.altpay.controls import recommendation_line, widgets
from labkit.altpay.figures import figures_for
from labkit.altpay.section import PART_E_END, PART_E_START, word_count, write_part_e

try:  # the solution edition only: the student edition has no model answer
    from labkit.altpay.writeup import analysis_text, model_answer  # noqa: F401  (re-exported where present)
except ModuleNotFoundError as exc:
    if exc.name != "labkit.altpay.writeup":
        raise

__all__ = [
    "GROUPS", "GROUP_LABELS", "AltPayData", "load_data", "load_methods", "load_assumptions", "comparison_table",
    "sources_table", "Retailer", "derived_mobile_revenue_share", "implied_conversion_factor", "mobile_share_range",
    "LEVERS", "RETAILER_PARAMS", "Estimate", "estimate", "compare", "recommend", "naive_estimate", "fee_rate",
    "incremental_profit", "sensitivity", "sensitivity_table", "as_payments", "card_fee_baseline",
    "plot_ranges", "plot_lift_sensitivity", "widgets", "recommendation_line", "figures_for",
    "word_count", "write_part_e", "PART_E_START", "PART_E_END",
] + [name for name in ("model_answer", "analysis_text") if name in globals()]
