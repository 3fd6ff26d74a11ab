"""The kit's data files (JSON, CSV), each with its source and date inside; read through :func:`load_json`."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=None)
def load_json(*parts: str) -> Any:
    """``labkit/data/<parts…>`` parsed, once per process (callers must not change what they get)."""
    return json.loads(resources.files("labkit.data").joinpath(*parts).read_text(encoding="utf-8"))


def test_cards() -> dict[str, Any]:
    """``test_cards.json``: Stripe's test cards the lab uses, and the lab's browser scenarios."""
    return load_json("test_cards.json")


def more_test_cards() -> dict[str, Any]:
    """``stripe_more_test_cards.json``: Stripe's other public test numbers (the leak scanner lets them pass)."""
    return load_json("stripe_more_test_cards.json")
