"""The submission: one PDF of the executed notebooks, the handout's deliverables, a leak report.

The route needs no LaTeX: each notebook goes to HTML (nbconvert, images embedded, scripts
removed, print CSS added), headless Chromium prints each HTML to PDF, and pypdf merges the
PDFs behind a title page with one bookmark per notebook.

Nothing is written to the destination before everything has been scanned for leaks
(:mod:`labkit.leaks`): secrets are redacted and listed in ``leak_report.md``; a card number
that is not one of Stripe's public test cards stops the export with :class:`ExportError`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from labkit.files import FileBusyError, write_bytes, write_text
from labkit.leaks import LeakReport, redact_notebook, redact_text, scan_text
from labkit.settings import Settings, load_settings, project_root

LAB_TITLE = "Lab 09: Payment Integration with Stripe"
PDF_NAME = "lab09_submission.pdf"
REPORT_NAME = "leak_report.md"
CHROMIUM_TIMEOUT_S = 120

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

PRINT_CSS = """
@page { size: Letter; margin: 0.55in 0.5in 0.6in 0.5in; }
html, body { background: #fff !important; }
body { -webkit-print-color-adjust: exact; print-color-adjust: exact; font-size: 11px; }
body.jp-Notebook { padding: 0 !important; width: 7.5in; margin: 0 !important; }
.jp-Notebook { overflow: visible !important; }
/* long code and output lines wrap instead of running off the page */
pre, code, .jp-OutputArea-output pre, .highlight pre, .jp-RenderedText pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere !important; word-break: break-word;
  overflow: visible !important;
}
.jp-CodeMirrorEditor, .jp-InputArea-editor, .highlight { overflow: visible !important; }
/* keep code, Markdown cells, figures and table rows whole; a code cell's input stays with
   the start of its output, headings with what follows; long outputs may flow over pages
   (keeping them whole left half-empty pages before every big table) */
