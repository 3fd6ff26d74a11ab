"""The leak scanner: secrets and real card numbers are found and redacted, test cards are kept.

Keys and "real" card numbers are built at run time, so nothing in the repository looks
like a leaked secret or a card.
"""
from __future__ import annotations

import json
import random
import string
from importlib import resources

import nbformat
import pytest

from labkit.leaks import LeakReport, load_test_cards, luhn_ok, redact_text, scan_text
from labkit.leaks_notebook import redact_notebook, scan_notebook


def fake_key(prefix: str, n: int = 32, seed: int = 7) -> str:
    rng = random.Random(seed)
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def luhn_complete(partial: str) -> str:
    """Append the check digit that makes ``partial`` Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(partial + d):
            return partial + d
    raise AssertionError("unreachable")


def not_a_test_card(seed: int = 11) -> str:
    rng = random.Random(seed)
    tests = load_test_cards()
    while True:
        number = luhn_complete("4" + "".join(rng.choice(string.digits) for _ in range(14)))
        if number not in tests:
            return number


# ------------------------------------------------------------------ secrets

@pytest.mark.parametrize("prefix,kind", [
    ("sk_test_", "secret_key"), ("sk_live_", "secret_key"),
    ("rk_test_", "restricted_key"), ("rk_live_", "restricted_key"),
    ("whsec_", "webhook_secret"),
])
def test_each_secret_kind_is_found_and_redacted(prefix, kind):
    key = fake_key(prefix)
    text, findings = redact_text(f"config: key={key}; done")
    assert key not in text
    assert text == f"config: key={prefix}…[REDACTED]; done"
    assert [(f.kind, f.redacted) for f in findings] == [(kind, f"{prefix}…[REDACTED]")]
    assert key not in repr(findings)  # a finding never keeps the secret


def test_publishable_keys_and_prose_are_left_alone():
    pk = fake_key("pk_test_")
    text = f"Publishable {pk}. Secret keys start with sk_test_ and webhook secrets with whsec_; task_test_abcdefghijkl."
    assert scan_text(text) == []
    assert redact_text(text)[0] == text


def test_the_kits_offline_fake_key_counts_as_a_secret_key():
    from labkit.settings import OFFLINE_SECRET_KEY

    assert [f.kind for f in scan_text(f"key {OFFLINE_SECRET_KEY}")] == ["secret_key"]


# ------------------------------------------------------------------ cards

@pytest.mark.parametrize("written", ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242",
                                     "3782 822463 10005", "4000 0025 0000 3155"])
def test_test_cards_are_reported_not_redacted(written):
    text = f"Pay with {written} then check."
    out, findings = redact_text(text)
    assert out == text
    assert [f.kind for f in findings] == ["test_card"]
    assert findings[0].label


def test_every_documented_test_number_is_luhn_valid_and_known():
    data = resources.files("labkit") / "data"
    for name in ("test_cards.json", "stripe_more_test_cards.json"):
        doc = json.loads((data / name).read_text())
        for card in doc["cards"]:
            assert luhn_ok(card["number"]), card
            assert [f.kind for f in scan_text(card["number"])] == ["test_card"], card


def test_a_trailing_cvc_does_not_turn_a_test_card_into_a_real_one():
    findings = scan_text("card 4242 4242 4242 4242 123 exp 12/34")
    assert [(f.kind, f.redacted) for f in findings] == [("test_card", "4242 4242 4242 4242")]


@pytest.mark.parametrize("sep", ["", " ", "-"])
def test_a_real_looking_card_is_redacted_to_its_last_four(sep):
    number = not_a_test_card()
    written = sep.join(number[i:i + 4] for i in range(0, 16, 4))
    out, findings = redact_text(f"customer card: {written}.")
    assert [f.kind for f in findings] == ["card_number"]
    assert number not in out.replace(" ", "").replace("-", "")
    assert out == f"customer card: [card …{number[-4:]} REDACTED]."


def test_numbers_that_are_not_cards_are_ignored():
    text = ("invalid 4242424242424241, timestamp ms 1732600000000, order 2024-0001, "
            "amounts 2000  5000  1500, id 9999999999999995, uuid-ish 123456789012")
    assert scan_text(text) == []


# ------------------------------------------------------------------ notebooks

def _notebook(key: str, card: str | None = None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Setup\nUse the card 4242 4242 4242 4242."),
        nbformat.v4.new_code_cell("settings.describe()", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=f"loaded {key}\n"),
            nbformat.v4.new_output("execute_result", execution_count=1,
                                   data={"text/plain": f"{{'key': '{key}'}}", "text/html": f"<b>{key}</b>",
                                         "image/png": "iVBORw0KGgo="}),
        ]),
        nbformat.v4.new_code_cell("boom()", execution_count=2, outputs=[
            nbformat.v4.new_output("error", ename="AuthenticationError", evalue=f"Invalid API Key provided: {key}",
                                   traceback=[f"AuthenticationError: {key}"]),
        ]),
    ]
    if card:
        nb.cells.append(nbformat.v4.new_code_cell("x", execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=f"charged {card}\n")]))
    return nb


def test_redact_notebook_cleans_every_output_and_leaves_the_original():
    key = fake_key("sk_test_", 99)
    nb = _notebook(key)
    clean, report = redact_notebook(nb, "02_checkout.ipynb")
    assert key in json.dumps(nb)  # the original is untouched
    dumped = json.dumps(clean, ensure_ascii=False)
    assert key not in dumped
    assert dumped.count("sk_test_…[REDACTED]") == 5
    assert clean.cells[1].outputs[1].data["image/png"] == "iVBORw0KGgo="
    nbformat.validate(clean)
    assert len(report.secrets) == 5 and not report.real_cards
    assert [f.kind for f in report.test_cards] == ["test_card"]
    assert any("cell 3, output 1" in f.where for f in report.secrets)


def test_scan_notebook_reports_real_cards_and_images():
    number = not_a_test_card(3)
    report = scan_notebook(_notebook(fake_key("rk_live_"), card=number), "nb.ipynb")
    assert [f.redacted for f in report.real_cards] == [f"[card …{number[-4:]} REDACTED]"]
    assert report.real_cards[0].where == "nb.ipynb, cell 4, output 1"
    assert "1 image in nb.ipynb" in report.not_scanned


def test_report_markdown_lists_redactions_without_secrets():
    key = fake_key("whsec_", 32)
    _, report = redact_notebook(_notebook(key), "03_webhooks.ipynb")
    md = report.to_markdown()
    assert md.startswith("# Leak scan")
    assert "webhook signing secret `whsec_…[REDACTED]` in 03_webhooks.ipynb, cell 2, output 1" in md
    assert "Stripe test card …4242 (Visa, succeeds)" in md
    assert key not in md
    assert LeakReport().clean and "Redacted: nothing" in LeakReport().to_markdown()


# ------------------------------------------------------------------ every way of writing a number
# Property tests: real-looking numbers (Luhn-valid, 13-19 digits, an issuer's first digit, not a
# Stripe test card) written with every separator, entity and wrap, inside ordinary text.

from hypothesis import HealthCheck, assume, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TEST_CARDS = load_test_cards()

# what a person or a renderer puts between digit groups
SPACES = [" ", "  ", "\t", "\u00a0", "\u2009", "\u202f", "\u2007", "\u2002", "\u3000"]
ENTITIES = ["&nbsp;", "&#160;", "&#xA0;", "&#x2009;", "&thinsp;", "&#8239;", "&ensp;", "&amp;nbsp;", "\\u00a0"]
DASHES = ["-", "\u2013", "\u2014", "\u2011", "\u2212", " - ", " \u2013 "]
OTHERS = [".", "/", "_", " / ", "\u200b", "<wbr>"]
SEPARATORS = SPACES + ENTITIES + DASHES + OTHERS
WRAPS = ["\n", "\r\n", "\n    ", " \n", "<br>", "<br/>\n", '"\n    "', "\n# ", "\\n"]
GROUPINGS = {13: [(4, 4, 5), (4, 9)], 14: [(4, 6, 4), (4, 10)], 15: [(4, 6, 5), (4, 4, 4, 3), (4, 11)],
             16: [(4, 4, 4, 4), (4, 12), (4, 4, 8), (4, 6, 6)], 17: [(4, 4, 4, 5)], 18: [(4, 4, 4, 6)],
             19: [(4, 4, 4, 4, 3), (4, 15), (4, 6, 9)]}


@st.composite
def real_numbers(draw, lengths=st.integers(13, 19)):  # noqa: B008  (a strategy, not a value)
    n = draw(lengths)
    body = draw(st.sampled_from("23456")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                 min_size=n - 2, max_size=n - 2)))
    number = luhn_complete(body)
    assume(number not in TEST_CARDS)
    return number


@st.composite
def written(draw, number):
    """``number`` as a person or a renderer might write it, and the digits' grouping."""
    groups = [g for g in draw(st.sampled_from(GROUPINGS[len(number)] + [(len(number),)])) if g]
    parts, i = [], 0
    for g in groups:
        parts.append(number[i:i + g])
        i += g
    parts[-1] += number[i:]
    style = draw(st.sampled_from(["one", "mixed"]))
    if style == "one":
        sep = draw(st.sampled_from(SEPARATORS))
        seps = [sep] * (len(parts) - 1)
    else:  # spaces, dashes and slashes mixed; dots only with dots (a dot beside a space is a decimal)
        seps = [draw(st.sampled_from(SPACES + ENTITIES + DASHES + ["/", "\u200b"])) for _ in parts[1:]]
    if draw(st.booleans()):  # wrapped over two lines, between any two digits of the number
        cut = draw(st.integers(1, len(number) - 1))
        k = next(k for k in range(len(parts)) if sum(map(len, parts[:k + 1])) >= cut)
        inside = cut - sum(map(len, parts[:k]))
        wrap = draw(st.sampled_from(WRAPS))
        if inside == len(parts[k]):  # at a separator: the wrap joins it
            seps[k] = draw(st.sampled_from([seps[k] + wrap, wrap + seps[k], wrap]))
        else:
            parts[k] = parts[k][:inside] + wrap + parts[k][inside:]
    return parts[0] + "".join(s + p for s, p in zip(seps, parts[1:]))


