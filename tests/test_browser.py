"""End to end in headless Chromium: the checkout page, the fake Stripe.js card iframe, 3D Secure.

Every request that reaches the checkout server during the browser runs is recorded, and
none may carry a card number: the iframe sends card data to Stripe (the fake) only.
"""
from __future__ import annotations

import io
import json
import re
import threading
from urllib.parse import quote

import pytest

from labkit.backend import connect
from labkit.tabs import listen
from labkit.browser import CARD_FRAME, CheckoutBrowser, Scenario, load_scenarios, run_scenarios
from labkit.leaks import luhn_ok
from labkit.kit_server import BackgroundServer
from labkit.settings import Settings
from labkit.settings import project_root
from labkit.student.server_process import StripeRewrite
from tests.helpers import PUBLISHABLE_KEY, SECRET_KEY, import_student_app

pytest.importorskip("playwright")


# a cached file's validators echo what the server said of it (Flask's ETag: time, size, checksum),
# which can be a Luhn-valid run of digits that no customer typed
CACHE_VALIDATORS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


class Recorder:
    """WSGI middleware keeping every request (method, path, query, headers, body) that reaches the app."""

    def __init__(self, app):
        self.app = app
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k: v for k, v in environ.items() if (k.startswith("HTTP_") or k.startswith("CONTENT_"))
                   and k not in CACHE_VALIDATORS}
        with self.lock:
            self.requests.append({"method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO", ""),
                                  "query": environ.get("QUERY_STRING", ""), "headers": headers, "body": body})
        return self.app(environ, start_response)

    def text(self) -> str:
        with self.lock:
            return "\n".join(json.dumps({**r, "body": r["body"].decode("latin-1")}) for r in self.requests)


_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d){12,18}")
_PERCENT_SPACE = re.compile(r"%20|\+")
# the page's checkout_id (crypto.randomUUID): its all-digit groups joined by dashes can make a Luhn-valid run
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")


def card_numbers_in(text: str) -> list[str]:
    """Luhn-valid runs of 13-19 digits, also when grouped by spaces/dashes or URL-encoded spaces (a UUID is
    not a card number, whatever its digits)."""
    found = []
    text = _UUID.sub("uuid", text)
    for candidate in (text, _PERCENT_SPACE.sub(" ", text)):
        for m in _DIGIT_RUN.finditer(candidate):
            digits = re.sub(r"\D", "", m.group())
            for size in range(13, 20):  # any 13-19 digit window inside a longer run
                for start in range(0, len(digits) - size + 1):
                    window = digits[start:start + size]
                    if luhn_ok(window) and window.startswith(("2", "3", "4", "5", "6")):
                        found.append(window)
    return found


@pytest.fixture(scope="module")
def shop(fake):
    """The solution's checkout_server.py, with every request it receives recorded."""
    settings = Settings(backend="fake", secret_key=SECRET_KEY, publishable_key=PUBLISHABLE_KEY, api_base=fake.url)
    app = import_student_app(project_root() / "checkout_server.py", fake.url)
    with connect(settings) as backend:
        recorder = Recorder(app)
        with BackgroundServer(StripeRewrite(recorder, fake.url), name="checkout under test") as server:
            yield {"url": server.url, "recorder": recorder, "backend": backend}


@pytest.fixture(scope="module")
def runs(shop, client, chromium, tmp_path_factory):
    out = tmp_path_factory.mktemp("screenshots")
    results = run_scenarios(shop["url"], out_dir=out, client=client, executable_path=chromium)
    return {r.scenario: r for r in results}


def test_the_five_lab_scenarios_ran(runs):
    assert list(runs) == ["success", "insufficient_funds", "3ds_complete", "3ds_fail", "generic_decline"]


def test_4242_succeeds(runs, client):
    r = runs["success"]
    assert r.outcome == "succeeded" and r.status == "succeeded"
    assert "Payment succeeded" in r.message and r.payment_intent in r.message
    assert r.decline_code is None and r.three_d_secure is False
    pi = client.v1.payment_intents.retrieve(r.payment_intent)
    pm = client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.card.last4 == "4242" and pm.billing_details.name == "Lab Student"
    assert pm.billing_details.address.postal_code == "42424"
    assert pi.amount == 1800 and pi.metadata["product_id"] == "prod_001"


