"""The handler's orders and deliveries as pandas tables, sorted so reruns print the same."""
from __future__ import annotations

from typing import Any

ORDER_COLUMNS = ["product", "amount", "currency", "status", "fulfillment", "failure_code", "dispute_reason",
                 "refunded", "events"]


def orders_table(orders: dict[str, dict[str, Any]]):
    """One row per order (index: PaymentIntent id), sorted by product, amount and status."""
    import pandas as pd

    rows = [{"payment_intent": pi, **{k: o.get(k) for k in ORDER_COLUMNS if k != "events"},
             "events": ", ".join(sorted(h["type"] for h in o["history"]))} for pi, o in orders.items()]
    frame = pd.DataFrame(rows, columns=["payment_intent", *ORDER_COLUMNS])
    for text in ("fulfillment", "failure_code", "dispute_reason"):
        frame[text] = frame[text].fillna("")
    frame = frame.sort_values(["product", "amount", "status", "events"], na_position="last", kind="stable")
    return frame.set_index("payment_intent")


def history_table(order: dict[str, Any]):
    """The events that changed one order, in the order they were applied."""
    import pandas as pd

    return pd.DataFrame([{"event type": h["type"], "effect": h["effect"]} for h in order["history"]])


def deliveries_summary(deliveries: list[dict[str, Any]]):
    """How many deliveries of each event type ended in each outcome."""
    import pandas as pd

    frame = pd.DataFrame(deliveries, columns=["type", "outcome", "http_status"])
    frame["type"] = frame["type"].fillna("(not an event)")
    return (frame.groupby(["type", "outcome", "http_status"]).size().rename("deliveries").reset_index()
            .sort_values(["type", "outcome", "http_status"]).reset_index(drop=True))
