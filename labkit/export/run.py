"""``export_submission``: check, redact, print, merge, scan, and only then write.

Order of the PDF: the grader's page (rubric table, contents), the student's code and answers,
the evidence (screenshots with their captions, charts, pci_assessment.md), then the notebooks one
after the other (outputs only unless ``full``). Each part starts on a new page, the notebooks do not;
one bookmark per part and per notebook. Nothing is written to ``dest`` unless
every notebook proves its run (:mod:`labkit.runproof`) and no leak stops the export.
"""
from __future__ import annotations

import datetime as dt
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from labkit import __version__
from labkit.chromium import find_chromium
from labkit.export import deliverables
from labkit.export.common import (
    LAB_TITLE,
    MODEL_BANNER,
    MODEL_PDF_NAME,
    PDF_NAME,
    REPORT_NAME,
    ExportError,
    ExportResult,
    Section,
)
from labkit.export.grader_page import grader_page_html, rubric_items
from labkit.export.nbhtml import html_exporter, notebook_title, notebooks_html
from labkit.export.pages import evidence_html, student_html
from labkit.export.pdf import (
    PdfPrinter,
    banner_html,
    launch_meanwhile,
    merge,
    page_count,
    scan_pdf,
    start_pages,
)
from labkit.files import write_bytes, write_text
from labkit.leaks import LeakReport
from labkit.leaks_notebook import redact_notebook
from labkit.runproof import verify
from labkit.settings import Settings, shown_path

GRADER_TITLE = "Grader's page"


@dataclass
class _Job:
    settings: Settings
    student: str
    date: str
    full: bool
    say: Callable[[str], None]
    report: LeakReport = field(default_factory=LeakReport)
    warnings: list[str] = field(default_factory=list)
    proof_note: str = "not checked"
    model_solution: bool = False  # the demo: its own file name and a banner on every page

    @property
    def pdf_name(self) -> str:
        return MODEL_PDF_NAME if self.model_solution else PDF_NAME


def check_run_proofs(notebooks: Sequence[tuple[Path, object]], settings: Settings) -> str:
    """Raise :class:`ExportError` naming every notebook without a valid run proof; else a summary."""
    bad, times = [], []
    for path, nb in notebooks:
        proof = verify(nb, settings)
        if proof.ok:
            times.append(proof.when)
        else:
            bad.append(f"  - {shown_path(path)}: {proof.problem}")
    if bad:
        raise ExportError(
            "Export refused: these notebooks do not show a run of the kit on this machine after the last "
            "change of your files:\n" + "\n".join(bad) + "\nOpen each one in JupyterLab, run Kernel → Restart "
            "Kernel and Run All Cells, save it, then run labkit export again. Nothing was written.")
    if not times:
        return "none"
    last = max(times).replace("T", " ").replace("Z", " UTC")
    return f"{len(times)} of {len(times)} notebooks ran here; last run {last}"


def _read_notebooks(paths: Sequence[Path]) -> list[tuple[Path, object]]:
    from labkit.nbformat_import import nbformat

    if not paths:
        raise ExportError("No notebooks to export: run the lab notebooks first (they must be saved executed).")
    missing = [str(n) for n in paths if not n.is_file()]
    if missing:
        raise ExportError(f"Notebook not found: {', '.join(missing)}")
    read = []
    for path in paths:
        try:
            read.append((path, nbformat.read(path, as_version=4)))
        except Exception as exc:
            raise ExportError(f"Cannot read {path.name} as a notebook: {exc}") from exc
    return read


def _redact_notebooks(job: _Job, notebooks: Sequence[tuple[Path, object]]) -> list[tuple[Path, object, str]]:
    prepared = []
    for path, nb in notebooks:
        clean, found = redact_notebook(nb, path.name)
        job.report.extend(found)
        prepared.append((path, clean, notebook_title(nb, path.stem)))
    job.say(f"leak scan of notebooks: {len(job.report.redacted)} redacted, "
            f"{len(job.report.test_cards)} test-card mentions kept")
    deliverables.refuse_real_cards(job.report)
    return prepared


