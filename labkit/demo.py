"""``labkit demo``: the whole lab, offline, in one command, ending in the submission folder.

One fake Stripe and one checkout server are started here and shared by every notebook
kernel (through ``LABKIT_STRIPE_API_BASE`` / ``LABKIT_CHECKOUT_URL``), so the payments
made in Part B are the ones that Parts C–E see. Notebooks run in order, then ``labkit export``
makes the PDF and the rubric self-check reads the result.

The demo never touches the student's work: everything it writes goes under its own folder
(``Settings.demo_dir``, default ``out/demo/``): the executed notebooks (``executed/``), the
outputs the notebooks make (screenshots, charts, ``pci_assessment.md``, databases), its own
answers (``answers/``, pre-filled from ``labkit/data/model_answers/`` when the kit ships them)
and its submission (``submission/``, the PDF included). The kernels see that folder as their
``LABKIT_OUT`` and ``LABKIT_ANSWERS``; ``submission/``, ``answers/`` and ``out/`` are left as they are.
"""
from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from labkit.checks.notebook import saved_checks
from labkit.checks.report import format_items
from labkit.checks.run import run_checks
from labkit.console import setup_console
from labkit.lab import Lab
from labkit.nbformat_import import nbformat
from labkit.notebooks import KernelsAhead, NotebookFailed, execute, notebook_paths
from labkit.files import write_bytes, write_text
from labkit.settings import Settings, load_settings, shown_path

MODEL_ANSWERS = "model_answers"  # labkit/data/model_answers/: the demo's answers, when shipped


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", default=None, help="name for the PDF's title page (default: LABKIT_STUDENT_NAME)")
    parser.add_argument("--out", type=Path, default=None, help="submission folder (default: out/demo/submission/)")
    parser.add_argument("--no-export", action="store_true", help="run the notebooks only")
    parser.add_argument("--only", default=None, metavar="PREFIX",
                        help="run only notebooks whose name starts with PREFIX (e.g. 02)")
    parser.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                        help="folder of the notebooks 0*.ipynb to run (default: notebooks/)")


def demo_environ(base: Settings) -> dict[str, str]:
    """The variables that send every file of the demo (and of its kernels) under ``demo_dir``."""
    demo = Path(base.demo_dir)
    return {"LABKIT_BACKEND": "fake", "LABKIT_OUT": str(demo), "LABKIT_DB": str(demo / "labkit.db"),
            "LABKIT_ANSWERS": str(demo / "answers")}


def prefill_answers(settings: Settings) -> list[Path]:
    """The instructor's model answers (solution edition only) in the demo's own answers folder:
    the PCI checklist, and the Part E analysis the model writes."""
    from labkit import altpay
    from labkit.answers import PART_E_FILE, PCI_FILE

    written = []
    try:
        pci = resources.files("labkit.data").joinpath(MODEL_ANSWERS, PCI_FILE)
        written.append(write_bytes(Path(settings.answers_dir) / PCI_FILE, pci.read_bytes()))
    except (FileNotFoundError, NotADirectoryError, OSError):
        pass
    model_answer = getattr(altpay, "model_answer", None)
    if model_answer is not None:
        written.append(write_bytes(Path(settings.answers_dir) / PART_E_FILE, model_answer().encode("utf-8")))
    return written


def run_demo(args: argparse.Namespace) -> int:
    started, started_at = time.perf_counter(), time.time()
    setup_console()  # tqdm.write("✓ …") on a cp1252 console
    base = load_settings(overrides={"LABKIT_BACKEND": "fake"})
    demo_env = demo_environ(base)
    settings = load_settings(overrides={"LABKIT_BACKEND": "fake", **demo_env})
    folder = args.notebooks or settings.root / "notebooks"
    notebooks = [p for p in notebook_paths(folder) if not args.only or p.name.startswith(args.only)]
    if not notebooks:
        print(f"labkit demo: no notebooks 0*.ipynb found in {folder}", file=sys.stderr)
        return 1
    prefill_answers(settings)
    executed_dir = settings.executed_dir
    print(f"labkit demo: {len(notebooks)} notebooks, offline (fake Stripe), outputs in {shown_path(executed_dir)}/")
    timings: list[tuple[str, float]] = []
    lab = Lab.start(settings, webhooks=False)
    env = {**lab.environ(), **demo_env}
    kernels = KernelsAhead(folder, env)
    try:
        bar = tqdm(notebooks, unit="notebook", file=sys.stdout, leave=False, dynamic_ncols=True)
        for i, path in enumerate(bar):
            bar.set_description(path.stem)
            t0 = time.perf_counter()
            km = kernels.take(another=i + 1 < len(notebooks))
            try:
                nb = execute(path, env=env, write=False, km=km)
            except NotebookFailed as exc:
                bar.close()
                print(f"✗ {exc}", file=sys.stderr)
                print("  Run it in JupyterLab to see the whole traceback (python3 run.py lab).", file=sys.stderr)
                return 1
            finally:
                kernels.done(km)
            write_text(executed_dir / path.name, nbformat.writes(nb) + "\n")
            timings.append((path.name, time.perf_counter() - t0))
            tqdm.write(f"✓ {path.name:<28} {timings[-1][1]:5.1f} s")
        bar.close()
        if not args.no_export and not export(args, settings, executed_dir):
            return 1
        print()
        print(format_items(checks_of_the_run(settings, since=started_at)))
    finally:
        kernels.close()
        lab.close()
    print(f"labkit demo: done in {time.perf_counter() - started:.1f} s")
    return 0


def checks_of_the_run(settings: Settings, since: float) -> list:
    """Every part's items: as the notebooks' check cells saved them during this run (they checked the same
    servers moments ago), and checked now for a part whose notebook did not run (``--only``)."""
    items: list = []
    for part in "ABCDE":
        saved = saved_checks(settings, part, since)
        items += saved if saved is not None else run_checks(None, settings, parts=[part])
    return items


def export(args: argparse.Namespace, settings, executed_dir: Path) -> bool:
    from labkit.export import ExportError, export_submission
    from labkit.files import FileBusyError

    dest = args.out or settings.demo_submission_dir
    try:
        result = export_submission(sorted(executed_dir.glob("0*.ipynb")), dest, settings,
                                   student_name=args.student or settings.student_name or "Model solution (labkit demo)",
                                   progress=lambda m: print(f"  export: {m}", flush=True), model_solution=True)
    except (ExportError, FileBusyError) as exc:  # FileBusyError: the PDF is open in a viewer
        print(f"✗ export failed: {exc}", file=sys.stderr)
        return False
    for warning in result.warnings:
        print(f"  export: warning: {warning}")
    print(f"✓ the model solution's PDF (not a submission): {shown_path(result.pdf)} ({result.pages} pages, "
          f"{len(result.report.redacted)} redactions)")
    return True
