"""Stripe's test cards, read from ``labkit/data/test_cards.json``, and what each one does."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from labkit.data import test_cards


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    funding: str
    outcome: str  # succeed | decline | 3ds | dispute
    pm: str
    label: str
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    after_3ds: str | None = None
    dispute_reason: str | None = None
    cvc_length: int = 3

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def requires_3ds(self) -> bool:
        return self.outcome == "3ds"


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_table() -> dict:
    return test_cards()


@lru_cache(maxsize=1)
def _cards() -> tuple[dict[str, TestCard], dict[str, TestCard]]:
    by_number: dict[str, TestCard] = {}
    by_pm: dict[str, TestCard] = {}
    for row in card_table()["cards"]:
        card = TestCard(**{k: v for k, v in row.items()})
        by_number[card.number] = card
        by_pm[card.pm] = card
    return by_number, by_pm


def all_cards() -> list[TestCard]:
    return list(_cards()[0].values())


def by_number(number: str) -> TestCard | None:
    return _cards()[0].get(number)


def by_pm_alias(alias: str) -> TestCard | None:
    return _cards()[1].get(alias)
