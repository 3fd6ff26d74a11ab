"""Drive the checkout in a real headless Chromium (Playwright): type a test card, pay, answer 3D Secure.

The selectors are Stripe's own, so the same driver works against the offline fake and
against real Stripe test mode:

* the card field: ``#card-element iframe[name^="__privateStripeFrame"]`` with inputs
  ``cardnumber``, ``exp-date``, ``cvc``, ``postal``;
* the 3D Secure test challenge: buttons ``#test-source-authorize-3ds`` (Complete) and
  ``#test-source-fail-3ds`` (Fail), looked for in every frame (Stripe nests them several
  iframes deep; the fake, one);
* the result: the checkout page's ``#result`` panel (``data-outcome``, ``data-payment-intent``…).

Playwright's sync API refuses to run inside a running asyncio loop (a notebook kernel), so
the public functions do their browser work in a worker thread.

>>> runs = run_scenarios(lab.checkout_url, client=lab.client, out_dir=settings.screenshots_dir)
"""
from __future__ import annotations

import json
import logging
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from labkit import browser_thread, card_entry
from labkit.browser_thread import stopping as _stopping
from labkit.data import test_cards
from labkit.tabs import Tabs

CARD_FRAME = '#card-element iframe[name^="__privateStripeFrame"]'
COMPLETE_3DS = "#test-source-authorize-3ds"
FAIL_3DS = "#test-source-fail-3ds"
RESULT = "#result[data-outcome]"
PAY_BUTTON = "#submit-btn"


@dataclass(frozen=True)
class Scenario:
    key: str
    number: str
    title: str
    challenge: str | None = None  # "complete" / "fail" for the 3D Secure card


@dataclass
class PaymentRun:
    """What one browser run showed and what Stripe recorded."""

    scenario: str
    title: str
    card: str
    challenge: str | None
    outcome: str  # "succeeded" / "failed" as the page shows it
    message: str  # the result panel's title and message ("Payment failed — Your card was declined.")
    payment_intent: str | None
    status: str | None
    decline_code: str | None
    error_code: str | None
    three_d_secure: bool
    screenshot: Path | None = None
    challenge_screenshot: Path | None = None
    browser_errors: list[str] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["screenshot"] = str(self.screenshot) if self.screenshot else None
        row["challenge_screenshot"] = str(self.challenge_screenshot) if self.challenge_screenshot else None
        return row


def load_scenarios() -> list[Scenario]:
    """The lab's five browser runs, from ``labkit/data/test_cards.json`` (``lab_scenarios``)."""
    return [Scenario(s["key"], s["number"], s["title"], s.get("challenge")) for s in test_cards()["lab_scenarios"]]


def format_card(number: str) -> str:
    groups = (4, 6, 5) if len(number) == 15 else (4, 4, 4, 4, 3)
    out, i = [], 0
    for g in groups:
        if i < len(number):
            out.append(number[i:i + g])
            i += g
    return " ".join(out)


class BrowserProblem(RuntimeError):
    """The browser run cannot go on for a reason outside the code (no browser, nothing answers
    at the checkout URL, a closed lab); the message is one line that says what to do."""

    one_line = True


