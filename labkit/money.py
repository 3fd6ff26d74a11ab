"""Money: Stripe's amounts are integers in the currency's smallest unit (cents for USD).

The one place that turns them into major units and text. Zero-decimal currencies (JPY, KRW…) have
no minor unit: 500 JPY is ``500``. The list is Stripe's (docs.stripe.com/currencies, "Zero-decimal
currencies", read 2026-11); the kit itself prices in USD.
"""
from __future__ import annotations

ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                          "vuv", "xaf", "xof", "xpf"})


def to_major(amount: int | float, currency: str = "usd") -> float:
    """``1800, "usd"`` → ``18.0``; ``500, "jpy"`` → ``500.0``."""
    return float(amount) if currency.lower() in ZERO_DECIMAL else amount / 100


def format_money(amount: int | float, currency: str = "usd") -> str:
    """``1800, "usd"`` → ``"$18.00"``; other currencies as ``"500 JPY"`` / ``"12.50 EUR"``."""
    major = to_major(amount, currency)
    if currency.lower() == "usd":
        return f"${major:,.2f}"
    places = 0 if currency.lower() in ZERO_DECIMAL else 2
    return f"{major:,.{places}f} {currency.upper()}"
