"""The fake Stripe answers as Stripe test mode does (issue 13, items 1-11 and 15), through the
real ``stripe`` package: code that passes offline must pass on Stripe."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
import stripe

from labkit.fakestripe import authenticate_3ds
from tests.helpers import SECRET_KEY

RETURN = "http://127.0.0.1:5000/payment-success"


def paid(client, card="pm_card_visa", **extra):
    params = {"amount": 1800, "currency": "usd", "payment_method_types": ["card"], "confirm": True,
              "payment_method": card, **extra}
    return client.v1.payment_intents.create(params=params)


def raw(fake, method, path, **kw):
    return requests.request(method, fake.url + path, headers={"Authorization": f"Bearer {SECRET_KEY}"}, **kw)


# 1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("apm", [{"enabled": True}, None])  # None: on by default since API 2023-08-16
def test_confirming_automatic_payment_methods_needs_a_return_url(client, apm):
    params = {"amount": 1800, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa"}
    if apm:
        params["automatic_payment_methods"] = apm
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params=params)
    assert info.value.http_status == 400 and info.value.param == "return_url"
    assert client.v1.payment_intents.create(params={**params, "return_url": RETURN}).status == "succeeded"
    never = {**params, "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
    assert client.v1.payment_intents.create(params=never).status == "succeeded"
    assert client.v1.payment_intents.create(params={**params, "off_session": True}).status == "succeeded"


# 2 ------------------------------------------------------------------------------------------
def test_the_3d_secure_2_card_exists(client, browser_client):
    pi = paid(client, "pm_card_threeDSecure2Required")
    assert pi.status == "requires_action"
    pm = browser_client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000003220", "exp_month": 12, "exp_year": time.gmtime().tm_year + 2,
                                 "cvc": "123"}})
    assert pm.card.last4 == "3220"


# 3 ------------------------------------------------------------------------------------------
def test_a_failed_challenge_has_the_apis_message_and_no_payment_method(client):
    pi = paid(client, "pm_card_authenticationRequired")
    failed = authenticate_3ds(client, pi.id, "fail")
    assert failed.payment_method is None
    assert failed.last_payment_error.message.startswith("The provided PaymentMethod has failed authentication.")
    assert failed.last_payment_error.payment_method.card.last4 == "3184"


# 4 ------------------------------------------------------------------------------------------
def test_a_refund_after_a_partial_capture_returns_what_was_captured(client):
    pi = paid(client, capture_method="manual")
    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1000})
    assert captured.amount_received == 1000
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.amount == 1000
    charge = client.v1.charges.retrieve(captured.latest_charge)
    assert charge.amount_captured == 1000 and charge.amount_refunded == 1000 and charge.refunded is True


# 5 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("card, decline_code", [
    ("pm_card_chargeDeclinedExpiredCard", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error"),
    ("pm_card_visa_chargeDeclinedInsufficientFunds", "insufficient_funds"),
])
def test_declines_carry_stripes_decline_code_and_seller_message(client, card, decline_code):
    with pytest.raises(stripe.CardError) as info:
        paid(client, card)
    assert info.value.error.decline_code == decline_code
    charge = client.v1.charges.retrieve(info.value.error.charge)
    assert charge.outcome.reason == decline_code
    assert charge.outcome.seller_message != "The bank did not return any further details with this decline."


# 6 ------------------------------------------------------------------------------------------
def test_a_bad_key_is_a_401_invalid_request_error(fake):
    bad = stripe.StripeClient("sk_test_", base_addresses={"api": fake.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as info:
        bad.v1.payment_intents.list()
    assert info.value.http_status == 401 and info.value.error.type == "invalid_request_error"


# 7 ------------------------------------------------------------------------------------------
def test_a_request_that_failed_validation_keeps_no_idempotency_key(client):
    key = str(uuid.uuid4())
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "colour": "red"},
                                         options={"idempotency_key": key})
    fixed = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"},
                                             options={"idempotency_key": key})
    again = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"},
                                             options={"idempotency_key": key})
    assert fixed.id == again.id


def test_a_decline_is_kept_under_its_idempotency_key(client):
    key = str(uuid.uuid4())
    params = {"amount": 1800, "currency": "usd", "payment_method_types": ["card"], "confirm": True,
              "payment_method": "pm_card_visa_chargeDeclined"}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as info:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
        errors.append(info.value.error)
    assert errors[0].charge == errors[1].charge  # replayed, not charged twice
    assert len(client.v1.charges.list(params={"payment_intent": errors[0].payment_intent.id}).data) == 1


# 8 ------------------------------------------------------------------------------------------
def test_a_dispute_takes_the_money_back(client):
    before = sum(row.amount for row in client.v1.balance.retrieve().pending)
    pi = paid(client, "pm_card_createDispute")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    dispute = client.v1.disputes.list(params={"charge": charge.id}).data[0]
    assert dispute.balance_transactions and dispute.balance_transactions[0].amount == -1800
    txn = client.v1.balance_transactions.retrieve(charge.balance_transaction)
    after = sum(row.amount for row in client.v1.balance.retrieve().pending)
    assert after - before == txn.net + dispute.balance_transactions[0].net  # charge in, disputed amount + fee out
    types = [e.type for e in client.v1.events.list(params={"limit": 10}).data
             if e.data.object.to_dict().get("id") == dispute.id]
    assert "charge.dispute.funds_withdrawn" in types and "charge.dispute.created" in types


def test_a_dispute_can_be_answered_and_closed(client):
    pi = paid(client, "pm_card_createDispute")
    dispute = client.v1.disputes.list(params={"payment_intent": pi.id}).data[0]
    assert dispute.evidence.uncategorized_text is None and dispute.evidence_details.submission_method is None
    updated = client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "Delivered."},
                                                            "metadata": {"case": "7"}})
    assert updated.evidence.uncategorized_text == "Delivered." and updated.metadata["case"] == "7"
    assert client.v1.disputes.close(dispute.id).status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute.id)


# 9 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path", [("GET", "/v1/account"), ("GET", "/v1/balance"),
                                          ("GET", "/v1/events/evt_x"), ("GET", "/v1/charges/ch_x")])
def test_unknown_parameters_are_refused_everywhere(fake, method, path):
    resp = raw(fake, method, path, params={"colour": "red"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "parameter_unknown"


def test_unknown_parameters_inside_hashes_and_on_delete_are_refused(client, fake, receiver):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd",
                                                 "automatic_payment_methods": {"enabled": True, "colour": "red"}})
    assert info.value.code == "parameter_unknown" and info.value.param == "automatic_payment_methods[colour]"
    we = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["charge.failed"]})
    resp = raw(fake, "DELETE", f"/v1/webhook_endpoints/{we.id}", params={"colour": "red"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "parameter_unknown"
    client.v1.webhook_endpoints.delete(we.id)


def test_payment_method_data_is_never_silently_dropped(client):
    with pytest.raises(stripe.InvalidRequestError) as info:  # card numbers from a server: refused, not ignored
        client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "payment_method_data": {
            "type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040}}})
    assert info.value.code == "card_number_unsafe"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd",
                                                 "payment_method_data": {"type": "card", "colour": "red"}})
    assert info.value.code == "parameter_unknown"


# 10 -----------------------------------------------------------------------------------------
def test_charge_refunds_only_when_expanded(client):
    pi = paid(client)
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert "refunds" not in charge  # not included by default since API 2022-11-15
    expanded = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["refunds"]})
    assert [r.amount for r in expanded.refunds.data] == [500]
    resp = client.raw_request("get", f"/v1/charges/{pi.latest_charge}/refunds")
    assert [r["amount"] for r in client.deserialize(resp, api_mode="V1")["data"]] == [500]
    with_customer = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["customer", "latest_charge"]})
    assert with_customer.customer is None and with_customer.latest_charge.id == pi.latest_charge


# 11 -----------------------------------------------------------------------------------------
def test_metadata_updates_on_charges_refunds_and_payment_methods(client):
    pi = paid(client)
    assert client.v1.charges.update(pi.latest_charge, params={"metadata": {"order": "42"}}).metadata["order"] == "42"
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert client.v1.refunds.update(refund.id, params={"metadata": {"ticket": "9"}}).metadata["ticket"] == "9"
    pm = client.v1.payment_methods.update(pi.payment_method, params={"metadata": {"k": "v"}})
    assert pm.metadata["k"] == "v"


def test_payment_intent_search(client):
    tag = uuid.uuid4().hex[:12]
    ids = [paid(client, metadata={"order_tag": tag}).id for _ in range(3)]
    client.v1.payment_intents.create(params={"amount": 900, "currency": "usd", "metadata": {"order_tag": tag}})
    found = client.v1.payment_intents.search(params={"query": f"metadata['order_tag']:'{tag}' AND status:'succeeded'",
                                                     "limit": 2})
    assert [p.id for p in found.data] == ids[::-1][:2] and found.has_more
    rest = client.v1.payment_intents.search(params={"query": f"metadata['order_tag']:'{tag}' AND status:'succeeded'",
                                                    "page": found.next_page})
    assert [p.id for p in rest.data] == ids[:1]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.search(params={"query": "status = succeeded"})


def test_events_filter_by_types_and_delivery_success(client):
    pi = paid(client)
    events = client.v1.events.list(params={"types": ["payment_intent.succeeded", "charge.succeeded"], "limit": 5})
    assert {e.type for e in events.data} <= {"payment_intent.succeeded", "charge.succeeded"}
    assert any(e.data.object.id == pi.id for e in events.data)
    delivered = client.v1.events.list(params={"delivery_success": True, "limit": 5})
    assert all(e.pending_webhooks == 0 for e in delivered.data)


def test_account_has_branding_and_card_payments_settings(client):
    account = client.v1.accounts.retrieve_current()
    assert account.settings.branding.primary_color is None
    assert account.settings.card_payments.decline_on.cvc_failure is False


# 15 -----------------------------------------------------------------------------------------
def test_the_challenge_page_returns_to_the_stored_return_url_only(client, fake):
    pi = client.v1.payment_intents.create(params={
        "amount": 1800, "currency": "usd", "confirm": True, "payment_method": "pm_card_authenticationRequired",
        "return_url": RETURN})
    url = pi.next_action.redirect_to_url.url
    assert "return_url" not in url  # the link carries no return_url to be tampered with
    authenticate_3ds(client, pi.id, "complete")
    back = requests.get(f"{fake.url}/3ds/{pi.id}/return", params={"client_secret": pi.client_secret,
                                                                    "return_url": "http://evil.example/"},
                        allow_redirects=False)
    assert back.status_code == 303
    assert back.headers["Location"].startswith(RETURN + "?payment_intent=" + pi.id)
    assert "redirect_status=succeeded" in back.headers["Location"]
    wrong = requests.get(f"{fake.url}/3ds/{pi.id}/return", params={"client_secret": "nope"}, allow_redirects=False)
    assert wrong.status_code == 404
