"""GitHub Classroom: the student edition's workflow, and ``labkit classroom-check CHECK``, the command it runs.

:func:`workflow` writes ``.github/workflows/classroom.yml`` from ``labkit/data/rubric.json``: one
``classroom-resources/autograding-command-grader`` step per check that has points (its
``max-score`` the rubric's points), then ``classroom-resources/autograding-grading-reporter``.
``labkit release student`` puts it in the student edition.

Each step runs ``labkit classroom-check CHECK``, which exits 0 only when that check is evidenced.
It runs the check's whole part once (the first step of a part; the others read the result from
``out/classroom/part-X.json``, kept only while the student's files are unchanged), always offline
with the kit's fake Stripe, whatever ``.env`` holds. It is its own command, not ``labkit check``'s
exit status, so a change there cannot change a grade here. The command grader is all or nothing
with whole points, so a ``partial`` check scores 0 on Classroom where ``labkit check`` suggests half.
Part A (the student's own Stripe account) and the items for the grader stay with the grader, as on
Gradescope.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from labkit.checks.items import EVIDENCED, rubric
from labkit.checks.report import as_json
from labkit.checks.run import run_checks
from labkit.settings import offline_settings

RERUN_PARTS = "BCDE"  # as on Gradescope (labkit.autograder.gradescope): Part A is the grader's
COMMAND = ".venv/bin/labkit classroom-check"
STEP_TIMEOUT_MINUTES = 10
STUDENT_FILES = ("checkout_server.py", "webhook_handler.py", "templates", "static", "answers")


def graded_checks() -> list[dict[str, Any]]:
    """The checks the workflow grades: {part, check, title, points}, in the rubric's order."""
    return [{"part": part["part"], "check": entry["check"], "title": entry["text"], "points": int(entry["points"])}
            for part in rubric()["parts"] if part["part"] in RERUN_PARTS
            for entry in part["items"] if entry.get("check") and entry.get("points")]


def step_id(check: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", check.lower()).strip("-")


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def workflow() -> str:
    """The text of ``.github/workflows/classroom.yml``."""
    checks = graded_checks()
    lines = [
        "# GitHub Classroom autograding for Lab 09, written by `labkit release student` from labkit/data/rubric.json.",
        "# Each step runs one rubric check offline (the kit's fake Stripe; no keys, no network needed) and gives",
        "# its points only when the check passes. Run any step yourself: the same command, in your own copy.",
        "name: Autograding Tests",
        '"on":', "  - push", "  - workflow_dispatch", "  - repository_dispatch",
        "permissions:", "  checks: write", "  actions: read", "  contents: read",
        "jobs:", "  run-autograding-tests:", "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'", "    timeout-minutes: 40", "    steps:",
        "      - name: Checkout code", "        uses: actions/checkout@v4",
        "      - name: Python for the kit", "        uses: actions/setup-python@v5",
        "        with:", '          python-version: "3.13"',
        "      - name: Set up the kit (pinned packages and Chromium)",
        "        run: |", "          python3 run.py setup",
        "          sudo .venv/bin/python -m playwright install-deps chromium",
    ]
    for c in checks:
        part, check, title = c["part"], c["check"], c["title"]
        lines += [
            f"      - name: {_quoted(f'Part {part}: {check}')}",
            f"        id: {step_id(check)}",
            "        uses: classroom-resources/autograding-command-grader@v1",
            "        with:",
            f"          test-name: {_quoted(f'{check}: {title}')}",
            '          setup-command: ""',
            f"          command: {_quoted(f'{COMMAND} {check}')}",
            f"          timeout: {STEP_TIMEOUT_MINUTES}",
            f"          max-score: {c['points']}",
        ]
    lines += ["      - name: Autograding Reporter", "        uses: classroom-resources/autograding-grading-reporter@v1",
              "        env:"]
    ids = [step_id(c["check"]) for c in checks]
    lines += [f'          {i.upper()}_RESULTS: "${{{{steps.{i}.outputs.result}}}}"' for i in ids]
    lines += ["        with:", f"          runners: {','.join(ids)}"]
    return "\n".join(lines) + "\n"


def write_workflow(dest: Path) -> Path:
    path = Path(dest) / ".github" / "workflows" / "classroom.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow(), encoding="utf-8", newline="\n")
    return path


def files_fingerprint(folder: Path) -> str:
    """A hash of the student's files, so a cached part result is used only while they are unchanged."""
    digest = hashlib.sha256()
    for name in STUDENT_FILES:
        top = folder / name
        paths = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top] if top.is_file() else []
        for path in paths:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def part_items(part: str, settings: Any) -> list[dict[str, Any]]:
    """The part's items (labkit check's JSON), run once per version of the student's files."""
    cache = settings.classroom_dir / f"part-{part}.json"
    fingerprint = files_fingerprint(settings.root)
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved.get("fingerprint") == fingerprint:
            return saved["items"]
    except (OSError, ValueError, AttributeError):
        pass
    items = as_json(run_checks(None, settings, parts={part}, screenshots=settings.classroom_dir / "screens"))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"fingerprint": fingerprint, **items}, indent=1), encoding="utf-8")
    return items["items"]


def add_classroom_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("check", help="a rubric check id, e.g. scenario:success")


def run_classroom_check(args: argparse.Namespace) -> int:
    entry = next((c for c in graded_checks() if c["check"] == args.check), None)
    if entry is None:
        print(f"labkit classroom-check: {args.check!r} is not a check with points in Parts {', '.join(RERUN_PARTS)}; "
              f"use one of {', '.join(c['check'] for c in graded_checks())}")
        return 2
    # Always offline: the runner has no keys, and a committed .env must not send the checks to Stripe.
    settings = offline_settings()
    found = next((i for i in part_items(entry["part"], settings) if i["check"] == args.check), None)
    if found is None:
        print(f"{args.check}: missing: the checks of Part {entry['part']} reported nothing for it")
        return 1
    print(f"{args.check}: {found['status']}: {found['evidence']}")
    if found["status"] != EVIDENCED and found.get("hint"):
        print(f"hint: {found['hint']}")
    return 0 if found["status"] == EVIDENCED else 1
