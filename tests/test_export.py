"""The submission export, end to end with headless Chromium and pypdf.

Small executed notebooks are built here with nbformat, each ending with a run proof made on
this "machine" (a temporary out/): titles, narration and kit code (folded away by default),
the lab scenarios' captions and screenshots, a widget, a pandas Series and a figure repr, a
wide table, a long code line, a public test card, and a secret key built at run time.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from labkit import runproof
from labkit.chromium import ChromiumNotFound, chromium_args, find_chromium, launch_args
from labkit.export import PDF_NAME, ExportError, export_submission, notebook_title
from labkit.settings import load_settings
from tests.helpers import (ESSAY, FRONT, KIT_CODE, NARRATION, PCI_NOTE, ROOT, TITLES, bookmarks,
                           make_notebook, message, pages_text, planted_key, real_looking_card, scenarios,
                           use_lab_for_the_cli, write_lab)


@pytest.mark.browser
def test_the_first_page_is_the_graders_table_with_right_page_numbers(exported):
    result, _ = exported
    texts = pages_text(result.pdf)
    first = texts[0]
    for text in ("ITEC-442", "grader's page", "Ada Lovelace", "November 26, 2025", "labkit 0.", "Rubric",
                 "Check Status Evidence the kit saw Points", "3 of 3 notebooks ran here"):
        assert text in first, text
    assert "Part A" in first and "the checks did not run" in first  # these made-up notebooks saved no checks
    marks = bookmarks(result.pdf)
    assert [t for t, _ in marks] == FRONT + TITLES
    grader_pages = marks[1][1]
    listed = [int(n) for n in __import__("re").findall(r"p\. (\d+)", " ".join(texts[:grader_pages]))]
    assert listed == [page + 1 for _t, page in marks[1:]]
    for title, page in marks[3:]:
        assert title in texts[page]


@pytest.mark.browser
def test_the_students_code_and_answers_come_before_the_evidence(exported):
    result, _ = exported
    texts = pages_text(result.pdf)
    marks = dict(bookmarks(result.pdf))
    mine = " ".join(texts[marks["Your code and answers"]:marks["Evidence"]])
    assert "checkout_server.py" in mine and "KEY = os.environ['STRIPE_SECRET_KEY']" in mine
    assert PCI_NOTE in mine and "8.2.1" in mine and "Yes" in mine and "N/A" in mine
    assert ESSAY in mine and "starter comment" not in mine
    assert "HTTP on localhost" in mine and "serve over HTTPS" in mine


@pytest.mark.browser
def test_narration_kit_code_and_object_reprs_are_not_printed(exported):
    result, _ = exported
    text = " ".join(pages_text(result.pdf))
    assert NARRATION not in text and KIT_CODE not in text and "More narration" not in text
    assert "1. The numbers" in text  # headings stay, as the outputs' signposts
    for repr_ in ("VBox(", "dtype: int64", "<Figure size", "IPython.core.display", "Name: deliveries"):
        assert repr_ not in text, repr_
    assert "processed 11" in text and "deliveries" in text  # the Series, as a table


def font_sizes(pdf: Path) -> list[tuple[int, float, str]]:
    def mult(a, b):
        return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
                a[2] * b[1] + a[3] * b[3]]

    found = []
    for i, page in enumerate(PdfReader(pdf).pages):
        def visit(text, cm, tm, _font, size, i=i):
            if text.strip():
                m = mult(tm, cm)
                found.append((i, size * math.hypot(m[2], m[3]), text.strip()[:30]))
        page.extract_text(visitor_text=visit)
    return found


@pytest.mark.browser
def test_no_text_prints_below_8_points_even_in_wide_tables(exported):
    result, _ = exported
    sizes = font_sizes(result.pdf)
    assert len(sizes) > 200
    small = [s for s in sizes if s[1] < 7.99]
    assert small == []
    text = " ".join(pages_text(result.pdf))
    assert all(f"v{r}c{k}" in text for r in range(4) for k in range(14))  # wrapped, none cut off


@pytest.mark.browser
def test_every_screenshot_caption_is_on_the_page_of_its_image(exported):
    result, _ = exported
    reader = PdfReader(result.pdf)
    texts = pages_text(result.pdf)
    for s in scenarios():
        caption = f"{s['title']}: {message(s['key'])}"
        pages = [i for i, t in enumerate(texts) if caption in t]
        assert pages, caption
        for i in pages:
            assert len(reader.pages[i].images) >= 1, (caption, i)
    images = sum(len(p.images) for p in reader.pages)
    assert images >= len(scenarios()) + 1


@pytest.mark.browser
def test_pdf_shows_the_scenarios_and_no_secret(exported):
    result, _ = exported
    text = "\n".join(p.extract_text() for p in PdfReader(result.pdf).pages)
    for title in TITLES + [s["title"] for s in scenarios()]:
        assert title in text
    assert planted_key() not in text.replace("\n", "")
    assert "sk_test_…[REDACTED]" in text
    assert "4242" in text  # the test card stays
    assert "amounts = [0, 100" in text and "11900]" in text.replace("\n", "")  # wrapped, not cut


@pytest.mark.browser
def test_deliverables_and_leak_report_are_written_without_secrets(exported):
    result, tmp = exported
    dest = tmp / "submission"
    names = {p.relative_to(dest).as_posix() for p in result.files}
    assert {PDF_NAME, "checkout_server.py", "pci_assessment.md", "leak_report.md", "charts/payments.png",
            "screenshots/success.png", "screenshots/3ds_fail.png", "answers/pci.json", "answers/part_e.md"} <= names
    assert any("webhook_handler.py" in w for w in result.warnings)
    for path in dest.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert planted_key().encode() not in data and planted_key("whsec_", 32).encode() not in data, path
    assert "whsec_…[REDACTED]" in (dest / "pci_assessment.md").read_text()
    report = (dest / "leak_report.md").read_text()
    assert "secret key `sk_test_…[REDACTED]` in 01_part.ipynb, cell 2, output 1" in report
    assert "webhook signing secret `whsec_…[REDACTED]` in pci_assessment.md" in report
    assert "Stripe test card …4242" in report
    assert "webhook_handler.py" in report  # the warning for the missing deliverable


# ------------------------------------------------------------------ the run proof

def test_notebooks_without_a_run_proof_are_refused_and_nothing_is_written(tmp_path):
    paths, settings, root = write_lab(tmp_path, stamp=False)
    dest = tmp_path / "submission"
    with pytest.raises(ExportError) as err:
        export_submission(paths, dest, settings, chromium="/nonexistent/never-run")
    msg = str(err.value)
    for p in paths:
        assert p.name in msg
    assert "Restart Kernel and Run All Cells" in msg and "Nothing was written" in msg
    assert not dest.exists()


def test_a_student_file_changed_after_the_run_is_refused(tmp_path):
    paths, settings, root = write_lab(tmp_path)
    server = root / "checkout_server.py"
    server.write_text(server.read_text() + "# a fix after the run\n")
    later = dt.datetime.now().timestamp() + 5
    os.utime(server, (later, later))
    dest = tmp_path / "submission"
    with pytest.raises(ExportError) as err:
        export_submission(paths, dest, settings, chromium="/nonexistent/never-run")
    msg = str(err.value)
    assert "02_part.ipynb: checkout_server.py changed after it ran" in msg
    assert "01_part.ipynb" not in msg  # part A does not read the student's files
    assert not dest.exists()


def test_a_fresh_clones_notebooks_are_refused_with_what_to_run(tmp_path):
    """The repository's own notebooks, as a fresh clone has them: no secret in out/ yet."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "LABKIT_"))}
    env.update(LABKIT_OUT=str(tmp_path / "out"), LABKIT_ANSWERS=str(tmp_path / "answers"))
    proc = subprocess.run([sys.executable, "-m", "labkit.cli", "export", "--student", "New Student",
                           "--out", str(tmp_path / "submission")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for nb in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        assert f"notebooks/{nb.name}" in proc.stderr
    assert "Restart Kernel and Run All Cells" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "submission").exists() and not (tmp_path / "out" / runproof.KEY_FILE).exists()


def test_a_real_card_number_stops_the_export_and_writes_nothing(tmp_path):
    number = real_looking_card()
    paths, settings, root = write_lab(tmp_path, extra_output=f"charged card {number}\n")
    dest = tmp_path / "submission"
    with pytest.raises(ExportError) as err:
        export_submission(paths, dest, settings, chromium="/nonexistent/never-run")
    assert f"…{number[-4:]}" in str(err.value) and number not in str(err.value)
    assert "02_part.ipynb, cell 5, output 1" in str(err.value)
    assert not dest.exists()


def test_notebook_title_is_the_first_heading():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("Intro\n\n## **Part D**: PCI ##")]
    assert notebook_title(nb, "fallback") == "Part D: PCI"
    assert notebook_title(nbformat.v4.new_notebook(), "fallback") == "fallback"


