"""``labkit grade CLASS_DIR [--json FILE] [--csv FILE] [--html FILE] [--jobs N] [--timeout S]``."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from labkit.grading.collect import Submission, collect
from labkit.grading.similarity import class_pairs
from labkit.settings import project_root
from labkit.student import confine as jail

DEFAULT_TIMEOUT = 150.0


def _broken(student: str, why: str) -> dict[str, Any]:
    return {"student": student, "items": [{"part": "-", "check": "grade:run", "status": "missing", "evidence": why,
                                           "points": 0.0, "max_points": None, "hint": ""}]}


def _kill_tree(proc: subprocess.Popen) -> None:
    if os.name == "nt":
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True)
    else:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)


def _child_command(folder: Path, out: Path, confinement: jail.Confinement, hide: Path | None) -> list[str]:
    cmd = [sys.executable, "-m", "labkit.grading.one", str(folder), "--out", str(out),
           "--confine", confinement.to_arg()]
    return cmd + (["--hide", str(hide)] if hide is not None else [])


def grade_one(sub: Submission, work: Path, timeout: float, *, slot: int = 0, private_root: Path | None = None,
              hide: Path | None = None, limits: jail.Limits | None = None) -> dict[str, Any]:
    """Grade one submission in its own process group, on a private copy of its files (confined:
    :mod:`labkit.student.confine`); a hang or crash is this student's row only."""
    if sub.problem or sub.folder is None:
        return _broken(sub.student, sub.problem or "nothing to grade")
    private = Path(private_root or work) / f"s{slot}"
    uid = jail.student_uid(slot, isolating=hide is not None)
    try:
        folder = jail.private_copy(sub.folder, private / "submission", uid)
        home = private / "home"
        home.mkdir(mode=0o700)
        confinement = jail.Confinement(home=home, uid=uid, limits=limits or jail.Limits())
        confinement.give(private)
        return _run_child(sub, _child_command(folder, work / "results" / f"s{slot}.json", confinement, hide),
                          work / "results" / f"s{slot}.json", timeout)
    except (OSError, ValueError) as exc:
        return _broken(sub.student, f"cannot copy the submission to grade it: {exc}")
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _run_child(sub: Submission, cmd: list[str], out: Path, timeout: float) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" \
        else {"start_new_session": True}
    out.parent.mkdir(mode=0o700, exist_ok=True)
    proc = subprocess.Popen(cmd, cwd=str(project_root(Path(__file__).parent)), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        return _broken(sub.student, f"stopped after {timeout:g} s: the student's servers kept the checks waiting")
    finally:
        if proc.poll() is None:
            _kill_tree(proc)
        elif os.name != "nt":
            try:  # the student's servers, if the grader child left any behind
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    if proc.returncode != 0 or not out.is_file():
        last = (err or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return _broken(sub.student, f"the grading run failed ({last[0][:200]})")
    return {"student": sub.student, **json.loads(out.read_text(encoding="utf-8"))}


def grade_class(class_dir: Path, *, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                progress: bool = True, limits: jail.Limits | None = None) -> list[dict[str, Any]]:
    """Every submission in ``class_dir`` graded (``jobs`` at a time), in the folder's order."""
    from tqdm.auto import tqdm

    jobs = jobs or max(1, min(4, (os.cpu_count() or 2)))
    hide = Path(class_dir).resolve() if jail.can_isolate() else None
    # work (0700, the grader's): unpacked zips and results; private (0711): one 0700 folder per student,
    # that student's user's when grading as root, so no student's code can read another's.
    with tempfile.TemporaryDirectory(prefix="labkit-grade-") as tmp, \
            tempfile.TemporaryDirectory(prefix="labkit-students-") as private:
        work = Path(tmp)
        os.chmod(private, 0o711)
        subs = collect(class_dir, work)
        results: dict[str, dict[str, Any]] = {}
        with ThreadPoolExecutor(max_workers=jobs) as pool, \
                tqdm(total=len(subs), unit="student", disable=not progress, ascii=True) as bar:
            futures = {pool.submit(grade_one, s, work, timeout, slot=i, private_root=Path(private), hide=hide,
                                   limits=limits): s for i, s in enumerate(subs)}
            for fut in as_completed(futures):
                sub = futures[fut]
                try:
                    results[sub.student] = fut.result()
                except Exception as exc:  # never stop the class
                    results[sub.student] = _broken(sub.student, f"grading error: {type(exc).__name__}: {exc}")
                bar.set_postfix_str(sub.student[:20])
                bar.update(1)
    return [results[s.student] for s in subs]


def add_grade_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("class_dir", type=Path, help="one folder or .zip per student (each a submission/)")
    parser.add_argument("--json", type=Path, metavar="FILE")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="default: CLASS_DIR/../grades.csv")
    parser.add_argument("--html", type=Path, metavar="FILE", help="default: CLASS_DIR/../grades.html")
    parser.add_argument("--jobs", type=int, default=None, help="students graded at once (default: up to 4)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per student")
    parser.add_argument("--canvas", nargs=2, type=Path, metavar=("ROSTER.csv", "OUT.csv"),
                        help="also write a Canvas gradebook import: the roster's identity columns and the lab's points")
    parser.add_argument("--canvas-column", default=None, metavar="NAME",
                        help="the lab's column in the Canvas file (default: 'Lab 09 (kit points)')")
    parser.add_argument("--boilerplate", action="append", type=Path, default=[], metavar="PATH",
                        help="code every student was given (the handout's code: a file or folder), left out of the "
                             "similarity report (repeatable; the kit's starter code is always left out)")
    parser.add_argument("--no-similarity", action="store_true", help="skip the report of similar submissions")


def _similar(args: argparse.Namespace) -> list[Any] | None:
    """The similarity report; a failure there is one line, never the end of the grading."""
    try:
        return class_pairs(args.class_dir, getattr(args, "boilerplate", None) or [])
    except Exception as exc:  # noqa: BLE001
        print(f"labkit grade: similarity report skipped ({type(exc).__name__}: {exc})")
        return None


def _write_canvas(frame: Any, roster: list[dict[str, str]], args: argparse.Namespace) -> None:
    # deferred: pandas (the tables) and stripe (the checks' rubric) only when a table is written
    from labkit.autograder.classroom import graded_checks
    from labkit.grading import canvas, table

    summary = table.summary(frame)
    broken = set(frame.loc[frame["check"] == "grade:run", "student"])
    points = {s: (None if s in broken else float(summary.loc[s, "kit points"])) for s in summary.index}
    export = canvas.canvas_export(points, roster, column=args.canvas_column or canvas.DEFAULT_COLUMN,
                                  possible=sum(c["points"] for c in graded_checks()))
    canvas.write_canvas(export, args.canvas[1])
    print("\n".join([f"\nCanvas: wrote {args.canvas[1]} ({len(points) - len(export.unmatched)} of {len(points)} "
                     "submissions matched to the roster)", *canvas.report_lines(export)]))


def run_grade(args: argparse.Namespace) -> int:
    from labkit.grading import table  # deferred: pandas, after the arguments are checked

    if not args.class_dir.is_dir():
        print(f"labkit grade: {args.class_dir} is not a folder (one folder or .zip per student inside)")
        return 2
    missing = [str(b) for b in getattr(args, "boilerplate", None) or [] if not Path(b).exists()]
    if missing:
        print(f"labkit grade: --boilerplate {missing[0]} does not exist (give the handout's code as a file or folder)")
        return 2
    roster = None
    if getattr(args, "canvas", None):
        from labkit.grading.canvas import RosterError, read_roster  # deferred: pandas

        try:
            roster = read_roster(args.canvas[0])
        except RosterError as exc:
            print(f"labkit grade: {exc}")
            return 2
    start = time.monotonic()
    results = grade_class(args.class_dir, jobs=args.jobs, timeout=args.timeout)
    frame = table.long_table(results)
    parent = args.class_dir.resolve().parent
    csv_path, html_path = args.csv or parent / "grades.csv", args.html or parent / "grades.html"
    table.write_csv(frame, csv_path)
    pairs = None if getattr(args, "no_similarity", False) else _similar(args)
    table.write_html(frame, html_path, pairs=pairs)
    if args.json:
        table.write_json(results, args.json, pairs=pairs)
    print(table.summary(frame).to_string())
    if roster is not None:
        _write_canvas(frame, roster, args)
    if pairs:
        print(f"\nSimilar work: {len({(p.a, p.b) for p in pairs})} pair(s) of submissions with unusually much of "
              f"their own work in common; read them in {html_path}#similar (no points were changed)")
    print(f"\n{len(results)} students in {time.monotonic() - start:.0f} s; wrote {csv_path} and {html_path}"
          + (f" and {args.json}" if args.json else ""))
    return 0
