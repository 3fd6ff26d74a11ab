"""The Gradescope autograder: the zip, setup.sh's steps that can run here, and run_autograder against
made-up submissions in a temporary /autograder, every results.json checked against Gradescope's fields."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from labkit.autograder import gradescope
from labkit.autograder.bundle import build_zip

from .submissions.builder import build
from labkit.checks.items import rubric

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
# Written from Gradescope's documented results.json fields (gradescope-autograders.readthedocs.io, "Autograder
# Specifications"; see /shared/reference/course_platforms.md): nothing else is allowed, so a typo fails here.
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"}, "output_format": FORMAT, "test_output_format": FORMAT,
        "test_name_format": FORMAT, "visibility": VISIBILITY, "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"}, "leaderboard": {"type": "array"},
        "tests": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "score", "max_score"],
            "properties": {
                "score": {"type": "number", "minimum": 0}, "max_score": {"type": "number", "minimum": 0},
                "status": {"enum": ["passed", "failed"]}, "name": {"type": "string", "minLength": 1},
                "name_format": FORMAT, "number": {"type": "string"}, "output": {"type": "string"},
                "output_format": FORMAT, "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY, "extra_data": {"type": "object"},
            }}},
    },
}


def validate(data: dict) -> dict:
    jsonschema.validate(data, SCHEMA)
    for test in data["tests"]:
        assert test["score"] <= test["max_score"] or test["max_score"] == 0, test
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    return data


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The zip, unpacked where Gradescope puts it: <root>/source."""
    top = tmp_path_factory.mktemp("gradescope")
    zip_path = build_zip(top / "autograder.zip")
    source = top / "source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
    for name in ("setup.sh", "run_autograder"):
        (source / name).chmod(0o755)
    return zip_path, source


