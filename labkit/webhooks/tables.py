"""The student's orders and Stripe's deliveries as pandas tables, sorted so reruns print the same.

Orders are whatever the student's ``GET /orders`` holds (:func:`labkit.webhooks.probe.orders_by_pi`):
the columns shown are the ones the handout's orders have, plus any others the student added.
"""
from __future__ import annotations

import json
from typing import Any

FIRST = ["status", "product", "amount", "currency", "fulfillment"]


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)[:80]
    return value


def orders_table(orders: dict[str, list[dict[str, Any]]], all_columns: bool = False):
    """One row per order (index: PaymentIntent id; a PaymentIntent with two orders shows twice):
    the handout's fields and the number of events; ``all_columns`` adds every other field the
    student's orders hold."""
    import pandas as pd

    rows = [{"payment_intent": pi, **{k: _cell(v) for k, v in o.items()
                                      if all_columns or k in FIRST or k == "events"}}
            for pi, found in orders.items() for o in found]
    for row in rows:
        if not all_columns and isinstance(row.get("events"), str) and row["events"].startswith("["):
            row["events"] = row["events"].count('"') // 2  # how many events made this order
    if not rows:
        return pd.DataFrame(columns=["status"], index=pd.Index([], name="payment_intent"))
    extra = sorted({k for r in rows for k in r} - {"payment_intent", *FIRST})
    frame = pd.DataFrame(rows, columns=["payment_intent", *FIRST, *extra])
    frame = frame.dropna(axis=1, how="all").fillna("")
    sort = [c for c in ("product", "amount", "status") if c in frame]
    frame = frame.astype({c: str for c in sort}).sort_values(sort, kind="stable") if sort else frame
    return frame.set_index("payment_intent")


def deliveries_summary(deliveries: list[dict[str, Any]]):
    """How many deliveries of each event type got each HTTP status (what Stripe saw)."""
    import pandas as pd

    frame = pd.DataFrame(deliveries, columns=["type", "http_status"])
    frame["http_status"] = frame["http_status"].fillna(0).astype(int).astype(str).replace("0", "no answer")
    return (frame.groupby(["type", "http_status"]).size().rename("deliveries").reset_index()
            .sort_values(["type", "http_status"]).reset_index(drop=True))