def test_9995_declines_for_insufficient_funds(runs):
    r = runs["insufficient_funds"]
    assert r.outcome == "failed" and r.status == "requires_payment_method"
    assert r.decline_code == "insufficient_funds" and r.error_code == "card_declined"
    assert "Your card has insufficient funds." in r.message


def test_3155_with_3d_secure_completed_succeeds(runs, client):
    r = runs["3ds_complete"]
    assert r.three_d_secure is True and r.challenge == "complete"
    assert r.outcome == "succeeded" and r.status == "succeeded"
    assert r.challenge_screenshot is not None and r.challenge_screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    charge = client.v1.charges.retrieve(client.v1.payment_intents.retrieve(r.payment_intent).latest_charge)
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"


def test_3155_with_3d_secure_failed_is_an_error_not_a_silent_success(runs):
    r = runs["3ds_fail"]
    assert r.three_d_secure is True
    assert r.outcome == "failed" and r.status == "requires_payment_method"
    assert r.error_code == "payment_intent_authentication_failure"
    assert "We are unable to authenticate your payment method." in r.message


def test_0002_generic_decline(runs):
    r = runs["generic_decline"]
    assert r.outcome == "failed" and r.decline_code == "generic_decline"
    assert "Your card was declined." in r.message


def test_screenshots_saved_per_scenario(runs):
    for key, r in runs.items():
        assert r.screenshot is not None and r.screenshot.name == f"{key}.png"
        data = r.screenshot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_no_csp_violations_or_script_errors(runs):
    for r in runs.values():
        problems = [e for e in r.browser_errors if "Failed to load resource" not in e]
        assert problems == [], (r.scenario, problems)
        # the only failed loads are Stripe's 402 declines
        assert all("402" in e for e in r.browser_errors if "Failed to load resource" in e), r.browser_errors


def test_no_card_number_ever_reaches_the_checkout_server(runs, shop):
    recorded = shop["recorder"].requests
    creates = [r for r in recorded if r["path"] == "/create-payment-intent"]
    assert len(creates) == len(runs)  # the recorder saw the browser's traffic
    everything = shop["recorder"].text()
    assert card_numbers_in(everything) == []
    for sc in load_scenarios():
        assert sc.number not in everything and sc.number[-8:] not in re.sub(r"\D", "", everything)


def test_the_card_scanner_would_see_a_number():
    assert "4000002500003155" in card_numbers_in('{"note": "4000 0025 0000 3155"}')
    assert "4242424242424242" in card_numbers_in("card%5Bnumber%5D=4242+4242+4242+4242")
    assert card_numbers_in("GET /?x=1700000000123 pi_123") == []
    assert card_numbers_in('{"checkout_id": "64433917-4784-3123-8abc-def012345678"}') == []  # seen in CI
    assert "4242424242424242" in card_numbers_in('{"id": "64433917-4784-3123-8abc-def012345678", "n": "4242-4242-4242-4242"}')


# ---------------------------------------------------------------------- the card field itself
@pytest.fixture(scope="module")
def browser(shop, chromium):
    with CheckoutBrowser(shop["url"], executable_path=chromium, timeout=20) as b:
        yield b


def _card_error(page) -> str:
    page.locator("#cardholder-name").click()  # leave the card field: incomplete fields show their error
    page.wait_for_function("document.getElementById('card-errors').textContent.length > 0")
    return page.locator("#card-errors").inner_text()


@pytest.mark.parametrize("number,expiry,cvc,message", [
    ("4242424242424241", "1234", "123", "Your card number is invalid."),
    ("424242", "", "", "Your card number is incomplete."),
    ("4242424242424242", "12", "", "Your card's expiration date is incomplete."),
    ("4242424242424242", "1220", "", "Your card's expiration year is in the past."),
    ("4242424242424242", "1234", "1", "Your card's security code is incomplete."),
])
def test_card_field_validation_messages(browser, number, expiry, cvc, message):
    page = browser.open_checkout()
    try:
        frame = page.frame_locator(CARD_FRAME).first
        frame.locator('input[name="cardnumber"]').press_sequentially(number)
        if expiry:
            frame.locator('input[name="exp-date"]').press_sequentially(expiry)
        if cvc:
            frame.locator('input[name="cvc"]').press_sequentially(cvc)
        assert _card_error(page) == message
    finally:
        browser.close_page(page)


