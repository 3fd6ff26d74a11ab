"""GitHub Classroom: the student edition's workflow, parsed, and each command it names run here as the
command grader runs it (the workflow's own command line, a minimal environment); exit statuses and points
agree with `labkit check`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from labkit.autograder import classroom
from labkit.checks.items import rubric
from labkit.release import build as release

from .submissions.builder import build

GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
VENV = Path(sys.executable).parents[1]


def grader_steps(text: str) -> list[dict]:
    steps = yaml.safe_load(text)["jobs"]["run-autograding-tests"]["steps"]
    return [s for s in steps if s.get("uses") == GRADER]


def test_the_workflow_grades_every_check_with_the_rubrics_points_and_reports_them():
    data = yaml.safe_load(classroom.workflow())
    assert set(data["on"]) >= {"push"} and data["permissions"]["checks"] == "write"
    steps = data["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses") == GRADER]
    expected = {e["check"]: e["points"] for p in rubric()["parts"] if p["part"] in "BCDE"
                for e in p["items"] if e.get("check") and e.get("points")}
    assert {s["with"]["command"].split()[-1]: s["with"]["max-score"] for s in graders} == expected
    assert sum(expected.values()) == 81
    for s in graders:
        assert s["with"]["command"].startswith(".venv/bin/labkit classroom-check ")
        assert isinstance(s["with"]["max-score"], int) and s["with"]["timeout"] <= 10
    reporter = steps[-1]
    assert reporter["uses"] == REPORTER
    ids = [s["id"] for s in graders]
    assert reporter["with"]["runners"].split(",") == ids and len(set(ids)) == len(ids)
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids}
    setup = "\n".join(s.get("run", "") for s in steps)
    assert "python3 run.py setup" in setup and "STRIPE" not in classroom.workflow()  # offline: no secrets


def test_an_unknown_check_is_refused_in_one_line(capsys):
    import argparse

    assert classroom.run_classroom_check(argparse.Namespace(check="scenario:nope")) == 2
    assert "scenario:success" in capsys.readouterr().out


def test_each_workflow_command_agrees_with_labkit_check(tmp_path, chromium):
    repo = release(tmp_path / "student").dest  # the student edition, as the Classroom template repository
    text = (repo / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    assert text == classroom.workflow()
    work = tmp_path / "made-up"
    build("declines_shown_as_success", work)  # some checks pass, some fail, one is partial
    for entry in work.iterdir():
        target = repo / entry.name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        shutil.move(str(entry), target)
    (repo / ".venv").symlink_to(VENV)
    # the command grader passes the command only PATH and HOME (and colour settings)
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), "FORCE_COLOR": "true"}
    got = {}
    for step in grader_steps(text):
        proc = subprocess.run(step["with"]["command"], shell=True, cwd=repo, env=env, capture_output=True, text=True,
                              timeout=step["with"]["timeout"] * 60)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        got[step["with"]["command"].split()[-1]] = (proc.returncode, step["with"]["max-score"] if proc.returncode == 0
                                                    else 0)
    subprocess.run([str(VENV / "bin" / "labkit"), "check", "--part", "B", "--part", "C", "--part", "D", "--part", "E",
                    "--json", str(tmp_path / "check.json")], cwd=repo, env=env, capture_output=True, timeout=600)
    items = {i["check"]: i for i in json.loads((tmp_path / "check.json").read_text())["items"]}
    statuses = set()
    for check, (code, points) in got.items():
        item = items[check]
        statuses.add(item["status"])
        assert (code == 0) == (item["status"] == "evidenced"), (check, code, item)
        if item["status"] != "partial":  # all or nothing on Classroom: a partial item scores 0 there
            assert points == item["points"], (check, points, item)
    assert {"evidenced", "missing", "partial"} <= statuses  # the agreement was tested on each kind of result


def test_the_checks_stay_offline_whatever_keys_are_around(monkeypatch, tmp_path):
    from labkit.settings import OFFLINE_SECRET_KEY, offline_settings

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_" + "a" * 24)  # a student's key in the runner or a .env
    monkeypatch.setenv("LABKIT_BACKEND", "stripe")
    monkeypatch.setenv("LABKIT_STRIPE_API_BASE", "http://127.0.0.1:9")
    settings = offline_settings()
    assert settings.offline and settings.secret_key == OFFLINE_SECRET_KEY and settings.api_base is None
