"""Checkout Sessions on the fake Stripe, through the real ``stripe`` package over HTTP: create (catalog
prices and price_data), retrieve, list, line items, expire, the payment page's own calls (as the hosted
page makes them), 3D Secure, and the events delivered to a webhook endpoint."""
from __future__ import annotations

import time

import pytest
import requests
import stripe

from labkit.fakestripe import authenticate_3ds

SUCCESS = "http://127.0.0.1:9/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:9/?canceled=1"
PK = "pk_test_labkit_checkout_page"


def hosted(client, **extra):
    params = {"mode": "payment", "success_url": SUCCESS, "cancel_url": CANCEL,
              "line_items": [{"price": "price_labkit_prod_001", "quantity": 2},
                             {"price_data": {"currency": "usd", "unit_amount": 450,
                                             "product_data": {"name": "Safety Glasses"}}, "quantity": 1}],
              "payment_intent_data": {"metadata": {"product_id": "prod_001,prod_003"}},
              "metadata": {"order": "o-1"}}
    params.update(extra)
    return client.v1.checkout.sessions.create(params=params)


def page_confirm(fake, session, payment_method, **extra):
    """What the payment page (hosted or embedded) sends when the customer pays."""
    return requests.post(f"{fake.url}/v1/payment_pages/{session.id}/confirm",
                         data={"key": PK, "payment_method": payment_method, **extra}, timeout=10)


def test_a_hosted_session_is_priced_on_the_server_and_has_stripes_fields(client, fake):
    session = hosted(client)
    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert (session.mode, session.status, session.payment_status) == ("payment", "open", "unpaid")
    assert session.amount_total == 2 * 1800 + 450 and session.currency == "usd"
    assert session.url == f"{fake.url}/c/pay/{session.id}" and session.client_secret is None
    assert session.ui_mode == "hosted_page" and session.payment_intent is None  # made when the customer pays
    assert session.success_url == SUCCESS and session.metadata.to_dict() == {"order": "o-1"}
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Safety Hard Hat", 2, 3600), ("Safety Glasses", 1, 450)]
    assert items.data[0].price.id == "price_labkit_prod_001" and items.data[0].price.unit_amount == 1800
    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert len(again.line_items.data) == 2 and again.amount_total == session.amount_total
    assert client.v1.prices.list(params={"lookup_keys": ["prod_003"]}).data[0].unit_amount == 450


def test_paying_completes_the_session_and_fills_in_the_success_url(client, fake):
    session = hosted(client)
    answer = page_confirm(fake, session, "pm_card_visa").json()
    assert answer["payment_intent"]["status"] == "succeeded"
    assert answer["payment_page"]["redirect_url"] == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.url) == ("complete", "paid", None)
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert pi.amount == session.amount_total and pi.metadata["product_id"] == "prod_001,prod_003"
    found = client.v1.checkout.sessions.list(params={"payment_intent": pi.id}).data
    assert [s.id for s in found] == [session.id]
    again = page_confirm(fake, session, "pm_card_visa")
    assert again.status_code == 400 and "no longer active" in again.json()["error"]["message"]


def test_a_decline_leaves_the_session_open_and_the_next_card_pays_the_same_payment_intent(client, fake):
    session = hosted(client)
    declined = page_confirm(fake, session, "pm_card_visa_chargeDeclinedInsufficientFunds")
    body = declined.json()["error"]
    assert declined.status_code == 402 and body["decline_code"] == "insufficient_funds"
    open_ = client.v1.checkout.sessions.retrieve(session.id)
    assert open_.status == "open" and open_.payment_intent == body["payment_intent"]["id"]
    assert page_confirm(fake, session, "pm_card_visa").json()["payment_intent"]["id"] == open_.payment_intent
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


@pytest.mark.parametrize("result, status", [("complete", "complete"), ("fail", "open")])
def test_3d_secure_on_the_payment_page(client, fake, result, status):
    session = hosted(client)
    pi = page_confirm(fake, session, "pm_card_authenticationRequired").json()["payment_intent"]
    assert pi["status"] == "requires_action" and pi["next_action"]["type"] == "use_stripe_sdk"
    authenticate_3ds(client, pi["id"], result)
    assert client.v1.checkout.sessions.retrieve(session.id).status == status


def test_events_reach_a_webhook_endpoint_signed_with_the_session_last(client, fake, receiver):
    endpoint = client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": [
        "checkout.session.completed", "checkout.session.expired", "payment_intent.succeeded"]})
    try:
        session = hosted(client)
        page_confirm(fake, session, "pm_card_visa")
        expired = hosted(client)
        client.v1.checkout.sessions.expire(expired.id)
        assert receiver.wait_for(lambda: len(receiver.events()) >= 3)
        types = [e["type"] for e in receiver.events()]
        assert types.index("payment_intent.succeeded") < types.index("checkout.session.completed")
        first = next(r for r in receiver.requests if r["event"]["type"] == "checkout.session.completed")
        event = stripe.Webhook.construct_event(first["body"].decode(), first["signature"], endpoint.secret)
        assert event.data.object.id == session.id and event.data.object.payment_status == "paid"
        assert receiver.events("checkout.session.expired")[0]["data"]["object"]["id"] == expired.id
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def test_expire(client, fake):
    session = hosted(client)
    page_confirm(fake, session, "pm_card_visa_chargeDeclined")
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert client.v1.payment_intents.retrieve(expired.payment_intent).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
        client.v1.checkout.sessions.expire(session.id)
    assert page_confirm(fake, session, "pm_card_visa").status_code == 400


