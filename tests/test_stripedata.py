"""The payments table and outcome chart, read through the API from a fake Stripe of their own."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
import requests
import stripe

from labkit.fakestripe import FakeStripe
from labkit.stripedata import COLUMNS, outcome_counts, payments_frame, plot_outcomes, save_outcomes_chart
from tests.helpers import SECRET_KEY


@pytest.fixture(scope="module")
def own():
    with FakeStripe() as fake:
        yield fake, stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake.url}, max_network_retries=0)


def _pi(client, pm=None, amount=1800, currency="usd", product="Safety Hard Hat"):
    params = {"amount": amount, "currency": currency, "payment_method_types": ["card"], "metadata": {"product_name": product, "product_id": "prod_001"}}
    if pm:
        params.update(payment_method=pm, confirm=True)
    try:
        return client.v1.payment_intents.create(params=params).id
    except stripe.CardError as exc:
        return exc.error.payment_intent.id


def _authenticate(fake, pi_id, result):
    resp = requests.post(f"{fake.url}/v1/test_helpers/payment_intents/{pi_id}/authenticate",
                         data={"result": result}, headers={"Authorization": f"Bearer {SECRET_KEY}"}, timeout=10)
    assert resp.status_code == 200, resp.text


@pytest.fixture(scope="module")
def made(own):
    fake, client = own
    ids = {
        "success": _pi(client, "pm_card_visa"),
        "insufficient": _pi(client, "pm_card_visa_chargeDeclinedInsufficientFunds", amount=900,
                            product="Cut-5 Safety Gloves"),
        "generic": _pi(client, "pm_card_visa_chargeDeclined", amount=450, product="Safety Glasses"),
        "3ds_ok": _pi(client, "pm_card_authenticationRequiredOnSetup"),
        "3ds_fail": _pi(client, "pm_card_authenticationRequiredOnSetup"),
        "3ds_pending": _pi(client, "pm_card_authenticationRequired"),
        "untouched": _pi(client),
        "yen": _pi(client, "pm_card_visa", amount=500, currency="jpy"),
    }
    _authenticate(fake, ids["3ds_ok"], "complete")
    _authenticate(fake, ids["3ds_fail"], "fail")
    return ids


def test_columns_types_and_order(own, made):
    df = payments_frame(own[1])
    assert list(df.columns) == COLUMNS == ["id", "created", "product", "amount", "currency", "status",
                                           "decline_code", "error_code", "three_d_secure", "amount_minor"]
    assert len(df) == len(made)
    assert df["amount"].dtype == float and df["three_d_secure"].dtype == bool
    assert isinstance(df["created"].dtype, pd.DatetimeTZDtype) and str(df["created"].dt.tz) == "UTC"
    assert list(df["id"]) == list(reversed(made.values()))  # newest first, like the Dashboard


def test_rows_say_what_happened(own, made):
    df = payments_frame(own[1]).set_index("id")
    row = lambda key: df.loc[made[key]]  # noqa: E731
    assert row("success")[["amount", "currency", "status", "three_d_secure"]].tolist() == \
        [18.0, "USD", "succeeded", False]
    assert pd.isna(row("success")["decline_code"])
    assert row("success")["product"] == "Safety Hard Hat"
    assert row("insufficient")[["amount", "status", "decline_code"]].tolist() == \
        [9.0, "requires_payment_method", "insufficient_funds"]
    assert row("generic")["decline_code"] == "generic_decline" and row("generic")["amount"] == 4.5
    assert row("3ds_ok")["status"] == "succeeded" and bool(row("3ds_ok")["three_d_secure"]) is True
    # Issue 24: a failed 3D Secure has no decline code (Stripe's decline codes page); its error code has its own column
    assert pd.isna(row("3ds_fail")["decline_code"])
    assert row("3ds_fail")["error_code"] == "payment_intent_authentication_failure"
    assert row("insufficient")["error_code"] == "card_declined" and pd.isna(row("success")["error_code"])
    import json
    from importlib import resources

    fact = next(s for s in json.loads(resources.files("labkit.data").joinpath("test_cards.json").read_text())
                ["lab_scenarios"] if s["key"] == "3ds_fail")
    assert fact["decline_code"] is None and fact["error_code"] == row("3ds_fail")["error_code"] and fact["source"]
    assert bool(row("3ds_fail")["three_d_secure"]) is True
    assert row("3ds_pending")["status"] == "requires_action" and bool(row("3ds_pending")["three_d_secure"]) is True
    assert row("untouched")["status"] == "requires_payment_method" and pd.isna(row("untouched")["decline_code"])
    assert row("yen")[["amount", "currency"]].tolist() == [500.0, "JPY"]  # zero-decimal currency


def test_limit_and_pagination_past_100():
    with FakeStripe() as fake:
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake.url}, max_network_retries=0)
        ids = [_pi(client, amount=50 + i) for i in range(103)]
        assert list(payments_frame(client, limit=3)["id"]) == ids[::-1][:3]
        df = payments_frame(client, limit=500)
        assert len(df) == 103 and df["id"].is_unique and set(df["id"]) == set(ids)
        assert list(payments_frame(client, limit=101)["id"]) == ids[::-1][:101]
    with pytest.raises(ValueError):
        payments_frame(client, limit=0)


def test_outcome_counts(own, made):
    counts = outcome_counts(payments_frame(own[1]))
    assert counts.to_dict() == {"succeeded": 3, "3D Secure failed": 1, "awaiting 3D Secure": 1,
                                "declined: generic_decline": 1, "declined: insufficient_funds": 1, "incomplete": 1}
    assert list(counts.index)[0] == "succeeded"


def test_plot_and_save_chart(own, made, tmp_path):
    import matplotlib.pyplot as plt

    df = payments_frame(own[1])
    ax = plot_outcomes(df)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == set(outcome_counts(df).index)
    assert sorted(int(p.get_width()) for p in ax.patches) == sorted(outcome_counts(df).tolist())
    plt.close(ax.figure)
    path = save_outcomes_chart(df, tmp_path / "charts" / "payments.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_account():
    with FakeStripe() as fake:
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake.url}, max_network_retries=0)
        df = payments_frame(client)
        assert df.empty and list(df.columns) == COLUMNS
        ax = plot_outcomes(df)
        assert "none yet" in ax.get_title()


def test_a_fresh_offline_account_gets_the_five_scenarios_server_side():
    from labkit.fakestripe import FakeStripe
    from labkit.stripedata import lab_payments

    with FakeStripe() as fresh:
        client = stripe.StripeClient("sk_test_labkit_tests_fake_key", base_addresses={"api": fresh.url},
                                     max_network_retries=0)
        assert lab_payments(client).empty  # without make_if_empty nothing is made
        df = lab_payments(client, make_if_empty=True)
        assert len(df) == 5 and (df["amount_minor"] == 1800).all()
        assert sorted(df["status"]) == ["requires_payment_method"] * 3 + ["succeeded"] * 2
        assert set(df["decline_code"].dropna()) == {"insufficient_funds", "generic_decline"}
        assert set(df["error_code"].dropna()) == {"card_declined", "payment_intent_authentication_failure"}
        assert df["three_d_secure"].sum() == 2
        assert len(lab_payments(client, make_if_empty=True)) == 5  # not made twice


def test_runs_payments_keeps_run_order_and_readable_formats(own, made):
    from types import SimpleNamespace

    from labkit.stripedata import readable, runs_payments

    runs = [SimpleNamespace(scenario=key, payment_intent=pi) for key, pi in made.items()]
    df = runs_payments(own[1], runs)
    assert list(df["scenario"]) == list(made) and list(df["id"]) == list(made.values())
    shown = readable(df)
    assert shown["amount"].str.startswith("$").all() and shown["created"].str.endswith("UTC").all()
    assert (shown["decline_code"] == "—").sum() == df["decline_code"].isna().sum()
    assert shown.set_index("scenario").loc["3ds_fail", ["decline_code", "error_code"]].tolist() == \
        ["—", "payment_intent_authentication_failure"]
