"""HTML to PDF with headless Chromium (no LaTeX), then one merged PDF with bookmarks."""
from __future__ import annotations

import os
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from labkit import browser_thread
from labkit.chromium import chromium_args, find_chromium, launch_args
from labkit.export.common import CHROMIUM_TIMEOUT_S, ExportError
from labkit.leaks import LeakReport, scan_text


def print_to_pdf(chromium: str, html_path: Path, pdf_path: Path, profile_dir: Path) -> None:
    """Print one HTML file to PDF with headless Chromium (no header or footer)."""
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


def launch_meanwhile(chromium: str | None) -> Future:
    """The Chromium to print with (``chromium``, else :func:`labkit.chromium.find_chromium`'s), found and
    launched in the kit's browser thread while the caller goes on (the driver and the launch take about
    half a second); a launch that fails is left to :class:`PdfPrinter`, which then uses the command line."""
    def launch() -> str:
        path = chromium or find_chromium()
        try:
            _kept_chromium(path)
        except Exception:  # said by the route PdfPrinter takes
            pass
        return path
    return browser_thread.THREAD.submit(launch)


def _kept_chromium(path: str) -> Any:
    return browser_thread.THREAD.chromium(path, launch_args())


def _print_here(chromium: str, jobs: list[tuple[Path, Path]]) -> None:
    """In the browser thread: each HTML file to its PDF, in a context of its own on the kept Chromium."""
    context = _kept_chromium(chromium).new_context()
    try:
        page = context.new_page()
        for html_path, pdf_path in jobs:
            page.goto(html_path.resolve().as_uri(), timeout=CHROMIUM_TIMEOUT_S * 1000)
            page.pdf(path=str(pdf_path), prefer_css_page_size=True, print_background=True)
    finally:
        context.close()


def _print_all_cli(chromium: str, jobs: Sequence[tuple[Path, Path]], work: Path) -> None:
    workers = max(1, min(len(jobs), os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(print_to_pdf, chromium, h, p, work / f"profile-{p.stem}") for h, p in jobs]
        for f in futures:
            f.result()


class PdfPrinter:
    """Prints HTML files to PDF with the kit's kept headless Chromium, driven by Playwright in the kit's
    browser thread (:mod:`labkit.browser_thread`: one launch a process, which :func:`launch_meanwhile`
    starts before the pages are made; it works where an event loop runs too, as in a notebook), else
    with one ``chromium --print-to-pdf`` per file (when Playwright cannot drive this Chromium). Both
    routes print with the pages' own ``@page`` size and no header or footer; each file list gets a
    browser context of its own.
    """

    def __init__(self, chromium: str, work: Path, use_playwright: bool = True):
        self.chromium, self.work, self.use_playwright = chromium, work, use_playwright
        self.route = "chromium --print-to-pdf"

    def __enter__(self) -> "PdfPrinter":
        if self.use_playwright:
            try:
                browser_thread.run(_kept_chromium, self.chromium)  # launched already, or now
                self.route = "Playwright page.pdf"
            except Exception:  # no Playwright, or it cannot drive this Chromium: the command line prints
                pass
        return self

    def __exit__(self, *exc) -> None:
        pass  # the kept Chromium closes with the process

    def print(self, jobs: Sequence[tuple[Path, Path]]) -> None:
        if self.route == "Playwright page.pdf":
            try:
                browser_thread.run(_print_here, self.chromium, list(jobs))
                return
            except Exception:  # a browser that Playwright cannot drive: the command line still works
                self.route = "chromium --print-to-pdf"
        _print_all_cli(self.chromium, jobs, self.work)


def page_texts(pdf: Path) -> list[str]:
    """The text of each page as printed, read with PDFium (Chromium's own PDF engine, compiled: a 22-page
    submission in 0.05 s, where pypdf's pure-Python reader took 0.6 s)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    texts = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            text = page.get_textpage()
            try:
                texts.append(text.get_text_range().replace("\r\n", "\n"))
            finally:
                text.close()
                page.close()
    finally:
        doc.close()  # at once: Windows cannot remove an open file
    return texts


def page_count(pdf: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def start_pages(pdf: Path, titles: Sequence[str]) -> list[int]:
    """The page (from 0) where each of ``titles`` first shows in ``pdf``'s text, in order: each is looked
    for from the page of the one before (the first is on page 0); one not found gets that page."""
    texts = [" ".join(text.split()) for text in page_texts(pdf)]
    starts, page = [], 0
    for i, title in enumerate(titles):
        wanted = " ".join(title.split())
        if i:
            page = next((k for k in range(page, len(texts)) if wanted in texts[k]), page)
        starts.append(page)
    return starts


def banner_html(text: str) -> str:
    """A Letter page that is blank but for ``text`` in its top margin: laid over every page of a PDF."""
    import html

    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page { size: Letter; margin: 0; } "
            "html, body { margin: 0; background: transparent; } div { position: absolute; top: 0.06in; left: 0.3in; "
            "right: 0.3in; text-align: center; font: 700 11px 'DejaVu Sans', Arial, sans-serif; color: #a11; "
            "letter-spacing: .03em; }</style></head>"
            f"<body><div>{html.escape(text)}</div></body></html>")


def merge(parts: Sequence[tuple[Path, Sequence[tuple[str, int]]]], target: Path, metadata: dict[str, str],
          overlay: Path | None = None) -> int:
    """Merge ``(pdf, its bookmarks)`` in order, each bookmark a (title, page within that pdf); ``overlay``'s
    first page is laid over every page (the demo's banner). Returns the page count."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf, marks in parts:
        start = len(writer.pages)
        writer.append(pdf, import_outline=False)
        for title, page in marks:
            writer.add_outline_item(title=title, page_number=start + page)
    if overlay is not None:
        stamp = PdfReader(overlay).pages[0]
        for page in writer.pages:
            page.merge_page(stamp)
    writer.add_metadata(metadata)
    with open(target, "wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def scan_pdf(pdf: Path, name: str) -> LeakReport:
    """Secrets and card numbers in the PDF's own text as printed: what the page shows (HTML
    outputs, wrapped lines, digits in separate elements) may differ from the notebooks' text."""
    report = LeakReport(scanned=[f"{name} text"])
    for i, text in enumerate(page_texts(pdf), start=1):
        for f in scan_text(text):
            if f.is_secret or f.is_real_card:
                report.findings.append(f.at(f"{name}, page {i}"))
    return report
