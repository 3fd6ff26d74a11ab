"""`labkit grade … --canvas ROSTER.csv OUT.csv`: the roster's identity columns and one column for the lab;
folders matched to a login or a name, unmatched ones listed, never guessed."""
from __future__ import annotations

import argparse
import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.grading import canvas
from labkit.grading.cli import run_grade

HEADER = "Student,ID,SIS User ID,SIS Login ID,Section,Lab 08 (1201)"
ROSTER = f"""{HEADER}
    Points Possible,,,,,10
"Doe, Jane",1001,S1,jdoe@uni.edu,ITEC-442-01,9
"Lee, Sam",1002,S2,slee,ITEC-442-01,7
"Lee, Sam",1003,S3,slee2,ITEC-442-02,8
"Ngo, Anh Thu",1004,S4,angoo,ITEC-442-02,10
"Park, Min",1005,S5,mpark,ITEC-442-02,
"""


def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("\ufeff" + ROSTER, encoding="utf-8")  # Canvas writes a byte-order mark
    return canvas.read_roster(path)


def test_folders_match_a_login_or_a_name_and_the_rest_are_listed(tmp_path):
    rows = roster(tmp_path)
    assert [r["ID"] for r in rows] == ["1001", "1002", "1003", "1004", "1005"]  # Points Possible row skipped
    points = {"jdoe": 70.0,                       # the login's part before @
              "anh_thu_ngo": 81.0,                # the name, in another order and form
              "parkmin_1005_778899_lab09": 40.5,  # Canvas's own submission download name: the user ID inside
              "Sam Lee": 60.0,                    # two roster rows are called Sam Lee: never guessed
              "zed": 12.0}                        # nobody
    export = canvas.canvas_export(points, rows, possible=81)
    by_id = {r["ID"]: r for r in export.rows}
    assert by_id["1001"]["Lab 09 (kit points)"] == "70"
    assert by_id["1004"]["Lab 09 (kit points)"] == "81"
    assert by_id["1005"]["Lab 09 (kit points)"] == "40.5"
    assert by_id["1002"]["Lab 09 (kit points)"] == by_id["1003"]["Lab 09 (kit points)"] == ""
    assert any(u.startswith("Sam Lee: matches 2 roster rows") for u in export.unmatched)
    assert any(u.startswith("zed: no roster row") for u in export.unmatched)
    assert export.without_submission == ["Lee, Sam", "Lee, Sam"]


def test_the_file_has_canvass_header_and_a_points_possible_row(tmp_path):
    export = canvas.canvas_export({"slee2": 50.0, "mpark": None}, roster(tmp_path), possible=81)
    path = canvas.write_canvas(export, tmp_path / "out.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Student,ID,SIS User ID,SIS Login ID,Section,Lab 09 (kit points)"
    assert lines[1] == "Points Possible,,,,,81"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows[3] == {"Student": "Lee, Sam", "ID": "1003", "SIS User ID": "S3", "SIS Login ID": "slee2",
                       "Section": "ITEC-442-02", "Lab 09 (kit points)": "50"}
    assert rows[5]["Lab 09 (kit points)"] == ""  # could not be graded: left as it is in Canvas
    assert export.not_graded == ["mpark (Park, Min)"]
    assert "Lab 08 (1201)" not in lines[0]  # other assignments are never overwritten


def test_two_submissions_for_one_student_are_both_listed(tmp_path):
    export = canvas.canvas_export({"jdoe": 10.0, "Jane Doe": 70.0}, roster(tmp_path))
    assert all(r["Lab 09 (kit points)"] == "" for r in export.rows)
    assert len([u for u in export.unmatched if "has 2 submissions" in u]) == 2


def test_a_roster_that_is_not_a_canvas_export_is_refused_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email\nJane,j@x\n", encoding="utf-8")
    with pytest.raises(canvas.RosterError, match="no 'Student' or 'ID' column"):
        canvas.read_roster(bad)
    (tmp_path / "class").mkdir()
    args = argparse.Namespace(class_dir=tmp_path / "class", json=None, csv=None, html=None, jobs=1, timeout=30,
                              canvas=[bad, tmp_path / "c.csv"], canvas_column=None)
    assert run_grade(args) == 2
    assert "export the gradebook from Canvas" in capsys.readouterr().out
    assert not (tmp_path / "c.csv").exists()


def test_labkit_grade_writes_the_canvas_file(tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    (tmp_path / "class" / "jdoe").mkdir(parents=True)  # no code: graded as "could not be graded"
    (tmp_path / "class" / "stranger").mkdir()
    args = argparse.Namespace(class_dir=tmp_path / "class", json=None, csv=None, html=None, jobs=1, timeout=30,
                              canvas=[path, tmp_path / "canvas.csv"], canvas_column="Lab 09 Stripe")
    assert run_grade(args) == 0
    out = capsys.readouterr().out
    assert "stranger: no roster row" in out and "jdoe (Doe, Jane)" in out
    assert (tmp_path / "canvas.csv").read_text().splitlines()[0].endswith(",Lab 09 Stripe")


names = st.text(alphabet="abcdefghij", min_size=2, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(names, names), min_size=1, max_size=8), st.data())
def test_a_folder_is_never_given_another_students_grade(people, data):
    rows = [{"Student": f"{last.title()}, {first.title()}", "ID": str(1000 + n), "SIS Login ID": f"u{n}x"}
            for n, (first, last) in enumerate(people)]
    n = data.draw(st.integers(0, len(rows) - 1))
    first, last = people[n]
    folder = data.draw(st.sampled_from([f"u{n}x", f"{first}_{last}", f"{last}{first}", f"{first.title()} {last}"]))
    found, unmatched = canvas.match([folder], rows)
    if folder in found:
        got = rows[found[folder]]
        assert got["ID"] == rows[n]["ID"] or got["Student"] == rows[n]["Student"], (folder, got, rows[n])
        same = [r for r in rows if r["Student"] == rows[n]["Student"]]
        assert folder == f"u{n}x" or len(same) == 1 or got["SIS Login ID"] == folder
    else:
        assert unmatched and unmatched[0].startswith(folder)
