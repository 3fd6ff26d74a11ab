"""Stripe test data into pandas: the payments table and a chart of outcomes.

This is the kit's stand-in for the handout's "Stripe Dashboard → Payments" screenshots:
the same facts, read through the API (so it works offline against the fake and online in
test mode), as a table and a PNG.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from labkit.money import to_major

COLUMNS = ["id", "created", "product", "amount", "currency", "status", "decline_code", "error_code",
           "three_d_secure", "amount_minor"]
AUTH_FAILED = "payment_intent_authentication_failure"

OUTCOME_COLORS = {"succeeded": "#2e7d32", "3D Secure failed": "#ef6c00", "awaiting 3D Secure": "#f9a825",
                  "canceled": "#757575", "incomplete": "#9e9e9e"}
DECLINE_COLOR = "#c62828"


def _units(amount: int, currency: str) -> float:
    return to_major(amount, currency)


def _row(pi: dict[str, Any]) -> dict[str, Any]:
    err = pi.get("last_payment_error") or {}
    charge = pi.get("latest_charge") if isinstance(pi.get("latest_charge"), dict) else {}
    card = ((charge.get("payment_method_details") or {}).get("card") or {})
    meta = pi.get("metadata") or {}
    three_ds = bool(card.get("three_d_secure")) or err.get("code") == AUTH_FAILED or pi["status"] == "requires_action"
    return {
        "id": pi["id"],
        "created": pd.Timestamp(pi["created"], unit="s", tz="UTC"),
        "product": meta.get("product_name") or meta.get("product_id") or pi.get("description"),
        "amount": _units(pi["amount"], pi["currency"]),
        "currency": pi["currency"].upper(),
        "status": pi["status"],
        # The issuer's decline code (insufficient_funds…) only: a failed 3D Secure has none, only the error
        # code payment_intent_authentication_failure (Stripe, "Decline codes" and "Error codes", read 2026).
        "decline_code": err.get("decline_code") or None,
        "error_code": err.get("code") or charge.get("failure_code") or None,
        "three_d_secure": three_ds,
        "amount_minor": int(pi["amount"]),  # Stripe's integer amount (cents), for fee arithmetic
    }


def payments_frame(client: Any, limit: int = 100) -> pd.DataFrame:
    """The newest ``limit`` PaymentIntents as a DataFrame, newest first.

    Columns: id, created (UTC timestamp), product (metadata), amount (in currency units,
    e.g. dollars), currency, status, decline_code (the issuer's reason for a decline, such as
    ``insufficient_funds``; none for a failed 3D Secure), error_code (Stripe's error code:
    ``card_declined``, ``payment_intent_authentication_failure``…), three_d_secure (bool: a 3D
    Secure challenge happened or is pending). A missing product or code is NaN
    (``df.decline_code.isna()``).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": min(limit, 100), "expand": ["data.latest_charge"]}
    while len(rows) < limit:
        page = client.v1.payment_intents.list(params=params)
        data = [pi.to_dict() for pi in page.data]
        rows.extend(_row(pi) for pi in data)
        if not page.has_more or not data:
            break
        params = {**params, "starting_after": data[-1]["id"], "limit": min(limit - len(rows), 100)}
    frame = pd.DataFrame(rows[:limit], columns=COLUMNS)
    frame["amount"] = frame["amount"].astype(float)
    frame["three_d_secure"] = frame["three_d_secure"].astype(bool)
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    frame["amount_minor"] = frame["amount_minor"].astype("int64")
    return frame


def runs_payments(client: Any, runs: Iterable[Any]) -> pd.DataFrame:
    """The PaymentIntents of browser runs (:class:`labkit.browser.PaymentRun`), in run order,
    read through the API, with the scenario in front."""
    runs = list(runs)
    payments = payments_frame(client).set_index("id")
    found = [r for r in runs if r.payment_intent in payments.index]  # a run whose page made no payment has none
    ours = payments.loc[[r.payment_intent for r in found]].reset_index()
    ours.insert(0, "scenario", [r.scenario for r in found])
    return ours


def readable(df: pd.DataFrame) -> pd.DataFrame:
    """A payments table formatted for people: times as text, amounts in dollars, — for none."""
    return df.assign(created=df["created"].dt.strftime("%Y-%m-%d %H:%M:%S UTC"),
                     amount=df["amount"].map("${:.2f}".format),
                     decline_code=df["decline_code"].fillna("—"), error_code=df["error_code"].fillna("—"))


