"""Pay on the student's own checkout page in headless Chromium, whatever the page looks like.

The handout's card Element is driven here; the Payment Element and Checkout Sessions (hosted or
embedded) by :mod:`labkit.checks.integrations`, whichever the page uses. The card page only has to keep
the handout's element ids: ``#card-element`` (where Stripe's card
field is mounted), ``#submit-btn`` (the Pay button; any submit button will do) and ``#result``
(where the outcome is shown). The outcome is read from ``#result``: its ``data-outcome``
attribute if the page sets one, else its class (``success`` / ``error``) or its words.
What Stripe recorded is read separately, so a page that shows a decline as a success is caught.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.browser import COMPLETE_3DS, FAIL_3DS, CheckoutBrowser, Scenario
from labkit.checks import integrations

CARD_FRAME = "#card-element iframe"
SUBMIT = "#submit-btn, form button[type=submit], button[type=submit]"
SUCCESS_WORDS = re.compile(r"succe|thank|paid|complete|confirmed|✓", re.I)
FAILURE_WORDS = re.compile(r"declin|fail|error|insufficient|denied|not |could not|unable|refused", re.I)
PI_ID = re.compile(r"\bpi_[A-Za-z0-9]{8,}")


@dataclass
class PageRun:
    scenario: str
    shown: str            # "success" / "failure" / "nothing" / "error"
    message: str
    payment_intent: str | None
    challenged: bool
    problem: str = ""     # why the run could not finish (the page never got ready…)
    screenshot: Path | None = None
    browser_errors: tuple[str, ...] = ()
    integration: str = "card"         # see labkit.checks.integrations
    return_url: str | None = None     # the Payment Element's confirmParams.return_url
    client_secret: str | None = None


def _result_state(page) -> tuple[str, str]:
    """(shown, message) as ``#result`` shows it now; ``("nothing", "")`` while it is empty."""
    # One evaluate, no auto-waiting: a page leaving for a return page must not hold the run up.
    try:
        info = page.evaluate("() => { const el = document.querySelector('#result'); return el && ({text: "
                             "el.innerText || el.textContent || '', cls: String(el.className || ''), outcome: "
                             "el.dataset.outcome || '', hidden: el.hidden}); }")
    except Exception:  # the page is navigating: nothing to read yet
        return "nothing", ""
    if not info:
        return "nothing", ""
    text = " ".join(str(info["text"]).split())
    if info["hidden"] or not text:
        return "nothing", ""
    outcome, cls = info["outcome"], str(info["cls"]).lower()
    if outcome:
        return ("success" if outcome == "succeeded" else "failure"), text
    if "success" in cls or "succeeded" in cls:
        return "success", text
    if "error" in cls or "fail" in cls or "declin" in cls:
        return "failure", text
    if FAILURE_WORDS.search(text):
        return "failure", text
    return ("success" if SUCCESS_WORDS.search(text) else "failure"), text


def _shown(page, flow) -> tuple[str, str]:
    """``#result`` on the shop's page; with Checkout, a decline is shown on Stripe's form instead."""
    shown, message = _result_state(page)
    if shown == "nothing" and flow.kind in (integrations.HOSTED, integrations.EMBEDDED):
        error = integrations.checkout_error(page)
        if error:
            return "failure", error
    return shown, message


def read_result(browser: CheckoutBrowser, url: str, timeout: float = 12.0) -> tuple[str, str]:
    """Open ``url`` (a return page) in a fresh page and read what ``#result`` shows there."""
    page = browser.new_page()
    try:
        try:
            page.goto(url, wait_until="load", timeout=timeout * 1000)
        except Exception as exc:
            return "error", f"the page did not load ({type(exc).__name__})"
        end = time.monotonic() + timeout
        shown, message = _result_state(page)
        while shown == "nothing" and time.monotonic() < end:
            page.wait_for_timeout(100)
            shown, message = _result_state(page)
        return shown, message
    finally:
        page.context.close()


def _wait_ready(page, timeout: float) -> str:
    """'' when the card field and the Pay button are there, else what is missing."""
    try:
        page.locator(CARD_FRAME).first.wait_for(state="attached", timeout=timeout * 1000)
    except Exception:
        return "no Stripe card field appeared in #card-element"
    button = page.locator(SUBMIT).first
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if button.count() and button.is_enabled():
            return ""
        page.wait_for_timeout(100)
    return "the Pay button (#submit-btn) never became clickable"


def _answer_challenge(page, selector: str, deadline: float) -> bool:
    """Click the 3D Secure test button when it shows; False if the result came first."""
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                button = frame.locator(selector)
                if button.count() and button.first.is_visible() and button.first.is_enabled():
                    page.wait_for_timeout(200)
                    button.first.click()
                    return True
            except Exception:  # a frame navigating or detaching: look again
                continue
        if _result_state(page)[0] != "nothing":
            return False
        page.wait_for_timeout(100)
    return False


