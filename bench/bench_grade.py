"""How long `labkit grade` takes per student on this machine (a figure, not a test).

    .venv/bin/python bench/bench_grade.py [--students 8] [--jobs 2]

Builds a made-up class (the solution, the untouched starter, the handout-style code and a typical
mistake, repeated), grades it with the given parallelism, and prints seconds per student and
the time a class of 30 would take at that rate. Goal (issue 11): under 15 s per student, 30 students
in under 8 minutes on the 2-core machine.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labkit.grading.cli import grade_class  # noqa: E402
from tests.submissions.builder import build  # noqa: E402

KINDS = ["solution", "starter", "handout_style", "declines_shown_as_success"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    kinds = KINDS
    with tempfile.TemporaryDirectory() as tmp:
        class_dir = Path(tmp) / "class"
        for i in range(args.students):
            build(kinds[i % len(kinds)], class_dir / f"student{i:02d}_{kinds[i % len(kinds)]}" / "submission")
        start = time.perf_counter()
        results = grade_class(class_dir, jobs=args.jobs, progress=False)
        took = time.perf_counter() - start
    broken = sum(1 for r in results if r["items"][0]["check"] == "grade:run")
    per = took / len(results)
    print(f"students graded      {len(results)} ({broken} stopped by the time limit or a crash)")
    print(f"parallel jobs        {args.jobs}")
    print(f"wall time            {took:6.1f} s")
    print(f"seconds per student  {per:6.1f} s (wall time / students)")
    print(f"a class of 30        {30 * per / 60:6.1f} min at this rate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
