"""Do the dollar figures of a Part E text agree with the model, for the assumptions the text states?

1. The text's own assumptions are read where it states them: the revenue ("$20M in revenue"), the
   gross margin ("a 38% gross margin") and mobile's share of revenue ("mobile is 65% of revenue");
   anything not stated is the kit's default (the handout's retailer, the sourced data).
2. Each dollar figure is compared with what the model gives, for those assumptions, for the method
   family its sentence names (else the one the sentence before names, else the model's two picks): each
   method's low,
   base and high extra gross profit a year, and the retailer's revenue and mobile revenue; where the
   sentence speaks of them, also the extra revenue, the wallets' base across the mobile-share range
   and the handout's shortcut; where it states a lift ("at a 5% lift"), the base at that lift.
3. A figure agrees when it is within :data:`RELATIVE` (1%) of one of those, or $250; or when it is
   that figure rounded as the student wrote it: to the nearest $1k ("$2k" for $1,605), or more
   coarsely ("$140k" for $142,000; "$300k" for $307,174) at most :data:`ROUNDED` (10%) away. Everything else disagrees, and the check says which.
Context figures that are not results are left out: amounts per order, caps, fees and dispute fees,
and revenue brackets ("$10M–$100M retailers").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from labkit.checks.money_text import Figure, dollar_figures
from labkit.checks.recommend import families

RELATIVE, ABSOLUTE, ROUNDED = 0.01, 250.0, 0.10
TOLERANCE = ("within 1% (or $250) of a figure the model gives, or that figure rounded as written (to $1k, or "
             "coarser and at most 10% off)")
_CONTEXT = re.compile(r"per\s+(?:order|payment|transaction|purchase)|average\s+order|order\s+value|\baov\b|basket|"
                      r"\bcap(?:ped|s)?\b|\blimit|pay[-\s]in[-\s](?:4|four)|orders?\s+(?:of|up|over|under|above|below)|dispute|\bfee\b|\bfees\b|fixed|a\s+payment|each\s+payment|"
                      r"price|costs?\s+\$|tent|boots?|jacket|item|within|differ|\bgap\b", re.I)
_BRACKET_AFTER = re.compile(r"^\s*(?:[-–—]\s*\S+\s*)?(?:in\s+revenue\s+)?(?:retailers?|merchants?|compan|businesses|"
                            r"brands|stores|sellers|shops)", re.I)
_BRACKET_BEFORE = re.compile(r"(?:retailers?|merchants?|companies|businesses|brands|stores|shops)\s+(?:with\s+|of\s+|"
                             r"between\s+|from\s+|making\s+|earning\s+)?(?:\$\S+\s*(?:and|to|[-–—])\s*)?$", re.I)
_GROUP_OF = {"digital wallets": "wallet", "BNPL": "bnpl", "crypto": "crypto"}


@dataclass(frozen=True)
class Assumptions:
    revenue: float | None = None
    gross_margin: float | None = None
    mobile_revenue_share: float | None = None

    def read(self) -> list[str]:
        out = []
        if self.revenue:
            out.append(f"revenue ${self.revenue / 1e6:,.1f}M")
        if self.gross_margin:
            out.append(f"gross margin {self.gross_margin:.0%}")
        if self.mobile_revenue_share:
            out.append(f"mobile {self.mobile_revenue_share:.0%} of revenue")
        return out


_MARGIN = re.compile(r"(\d{1,2}(?:\.\d+)?)\s*%\s*(?:gross\s+)?margin|(?:gross\s+)?margin\s+(?:of|at|is|=|:|near|about|"
                     r"around|~)?\s*(?:about|around|roughly|~)?\s*(\d{1,2}(?:\.\d+)?)\s*%", re.I)
_MOBILE = re.compile(r"mobile(?:'s)?\s+share\s+of\s+(?:revenue|sales)\s+(?:is|of|at|=|:|to|as)?\s*(?:about|around|roughly|~)?\s*"
                     r"(\d{1,2}(?:\.\d+)?)\s*%|"
                     r"mobile[^.%\d]{0,40}?(\d{1,2}(?:\.\d+)?)\s*%\s+of\s+(?:the\s+|its\s+|total\s+|online\s+)*"
                     r"(?:revenue|sales)|(\d{1,2}(?:\.\d+)?)\s*%\s+of\s+(?:the\s+|its\s+|total\s+|online\s+)*"
                     r"(?:revenue|sales)[^.\d%]{0,30}mobile|(\d{1,2}(?:\.\d+)?)\s*%\s+mobile\s+(?:revenue|sales)", re.I)
_REVENUE = re.compile(r"revenue|sales|turnover", re.I)
_SHARE = re.compile(r"mobile[-\s]share|share\s+of\s+(?:revenue|sales)|range|across|between", re.I)
_SHORTCUT = re.compile(r"shortcut|handout|formula|naive|back[-\s]of[-\s](?:the[-\s])?envelope", re.I)


_REVENUE_CUE = re.compile(r"revenue|sales|turnover|a\s+year|per\s+year|annual|yearly|makes|earns|brings\s+in", re.I)
_NOT_TOTAL = re.compile(r"mobile|desktop|extra|additional|more|increase|retailers?|merchants?|lift|gain|profit", re.I)


def stated_assumptions(text: str) -> Assumptions:
    """The assumptions the text states (None where it states none). The revenue is the largest
    figure of $1M or more stated as the shop's revenue (not mobile's share of it, not a bracket)."""
    revenues = [f.value for f in dollar_figures(text) if f.value >= 1e6 and not _excluded(text, f)
                and _REVENUE_CUE.search(text[max(0, f.start - 25):f.end + 25])
                and not _NOT_TOTAL.search(text[max(0, f.start - 25):f.end + 12])]
    margin = _stated(text, _MARGIN, 5, 95)
    mobile = _stated(text, _MOBILE, 0.1, 99.9)
    return Assumptions(max(revenues) if revenues else None, margin, mobile)


_MINE = re.compile(r"\b(?:i|we)\b|assum|\btake\b|\btaking\b|\btreat|\buse\b|\busing\b|\bsuppose", re.I)


def _stated(text: str, pattern: re.Pattern[str], low: float, high: float) -> float | None:
    """The percentage ``pattern`` finds, as a fraction: the one in a sentence that states it as the
    student's own ("I take mobile as 50% of revenue") over one quoted from a source; else the first."""
    found = []
    for m in pattern.finditer(text):
        value = float(next(g for g in m.groups() if g))
        if low <= value <= high:
            start, _ = _sentence_bounds(text, m.start())
            found.append((not _MINE.search(text[max(start, m.start() - 30):m.end()]), m.start(), value / 100))
    return min(found)[2] if found else None