def test_a_session_past_its_expiry_time_is_expired_when_next_read(client, fake):
    session = hosted(client, expires_at=int(time.time()) + 31 * 60)
    fake.app.store.get(session.id)["expires_at"] = int(time.time()) - 1  # as if 31 minutes had passed
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert page_confirm(fake, session, "pm_card_visa").status_code == 400
    events = client.v1.events.list(params={"type": "checkout.session.expired", "limit": 3}).data
    assert any(e.data.object.id == session.id for e in events)


def test_an_embedded_session_has_a_client_secret_and_a_return_url(client, fake):
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "ui_mode": "embedded", "return_url": "http://127.0.0.1:9/return?s={CHECKOUT_SESSION_ID}",
        "line_items": [{"price": "price_labkit_prod_002", "quantity": 1}]})
    assert session.ui_mode == "embedded_page" and session.url is None
    assert session.client_secret.startswith(session.id + "_secret_")
    assert session.redirect_on_completion == "always"
    view = requests.get(f"{fake.url}/v1/payment_pages/{session.id}", params={"key": PK}, timeout=10)
    assert view.status_code == 400  # the embedded page needs the session's client secret
    answer = page_confirm(fake, session, "pm_card_visa", client_secret=session.client_secret).json()
    assert answer["payment_page"]["redirect_url"] == f"http://127.0.0.1:9/return?s={session.id}"


@pytest.mark.parametrize("params, message", [
    ({"line_items": [{"price": "price_labkit_prod_001", "quantity": 1}]}, "Missing required param: mode."),
    ({"mode": "subscription", "line_items": [{"price": "price_labkit_prod_001", "quantity": 1}]}, "mode=payment only"),
    ({"mode": "payment"}, "line_items is required"),
    ({"mode": "payment", "line_items": [{"price": "price_labkit_prod_001"}]}, "line_items[0][quantity]"),
    ({"mode": "payment", "line_items": [{"price": "price_nope", "quantity": 1}]}, "No such price"),
    ({"mode": "payment", "line_items": [{"price": "price_labkit_prod_001", "quantity": 1, "price_data": {
        "currency": "usd", "unit_amount": 5, "product_data": {"name": "x"}}}]}, "either `price` or `price_data`"),
    ({"mode": "payment", "line_items": [{"price_data": {"currency": "usd", "unit_amount": 5, "product_data": {
        "name": "x"}}, "quantity": 1}]}, "at least 50"),
    ({"mode": "payment", "ui_mode": "embedded", "success_url": SUCCESS,
      "line_items": [{"price": "price_labkit_prod_001", "quantity": 1}]}, "use return_url"),
    ({"mode": "payment", "return_url": SUCCESS, "line_items": [{"price": "price_labkit_prod_001", "quantity": 1}]},
     "return_url can only be used"),
    ({"mode": "payment", "ui_mode": "popup", "line_items": [{"price": "price_labkit_prod_001", "quantity": 1}]},
     "Invalid ui_mode"),
    ({"mode": "payment", "success_url": "javascript:alert(1)",
      "line_items": [{"price": "price_labkit_prod_001", "quantity": 1}]}, "must begin with http"),
])
def test_bad_sessions_get_a_400_that_says_why(client, params, message):
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=params)
    assert err.value.http_status in (400, 404) and message in err.value.user_message


@pytest.mark.parametrize("field", ["ui_mode", "mode", "success_url", "customer_email", "payment_intent_data",
                                   "line_items", "redirect_on_completion", "expires_at"])
def test_a_hash_or_an_array_where_a_value_belongs_is_a_400_not_a_500(fake, field):
    body = {"mode": "payment", "line_items[0][price]": "price_labkit_prod_001", "line_items[0][quantity]": "1",
            "success_url": SUCCESS}
    body = {k: v for k, v in body.items() if not k.startswith(field)}
    body.update({f"{field}[0]": "x", f"{field}[1]": "y"})
    resp = requests.post(f"{fake.url}/v1/checkout/sessions", data=body, auth=("sk_test_x", ""), timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]["type"] == "invalid_request_error"


def test_a_publishable_key_cannot_create_or_read_sessions(browser_client, client):
    session = hosted(client)
    with pytest.raises(stripe.AuthenticationError):
        browser_client.v1.checkout.sessions.retrieve(session.id)
    with pytest.raises(stripe.AuthenticationError):
        browser_client.v1.checkout.sessions.create(params={"mode": "payment"})


def test_stripe_js_confirming_with_a_return_url_gets_the_modal_challenge_not_a_redirect(client, browser_client):
    pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"})
    out = browser_client.v1.payment_intents.confirm(pi.id, params={
        "client_secret": pi.client_secret, "payment_method": "pm_card_authenticationRequired",
        "return_url": "http://127.0.0.1:9/complete", "use_stripe_sdk": True})
    assert out.status == "requires_action" and out.next_action.type == "use_stripe_sdk"


def test_a_decline_left_on_checkouts_page_is_matched_with_its_sessions_payment(client, fake):
    """The check's record of a hosted Checkout payment (labkit.checks.paid): a decline stays on Stripe's page,
    whose address names the session; its PaymentIntent is the session's, not whatever is newest."""
    from labkit.checks.pages import PageRun, payment_intent_ids
    from labkit.checks.paid import _stripe_side

    session = hosted(client)
    known = payment_intent_ids(client)
    page_confirm(fake, session, "pm_card_visa_chargeDeclinedInsufficientFunds")
    later = client.v1.payment_intents.create(params={"amount": 450, "currency": "usd"})  # newer, not the page's
    run = PageRun("insufficient_funds", "failure", "Your card has insufficient funds.", None, False,
                  url=session.url)
    found = _stripe_side(client, run, known)
    assert found["id"] == client.v1.checkout.sessions.retrieve(session.id).payment_intent != later.id
    assert found["last_payment_error"]["decline_code"] == "insufficient_funds"
