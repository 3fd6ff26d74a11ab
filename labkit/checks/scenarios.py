"""Part B checks on the student's running checkout: the four test cards (five runs: 3155 completed and
failed) in a real browser, each compared with Stripe. The runs also record what the page sends to its
server, for the server's own checks (:mod:`labkit.checks.checkout_api`)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from labkit.browser import Scenario, in_worker_thread, load_scenarios
from labkit.checks.a11y import PageAudit
from labkit.checks.cart import Recorder
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Feedback, Item, clip, item
from labkit.checks.paid import Paid, Payments, RecordingBrowser, pay_each
from labkit.checks.pages import PageRun, page_cause, payments_from_a_double_click, read_result
from labkit.checks.today import review


EXPECT = {
    "success": ("success", "succeeded", None),
    "insufficient_funds": ("failure", "requires_payment_method", "insufficient_funds"),
    "3ds_complete": ("success", "succeeded", None),
    "3ds_fail": ("failure", "requires_payment_method", "payment_intent_authentication_failure"),
    "generic_decline": ("failure", "requires_payment_method", "generic_decline"),
}
HINTS = {
    "success": "Call stripe.confirmCardPayment(clientSecret, {payment_method: {card}}) and show the result in #result.",
    "insufficient_funds": "When confirmCardPayment returns an error, show error.message in #result as a failure.",
    "3ds_complete": "Let Stripe.js run 3D Secure (confirmCardPayment does it) and check paymentIntent.status.",
    "3ds_fail": "A failed 3D Secure comes back as an error from confirmCardPayment: show it as a failure.",
    "generic_decline": "Show Stripe's decline message in #result; never say 'succeeded' unless the status is succeeded.",
}


def judge(run: PageRun, pi: dict[str, Any] | None, scenario: Scenario, log: str = "") -> Item:
    check = f"scenario:{scenario.key}"
    want_shown, want_status, want_code = EXPECT[scenario.key]
    status = (pi or {}).get("status")
    err = (pi or {}).get("last_payment_error") or {}
    code = err.get("decline_code") or err.get("code")
    expected = f"the page shows {want_shown} and Stripe records {want_status}" + (f" ({want_code})" if want_code else "")
    where = "the page"
    if run.navigated and run.url:
        where = f"the page it went to ({clip(re.sub(r'^[a-z]+://[^/]+', '', run.url), 60)})"
    seen = (f"{where} showed {run.shown}" + (f" ('{clip(run.message, 90)}')" if run.message else "")
            + f"; Stripe: {status or 'no PaymentIntent'}" + (f" ({code})" if code else ""))
    name = f"{scenario.title} ({scenario.number[:4]} … {scenario.number[-4:]})"
    cause, cause_hint = page_cause(run, log)
    if run.problem:
        said = run.problem if not cause else cause if run.page_status and run.page_status >= 400 \
            else f"{cause}; so {run.problem}"
        return item(check, MISSING, Feedback(name, expected, said).text(), cause_hint or HINTS[scenario.key])
    ok_stripe = status == want_status and (want_code is None or code == want_code)
    if scenario.challenge == "complete" and status == "requires_action":
        return item(check, MISSING, Feedback(name, expected, seen + "; 3D Secure was never run").text(),
                    cause_hint or HINTS["3ds_complete"])
    if run.shown == want_shown and ok_stripe:
        return item(check, EVIDENCED, f"{name}: {seen}")
    extra = [f"First, {cause}."] if cause else []
    if run.shown == "success" and status != "succeeded":
        return item(check, MISSING, Feedback(name, expected, seen).text() + " The page shows a failed payment as a success.",
                    HINTS[scenario.key])
    if run.shown == "unclear" and ok_stripe:
        return item(check, PARTIAL, Feedback(name, expected, seen, extra=extra).text() + " Stripe recorded the right "
                    "outcome, but the page's words do not say whether the payment went through.",
                    "Tell the customer in plain words whether the payment succeeded or failed, and why.")
    status_ = PARTIAL if ok_stripe and run.shown not in ("nothing", "unclear") else MISSING
    return item(check, status_, Feedback(name, expected, seen, extra=extra).text(), cause_hint or HINTS[scenario.key])


def _judged(paid: list[Paid], scenarios: list[Scenario], read: Callable[[str], tuple[str, str]]) -> list[Item]:
    items: list[Item] = []
    for p in paid:
        sc, run = p.scenario, p.run
        if run is None:
            items.append(item(f"scenario:{sc.key}", MISSING, f"{sc.title}: the browser run could not finish "
                              f"({clip(p.error, 200)})", HINTS[sc.key]))
            continue
        items.append(review(judge(run, p.pi, sc, p.log), run, p.pi, read))
        if sc.key == "success" and (run.problem or run.shown == "nothing"):  # no payment possible: say it once
            cause, cause_hint = page_cause(run, p.log)
            why = run.problem or "the page showed nothing new after Pay"
            why = why if not cause else cause if run.page_status and run.page_status >= 400 else f"{cause}; so {why}"
            rest = [s for s in scenarios if s.key != "success"]
            return items + [item(f"scenario:{s.key}", MISSING, f"not tried: {why} (see scenario:success)",
                                 cause_hint or HINTS["success"]) for s in rest]
    return items


def _all_scenarios(url: str, client: Any, shots: Path | None, timeout: float,
                   recorder: Recorder | None = None, log: Callable[[], str] | None = None,
                   keys: tuple[str, ...] | None = None, audit: PageAudit | None = None,
                   kept: Payments | None = None) -> list[Item]:
    scenarios = [s for s in load_scenarios() if keys is None or s.key in keys]
    with RecordingBrowser(url, recorder, timeout=timeout) as browser:
        if kept is not None:  # the notebook paid these moments ago, on the page as it is now
            paid = kept.paid
            if recorder is not None:
                recorder.adopt(kept.recorder)
            if audit is not None:
                audit.found, audit.moments = kept.audit.found, kept.audit.moments
        else:
            paid = pay_each(browser, url, client, scenarios, timeout=timeout, shots=shots, audit=audit, log=log,
                            stop_when_nothing_works=True)
        items = _judged(paid, scenarios, lambda u: read_result(browser, u, timeout=timeout))
        if recorder is not None and not any(i.evidence.startswith("not tried:") for i in items):
            # for checkout:idempotency: what a hurried customer's double click does
            recorder.double_click = payments_from_a_double_click(browser, url, client, timeout=timeout)
    return items


def scenarios(url: str, client: Any, *, screenshots: Path | None = None, timeout: float = 12.0,
              recorder: Recorder | None = None, log: Callable[[], str] | None = None,
              keys: tuple[str, ...] | None = None, audit: PageAudit | None = None,
              kept: Payments | None = None) -> list[Item]:
    """The five browser runs on the student's page (a worker thread: notebooks run an event loop);
    ``recorder`` keeps what the page sends to its server; ``log`` gives the server's log so far, for the
    hints; ``keys`` runs only those scenarios (``("success",)``); ``audit`` is given the generic decline's
    page (for ``a11y:checkout``, with no browser and no payment of its own); ``kept``: payments made on this
    page as it is now (:mod:`labkit.checks.paid`), judged instead of paying again."""
    return in_worker_thread(_all_scenarios, url, client, screenshots, timeout, recorder, log, keys, audit, kept)
