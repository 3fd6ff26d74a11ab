"""Today's Stripe.js on the fake, in headless Chromium: the Payment Element (elements.submit,
confirmPayment with return_url and redirect, the redirect's query parameters, 3D Secure, declines,
retrievePaymentIntent), the hosted Checkout page and the embedded Checkout form."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from labkit.kit_server import BackgroundServer
from tests.helpers import PUBLISHABLE_KEY

pytest.importorskip("playwright")

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script src="{fake}/v3/"></script></head><body><div id="payment-element"></div><div id="checkout"></div>
<script>window.stripe = Stripe({pk!r});</script></body></html>"""


class Pages:
    """Serves the bare test page at any path (the return_url lands on it too)."""

    def __init__(self, fake_url: str) -> None:
        self.html = PAGE.format(fake=fake_url, pk=PUBLISHABLE_KEY).encode()

    def __call__(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
        return [self.html]


@pytest.fixture(scope="module")
def site(fake):
    with BackgroundServer(Pages(fake.url), name="test page") as server:
        yield server.url


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    from labkit.chromium import launch_args

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=launch_args())
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def mount_payment_element(page, site, client_secret: str | None = None, options: dict | None = None) -> None:
    page.goto(site + "/shop")
    opts = options or {"clientSecret": client_secret}
    page.evaluate("""opts => new Promise(resolve => {
        window.elements = stripe.elements(opts);
        const pe = elements.create('payment');
        pe.on('ready', () => resolve());
        pe.mount('#payment-element');
    })""", opts)


def type_card(page, number: str, where=None) -> None:
    frame = (where or page).frame_locator('#payment-element iframe[name^="__privateStripeFrame"]').first
    frame.locator('input[name="number"]').press_sequentially(number)
    frame.locator('input[name="expiry"]').press_sequentially(f"12{(time.gmtime().tm_year + 3) % 100:02d}")
    frame.locator('input[name="cvc"]').press_sequentially("123")
    frame.locator('input[name="postalCode"]').press_sequentially("42424")


def answer_3ds(page, button: str) -> None:
    selector = "#test-source-authorize-3ds" if button == "complete" else "#test-source-fail-3ds"
    end = time.monotonic() + 15
    while time.monotonic() < end:
        for frame in page.frames:
            try:
                if frame.locator(selector).count() and frame.locator(selector).first.is_enabled():
                    frame.locator(selector).first.click()
                    return
            except Exception:
                continue
        page.wait_for_timeout(100)
    raise AssertionError("no 3D Secure challenge appeared")


def confirm(page, **options):
    """stripe.confirmPayment({elements, ...options}) without awaiting (it may leave the page)."""
    page.evaluate("""opts => { window.outcome = null;
        stripe.confirmPayment(Object.assign({elements}, opts)).then(
            r => { window.outcome = JSON.parse(JSON.stringify(r)); },
            e => { window.outcome = {thrown: e.name + ': ' + e.message}; }); }""",
                  options)


def outcome(page) -> dict:
    page.wait_for_function("() => window.outcome")
    return page.evaluate("() => window.outcome")


def new_intent(client) -> object:
    return client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd",
                                                    "automatic_payment_methods": {"enabled": True}})


# ---------------------------------------------------------------------------- the Payment Element
def test_the_payment_element_is_a_cross_origin_iframe_with_stripes_field_names(page, site, client):
    mount_payment_element(page, site, new_intent(client).client_secret)
    frame = page.locator('#payment-element iframe').first
    assert frame.get_attribute("title") == "Secure payment input frame"
    inner = next(f for f in page.frames if "/elements/payment" in f.url)
    assert urlsplit(inner.url).netloc != urlsplit(page.url).netloc
    names = inner.evaluate("() => [...document.querySelectorAll('input')].map(i => i.name)")
    assert names == ["number", "expiry", "cvc", "postalCode"]
    with pytest.raises(Exception):  # the page cannot reach into Stripe's frame
        page.evaluate("() => document.querySelector('#payment-element iframe').contentDocument.body.innerHTML")


def test_a_payment_element_needs_a_client_secret_or_a_mode(page, site):
    page.goto(site + "/shop")
    thrown = page.evaluate("""() => { try { stripe.elements().create('payment'); return ''; }
                                      catch (e) { return e.name + ': ' + e.message; } }""")
    assert thrown.startswith("IntegrationError: In order to create a payment element")


def test_elements_submit_reports_an_incomplete_card(page, site, client):
    mount_payment_element(page, site, new_intent(client).client_secret)
    assert page.evaluate("() => elements.submit()") == {"error": {
        "type": "validation_error", "code": "incomplete_number", "message": "Your card number is incomplete."}}
    type_card(page, "4242424242424242")
    assert page.evaluate("() => elements.submit()") == {}


