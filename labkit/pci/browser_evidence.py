"""Evidence from a browser: headless Chromium drives the checkout and records every request.

:func:`collect_browser_evidence` opens the checkout, types a test card and pays, recording every
request the page and its frames make (URL, method, body), the frames that hold card inputs and
the page's scripts. It works on the kit's page (its card Element and pay button) and on any
other checkout: the card is typed into whichever Stripe iframe holds a card number input, or
into the page's own card inputs (which SAQ A forbids, and the checks then report).
"""
from __future__ import annotations

import base64
import re
import time
from typing import Any, Sequence
from urllib.parse import urlsplit

import requests

from labkit import card_entry
from labkit.browser import (
    CARD_FRAME,
    PAY_BUTTON,
    CheckoutBrowser,
    in_worker_thread,
    load_scenarios,
)
from labkit.leaks import load_test_cards
from labkit.pci.at_rest import card_findings, describe_cards
from labkit.pci.http_checks import TIMEOUT, http_session
from labkit.pci.page import (
    BrowserEvidence,
    FrameInfo,
    RecordedRequest,
    is_card_input,
    origin_of,
)
from labkit.pci.results import CheckResult, result
from labkit.tabs import listen

STRIPE_FRAME = 'iframe[name^="__privateStripeFrame"]'
STRIPE_CARD_INPUT = 'input[name="cardnumber"], input[name="number"]'  # card Element, Payment Element

