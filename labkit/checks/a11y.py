"""``a11y:checkout``: axe-core on the student's checkout page, as formative feedback.

The page is opened in headless Chromium as a customer sees it (the card field ready), and again
after a declined payment (the result shown); axe-core runs in the page and in each of its frames
(the card field and the 3D Secure page are Stripe's: on the offline fake, the kit's own). Each
violation comes back with its rule, the elements (CSS selectors) and how to fix it.

axe-core 4.12.1, bundled by ``axe-playwright-python`` 0.1.8 (so it runs offline), with the tags of
WCAG 2.0, 2.1 and 2.2 levels A and AA plus Deque's best practices, and ``target-size`` (WCAG 2.2
success criterion 2.5.8, 24 by 24 CSS pixels; axe leaves it off by default) turned on. Automatic
tools find only part of what WCAG asks (keyboard use, focus order and meaningful messages need a
person, or the keyboard test in tests/test_a11y.py); the item is worth 0 points unless
``labkit/data/rubric.json`` gives it some.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Item, item

CHECK = "a11y:checkout"
MAX_LISTED = 8  # violations written out in the evidence (the CSV and the PDF stay readable)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PAGE_WIDE = {"landmark-one-main", "page-has-heading-one", "region", "bypass", "html-has-lang", "document-title"}
# Rules excluded, each with its reason (none today: add "rule-id": "why" here, never silently).
EXCLUDED: dict[str, str] = {}
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": TAGS},
    "rules": {"target-size": {"enabled": True}, **{rule: {"enabled": False} for rule in EXCLUDED}},
    "resultTypes": ["violations"],
}
HINT = ("Fix each violation listed (the rule's page explains it), then run the check again. A payment form must "
        "work for everyone: labelled fields, enough contrast, everything inside landmarks (header, main, footer), "
        "results announced in a role=\"status\" or role=\"alert\" region.")


@dataclass
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    frame: str  # "page", or the frame's path ("/elements/card")
    state: str  # when it was seen: "when the page is ready", "after a declined payment"
    targets: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)  # axe's failure summary for each target

    @property
    def fix(self) -> str:
        return self.fixes[0] if self.fixes else ""

    def line(self) -> str:
        where = "" if self.frame == "page" else f" in the frame {self.frame}"
        shown = ", ".join(self.targets[:3]) + (f" and {len(self.targets) - 3} more" if len(self.targets) > 3 else "")
        return (f"{self.rule} ({self.impact}){where}, {self.state}: {self.help}: {shown}. "
                f"Fix: {self.fix} ({self.help_url})")


def _summary(node: dict[str, Any]) -> str:
    """axe's failure summary in one sentence ("Fix any of the following: …")."""
    lines = [ln.strip() for ln in str(node.get("failureSummary") or "").splitlines() if ln.strip()]
    return " ".join(lines)[:300]


def _frame_name(page: Any, target: list[Any]) -> str:
    """"page", or the path of the frame an axe target (selectors: the frame's, then the element's) is in."""
    if len(target) < 2:
        return "page"
    from urllib.parse import urlsplit

    try:
        handle = page.query_selector(str(target[0]))
        frame = handle.content_frame() if handle else None
    except Exception:  # a selector Playwright cannot read: still say it is in a frame
        frame = None
    return urlsplit(frame.url).path if frame else f"frame {target[0]}"


def audit_frames(page: Any, state: str) -> list[Violation]:
    """axe-core on the whole page, its frames included: axe is put into every frame (the card field is
    cross-origin, as Stripe's is) and run from the top, so page-wide rules (landmarks, one h1) judge the
    page and each frame's elements are judged where they are."""
    from axe_playwright_python.sync_playwright import Axe

    script = Axe().axe_script
    for frame in page.frames:  # the top last would do too: each frame only needs axe and the origin allowed
        if (frame.url not in ("", "about:blank") and not frame.is_detached()
                and not frame.evaluate("typeof axe === 'object'")):  # put in once: a second audit of the page reuses it
            frame.evaluate(script)
            # the card field is on Stripe's origin: axe answers another origin's frame only when told to
            frame.evaluate("axe.configure({allowedOrigins: ['<unsafe_all_origins>']})")
    results = page.evaluate("options => axe.run(document, options)", {**AXE_OPTIONS, "iframes": True})
    found: list[Violation] = []
    for v in results.get("violations", []):
        nodes = v.get("nodes", [])
        by_frame: dict[str, list[dict[str, Any]]] = {}
        for n in nodes:
            by_frame.setdefault(_frame_name(page, n.get("target", [])), []).append(n)
        for where, group in by_frame.items():
            found.append(Violation(v["id"], v.get("impact") or "minor", v.get("help", ""), v.get("helpUrl", ""),
                                   where, state, [str(n.get("target", [""])[-1]) for n in group],
                                   [_summary(n) for n in group]))
    page_rules = {v.rule for v in found if v.frame == "page"}
    # a frame's page-wide findings (no main, no h1, outside landmarks) are the page's when the page has them too:
    # they go away with the page's fix, and the student cannot change Stripe's frame
    return [v for v in found if v.frame == "page" or not (v.rule in PAGE_WIDE and v.rule in page_rules)]


