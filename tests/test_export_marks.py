"""The PDF as a grader or a student reads it (issue 31): the demo's PDF is marked as the model solution on
every page and has its own name; the grader's page shows the grand total; table cells never split words."""
from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from labkit.export import PDF_NAME, export_submission
from labkit.export.common import MODEL_BANNER, MODEL_PDF_NAME

from tests.helpers import pages_text, write_lab

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def model_export(tmp_path_factory, chromium):
    tmp = tmp_path_factory.mktemp("model")
    paths, settings, root = write_lab(tmp)
    return export_submission(paths, tmp / "demo" / "submission", settings, chromium=chromium,
                             date="November 26, 2025", model_solution=True), tmp


def test_the_demo_pdf_says_model_solution_on_every_page_and_has_its_own_name(model_export):
    result, tmp = model_export
    assert result.pdf.name == MODEL_PDF_NAME != PDF_NAME
    assert not (result.dest / PDF_NAME).exists()
    texts = pages_text(result.pdf)
    assert len(texts) >= 3
    banner = " ".join(MODEL_BANNER.split())
    assert all(banner in text for text in texts), [i for i, t in enumerate(texts) if banner not in t]
    assert "model solution" in PdfReader(result.pdf).metadata.title.lower()


def test_a_students_pdf_has_no_model_solution_banner(exported):
    result, _tmp = exported
    assert result.pdf.name == PDF_NAME
    assert not any("MODEL SOLUTION" in text for text in pages_text(result.pdf))


def test_the_graders_page_shows_the_grand_total(exported):
    result, _tmp = exported
    first = pages_text(result.pdf)[0]
    total = re.search(r"Total \(the kit's points[^)]*\) (\d+) / (\d+)", first)
    assert total, first[-600:]
    assert total.group(2) == "100"  # the handout's total


def test_table_cells_never_split_a_word(exported):
    """The made-up notebook's 14-column table is wider than the page: its cells wrap between words (and
    inside ids at _ / .), never inside a word ("succeede d")."""
    result, _tmp = exported
    text = " ".join(pages_text(result.pdf))
    for r in range(4):
        for k in range(14):
            assert f"v{r}c{k} with words" in text, (r, k)
    words = set(re.findall(r"[A-Za-z]{3,}", text))
    for broken in ("wit", "wor", "ds", "ith", "ords"):
        assert broken not in words, broken


RUNS_COLUMNS = ["scenario", "card", "challenge", "outcome", "message", "payment_intent", "status", "decline_code",
                "error_code", "three_d_secure", "screenshot"]
RUNS_ROWS = [
    ["insufficient_funds", "4000000000009995", "none", "declined", "Your card has insufficient funds. Please try "
     "another card or contact your bank.", "pi_3NxyzABCDEFGHIJKLMNOPS", "requires_payment_method",
     "insufficient_funds", "card_declined", "not requested", "out/screenshots/insufficient_funds.png"],
    ["success", "4242424242424242", "none", "succeeded", "✓ Payment succeeded! ID: pi_3NxyzABCDEFGHIJKLMNOPQ",
     "pi_3NxyzABCDEFGHIJKLMNOPQ", "succeeded", "—", "—", "not requested", "out/screenshots/success.png"],
    ["3ds_complete", "4000002500003155", "complete", "succeeded", "✓ Payment succeeded! ID: pi_3NxyzABCDEFGHIJKLMNOPR",
     "pi_3NxyzABCDEFGHIJKLMNOPR", "succeeded", "—", "—", "authenticated", "out/screenshots/3ds_complete.png"],
]


def test_the_browser_runs_table_wraps_between_words_not_inside_them(chromium, tmp_path):
    """Notebook 02's table of the browser runs (eleven columns, ids, paths) is wider than the page: it must
    wrap at spaces, after _ / . and inside ids, and keep every word whole ("succeede d" was printed)."""
    from labkit.export.pdf import PdfPrinter
    from labkit.export.style import PRINT_CSS, with_style

    head = "".join(f"<th>{c}</th>" for c in RUNS_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in RUNS_ROWS)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body class='jp-Notebook'>"
            f"<table class='dataframe'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")
    (tmp_path / "runs.html").write_text(with_style(page, PRINT_CSS), encoding="utf-8")
    with PdfPrinter(chromium, tmp_path) as printer:
        printer.print([(tmp_path / "runs.html", tmp_path / "runs.pdf")])
    reader = PdfReader(tmp_path / "runs.pdf")
    text = "\n".join(p.extract_text() for p in reader.pages)
    printed = set(re.findall(r"[A-Za-z]+", text))
    words = {w for cell in RUNS_COLUMNS + [v for row in RUNS_ROWS for v in row] for w in re.findall(r"[A-Za-z]+", cell)
             if not re.search(r"\d", cell.split("_")[-1])}  # ids (pi_3Nxyz…) may break anywhere
    assert words - printed == set(), sorted(words - printed)
    assert "4242424242424242" in text  # a card number is a number: kept whole
    assert "screenshot" in printed and "3ds_complete.png".split(".")[0].split("_")[1] in printed  # nothing cut off


def test_the_check_cells_blank_placeholder_does_not_print_but_its_notice_does():
    import nbformat

    from labkit.checks.notebook import stale_line
    from labkit.export.nbhtml import _clean_output

    blank = nbformat.v4.new_output("display_data", data={"text/plain": ""})
    notice = nbformat.v4.new_output("display_data", data={"text/plain": stale_line("pci.json")})
    assert _clean_output(blank) is None
    assert _clean_output(notice) is notice
