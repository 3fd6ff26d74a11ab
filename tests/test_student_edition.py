"""The student edition as a student gets it: its notebooks run top to bottom without an error and
report each exercise as not done yet; `labkit check` there reports made-up student work as it deserves."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.release import build
from labkit.settings import project_root

from .submissions.builder import EXPECTED

ROOT = project_root(Path(__file__).parent)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    return build(tmp_path_factory.mktemp("kit") / "student").dest


def edition_env(edition: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
    env.update(PYTHONPATH=str(edition), LABKIT_BACKEND="fake", PYTHONIOENCODING="utf-8", **extra)
    return env


def labkit_check(folder: Path, edition: Path, tmp: Path) -> dict[str, dict]:
    out = tmp / "check.json"
    proc = subprocess.run([sys.executable, "-m", "labkit.cli", "check", "--json", str(out), "--folder", str(folder)],
                          cwd=edition, env=edition_env(edition, LABKIT_ANSWERS=str(folder / "answers")),
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr
    items = {i["check"]: i for i in json.loads(out.read_text())["items"]}
    missing = any(i["status"] == "missing" for i in items.values())
    assert proc.returncode == (1 if missing else 0), proc.stdout[-2000:] + proc.stderr[-2000:]  # for CI
    return items


def test_the_untouched_edition_reports_every_exercise_not_done(edition, tmp_path):
    got = labkit_check(edition, edition, tmp_path)
    for check in ("checkout:server_price", "scenario:success", "webhook:signature", "webhook:succeeded",
                  "pci:answered", "pci:gaps", "altpay:words", "altpay:two_methods"):
        assert got[check]["status"] == "missing", (check, got[check])
    assert "not done yet" in got["checkout:server_price"]["evidence"] or \
        "NotImplementedError" in got["webhook:succeeded"]["evidence"]


@pytest.mark.parametrize("kind", ["solution", "handout_style", "declines_shown_as_success"])
def test_made_up_work_dropped_into_the_edition(edition, tmp_path, kind):
    work = tmp_path / "work"
    EXPECTED[kind][0](work)
    got = labkit_check(work, edition, tmp_path)
    for check, status in EXPECTED[kind][1].items():
        assert got[check]["status"] == status, (kind, check, got[check])


def test_its_notebooks_run_clean_and_say_not_done(edition, tmp_path):
    from labkit.notebooks import execute, notebook_paths

    env = edition_env(edition, LABKIT_OUT=str(tmp_path / "out"))
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        for path in notebook_paths(edition / "notebooks"):
            nb = execute(path, write=False)  # raises NotebookFailed on the first error
            text = "\n".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
            if path.name.startswith(("02", "03", "04", "05")):
                assert "[missing]" in text, f"{path.name} does not report the exercises not done"
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ------------------------------------------------------------------ the edition's own tests (issue 31)
@pytest.mark.parametrize("work", ["untouched starter", "finished correct submission"])
def test_the_editions_own_tests_pass_before_and_after_the_work(tmp_path_factory, work):
    """`python3 run.py test` in the edition (less the notebooks, which test_its_notebooks_run_clean runs):
    green on the starter a student receives, and green again once the work is done and right, on every run."""
    import shutil as _shutil

    from .submissions.builder import solution

    kit = build(tmp_path_factory.mktemp("suite") / "student").dest
    if work.startswith("finished"):
        done = tmp_path_factory.mktemp("done")
        solution(done)  # the solution's code, a complete checklist and an essay of the student's own
        for name in ("checkout_server.py", "webhook_handler.py"):
            _shutil.copy(done / name, kit / name)
        for folder in ("templates", "static", "answers"):
            _shutil.copytree(done / folder, kit / folder, dirs_exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "-x"], cwd=kit,
                          env=edition_env(kit), capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