def test_paying_with_an_incomplete_card_shows_stripes_validation_error(browser):
    page = browser.open_checkout()
    try:
        page.frame_locator(CARD_FRAME).first.locator('input[name="cardnumber"]').press_sequentially("4242")
        page.click("#submit-btn")
        result = page.locator("#result[data-outcome]")
        result.wait_for()
        assert "Your card number is incomplete." in result.inner_text()
        assert result.get_attribute("data-code") == "incomplete_number"
    finally:
        browser.close_page(page)


def test_card_iframe_is_cross_origin_and_page_cannot_read_it(browser, shop):
    page = browser.open_checkout()
    try:
        frame_el = page.locator(CARD_FRAME).first
        src = frame_el.get_attribute("src")
        assert src.startswith(shop["backend"].api_base + "/elements/card")
        assert not src.startswith(shop["url"])
        # The merchant page's own scripts cannot reach into the iframe's document.
        blocked = page.evaluate("""() => {
            const f = document.querySelector('#card-element iframe');
            try { return f.contentDocument === null; } catch (e) { return true; }
        }""")
        assert blocked is True
    finally:
        browser.close_page(page)


def test_double_click_creates_one_payment_intent(browser, shop, client):
    page = browser.open_checkout(product="prod_003", quantity=2)
    try:
        browser.type_card(page, "4242424242424242")
        before = len(shop["recorder"].requests)
        page.dblclick("#submit-btn")
        page.locator("#result[data-outcome]").wait_for()
        assert page.locator("#result").get_attribute("data-outcome") == "succeeded"
        pi_id = page.locator("#result").get_attribute("data-payment-intent")
    finally:
        browser.close_page(page)
    bodies = [json.loads(r["body"]) for r in shop["recorder"].requests[before:] if r["path"] == "/create-payment-intent"]
    checkout_ids = {b["checkout_id"] for b in bodies}
    assert len(checkout_ids) == 1
    recent = client.v1.payment_intents.list(params={"limit": 20}).data
    same = [pi for pi in recent if pi.metadata.to_dict().get("checkout_id") in checkout_ids]
    assert [pi.id for pi in same] == [pi_id]
    assert same[0].amount == 900


