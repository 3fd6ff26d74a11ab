"""What every part of the export shares: names, the error it raises, what it returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labkit.leaks import LeakReport

LAB_TITLE = "Lab 09: Payment Integration with Stripe"
PDF_NAME = "lab09_submission.pdf"
REPORT_NAME = "leak_report.md"
CHROMIUM_TIMEOUT_S = 120


class ExportError(RuntimeError):
    """The export cannot go on (a real card number, no run proof, Chromium failed...)."""


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


@dataclass
class Section:
    """One printed part of the PDF: its bookmark title and its HTML (printed on its own pages)."""

    title: str
    html: str
    pages: int = 0
    in_contents: bool = True