@lru_cache(maxsize=32)
def model_figures(assumed: Assumptions) -> dict[str, list[tuple[str, float]]]:
    """Per family ("wallet", "bnpl", "crypto", and "retailer"), (what, dollars) the model gives."""
    from labkit import altpay

    kwargs = {k: v for k, v in vars(assumed).items() if v is not None}
    retailer = altpay.Retailer(**kwargs)
    fig = altpay.figures_for(retailer)
    table = altpay.compare(retailer)
    out: dict[str, list[tuple[str, float]]] = {f"{kind}{g}": [] for kind in ("", "revenue:", "share:", "shortcut:")
                                                for g in ("wallet", "bnpl", "crypto")}
    out["retailer"] = []
    for mid, m in fig["methods"].items():
        for which in ("low", "base", "high"):
            out[m["group"]].append((f"{m['method']} {which}", float(m[which])))
        out[f"revenue:{m['group']}"].append((f"{m['method']} extra revenue", float(table.loc[mid, "delta_revenue"])))
    for which in ("low", "high"):
        out["share:wallet"].append((f"wallets' base at the {which} mobile share",
                                    float(fig["mobile_share"]["wallet_base"][which])))
    for group, value in fig["naive"].items():
        out[f"shortcut:{group}"].append(("the handout's shortcut", float(value)))
    out["picks"] = sorted({fig["methods"][p]["group"] for p in fig["recommended"]})  # type: ignore[assignment]
    out["retailer"] += [("revenue", float(retailer.revenue)),
                        ("mobile revenue", float(retailer.revenue * retailer.mobile_revenue_share))]
    return out


