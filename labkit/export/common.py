"""What every part of the export shares: names, the error it raises, what it returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labkit.leaks import LeakReport

LAB_TITLE = "Lab 09: Payment Integration with Stripe"
PDF_NAME = "lab09_submission.pdf"
# `labkit demo`'s PDF: the instructor's model solution, never to be mistaken for (or handed in as) a submission
MODEL_PDF_NAME = "lab09_model_solution.pdf"
MODEL_BANNER = "MODEL SOLUTION (labkit demo): the instructor's reference, not a student's submission"
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
    """One printed part of the PDF (it starts on a new page): its HTML and its bookmarks.

    ``titles`` are the bookmarks in it, in order (by default only ``title``, at its first page);
    ``starts`` their pages within the part, found in the printed text (:func:`labkit.export.pdf.start_pages`).
    """

    title: str
    html: str
    pages: int = 0
    titles: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.titles = self.titles or [self.title]

    def marks(self, first_page: int) -> list[tuple[str, int]]:
        """(bookmark title, page) for a part printed from ``first_page`` on."""
        starts = self.starts or [0] * len(self.titles)
        return [(t, first_page + s) for t, s in zip(self.titles, starts)]
