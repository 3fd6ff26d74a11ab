"""Pay on the student's own checkout page in headless Chromium, as a person would, whatever the page looks like.

The driver needs only the handout's ids: ``#card-element`` (where Stripe's card field is mounted;
any Stripe card iframe will do) and a Pay button (``#submit-btn``, or any submit button). Like a
person, it types the card as soon as the card field appears (a page may keep Pay disabled until
the card is complete), clicks Pay when it becomes clickable, answers 3D Secure, answers OK to an
``alert()``, and follows the page wherever it goes (a receipt or thank-you page, a redirect).

What the page then says is read from the page the customer ends on (``#result`` if the page uses
it, else the text that appeared after Pay, on the same page or the one it went to) and classified by
:mod:`labkit.checks.outcome`; what Stripe recorded is read separately, so a page that shows a
decline as a success is caught. The browser's console and page errors (file:line) and the page's
own HTTP errors are kept, so a hint can name the real cause.

The Payment Element and Checkout Sessions (hosted or embedded) are recognised and paid on by
:mod:`labkit.checks.integrations`; what happens after Pay is read here the same way for all four.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from labkit.browser import COMPLETE_3DS, FAIL_3DS, CheckoutBrowser, Scenario
from labkit.checks import integrations
from labkit.checks.a11y import AFTER_DECLINE, AFTER_PAYMENT, READY
from labkit.checks.items import clip, exception_line
from labkit.checks.outcome import UNCLEAR, classify
from labkit.data import test_cards
from labkit.tabs import listen

CARD_FRAMES = ("#card-element iframe", 'iframe[name^="__privateStripeFrame"][title*="card" i]')
SUBMIT = "#submit-btn, form button[type=submit], button[type=submit], form button:not([type])"
PI_ID = re.compile(r"\bpi_[A-Za-z0-9]{8,}")
POLL_MS = 50  # how often a waiting driver looks at the page again (each look is one round trip to Chromium)
SETTLE_S = 0.5  # at most this long for a page's message to stop changing once it says something decisive
STABLE_S = 0.1  # unchanged this long: the page has finished writing it


@dataclass
class PageRun:
    scenario: str
    shown: str            # "success" / "failure" / "unclear" / "nothing" / "error"
    message: str
    payment_intent: str | None
    challenged: bool
    problem: str = ""     # why the run could not finish (the page never got ready…)
    screenshot: Path | None = None
    browser_errors: tuple[str, ...] = ()
    decided_by: str = ""  # which rule of labkit.checks.outcome decided
    url: str = ""         # the page the customer ended on
    navigated: bool = False
    page_status: int | None = None  # the checkout page's own HTTP status
    integration: str = "card"         # see labkit.checks.integrations
    return_url: str | None = None     # the Payment Element's confirmParams.return_url
    client_secret: str | None = None


AUTHENTICATION_FAILED = ("We are unable to authenticate your payment method. Please choose a different payment "
                         "method and try again.")  # what Stripe.js tells the customer after a failed 3D Secure


def stripe_messages_for(scenario: Scenario) -> tuple[str, ...]:
    """The decline messages Stripe gives for this scenario's card (labkit/data/test_cards.json)."""
    found = tuple(c["message"] for c in test_cards()["cards"] if c["number"] == scenario.number and c.get("message"))
    return found + ((AUTHENTICATION_FAILED,) if scenario.challenge == "fail" else ())


_OBSERVE = r"""(before) => {
  const shown = (el) => !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
  const lines = (el) => (el ? (el.innerText || '') : '').split('\n').map((t) => t.trim()).filter(Boolean);
  const out = {attr: '', classes: '', text: '', fresh: [], where: ''};
  const seen = new Set(before);
  const res = document.querySelector('#result') || document.querySelector('[data-outcome]');
  if (res && shown(res) && lines(res).some((t) => !seen.has(t))) {  // #result, once it says something new
    out.text = lines(res).join('\n'); out.attr = res.dataset.outcome || ''; out.where = '#result';
    out.classes = [res.className, res.parentElement && res.parentElement.className].join(' ');
    out.pi = res.dataset.paymentIntent || '';
  }
  out.fresh = lines(document.body).filter((t) => !seen.has(t)).slice(0, 12);
  const classes = [];
  for (const el of document.body ? document.body.querySelectorAll('*') : []) {
    if (classes.length >= 6 || !el.className || typeof el.className !== 'string' || !shown(el)) continue;
    const own = (el.innerText || '').trim();
    if (own && out.fresh.includes(own)) classes.push(el.className);
  }
  out.freshClasses = classes.join(' ');
  return out;
}"""


