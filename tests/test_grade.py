"""Class grading on a made-up class (tests/submissions/builder.py): each submission graded as it
deserves, broken ones in their own rows, and nothing stops the class."""
from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from labkit.grading import table
from labkit.grading.cli import grade_class, run_grade
from labkit.grading.collect import collect, safe_unzip, SubmissionError

from .submissions.builder import EXPECTED, build


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    class_dir = tmp_path_factory.mktemp("class")
    for kind in EXPECTED:
        build(kind, class_dir / kind / "submission")
    # one student hands in a zip of the whole folder
    zipped = class_dir / "handout_style_fixed"
    with zipfile.ZipFile(class_dir / "handout_style_fixed.zip", "w") as zf:
        for path in zipped.rglob("*"):
            zf.write(path, path.relative_to(zipped))
    shutil.rmtree(zipped)
    mp = pytest.MonkeyPatch()
    mp.setenv("LABKIT_START_TIMEOUT", "5")
    try:
        results = grade_class(class_dir, jobs=2, timeout=150, progress=False)
    finally:
        mp.undo()
    return class_dir, results


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_submission_is_graded_as_it_deserves(graded, kind):
    _, results = graded
    found = {r["student"]: r for r in results}
    assert kind in found, f"{kind} has no row"
    got = {i["check"]: i for i in found[kind]["items"]}
    for check, status in EXPECTED[kind][1].items():
        assert check in got, f"{kind}: no {check} item"
        assert got[check]["status"] == status, f"{kind} {check}: {got[check]['status']}: {got[check]['evidence']}"
        assert got[check]["evidence"].strip()


def test_broken_submissions_say_why_in_their_own_row(graded):
    _, results = graded
    found = {r["student"]: {i["check"]: i for i in r["items"]} for r in results}
    assert "syntax error" in found["syntax_error"]["checkout:server_price"]["evidence"]
    assert "line" in found["syntax_error"]["checkout:server_price"]["evidence"]
    assert "did not start within" in found["hangs"]["scenario:success"]["evidence"]
    assert "NotImplementedError" in found["starter"]["webhook:succeeded"]["evidence"]


def test_table_csv_html_json(graded, tmp_path):
    _, results = graded
    frame = table.long_table(results)
    assert set(frame["status"]) <= {"evidenced", "missing", "partial", "for the grader"}
    assert frame["student"].nunique() == len(EXPECTED)
    csv = table.write_csv(frame, tmp_path / "g.csv").read_text(encoding="utf-8")
    assert csv.splitlines()[0] == ",".join(table.COLUMNS)
    page = table.write_html(frame, tmp_path / "g.html").read_text(encoding="utf-8")
    assert "declines_shown_as_success" in page and "scenario:success" in page
    data = json.loads(table.write_json(results, tmp_path / "g.json").read_text(encoding="utf-8"))
    one = data["students"][0]
    assert set(one) == {"student", "items"}
    assert {"part", "check", "status", "evidence"} <= set(one["items"][0])
    solution = summary_row(frame, "solution")
    assert solution["kit points"] == solution["of"]


def summary_row(frame, student):
    return table.summary(frame).loc[student]


def test_a_folder_without_code_gets_a_row(tmp_path):
    (tmp_path / "empty_student").mkdir()
    (tmp_path / "empty_student" / "notes.txt").write_text("hello")
    results = grade_class(tmp_path, jobs=1, progress=False)
    assert results[0]["student"] == "empty_student"
    assert results[0]["items"][0]["status"] == "missing"
    assert "checkout_server.py" in results[0]["items"][0]["evidence"]


def test_zip_slip_is_refused(tmp_path):
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(SubmissionError):
        safe_unzip(bad, tmp_path / "out")
    subs = collect(tmp_path, tmp_path / "work")
    assert subs[0].problem and "refused" in subs[0].problem


def test_grade_command_writes_its_files(tmp_path, capsys):
    import argparse

    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "nobody").mkdir()
    args = argparse.Namespace(class_dir=tmp_path / "class", json=tmp_path / "g.json", csv=None, html=None, jobs=1,
                              timeout=30)
    assert run_grade(args) == 0
    assert (tmp_path / "grades.csv").is_file() and (tmp_path / "grades.html").is_file()
    assert json.loads((tmp_path / "g.json").read_text())["students"][0]["student"] == "nobody"
