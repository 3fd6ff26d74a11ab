"""Made-up checkout pages with accessibility faults, for the a11y:checkout check (tests/test_a11y.py)."""
from __future__ import annotations

from pathlib import Path

from tests.submissions.builder import _copy_solution, _edit


def unlabelled_low_contrast(dest: Path) -> Path:
    """The solution's page with three faults students make: the name field's label (and placeholder) removed, the test-mode
    badge in white on orange (2.02:1), and the test-mode note outside any landmark."""
    _copy_solution(dest)
    _edit(dest, "templates/checkout.html", '<label class="field-label" for="cardholder-name">Name on card</label>', "")
    _edit(dest, "templates/checkout.html", 'placeholder="Jane Student" ', "")
    _edit(dest, "templates/checkout.html", '<aside class="testmode" aria-label="Test mode">', '<div class="testmode">')
    _edit(dest, "templates/checkout.html", "never a real card.\n  </aside>", "never a real card.\n  </div>")
    _edit(dest, "static/checkout.css", ".testmode strong { background: #9a4d00;", ".testmode strong { background: #f5a623;")
    return dest
