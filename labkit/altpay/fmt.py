"""How Part E writes its figures in text: $138k, 5.99%, 2.9% + $0.30.

Dollars here are whole-dollar model figures (yearly profit, revenue, an average order), not
payment amounts in cents; payment amounts go through the kit's money formatting.
"""
from __future__ import annotations


def k(x: float) -> str:
    """$ rounded to thousands: $138k, −$3k, $1.2M."""
    sign = "−" if x < 0 else ""
    x = abs(x)
    if round(x / 1e3) >= 1000:
        return f"{sign}${x / 1e6:.1f}M"
    return f"{sign}${x / 1e3:,.0f}k"


def pct(x: float, places: int = 2) -> str:
    """A fraction as a short percent: 0.05 → 5%, 0.0025 → 0.25%, 0.558 → 56%."""
    p = x * 100
    if abs(p) >= 10:
        return f"{p:.0f}%"
    s = f"{p:.{places}f}".rstrip("0").rstrip(".")
    return f"{s}%"


def money(x: float) -> str:
    """Dollars, cents only when there are any: $125, $0.30, $15,000,000."""
    return f"${x:,.2f}" if x % 1 else f"${x:,.0f}"


def fee_text(pct_value: float, fixed: float) -> str:
    """A fee as written on a price list: ``2.9% + $0.30`` (``pct_value`` in percent)."""
    return f"{pct_value:g}%" + (f" + {money(fixed)}" if fixed else "")


def join(names) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def range_pct(lo: float, hi: float) -> str:
    return pct(lo) if lo == hi else f"{pct(lo)}–{pct(hi)}"
