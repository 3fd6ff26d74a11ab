"""Which of Stripe's integrations the student's checkout page uses, and how a customer pays on each.

=====================  ===========================================================================
``card``               the handout's card Element in ``#card-element`` (``confirmCardPayment``)
``payment_element``    the Payment Element (``elements.create('payment')``, ``confirmPayment``)
``checkout_hosted``    a Checkout Session: the page's button leads to Stripe's hosted payment page
``checkout_embedded``  a Checkout Session mounted in the page (``initEmbeddedCheckout``)
=====================  ===========================================================================

The card Element keeps its driver in :mod:`labkit.checks.pages`; the other three are paid here, with
the selectors of Stripe's own pages (the Payment Element's ``number``/``expiry``/``cvc``/``postalCode``
inputs in a frame titled "Secure payment input frame"; Checkout's ``#email``, ``#billingName`` and
submit button), which the offline fake's pages share. The Payment Element's confirmation request is
watched to learn the ``return_url`` and client secret the page used (for :mod:`labkit.checks.today`).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from labkit import card_entry
from labkit.tabs import CHECKOUT_PATH, listen

CARD, PAYMENT, HOSTED, EMBEDDED = "card", "payment_element", "checkout_hosted", "checkout_embedded"
NAMES = {CARD: "the card Element", PAYMENT: "the Payment Element", HOSTED: "a Checkout Session (hosted page)",
         EMBEDDED: "a Checkout Session (embedded form)"}
PAYMENT_FRAME = 'iframe[title="Secure payment input frame"]'
EMBEDDED_FRAME = 'iframe[src*="/c/embedded/"], iframe[src*="checkout.stripe.com"], iframe[title="Embedded Checkout"]'
SUBMIT = "#submit-btn, #checkout-button, form button[type=submit], button[type=submit]"  # + Stripe samples' id
CHECKOUT_PAGE = re.compile(CHECKOUT_PATH.pattern + r"|//checkout\.stripe\.com/")
CHECKOUT_SUBMIT = '#submit, .SubmitButton, [data-testid="hosted-payment-submit-button"]'
CONFIRM = re.compile(r"/v1/payment_intents/pi_[A-Za-z0-9]+/confirm$")


@dataclass
class Flow:
    kind: str = CARD
    return_url: str | None = None      # what the page passed to confirmPayment (Payment Element)
    client_secret: str | None = None


def detect(page, timeout: float) -> Flow:
    """The integration on the loaded page. The handout's ``#card-element`` wins (its driver waits for
    the iframe); otherwise wait for a Payment Element or an embedded Checkout; a page without either
    whose button leads elsewhere is taken for a hosted Checkout Session."""
    end = time.monotonic() + timeout
    while True:
        if page.locator(PAYMENT_FRAME).count():  # also a Payment Element mounted in #card-element
            return _watched(page, Flow(PAYMENT))
        if page.locator(EMBEDDED_FRAME).count():
            return Flow(EMBEDDED)
        if page.locator("#card-element iframe").count():
            return Flow(CARD)
        waiting = page.locator("#card-element, #payment-element, #checkout").count() or _has_stripe_js(page)
        if not waiting or time.monotonic() > end:
            if page.locator("#card-element").count() or not page.locator(SUBMIT).count():
                return Flow(CARD)  # the card driver says what is missing
            return Flow(HOSTED)
        try:  # until one of the three is there (each looked at again above, in that order), or the time is up
            page.locator(f"{PAYMENT_FRAME}, {EMBEDDED_FRAME}, #card-element iframe").first.wait_for(
                state="attached", timeout=max(1.0, (end - time.monotonic()) * 1000))
        except Exception:  # none came: the checks above say which flow to assume
            pass


def _has_stripe_js(page) -> bool:
    try:
        return bool(page.evaluate("() => typeof Stripe === 'function'"))
    except Exception:
        return False


def _watched(page, flow: Flow) -> Flow:
    """Keep the return_url and client secret of the page's confirmPayment (sent to Stripe's API)."""
    def on_request(request) -> None:
        if request.method != "POST" or not CONFIRM.search(request.url.split("?")[0]):
            return
        form = parse_qs(request.post_data or "")
        flow.return_url = (form.get("return_url") or [None])[0]
        flow.client_secret = (form.get("client_secret") or [None])[0]
    listen(page, "request", on_request)
    return flow


def _type_payment_element(root, number: str) -> None:
    """The card into the Payment Element's frame in ``root`` (the page, or Checkout's embedded frame)."""
    card_entry.enter_fields(root, PAYMENT_FRAME, [('input[name="number"]', number),
                                                  ('input[name="expiry"]', card_entry.expiry_date()),
                                                  ('input[name="cvc"]', "1234" if len(number) == 15 else "123"),
                                                  ('input[name="postalCode"]', "42424")],
                            optional=('input[name="postalCode"]',))


def _wait_enabled(locator, timeout: float) -> bool:
    """Wait until ``locator``'s first element is there and enabled; False if it never is."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if locator.count() and locator.first.is_enabled():
            return True
        locator.page.wait_for_timeout(50)
    return False


