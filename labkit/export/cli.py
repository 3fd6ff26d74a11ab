"""``labkit export``: the command line around :func:`labkit.export.run.export_submission`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labkit.chromium import find_chromium
from labkit.export.common import ExportError
from labkit.export.run import export_submission
from labkit.files import FileBusyError
from labkit.settings import load_settings


def default_notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("0*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                        help="folder of executed notebooks 0*.ipynb (default: <repo>/notebooks)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="submission folder to write (default: <repo>/submission)")
    parser.add_argument("--student", default=None, metavar="NAME",
                        help="your name for the title page (default: LABKIT_STUDENT_NAME, else asked)")
    parser.add_argument("--full", action="store_true",
                        help="print the notebooks whole (narration and the kit's code too), not outputs only")


def _ask_student() -> str | None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    try:
        return input("Your name for the title page: ").strip() or None
    except EOFError:
        return None


def run_export(args: argparse.Namespace) -> int:
    settings = load_settings()
    root = settings.root
    folder = args.notebooks or root / "notebooks"
    dest = args.out or root / "submission"
    notebooks = default_notebooks(folder)
    if not notebooks:
        print(f"labkit export: no executed notebooks 0*.ipynb in {folder}", file=sys.stderr)
        return 1
    student = args.student or settings.student_name or _ask_student() or "Student"

    # LABKIT_CHROMIUM (Settings.chromium) checked before any work: a wrong path is one line, exit 1
    chromium = find_chromium({"LABKIT_CHROMIUM": settings.chromium}) if settings.chromium else None
    try:
        result = export_submission(notebooks, dest, settings, student_name=student, full=args.full,
                                   chromium=chromium,
                                   progress=lambda m: print(f"export: {m}", flush=True))
    except (ExportError, FileBusyError) as exc:
        print(f"labkit export: {exc}", file=sys.stderr)
        return 1
    for w in result.warnings:
        print(f"export: warning: {w}")
    print(f"export: leak report {result.report_path} ({len(result.report.redacted)} redacted)")
    print(f"export: done in {result.seconds:.1f} s: {result.pdf} ({result.pages} pages)")
    return 0
