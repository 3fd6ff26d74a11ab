"""Enter a test card into Stripe's card fields the way a person pasting it would.

Each field is given its whole value at once (one ``input`` event, as a paste makes), all of them in
one round trip to the frame that holds them, once its script has run. A field that did not take the
value (it reacts to keys only), or was not there yet, is then filled by Playwright, or typed key by
key. The card Element's fields are Stripe's ``cardnumber``, ``exp-date``, ``cvc`` and, where it shows,
``postal``; the Payment Element's and Checkout's are given by :mod:`labkit.checks.integrations`.
"""
from __future__ import annotations

import time
from typing import Any

_PASTE = """async (fields) => {
  if (document.readyState !== 'complete') {  // the fields' script has not run yet: wait for it
    await new Promise((done) => window.addEventListener('load', done, {once: true}));
  }
  const kept = {};
  for (const [selector, value] of fields) {
    const el = document.querySelector(selector);
    if (!el || el.disabled || !el.getClientRects().length) continue;  // absent or hidden: not entered
    el.focus();
    el.select();
    document.execCommand('insertText', false, value);  // one input event, as pasting the value makes
    kept[selector] = el.value;
  }
  return kept;
}"""


def expiry_date() -> str:
    """MMYY of a test card's expiry: December, three years on."""
    return f"12{(time.gmtime().tm_year + 3) % 100:02d}"


def enter_card(page: Any, number: str, *, expiry: str | None, cvc: str, postal: str, frame_selector: str) -> None:
    """``number`` (expiry MMYY, cvc, postal code) into the card Element's frame on ``page``."""
    cvc = cvc if len(number) != 15 else cvc.ljust(4, "4")
    enter_fields(page, frame_selector, [('input[name="cardnumber"]', number),
                                        ('input[name="exp-date"]', expiry or expiry_date()),
                                        ('input[name="cvc"]', cvc), ('input[name="postal"]', postal)],
                 optional=('input[name="postal"]',))


def enter_fields(root: Any, frame_selector: str | None, fields: list[tuple[str, str]],
                 optional: tuple[str, ...] = ()) -> None:
    """Each (CSS selector, value) of ``fields`` into the frame ``frame_selector`` of ``root`` (a page or a
    frame locator; None: ``root`` itself). An ``optional`` field is entered only where it shows."""
    kept = _paste(_frame(root, frame_selector), fields)
    scope = root if frame_selector is None else root.frame_locator(frame_selector).first
    for selector, value in fields:
        if selector in optional and selector not in kept:  # hidden or absent when pasted: entered if it shows now
            field = scope.locator(selector)
            if field.count() and field.first.is_visible():
                _enter(field.first, value)
        elif _alnum(kept.get(selector)) != value:
            _enter(scope.locator(selector).first, value)


def _alnum(text: str | None) -> str | None:
    """The letters and digits of a field's value ("4242 4242…" → "42424242…"); None stays None."""
    return None if text is None else "".join(ch for ch in text if ch.isalnum())


def _frame(root: Any, frame_selector: str | None) -> Any:
    """The Playwright frame holding the fields, or None when it cannot be reached yet."""
    try:
        if frame_selector is None:
            if hasattr(root, "main_frame"):
                return root.main_frame
            handle = root.owner.element_handle()
        else:
            handle = root.locator(frame_selector).first.element_handle()
        return handle.content_frame() if handle is not None else None
    except Exception:  # the frame navigating or detached
        return None


def _paste(frame: Any, fields: list[tuple[str, str]]) -> dict[str, str]:
    """Each of ``fields`` pasted in one round trip: what each visible field then holds (formatted by the
    field), by selector; {} when ``frame`` is None or cannot be reached (the fields are entered one by one)."""
    if frame is None:
        return {}
    try:
        return frame.evaluate(_PASTE, fields)
    except Exception:  # the frame navigating or detached
        return {}


def _enter(field: Any, value: str) -> None:
    """``value`` into one field: filled at once (a field formats it: "4242 4242…", "12 / 29"), or typed
    key by key when the field kept other characters than the ones given (it reacts to keys only)."""
    field.fill(value)
    if _alnum(field.input_value()) != value:
        field.fill("")
        field.press_sequentially(value)