def test_no_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="No notebooks"):
        export_submission([], tmp_path / "s", load_settings(environ={}, env_file=None))


def test_series_text_becomes_a_table_and_reprs_go():
    from labkit.export.nbhtml import printable, series_table

    table = series_table("outcome\nprocessed    11\nrejected      5\nName: deliveries, dtype: int64")
    assert "<th>outcome</th><th>deliveries</th>" in table and "<td>11</td>" in table
    assert series_table("just text\nthat is not a series") is None
    nb = make_notebook("T", "k", "A", "proof")
    kept = printable(nb, full=True)
    plain = json.dumps(kept)
    assert "VBox(" not in plain and "<Figure size 640x480" not in plain and "dtype: int64" not in plain


@pytest.mark.browser
def test_full_prints_the_narration_and_code_with_the_command_line_route(tmp_path, chromium):
    paths, settings, root = write_lab(tmp_path)
    result = export_submission(paths[:2], tmp_path / "sub", settings, chromium=chromium,
                               use_playwright=False, include_deliverables=False, full=True)
    reader = PdfReader(result.pdf)
    assert [o.title for o in reader.outline] == ["Grader's page"] + TITLES[:2]
    text = "".join(p.extract_text() for p in reader.pages)
    assert NARRATION.split(":")[0] in text and "kit_code_marker" in text
    assert planted_key() not in text.replace("\n", "")
    assert {p.name for p in (tmp_path / "sub").iterdir()} == {PDF_NAME, "leak_report.md"}
    assert [s for s in font_sizes(result.pdf) if s[1] < 7.99] == []