def agrees(figure: Figure, value: float) -> bool:
    gap = abs(figure.value - value)
    if gap <= max(RELATIVE * abs(value), ABSOLUTE):
        return True
    return gap <= figure.step / 2 and (figure.step <= 1000 or gap <= ROUNDED * abs(value))


def _sentence_bounds(text: str, at: int) -> tuple[int, int]:
    starts = [m.end() for m in re.finditer(r"[.!?](?=\s)|\n\s*\n|^\s*[-*•]", text[:at], re.M)]
    start = starts[-1] if starts else 0
    m = re.search(r"[.!?](?=\s|$)|\n\s*\n", text[at:])
    return start, at + (m.end() if m else len(text) - at)


def _excluded(text: str, f: Figure) -> bool:
    start, _ = _sentence_bounds(text, f.start)
    before, after = text[max(start, f.start - 30):f.start], text[f.end:f.end + 25]
    return bool(_CONTEXT.search(before + " " + after[:15]) or _BRACKET_AFTER.match(after)
                or _BRACKET_BEFORE.search(before))


_LIFT = re.compile(r"(\d{1,2}(?:\.\d+)?)\s*%\s+(?:(?:conversion|sales|revenue)\s+)?(?:lift|uplift|more\s+sales)|"
                   r"(?:lift|uplift)\s+(?:of|at|is|=|:)?\s*(?:about|around|~)?\s*(\d{1,2}(?:\.\d+)?)\s*%", re.I)


def stated_lifts(sentence: str) -> list[float]:
    """The lifts a sentence states ("at a 5% lift", "a lift of 4%"), as fractions."""
    return [float(a or b) / 100 for a, b in _LIFT.findall(sentence) if 0 < float(a or b) < 50]


@lru_cache(maxsize=256)
def at_lift(assumed: Assumptions, group: str, lift: float) -> float:
    """The base extra gross profit of the group's best method at the stated lift."""
    from labkit import altpay

    kwargs = {k: v for k, v in vars(assumed).items() if v is not None}
    return float(altpay.estimate(altpay.Retailer(**kwargs), group, lift=lift).base)


@dataclass
class Judged:
    figure: Figure
    agrees: bool
    about: str                      # the families its sentence names, or "any method"
    model: list[tuple[str, float]]  # what the model gives there


def judge(text: str, assumed: Assumptions | None = None) -> list[Judged]:
    """Every result figure of ``text`` (>= $1,000, not context), judged against the model."""
    assumed = assumed or stated_assumptions(text)
    table = model_figures(assumed)
    out, previous = [], []
    for f in dollar_figures(text):
        if abs(f.value) < 1000 or _excluded(text, f):
            continue
        start, end = _sentence_bounds(text, f.start)
        sentence = text[start:end]
        named = [_GROUP_OF[n] for n in families(sentence)] or previous
        previous = named or previous
        groups = named or table["picks"]  # a figure about no method in particular: the model's two picks
        candidates = [c for g in groups for c in table[g]] + table["retailer"]
        candidates += [(f"{g} at a {lift:.1%} lift", at_lift(assumed, g, lift))
                       for g in groups for lift in stated_lifts(sentence)]  # the student's stated lift
        for kind, cue in (("revenue:", _REVENUE), ("share:", _SHARE), ("shortcut:", _SHORTCUT)):
            if cue.search(sentence):  # figures the model gives for this only where the sentence speaks of it
                candidates += [c for g in groups for c in table[f"{kind}{g}"]]
        out.append(Judged(f, any(agrees(f, v) for _, v in candidates),
                          " and ".join(sorted(set(named))) or "the model's picks", candidates))
    return out
