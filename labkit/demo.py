"""``labkit demo``: the whole lab, offline, in one command, ending in the submission folder.

One fake Stripe and one checkout server are started here and shared by every notebook
kernel (through ``LABKIT_STRIPE_API_BASE`` / ``LABKIT_CHECKOUT_URL``), so the payments
made in Part B are the ones that Parts C–E see. Notebooks run in order; the executed
copies go to ``out/executed/`` (the notebooks in ``notebooks/`` are left as they are),
then ``labkit export`` makes the PDF and the rubric self-check reads the result.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from tqdm import tqdm

from labkit.console import setup_console
from labkit.lab import Lab
from labkit.notebooks import NotebookFailed, execute, notebook_paths
from labkit.settings import load_settings, project_root, shown_path


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", default=None, help="name for the PDF's title page (default: LABKIT_STUDENT_NAME)")
    parser.add_argument("--out", type=Path, default=None, help="submission folder (default: submission/)")
    parser.add_argument("--no-export", action="store_true", help="run the notebooks only")
    parser.add_argument("--only", default=None, metavar="PREFIX",
                        help="run only notebooks whose name starts with PREFIX (e.g. 02)")
    parser.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                        help="folder of the notebooks 0*.ipynb to run (default: notebooks/)")


def run_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    setup_console()  # tqdm.write("✓ …") on a cp1252 console
    settings = load_settings(overrides={"LABKIT_BACKEND": "fake"})
    root = project_root()
    folder = args.notebooks or root / "notebooks"
    notebooks = [p for p in notebook_paths(folder) if not args.only or p.name.startswith(args.only)]
    if not notebooks:
        print(f"labkit demo: no notebooks 0*.ipynb found in {folder}", file=sys.stderr)
        return 1
    executed_dir = settings.out_dir / "executed"
    executed_dir.mkdir(parents=True, exist_ok=True)
    print(f"labkit demo: {len(notebooks)} notebooks, offline (fake Stripe), outputs in {shown_path(executed_dir)}/")
    timings: list[tuple[str, float]] = []
    lab = Lab.start(settings, webhooks=False)
    try:
        env = {**lab.environ(), "LABKIT_BACKEND": "fake"}
        bar = tqdm(notebooks, unit="notebook", file=sys.stdout, leave=False, dynamic_ncols=True)
        for path in bar:
            bar.set_description(path.stem)
            t0 = time.perf_counter()
            try:
                nb = execute(path, env=env, write=False)
            except NotebookFailed as exc:
                bar.close()
                print(f"✗ {exc}", file=sys.stderr)
                print("  Run it in JupyterLab to see the whole traceback (python3 run.py lab).", file=sys.stderr)
                return 1
            nbformat.write(nb, executed_dir / path.name)
            timings.append((path.name, time.perf_counter() - t0))
            tqdm.write(f"✓ {path.name:<28} {timings[-1][1]:5.1f} s")
        bar.close()
        if not args.no_export and not export(args, settings, executed_dir):
            return 1
        from labkit.checks.report import format_items
        from labkit.checks.run import run_checks

        print()
        print(format_items(run_checks(settings=settings)))
    finally:
        lab.close()
    print(f"labkit demo: done in {time.perf_counter() - started:.1f} s")
    return 0


def export(args: argparse.Namespace, settings, executed_dir: Path) -> bool:
    from labkit.export import ExportError, export_submission
    from labkit.files import FileBusyError

    root = project_root()
    dest = args.out or root / "submission"
    try:
        result = export_submission(sorted(executed_dir.glob("0*.ipynb")), dest, settings,
                                   student_name=args.student or settings.student_name or "Student",
                                   progress=lambda m: print(f"  export: {m}", flush=True))
    except (ExportError, FileBusyError) as exc:  # FileBusyError: the PDF is open in a viewer
        print(f"✗ export failed: {exc}", file=sys.stderr)
        return False
    for warning in result.warnings:
        print(f"  export: warning: {warning}")
    print(f"✓ submission: {shown_path(result.pdf)} ({result.pages} pages, {len(result.report.redacted)} redactions)")
    return True