def pay(page, flow: Flow, number: str, timeout: float) -> str:
    """Type the card and press Pay for ``flow.kind``; '' when done, else what went wrong."""
    try:
        if flow.kind == PAYMENT:
            if not _wait_enabled(page.locator(SUBMIT), timeout):
                return "the Pay button (#submit-btn) never became clickable"
            _type_payment_element(page, number)
            page.locator(SUBMIT).first.click()
            return ""
        if flow.kind == EMBEDDED:
            return _pay_on_checkout(page.frame_locator(EMBEDDED_FRAME).first, number, timeout)
        button = page.locator(SUBMIT).first
        if not _wait_enabled(page.locator(SUBMIT), timeout):
            return "the checkout button (#submit-btn) never became clickable"
        button.click()
        try:
            page.wait_for_url(CHECKOUT_PAGE, timeout=timeout * 1000)
        except Exception:
            return ("no Stripe payment field on the page (#card-element, #payment-element or an embedded Checkout), "
                    "and the button did not lead to a Stripe Checkout page")
        return _pay_on_checkout(page, number, timeout)
    except Exception as exc:  # a frame that never loaded, a field that never appeared
        return f"could not type the card ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"


def _pay_on_checkout(where, number: str, timeout: float) -> str:
    """Stripe Checkout's own form (hosted page, or the embedded iframe): email, name, card, Pay."""
    submit = where.locator(CHECKOUT_SUBMIT).first
    submit.wait_for(state="visible", timeout=timeout * 1000)
    _wait_enabled(submit, timeout)  # Checkout enables Pay once its form is ready
    for selector, value in (("#email", "lab.student@example.com"), ("#billingName", "Lab Student")):
        box = where.locator(selector)
        if box.count() and box.first.is_editable() and not box.first.input_value():
            box.first.fill(value)
    if where.locator("#cardNumber").count():  # Stripe's hosted page types the card on the page itself
        card_entry.enter_fields(where, None, [("#cardNumber", number), ("#cardExpiry", card_entry.expiry_date()),
                                              ("#cardCvc", "1234" if len(number) == 15 else "123")])
    else:
        _type_payment_element(where, number)
    submit.click()
    return ""


def checkout_error(page) -> str:
    """The error Stripe's Checkout form shows (a decline, a failed challenge), or ''."""
    for frame in page.frames:
        if not CHECKOUT_PAGE.search(frame.url):
            continue
        try:  # one evaluate, no auto-waiting: the frame may be leaving for the success page
            text = " ".join(str(frame.evaluate(
                "() => { const e = document.querySelector('#error-message, .FieldError'); "
                "return e ? (e.innerText || '') : ''; }")).split())
        except Exception:
            continue
        if text:
            return text
    return ""


def show_card(page, number: str) -> str | None:
    """For a picture of the page: type ``number`` into a Payment Element (not paid). Returns the number
    when the page has the card Element after all (its own driver types it), else None."""
    if page.locator("#card-element").count() and not page.locator(PAYMENT_FRAME).count():
        return number
    if page.locator(PAYMENT_FRAME).count():
        _type_payment_element(page, number)
        page.locator("body").click(position={"x": 5, "y": 5})  # leave the field (the picture ends its transitions)
    return None
