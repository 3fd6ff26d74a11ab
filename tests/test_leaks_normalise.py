"""The export's card scanner reads every digit Unicode calls decimal and every way of grouping a number
(thousands separators, 12+4, separator runs) before the Luhn check; notebook attachments are read by their
MIME type (a text/plain attachment is scanned as text, even one that looks like base64). Hypothesis
generates the numbers, scripts and groupings."""
from __future__ import annotations

import base64
import unicodedata

import nbformat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.leaks import load_test_cards, luhn_ok, redact_text, scan_text
from labkit.leaks_notebook import redact_notebook, scan_notebook

TEST_CARDS = load_test_cards()
# the zero of every run of ten decimal digits Unicode has (ASCII, fullwidth, Arabic-Indic, Devanagari, …)
ZEROS = [c for c in map(chr, range(0x110000)) if unicodedata.decimal(c, None) == 0
         and all(unicodedata.decimal(chr(ord(c) + d), None) == d for d in range(10))]
THOUSANDS_SEPARATORS = [",", " ", "\u00a0", "\u202f", "\u2009", ".", "'", "\u2019", "\u066c", "\uff0c"]
RUNS = [" ", "-", " - ", "\u00a0", ".", "\u2013", "  ", "\u3000", " . ", "\t"]


def complete(partial: str) -> str:
    return next(partial + d for d in "0123456789" if luhn_ok(partial + d))


real_cards = st.builds(lambda first, rest: complete(first + rest), st.sampled_from("23456"),
                       st.integers(11, 17).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
                       ).filter(lambda n: n not in TEST_CARDS)


def in_script(number: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(d)) if d.isascii() and d.isdigit() else d for d in number)


def thousands(number: str, sep: str) -> str:
    head = len(number) % 3 or 3
    return sep.join([number[:head]] + [number[k:k + 3] for k in range(head, len(number), 3)])


def split_at(number: str, cut: int, sep: str) -> str:
    return number[:cut] + sep + number[cut:]


def found(text: str) -> list[str]:
    return [f.redacted for f in scan_text(text, TEST_CARDS) if f.is_real_card]


def test_the_issues_examples_are_found():
    number = "4539148803436467"
    assert luhn_ok(number) and number not in TEST_CARDS
    for text in ("4,539,148,803,436,467", "４５３９ １４８８ ０３４３ ６４６７", "453914880343 6467",
                 "4.539.148.803.436.467", "٤٥٣٩١٤٨٨٠٣٤٣٦٤٦٧"):
        assert found(f"paid with {text} yesterday") == ["[card …6467 REDACTED]"], text


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(real_cards, st.sampled_from(ZEROS), st.sampled_from(THOUSANDS_SEPARATORS))
def test_a_thousands_separated_number_in_any_decimal_script_is_found(number, zero, sep):
    text = f"note: {in_script(thousands(number, sep), zero)} end"
    assert found(text) == [f"[card …{number[-4:]} REDACTED]"], (text, number)
    redacted, _ = redact_text(text, TEST_CARDS)
    assert number[-8:-4] not in redacted.translate({ord(zero) + d: str(d) for d in range(10)})


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(real_cards, st.sampled_from(ZEROS), st.sampled_from(RUNS), st.data())
def test_a_number_split_anywhere_after_its_first_four_digits_is_found(number, zero, sep, data):
    cut = data.draw(st.integers(4, len(number) - 3), label="cut")  # 4+12, 12+4, 6+10 …
    text = f"card {in_script(split_at(number, cut, sep), zero)}."
    assert found(text) == [f"[card …{number[-4:]} REDACTED]"], (text, number)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(100, 999), min_size=7, max_size=12), st.sampled_from([",", "\u066c", "'"]))
def test_a_long_comma_separated_row_of_three_digit_numbers_is_no_card(values, sep):
    assert found(sep.join(map(str, values))) == []


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**12 - 1), st.sampled_from(THOUSANDS_SEPARATORS))
def test_an_amount_with_thousands_separators_is_no_card(amount, sep):
    assert found(f"revenue ${thousands(str(amount), sep)} a year") == []  # at most 12 digits


def _nb_with_attachment(mime: str, value: str):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell("see the attachment ![](attachment:note)")
    cell.attachments = {"note": {mime: value}}
    nb.cells = [cell]
    return nb


@settings(max_examples=60, deadline=None)
@given(real_cards, st.sampled_from(["text/plain", "text/markdown", "application/json", "text/csv"]),
       st.booleans())
def test_a_text_attachment_is_scanned_by_its_mime_type(number, mime, encoded):
    groups = [number[k:k + 4] for k in range(0, len(number), 4)]
    if len(groups[-1]) < 3:  # 4-4-4-1 is no way to write a number: 4-4-5
        groups[-2:] = [groups[-2] + groups[-1]]
    text = f"my card {' '.join(groups)}"
    value = base64.b64encode(text.encode()).decode() if encoded else text
    nb = _nb_with_attachment(mime, value)
    report = scan_notebook(nb, "nb.ipynb")
    assert [f.redacted for f in report.real_cards] == [f"[card …{number[-4:]} REDACTED]"], (mime, value)
    assert report.not_scanned == []
    clean, _ = redact_notebook(nb, "nb.ipynb")
    assert scan_notebook(clean, "nb.ipynb").real_cards == []


def test_the_issues_plain_text_attachment_made_of_base64_letters_is_scanned():
    nb = _nb_with_attachment("text/plain", "my card 4539 1488 0343 6467")
    assert [f.redacted for f in scan_notebook(nb, "nb.ipynb").real_cards] == ["[card …6467 REDACTED]"]


def test_a_binary_attachment_is_counted_not_read():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"4539148803436467").decode()
    report = scan_notebook(_nb_with_attachment("image/png", png), "nb.ipynb")
    assert report.real_cards == [] and report.not_scanned == ["1 image in nb.ipynb"]
