"""Grade one submission in this process: ``python -m labkit.grading.one FOLDER --out FILE``.

Run by :mod:`labkit.grading.cli` as a child with a time limit: a student's code that hangs or
crashes this process costs one row, never the class. Offline only: each child starts its own
fake Stripe on free ports, and each student server gets its own temporary database.

``--confine`` (from the class grader) runs the student's servers confined
(:mod:`labkit.student.confine`); ``--hide FOLDER`` (Linux as root) first moves this process into
namespaces of its own, where FOLDER (the class) is hidden and there is no network but loopback.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from labkit.grading.collect import answers_folder
from labkit.settings import OFFLINE_PUBLISHABLE_KEY, OFFLINE_SECRET_KEY, load_settings, project_root
from labkit.student import confine as jail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.grading.one")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--screenshots", type=Path, default=None)
    parser.add_argument("--confine", default="", help="labkit.student.confine.Confinement as JSON")
    parser.add_argument("--hide", type=Path, action="append", default=[], help="Linux as root: hidden folders")
    args = parser.parse_args(argv)

    isolated = False
    if args.hide and jail.can_isolate():  # first, while this process has one thread

        try:
            jail.isolate(args.hide, project_root(Path(__file__).parent))
            isolated = True
        except OSError as exc:  # a container without CAP_SYS_ADMIN: the rest of the confinement still applies
            print(f"labkit: no namespaces here ({exc}); grading without them", file=sys.stderr)
    confinement = jail.Confinement.from_arg(args.confine) if args.confine else None
    if confinement is not None and confinement.uid is not None and not isolated and jail.runtime_closed():
        confinement = dataclasses.replace(confinement, uid=None)  # its user could not even start Python

    # deferred until the sandbox above is set: the checks import stripe, requests and waitress
    from labkit.checks.report import as_json
    from labkit.checks.run import run_checks

    # Always offline, whatever keys the grader's environment holds: each student gets a fresh fake Stripe.
    settings = load_settings(env_file=None).with_(backend="fake", secret_key=OFFLINE_SECRET_KEY,
                                                 publishable_key=OFFLINE_PUBLISHABLE_KEY, webhook_secret=None,
                                                 api_base=None, confine=confinement)
    items = run_checks(args.folder, settings, parts="BCDE", answers_dir=answers_folder(args.folder),
                       screenshots=args.screenshots)
    data = as_json(items)
    data["items"].insert(0, {"part": "A", "check": "grader:A", "status": "for the grader", "title": "Stripe setup",
                             "evidence": "judged from the student's Dashboard screenshot: the grader's re-run uses "
                                         "its own fake Stripe", "points": None, "max_points": None, "hint": ""})
    if jail.LIMIT_HITS:
        data["items"].append({"part": "-", "check": "grade:limits", "status": "for the grader", "title": "limits hit",
                              "evidence": "; ".join(jail.LIMIT_HITS), "points": None, "max_points": None,
                              "hint": "The student's code was stopped at a grading limit (see the README's "
                                      "'What grading does to the student's code')."})
    if confinement is not None:
        data["confinement"] = jail.describe(confinement, isolated)
    args.out.write_text(json.dumps(data), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