class RecordingBrowser(CheckoutBrowser):
    """:class:`CheckoutBrowser` whose pages record every request of every frame, and CSP violations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: list[RecordedRequest] = []
        self.console: list[str] = []

    def new_page(self):
        page = super().new_page()
        listen(page, "request", self._record)  # every frame of the page (its windows too: below)
        listen(page, "popup", lambda popup: popup.on("request", self._record))
        listen(page, "console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None)
        return page

    def _record(self, req: Any) -> None:
        try:
            body = req.post_data
        except Exception:  # binary bodies
            buf = req.post_data_buffer
            body = base64.b64encode(buf).decode() if buf else None
        try:
            frame_url = req.frame.url
        except Exception:
            frame_url = ""
        self.recorded.append(RecordedRequest(req.url, req.method, req.resource_type, body, frame_url))


def _frame_inventory(page) -> list[FrameInfo]:
    frames = []
    for frame in page.frames:
        try:
            names = frame.evaluate(
                """() => Array.from(document.querySelectorAll('input, select, textarea')).map(
                       e => [e.name, e.id, e.autocomplete].filter(Boolean).join('/'))""")
        except Exception:
            names = []
        card = [n for n in names if is_card_input({"name": n})]
        frames.append(FrameInfo(frame.url, origin_of(frame.url), frame == page.main_frame, card))
    return frames


_SUBMIT = "#submit-btn, button[type=submit], input[type=submit]"


def _open(browser: Any, url: str, frame_selector: str, wait_ms: int = 8000):
    """Open the page and wait until Stripe's card iframe or a card input of the page's own shows up."""
    page = browser.new_page()
    page.goto(url, wait_until="load")
    end = time.monotonic() + wait_ms / 1000
    while time.monotonic() < end:
        if page.locator(frame_selector).count() or _main_card_inputs(page):
            break
        page.wait_for_timeout(100)
    if page.locator(frame_selector).count() and page.locator(PAY_BUTTON).count():
        try:  # the kit's page enables its pay button once the card field is ready
            page.locator(f"{PAY_BUTTON}:not([disabled])").wait_for(timeout=wait_ms)
        except Exception:
            pass
    return page


def _main_card_inputs(page) -> list[Any]:
    found = []
    for el in page.main_frame.locator("input").all():
        attrs = {k: el.get_attribute(k) or "" for k in ("name", "id", "autocomplete")}
        if is_card_input(attrs):
            found.append((attrs, el))
    return found


def _type_into_page(page, number: str) -> bool:
    """A checkout that draws its own card inputs (what SAQ A forbids): type into them as a person would."""
    inputs = _main_card_inputs(page)
    if not inputs:
        return False
    values = {"cardnumber": number, "card-number": number, "card_number": number, "cc-number": number,
              "ccnumber": number, "exp-date": "12 / 34", "cc-exp": "12 / 34", "cvc": "123", "cvv": "123",
              "cc-csc": "123"}
    for attrs, el in inputs:
        keys = re.split(r"[\s/]+", " ".join(attrs.values()).lower())
        value = next((values[k] for k in keys if k in values), None)
        if value:
            el.fill(value)
    return True


def _stripe_card_frame(page) -> Any:
    """The frame (Stripe's iframe, in any container of the page) that holds a card number input, or None."""
    for frame in page.frames:
        if frame == page.main_frame:
            continue
        try:
            if frame.locator(STRIPE_CARD_INPUT).count():
                return frame
        except Exception:  # a frame navigating or detaching
            continue
    return None


def _type_into_frame(frame: Any, number: str) -> None:
    """Type a whole card (number, expiry, CVC, postcode where asked) into a Stripe iframe, key by key."""
    expiry = card_entry.expiry_date()
    for selector, value in ((STRIPE_CARD_INPUT, number), ('input[name="exp-date"], input[name="expiry"]', expiry),
                            ('input[name="cvc"]', "1234" if len(number) == 15 else "123"),
                            ('input[name="postal"], input[name="postalCode"]', "42424")):
        field_ = frame.locator(selector)
        if field_.count() and field_.first.is_visible():
            field_.first.press_sequentially(value)


def _type_card(browser: RecordingBrowser, page, number: str) -> str:
    """Type the card where the page takes it: the kit's card Element, another Stripe iframe, or the
    page's own inputs. Returns where it was typed ("" if nowhere)."""
    if page.locator(CARD_FRAME).count():
        if page.locator("#cardholder-name").count():
            page.fill("#cardholder-name", "Lab Student")
        browser.type_card(page, number)
        return "the kit's card Element"
    frame = _stripe_card_frame(page)
    if frame is not None:
        _type_into_frame(frame, number)
        return "a Stripe iframe"
    return "the page's own inputs" if _type_into_page(page, number) else ""


def _inspect_page(browser: RecordingBrowser, ev: BrowserEvidence, scenarios: Sequence[Any]) -> bool:
    """Open the page and type a card without paying: where do the card inputs live, what can the page
    read? Returns whether the page is the kit's (its card Element and pay button)."""
    page = _open(browser, ev.checkout_url, STRIPE_FRAME)
    try:
        typed = ""
        if scenarios:
            try:
                typed = _type_card(browser, page, scenarios[0].number)
            except Exception as exc:  # a page of another shape: the inventory below is still evidence
                ev.notes.append(f"typing a card failed ({type(exc).__name__})")
        ev.notes.append(f"card typed into {typed}" if typed else "no card field found to type into")
        ev.frames = _frame_inventory(page)
        ev.main_frame_scripts = page.evaluate(
            "() => performance.getEntriesByType('resource').filter(e => e.initiatorType === 'script')"
            ".map(e => e.name)")
        src = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(Boolean)")
        if ev.stripe_origin is None:
            card_frames = [f.origin for f in ev.frames if f.card_inputs and not f.main]
            js = [origin_of(s) for s in src if "js.stripe.com" in s or re.search(r"/v3/?$", urlsplit(s).path)]
            ev.stripe_origin = (js or card_frames or [None])[0]
        # what the merchant's own script could read: the values of the page's inputs (the hint text
        # listing the public test cards is not the typed card, so the page's text is not scanned)
        ev.main_dom_cards = [f.describe() for f in card_findings(page.evaluate(
            "() => Array.from(document.querySelectorAll('input, textarea')).map(i => i.value).join(' | ')"))]
        return bool(page.locator(CARD_FRAME).count() and page.locator(PAY_BUTTON).count())
    finally:
        browser.close_page(page)


def _pay_elsewhere(browser: RecordingBrowser, url: str, scenario: Any) -> dict[str, Any]:
    """A checkout that is not the kit's: type the card where the page takes it, press its submit button."""
    page = _open(browser, url, STRIPE_FRAME)
    card = scenario.number[-4:]
    try:
        where = _type_card(browser, page, scenario.number)
        if not where:
            return {"scenario": scenario.key, "card": card, "outcome": "error: no card field"}
        if not page.locator(_SUBMIT).count():
            return {"scenario": scenario.key, "card": card, "outcome": f"typed into {where}; no submit button"}
        page.locator(_SUBMIT).first.click()
        try:
            page.wait_for_load_state("networkidle", timeout=5000)
        except Exception:
            pass
        return {"scenario": scenario.key, "card": card, "outcome": f"submitted (card typed into {where})"}
    finally:
        browser.close_page(page)


def _collect(checkout_url: str, scenarios: Sequence[Any], executable_path: str | None, timeout: float,
             stripe_origin: str | None) -> BrowserEvidence:
    ev = BrowserEvidence(checkout_url, origin_of(checkout_url), stripe_origin)
    with RecordingBrowser(checkout_url, executable_path=executable_path, timeout=timeout) as browser:
        kits_page = _inspect_page(browser, ev, scenarios)
        for sc in scenarios:  # payments, every request recorded
            try:
                if kits_page:
                    run = browser.pay(sc)
                    ev.runs.append({"scenario": sc.key, "card": run.card, "outcome": run.outcome})
                else:
                    ev.runs.append(_pay_elsewhere(browser, checkout_url, sc))
            except Exception as exc:  # a failed run is evidence too; the requests so far are kept
                ev.runs.append({"scenario": sc.key, "card": sc.number[-4:], "outcome": f"error: {type(exc).__name__}"})
        ev.requests = list(browser.recorded)
        ev.csp_violations = list(browser.console)
    # responses from the merchant, fetched again outside the browser for the secret-key scan
    with http_session() as http:
        for req in ev.requests:
            if ev.classify(req.url) == "merchant" and req.method == "GET" and req.url not in ev.merchant_responses:
                try:
                    ev.merchant_responses[req.url] = http.get(req.url, timeout=TIMEOUT).text
                except requests.RequestException:
                    pass
    return ev


def collect_browser_evidence(checkout_url: str, scenarios: Sequence[Any] | None = None, *,
                             executable_path: str | None = None, timeout: float = 30.0,
                             stripe_origin: str | None = None) -> BrowserEvidence:
    """Drive the checkout in headless Chromium (in a worker thread: safe from a notebook) and record
    every request, the frames with card inputs and the page's scripts.

    ``scenarios`` default to two of the lab's five: the successful card and 3D Secure completed.
    """
    if scenarios is None:
        scenarios = [s for s in load_scenarios() if s.key in ("success", "3ds_complete")]
    try:
        return in_worker_thread(_collect, checkout_url, list(scenarios), executable_path, timeout, stripe_origin)
    except Exception as exc:
        return BrowserEvidence(checkout_url, origin_of(checkout_url), stripe_origin,
                               error=f"the browser run failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def check_requests_carry_no_card(ev: BrowserEvidence) -> CheckResult:
    """No request to the merchant's origin (or any third party) carries a card number; the card goes to Stripe."""
    if ev.error and not ev.requests:
        return result("no_card_data_in_requests", "error", ev.error)
    cards = load_test_cards()
    counts = {"merchant": 0, "stripe": 0, "third party": 0, "local": 0}
    to_stripe: list[str] = []
    leaks: list[str] = []
    for req in ev.requests:
        kind = ev.classify(req.url)
        counts[kind] += 1
        found = card_findings(f"{req.url}\n{req.post_data or ''}", cards)
        if not found:
            continue
        path = urlsplit(req.url).path
        if kind == "stripe":
            to_stripe.append(f"{req.method} {path} ({describe_cards(found)})")
        else:
            leaks.append(f"{req.method} {origin_of(req.url) or req.url[:20]}{path} ({kind}): {describe_cards(found)}")
    runs = ", ".join(f"{r['scenario']} → {r['outcome']}" for r in ev.runs) or "none"
    details = [f"payments driven: {runs}",
               "requests recorded (page and frames): "
               + ", ".join(f"{'some' if counts[k] else 'none'} to {label}" for k, label in (
                   ("merchant", f"the merchant ({ev.merchant_origin})"),
                   ("stripe", f"Stripe ({ev.stripe_origin or 'not found'})"), ("third party", "third parties")))]
    if to_stripe:
        details.append("the card number was sent only in: " + "; ".join(sorted(set(to_stripe))))
    if ev.main_dom_cards:
        details.append("card numbers readable in the merchant page's own DOM: " + "; ".join(sorted(set(ev.main_dom_cards))))
    if leaks or ev.main_dom_cards:
        details[:0] = [f"card number sent in {l}" for l in leaks]
        what = leaks[0] if leaks else "the merchant's page can read the card number (it is not in Stripe's iframe)"
        return result("no_card_data_in_requests", "gap", what, details,
                      "Take card details only in Stripe's card Element (its iframe) and confirm with Stripe.js; "
                      "never post card fields to your own server or read them in your page's script.")
    if not to_stripe:
        return result("no_card_data_in_requests", "error",
                      "no request carried the test card at all: the browser run did not reach Stripe", details)
    return result("no_card_data_in_requests", "pass",
                  "card numbers went only to Stripe's origin; no request to the merchant carried one", details)


def check_card_fields_origin(ev: BrowserEvidence) -> CheckResult:
    """The card inputs live only in frames served from Stripe's origin, not in the merchant's page."""
    if ev.error and not ev.frames:
        return result("card_fields_from_provider", "error", ev.error)
    details = []
    for f in ev.frames:
        role = "the merchant's page" if f.main else f"iframe from {f.origin or f.url[:30]}"
        details.append(f"{role}: {', '.join(f.card_inputs) if f.card_inputs else 'no card inputs'}")
    main_card = [f for f in ev.frames if f.main and f.card_inputs]
    foreign = [f for f in ev.frames if not f.main and f.card_inputs and f.origin != ev.stripe_origin]
    provider = [f for f in ev.frames if not f.main and f.card_inputs and f.origin == ev.stripe_origin]
    if main_card or foreign:
        where = "the merchant's own page" if main_card else f"a frame from {foreign[0].origin}"
        return result("card_fields_from_provider", "gap", f"card inputs found in {where}", details,
                      "Remove the card inputs from your page and mount Stripe's card Element instead (served by "
                      "Stripe in its own iframe); then SAQ A's 'all elements from the provider' criterion holds.")
    if not provider:
        return result("card_fields_from_provider", "error", "no card inputs found in any frame", details)
    if provider[0].origin == ev.merchant_origin:
        return result("card_fields_from_provider", "gap", "the card iframe is served from the merchant's own origin",
                      details, "Serve the card field from Stripe (js.stripe.com), never from your own server.")
    return result("card_fields_from_provider", "pass",
                  f"the card inputs are only in a cross-origin iframe from Stripe's origin ({provider[0].origin})",
                  details)


