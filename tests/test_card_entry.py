"""labkit.card_entry in real Chromium: a card pasted into a frame's fields in one round trip, and the
fallbacks (a field that takes keys only, a field that shows late, a frame whose script runs late)."""
from __future__ import annotations

import html

import pytest

from labkit.card_entry import enter_card, enter_fields

pytest.importorskip("playwright")

# the card frame: formats the number in groups of four on each input event, and counts the events
FORMATTING = """<!doctype html><input name="cardnumber"><input name="exp-date"><input name="cvc">
<input name="postal" hidden>
<script>
  window.events = 0;
  const number = document.querySelector('[name=cardnumber]');
  number.addEventListener('input', () => {
    window.events += 1;
    number.value = number.value.replace(/\\D/g, '').replace(/(\\d{4})(?=\\d)/g, '$1 ');
  });
</script>"""

# a field that refuses anything but keys, as some card fields do (a paste changes nothing)
KEYS_ONLY = """<!doctype html><input name="cardnumber"><input name="exp-date"><input name="cvc">
<script>
  const cvc = document.querySelector('[name=cvc]');
  cvc.addEventListener('beforeinput', (e) => { if (e.inputType !== 'insertText' || e.data.length > 1) e.preventDefault(); });
</script>"""


@pytest.fixture(scope="module")
def page(chromium):
    from playwright.sync_api import sync_playwright

    from labkit.chromium import launch_args

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=launch_args(), headless=True)
        page = browser.new_page()
        page.set_default_timeout(5000)
        yield page
        browser.close()


def _frame_page(page, inner: str) -> None:
    page.set_content(f'<!doctype html><div id="card-element"><iframe srcdoc="{html.escape(inner)}"></iframe></div>')
    page.locator("#card-element iframe").first.wait_for()


def _values(page) -> dict:
    frame = page.locator("#card-element iframe").first.element_handle().content_frame()
    return frame.evaluate("() => Object.fromEntries([...document.querySelectorAll('input')].map(i => [i.name, i.value]))")


def test_a_card_is_pasted_one_input_event_a_field_and_formatted_by_the_field(page):
    _frame_page(page, FORMATTING)
    enter_card(page, "4242424242424242", expiry="1229", cvc="123", postal="42424", frame_selector="#card-element iframe")
    values = _values(page)
    assert values == {"cardnumber": "4242 4242 4242 4242", "exp-date": "1229", "cvc": "123", "postal": ""}
    frame = page.locator("#card-element iframe").first.element_handle().content_frame()
    assert frame.evaluate("window.events") == 1  # a paste, not sixteen keys


def test_a_hidden_optional_field_is_left_alone_and_entered_once_it_shows(page):
    _frame_page(page, FORMATTING)
    enter_card(page, "4242424242424242", expiry="1229", cvc="123", postal="42424", frame_selector="#card-element iframe")
    assert _values(page)["postal"] == ""
    frame = page.locator("#card-element iframe").first.element_handle().content_frame()
    frame.evaluate("document.querySelector('[name=postal]').hidden = false")
    enter_card(page, "4242424242424242", expiry="1229", cvc="123", postal="42424", frame_selector="#card-element iframe")
    assert _values(page)["postal"] == "42424"


def test_a_field_that_takes_keys_only_is_typed_key_by_key(page):
    _frame_page(page, KEYS_ONLY)
    frame = page.locator("#card-element iframe").first.element_handle().content_frame()
    enter_card(page, "378282246310005", expiry="1229", cvc="123", postal="42424", frame_selector="#card-element iframe")
    assert _values(page) == {"cardnumber": "378282246310005", "exp-date": "1229", "cvc": "1234"}  # Amex: 4 digits
    assert frame.evaluate("document.querySelector('[name=cvc]').value") == "1234"


def test_fields_of_the_page_itself_and_a_frame_not_there_yet(page):
    page.set_content("<!doctype html><input id='cardNumber'><input id='cardExpiry'>")
    enter_fields(page, None, [("#cardNumber", "4000000000000002"), ("#cardExpiry", "1229")])
    assert page.evaluate("[cardNumber.value, cardExpiry.value]") == ["4000000000000002", "1229"]
    page.set_content("<!doctype html><div id='late'></div><script>setTimeout(() => { late.innerHTML = "
                     "'<iframe srcdoc=\"<input name=cvc>\"></iframe>'; }, 150)</script>")
    enter_fields(page, "#late iframe", [('input[name="cvc"]', "321")])  # waits for the frame, then fills
    frame = page.locator("#late iframe").first.element_handle().content_frame()
    assert frame.evaluate("document.querySelector('[name=cvc]').value") == "321"
