"""Manual confirmation on the fake Stripe, through the real ``stripe`` package over HTTP, as on Stripe
(reference/stripe_today.md): after 3D Secure the PaymentIntent waits in ``requires_confirmation`` until the
server confirms it again, and ``confirmation_method`` is refused beside ``automatic_payment_methods``."""
from __future__ import annotations

import pytest
import stripe

from labkit.fakestripe import authenticate_3ds


def manual(client, card: str, **extra):
    return client.v1.payment_intents.create(params={
        "amount": 1800, "currency": "usd", "confirmation_method": "manual", "confirm": True,
        "payment_method": card, **extra})


def test_after_a_completed_challenge_the_server_confirms(client):
    pi = manual(client, "pm_card_authenticationRequired")
    assert pi.status == "requires_action" and pi.confirmation_method == "manual"
    assert pi.automatic_payment_methods is None  # manual confirmation: no automatic payment methods by default
    done = authenticate_3ds(client, pi.id, "complete", client_secret=pi.client_secret)
    assert done.status == "requires_confirmation" and done.latest_charge is None
    assert done.payment_method == pi.payment_method and done.next_action is None
    assert client.v1.payment_intents.retrieve(pi.id).amount_received == 0  # nothing charged yet
    confirmed = client.v1.payment_intents.confirm(pi.id)
    assert confirmed.status == "succeeded" and confirmed.amount_received == 1800
    charge = client.v1.charges.retrieve(confirmed.latest_charge)
    assert charge.payment_method_details.card.three_d_secure is not None  # not challenged a second time


def test_a_failed_challenge_needs_a_new_payment_method(client):
    pi = manual(client, "pm_card_authenticationRequired")
    failed = authenticate_3ds(client, pi.id, "fail", client_secret=pi.client_secret)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.confirm(pi.id)


def test_the_automatic_flow_still_charges_when_the_challenge_completes(client):
    pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "confirm": True,
                                                  "payment_method_types": ["card"],
                                                  "payment_method": "pm_card_authenticationRequired"})
    assert authenticate_3ds(client, pi.id, "complete").status == "succeeded"


def test_a_declining_card_is_declined_when_the_server_creates_it(client):
    with pytest.raises(stripe.CardError) as info:
        manual(client, "pm_card_visa_chargeDeclinedInsufficientFunds")
    assert info.value.code == "card_declined" and info.value.error.decline_code == "insufficient_funds"
    assert manual(client, "pm_card_visa").status == "succeeded"


@pytest.mark.parametrize("method", ["manual", "automatic"])
def test_confirmation_method_with_automatic_payment_methods_is_refused(client, method):
    before = len(client.v1.payment_intents.list(params={"limit": 100}).data)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "confirmation_method": method,
                                                 "automatic_payment_methods": {"enabled": True}})
    assert info.value.http_status == 400 and info.value.param == "automatic_payment_methods"
    assert str(info.value.user_message) == ("You may only specify one of these parameters: "
                                            "automatic_payment_methods, confirmation_method.")
    assert len(client.v1.payment_intents.list(params={"limit": 100}).data) == before  # nothing created


def test_a_bad_confirmation_method_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "confirmation_method": "later"})
    assert info.value.param == "confirmation_method"


def test_the_browser_cannot_confirm_a_manual_payment_intent(client, browser_client):
    pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "confirmation_method": "manual",
                                                  "payment_method": "pm_card_visa"})
    assert pi.status == "requires_confirmation"
    with pytest.raises(stripe.InvalidRequestError) as info:
        browser_client.v1.payment_intents.confirm(pi.id, params={"client_secret": pi.client_secret})
    assert "cannot be confirmed using your publishable key" in str(info.value.user_message)
    assert client.v1.payment_intents.confirm(pi.id).status == "succeeded"
