"""The lab's scenarios paid on the student's page once, for the notebook's table and for Part B's check.

Notebook 02 pays the five scenarios to show them (:func:`lab_page_runs`), then checks Part B. The check
judges those same payments instead of paying five more times, when they are the page's as it is now:
the same server process, and no file the page is made of (the student's ``*.py`` beside the checkout,
``templates/``, ``static/``) changed since (size and modification time). Kept payments are used once:
running the check again pays anew. Everywhere else (``labkit check``, grading) the check pays itself.

Each payment keeps what the check needs to judge it later: what the page showed (:class:`PageRun`),
what Stripe recorded, the server's log at that moment (for the hints), the requests the pages sent
(:class:`Recorder`, for the server checks) and the accessibility audit of the 0002 page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from labkit.browser import CheckoutBrowser, PaymentRun, Scenario, format_card, in_worker_thread, load_scenarios
from labkit.browser import save_runs
from labkit.checks.a11y import PageAudit
from labkit.checks.cart import Recorder
from labkit.checks.pages import (PageRun, latest_payment_intent, page_cause, pay_on_page, payment_intent_ids,
                                 stripe_messages_for)
from labkit.checks.today import SESSION_ID

AUDITED = "generic_decline"  # the scenario whose page a11y:checkout audits, ready and after the decline


class RecordingBrowser(CheckoutBrowser):
    """The kit's browser, each page it opens watched by a :class:`Recorder`."""

    def __init__(self, url: str, recorder: Recorder | None, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.recorder = recorder

    def new_page(self):
        page = super().new_page()
        if self.recorder is not None:
            self.recorder.attach(page)
        return page


@dataclass
class Paid:
    """One scenario paid on the page: what it showed (``run``), what Stripe recorded (``pi``), the server's
    log then; or ``error``, why the browser run could not finish."""
    scenario: Scenario
    run: PageRun | None
    pi: dict[str, Any] | None = None
    log: str = ""
    error: str = ""
    screenshot: Path | None = None


@dataclass
class Payments:
    paid: list[Paid]
    recorder: Recorder
    audit: PageAudit = field(default_factory=PageAudit)


def _stripe_side(client: Any, run: PageRun, known: set[str]) -> dict[str, Any] | None:
    """What Stripe recorded of the run's payment: the PaymentIntent the page named, else the one of the Checkout
    Session its address names (Stripe's hosted page, where a decline stays), else the newest one not in
    ``known`` (made since the run began, by a page that names neither)."""
    pi_id = run.payment_intent
    session = SESSION_ID.search(run.url or "") if not pi_id else None
    if session:
        try:
            pi_id = client.v1.checkout.sessions.retrieve(session.group(0)).payment_intent
        except Exception:  # a session the page made up: found by what is new instead
            pi_id = None
    if pi_id:
        try:
            return client.v1.payment_intents.retrieve(pi_id, params={"expand": ["latest_charge"]}).to_dict()
        except Exception:  # an id the page made up, or another account's: found by what is new instead
            pass
    return latest_payment_intent(client, known)


def pay_each(browser: CheckoutBrowser, url: str, client: Any, scenarios: list[Scenario], *, timeout: float,
             shots: Path | None, audit: PageAudit | None, log: Callable[[], str] | None,
             stop_when_nothing_works: bool) -> list[Paid]:
    """Pay each scenario as a new customer (:mod:`labkit.tabs`). ``stop_when_nothing_works``: after a 4242
    run that could not pay at all, the others are not tried (the check says why once)."""
    done: list[Paid] = []
    for sc in scenarios:
        known = payment_intent_ids(client)
        shot = shots / f"{sc.key}.png" if shots else None
        try:
            run = pay_on_page(browser, url, sc, timeout=timeout, stripe_messages=stripe_messages_for(sc),
                              screenshot=shot, audit=audit if sc.key == AUDITED else None)
        except Exception as exc:  # one scenario's browser trouble fails that scenario only
            first = (str(exc).strip().splitlines() or [""])[0]
            done.append(Paid(sc, None, error=f"{type(exc).__name__}: {first}"))
            continue
        done.append(Paid(sc, run, _stripe_side(client, run, known), log() if log else "",
                         screenshot=shot if shot and shot.is_file() else None))
        if stop_when_nothing_works and sc.key == "success" and (run.problem or run.shown == "nothing"):
            break
    return done


# ------------------------------------------------------------------ kept for the check
_KEPT: dict[str, tuple[tuple, Payments]] = {}


def page_stamp(folder: Path | None, server: Any) -> tuple:
    """What the page is made of now: the server process, and each file of the student's folder it serves."""
    files: list[tuple[str, int, int]] = []
    if folder is not None:
        folder = Path(folder)
        paths = [*folder.glob("*.py"), *folder.glob("templates/**/*"), *folder.glob("static/**/*")]
        for path in sorted(p for p in paths if p.is_file()):
            st = path.stat()
            files.append((path.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    proc = getattr(server, "proc", None)
    return (getattr(proc, "pid", None), tuple(files))


def keep(url: str, stamp: tuple, payments: Payments) -> None:
    _KEPT[url] = (stamp, payments)


def take_kept(url: str, stamp: tuple) -> Payments | None:
    """The payments kept for the page at ``url`` if it is still as it was (and forget them: used once)."""
    kept = _KEPT.pop(url, None)
    return kept[1] if kept is not None and kept[0] == stamp else None


def kept_audit(lab: Any) -> PageAudit | None:
    """The accessibility audit made while :func:`lab_page_runs` paid on the lab's page, if the page is still as
    it was then (else None: audit it anew); the payments stay kept for the check."""
    kept = _KEPT.get(lab.checkout_url)
    if kept is None or kept[0] != page_stamp(lab.folder, lab.checkout) or kept[1].audit.found is None:
        return None
    return kept[1].audit


# ------------------------------------------------------------------ the notebook's table
def as_record(paid: Paid) -> PaymentRun:
    run, pi, scenario = paid.run, paid.pi or {}, paid.scenario
    err = pi.get("last_payment_error") or {}
    charge = pi.get("latest_charge") if isinstance(pi.get("latest_charge"), dict) else {}
    three_ds = ((charge.get("payment_method_details") or {}).get("card") or {}).get("three_d_secure")
    shown = run.shown if run else "error"
    message = (run.message or "; ".join(filter(None, (page_cause(run)[0], run.problem)))) if run else paid.error
    return PaymentRun(
        scenario=scenario.key, title=scenario.title, card=format_card(scenario.number), challenge=scenario.challenge,
        outcome={"success": "succeeded", "failure": "failed"}.get(shown, shown), message=message,
        payment_intent=pi.get("id") or (run.payment_intent if run else None),
        status=pi.get("status"), decline_code=err.get("decline_code"), error_code=err.get("code"),
        three_d_secure=bool(three_ds) or bool(run and run.challenged), screenshot=paid.screenshot,
        browser_errors=list(run.browser_errors) if run else [])


def _pay_all(url: str, client: Any, out_dir: Path | None, timeout: float, log: Callable[[], str] | None,
             audit: bool) -> Payments:
    payments = Payments([], Recorder(url))
    with RecordingBrowser(url, payments.recorder, timeout=timeout) as browser:
        payments.paid = pay_each(browser, url, client, load_scenarios(), timeout=timeout, shots=out_dir,
                                 audit=payments.audit if audit else None, log=log, stop_when_nothing_works=False)
    return payments


def page_runs(url: str, client: Any, out_dir: Path | None = None, timeout: float = 12.0,
              log: Callable[[], str] | None = None, audit: bool = True) -> tuple[list[PaymentRun], Payments]:
    """The lab's five card scenarios on the student's page: :class:`labkit.browser.PaymentRun` records
    (what the page showed, and what Stripe recorded), with a screenshot each in ``out_dir``; and the
    payments themselves (for :func:`keep`), the 0002 page's accessibility audit among them unless ``audit``
    is False (a page no check will judge: about half a second saved)."""
    payments = in_worker_thread(_pay_all, url, client, Path(out_dir) if out_dir else None, timeout, log, audit)
    return [as_record(p) for p in payments.paid], payments


def lab_page_runs(lab: Any) -> list[PaymentRun]:
    """:func:`page_runs` for a running :class:`labkit.lab.Lab`: screenshots in ``out/screenshots/``, the
    records in ``out/evidence/browser_runs.json`` (the evidence pages of the PDF print them); the payments
    kept for this notebook's check of Part B (see the module's text)."""
    server = lab.checkout
    stamp = page_stamp(lab.folder, server)
    runs, payments = page_runs(lab.checkout_url, lab.client, out_dir=lab.settings.screenshots_dir,
                               log=getattr(server, "log_text", None))
    save_runs(runs, lab.settings.browser_runs_path)
    keep(lab.checkout_url, stamp, payments)
    return runs
