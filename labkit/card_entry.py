"""Enter a test card into Stripe's card field (an iframe) the way a person pasting it would.

Each field is given its whole value at once (one ``input`` event, as a paste makes), all of them in
one round trip to the card frame once its script has run. A field that did not take the value (it
reacts to keys only), or was not there yet, is then filled by Playwright, or typed key by key. The
fields are Stripe's: ``cardnumber``, ``exp-date``, ``cvc`` and, where it shows, ``postal``.
"""
from __future__ import annotations

import time
from typing import Any

_PASTE = """async (fields) => {
  if (document.readyState !== 'complete') {  // the field's script has not run yet: wait for it
    await new Promise((done) => window.addEventListener('load', done, {once: true}));
  }
  const kept = {};
  for (const [name, value] of fields) {
    const el = document.querySelector(`input[name="${name}"]`);
    if (!el || el.disabled || !el.getClientRects().length) continue;  // absent or hidden: not entered
    el.focus();
    el.select();
    document.execCommand('insertText', false, value);  // one input event, as pasting the value makes
    kept[name] = el.value;
  }
  return kept;
}"""


def enter_card(page: Any, number: str, *, expiry: str | None, cvc: str, postal: str, frame_selector: str) -> None:
    """``number`` (expiry MMYY, default December three years on; cvc; postal code) into the card frame."""
    if expiry is None:
        expiry = f"12{(time.gmtime().tm_year + 3) % 100:02d}"
    fields = {"cardnumber": number, "exp-date": expiry, "cvc": cvc if len(number) != 15 else cvc.ljust(4, "4")}
    kept = paste(page, frame_selector, [*fields.items(), ("postal", postal)])
    frame = page.frame_locator(frame_selector).first
    for name, value in fields.items():
        if alnum(kept.get(name)) != value:
            enter(frame.locator(f'input[name="{name}"]'), value)
    if "postal" not in kept:  # hidden or absent when pasted: entered if it shows now
        postal_input = frame.locator('input[name="postal"]')
        if postal_input.count() and postal_input.is_visible():
            enter(postal_input, postal)
    elif alnum(kept["postal"]) != postal:
        enter(frame.locator('input[name="postal"]'), postal)


def alnum(text: str | None) -> str | None:
    """The letters and digits of a field's value ("4242 4242…" → "42424242…"); None stays None."""
    return None if text is None else "".join(ch for ch in text if ch.isalnum())


def paste(page: Any, frame_selector: str, fields: list[tuple[str, str]]) -> dict[str, str]:
    """Each of ``fields`` (input name, value) pasted into the card frame in one round trip: what each visible
    field then holds (formatted by the field), {} when the frame cannot be reached yet."""
    try:
        handle = page.locator(frame_selector).first.element_handle()
        frame = handle.content_frame() if handle is not None else None
        return frame.evaluate(_PASTE, fields) if frame is not None else {}
    except Exception:  # the frame navigating or detached: the fields are entered one by one instead
        return {}


def enter(field: Any, value: str) -> None:
    """``value`` into one card field: filled at once (a field formats it: "4242 4242…", "12 / 29"), or typed
    key by key when the field kept other characters than the ones given (it reacts to keys only)."""
    field.fill(value)
    if alnum(field.input_value()) != value:
        field.fill("")
        field.press_sequentially(value)