@pytest.mark.browser
def test_playwrights_route_prints_with_the_kept_chromium_launched_while_the_pages_are_made(tmp_path, chromium):
    """labkit.export.pdf.launch_meanwhile: the export's Chromium is the kit's kept one (launched in the browser
    thread before the pages are made, not after), and printing leaves no browser context behind."""
    from labkit import browser_thread
    from labkit.browser import in_worker_thread
    from labkit.export.pdf import PdfPrinter, launch_meanwhile

    browser_thread.THREAD.close()  # a new process: nothing launched yet
    assert launch_meanwhile(chromium).result(120) == chromium
    kept = in_worker_thread(lambda: browser_thread.THREAD._browsers.get(chromium))
    assert kept is not None and in_worker_thread(kept.is_connected)  # launched before any printing
    (tmp_path / "p.html").write_text("<!DOCTYPE html><title>t</title><p>printed</p>", encoding="utf-8")
    with PdfPrinter(chromium, tmp_path) as printer:
        printer.print([(tmp_path / "p.html", tmp_path / "p.pdf")])
    assert printer.route == "Playwright page.pdf" and "printed" in PdfReader(tmp_path / "p.pdf").pages[0].extract_text()
    assert in_worker_thread(lambda: (browser_thread.THREAD._browsers.get(chromium), len(kept.contexts))) == (kept, 0)


