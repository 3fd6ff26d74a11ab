"""Accessibility (WCAG 2.2 AA) of the solution's checkout, its error page and the fake Stripe's card field
and 3D Secure page, with axe-core in real Chromium (labkit.checks.a11y: WCAG 2.0-2.2 A/AA tags, best
practices, target-size on); a payment made with the keyboard alone; and the a11y:checkout check's feedback."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from labkit.browser import CheckoutBrowser
from labkit.checks.a11y import CHECK, EXCLUDED, a11y_item, audit_checkout, audit_frames
from labkit.settings import project_root
from labkit.student.runner import StudentServer
from tests.helpers import PUBLISHABLE_KEY, SECRET_KEY
from tests.submissions.a11y import unlabelled_low_contrast
from tests.submissions.builder import build
from tests.submissions.handout import handout_text

ROOT = project_root(Path(__file__).parent)
KEYS = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY}


def serve(folder: Path, fake) -> StudentServer:
    return StudentServer(folder / "checkout_server.py", env=KEYS, api_base=fake.url)


@pytest.fixture(scope="module")
def shop(fake, chromium):
    with serve(ROOT, fake) as server:
        yield server


@pytest.fixture(scope="module")
def browser(shop, chromium):
    with CheckoutBrowser(shop.url, executable_path=chromium, timeout=20) as b:
        yield b


def lines(violations) -> str:
    return "\n".join(v.line() for v in violations)


def test_no_rule_is_excluded_without_a_reason():
    assert all(reason.strip() for reason in EXCLUDED.values())


def test_the_solutions_page_has_no_violation_ready_and_after_a_declined_payment(shop, chromium):
    found = audit_checkout(shop.url)  # the page, the card field's cross-origin frame, then #result shown
    assert not found, lines(found)


def test_the_error_page_has_no_violation(shop, browser):
    page = browser.new_page()
    try:
        page.goto(shop.url + "/?product=prod_nope")
        assert "Product not available" in page.inner_text("h1")
        found = audit_frames(page, "error page")
        assert not found, lines(found)
    finally:
        browser.close_page(page)


def _challenge(page, timeout: float = 20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for frame in page.frames:
            if "/3ds/" in frame.url and frame.locator("#test-source-authorize-3ds").count():
                return frame
        page.wait_for_timeout(100)
    raise AssertionError("no 3D Secure challenge appeared")


def test_the_3d_secure_dialog_has_no_violation_and_takes_focus(browser):
    page = browser.open_checkout()
    try:
        browser.type_card(page, "4000002500003155")
        page.locator("#submit-btn").click()
        frame = _challenge(page)
        end = time.monotonic() + 10  # focus moved into the dialog, onto its first choice
        while frame.evaluate("document.activeElement && document.activeElement.id") != "test-source-authorize-3ds":
            assert time.monotonic() < end, frame.evaluate("document.activeElement && document.activeElement.outerHTML")
            page.wait_for_timeout(50)
        assert page.evaluate("document.activeElement.tagName") == "IFRAME"
        assert page.locator("[role=dialog][aria-modal=true]").get_attribute("aria-label")
        found = audit_frames(page, "3D Secure challenge open")
        assert not found, lines(found)
        page.keyboard.press("Enter")  # complete it from the keyboard
        page.locator("#result[data-outcome=succeeded]").wait_for()
        assert page.evaluate("document.activeElement.id") == "submit-btn"  # focus given back
    finally:
        browser.close_page(page)


def test_the_full_page_3d_secure_challenge_has_no_violation(fake, client, browser):
    pi = client.v1.payment_intents.create(params={
        "amount": 1800, "currency": "usd", "payment_method_types": ["card"], "confirm": True,
        "payment_method": "pm_card_authenticationRequiredOnSetup", "return_url": "https://shop.example/done"})
    assert pi.status == "requires_action"
    url = pi.next_action.redirect_to_url.url + "&key=" + PUBLISHABLE_KEY  # as Stripe.js opens it
    page = browser.new_page()
    try:
        page.goto(url)
        page.locator("#amount", has_text="18.00").wait_for()
        found = audit_frames(page, "3D Secure full page")
        assert not found, lines(found)
    finally:
        browser.close_page(page)


# ------------------------------------------------------------------ keyboard only
FOCUSED = """() => {
  let el = document.activeElement, doc = document;
  return {tag: el ? el.tagName : null, id: el ? el.id : null, body: el === doc.body || el === null,
          frame: !!el && el.tagName === "IFRAME"};
}"""
VISIBLE = """el => {
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height || r.bottom < 0 || r.right < 0 || r.top > innerHeight || r.left > innerWidth) return false;
  const hit = document.elementFromPoint(Math.min(innerWidth - 1, r.left + r.width / 2), Math.min(innerHeight - 1, r.top + r.height / 2));
  return !!hit && (hit === el || el.contains(hit) || hit.contains(el));
}"""


def _focus_is_visible(page, card_frame) -> str:
    """Where the focus is ("page:<id>", "card:<name>"), asserting it is neither lost nor hidden."""
    top = page.evaluate(FOCUSED)
    assert not top["body"], "focus was lost (it went back to the page's body)"
    assert page.evaluate_handle("document.activeElement").evaluate(VISIBLE), f"focused {top} is hidden"
    if top["frame"]:
        name = card_frame.evaluate("document.activeElement && document.activeElement.name")
        assert name, "focus is on the card frame but on none of its fields"
        return f"card:{name}"
    return f"page:{top['id']}"


def test_a_payment_with_the_keyboard_alone_is_announced_and_never_loses_focus(browser):
    page = browser.open_checkout()
    try:
        card_frame = next(f for f in page.frames if "/elements/card" in f.url)
        path = []
        for _ in range(12):  # Tab from the top of the page to the card number
            page.keyboard.press("Tab")
            path.append(_focus_is_visible(page, card_frame))
            if path[-1] == "card:cardnumber":
                break
        assert path[-1] == "card:cardnumber", path
        assert "page:cardholder-name" in path  # every field is on the way, in order
        yy = (time.gmtime().tm_year + 3) % 100
        for text, field in (("4242424242424242", "exp-date"), (f"12{yy:02d}", "cvc"), ("123", "postal")):
            page.keyboard.type(text)  # the field moves on by itself when complete, as Stripe's does
            assert _focus_is_visible(page, card_frame) == f"card:{field}"
        page.keyboard.type("42424")
        page.keyboard.press("Tab")
        assert _focus_is_visible(page, card_frame) == "page:submit-btn"
        assert "$18.00" in page.inner_text("#submit-btn")  # 3.3.4: the amount is on the button that pays
        page.keyboard.press("Enter")
        result = page.locator("#result[data-outcome]")
        while not result.count():
            assert _focus_is_visible(page, card_frame) == "page:submit-btn"  # also while it is busy
            page.wait_for_timeout(50)
        live = page.locator("#result")
        assert live.get_attribute("role") in ("status", "alert") or live.get_attribute("aria-live") in ("polite",
                                                                                                       "assertive")
        assert "Payment succeeded" in live.inner_text()
        assert _focus_is_visible(page, card_frame) == "page:submit-btn"
    finally:
        browser.close_page(page)


# ------------------------------------------------------------------ the check
def test_the_check_passes_the_solution_for_0_points(shop):
    item = a11y_item(shop.url)
    assert item.check == CHECK and item.status == "evidenced", item.evidence
    assert item.points == 0 and item.max_points == 0 and item.part == "B"


def test_the_check_lists_a_faulty_pages_violations_with_their_elements_and_fixes(fake, tmp_path, chromium):
    folder = unlabelled_low_contrast(tmp_path / "student")
    with serve(folder, fake) as server:
        item = a11y_item(server.url)
    assert item.status == "partial" and item.points == 0
    text = item.evidence
    for rule, element in (("color-contrast", "strong"), ("region", ".testmode"), ("label", "#cardholder-name")):
        assert f"{rule} (" in text and element in text, (rule, text)
    assert "2.02" in text and "Fix:" in text and "dequeuniversity.com/rules/axe/4.12/label" in text
    assert "role=\"status\"" in item.hint


def test_the_check_audits_the_generic_declines_own_page_with_no_browser_of_its_own(fake, client, tmp_path, chromium,
                                                                                  monkeypatch):
    """labkit check pays with 0002 anyway: a11y:checkout reads that page (ready, then after the decline)."""
    from labkit.checks import a11y
    from labkit.checks.scenarios import scenarios

    folder = unlabelled_low_contrast(tmp_path / "student")
    with serve(folder, fake) as server:
        audit = a11y.PageAudit()
        [run] = scenarios(server.url, client, keys=("generic_decline",), audit=audit)
        assert run.status == "evidenced", run.evidence
        assert audit.moments == [a11y.READY, a11y.AFTER_DECLINE]
        monkeypatch.setattr(a11y, "_audit_checkout", lambda *a: pytest.fail("a second browser was opened"))
        item = a11y_item(server.url, audit=audit)
    assert item.status == "partial" and "color-contrast (" in item.evidence and "#cardholder-name" in item.evidence


def test_a_page_never_audited_in_the_scenarios_is_audited_on_its_own(shop):
    from labkit.checks import a11y

    item = a11y_item(shop.url, audit=a11y.PageAudit())  # e.g. scenario:success failed, so 0002 never ran
    assert item.status == "evidenced" and item.evidence.endswith(f"{a11y.READY} and {a11y.AFTER_DECLINE}")


def test_a_checkout_that_does_not_start_gets_the_a11y_item_missing():
    from types import SimpleNamespace

    from labkit.checks.run import checkout_items
    from labkit.student.runner import StudentServerError

    lab = SimpleNamespace(errors={"checkout": StudentServerError("checkout_server.py did not start: syntax error")})
    items = {i.check: i for i in checkout_items(lab, None)}
    assert items[CHECK].status == "missing" and "syntax error" in items[CHECK].evidence


# the page as the handout prints it (when the handout is at hand), and the kit's handout-style page (always):
# the rules each breaks
HANDOUT_PAGES = {"handout_style_fixed": {"landmark-one-main", "region"}}
if handout_text() is not None:
    HANDOUT_PAGES["handout"] = {"html-has-lang", "landmark-one-main", "region", "color-contrast"}


@pytest.mark.parametrize("kind", list(HANDOUT_PAGES))
def test_the_check_lists_the_handouts_page_violations_with_fixes_and_none_of_stripes_frame(fake, tmp_path, chromium,
                                                                                          kind):
    folder = build(kind, tmp_path / kind)
    with serve(folder, fake) as server:
        found = audit_checkout(server.url)
    rules = {v.rule for v in found}
    assert HANDOUT_PAGES[kind] <= rules, lines(found)
    assert all(v.fix and v.help_url.startswith("https://dequeuniversity.com/rules/axe/") for v in found)
    assert not [v for v in found if v.frame != "page"], lines(found)  # the card frame's duplicates are the page's


def test_card_inputs_declare_their_purpose_and_errors_are_identified_in_text(browser):
    page = browser.open_checkout()
    try:
        assert page.get_attribute("#cardholder-name", "autocomplete") == "cc-name"  # 1.3.5
        card = page.frame_locator("#card-element iframe").first
        purposes = {name: card.locator(f'input[name="{name}"]').get_attribute("autocomplete")
                    for name in ("cardnumber", "exp-date", "cvc", "postal")}
        assert purposes == {"cardnumber": "cc-number", "exp-date": "cc-exp", "cvc": "cc-csc", "postal": "postal-code"}
        assert all(card.locator(f'input[name="{n}"]').get_attribute("aria-label") for n in purposes)
        card.locator('input[name="cardnumber"]').press_sequentially("4242424242424241")  # fails the Luhn check
        errors = page.locator("#card-errors")
        errors.filter(has_text="Your card number is invalid.").wait_for()  # 3.3.1: said in words
        assert errors.get_attribute("role") == "alert"  # 4.1.3: announced without moving focus
        assert card.locator('input[name="cardnumber"]').get_attribute("aria-invalid") == "true"
    finally:
        browser.close_page(page)


def test_the_audit_runs_target_size_and_the_wcag_2_2_rules(browser):
    from axe_playwright_python.sync_playwright import Axe

    from labkit.checks.a11y import AXE_OPTIONS

    page = browser.open_checkout()
    try:
        page.evaluate(Axe().axe_script)
        ran = page.evaluate("o => axe.run(document, o)", {**AXE_OPTIONS, "resultTypes": ["passes"]})
        rules = {r["id"] for kind in ("passes", "violations", "incomplete") for r in ran[kind]}
        assert {"target-size", "color-contrast", "label", "region", "autocomplete-valid"} <= rules  # 2.5.8 is on
        assert ran["testEngine"]["version"].startswith("4.")
    finally:
        browser.close_page(page)


# ------------------------------------------------------------------ today's Stripe (issue 25's pages)
@pytest.mark.parametrize("variant", ["payment_element", "checkout_session"])
def test_the_variants_pages_have_no_violation(fake, variant, chromium):
    """The instructor's other model solutions: the Payment Element's cross-origin frame included."""
    with serve(ROOT / "variants" / variant, fake) as server:
        found = audit_checkout(server.url)
    assert not found, lines(found)


def test_the_fakes_hosted_checkout_page_has_no_violation(fake, client, browser):
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel",
        "line_items": [{"quantity": 2, "price_data": {"currency": "usd", "unit_amount": 900,
                                                      "product_data": {"name": "Cut-5 Safety Gloves"}}}]})
    page = browser.new_page()
    try:
        page.goto(session.url, wait_until="load")
        page.wait_for_timeout(500)  # its Payment Element frame
        found = audit_frames(page, "Stripe Checkout (hosted)")
        assert not found, lines(found)
    finally:
        browser.close_page(page)