.jp-Cell-inputWrapper, .jp-MarkdownCell, .jp-RenderedImage, .jp-RenderedSVG, figure, tr, img, svg {
  break-inside: avoid;
}
.jp-CodeCell .jp-Cell-inputWrapper { break-after: avoid; }
h1, h2, h3, h4 { break-after: avoid; }
img, svg { max-width: 100% !important; height: auto !important; }
/* wide DataFrames: smaller, tighter, headers may wrap (at underscores too) */
.jp-RenderedHTMLCommon table { font-size: 9.5px; max-width: 100%; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 0.3em 0.4em !important; }
.jp-RenderedHTMLCommon th { overflow-wrap: break-word; }
.jp-OutputArea-output { overflow: visible !important; }
:root { --jp-cell-prompt-width: 52px; }
.jp-InputPrompt, .jp-OutputPrompt { font-size: 9px; }
"""

# The body is as wide as the printed page (Letter less margins), so a table measured on
# screen overflows in print exactly when it overflows here: such tables are scaled to fit.
FIT_TABLES_JS = """<script>
document.querySelectorAll("table").forEach(function (t) {
  var room = t.parentElement.getBoundingClientRect().width, need = t.scrollWidth;
  if (room > 0 && need > room) { t.style.zoom = (room / need).toFixed(3); }
});
</script>"""

TITLE_CSS = """
@page { size: Letter; margin: 1in; }
body { font-family: "DejaVu Sans", "Helvetica", "Arial", sans-serif; color: #1b1f24; }
.course { font-size: 15px; color: #555; margin-top: 1.2in; letter-spacing: .04em; text-transform: uppercase; }
h1 { font-size: 30px; margin: .2in 0 .35in 0; color: #0f3460; }
dl { display: grid; grid-template-columns: 1.4in auto; row-gap: 8px; font-size: 15px; }
dt { color: #555; } dd { margin: 0; font-weight: 600; }
h2 { font-size: 16px; margin-top: .5in; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
ol { font-size: 14px; line-height: 1.7; } ol span.page { color: #555; float: right; }
ul.files { font-size: 12px; columns: 2; color: #333; }
p.note { font-size: 11px; color: #555; margin-top: .4in; }
"""


class ExportError(RuntimeError):
    """The export cannot go on (a real card number, no notebooks, Chromium failed...)."""


@dataclass
class ExportResult:
    pdf: Path
    dest: Path
    files: list[Path] = field(default_factory=list)  # everything written to dest, the PDF first
    report: LeakReport = field(default_factory=LeakReport)
    report_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    pages: int = 0
    notebook_titles: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- helpers

def notebook_title(nb, fallback: str) -> str:
    """The first Markdown heading of the notebook, else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if m:
                return re.sub(r"[*_`]", "", m.group(1)).strip() or fallback
    return fallback


def _printable(nb):
    """Widgets print as their text repr: the widget JavaScript is not in an offline PDF."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and _WIDGET_VIEW in data and len(data) > 1:
                del data[_WIDGET_VIEW]
    nb.metadata.pop("widgets", None)
    return nb


def html_exporter():
    """nbconvert's lab-template HTML exporter with images embedded (one serves many notebooks)."""
    from nbconvert import HTMLExporter

    quiet = logging.getLogger("labkit.export.nbconvert")  # not the "missing alt text" warning per image
    quiet.setLevel(logging.ERROR)
    return HTMLExporter(template_name="lab", embed_images=True, log=quiet)


def notebook_html(nb, base_dir: Path, exporter=None) -> str:
    """Self-contained printable HTML: images embedded, scripts removed, print CSS added.

    ``base_dir`` is the notebook's folder, for Markdown images with relative paths.
    """
    exporter = exporter or html_exporter()
    body, _ = exporter.from_notebook_node(_printable(nb), resources={"metadata": {"path": str(base_dir)}})
    body = re.sub(r"<script\b[^>]*>.*?</script>", "", body, flags=re.S | re.I)
    style = f"<style>{PRINT_CSS}</style>"
    body = body.replace("</head>", style + "</head>", 1) if "</head>" in body else style + body
    return body.replace("</body>", FIT_TABLES_JS + "</body>", 1) if "</body>" in body else body + FIT_TABLES_JS


def title_page_html(course: str, student: str, date: str, entries: Sequence[tuple[str, int]],
                    files: Iterable[str] = ()) -> str:
    e = html.escape
    items = "".join(f"<li>{e(t)} <span class='page'>p. {p}</span></li>" for t, p in entries)
    listed = "".join(f"<li>{e(f)}</li>" for f in files)
    files_html = f"<h2>Submitted beside this PDF</h2><ul class='files'>{listed}</ul>" if listed else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{e(LAB_TITLE)}</title><style>{TITLE_CSS}</style></head><body>"
        f"<div class='course'>{e(course)}</div><h1>{e(LAB_TITLE)}</h1>"
        f"<dl><dt>Student</dt><dd>{e(student)}</dd><dt>Date</dt><dd>{e(date)}</dd></dl>"
        f"<h2>Notebooks</h2><ol>{items}</ol>{files_html}"
        "<p class='note'>Made with <code>labkit export</code>: notebooks printed as executed; secret keys "
        "redacted (see leak_report.md). Card numbers shown are Stripe's public test cards.</p>"
        "</body></html>"
    )


def print_to_pdf(chromium: str, html_path: Path, pdf_path: Path, profile_dir: Path) -> None:
    """Print one HTML file to PDF with headless Chromium (no header or footer)."""
    from labkit.chromium import chromium_args

    cmd = [
        chromium, *chromium_args(), f"--user-data-dir={profile_dir}",
        "--no-pdf-header-footer", "--hide-scrollbars", f"--print-to-pdf={pdf_path}",
        html_path.resolve().as_uri(),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise ExportError(f"Chromium took over {CHROMIUM_TIMEOUT_S} s printing {html_path.name}.") from exc
    except OSError as exc:
        raise ExportError(f"Could not run Chromium ({chromium}): {exc}") from exc
    if proc.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-5:])
        raise ExportError(f"Chromium could not print {html_path.name} (exit {proc.returncode}).\n{tail}")


def _print_all_cli(chromium: str, jobs: Sequence[tuple[Path, Path]], work: Path) -> None:
    workers = max(1, min(len(jobs), os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(print_to_pdf, chromium, h, p, work / f"profile-{p.stem}") for h, p in jobs]
        for f in futures:
            f.result()


class PdfPrinter:
    """Prints HTML files to PDF with one headless Chromium driven by Playwright (fast: one
    browser for all files), else with one ``chromium --print-to-pdf`` per file (used when
    Playwright cannot drive this Chromium, or inside a running event loop such as Jupyter's).
    Both routes print with the pages' own ``@page`` size and no header or footer.
    """

    def __init__(self, chromium: str, work: Path, use_playwright: bool = True):
        self.chromium, self.work, self.use_playwright = chromium, work, use_playwright
        self.route = "chromium --print-to-pdf"
        self._pw = self._browser = None

    def __enter__(self) -> "PdfPrinter":
        if self.use_playwright:
            try:
                from playwright.sync_api import sync_playwright

                from labkit.chromium import launch_args

                self._pw = sync_playwright().start()
                self._browser = self._pw.chromium.launch(
                    executable_path=self.chromium, args=launch_args(), timeout=CHROMIUM_TIMEOUT_S * 1000)
                self.route = "Playwright page.pdf"
            except Exception:
                self._close()
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        for thing, method in ((self._browser, "close"), (self._pw, "stop")):
            if thing is not None:
                try:
                    getattr(thing, method)()
                except Exception:
                    pass
        self._pw = self._browser = None

    def print(self, jobs: Sequence[tuple[Path, Path]]) -> None:
        if self._browser is not None:
            try:
                page = self._browser.new_page()
                for html_path, pdf_path in jobs:
                    page.goto(html_path.resolve().as_uri(), timeout=CHROMIUM_TIMEOUT_S * 1000)
                    page.pdf(path=str(pdf_path), prefer_css_page_size=True, print_background=True)
                page.close()
                return
            except Exception:  # a browser that Playwright cannot drive: the command line still works
                self._close()
                self.route = "chromium --print-to-pdf"
        _print_all_cli(self.chromium, jobs, self.work)


def _deliverables(settings: Settings, root: Path, extra_files: Sequence[Path] | None) -> tuple[list[tuple[Path, str]], list[str]]:
    """(source, name in dest) for the handout's deliverables, and warnings for missing ones."""
    out = Path(settings.out_dir)
    found: list[tuple[Path, str]] = []
    warnings: list[str] = []
    for name in ("checkout_server.py", "webhook_handler.py"):
        src = next((p for p in (root / name, out / name) if p.is_file()), None)
        if src:
            found.append((src, name))
        else:
            warnings.append(f"missing {name} (looked in {root} and {out})")
    if (out / "pci_assessment.md").is_file():
        found.append((out / "pci_assessment.md", "pci_assessment.md"))
    else:
        warnings.append(f"missing pci_assessment.md in {out} (run `labkit pci`)")
    for folder in ("screenshots", "charts"):
        pngs = sorted((out / folder).glob("*.png")) if (out / folder).is_dir() else []
        if not pngs:
            warnings.append(f"no {folder} in {out / folder}")
        found += [(p, f"{folder}/{p.name}") for p in pngs]
    for p in extra_files or ():
        p = Path(p)
        if p.is_file():
            found.append((p, p.name))
        else:
            warnings.append(f"missing extra file {p}")
    return found, warnings


def _is_text(path: Path) -> bool:
    if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf"}:
        return False
    try:
        path.read_bytes()[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refuse_real_cards(report: LeakReport) -> None:
    cards = report.real_cards
    if cards:
        places = "\n".join(f"  - {f.redacted} in {f.where}" for f in cards[:10])
        raise ExportError(
            "Export stopped: found a card number that is not one of Stripe's public test cards "
            "(it passes the card checksum). Never put a real card in the lab; use only the test "
            "cards (4242 4242 4242 4242 and the others in the handout). Remove it, re-run the "
            f"notebook, and export again. Where:\n{places}"
        )


# --------------------------------------------------------------------------- export

def export_submission(
    notebooks: Sequence[Path],
    dest: Path,
    settings: Settings | None = None,
    student_name: str | None = None,
    extra_files: Sequence[Path] | None = None,
    *,
    chromium: str | None = None,
    date: str | None = None,
    include_deliverables: bool = True,
    root: Path | None = None,
    use_playwright: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Make the submission folder ``dest``: PDF, deliverables, ``leak_report.md``.

    Deliverables come from ``settings.out_dir`` (``pci_assessment.md``, ``screenshots/``,
    ``charts/``) and the repository ``root`` (the two standalone servers); missing ones
    become warnings. ``progress`` gets one line per step.

    Raises :class:`ExportError` (and writes nothing) on a real card number, a secret left in
    the printed PDF, no notebooks, or a Chromium failure.
    """
    import nbformat
    from pypdf import PdfReader, PdfWriter

    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    settings = settings or load_settings()
    root = Path(root) if root else project_root()
    dest = Path(dest)
    notebooks = [Path(n) for n in notebooks]
    if not notebooks:
        raise ExportError("No notebooks to export: run the lab notebooks first (they must be saved executed).")
    missing = [str(n) for n in notebooks if not n.is_file()]
    if missing:
        raise ExportError(f"Notebook not found: {', '.join(missing)}")

    student = (student_name or settings.student_name or "Student").strip() or "Student"
    date = date or settings.submission_date or dt.date.today().strftime("%B %d, %Y").replace(" 0", " ")
    warnings: list[str] = []
    report = LeakReport()

    # 1. read and redact the notebooks (in memory)
    say(f"reading {len(notebooks)} notebooks")
    prepared = []
    for path in notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise ExportError(f"Cannot read {path.name} as a notebook: {exc}") from exc
        code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        if code and all(c.get("execution_count") is None for c in code):
            warnings.append(f"{path.name} looks unexecuted (no cell has run): its PDF pages have no outputs")
        clean, found = redact_notebook(nb, path.name)
        report.extend(found)
        prepared.append((path, clean, notebook_title(nb, path.stem)))
    say(f"leak scan of notebooks: {len(report.redacted)} redacted, {len(report.test_cards)} test-card mentions kept")
    _refuse_real_cards(report)

    # 2. the deliverables, scanned and redacted in memory
    files: list[tuple[str, bytes]] = []
    if include_deliverables:
        sources, missing_warnings = _deliverables(settings, root, extra_files)
        warnings += missing_warnings
        images = 0
        for src, name in sources:
            data = src.read_bytes()
            if _is_text(src):
                text, found = redact_text(data.decode("utf-8"))
                report.findings += [f.at(name) for f in found]
                report.scanned.append(name)
                data = text.encode("utf-8")
            else:
                images += 1
            files.append((name, data))
        if images:
            report.not_scanned.append(f"{images} image file{'s' if images > 1 else ''} (screenshots, charts)")
        say(f"deliverables: {len(files)} files found, {len(warnings)} missing")
        _refuse_real_cards(report)

    # 3. HTML and PDF, in a scratch folder
    from labkit.chromium import find_chromium

    chromium = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="labkit-export-") as tmp:
        work = Path(tmp)
        jobs: list[tuple[Path, Path]] = []
        exporter = html_exporter()
        for i, (path, nb, _title) in enumerate(prepared):
            html_path = work / f"nb{i:02d}.html"
            html_path.write_text(notebook_html(nb, path.parent.resolve(), exporter), encoding="utf-8")
            jobs.append((html_path, work / f"nb{i:02d}.pdf"))
        with PdfPrinter(chromium, work, use_playwright=use_playwright) as printer:
            say(f"printing {len(jobs)} notebooks with headless Chromium ({printer.route})")
            printer.print(jobs)
            counts = [len(PdfReader(pdf).pages) for _h, pdf in jobs]
            entries, page = [], 2  # the title page is page 1
            for (_p, _nb, title), n in zip(prepared, counts):
                entries.append((title, page))
                page += n
            title_html = work / "title.html"
            title_html.write_text(
                title_page_html(settings.course, student, date, entries, [n for n, _ in files]), encoding="utf-8")
            printer.print([(title_html, work / "title.pdf")])

        say("merging with one bookmark per notebook")
        writer = PdfWriter()
        writer.append(work / "title.pdf", import_outline=False)
        offset = len(writer.pages)
        titles = []
        for (_p, _nb, title), (_h, pdf), n in zip(prepared, jobs, counts):
            writer.append(pdf, import_outline=False)
            writer.add_outline_item(title=title, page_number=offset)
            titles.append(title)
            offset += n
        writer.add_metadata({"/Title": f"{LAB_TITLE}: {student}", "/Author": student,
                             "/Subject": settings.course, "/Creator": "labkit export"})
        merged = work / PDF_NAME
        with open(merged, "wb") as fh:
            writer.write(fh)

        # 4. the PDF's own text, as printed
        pdf_report = LeakReport(scanned=[f"{PDF_NAME} text"])
        reader = PdfReader(merged)
        for i, pg in enumerate(reader.pages, start=1):
            text = pg.extract_text() or ""
            # what the printed page shows (HTML outputs and wrapped lines) may differ from the text
            for f in scan_text(text):
                if f.is_secret or f.is_real_card:
                    pdf_report.findings.append(f.at(f"{PDF_NAME}, page {i}"))
        report.extend(pdf_report)
        say(f"leak scan of the PDF text ({len(reader.pages)} pages): {len(pdf_report.redacted)} found")
        _refuse_real_cards(report)
        if pdf_report.secrets:
            raise ExportError("Export stopped: a secret is still visible in the printed PDF at "
                              + ", ".join(f.where for f in pdf_report.secrets) + ".")

        # 5. everything checked: write the submission
        dest.mkdir(parents=True, exist_ok=True)
        pdf_out = write_bytes(dest / PDF_NAME, merged.read_bytes())  # FileBusyError while open in a viewer
        written = [pdf_out]
        for name, data in files:
            written.append(write_bytes(dest / name, data))
        report_path = dest / REPORT_NAME
        body = report.to_markdown("Leak scan of the submission")
        if warnings:
            body += "\nWarnings:\n\n" + "\n".join(f"- {w}" for w in warnings) + "\n"
        written.append(write_text(report_path, body))
        say(f"wrote {pdf_out} ({len(reader.pages)} pages) and {len(written) - 1} more files in {dest}")

    return ExportResult(pdf=pdf_out, dest=dest, files=written, report=report, report_path=report_path,
                        warnings=warnings, pages=len(reader.pages), notebook_titles=titles,
                        seconds=time.perf_counter() - started)


# --------------------------------------------------------------------------- command line

def default_notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("0*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                        help="folder of executed notebooks 0*.ipynb (default: <repo>/notebooks)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="submission folder to write (default: <repo>/submission)")
    parser.add_argument("--student", default=None, metavar="NAME",
                        help="your name for the title page (default: LABKIT_STUDENT_NAME, else asked)")


def _ask_student() -> str | None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    try:
        return input("Your name for the title page: ").strip() or None
    except EOFError:
        return None


def run_export(args: argparse.Namespace) -> int:
    settings = load_settings()
    root = project_root()
    folder = args.notebooks or root / "notebooks"
    dest = args.out or root / "submission"
    student = args.student or settings.student_name or _ask_student() or "Student"
    notebooks = default_notebooks(folder)
    if not notebooks:
        print(f"labkit export: no executed notebooks 0*.ipynb in {folder}", file=sys.stderr)
        return 1
    try:
        result = export_submission(notebooks, dest, settings, student_name=student,
                                   progress=lambda m: print(f"export: {m}", flush=True))
    except (ExportError, FileBusyError) as exc:  # FileBusyError: the PDF is open in a viewer
        print(f"labkit export: {exc}", file=sys.stderr)
        return 1
    for w in result.warnings:
        print(f"export: warning: {w}")
    print(f"export: leak report {result.report_path} ({len(result.report.redacted)} redacted)")
    print(f"export: done in {result.seconds:.1f} s: {result.pdf}")
    return 0
