"""The shop's catalog (``labkit/data/catalog.json``: the handout's ``PRODUCTS``, prices in cents), and the
example requests notebook 02 sends to the student's checkout.

The checkout itself, with the validation of an order, its price and its idempotency key, is the
student's deliverable: ``checkout_server.py`` at the kit's top. It reads the catalog with
:func:`load_catalog`, imported from :mod:`labkit.checkout` (the path the handout's starter uses).
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _catalog_text() -> str:
    return resources.files("labkit").joinpath("data", "catalog.json").read_text(encoding="utf-8")


def load_catalog() -> dict[str, Any]:
    """The shop's catalog (a fresh copy): ``{"store", "max_quantity", "default_product", "products": {id: {...}}}``."""
    return json.loads(_catalog_text())


# What a student might send, and what the server should answer (notebook 02 shows these).
EXAMPLE_REQUESTS: list[tuple[str, Any]] = [
    ("the handout's body", {"product_id": "prod_001"}),
    ("two hats and glasses", {"items": [{"product_id": "prod_001", "quantity": 2},
                                        {"product_id": "prod_003", "quantity": 1}]}),
    ("unknown product", {"product_id": "prod_999"}),
    ("quantity 0", {"product_id": "prod_001", "quantity": 0}),
    ("quantity 2.5", {"product_id": "prod_001", "quantity": 2.5}),
    ("a price from the browser", {"product_id": "prod_001", "amount": 1}),
    ("a form, not JSON", "product_id=prod_001"),
]


def try_requests(checkout_url: str, examples: list[tuple[str, Any]] | None = None):
    """POST each example to ``/create-payment-intent`` and tabulate the answers (a DataFrame)."""
    import pandas as pd
    import requests

    url = checkout_url.rstrip("/") + "/create-payment-intent"
    rows = []
    for label, body in examples or EXAMPLE_REQUESTS:
        if isinstance(body, str):
            resp = requests.post(url, data=body, timeout=10,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        else:
            resp = requests.post(url, json=body, timeout=10)
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        secret = answer.get("clientSecret") if isinstance(answer, dict) else None
        if resp.ok and isinstance(secret, str):
            shown = f"clientSecret of {secret.split('_secret_')[0]} received"
        elif isinstance(answer, dict) and answer.get("error"):
            shown = str(answer["error"])[:160]
        else:
            shown = f"(not JSON) {resp.text[:80]!r}" if answer is None else str(answer)[:160]
        rows.append({"request": label, "HTTP": resp.status_code, "answer": shown})
    return pd.DataFrame(rows).set_index("request")