PROSE = st.sampled_from(["", "card ", "Customer paid with ", "note: ", "<td>", "(", "'", "PAN=", "\n"])
AFTER = st.sampled_from(["", ".", " today", "</td>", ")", "'", ", exp 12/34", "\n", " cvc 123"])


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), real_numbers(), PROSE, AFTER)
@example(data=None, number="4539148803436467", before="card ", after=".")
def test_a_real_number_is_found_however_it_is_written(data, number, before, after):
    text = "4539&nbsp;1488&nbsp;0343&nbsp;6467" if data is None else data.draw(written(number), label="written")
    doc = f"{before}{text}{after}"
    out, findings = redact_text(doc)
    cards = [f for f in findings if f.kind == "card_number"]
    assert len(cards) == 1, (doc, findings)
    digits_left = "".join(c for c in out if c.isdigit())
    assert number[:-4] not in digits_left  # nothing but the last four (and the prose's digits) is left
    assert cards[0].redacted.startswith("[card …")


@settings(deadline=None, max_examples=200)
@given(st.sampled_from(sorted(TEST_CARDS)), st.data(), PROSE, AFTER)
def test_a_stripe_test_card_is_never_flagged_however_it_is_written(card, data, before, after):
    assume(len(card) in GROUPINGS)
    doc = f"{before}{data.draw(written(card), label='written')}{after}"
    out, findings = redact_text(doc)
    assert out == doc
    assert [f.kind for f in findings] == ["test_card"], (doc, findings)