def _visible_lines(page) -> list[str]:
    try:
        return page.evaluate("() => (document.body ? document.body.innerText : '').split('\\n')"
                             ".map((t) => t.trim()).filter(Boolean)")
    except Exception:
        return []


def _observe(page, before: list[str], start_url: str, stripe_messages: Iterable[str] = ()) -> dict[str, Any]:
    """What the page says now: its text, the rule-relevant attributes, and the verdict."""
    url = page.url
    navigated = url.split("#")[0] != start_url.split("#")[0]
    try:
        seen = page.evaluate(_OBSERVE, before)
    except Exception:  # the page is navigating: nothing to read yet
        return {"verdict": "nothing", "text": "", "url": url, "navigated": navigated}
    dialogs = list(getattr(page, "labkit_dialogs", []))[getattr(page, "labkit_dialogs_before", 0):]  # since Pay
    if seen["text"]:
        text, classes = seen["text"], seen["classes"]
    else:
        text, classes = "\n".join(seen["fresh"]), seen["freshClasses"]
    text = "\n".join([*dialogs, text]).strip()
    if not text:
        return {"verdict": "nothing", "text": "", "url": url, "navigated": navigated, "pi": seen.get("pi")}
    verdict, rule = classify(text, outcome_attr=seen["attr"], classes=classes, url=url, navigated=navigated,
                             stripe_messages=stripe_messages)
    return {"verdict": verdict, "rule": rule, "text": text, "url": url, "navigated": navigated, "pi": seen.get("pi")}


