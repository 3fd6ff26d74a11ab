"""The submission: one PDF for the grader, the handout's deliverables, a leak report.

The route needs no LaTeX: each part goes to HTML (nbconvert for the notebooks, images
embedded, scripts removed, print CSS added), headless Chromium prints each HTML to PDF, and
pypdf merges the PDFs with one bookmark per part:

* ``run`` — :func:`export_submission`, the whole export, and the run-proof check;
* ``grader_page`` — page 1: the rubric table and the contents with their page numbers;
* ``pages`` — the student's code and answers, then the evidence;
* ``nbhtml`` — a notebook as printable HTML (folded unless ``--full``, no object reprs);
* ``pdf`` — Chromium printing, merging, the PDF text's leak scan;
* ``deliverables`` — the files beside the PDF, read and redacted in memory;
* ``style`` — the print CSS (no text under 8 pt); ``cli`` — ``labkit export``.

Nothing is written before every notebook proves its run on this machine
(:mod:`labkit.runproof`) and everything has been scanned for leaks (:mod:`labkit.leaks`):
secrets are redacted and listed in ``leak_report.md``; a card number that is not one of
Stripe's public test cards stops the export with :class:`ExportError`.
"""
from labkit.export.cli import add_export_arguments, default_notebooks, run_export
from labkit.export.common import LAB_TITLE, PDF_NAME, REPORT_NAME, ExportError, ExportResult
from labkit.export.nbhtml import html_exporter, notebook_html, notebook_title, printable
from labkit.export.pdf import PdfPrinter, print_to_pdf
from labkit.export.run import check_run_proofs, export_submission

__all__ = ["LAB_TITLE", "PDF_NAME", "REPORT_NAME", "ExportError", "ExportResult", "PdfPrinter",
           "add_export_arguments", "check_run_proofs", "default_notebooks", "export_submission",
           "html_exporter", "notebook_html", "notebook_title", "print_to_pdf", "printable", "run_export"]