def test_success_redirects_to_the_return_url_with_stripes_three_parameters(page, site, client):
    pi = new_intent(client)
    mount_payment_element(page, site, pi.client_secret)
    type_card(page, "4242424242424242")
    confirm(page, confirmParams={"return_url": site + "/complete?order=7"})
    page.wait_for_url("**/complete?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"order": ["7"], "payment_intent": [pi.id], "payment_intent_client_secret": [pi.client_secret],
                     "redirect_status": ["succeeded"]}
    seen = page.evaluate("s => stripe.retrievePaymentIntent(s).then(r => r.paymentIntent.status)", pi.client_secret)
    assert seen == "succeeded" and client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_without_a_return_url_confirm_payment_refuses_unless_redirect_if_required(page, site, client):
    pi = new_intent(client)
    mount_payment_element(page, site, pi.client_secret)
    type_card(page, "4242424242424242")
    confirm(page)
    assert "return_url" in outcome(page)["thrown"] and "IntegrationError" in outcome(page)["thrown"]
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"
    confirm(page, redirect="if_required")
    result = outcome(page)
    assert result["paymentIntent"]["status"] == "succeeded" and page.url.endswith("/shop")


def test_a_decline_comes_back_as_an_error_without_leaving_the_page(page, site, client):
    pi = new_intent(client)
    mount_payment_element(page, site, pi.client_secret)
    type_card(page, "4000000000000002")
    confirm(page, confirmParams={"return_url": site + "/complete"})
    err = outcome(page)["error"]
    assert (err["type"], err["code"], err["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    assert err["payment_intent"]["id"] == pi.id and page.url.endswith("/shop")


@pytest.mark.parametrize("button", ["complete", "fail"])
def test_3d_secure_in_the_modal_then_redirect_or_error(page, site, client, button):
    pi = new_intent(client)
    mount_payment_element(page, site, pi.client_secret)
    type_card(page, "4000002500003155")
    confirm(page, confirmParams={"return_url": site + "/complete"})
    answer_3ds(page, button)
    if button == "complete":
        page.wait_for_url("**/complete?**")
        assert parse_qs(urlsplit(page.url).query)["redirect_status"] == ["succeeded"]
        assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    else:
        err = outcome(page)["error"]
        assert err["code"] == "payment_intent_authentication_failure"
        assert err["message"].startswith("We are unable to authenticate your payment method.")


def test_deferred_intent_needs_elements_submit_first(page, site, client):
    mount_payment_element(page, site, options={"mode": "payment", "amount": 1800, "currency": "usd"})
    type_card(page, "4242424242424242")
    pi = new_intent(client)
    confirm(page, clientSecret=pi.client_secret, redirect="if_required")
    assert "elements.submit()" in outcome(page)["thrown"]
    assert page.evaluate("() => elements.submit()") == {}
    confirm(page, clientSecret=pi.client_secret, redirect="if_required")
    assert outcome(page)["paymentIntent"]["status"] == "succeeded"


# ---------------------------------------------------------------------------- Checkout
def session(client, site, **extra):
    params = {"mode": "payment", "line_items": [{"price": "price_labkit_prod_001", "quantity": 1}], **extra}
    if params.get("ui_mode") != "embedded":
        params.update(success_url=site + "/success?session_id={CHECKOUT_SESSION_ID}", cancel_url=site + "/cancel")
    return client.v1.checkout.sessions.create(params=params)


@pytest.mark.parametrize("number, button, lands", [
    ("4242424242424242", None, "success"), ("4000002500003155", "complete", "success"),
    ("4000000000009995", None, "Your card has insufficient funds."),
    ("4000002500003155", "fail", "We are unable to authenticate your payment method."),
])
def test_the_hosted_checkout_page(page, site, client, number, button, lands):
    cs = session(client, site)
    page.goto(cs.url)
    page.locator("#submit:not([disabled])").wait_for()
    assert page.locator("#amount-total").inner_text() == "$18.00"
    assert page.locator("#cancel-link").get_attribute("href") == site + "/cancel"
    type_card(page, number)
    page.click("#submit")
    if button:
        answer_3ds(page, button)
    if lands == "success":
        page.wait_for_url("**/success?**")
        assert parse_qs(urlsplit(page.url).query) == {"session_id": [cs.id]}
        assert client.v1.checkout.sessions.retrieve(cs.id).payment_status == "paid"
    else:
        page.wait_for_function("() => document.getElementById('error-message').textContent.length > 0")
        assert page.locator("#error-message").inner_text().startswith(lands)
        assert client.v1.checkout.sessions.retrieve(cs.id).status == "open"


def test_the_embedded_checkout_form_pays_in_its_iframe_and_sends_the_page_to_the_return_url(page, site, client):
    cs = session(client, site, ui_mode="embedded", return_url=site + "/return?session_id={CHECKOUT_SESSION_ID}")
    page.goto(site + "/shop")
    page.evaluate("""secret => stripe.initEmbeddedCheckout({fetchClientSecret: () => Promise.resolve(secret)})
                       .then(checkout => checkout.mount('#checkout'))""", cs.client_secret)
    form = page.frame_locator("#checkout iframe").first
    form.locator("#submit:not([disabled])").wait_for()
    type_card(page, "4242424242424242", where=form)
    form.locator("#submit").click()
    page.wait_for_url("**/return?**")
    assert parse_qs(urlsplit(page.url).query) == {"session_id": [cs.id]}
    assert client.v1.checkout.sessions.retrieve(cs.id).status == "complete"
    assert json.dumps(page.evaluate("() => document.body.innerText")).find("4242") == -1