def make_scenario_payments(client: Any, product_id: str = "prod_001") -> list[str]:
    """The lab's five card scenarios made server-side (test PaymentMethod ids, no browser), as
    ``stripe trigger`` would: for an offline fake that has not seen notebook 02's browser runs.
    3D Secure is finished with the fake's test helper. Returns the PaymentIntent ids."""
    import stripe

    from labkit.browser import load_scenarios
    from labkit.catalog import load_catalog
    from labkit.fakestripe import authenticate_3ds
    from labkit.fakestripe.cards import by_number

    product = load_catalog()["products"][product_id]
    ids = []
    for sc in load_scenarios():
        pi = client.v1.payment_intents.create(params={
            "amount": product["price"], "currency": product["currency"], "payment_method_types": ["card"],
            "metadata": {"product_id": product_id, "product_name": product["name"], "scenario": sc.key}})
        ids.append(pi.id)
        try:
            pi = client.v1.payment_intents.confirm(pi.id, params={"payment_method": by_number(sc.number).pm})
        except stripe.CardError:
            continue  # a declining card: the decline is the point
        if pi.status == "requires_action" and sc.challenge:
            authenticate_3ds(client, pi.id, sc.challenge)
    return ids


def lab_payments(client: Any, make_if_empty: bool = False, limit: int = 100) -> pd.DataFrame:
    """:func:`payments_frame`; with ``make_if_empty`` (offline), an account without payments
    first gets the lab's five scenarios from :func:`make_scenario_payments`."""
    frame = payments_frame(client, limit)
    if frame.empty and make_if_empty:
        make_scenario_payments(client)
        frame = payments_frame(client, limit)
    return frame


def outcome(row: pd.Series | dict[str, Any]) -> str:
    """A one-line outcome for the chart: succeeded, declined: <code>, 3D Secure failed…"""
    status = row["status"]
    decline, error = (row.get(k) for k in ("decline_code", "error_code"))
    decline, error = (c if isinstance(c, str) and c else None for c in (decline, error))  # missing is NaN
    code = decline or error
    if status in ("succeeded", "requires_capture", "processing"):
        return "succeeded"
    if error == AUTH_FAILED:
        return "3D Secure failed"
    if status == "requires_action":
        return "awaiting 3D Secure"
    if status == "canceled":
        return "canceled"
    if code:
        return f"declined: {code}"
    return "incomplete"


def outcome_counts(df: pd.DataFrame) -> pd.Series:
    """How many payments ended each way, in a stable order (succeeded first, then by name)."""
    if df.empty:
        return pd.Series(dtype=int, name="payments")
    counts = df.apply(outcome, axis=1).value_counts()
    order = sorted(counts.index, key=lambda k: (k != "succeeded", k))
    return counts.reindex(order).rename("payments")


def plot_outcomes(df: pd.DataFrame, ax: Any = None, title: str = "Test payments by outcome"):
    """A horizontal bar chart of :func:`outcome_counts`; returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    counts = outcome_counts(df)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.55 * max(len(counts), 2) + 1.2))
    labels = list(counts.index)[::-1]
    values = [int(v) for v in counts.values][::-1]
    colors = [OUTCOME_COLORS.get(k, DECLINE_COLOR) for k in labels]
    bars = ax.barh(labels, values, color=colors)
    for bar, value in zip(bars, values):
        ax.text(bar.get_width() + 0.05, bar.get_y() + bar.get_height() / 2, str(value), va="center", fontsize=9)
    ax.set_xlabel("PaymentIntents")
    ax.set_title(title if not df.empty else f"{title} (none yet)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlim(0, max(values + [1]) * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    ax.figure.tight_layout()
    return ax


def save_outcomes_chart(df: pd.DataFrame, path: Path | str, title: str = "Test payments by outcome") -> Path:
    """Draw :func:`plot_outcomes` on its own figure and save it as a PNG (e.g. ``out/charts/payments.png``)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ax = plot_outcomes(df, title=title)
    ax.figure.savefig(path, dpi=110)
    plt.close(ax.figure)
    return path