def _card_frame(page, timeout: float) -> str:
    """The selector of the page's Stripe card field once it appears, or "" if none did."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for selector in CARD_FRAMES:
            try:
                if page.locator(selector).count():
                    return selector
            except Exception:  # navigating
                pass
        page.wait_for_timeout(POLL_MS)
    return ""


def _click_pay(page, timeout: float) -> str:
    """Click the Pay button as soon as it is enabled; '' when clicked, else why not."""
    button = page.locator(SUBMIT).first
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if button.count() and button.is_visible() and button.is_enabled():
                button.click()
                return ""
        except Exception:
            pass
        page.wait_for_timeout(POLL_MS)
    if not page.locator(SUBMIT).count():
        return "no Pay button (#submit-btn or a submit button) on the page"
    return "the Pay button (#submit-btn) stayed disabled after the card was typed"


def _answer_challenge(page, selector: str, deadline: float, before: list[str], start_url: str) -> bool:
    """Click the 3D Secure test button when it shows; False if the page showed an outcome first."""
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                button = frame.locator(selector)
                if (button.count() and button.first.is_visible() and button.first.is_enabled()
                        and frame.evaluate("document.readyState") == "complete"):  # its script has run
                    button.first.click()
                    return True
            except Exception:  # a frame navigating or detaching: look again
                continue
        if _observe(page, before, start_url)["verdict"] not in ("nothing", UNCLEAR):
            return False
        page.wait_for_timeout(POLL_MS)
    return False


def _await_outcome(page, before: list[str], start_url: str, deadline: float,
                   stripe_messages: Iterable[str]) -> dict[str, Any]:
    """Wait until the page says something decisive (or the time is up), then until its words stop changing."""
    seen = _observe(page, before, start_url, stripe_messages)
    while time.monotonic() < deadline:
        if seen["verdict"] not in ("nothing", UNCLEAR):
            return _settled(page, seen, lambda: _observe(page, before, start_url, stripe_messages))
        page.wait_for_timeout(POLL_MS)
        seen = _observe(page, before, start_url, stripe_messages)
    return seen


def _settled(page, seen: dict[str, Any], look: Any) -> dict[str, Any]:
    """What the page says once its words have not changed for :data:`STABLE_S` (it finished writing
    its message: a title, then the details), looking at most :data:`SETTLE_S` in all."""
    end, stable_since = time.monotonic() + SETTLE_S, time.monotonic()
    while time.monotonic() < end:
        page.wait_for_timeout(POLL_MS)
        again = look()
        if (again["verdict"], again.get("text"), again["url"]) != (seen["verdict"], seen.get("text"), seen["url"]):
            stable_since = time.monotonic()
        elif time.monotonic() - stable_since >= STABLE_S:
            return again
        seen = again
    return seen


def _open(page, url: str, timeout: float) -> tuple[str, int | None]:
    try:
        resp = page.goto(url, wait_until="load", timeout=timeout * 1000)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        return f"the page did not load ({type(exc).__name__}: {clip(first, 120)})", None
    status = resp.status if resp is not None else None
    if status is not None and status >= 400:
        return f"GET {url} answered HTTP {status}", status
    return "", status


def _start_paying(browser: CheckoutBrowser, page, flow: Any, number: str, timeout: float,
                  ready: Callable[[Any], None]) -> tuple[str, list[str], str]:
    """Type the card and press Pay on whichever integration the page uses: (problem, lines before, url).
    ``ready(page)`` is called once the page is ready for the card (its card field there)."""
    if flow.kind != integrations.CARD:
        ready(page)
        before, start_url = _visible_lines(page), page.url
        page.labkit_dialogs_before = len(page.labkit_dialogs)
        return integrations.pay(page, flow, number, timeout), before, start_url
    frame = _card_frame(page, timeout)
    if not frame:
        return "no Stripe card field appeared in #card-element", [], page.url
    ready(page)
    if page.locator("#cardholder-name").count():
        page.fill("#cardholder-name", "Lab Student")
    browser.type_card(page, number, frame_selector=frame)
    before, start_url = _visible_lines(page), page.url
    page.labkit_dialogs_before = len(page.labkit_dialogs)
    return _click_pay(page, timeout), before, start_url


def pay_on_page(browser: CheckoutBrowser, url: str, scenario: Scenario, *, timeout: float = 12.0,
                screenshot: Path | None = None, stripe_messages: Iterable[str] = (),
                audit: Callable[[Any, str], None] | None = None) -> PageRun:
    """Open the page, type the card, pay, answer 3D Secure if asked, and read what the page ends up saying.
    ``audit(page, moment)`` (:class:`labkit.checks.a11y.PageAudit`) looks at the page when it is ready for
    the card and, on the card Element, once it shows the outcome."""
    page = browser.new_page()
    try:
        flow = integrations.Flow()

        def stop(problem: str, status: int | None = None) -> PageRun:
            return PageRun(scenario.key, "error", "", None, False, problem, page_status=status,
                           browser_errors=tuple(page.labkit_errors[:6]), url=page.url, integration=flow.kind)

        problem, status = _open(page, url, timeout)
        if problem:
            return stop(problem, status)
        flow = integrations.detect(page, timeout)
        problem, before, start_url = _start_paying(browser, page, flow, scenario.number, timeout,
                                                   lambda p: audit(p, READY) if audit else None)
        if problem:
            return stop(problem, status)
        deadline = time.monotonic() + timeout
        challenged = False
        if scenario.challenge:
            selector = COMPLETE_3DS if scenario.challenge == "complete" else FAIL_3DS
            challenged = _answer_challenge(page, selector, deadline, before, start_url)
        seen = _await_outcome(page, before, start_url, deadline, stripe_messages)
        if seen["verdict"] in ("nothing", UNCLEAR) and flow.kind in (integrations.HOSTED, integrations.EMBEDDED):
            error = integrations.checkout_error(page)  # Checkout shows a decline on Stripe's own form
            if error:
                seen = {**seen, "verdict": "failure", "text": error, "rule": "Stripe's Checkout form"}
        if audit and flow.kind == integrations.CARD and seen["verdict"] != "nothing":
            audit(page, AFTER_DECLINE if seen["verdict"] == "failure" else AFTER_PAYMENT)
        text = seen.get("text", "")
        found = seen.get("pi") or next((m.group(0) for m in (PI_ID.search(text), PI_ID.search(seen["url"])) if m), None)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        lines = text.splitlines()
        message = " — ".join(filter(None, (lines[0] if lines else "", " ".join(lines[1:]))))
        return PageRun(scenario.key, seen["verdict"], clip(message, 300), found, challenged, screenshot=screenshot,
                       browser_errors=tuple(page.labkit_errors[:6]), decided_by=seen.get("rule", ""),
                       url=seen["url"], navigated=seen["navigated"], page_status=status, integration=flow.kind,
                       return_url=flow.return_url, client_secret=flow.client_secret)
    finally:
        browser.close_page(page)


def read_result(browser: CheckoutBrowser, url: str, timeout: float = 12.0) -> tuple[str, str]:
    """Open ``url`` (a return page, as Stripe sends the customer back) as a new customer's page and read
    what it says: (verdict, text), the verdict as :func:`pay_on_page` classifies it."""
    page = browser.new_page()
    try:
        problem, _status = _open(page, url, timeout)
        if problem:
            return "error", problem
        seen = _await_outcome(page, [], page.url, time.monotonic() + timeout, ())
        return seen["verdict"], " ".join(seen.get("text", "").split())
    finally:
        browser.close_page(page)


def payments_from_a_double_click(browser: CheckoutBrowser, url: str, client: Any, *,
                                 timeout: float = 12.0) -> int | None:
    """How many PaymentIntents one double click on Pay makes with the 4242 card, as a hurried customer
    would (None: the page could not be paid on). A page that disables Pay while it pays, or a server
    that keys each attempt, makes one; neither makes two."""
    page = browser.new_page()
    try:
        if _open(page, url, timeout)[0]:
            return None
        frame = _card_frame(page, timeout)
        if not frame:
            return None
        if page.locator("#cardholder-name").count():
            page.fill("#cardholder-name", "Lab Student")
        browser.type_card(page, "4242424242424242", frame_selector=frame)
        known = payment_intent_ids(client)
        before, start_url = _visible_lines(page), page.url
        button = page.locator(SUBMIT).first
        end = time.monotonic() + timeout
        while time.monotonic() < end and not (button.count() and button.is_visible() and button.is_enabled()):
            page.wait_for_timeout(POLL_MS)
        pending = _pending_requests(page)
        button.dblclick(timeout=timeout * 1000)
        _await_outcome(page, before, start_url, time.monotonic() + timeout, ())
        _until_quiet(page, pending)  # a second click's requests still under way
        return sum(1 for pi in client.v1.payment_intents.list(params={"limit": 20}).data if pi.id not in known)
    except Exception:  # a page that cannot be double-clicked says nothing either way
        return None
    finally:
        browser.close_page(page)


def _pending_requests(page) -> set:
    """The page's requests still under way, kept up to date from now on."""
    pending: set = set()
    listen(page, "request", lambda req: pending.add(req))  # (Playwright wraps handlers: no bound built-ins)
    listen(page, "requestfinished", lambda req: pending.discard(req))
    listen(page, "requestfailed", lambda req: pending.discard(req))
    return pending