def in_worker_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` in the kit's browser thread (:mod:`labkit.browser_thread`: Playwright's sync API cannot
    run inside a notebook's event loop, and one Chromium is kept there for every run).

    Interrupting (Ctrl-C, the notebook's stop button) returns at once; the browser run stops at its
    next step. Errors from the environment come back as one line (:class:`BrowserProblem`), not as a
    thread's traceback.
    """
    from labkit.backend import notebook_messages

    notebook_messages((BrowserProblem,))
    try:
        return browser_thread.run(fn, *args, **kwargs)
    except Exception as exc:
        line = _problem(exc)
        if line:
            raise BrowserProblem(line) from None
        raise


def warm_up() -> None:
    """Launch the kept Chromium (:mod:`labkit.browser_thread`) now, without waiting for it: a check that
    starts the student's servers meanwhile finds it ready. A problem is left to the run that needs the
    browser, which reports it in its own words."""
    def launch() -> None:
        from labkit.chromium import find_chromium, launch_args

        try:
            browser_thread.THREAD.chromium(find_chromium(), launch_args())
        except Exception:  # no Chromium, or it would not start: said by the browser run
            pass
    browser_thread.THREAD.submit(launch)


def _problem(exc: BaseException) -> str | None:
    """One line for a Playwright error that the environment caused, else None."""
    if isinstance(exc, BrowserProblem):
        return str(exc)
    text = str(exc)
    if "ERR_CONNECTION_REFUSED" in text:
        url = next((w for w in text.split() if w.startswith("http")), "the checkout")
        return f"nothing answers at {url.rstrip('/')}: {_CLOSED_HINT}"
    if type(exc).__module__.startswith("playwright") and ("Executable doesn't exist" in text
                                                         or "Failed to launch" in text):
        return ("Chromium did not start: set LABKIT_CHROMIUM to a working Chrome or Chromium, or run "
                "`python -m playwright install chromium`")
    return None


_CLOSED_HINT = "was the lab closed by the last cell? Run Lab.start() again (or start the checkout server)"


def require_server(url: str) -> None:
    """Fail at once, in one line, when nothing listens at a loopback ``url`` (before a browser starts)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    if host not in ("127.0.0.1", "localhost", "::1"):
        return
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        raise BrowserProblem(f"nothing answers at {url.rstrip('/')}: {_CLOSED_HINT}") from None


class _QuietOrphans(logging.Filter):
    """Playwright futures left behind by an interrupted run are not news ("Future exception
    was never retrieved" from asyncio): dropped; every other asyncio message stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (str(record.msg).startswith("Future exception was never retrieved")
                    and exc is not None and type(exc).__module__.startswith("playwright"))


logging.getLogger("asyncio").addFilter(_QuietOrphans())


class CheckoutBrowser:
    """One headless Chromium for a checkout URL. Use it from a single thread (see :func:`in_worker_thread`)."""

    def __init__(self, checkout_url: str, *, executable_path: str | None = None, timeout: float = 30.0,
                 viewport: tuple[int, int] = (1040, 760)) -> None:
        self.checkout_url = checkout_url.rstrip("/")
        self.executable_path = executable_path
        self.timeout_ms = int(timeout * 1000)
        self.viewport = viewport
        self._pw = None
        self._browser = None
        self._tabs: Tabs | None = None  # its own browser context, one customer at a time

    def start(self) -> "CheckoutBrowser":
        """The browser to open pages in: in the kit's browser thread, the Chromium kept there (launched
        once per process); elsewhere (a test's own thread), a Chromium of its own, closed by :meth:`close`."""
        from labkit.chromium import find_chromium, launch_args

        require_server(self.checkout_url)
        path = self.executable_path or find_chromium()
        if browser_thread.THREAD.is_current():
            self._browser = browser_thread.THREAD.chromium(path, launch_args())
            return self
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=path, args=launch_args(), headless=True)
        except BaseException:
            self._pw.stop()
            self._pw = None
            raise
        return self

    def close(self) -> None:
        """Close the pages this object opened and, if it launched its own Chromium, that Chromium."""
        if self._tabs is not None:
            self._tabs.close()
            self._tabs = None
        if self._pw is not None:  # its own browser
            if self._browser is not None:
                self._browser.close()
            self._pw.stop()
            self._pw = None
        self._browser = None

    def __enter__(self) -> "CheckoutBrowser":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ pages
    def new_page(self):
        """A page for one customer, as a new customer would find it (:mod:`labkit.tabs`); give it back
        with :meth:`close_page`."""
        if self._tabs is None:
            self._tabs = Tabs(self._browser, self.viewport, self.timeout_ms)
        return self._tabs.new_page()

    def close_page(self, page) -> None:
        """Take a customer's page back: what they stored is forgotten, the tab kept for the next one."""
        if self._tabs is not None:
            self._tabs.close_page(page)

    def open_checkout(self, product: str | None = None, quantity: int = 1):
        page = self.new_page()
        query = f"/?product={product}&quantity={quantity}" if product else ""
        page.goto(self.checkout_url + query, wait_until="load")
        page.locator(CARD_FRAME).first.wait_for(state="attached")  # the card field is there (Pay may wait for the card)
        return page

    @staticmethod
    def type_card(page, number: str, expiry: str | None = None, cvc: str = "123", postal: str = "42424",
                  frame_selector: str = CARD_FRAME) -> None:
        """Enter a card into the card iframe as a person pasting it would (:mod:`labkit.card_entry`)."""
        card_entry.enter_card(page, number, expiry=expiry, cvc=cvc, postal=postal, frame_selector=frame_selector)

    def _challenge_frame(self, page, selector: str, deadline: float):
        """The frame (any depth) showing the 3D Secure button, or None if the payment finished first."""
        while time.monotonic() < deadline and not _stopping():
            for frame in page.frames:
                try:
                    button = frame.locator(selector)
                    if (button.count() and button.first.is_visible() and button.first.is_enabled()
                            and frame.evaluate("document.readyState") == "complete"):  # its script has run
                        return frame
                except Exception:  # a frame navigating or detaching: look again
                    continue
            if page.locator(RESULT).count():
                return None
            page.wait_for_timeout(50)
        raise TimeoutError(f"no 3D Secure challenge ({selector}) appeared within {self.timeout_ms / 1000:.0f} s")

    def pay(self, scenario: Scenario, *, screenshot: Path | None = None, challenge_screenshot: Path | None = None,
            product: str | None = None, quantity: int = 1, name: str = "Lab Student", client: Any = None) -> PaymentRun:
        """One checkout: open the page, type the card, pay, answer 3D Secure, read the result."""
        page = self.open_checkout(product, quantity)
        try:
            page.fill("#cardholder-name", name)
            self.type_card(page, scenario.number)
            page.click(PAY_BUTTON)
            shot_3ds = None
            challenged = False
            if scenario.challenge:
                selector = COMPLETE_3DS if scenario.challenge == "complete" else FAIL_3DS
                frame = self._challenge_frame(page, selector, time.monotonic() + self.timeout_ms / 1000)
                if frame is not None:
                    challenged = True
                    if challenge_screenshot is not None:
                        challenge_screenshot.parent.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(challenge_screenshot), full_page=True,
                                        animations="disabled")  # the modal as it ends up, not mid-fade
                        shot_3ds = challenge_screenshot
                    frame.locator(selector).first.click()
            result = page.locator(RESULT)
            result.wait_for()
            data = result.evaluate("el => ({...el.dataset})")
            parts = [result.locator(sel).first.inner_text() if result.locator(sel).count() else ""
                     for sel in (".title", ".message")]
            message = " — ".join(" ".join(p.split()) for p in parts if p.strip()) or " ".join(result.inner_text().split())
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
            run = PaymentRun(
                scenario=scenario.key, title=scenario.title, card=format_card(scenario.number),
                challenge=scenario.challenge, outcome=data.get("outcome", ""), message=message,
                payment_intent=data.get("paymentIntent") or None, status=data.get("status") or None,
                decline_code=data.get("declineCode") or None, error_code=data.get("code") or None,
                three_d_secure=challenged,
                screenshot=screenshot, challenge_screenshot=shot_3ds,
                browser_errors=list(page.labkit_errors),  # type: ignore[attr-defined]
            )
        finally:
            self.close_page(page)
        if client is not None and run.payment_intent:
            _fill_from_stripe(run, client)
        return run

    def screenshot_checkout(self, path: Path, *, card: str | None = None, product: str | None = None,
                            quantity: int = 1) -> Path:
        """A picture of the checkout page (optionally with a card typed in, not paid)."""
        page = self.open_checkout(product, quantity)
        try:
            if card and not page.locator(CARD_FRAME).count():  # the Payment Element or a Checkout button
                from labkit.checks.integrations import show_card

                card = show_card(page, card)
            if card:
                page.fill("#cardholder-name", "Lab Student")
                self.type_card(page, card)
                page.locator("body").click(position={"x": 5, "y": 5})  # leave the field, as a person would
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True, animations="disabled")  # transitions at their end
        finally:
            self.close_page(page)
        return path


def _fill_from_stripe(run: PaymentRun, client: Any) -> None:
    """Status and decline code as Stripe recorded them (the page shows what Stripe.js returned)."""
    pi = client.v1.payment_intents.retrieve(run.payment_intent, params={"expand": ["latest_charge"]}).to_dict()
    run.status = pi["status"]
    err = pi.get("last_payment_error") or {}
    run.decline_code = err.get("decline_code") or run.decline_code
    run.error_code = err.get("code") or run.error_code
    charge = pi.get("latest_charge") if isinstance(pi.get("latest_charge"), dict) else {}
    three_ds = ((charge.get("payment_method_details") or {}).get("card") or {}).get("three_d_secure")
    run.three_d_secure = bool(three_ds) or err.get("code") == "payment_intent_authentication_failure"


def _run_scenarios(checkout_url: str, scenarios: list[Scenario], out_dir: Path | None, client: Any,
                   executable_path: str | None, timeout: float) -> list[PaymentRun]:
    runs = []
    with CheckoutBrowser(checkout_url, executable_path=executable_path, timeout=timeout) as browser:
        for sc in scenarios:
            if _stopping():  # interrupted: stop here, its pages close on the way out (the kept Chromium stays)
                break
            shot = out_dir / f"{sc.key}.png" if out_dir else None
            challenge = out_dir / f"{sc.key}_challenge.png" if (out_dir and sc.challenge) else None
            runs.append(browser.pay(sc, screenshot=shot, challenge_screenshot=challenge, client=client))
    return runs


def run_scenarios(checkout_url: str, scenarios: Iterable[Scenario] | None = None, *, out_dir: Path | None = None,
                  client: Any = None, executable_path: str | None = None, timeout: float = 30.0) -> list[PaymentRun]:
    """Pay once per scenario (default: the lab's five) in headless Chromium; screenshots to ``out_dir/<key>.png``.

    ``client`` (a ``stripe.StripeClient``) makes the records carry Stripe's own status and decline code.
    """
    chosen = list(scenarios) if scenarios is not None else load_scenarios()
    return in_worker_thread(_run_scenarios, checkout_url, chosen, Path(out_dir) if out_dir else None, client,
                            executable_path, timeout)


def run_lab_scenarios(lab: Any, scenarios: Iterable[Scenario] | None = None) -> list[PaymentRun]:
    """:func:`run_scenarios` for a running :class:`labkit.lab.Lab`: screenshots in ``out/screenshots/``,
    the records in ``out/evidence/browser_runs.json`` (for the rubric self-check)."""
    getattr(lab, "check_open", lambda: None)()  # a closed lab says so, in one line
    runs = run_scenarios(lab.checkout_url, scenarios, out_dir=lab.settings.screenshots_dir, client=lab.client)
    save_runs(runs, lab.settings.browser_runs_path)
    return runs


def save_runs(runs: Iterable[PaymentRun], path: Path) -> Path:
    """The runs as JSON (no card data beyond Stripe's public test numbers)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.as_row() for r in runs], indent=2), encoding="utf-8")
    return path


def screenshot_checkout(checkout_url: str, path: Path, *, card: str | None = None, product: str | None = None,
                        quantity: int = 1, executable_path: str | None = None) -> Path:
    """Save a picture of the checkout page (``card`` typed in but not paid, if given)."""
    def work() -> Path:
        with CheckoutBrowser(checkout_url, executable_path=executable_path) as browser:
            return browser.screenshot_checkout(Path(path), card=card, product=product, quantity=quantity)
    return in_worker_thread(work)


def runs_frame(runs: Iterable[PaymentRun]):
    """The runs as a DataFrame with a stable column order (for notebooks and reports)."""
    import pandas as pd

    cols = ["scenario", "card", "challenge", "outcome", "message", "payment_intent", "status", "decline_code",
            "error_code", "three_d_secure", "screenshot"]
    return pd.DataFrame([r.as_row() for r in runs], columns=cols + ["title", "challenge_screenshot", "browser_errors"])[cols]


def show_runs(runs: Iterable[PaymentRun], width: int = 640) -> None:
    """In a notebook: each run's title and message, its 3D Secure challenge (if any) and its result."""
    from IPython.display import Image, Markdown, display

    from labkit.markdown_text import no_math

    for run in runs:
        display(Markdown(no_math(f"**{run.title}**: {run.message}")))  # "Amount $18.00" is not maths
        for shot in (run.challenge_screenshot, run.screenshot):
            if shot:
                display(Image(data=thumbnail(shot, width)))


def thumbnail(path: Path | str, width: int = 640) -> bytes:
    """A smaller PNG of a screenshot (palette colours) for showing inline; the file on disk stays full size."""
    import io

    from PIL import Image as PILImage

    with PILImage.open(path) as img:
        img = img.convert("RGB")
        if img.width > width:
            img = img.resize((width, round(img.height * width / img.width)), PILImage.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.quantize(colors=128, method=PILImage.Quantize.MEDIANCUT).save(buf, format="PNG", optimize=True)
    return buf.getvalue()