def test_card_iframe_refuses_to_work_for_a_page_that_lies_about_its_origin(browser, shop, fake):
    """A third-party page framing the card field while claiming to be the shop gets a dead field."""
    pages = {}

    def evil(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        return [pages["html"]]

    with BackgroundServer(evil, name="other origin") as other:
        lie = quote(json.dumps({"frameId": "f1", "parentOrigin": shop["url"]}))
        truth = quote(json.dumps({"frameId": "f2", "parentOrigin": other.url}))
        pages["html"] = (f'<!doctype html><iframe name="__privateStripeFrame1" src="{fake.url}/elements/card#{lie}">'
                         f'</iframe><iframe name="__privateStripeFrame2" src="{fake.url}/elements/card#{truth}">'
                         '</iframe>').encode()
        page = browser.new_page()
        try:
            page.goto(other.url + "/")
            lying = page.frame_locator('iframe[name="__privateStripeFrame1"]').locator('input[name="cardnumber"]')
            honest = page.frame_locator('iframe[name="__privateStripeFrame2"]').locator('input[name="cardnumber"]')
            lying.wait_for()
            honest.wait_for()
            assert lying.is_disabled()
            assert honest.is_enabled()  # the check is about the origin, not about being framed
        finally:
            browser.close_page(page)


def test_same_driver_handles_a_custom_scenario(shop, client, chromium):
    sc = Scenario("amex", "378282246310005", "Amex succeeds")
    [run] = run_scenarios(shop["url"], [sc], client=client, executable_path=chromium)
    assert run.outcome == "succeeded" and run.card == "3782 822463 10005"


def test_each_page_starts_as_a_new_customers(browser):
    """The browser's pages share one context and, one customer after another, one tab (labkit.tabs), so
    taking a page back must forget what it stored: cookies, local and session storage of the shop's
    origin and of Stripe's card frame, and the listeners a check added for that customer."""
    page = browser.open_checkout()
    page.evaluate("() => { localStorage.setItem('cart', 'mug'); sessionStorage.setItem('step', '2'); "
                  "document.cookie = 'visitor=1'; }")
    frame = page.locator(CARD_FRAME).first.element_handle().content_frame()
    frame.evaluate("() => { localStorage.setItem('seen', 'yes'); sessionStorage.setItem('seen', 'yes'); }")
    heard: list[str] = []
    listen(page, "request", lambda req: heard.append(req.url))
    other = browser.open_checkout()  # opened meanwhile: the same customer's other tab sees it all
    try:
        assert other is not page
        assert other.evaluate("() => [localStorage.getItem('cart'), document.cookie]") == ["mug", "visitor=1"]
    finally:
        browser.close_page(other)  # kept for the next customer, cleared
    browser.close_page(page)  # a tab is kept already: this one closes, cleared as well
    assert page.is_closed()
    fresh = browser.open_checkout()
    try:
        assert fresh is other  # the kept tab
        assert fresh.evaluate("() => [localStorage.getItem('cart'), sessionStorage.getItem('step'), "
                              "document.cookie]") == [None, None, ""]
        card = fresh.locator(CARD_FRAME).first.element_handle().content_frame()
        assert card.evaluate("() => [localStorage.getItem('seen'), sessionStorage.getItem('seen')]") == [None, None]
    finally:
        browser.close_page(fresh)
    again = browser.open_checkout()  # the same tab once more: nothing of the first page listens to it
    try:
        frame = again.locator(CARD_FRAME).first.element_handle().content_frame()
        frame.evaluate("() => sessionStorage.setItem('seen', 'yes')")
        again.evaluate("() => sessionStorage.setItem('step', '3')")
        assert again is fresh and heard == []
    finally:
        browser.close_page(again)
    last = browser.open_checkout()
    try:
        assert last is again  # the same tab: its session storage is the one that must be cleared
        assert last.evaluate("() => sessionStorage.getItem('step')") is None
        card = last.locator(CARD_FRAME).first.element_handle().content_frame()
        assert card.evaluate("() => sessionStorage.getItem('seen')") is None  # the card frame's session, too
    finally:
        browser.close_page(last)


def test_a_tab_that_left_the_shop_behind_is_not_kept(browser, shop, fake):
    """The shop's session storage can only be cleared while one of its pages is open: a tab that went from
    the shop to another site is closed, and the next customer gets a new one. Leaving Stripe's frame behind
    (a return page of the shop's) is fine: the shop's code cannot script Stripe's frames."""
    page = browser.open_checkout()
    page.goto(shop["url"] + "/static/checkout.css")  # still the shop; Stripe's card frame is gone
    browser.close_page(page)
    kept = browser.open_checkout()
    try:
        assert kept is page and not page.is_closed()
        kept.goto(fake.url + "/")  # another site: the shop's page is gone from the tab
    finally:
        browser.close_page(kept)
    assert kept.is_closed()
    fresh = browser.open_checkout()
    try:
        assert fresh is not kept
    finally:
        browser.close_page(fresh)


def test_a_tab_back_from_stripe_checkout_is_kept_and_one_left_on_it_is_not(browser, shop, fake):
    """Stripe Checkout's page (offline, on the fake's site) is Stripe's, like its frames: a customer sent there
    and back to the shop's return page leaves nothing the shop's code could read, so the tab is kept (a new
    tab costs a renderer process). A customer left on Checkout's page (a decline) left the shop behind."""
    page = browser.open_checkout()
    page.goto(fake.url + "/c/pay/cs_test_notASession")
    page.goto(shop["url"] + "/")  # the return page
    browser.close_page(page)
    kept = browser.open_checkout()
    try:
        assert kept is page and not page.is_closed()
        kept.goto(fake.url + "/c/pay/cs_test_notASession")  # the customer stays on Checkout's page
    finally:
        browser.close_page(kept)
    assert kept.is_closed()
    shop_checkout = browser.open_checkout()  # the shop serving a Checkout-like address is still the shop
    try:
        shop_checkout.goto(shop["url"] + "/c/pay/cs_test_notASession")
        shop_checkout.goto(fake.url + "/")
    finally:
        browser.close_page(shop_checkout)
    assert shop_checkout.is_closed()