def run_autograder(source: Path, root: Path, script: Path | None = None, **env: str) -> dict:
    (root / "results").mkdir(parents=True, exist_ok=True)
    environ = {**os.environ, "LABKIT_AUTOGRADER_ROOT": str(root), "LABKIT_AUTOGRADER_PYTHON": sys.executable,
               "LABKIT_START_TIMEOUT": "5", **env}
    proc = subprocess.run(["bash", str(script or source / "run_autograder")], env=environ, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return validate(json.loads((root / "results" / "results.json").read_text(encoding="utf-8")))


def by_check(data: dict) -> dict:
    return {t.get("extra_data", {}).get("check"): t for t in data["tests"]}


def test_the_zip_has_gradescopes_two_scripts_and_the_kit(autograder):
    zip_path, _ = autograder
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        fallback = json.loads(zf.read("fallback_results.json"))
    assert {"setup.sh", "run_autograder", "pyproject.toml", "constraints.txt", "labkit/checks/run.py",
            "labkit/data/rubric.json"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert not any(n.startswith(("tests/", "notebooks/", ".venv/")) for n in names)
    validate(fallback)
    assert fallback["tests"][0]["status"] == "failed" and "did not start" in fallback["tests"][0]["output"]


def test_setup_sh_makes_the_kits_virtualenv_from_an_allowed_python(autograder, tmp_path):
    _, source = autograder
    venv = tmp_path / "venv"
    proc = subprocess.run(["bash", str(source / "setup.sh")], capture_output=True, text=True, timeout=300, env={
        **os.environ, "LABKIT_AUTOGRADER_SOURCE": str(source), "LABKIT_VENV": str(venv),
        "LABKIT_PYTHON": sys.executable, "LABKIT_SETUP_SKIP": "apt python-install install chromium"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipping install" in proc.stdout and "using " in proc.stdout
    version = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.version_info[:3])"],
                             capture_output=True, text=True, check=True).stdout
    assert (3, 11, 5) <= tuple(int(x) for x in version.strip("()\n").split(",")) < (3, 15)


def test_setup_sh_refuses_a_python_the_pins_do_not_allow(autograder, tmp_path):
    _, source = autograder
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("python3", "python3.11", "python3.12", "python3.13", "python3.14"):  # all say "3.10"
        (fake_bin / name).write_text("#!/bin/sh\nexit 1\n")
        (fake_bin / name).chmod(0o755)
    proc = subprocess.run(["bash", str(source / "setup.sh")], capture_output=True, text=True, timeout=60, env={
        "PATH": f"{fake_bin}:/usr/bin:/bin", "LABKIT_AUTOGRADER_SOURCE": str(source), "LABKIT_VENV": str(tmp_path / "v"),
        "LABKIT_SETUP_SKIP": "apt python-install install chromium"})
    assert proc.returncode == 1
    assert "no Python 3.11.5 to 3.14" in proc.stderr
    assert not (tmp_path / "v").exists()


def test_run_autograder_grades_the_solution_with_the_rubrics_points(autograder, tmp_path, chromium):
    _, source = autograder
    build("solution", tmp_path / "submission")
    data = run_autograder(source, tmp_path)
    tests = by_check(data)
    points = {e["check"]: e.get("points") for part in rubric()["parts"] for e in part["items"] if e.get("check")}
    assert tests["scenario:success"]["status"] == "passed"
    assert tests["scenario:success"]["max_score"] == points["scenario:success"]
    assert tests["webhook:succeeded"]["score"] == points["webhook:succeeded"]
    assert all(t["status"] == "passed" for t in data["tests"] if "status" in t)
    grader = [t for t in data["tests"] if "for the grader" in t["name"]]
    assert grader and all(t["max_score"] == 0 and "status" not in t for t in grader)
    assert data["score"] == 81  # the 100 points less Part A and the items for the grader


def test_run_autograder_unpacks_a_zipped_starter_and_fails_its_checks_with_hints(autograder, tmp_path, chromium):
    _, source = autograder
    build("starter", tmp_path / "work" / "submission")  # as `labkit export` writes it: submission/ inside
    (tmp_path / "submission").mkdir()
    shutil.make_archive(str(tmp_path / "submission" / "lab09"), "zip", tmp_path / "work")
    data = run_autograder(source, tmp_path)
    tests = by_check(data)
    assert tests["scenario:success"]["status"] == "failed" and tests["scenario:success"]["score"] == 0
    assert "NotImplementedError" in tests["webhook:succeeded"]["output"]
    assert "Hint:" in tests["webhook:succeeded"]["output"]
    assert data["score"] < 20


def test_a_timeout_is_a_failing_test_naming_it(autograder, tmp_path):
    _, source = autograder
    build("hangs", tmp_path / "submission")
    data = run_autograder(source, tmp_path, LABKIT_GRADE_TIMEOUT="3")
    first = data["tests"][0]
    assert first["status"] == "failed" and "stopped after 3 s" in first["output"]
    assert by_check(data)["scenario:success"]["output"].startswith("Not graded: stopped after 3 s")
    assert sum(t["max_score"] for t in data["tests"]) == 81  # the rubric's points are all still there
    assert data["score"] == 0


def test_no_code_and_a_broken_kit_each_still_write_results(autograder, tmp_path):
    _, source = autograder
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "notes.txt").write_text("I could not finish")
    data = run_autograder(source, tmp_path)
    assert "no checkout_server.py" in data["tests"][0]["output"]
    data = run_autograder(source, tmp_path, LABKIT_AUTOGRADER_PYTHON="/bin/false")  # the kit cannot even start
    assert "did not start" in data["tests"][0]["output"] and data["score"] == 0
    assert sum(t["max_score"] for t in data["tests"]) == 81
    # as Gradescope runs it: a copy of the script in the root, the zip unpacked in root/source
    shutil.copy(source / "run_autograder", tmp_path / "run_autograder")
    (tmp_path / "source").symlink_to(source, target_is_directory=True)
    data = run_autograder(source, tmp_path, tmp_path / "run_autograder", LABKIT_AUTOGRADER_PYTHON="/bin/false")
    assert sum(t["max_score"] for t in data["tests"]) == 81
    (tmp_path / "source").unlink()  # not even the fallback file: still a results.json saying so
    data = run_autograder(source, tmp_path, tmp_path / "run_autograder", LABKIT_AUTOGRADER_PYTHON="/bin/false")
    assert data["tests"][0]["status"] == "failed" and "could not start" in data["tests"][0]["name"]


def test_a_check_marked_after_the_due_date_is_hidden_until_then_and_still_counts(monkeypatch):
    rubric = gradescope.rubric()
    for part in rubric["parts"]:
        for entry in part["items"]:
            if entry.get("check") == "webhook:duplicate":
                entry["visibility"] = "after_due_date"
    monkeypatch.setattr(gradescope, "rubric", lambda: rubric)
    graded = {"items": [{"part": "C", "check": "webhook:duplicate", "status": "evidenced", "evidence": "one order",
                         "points": 5.0, "max_points": 5, "hint": ""},
                        {"part": "C", "check": "webhook:signature", "status": "partial", "evidence": "half",
                         "points": 4.0, "max_points": 8, "hint": "refuse unsigned events"}]}
    data = validate(gradescope.results_for(graded))
    tests = by_check(data)
    assert tests["webhook:duplicate"]["visibility"] == "after_due_date" and tests["webhook:duplicate"]["score"] == 5
    assert tests["webhook:signature"]["visibility"] == "visible"
    assert tests["webhook:signature"]["status"] == "failed" and tests["webhook:signature"]["score"] == 4
    assert "Hint: refuse unsigned events" in tests["webhook:signature"]["output"]
    assert data["score"] == 9


def test_an_unknown_visibility_in_the_rubric_is_refused_by_name(monkeypatch):
    rubric = gradescope.rubric()
    rubric["parts"][1]["items"][0]["visibility"] = "later"
    monkeypatch.setattr(gradescope, "rubric", lambda: rubric)
    with pytest.raises(ValueError, match="'later'.*after_due_date"):
        gradescope.rubric_tests()


def test_the_command_writes_the_zip_and_refuses_another_suffix(tmp_path, capsys):
    from labkit.cli import main

    assert main(["autograder", "gradescope", str(tmp_path / "ag.tar")]) == 2
    assert "should end in .zip" in capsys.readouterr().out
    assert main(["autograder", "gradescope", str(tmp_path / "ag.zip")]) == 0
    assert "2 GB of memory" in capsys.readouterr().out
    assert zipfile.is_zipfile(tmp_path / "ag.zip")