@pytest.mark.browser
def test_labkit_export_command(tmp_path, monkeypatch, capsys, chromium):
    from labkit.cli import main

    paths, settings, root = write_lab(tmp_path)
    use_lab_for_the_cli(monkeypatch, settings, root, chromium=chromium)
    code = main(["export", "--notebooks", str(paths[0].parent), "--out", str(tmp_path / "sub"),
                 "--student", "Grace Hopper"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "export: done" in out.out and "leak report" in out.out and "run proofs: 3 of 3" in out.out
    assert planted_key() not in out.out + out.err and planted_key("whsec_", 32) not in out.out + out.err
    assert "Grace Hopper" in PdfReader(tmp_path / "sub" / PDF_NAME).pages[0].extract_text()


# ------------------------------------------------------------------ finding Chromium

def test_configured_chromium_path_wins():
    assert find_chromium({"LABKIT_CHROMIUM": sys.executable, "PATH": ""}) == sys.executable


def test_a_wrong_configured_path_explains_how_to_install(tmp_path):
    with pytest.raises(ChromiumNotFound) as err:
        find_chromium({"LABKIT_CHROMIUM": str(tmp_path / "nope"), "PATH": ""})
    assert "python -m playwright install chromium" in str(err.value)
    assert "apt-get install chromium" in str(err.value)


def test_flags_are_headless_and_quiet():
    args = chromium_args()
    assert args[0] == "--headless"
    for flag in ("--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"):
        assert flag in args
    assert ("--no-sandbox" in args) == (hasattr(os, "geteuid") and os.geteuid() == 0)
    assert "--headless" not in launch_args() and set(launch_args()) < set(args)


@pytest.mark.parametrize("text, dropped", [
    ("<Figure size 640x480 with 1 Axes>", True), ("[<matplotlib.lines.Line2D at 0x7f3a>]", True),
    ("Text(0.5, 1.0, 'Payments')", True), ("VBox(children=(HTML(value='<b>x</b>'),))", True),
    ("120", False), ("{'200 processed': 1}", False), ("<b>bold</b> and more", False),
])
def test_bare_object_reprs_are_dropped_and_values_kept(text, dropped):
    from labkit.export.nbhtml import printable

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", execution_count=1, outputs=[
        nbformat.v4.new_output("execute_result", execution_count=1, data={"text/plain": text})])]
    assert (printable(nb, full=True).cells[0].outputs == []) is dropped


def test_folded_notebooks_keep_the_start_of_long_tables_and_texts():
    from labkit.export.nbhtml import MAX_LINES, MAX_ROWS, printable

    rows = "".join(f"<tr><th>{i}</th><td>row {i}</td></tr>" for i in range(40))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T\n\nnarration"),
                nbformat.v4.new_code_cell("t", execution_count=1, outputs=[
                    nbformat.v4.new_output("display_data", data={"text/html": f"<table><tbody>{rows}</tbody></table>"}),
                    nbformat.v4.new_output("stream", name="stdout", text="".join(f"line {i}\n" for i in range(100)))]),
                nbformat.v4.new_markdown_cell("## Nothing printed under this heading"),
                nbformat.v4.new_markdown_cell("## Next")]
    folded = printable(nb)
    table, text = folded.cells[1].outputs
    assert f"row {MAX_ROWS - 1}<" in table.data["text/html"] and f"row {MAX_ROWS}<" not in table.data["text/html"]
    assert f"and {40 - MAX_ROWS} more rows" in table.data["text/html"]
    assert f"line {MAX_LINES - 1}\n" in text.text and f"line {MAX_LINES}\n" not in text.text
    assert f"and {100 - MAX_LINES} more lines" in text.text
    assert [c.source for c in folded.cells if c.cell_type == "markdown"] == ["# T"]
    full = printable(nb, full=True)
    assert "row 39" in full.cells[1].outputs[0].data["text/html"] and len(full.cells) == 4


