"""The submission PDF's layout, kept short for the grader: compact code listings, the notebooks one
after the other (each found by its bookmark), the PCI answers with their requirements, nothing
printed twice. The made-up lab comes from :mod:`tests.test_export` (exported once: conftest's ``exported``)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from tests.helpers import FRONT, TITLES, bookmarks, pages_text

ROOT = Path(__file__).resolve().parents[1]


def test_blank_line_runs_print_as_a_gap_and_the_lines_keep_their_numbers():
    from labkit.export.pages import code_block

    out = code_block("app.py", "import os\n\n\n\ndef f():\n    return 1\n\n")
    assert out.count("class='l'") == 2 and out.count("class='l gap'") == 1  # the gap is before def
    assert ">1</span>  import os" in out and ">5</span>  def f():" in out and ">6</span>      return 1" in out
    assert "(empty file)" in code_block("empty.py", "\n\n")


def test_the_pci_answers_show_each_requirement_with_the_students_note():
    from labkit.export.pages import pci_answers_html
    from labkit.pci.requirements import load_saq

    saq = load_saq()
    criterion, requirement = saq.eligibility[0], saq.requirements[0]
    raw = json.dumps({"requirements": {
        f"eligibility:{criterion.id}": {"status": "yes", "note": "only Stripe sees cards"},
        requirement.number: {"status": "no", "note": "not done yet"}}})
    out = pci_answers_html(raw)
    assert criterion.plain.rstrip(".") in out and requirement.title.rstrip(".") in out
    assert "only Stripe sees cards" in out and "not done yet" in out


def _image_hashes(nb) -> list[str]:
    return [hashlib.sha256("".join(o["data"]["image/png"]).encode()).hexdigest()
            for c in nb.cells for o in c.get("outputs", []) if "image/png" in (o.get("data") or {})]


def test_the_kit_notebooks_folded_print_each_image_once():
    """A chart drawn twice (a static fallback of the same figure) is folded away; --full keeps both."""
    from labkit.export.nbhtml import printable

    notebooks = [nbformat.read(p, as_version=4) for p in sorted((ROOT / "notebooks").glob("0*.ipynb"))]
    folded = [h for nb in notebooks for h in _image_hashes(printable(nb))]
    assert len(folded) == len(set(folded))


@pytest.mark.browser
def test_the_notebooks_follow_one_another_and_each_bookmark_finds_its_title(exported):
    result, _ = exported
    texts = pages_text(result.pdf)
    marks = bookmarks(result.pdf)
    assert [t for t, _ in marks] == FRONT + TITLES
    starts = [page for _t, page in marks[len(FRONT):]]
    assert starts == sorted(starts)
    for title, page in marks[len(FRONT):]:
        assert title in texts[page]
    # not each on a new page: a notebook starts below the end of the one before
    assert any(texts[page].index(title) > 0 for title, page in marks[len(FRONT) + 1:])


@pytest.mark.browser
def test_each_screenshot_prints_once_with_its_caption(exported):
    """The notebooks show the browser runs too: folded, they print once, in the evidence pages."""
    from tests.helpers import message, scenarios

    result, _ = exported
    texts = pages_text(result.pdf)
    reader = PdfReader(result.pdf)
    for s in scenarios():
        caption = f"{s['title']}: {message(s['key'])}"
        found = [i for i, t in enumerate(texts) for _ in range(t.count(caption))]
        assert len(found) == 1, (caption, found)
        assert reader.pages[found[0]].images, caption


@pytest.mark.browser
def test_a_table_too_wide_for_the_page_keeps_its_numbers_whole(tmp_path, chromium):
    """Ids may break (after "_" first), numbers never do: 15055.5750 prints on one line, not as 15055. / 5750."""
    from labkit.export.pdf import PdfPrinter
    from labkit.export.style import PRINT_CSS, with_style

    numbers = ["15055.5750", "28881.150", "-8.93", "1230.00", "0.081053", "$1,800", "4.5%"]
    head = "".join(f"<th>column_name_{k}</th>" for k in range(16))
    rows = "".join("<tr>" + f"<td>pi_VpDuArUcfxJVulajMePccT6w_{r}</td><td>Stablecoin (USDC) on Stripe</td>"
                   + "".join(f"<td>{numbers[(r + k) % len(numbers)]}</td>" for k in range(14)) + "</tr>"
                   for r in range(6))
    page = with_style(f"<html><head></head><body><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody>"
                      "</table></body></html>", PRINT_CSS)
    (tmp_path / "t.html").write_text(page, encoding="utf-8")
    with PdfPrinter(chromium, tmp_path) as printer:
        printer.print([(tmp_path / "t.html", tmp_path / "t.pdf")])
    lines = [line.strip() for p in PdfReader(tmp_path / "t.pdf").pages for line in p.extract_text().splitlines()]
    words = {w for line in lines for w in line.split()}
    assert set(numbers) <= words, sorted(set(numbers) - words)
    assert "15055." not in words and "5750" not in words