def _declined(browser: Any, page: Any, timeout: float) -> bool:
    """Pay with the generic decline card (0002), so the page shows a result; False if nothing shows."""
    from labkit.browser import PAY_BUTTON

    try:
        browser.type_card(page, "4000000000000002")
        page.locator(PAY_BUTTON).click(timeout=timeout * 1000)
    except Exception:  # no card field or Pay button to use: the page was audited as it loaded, that is all
        return False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        shown = page.locator("#result").first.evaluate("el => !el.hidden && !!(el.innerText || '').trim()") \
            if page.locator("#result").count() else False
        if shown:
            return True
        page.wait_for_timeout(100)
    return False


def audit_checkout(url: str, *, timeout: float = 12.0, after_payment: bool = True) -> list[Violation]:
    """The checkout page at ``url`` audited when ready and (``after_payment``) after a declined payment
    (in a worker thread of its own: Playwright's sync API cannot run where an event loop or another
    Playwright already runs, as in a notebook)."""
    from labkit.browser import in_worker_thread

    return in_worker_thread(_audit_checkout, url, timeout, after_payment).found or []


def _audit_checkout(url: str, timeout: float, after_payment: bool) -> "PageAudit":
    from labkit.browser import CARD_FRAME, CheckoutBrowser

    from labkit.checks import integrations

    with CheckoutBrowser(url, timeout=timeout) as browser:
        page = browser.new_page()
        page.goto(url, wait_until="load", timeout=timeout * 1000)
        card = integrations.detect(page, timeout).kind == integrations.CARD
        if card:  # the handout's card Element: audited once its card field is there, and after a decline
            page.locator(CARD_FRAME).first.wait_for(state="attached", timeout=timeout * 1000)
        audit = PageAudit(strict=True)
        audit(page, READY)
        if after_payment and card and _declined(browser, page, timeout):
            audit(page, AFTER_DECLINE)
        browser.close_page(page)
    return audit


READY, AFTER_DECLINE, AFTER_PAYMENT = "when the page is ready", "after a declined payment", "after a payment"


class PageAudit:
    """axe-core on a page the checks are paying on anyway (the generic decline's run): called with
    :data:`READY` once the card field is there, then :data:`AFTER_DECLINE` with the result shown.
    ``found`` stays None when the page was never audited, so :func:`a11y_item` opens it itself."""

    def __init__(self, strict: bool = False) -> None:
        self.found: list[Violation] | None = None
        self.moments: list[str] = []
        self.strict = strict  # an audit error raised (the kit's own audit), not kept quiet (a scenario's)

    def __call__(self, page: Any, moment: str) -> None:
        if moment != READY and self.found is None:
            return
        try:
            now = audit_frames(page, moment)
        except Exception:  # an audit that cannot run must not fail the payment: a11y_item audits on its own
            if self.strict:
                raise
            self.found = None if moment == READY else self.found
            return
        if moment == READY:
            self.found, self.moments = now, [READY]
            return
        seen = {(v.rule, v.frame, t) for v in self.found for t in v.targets}
        for v in now:  # only what is new
            new = [(t, f) for t, f in zip(v.targets, v.fixes) if (v.rule, v.frame, t) not in seen]
            v.targets, v.fixes = [t for t, _ in new], [f for _, f in new]
            self.found += [v] if new else []
        self.moments.append(moment)


def a11y_item(url: str, timeout: float = 12.0, audit: PageAudit | None = None) -> Item:
    """The ``a11y:checkout`` item: evidenced with no violation, else partial with each one and its fix.
    ``audit``: what the scenarios' own run found (see :class:`PageAudit`); else the page is opened here."""
    if audit is None or audit.found is None:
        from labkit.browser import in_worker_thread

        try:
            audit = in_worker_thread(_audit_checkout, url, timeout, True)
        except Exception as exc:  # the page never got ready, no browser: say so, the other checks say more
            return item(CHECK, MISSING, f"the page could not be audited: {str(exc).splitlines()[0][:200]}",
                        "Make the page load with its card field and Pay button (see scenario:success).")
    found = audit.found or []
    rules = "WCAG 2.2 A/AA and best practices, target-size on"
    if not found:
        return item(CHECK, EVIDENCED, f"axe-core ({rules}) found no violation on the page or in its card field, "
                                      + " and ".join(audit.moments))
    lines = [f"{n}. {v.line()}" for n, v in enumerate(found[:MAX_LISTED], start=1)]
    if len(found) > MAX_LISTED:
        lines.append(f"(and {len(found) - MAX_LISTED} more: fix these, then run the check again)")
    return item(CHECK, PARTIAL, f"axe-core ({rules}) found {len(found)} violation{'s' if len(found) > 1 else ''}: "
                + " ".join(lines), HINT)