@settings(deadline=None, max_examples=300)
@given(real_numbers(), st.integers(1, 9), st.sampled_from(SEPARATORS + WRAPS))
def test_a_number_off_by_one_digit_is_not_a_card(number, delta, sep):
    wrong = number[:-1] + str((int(number[-1]) + delta) % 10)  # the check digit is off: Luhn fails
    groups = [wrong[k:k + 4] for k in range(0, len(wrong), 4)]
    readings = ["".join(groups[i:j]) for i in range(len(groups)) for j in range(i + 1, len(groups) + 1)]
    assume(not any(13 <= len(r) <= 19 and luhn_ok(r) for r in readings))  # no shorter reading is valid either
    doc = f"order {sep.join(groups)} shipped"
    assert scan_text(doc) == []


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=300))
def test_text_without_digits_is_never_flagged(text):
    assert scan_text(text) == [] or all(f.is_secret for f in scan_text(text))


@settings(deadline=None, max_examples=200)
@given(st.lists(st.floats(min_value=0, max_value=99999, allow_nan=False).map(lambda x: f"{x:.3f}"),
                min_size=4, max_size=12), st.sampled_from(["  ", "   ", " ", "\t"]))
def test_a_row_of_decimal_numbers_is_not_a_card(values, sep):
    assert scan_text(sep.join(values)) == []