def test_pci_assessment_fills_in_only_what_the_answer_files_do_not_hold():
    from labkit.export.pages import _assessment_html

    md = ("# PCI\n\n## SAQ A Requirements Checklist\n\nResponses: Yes.\n\n| Req | Compliant |\n|---|---|\n"
          "| 8.2.1 | **Yes** |\n\nLong explanations.\n\n## Our Implementation\n\n**Gaps identified:**\n\n- gap one\n\n"
          "**Remediation plan:**\n\n- fix one\n<!-- labkit:part-d:end -->\n<!-- labkit:part-e:start -->\n"
          "## Part E\n\nThe kit's essay.\n<!-- labkit:part-e:end -->\n")
    none = _assessment_html({"pci_assessment.md": md})
    assert "<td>8.2.1</td>" in none and "gap one" in none and "fix one" in none and "The kit's essay" in none
    assert "Long explanations" not in none
    both = _assessment_html({"pci_assessment.md": md, "answers/pci.json": "{}",
                             "answers/part_e.md": "<!-- starter -->\nMy essay."})
    assert both == ""
    only_pci = _assessment_html({"pci_assessment.md": md, "answers/pci.json": "{}",
                                 "answers/part_e.md": "<!-- only the starter's comment -->"})
    assert "8.2.1" not in only_pci and "The kit's essay" in only_pci


def test_cells_tagged_labkit_fold_print_only_in_full():
    from labkit.export.nbhtml import FOLD_TAG, printable

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"),
                nbformat.v4.new_code_cell("sources_table()", execution_count=1, metadata={"tags": [FOLD_TAG]},
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="kit data\n")]),
                nbformat.v4.new_code_cell("mine()", execution_count=2,
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="result\n")])]
    assert [c.source for c in printable(nb).cells] == ["# T", "mine()"]
    assert len(printable(nb, full=True).cells) == 3


def test_the_students_markdown_is_shown_not_run_and_fetches_nothing():
    from labkit.export.pages import markdown_html

    out = markdown_html("![chart](http://example.com/x.png)\n\n<img src='file:///etc/passwd'> <script>alert(1)</script>")
    assert "<img" not in out and "<script" not in out and "[image: chart]" in out
    assert "&lt;script&gt;" in out


def test_rubric_rows_come_from_the_saved_checks_with_points(tmp_path):
    from labkit.checks.items import item
    from labkit.checks.notebook import saved_checks_path
    from labkit.checks.report import write_json
    from labkit.export.grader_page import rubric_items, rubric_table
    from labkit.settings import Settings

    settings = Settings(out_dir=tmp_path)
    write_json([item("setup:keys", "evidenced", "seen"), item("setup:account", "partial", "half")],
               saved_checks_path(settings, "A"))
    rows = rubric_items(settings)
    assert [r["check"] for r in rows[:2]] == ["setup:keys", "setup:account"]
    assert rows[0]["points"] == 5 and rows[1]["points"] == 2.5
    assert [r["evidence"] for r in rows if r["part"] == "B"] == [
        "the checks did not run: run notebooks/02_checkout.ipynb to its last cell"]
    table = rubric_table(rows[:2], {"A": ("Setup", 10)})
    assert "<td>7.5 / 10</td>" in table and "<td>5</td>" in table and "<td>2.5</td>" in table

def test_the_handed_in_assessment_holds_the_students_own_part_e(tmp_path):
    from labkit import answers
    from labkit.export.deliverables import assessment_with_part_e
    from labkit.settings import Settings

    settings = Settings(answers_dir=tmp_path)
    old = "<!-- labkit:part-d:start -->\nD\n<!-- labkit:part-d:end -->\n\n<!-- labkit:part-e:start -->\nmodel\n<!-- labkit:part-e:end -->\n"
    assert assessment_with_part_e(old, settings) == old  # nothing written yet: the file as it is
    answers.save_part_e(answers.PART_E_STARTER + "\nMy own analysis.\n", settings)
    new = assessment_with_part_e(old, settings)
    assert "My own analysis." in new and "model" not in new and new.startswith("<!-- labkit:part-d:start -->\nD")