def _until_quiet(page, pending: set, quiet_s: float = 0.1, most_s: float = 0.5) -> None:
    """Wait until no request of the page has been under way for ``quiet_s`` (at most ``most_s``)."""
    end, quiet_since = time.monotonic() + most_s, time.monotonic()
    while time.monotonic() < end:
        page.wait_for_timeout(POLL_MS)
        if pending:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_s:
            return


def _own_errors(run: PageRun) -> list[str]:
    """The browser errors a student can act on, page errors first (Stripe's own 402 for a decline is not one)."""
    errs = [e for e in run.browser_errors if "status of 402" not in e]
    return [e for e in errs if e.startswith("page error")] + [e for e in errs if not e.startswith("page error")]


def page_cause(run: PageRun, log: str = "") -> tuple[str, str]:
    """(what went wrong first, a hint for it) from the page's HTTP status, the server's log and the browser's
    console; ("", "") when none of them says anything."""
    if run.page_status is not None and run.page_status >= 400:
        exc = exception_line(log)
        said = f"GET / answered HTTP {run.page_status}" + (f"; the server's log says: {clip(exc, 200)}" if exc else "")
        if run.page_status == 404 and not exc:
            return said, "Serve the checkout page at GET / (@app.route(\"/\"))."
        missing = re.search(r"TemplateNotFound: (\S+)", exc)
        if missing:
            return said, (f"Your server renders templates/{missing.group(1)}, which is not in the folder: hand it "
                          "in (templates/ beside checkout_server.py), or fix the name in render_template().")
        return said, "Fix the error your server raises for the page (its log line above), then check again."
    errors = _own_errors(run)
    if not errors:
        return "", ""
    first = errors[0]
    said = "the browser's console: " + "; ".join(clip(e, 200) for e in errors[:2])
    if first.startswith("page error"):
        where = re.match(r"page error: ([^\s:]+):(\d+)", first)
        at = f"{where.group(1)} line {where.group(2)}" if where else "the page's script"
        return said, (f"Fix the JavaScript error at {at} first (the browser's console, F12, shows it): a syntax "
                      "error stops the whole script, so the card field and Pay never work until it is fixed.")
    if "Failed to load resource" in first:
        return said, ("The page could not load a file it needs (above): check the file's name and that it is in "
                      "static/ (or templates/) beside your server.")
    return said, "Fix the error the browser's console shows (above), then check again."


def payment_intent_ids(client: Any) -> set[str]:
    """The ids of the newest PaymentIntents (to tell the ones a run makes from the ones before it)."""
    return {pi.id for pi in client.v1.payment_intents.list(params={"limit": 20}).data}


def latest_payment_intent(client: Any, known: set[str]) -> dict[str, Any] | None:
    """The newest PaymentIntent not in ``known`` (:func:`payment_intent_ids` before the run), as a dict:
    the one a page that does not show its id made (by id, not by time: the run before may be a second old)."""
    for pi in client.v1.payment_intents.list(params={"limit": 3}).data:
        if pi.id not in known:
            return pi.to_dict()
    return None