@pytest.mark.parametrize("text", [
    "timestamps 1732600000000 1732600000123", "dates 2024-11-26 2025-01-02 2026-03-04",
    "ip 192.168.100.200 and 10.0.0.1", "version 3.12.4.1234.5678", "uuid 123e4567-e89b-12d3-a456-426614174000",
    "phone +1 (555) 123-4567", "isbn 978-3-16-148410-0", "pi_3Qx1234567890123456 ch_1234567890123456",
    "numpy [2 4 5 3 6 2 4 4 5 3 6 2 4 4 5 3 6 2 4 4]", "hash 4a3f5b2234c1d9e8f7a6b5c4d3e2f1a0",
])
def test_everyday_numbers_are_not_cards(text):
    assert scan_text(text) == []


@pytest.mark.parametrize("written_as", [
    "4539.1488.0343.6467", "4539&nbsp;1488&nbsp;0343&nbsp;6467", "4539/1488/0343/6467", "4539\t1488\t0343\t6467",
    "4539  1488  0343  6467", "4539 1488\n0343 6467", "4539 148803436467", "4539-1488 0343/6467",
    "4539\u20091488\u20090343\u20096467", "4539\u202f1488\u202f0343\u202f6467", "4539&#160;1488&#x2009;0343&#8239;6467",
    "4539\u20131488\u20140343\u20136467", 'card = ("4539 1488 "\n        "0343 6467")', "4539 1488 03\n43 6467",
])
def test_the_issues_examples_are_found_and_redacted(written_as):
    out, findings = redact_text(f"paid with {written_as} ok")
    assert [f.kind for f in findings] == ["card_number"]
    assert "1488" not in out and "0343" not in out and "[card …6467 REDACTED]" in out


# ------------------------------------------------------------------ notebooks: metadata, attachments; the export

def _grouped(number: str, sep: str) -> str:
    return sep.join(number[k:k + 4] for k in range(0, len(number), 4))


def _hide(nb, where: str, number: str) -> None:
    import base64

    cell = nb.cells[0]
    if where == "markdown with &nbsp;":
        cell.source += f"\n\nMy card: {_grouped(number, '&nbsp;')}"
    elif where == "cell metadata":
        cell.metadata["note"] = {"card": _grouped(number, ".")}
    elif where == "attachment (base64 text)":
        text = f"receipt\ncard {_grouped(number, chr(0x2009))}\n"
        cell.attachments = {"receipt.txt": {"text/plain": base64.b64encode(text.encode()).decode()}}
    elif where == "output wrapped over two lines":
        nb.cells[1].outputs[0].text += f"card {number[:10]}\n{number[10:]}\n"
    elif where == "notebook metadata":
        nb.metadata["student"] = {"paid_with": _grouped(number, "/")}


HIDING_PLACES = ["markdown with &nbsp;", "cell metadata", "attachment (base64 text)",
                 "output wrapped over two lines", "notebook metadata"]