def pay_on_page(browser: CheckoutBrowser, url: str, scenario: Scenario, *, timeout: float = 12.0,
                screenshot: Path | None = None) -> PageRun:
    """Open the page, type the card, pay, answer 3D Secure if asked, and read ``#result``."""
    page = browser.new_page()
    try:
        try:
            page.goto(url, wait_until="load", timeout=timeout * 1000)
        except Exception as exc:
            return PageRun(scenario.key, "error", "", None, False, f"the page did not load ({type(exc).__name__})")
        flow = integrations.detect(page, timeout)
        if flow.kind == integrations.CARD:
            problem = _wait_ready(page, timeout)
            if not problem:
                if page.locator("#cardholder-name").count():
                    page.fill("#cardholder-name", "Lab Student")
                browser.type_card(page, scenario.number)
                page.locator(SUBMIT).first.click()
        else:
            problem = integrations.pay(page, flow, scenario.number, timeout)
        if problem:
            return PageRun(scenario.key, "error", "", None, False, problem,
                           browser_errors=tuple(page.labkit_errors[:3]), integration=flow.kind)
        deadline = time.monotonic() + timeout
        challenged = False
        if scenario.challenge:
            selector = COMPLETE_3DS if scenario.challenge == "complete" else FAIL_3DS
            challenged = _answer_challenge(page, selector, deadline)
        shown, message = "nothing", ""
        while time.monotonic() < deadline:
            shown, message = _shown(page, flow)
            if shown != "nothing":
                break
            page.wait_for_timeout(100)
        if shown != "nothing":
            page.wait_for_timeout(150)  # let the page finish writing its message
            shown, message = _shown(page, flow)
        data_pi = page.locator("#result").first.get_attribute("data-payment-intent") \
            if page.locator("#result").count() else None
        found = data_pi or (PI_ID.search(message).group(0) if PI_ID.search(message) else None)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        return PageRun(scenario.key, shown, message[:300], found, challenged, screenshot=screenshot,
                       browser_errors=tuple(page.labkit_errors[:3]), integration=flow.kind,
                       return_url=flow.return_url, client_secret=flow.client_secret)
    finally:
        page.context.close()


def latest_payment_intent(client: Any, since: float) -> dict[str, Any] | None:
    """The newest PaymentIntent created at or after ``since`` (epoch seconds), as a dict."""
    for pi in client.v1.payment_intents.list(params={"limit": 3}).data:
        if pi.created >= int(since) - 1:
            return pi.to_dict()
    return None


def _record(run: PageRun, pi: dict[str, Any] | None, scenario: Scenario, shot: Path | None):
    from labkit.browser import PaymentRun, format_card

    err = (pi or {}).get("last_payment_error") or {}
    charge = (pi or {}).get("latest_charge") if isinstance((pi or {}).get("latest_charge"), dict) else {}
    three_ds = ((charge.get("payment_method_details") or {}).get("card") or {}).get("three_d_secure")
    return PaymentRun(
        scenario=scenario.key, title=scenario.title, card=format_card(scenario.number), challenge=scenario.challenge,
        outcome={"success": "succeeded", "failure": "failed"}.get(run.shown, run.shown),
        message=run.message or run.problem, payment_intent=(pi or {}).get("id") or run.payment_intent,
        status=(pi or {}).get("status"), decline_code=err.get("decline_code"), error_code=err.get("code"),
        three_d_secure=bool(three_ds) or run.challenged, screenshot=shot, browser_errors=list(run.browser_errors))


def _page_runs(url: str, client: Any, out_dir: Path | None, timeout: float) -> list:
    from labkit.browser import load_scenarios

    runs = []
    with CheckoutBrowser(url, timeout=timeout) as browser:
        for sc in load_scenarios():
            since = time.time()
            shot = out_dir / f"{sc.key}.png" if out_dir else None
            run = pay_on_page(browser, url, sc, timeout=timeout, screenshot=shot)
            pi = None
            if run.payment_intent:
                try:
                    pi = client.v1.payment_intents.retrieve(run.payment_intent,
                                                            params={"expand": ["latest_charge"]}).to_dict()
                except Exception:
                    pi = None
            pi = pi or latest_payment_intent(client, since)
            runs.append(_record(run, pi, sc, shot if shot and shot.is_file() else None))
    return runs


def page_runs(url: str, client: Any, out_dir: Path | None = None, timeout: float = 12.0) -> list:
    """The lab's five card scenarios on the student's page, as :class:`labkit.browser.PaymentRun` records
    (what the page showed, and what Stripe recorded), with a screenshot each in ``out_dir``."""
    from labkit.browser import in_worker_thread

    return in_worker_thread(_page_runs, url, client, Path(out_dir) if out_dir else None, timeout)


def lab_page_runs(lab: Any) -> list:
    """:func:`page_runs` for a running :class:`labkit.lab.Lab`: screenshots in ``out/screenshots/``, the
    records in ``out/evidence/browser_runs.json`` (the evidence pages of the PDF print them)."""
    from labkit.browser import save_runs

    runs = page_runs(lab.checkout_url, lab.client, out_dir=lab.settings.out_dir / "screenshots")
    save_runs(runs, lab.settings.out_dir / "evidence" / "browser_runs.json")
    return runs
