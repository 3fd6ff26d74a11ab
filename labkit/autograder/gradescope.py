"""Gradescope's ``run_autograder``: grade the one submission in ``ROOT/submission``, always write results.

``python -m labkit.autograder.gradescope --root /autograder`` finds the student's code (a folder,
a zip, or the ``submission/`` that ``labkit export`` writes), grades it through the class grader's
own path (:func:`labkit.grading.cli.grade_one`: a child process with a time limit, the checks of
:mod:`labkit.checks.run`, offline with its own fake Stripe), and writes
``ROOT/results/results.json`` in Gradescope's format: one test per rubric item with the rubric's
points, the evidence and the hint as its output, the rubric's ``visibility`` (``after_due_date``
for a check shown only after the deadline; its points still count). A crash, a timeout or a
submission with no code becomes a failing test saying why; whatever happens, the file is written.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from labkit.checks.items import EVIDENCED, GRADER, rubric
from labkit.grading.cli import _broken, grade_one
from labkit.grading.collect import Submission, find_code_folder, safe_unzip

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_TIMEOUT = 300.0  # seconds for one submission (25-40 s measured on two cores; Gradescope may give half a CPU)
RUN_CHECK = "grade:run"
# The parts a re-run can check (labkit.grading.one); Part A is the student's own Stripe account: the grader's.
RERUN_PARTS = "BCDE"


def rubric_tests() -> list[dict[str, Any]]:
    """Every rubric item, in order: {part, check (None: for the grader), title, points, visibility, number}."""
    out = []
    for part in rubric()["parts"]:
        for n, entry in enumerate(part["items"], start=1):
            visibility = entry.get("visibility", "visible")
            if visibility not in VISIBILITIES:
                raise ValueError(f"rubric.json: {entry.get('check') or entry['text']!r} has visibility "
                                 f"{visibility!r}; use one of {', '.join(VISIBILITIES)}")
            out.append({"part": part["part"], "check": entry.get("check"), "title": entry["text"],
                        "points": entry.get("points"), "visibility": visibility, "number": f"{part['part']}.{n}"})
    return out


def _output(item: dict[str, Any]) -> str:
    lines = [f"Status: {item['status']}", str(item.get("evidence") or "").strip()]
    if item.get("hint") and item["status"] != EVIDENCED:
        lines.append(f"Hint: {item['hint']}")
    return "\n".join(line for line in lines if line)


def _grader_test(base: dict[str, Any], entry: dict[str, Any], why: str) -> dict[str, Any]:
    return {**base, "name": f"Part {entry['part']} (for the grader): {entry['title']}", "score": 0.0,
            "max_score": 0.0, "output": f"For the grader: the kit does not score this item. {why}".strip(),
            "extra_data": {"check": entry["check"], "status": GRADER}}


def _test(entry: dict[str, Any], item: dict[str, Any] | None, broken: str | None) -> dict[str, Any]:
    name = f"Part {entry['part']}: {entry['check'] or 'for the grader'}: {entry['title']}"
    base: dict[str, Any] = {"name": name, "number": entry["number"], "visibility": entry["visibility"],
                            "tags": [f"Part {entry['part']}"]}
    if entry["check"] is None or entry["part"] not in RERUN_PARTS or (item and item["status"] == GRADER):
        return _grader_test(base, entry, (item or {}).get("evidence") or "Judged by a person.")
    max_score = float(entry["points"] or 0)
    if item is None:
        why = broken or "the grading run reported nothing for this check"
        return {**base, "score": 0.0, "max_score": max_score, "status": "failed", "output": f"Not graded: {why}",
                "extra_data": {"check": entry["check"], "status": "missing"}}
    score = float(item.get("points") or 0.0) if max_score else 0.0
    return {**base, "score": score, "max_score": max_score, "status": "passed" if item["status"] == EVIDENCED
            else "failed", "output": _output(item), "extra_data": {"check": entry["check"], "status": item["status"]}}


def results_for(graded: dict[str, Any], seconds: float = 0.0) -> dict[str, Any]:
    """Gradescope's results.json for one graded submission (:func:`labkit.grading.cli.grade_one`'s dict)."""
    items = graded.get("items", [])
    run = next((i for i in items if i.get("check") == RUN_CHECK), None)
    broken = run["evidence"] if run else None
    by_check = {i["check"]: i for i in items}
    tests = []
    if broken:
        tests.append({"name": "Grading run: the submission could not be graded", "score": 0.0, "max_score": 0.0,
                      "status": "failed", "output": broken, "visibility": "visible", "number": "0"})
    for entry in rubric_tests():
        key = entry["check"] if entry["check"] and entry["part"] in RERUN_PARTS else f"grader:{entry['part']}"
        tests.append(_test(entry, None if broken else by_check.get(key), broken))
    score = round(sum(t["score"] for t in tests), 2)
    possible = sum(t["max_score"] for t in tests)
    head = (f"The kit re-ran your code offline with its own fake Stripe: {score:g} of {possible:g} points it can "
            "decide. Items for the grader are scored by a person. `labkit check` in your copy of the kit runs the "
            "same checks on your machine.")
    if broken:
        head = f"Your submission could not be graded: {broken}\n\n{head}"
    return {"score": score, "execution_time": round(seconds, 1), "output": head, "output_format": "text",
            "test_output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def failure_results(why: str) -> dict[str, Any]:
    """What to write when the grading itself broke: every rubric item a failing test saying why."""
    return results_for({"items": [{"check": RUN_CHECK, "status": "missing", "evidence": why}]})


def grade_submission(root: Path, work: Path, timeout: float) -> dict[str, Any]:
    """Find the code under ``root/submission`` (unpacking a zip) and grade it as ``labkit grade`` does."""
    submitted = root / "submission"
    if not submitted.is_dir():
        return _broken("submission", f"no submission folder at {submitted}")
    folder = find_code_folder(submitted)
    zips = sorted(p for p in submitted.rglob("*.zip") if "__MACOSX" not in p.parts)
    if folder is None and zips:
        try:
            safe_unzip(zips[0], work / "unzipped")
        except Exception as exc:  # noqa: BLE001 - a bad zip is this student's failing test
            return _broken("submission", f"cannot unpack {zips[0].name}: {exc}")
        folder = find_code_folder(work / "unzipped")
    if folder is None:
        return _broken("submission", "no checkout_server.py or webhook_handler.py found in the submission "
                                     "(upload the files, the folder, or a zip of it)")
    return grade_one(Submission("submission", submitted, folder), work, timeout)


def write_results(root: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Grade and write ``root/results/results.json``; never raises, never leaves the file missing."""
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="labkit-gradescope-") as tmp:
            data = results_for(grade_submission(root, Path(tmp), timeout), time.monotonic() - start)
    except BaseException as exc:  # noqa: BLE001 - results.json must exist whatever happened
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        data = failure_results(f"the autograder failed ({last[:300]}); ask course staff to re-run it")
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.autograder.gradescope")
    parser.add_argument("--root", type=Path, default=Path("/autograder"), help="Gradescope's folder (default /autograder)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds for the submission")
    args = parser.parse_args(argv)
    path = write_results(args.root, args.timeout)
    data = json.loads(path.read_text(encoding="utf-8"))
    print(f"wrote {path}: {data['score']:g} points, {len(data['tests'])} tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
