"""The fake Stripe, driven only through the real ``stripe`` package (and raw HTTP where
the test is about the wire: headers, auth, CORS)."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
import stripe

from labkit.fakestripe import FakeStripe, authenticate_3ds
from labkit.fakestripe.cards import all_cards, card_table, luhn_valid
from tests.helpers import PUBLISHABLE_KEY, SECRET_KEY

CARDS = all_cards()
FUTURE_YEAR = time.gmtime().tm_year + 3


def new_pi(client, amount=1800, **extra):
    return client.v1.payment_intents.create(params={"amount": amount, "currency": "usd",
                                                     "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                                                     **extra})


def browser_pm(browser_client, number, cvc="123", **card):
    """Create a PaymentMethod the way Stripe.js does: with the publishable key."""
    return browser_client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": FUTURE_YEAR, "cvc": cvc, **card},
        "billing_details": {"address": {"postal_code": "32306"}}})


def authenticate(client, pi_id, result, **extra):
    return authenticate_3ds(client, pi_id, result, **extra)


# ---------------------------------------------------------------------------- every test card
@pytest.mark.parametrize("card", CARDS, ids=[f"{c.number}-{c.outcome}" for c in CARDS])
@pytest.mark.parametrize("via", ["browser_pm", "pm_alias"])
def test_every_test_card_behaves_like_stripe_test_mode(client, browser_client, card, via):
    pi = new_pi(client, metadata={"card": card.number[-4:]})
    if via == "browser_pm":
        pm = browser_pm(browser_client, card.number, cvc="1234" if card.cvc_length == 4 else "123")
        assert pm.card.last4 == card.last4 and pm.card.brand == card.brand
        pm_ref = pm.id
    else:
        pm_ref = card.pm

    if card.outcome == "decline":
        with pytest.raises(stripe.CardError) as info:
            client.v1.payment_intents.confirm(pi.id, params={"payment_method": pm_ref})
        err = info.value
        assert err.http_status == 402
        assert err.code == card.code
        assert err.error.decline_code == card.decline_code
        assert err.user_message == card.message
        assert err.error.payment_intent.id == pi.id
        assert err.error.payment_intent.status == "requires_payment_method"
        after = client.v1.payment_intents.retrieve(pi.id)
        assert after.last_payment_error.code == card.code
        charge = client.v1.charges.retrieve(after.latest_charge)
        assert charge.status == "failed" and charge.failure_code == card.code
        return

    confirmed = client.v1.payment_intents.confirm(pi.id, params={"payment_method": pm_ref})
    if card.outcome == "3ds":
        assert confirmed.status == "requires_action"
        assert confirmed.next_action.type == "use_stripe_sdk"
        done = authenticate(client, pi.id, "complete")
        if card.after_3ds == "decline":
            assert done.status == "requires_payment_method"
            assert done.last_payment_error.decline_code == card.decline_code
        else:
            assert done.status == "succeeded"
            charge = client.v1.charges.retrieve(done.latest_charge)
            assert charge.payment_method_details.card.three_d_secure.result == "authenticated"
        return

    assert confirmed.status == "succeeded"
    assert confirmed.amount_received == 1800
    assert isinstance(confirmed.latest_charge, str)
    charge = client.v1.charges.retrieve(confirmed.latest_charge)
    assert charge.paid and charge.captured and charge.payment_method_details.card.last4 == card.last4
    if card.outcome == "dispute":
        disputes = client.v1.disputes.list(params={"charge": charge.id})
        assert [d.reason for d in disputes.data] == [card.dispute_reason]
        assert client.v1.charges.retrieve(charge.id).disputed is True


def test_failed_3d_secure_returns_to_requires_payment_method(client):
    pi = client.v1.payment_intents.create(params={"amount": 450, "currency": "usd", "confirm": True,
                                                   "payment_method_types": ["card"],
                                                   "payment_method": "pm_card_authenticationRequiredOnSetup"})
    assert pi.status == "requires_action"
    failed = authenticate(client, pi.id, "fail")
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    assert failed.last_payment_error.message.startswith("The provided PaymentMethod has failed authentication.")
    assert failed.payment_method is None  # Stripe detaches the PaymentMethod that failed
    assert failed.latest_charge is None  # no charge was attempted
    with pytest.raises(stripe.InvalidRequestError) as info:
        authenticate(client, pi.id, "complete")  # nothing pending any more
    assert info.value.code == "payment_intent_unexpected_state"


def test_3ds_challenge_needs_the_client_secret_from_the_browser(client, browser_client):
    pi = client.v1.payment_intents.create(params={"amount": 450, "currency": "usd", "confirm": True,
                                                   "payment_method_types": ["card"],
                                                   "payment_method": "pm_card_authenticationRequired"})
    with pytest.raises(stripe.InvalidRequestError):
        authenticate(browser_client, pi.id, "complete", client_secret="pi_wrong_secret_nope")
    done = authenticate(browser_client, pi.id, "complete", client_secret=pi.client_secret)
    assert done.status == "succeeded"


def test_off_session_3ds_card_declines_with_authentication_required(client):
    with pytest.raises(stripe.CardError) as info:
        client.v1.payment_intents.create(params={"amount": 900, "currency": "usd", "confirm": True,
                                                  "off_session": True, "payment_method": "pm_card_authenticationRequired"})
    assert info.value.code == "authentication_required"


# ---------------------------------------------------------------------------- card data rules
def test_luhn_invalid_number_is_refused(browser_client):
    with pytest.raises(stripe.CardError) as info:
        browser_pm(browser_client, card_table()["invalid_luhn_example"])
    assert info.value.code == "incorrect_number"
    assert info.value.user_message == "Your card number is incorrect."


def test_a_real_card_number_is_refused_in_test_mode(browser_client):
    # A Luhn-valid Visa number that is not a Stripe test card.
    digits = "411111111111111"
    check = next(d for d in "0123456789" if luhn_valid(digits + d))
    with pytest.raises(stripe.CardError) as info:
        browser_pm(browser_client, digits + check)
    assert info.value.error.decline_code == "test_mode_live_card"


def test_raw_card_numbers_with_the_secret_key_are_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_methods.create(params={"type": "card", "card": {
            "number": "4242424242424242", "exp_month": 12, "exp_year": FUTURE_YEAR, "cvc": "123"}})
    assert "unsafe" in info.value.user_message


@pytest.mark.parametrize("card, code", [
    ({"exp_month": 13}, "invalid_expiry_month"),
    ({"exp_year": 2001}, "invalid_expiry_year"),
    ({"cvc": "12"}, "invalid_cvc"),
])
def test_card_detail_errors(browser_client, card, code):
    with pytest.raises(stripe.CardError) as info:
        browser_pm(browser_client, "4242424242424242", **card)
    assert info.value.code == code


def test_payment_method_responses_never_contain_the_number(fake):
    resp = requests.post(fake.url + "/v1/payment_methods", data={
        "type": "card", "card[number]": "4000002500003155", "card[exp_month]": "12",
        "card[exp_year]": str(FUTURE_YEAR), "card[cvc]": "123", "key": PUBLISHABLE_KEY})
    assert resp.status_code == 200
    assert "4000002500003155" not in resp.text and resp.json()["card"]["last4"] == "3155"


# ---------------------------------------------------------------------------- errors and auth
def test_missing_and_unknown_parameters(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"currency": "usd"})
    assert info.value.code == "parameter_missing" and info.value.user_message == "Missing required param: amount."
    assert info.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 100, "currency": "usd", "foo": "bar"})
    assert info.value.code == "parameter_unknown" and info.value.user_message == "Received unknown parameter: foo"


@pytest.mark.parametrize("amount, code", [(49, "amount_too_small"), (100000000, "amount_too_large"),
                                          ("12.5", "parameter_invalid_integer"), ("abc", "parameter_invalid_integer")])
def test_amount_limits(client, amount, code):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": amount, "currency": "usd"})
    assert info.value.code == code
    if code == "amount_too_small":
        assert info.value.user_message == "Amount must be at least $0.50 usd"


def test_both_payment_method_parameters_are_refused(client):
    with pytest.raises(stripe.InvalidRequestError):
        new_pi(client, payment_method_types=["card"])


def test_missing_object_is_404_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.retrieve("pi_123")
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"
    assert info.value.user_message == "No such payment_intent: 'pi_123'"


@pytest.mark.parametrize("key", [None, "sk_test_", "nonsense", "sk_live_0000example0000", "rk_live_0000example0000"])
def test_bad_keys_get_401_invalid_request_error(fake, key):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    resp = requests.get(fake.url + "/v1/payment_intents", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["error"]["type"] == "invalid_request_error"  # Stripe's type for a bad key, with 401
    assert resp.headers["Request-Id"].startswith("req_")
    if key:
        assert key not in resp.text or len(key) <= 12  # the key is masked in the message


def test_401_through_the_stripe_package(fake):
    bad = stripe.StripeClient("sk_live_0000example0000", base_addresses={"api": fake.url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.payment_intents.list()


def test_publishable_key_may_only_do_what_stripe_js_does(client, browser_client):
    with pytest.raises(stripe.AuthenticationError):
        browser_client.v1.payment_intents.list()
    with pytest.raises(stripe.AuthenticationError):
        browser_client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    pi = new_pi(client)
    with pytest.raises(stripe.InvalidRequestError):  # retrieving needs the client secret
        browser_client.v1.payment_intents.retrieve(pi.id)
    seen = browser_client.v1.payment_intents.retrieve(pi.id, params={"client_secret": pi.client_secret})
    assert seen.id == pi.id
    pm = browser_pm(browser_client, "4242424242424242")
    done = browser_client.v1.payment_intents.confirm(pi.id, params={"payment_method": pm.id,
                                                                     "client_secret": pi.client_secret})
    assert done.status == "succeeded"


def test_request_id_cors_and_unknown_urls(fake):
    resp = requests.options(fake.url + "/v1/payment_methods", headers={"Access-Control-Request-Method": "POST"})
    assert resp.status_code == 204 and resp.headers["Access-Control-Allow-Origin"] == "*"
    resp = requests.get(fake.url + "/v1/nothing_here", headers={"Authorization": f"Bearer {SECRET_KEY}"})
    assert resp.status_code == 404
    assert resp.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nothing_here)")


def test_json_bodies_get_a_clear_400(fake):
    resp = requests.post(fake.url + "/v1/payment_intents", json={"amount": 100, "currency": "usd"},
                         headers={"Authorization": f"Bearer {SECRET_KEY}"})
    assert resp.status_code == 400 and "form-encoded" in resp.json()["error"]["message"]


# ---------------------------------------------------------------------------- idempotency
def test_idempotency_key_replays_the_first_response(client, fake):
    key = str(uuid.uuid4())
    first = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"},
                                             options={"idempotency_key": key})
    again = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"},
                                             options={"idempotency_key": key})
    assert first.id == again.id
    raw = requests.post(fake.url + "/v1/payment_intents", data={"amount": "900", "currency": "usd"},
                        headers={"Authorization": f"Bearer {SECRET_KEY}", "Idempotency-Key": key})
    assert raw.headers.get("Idempotent-Replayed") == "true" and raw.json()["id"] == first.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(params={"amount": 901, "currency": "usd"}, options={"idempotency_key": key})


# ---------------------------------------------------------------------------- lists
def test_pagination_is_newest_first_with_cursors(fake):
    # A fresh fake so the list holds exactly what this test made.
    with FakeStripe() as own:
        c = stripe.StripeClient(SECRET_KEY, base_addresses={"api": own.url}, max_network_retries=0)
        made = [new_pi(c, amount=100 + i).id for i in range(7)]
        first = c.v1.payment_intents.list(params={"limit": 3})
        assert [p.id for p in first.data] == made[::-1][:3] and first.has_more
        second = c.v1.payment_intents.list(params={"limit": 3, "starting_after": first.data[-1].id})
        third = c.v1.payment_intents.list(params={"limit": 3, "starting_after": second.data[-1].id})
        assert [p.id for p in second.data + third.data] == made[::-1][3:]
        assert not third.has_more
        back = c.v1.payment_intents.list(params={"limit": 2, "ending_before": second.data[0].id})
        assert [p.id for p in back.data] == made[::-1][1:3]
        every = [p.id for p in c.v1.payment_intents.list(params={"limit": 2}).auto_paging_iter()]
        assert every == made[::-1]
        with pytest.raises(stripe.InvalidRequestError):
            c.v1.payment_intents.list(params={"limit": 101})


def test_expand_latest_charge(client):
    pi = new_pi(client, confirm=True, payment_method="pm_card_visa")
    got = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert got.latest_charge.object == "charge" and got.latest_charge.payment_intent == pi.id
    listed = client.v1.charges.list(params={"payment_intent": pi.id, "expand": ["data.payment_intent"]})
    assert listed.data[0].payment_intent.id == pi.id


def test_metadata_update_merges_and_deletes(client):
    pi = new_pi(client, metadata={"product_id": "prod_001", "note": "x"})
    pi = client.v1.payment_intents.update(pi.id, params={"metadata": {"note": "", "qty": "2"}})
    assert pi.metadata.to_dict() == {"product_id": "prod_001", "qty": "2"}


# ---------------------------------------------------------------------------- events
def test_a_successful_payment_emits_stripes_events_in_order(client):
    pi = new_pi(client, confirm=True, payment_method="pm_card_visa")
    mine = [e for e in client.v1.events.list(params={"limit": 100}).data
            if e.data.object.to_dict().get("payment_intent") == pi.id or e.data.object.id == pi.id]
    assert [e.type for e in reversed(mine)] == ["payment_intent.created", "charge.succeeded",
                                                 "payment_intent.succeeded", "charge.updated"]
    succeeded = client.v1.events.list(params={"type": "payment_intent.succeeded", "limit": 5}).data
    assert succeeded[0].data.object.id == pi.id and succeeded[0].data.object.status == "succeeded"
    event = client.v1.events.retrieve(succeeded[0].id)
    assert event.api_version and event.livemode is False and event.request.id.startswith("req_")


def test_decline_and_3ds_and_cancel_and_refund_events(client):
    declined = new_pi(client)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(declined.id, params={"payment_method": "pm_card_visa_chargeDeclined"})
    action = new_pi(client, confirm=True, payment_method="pm_card_authenticationRequired")
    canceled = client.v1.payment_intents.cancel(new_pi(client).id)
    paid = new_pi(client, confirm=True, payment_method="pm_card_visa")
    refund = client.v1.refunds.create(params={"payment_intent": paid.id})
    assert refund.status == "succeeded" and refund.amount == paid.amount
    types = {(e.type, e.data.object.to_dict().get("payment_intent") or e.data.object.id)
             for e in client.v1.events.list(params={"limit": 100}).data}
    assert ("payment_intent.payment_failed", declined.id) in types and ("charge.failed", declined.id) in types
    assert ("payment_intent.requires_action", action.id) in types
    assert ("payment_intent.canceled", canceled.id) in types
    assert ("charge.refunded", paid.id) in types and ("refund.created", paid.id) in types
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.create(params={"payment_intent": paid.id})
    assert info.value.code == "charge_already_refunded"


def test_manual_capture(client):
    pi = new_pi(client, capture_method="manual", confirm=True, payment_method="pm_card_visa")
    assert pi.status == "requires_capture" and pi.amount_capturable == 1800
    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1000})
    assert captured.status == "succeeded" and captured.amount_received == 1000


def test_cannot_confirm_a_succeeded_payment_twice(client):
    pi = new_pi(client, confirm=True, payment_method="pm_card_visa")
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert info.value.code == "payment_intent_unexpected_state"


# ---------------------------------------------------------------------------- webhooks
def test_webhook_endpoint_secret_is_shown_once(client):
    we = client.v1.webhook_endpoints.create(params={"url": "http://127.0.0.1:9/webhook",
                                                     "enabled_events": ["payment_intent.succeeded"]})
    assert we.secret.startswith("whsec_")
    assert "secret" not in client.v1.webhook_endpoints.retrieve(we.id)
    assert all("secret" not in e for e in client.v1.webhook_endpoints.list().data)
    assert client.v1.webhook_endpoints.delete(we.id).deleted is True


def test_webhooks_only_go_to_this_machine(client):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(params={"url": "https://example.com/hook", "enabled_events": ["*"]})


def test_signed_deliveries_verify_with_construct_event(client, fake, receiver):
    we = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    try:
        pi = new_pi(client, confirm=True, payment_method="pm_card_visa")
        assert receiver.wait_for(lambda: any(e["data"]["object"]["id"] == pi.id
                                             for e in receiver.events("payment_intent.succeeded")))
        for req in receiver.requests:
            event = stripe.Webhook.construct_event(req["body"], req["signature"], we.secret)
            assert event.id.startswith("evt_")
        tampered = receiver.requests[0]["body"].replace(b'"livemode": false', b'"livemode": true')
        assert tampered != receiver.requests[0]["body"]
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(tampered, receiver.requests[0]["signature"], we.secret)
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(receiver.requests[0]["body"], receiver.requests[0]["signature"],
                                           "whsec_" + "0" * 32)
    finally:
        client.v1.webhook_endpoints.delete(we.id)


def test_failed_deliveries_are_retried_with_backoff(client, fake, receiver):
    receiver.fail_first = 2
    we = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["payment_intent.created"]})
    try:
        pi = new_pi(client)
        assert receiver.wait_for(lambda: len(receiver.requests) >= 3, timeout=10)
        ids = {r["event"]["id"] for r in receiver.requests}
        assert len(ids) == 1 and receiver.requests[0]["event"]["data"]["object"]["id"] == pi.id
        event = client.v1.events.retrieve(ids.pop())
        assert receiver.wait_for(lambda: client.v1.events.retrieve(event.id).pending_webhooks == 0)
        attempts = [d for d in fake.deliveries() if d["event"] == event.id]
        assert [d["status"] for d in attempts] == [500, 500, 200]
        assert "retry 1" in attempts[0]["outcome"]
    finally:
        client.v1.webhook_endpoints.delete(we.id)


def test_api_calls_do_not_wait_for_slow_webhooks(client, receiver):
    """Deliveries run in the background: a dead endpoint does not slow payments down."""
    we = client.v1.webhook_endpoints.create(params={"url": "http://127.0.0.1:9/unreachable", "enabled_events": ["*"]})
    try:
        pi = new_pi(client, confirm=True, payment_method="pm_card_visa")
        assert pi.status == "succeeded"
    finally:
        client.v1.webhook_endpoints.delete(we.id)


# ---------------------------------------------------------------------------- server
def test_listens_on_loopback_only(fake):
    assert fake.server.bound_address[0] == "127.0.0.1"
    assert fake.url.startswith("http://127.0.0.1:")


def test_state_survives_a_restart_with_sqlite(tmp_path):
    db = tmp_path / "fake.db"
    with FakeStripe(db_path=db) as first:
        c = stripe.StripeClient(SECRET_KEY, base_addresses={"api": first.url}, max_network_retries=0)
        pi = new_pi(c, confirm=True, payment_method="pm_card_visa")
    with FakeStripe(db_path=db) as second:
        c = stripe.StripeClient(SECRET_KEY, base_addresses={"api": second.url}, max_network_retries=0)
        again = c.v1.payment_intents.retrieve(pi.id)
        assert again.status == "succeeded"
        assert [p.id for p in c.v1.payment_intents.list().data] == [pi.id]
        assert c.v1.charges.list(params={"payment_intent": pi.id}).data[0].id == pi.latest_charge


def test_account_and_balance(client):
    acct = client.v1.accounts.retrieve_current()
    assert acct.object == "account" and acct.charges_enabled
    bal = client.v1.balance.retrieve()
    assert bal.livemode is False and bal.pending[0].currency == "usd"


def test_static_files_cannot_escape_their_folder(fake):
    assert requests.get(fake.url + "/static/../api.py").status_code == 404
    assert requests.get(fake.url + "/static/%2e%2e/api.py").status_code == 404


def test_a_fake_started_elsewhere_is_controlled_over_http(fake, client, receiver):
    """labkit demo shares one fake with every notebook kernel: the same controls work over HTTP."""
    from labkit.backend import connect
    from labkit.fakestripe import RemoteFake
    from labkit.settings import load_settings

    backend = connect(load_settings({"LABKIT_STRIPE_API_BASE": fake.url}, env_file=None))
    assert isinstance(backend.fake, RemoteFake) and backend.api_base == fake.url
    we = backend.client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["charge.succeeded"]})
    try:
        pi = new_pi(backend.client, confirm=True, payment_method="pm_card_visa")
        assert backend.fake.wait_for_webhooks(timeout=10)
        mine = [d for d in backend.fake.deliveries() if d["endpoint"] == we.id]
        assert [d["status"] for d in mine] == [200] and mine[0]["type"] == "charge.succeeded"
        assert receiver.events("charge.succeeded")[0]["data"]["object"]["payment_intent"] == pi.id
    finally:
        backend.client.v1.webhook_endpoints.delete(we.id)
        backend.close()
    assert client.v1.accounts.retrieve_current().id  # closing the backend left the shared fake running


def test_first_deliveries_to_an_endpoint_arrive_in_the_order_events_happened(client, fake, receiver):
    we = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    try:
        for card in ("pm_card_visa", "pm_card_createDispute", "pm_card_visa"):
            new_pi(client, confirm=True, payment_method=card)
        assert fake.wait_for_webhooks(timeout=10)
        created = [e.id for e in client.v1.events.list(params={"limit": 100}).auto_paging_iter()]
        received = [e["id"] for e in receiver.events()]
        assert len(received) >= 13
        assert received == [i for i in reversed(created) if i in set(received)]
    finally:
        client.v1.webhook_endpoints.delete(we.id)