@pytest.mark.parametrize("where", HIDING_PLACES)
def test_scan_notebook_finds_a_number_wherever_it_hides(where):
    number = not_a_test_card(21)
    nb = _notebook(fake_key("sk_test_"))
    _hide(nb, where, number)
    report = scan_notebook(nb, "nb.ipynb")
    assert [f.redacted for f in report.real_cards] == [f"[card …{number[-4:]} REDACTED]"], where
    clean, redacted_report = redact_notebook(nb, "nb.ipynb")
    assert len(redacted_report.real_cards) == 1
    assert scan_notebook(clean, "nb.ipynb").real_cards == []  # redaction reached it too (attachments re-encoded)
    nbformat.validate(clean)


def test_binary_attachments_are_listed_as_not_scanned():
    import base64

    nb = _notebook(fake_key("sk_test_"))
    nb.cells[0].attachments = {"shot.png": {"image/png": base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\xff").decode()}}
    assert scan_notebook(nb, "nb.ipynb").not_scanned == ["2 images in nb.ipynb"]


def _lab_with_hidden_number(tmp_path, where: str, number: str):
    from tests.helpers import write_lab

    paths, settings, root = write_lab(tmp_path)
    nb = nbformat.read(paths[1], as_version=4)
    _hide(nb, where, number)
    nbformat.write(nb, paths[1])
    return paths, settings, root


@pytest.mark.parametrize("where", HIDING_PLACES)
def test_the_export_refuses_a_hidden_number_and_writes_nothing(tmp_path, where):
    from labkit.export import ExportError, export_submission

    number = not_a_test_card(33)
    paths, settings, root = _lab_with_hidden_number(tmp_path, where, number)
    dest = tmp_path / "submission"
    with pytest.raises(ExportError) as err:
        export_submission(paths, dest, settings, chromium="/nonexistent/never-run")
    assert f"…{number[-4:]}" in str(err.value) and "02_part.ipynb" in str(err.value)
    assert number[:-4] not in str(err.value).replace(" ", "")
    assert not dest.exists()


def test_labkit_export_exits_non_zero_on_a_hidden_number(tmp_path, monkeypatch, capsys):
    from labkit.cli import main

    number = not_a_test_card(34)
    from tests.helpers import use_lab_for_the_cli

    paths, settings, root = _lab_with_hidden_number(tmp_path, "cell metadata", number)
    use_lab_for_the_cli(monkeypatch, settings, root)
    code = main(["export", "--notebooks", str(paths[0].parent), "--out", str(tmp_path / "sub"), "--student", "A"])
    out = capsys.readouterr()
    assert code == 1
    assert "Export stopped" in out.err and f"…{number[-4:]}" in out.err and number not in out.out + out.err
    assert not (tmp_path / "sub").exists()


@pytest.mark.browser
def test_the_pdf_text_check_finds_a_number_only_the_printed_page_shows(tmp_path, chromium):
    """Digits in separate HTML elements are no number in the notebook's text, but the printed
    page shows one: the check of the PDF's own text stops the export."""
    from labkit.export import PDF_NAME, ExportError, export_submission
    from tests.helpers import write_lab

    number = not_a_test_card(35)
    paths, settings, root = write_lab(tmp_path)
    nb = nbformat.read(paths[0], as_version=4)
    cells = "".join(f"<span class='g'>{number[k:k + 4]}</span>\n" for k in range(0, 16, 4))
    nb.cells[1].outputs.append(nbformat.v4.new_output("display_data", data={
        "text/html": f"<p>card {cells}</p>", "text/plain": "<card>"}))
    nbformat.write(nb, paths[0])
    assert scan_notebook(nb).real_cards == []  # the notebook's text alone shows no number
    dest = tmp_path / "submission"
    with pytest.raises(ExportError) as err:
        export_submission(paths, dest, settings, chromium=chromium, include_deliverables=False)
    assert f"…{number[-4:]}" in str(err.value) and f"{PDF_NAME}, page" in str(err.value)
    assert not dest.exists()
