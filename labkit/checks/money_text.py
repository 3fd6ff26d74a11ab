"""Dollar figures as students write them: "$142,000", "USD 142,000", "US$142k", "142k", "$1.2M",
"142 thousand", "$0.14 million", "142,000 dollars", ranges such as "$32–307k" (the unit of the
second number applies to the first), and a leading minus for a loss.

A number with a magnitude (k, thousand, M, million) counts as money unless a count follows it
("15k visits", "2 million shoppers"); a plain number ("142,000") counts only with a currency
mark ($, US$, USD, "dollars"). Each figure keeps where it was found, so a check can read the
words around it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"k": 1e3, "K": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "M": 1e6, "mn": 1e6, "mm": 1e6, "million": 1e6,
          "b": 1e9, "bn": 1e9, "billion": 1e9}
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+,\d{1,2}(?![\d,])|\d+(?:\.\d+)?|\.\d+"  # "1,2M": a decimal comma
_UNIT = r"(?:thousand|million|billion|grand|mn|mm|bn|[kKmMbB])(?![A-Za-z])"
_CURRENCY = r"(?:US\s?\$|USD\s?\$?|\$|dollars?\b)"
_COUNT_NOUNS = re.compile(
    r"\s*(?:more\s+|extra\s+|new\s+|monthly\s+|annual\s+|yearly\s+)?(?:visits?|visitors?|orders?|customers?|shoppers?|"
    r"users?|people|transactions?|payments?|sessions?|adults?|downloads?|clicks?|views?|units?|items?|households?|"
    r"americans?|consumers?|buyers?|merchants?|stores?|words?|times?|rows?|events?)\b", re.I)
FIGURE = re.compile(
    rf"(?P<sign>[-−–]\s?)?(?P<cur>{_CURRENCY})?\s?(?P<sign2>[-−])?(?P<num>{_NUMBER})\s?(?P<unit>{_UNIT})?"
    rf"(?P<after>\s?(?:USD|US\s?dollars|dollars?)\b)?")
_RANGE_GAP = re.compile(r"\s?(?:[-–—]|to)\s?(?:" + _CURRENCY + r")?\s?$")


@dataclass(frozen=True)
class Figure:
    value: float
    start: int
    end: int
    text: str
    step: float = 1.0  # the precision it is written to: "$140k" 10,000; "$142,000" 1,000; "$1.2M" 100,000


def _value(num: str, unit: str | None) -> float:
    value = float(num.replace(",", ".") if re.fullmatch(r"\d+,\d{1,2}", num) else num.replace(",", ""))
    return value * _UNITS.get(unit or "", _UNITS.get((unit or "").lower(), 1.0))


def dollar_figures(text: str) -> list[Figure]:
    """Every dollar figure in ``text``, in order (see the module's docstring)."""
    text = text or ""
    matches = [m for m in FIGURE.finditer(text) if _standalone(text, m)]
    out: list[Figure] = []
    for i, m in enumerate(matches):
        cur, unit, after = m.group("cur"), m.group("unit"), m.group("after")
        marked = bool(cur or after)
        if unit is None and i + 1 < len(matches):  # "$32-307k", "32 to 307 thousand": the second's unit
            nxt = matches[i + 1]
            gap = text[m.end("num"):_num_start(nxt)]
            if nxt.group("unit") and _RANGE_GAP.match(gap) and len(gap) <= 6 and (marked or _is_money(text, nxt)):
                unit, marked = nxt.group("unit"), True
        if not (marked or (unit is not None and _is_money(text, m))):
            continue
        value = _value(m.group("num"), unit)
        if (m.group("sign") and (m.start() == 0 or not text[m.start() - 1].isalnum())) or m.group("sign2"):
            value = -value
        out.append(Figure(value, m.start(), m.end(), m.group(0).strip(), _step(m.group("num"), unit)))
    return out


def _step(num: str, unit: str | None) -> float:
    digits = num.replace(",", ".") if re.fullmatch(r"\d+,\d{1,2}", num) else num.replace(",", "")
    if "." in digits:
        step = 10.0 ** -len(digits.split(".", 1)[1])
    else:
        step = 10.0 ** (len(digits) - len(digits.rstrip("0"))) if digits.strip("0") else 1.0
    return step * _value("1", unit)


def _num_start(m: re.Match[str]) -> int:
    return m.start("cur") if m.group("cur") else m.start("num")


def _standalone(text: str, m: re.Match[str]) -> bool:
    """Not part of a word, a version number or an identifier; not "dollars 5"."""
    start = _num_start(m)
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
        return False
    cur = m.group("cur")
    return not (cur and cur.lower().startswith("dollar"))


def _is_money(text: str, m: re.Match[str]) -> bool:
    """A magnitude without a currency mark: money unless a count or a length follows."""
    if m.group("cur") or m.group("after"):
        return True
    if m.group("unit") is None or _COUNT_NOUNS.match(text, m.end()):
        return False
    return not (m.group("unit") in "mM" and _looks_like_length(text, m))


def _looks_like_length(text: str, m: re.Match[str]) -> bool:
    """'5 m' as five metres: a bare "m" after a space, with no currency, before a length word."""
    return bool(re.match(r"\s*(?:long|tall|wide|high|away)\b", text[m.end():]))


def amounts(text: str) -> list[float]:
    return [f.value for f in dollar_figures(text)]
