"""The fake validates what Stripe validates on the parameters the lab sends (through the real `stripe`
package over HTTP): a malformed receipt_email, a statement descriptor too long or with forbidden
characters, metadata as a list, a description too long are 400 invalid_request_error naming the
parameter, with Stripe's codes; and a call refused leaves nothing behind."""
from __future__ import annotations

import pytest
import requests
import stripe

BASE = {"amount": 1800, "currency": "usd", "payment_method_types": ["card"]}


def refused(client, **params):
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.create(params={**BASE, **params})
    return err.value.error


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com", "@example.com",
                                   "x" * 600 + "@example.com"])
def test_a_malformed_receipt_email_is_refused(client, email):
    error = refused(client, receipt_email=email)
    assert error.type == "invalid_request_error" and error.param == "receipt_email"
    assert error.code in ("email_invalid", None)


@pytest.mark.parametrize("email", ["student@example.com", "first.last+lab09@mail.example.edu"])
def test_a_good_receipt_email_is_kept(client, email):
    assert client.v1.payment_intents.create(params={**BASE, "receipt_email": email}).receipt_email == email


@pytest.mark.parametrize("suffix, code", [
    ("S" * 200, None), ("S" * 23, None), ("ORDER <42>", "invalid_characters"), ('SAY "HI"', "invalid_characters"),
    ("STAR*", "invalid_characters"), ("12345", "invalid_characters"), ("ЗАКАЗ 42", "invalid_characters"),
])
def test_a_bad_statement_descriptor_suffix_is_refused(client, suffix, code):
    error = refused(client, statement_descriptor_suffix=suffix)
    assert error.param == "statement_descriptor_suffix" and error.code == code
    if code is None:
        assert "must be at most 22 characters" in error.message


def test_a_good_statement_descriptor_suffix_is_kept(client):
    assert client.v1.payment_intents.create(params={**BASE, "statement_descriptor_suffix": "GLOVES 42"}) \
        .statement_descriptor_suffix == "GLOVES 42"


def test_a_description_over_1000_characters_is_refused(client):
    assert refused(client, description="d" * 1001).param == "description"
    assert client.v1.payment_intents.create(params={**BASE, "description": "d" * 1000}).description == "d" * 1000


def test_metadata_as_a_list_is_refused_not_turned_into_key_0(fake):
    resp = requests.post(fake.url + "/v1/payment_intents", auth=("sk_test_validation", ""),
                         data={"amount": 1800, "currency": "usd", "metadata[]": "x"}, timeout=10)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"].startswith("metadata")


@pytest.mark.parametrize("meta, param", [
    ({"k" * 41: "v"}, "metadata[" + "k" * 41 + "]"), ({"order": "v" * 501}, "metadata[order]"),
    ({f"k{i}": "v" for i in range(51)}, "metadata"),
])
def test_metadata_limits(client, meta, param):
    assert refused(client, metadata=meta).param == param


@pytest.mark.parametrize("amount, code", [(49, "amount_too_small"), (0, "amount_too_small"), (-1, "amount_too_small"),
                                          (100_000_000, "amount_too_large")])
def test_amount_bounds(client, amount, code):
    error = refused(client, amount=amount)
    assert error.param == "amount" and error.code == code


def test_an_unknown_currency_is_refused(client):
    assert refused(client, currency="zzz").param == "currency"


def test_receipt_email_is_checked_on_update_and_confirm_before_anything_changes(client):
    pi = client.v1.payment_intents.create(params={**BASE, "receipt_email": "a@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.update(pi.id, params={"receipt_email": "nope"})
    assert err.value.error.code == "email_invalid"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa", "receipt_email": "nope"})
    after = client.v1.payment_intents.retrieve(pi.id)
    assert after.receipt_email == "a@example.com" and after.status == "requires_payment_method"


def test_a_charge_update_with_a_bad_receipt_email_changes_nothing(client):
    pi = client.v1.payment_intents.create(params={**BASE, "confirm": True, "payment_method": "pm_card_visa"})
    charge = pi.latest_charge
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.charges.update(charge, params={"metadata": {"note": "x"}, "receipt_email": "nope"})
    assert err.value.error.code == "email_invalid"
    assert client.v1.charges.retrieve(charge).metadata.to_dict() == {}