def _front_sections(job: _Job, files: Sequence[tuple[str, bytes]]) -> list[Section]:
    texts = {}
    for name, data in files:
        try:
            texts[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return [Section("Your code and answers", student_html(texts)),
            Section("Evidence", evidence_html(job.settings, texts))]


def _print_sections(job: _Job, printer: PdfPrinter, sections: list[Section], work: Path) -> list[Path]:
    jobs = []
    for i, section in enumerate(sections):
        html_path = work / f"s{i:02d}.html"
        write_text(html_path, section.html)
        jobs.append((html_path, work / f"s{i:02d}.pdf"))
    printer.print(jobs)
    for section, (_h, pdf) in zip(sections, jobs):
        section.pages = page_count(pdf)
        if len(section.titles) > 1:
            section.starts = start_pages(pdf, section.titles)
    return [pdf for _h, pdf in jobs]


def _print_grader_page(job: _Job, printer: PdfPrinter, sections: list[Section], work: Path,
                       file_names: list[str]) -> Path:
    """The grader's page, reprinted until the contents' page numbers count its own pages right."""
    try:
        rows = rubric_items(job.settings)
    except Exception as exc:  # the PDF still prints; the grader sees why the table is empty
        rows = []
        job.warnings.append(f"rubric self-check failed ({type(exc).__name__}: {exc})")
    own, pdf = 1, work / "grader.pdf"
    for _ in range(4):
        entries, page = [], own + 1
        for s in sections:
            entries += s.marks(page)
            page += s.pages
        html_path = work / "grader.html"
        write_text(html_path, grader_page_html(job.settings, job.student, job.date, __version__, rows, entries,
                                               job.proof_note, file_names))
        printer.print([(html_path, pdf)])
        if page_count(pdf) == own:
            return pdf
        own = page_count(pdf)
    return pdf


def _write(dest: Path, merged: Path, files: Sequence[tuple[str, bytes]], job: _Job) -> tuple[list[Path], Path]:
    written = [write_bytes(dest / job.pdf_name, merged.read_bytes())]
    written += [write_bytes(dest / name, data) for name, data in files]
    body = job.report.to_markdown("Leak scan of the submission")
    if job.warnings:
        body += "\nWarnings:\n\n" + "\n".join(f"- {w}" for w in job.warnings) + "\n"
    report_path = write_text(dest / REPORT_NAME, body)
    return written + [report_path], report_path


def export_submission(
    notebooks: Sequence[Path],
    dest: Path,
    settings: Settings,
    student_name: str | None = None,
    extra_files: Sequence[Path] | None = None,
    *,
    chromium: str | None = None,
    date: str | None = None,
    include_deliverables: bool = True,
    use_playwright: bool = True,
    full: bool = False,
    verify_runs: bool = True,
    progress: Callable[[str], None] | None = None,
    model_solution: bool = False,
) -> ExportResult:
    """Make the submission folder ``dest``: the PDF, the deliverables, ``leak_report.md``.

    Raises :class:`ExportError` and writes nothing when a notebook has no valid run proof
    (``verify_runs``), on a real card number, a secret left in the printed PDF, no notebooks,
    or a Chromium failure. ``progress`` gets one line per step. ``model_solution`` (``labkit demo``): the PDF
    is ``lab09_model_solution.pdf`` and every page says it is the model solution, not a submission.
    """
    started = time.perf_counter()
    student = (student_name or settings.student_name or "Student").strip() or "Student"
    job = _Job(settings, student, date or settings.submission_date or
               dt.date.today().strftime("%B %d, %Y").replace(" 0", " "), full, progress or (lambda _m: None),
               model_solution=model_solution)
    browser = launch_meanwhile(chromium) if use_playwright else _find_chromium_meanwhile(chromium)
    read = _read_notebooks([Path(n) for n in notebooks])
    job.say(f"read {len(read)} notebooks")
    if verify_runs:
        job.proof_note = check_run_proofs(read, settings)
        job.say(f"run proofs: {job.proof_note}")
    prepared = _redact_notebooks(job, read)
    files: list[tuple[str, bytes]] = []
    if include_deliverables:
        found, missing = deliverables.sources(settings, extra_files)
        job.warnings += missing
        files = deliverables.read_redacted(found, job.report, job.settings)
        job.say(f"deliverables: {len(files)} files found, {len(missing)} missing")
        deliverables.refuse_real_cards(job.report)
    written, report_path, count = _print_and_merge(job, prepared, files, browser, use_playwright, Path(dest))
    return ExportResult(pdf=Path(dest) / job.pdf_name, dest=Path(dest), files=written, report=job.report,
                        report_path=report_path, warnings=job.warnings, pages=count,
                        notebook_titles=[title for _p, _nb, title in prepared],
                        seconds=time.perf_counter() - started)


def _find_chromium_meanwhile(chromium: str | None) -> Future:
    """The Chromium to print with on the command line: ``chromium``, or :func:`find_chromium` in a thread of
    its own (asking Playwright's driver takes a third of a second), while the notebooks are read and made
    into pages. (Playwright's route: :func:`labkit.export.pdf.launch_meanwhile`.)"""
    if chromium:
        done: Future = Future()
        done.set_result(chromium)
        return done
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-find-chromium")
    try:
        return pool.submit(find_chromium)
    finally:
        pool.shutdown(wait=False)


def _print_and_merge(job: _Job, prepared, files, browser: Future, use_playwright, dest: Path
                     ) -> tuple[list[Path], Path, int]:
    """Print every part, merge with bookmarks, scan the PDF's text, then write ``dest``."""
    sections = _front_sections(job, files) if files else []
    # the notebooks one after the other, each with its bookmark (not each on a new page)
    sections.append(Section("Notebooks", notebooks_html([(nb, path.parent.resolve()) for path, nb, _t in prepared],
                                                        html_exporter(job.full), job.full),
                            titles=[title for _p, _nb, title in prepared]))
    chromium = browser.result()  # ChromiumNotFound, with its help, if there is none
    with tempfile.TemporaryDirectory(prefix="labkit-export-") as tmp:
        work = Path(tmp)
        with PdfPrinter(chromium, work, use_playwright=use_playwright) as printer:
            job.say(f"printing {len(sections) + 1} parts with headless Chromium ({printer.route})")
            pdfs = _print_sections(job, printer, sections, work)
            grader = _print_grader_page(job, printer, sections, work, [n for n, _ in files])
            overlay = None
            if job.model_solution:
                write_text(work / "banner.html", banner_html(MODEL_BANNER))
                overlay = work / "banner.pdf"
                printer.print([(work / "banner.html", overlay)])
        merged = work / job.pdf_name
        title = f"{LAB_TITLE}: {'model solution (not a submission)' if job.model_solution else job.student}"
        count = merge([(grader, [(GRADER_TITLE, 0)]), *((p, s.marks(0)) for s, p in zip(sections, pdfs))], merged,
                      {"/Title": title, "/Author": job.student,
                       "/Subject": job.settings.course, "/Creator": "labkit export"}, overlay=overlay)
        pdf_report = scan_pdf(merged, job.pdf_name)
        job.report.extend(pdf_report)
        job.say(f"leak scan of the PDF text ({count} pages): {len(pdf_report.redacted)} found")
        deliverables.refuse_real_cards(job.report)
        if pdf_report.secrets:
            raise ExportError("Export stopped: a secret is still visible in the printed PDF at "
                              + ", ".join(f.where for f in pdf_report.secrets) + ".")
        written, report_path = _write(dest, merged, files, job)
        job.say(f"wrote {dest / job.pdf_name} ({count} pages) and {len(written) - 1} more files in {dest}")
    return written, report_path, count
