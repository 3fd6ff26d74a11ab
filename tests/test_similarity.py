"""Copied work: pairs whose own code or essays are unusually similar are reported with the shared passages;
the starter and the handout's code never count; independent work is not reported; no points change."""
from __future__ import annotations

import argparse
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from labkit.grading import similarity
from labkit.grading.cli import run_grade

from .submissions import copied
from .submissions.builder import HANDOUT_STYLE, handout_fixed, handout_style_fixed, solution, starter
from .submissions.handout import handout_code, handout_text

# what two students hand in unchanged: the kit's handout-style code in any clone, the handout's own code too
# when it is at hand (each with its code given to the report as boilerplate)
BASES = ["handout_style"] + (["handout"] if handout_text() is not None else [])

GAPS_A = ("Nobody reviews who can log in to the Stripe Dashboard, and two of us share one password. The checkout "
          "page's scripts are not inventoried, so an injected skimmer would go unnoticed for weeks.")
FIX_A = ("Give each person their own login with two-factor codes, remove the shared account this week, and "
         "keep a signed list of the page's scripts that a nightly job compares with what the site serves.")
GAPS_B = ("Our incident plan is a sentence in an email, and the router at the shop still has its factory password; "
          "the web host's compliance letter was never requested.")
FIX_B = ("Write and rehearse a real incident plan each semester, change every default password on the network "
         "gear, and file the host's attestation of compliance in the shared drive.")


def pairs_of(report, a, b):
    return {p.document: p for p in report if {p.a, p.b} == {a, b}}


@pytest.fixture(scope="module", params=BASES)
def classroom(tmp_path_factory, request):
    top = tmp_path_factory.mktemp("similar")
    folders = {}
    given = handout_fixed if request.param == "handout" else handout_style_fixed
    for name, make in {"alice": solution, "bob": copied.copied_from_solution, "carol": given,
                       "dave": given, "erin": starter, "frank": starter}.items():
        make(top / name)
        folders[name] = top / name
    copied.own_gaps(folders["alice"], GAPS_A, FIX_A)  # bob copied alice's essay; carol wrote her own
    copied.own_gaps(folders["bob"], GAPS_A, FIX_A)
    copied.own_gaps(folders["carol"], GAPS_B, FIX_B)
    (folders["carol"] / "answers" / "part_e.md").write_text(copied.OTHER_ESSAY, encoding="utf-8")
    handout = top / "handout"
    if request.param == "handout_style":
        shutil.copytree(HANDOUT_STYLE, handout)
        return folders, handout
    handout.mkdir()
    for name in ("checkout_server.py", "webhook_handler.py"):
        (handout / name).write_text(handout_code(name), encoding="utf-8")
    return folders, handout


def test_a_disguised_copy_is_reported_with_the_shared_passages(classroom):
    folders, handout = classroom
    found = pairs_of(similarity.similar_pairs(folders, [handout]), "alice", "bob")
    assert {"checkout_server.py", "webhook_handler.py", "static/checkout.js", "answers/part_e.md",
            "answers/pci.json (gaps and remediation)"} <= set(found)
    code = found["checkout_server.py"]
    assert code.similarity > 0.9  # renamed variables and rewritten comments do not hide it
    assert any("def parse_order(data):" in p for p in code.passages)  # the student's own part (the starter's is left out)
    essay = found["answers/part_e.md"]
    assert 0.5 < essay.similarity < 1 and any("wallets such as apple pay" in p for p in essay.passages)


def test_the_starter_and_the_handouts_code_are_never_reported(classroom):
    folders, handout = classroom
    report = similarity.similar_pairs(folders, [handout])
    assert not [p for p in report if {p.a, p.b} & {"erin", "frank"}], "the untouched starter was reported"
    # carol and dave both handed in the handout's code with its one fix: nothing of their own in common
    assert not pairs_of(report, "carol", "dave").keys() - {"answers/part_e.md", "answers/pci.json (gaps and remediation)"}
    # without the handout as boilerplate, the same two are reported: the exclusion is what keeps them out
    assert "checkout_server.py" in pairs_of(similarity.similar_pairs(folders), "carol", "dave")


def test_independent_correct_work_is_not_reported(classroom):
    folders, handout = classroom
    report = similarity.similar_pairs(folders, [handout])
    assert not pairs_of(report, "alice", "carol")  # the kit's solution and a handout-based one, own essays
    assert not pairs_of(report, "bob", "carol")


def test_labkit_grade_puts_the_pairs_in_the_page_and_changes_no_points(classroom, tmp_path, monkeypatch, capsys):
    folders, handout = classroom
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for name in ("alice", "carol"):
        (class_dir / name).symlink_to(folders[name], target_is_directory=True)
    with zipfile.ZipFile(class_dir / "bob.zip", "w") as zf:  # a zipped copy is found too
        for path in folders["bob"].rglob("*"):
            zf.write(path, Path("submission") / path.relative_to(folders["bob"]))
    graded = [{"student": s, "items": [{"part": "B", "check": "scenario:success", "status": "evidenced",
                                        "evidence": "paid", "points": 6.0, "max_points": 6, "hint": ""}]}
              for s in ("alice", "bob", "carol")]
    monkeypatch.setattr("labkit.grading.cli.grade_class", lambda *a, **k: graded)  # the grading is tested elsewhere
    args = argparse.Namespace(class_dir=class_dir, json=tmp_path / "g.json", csv=None, html=tmp_path / "g.html",
                              jobs=1, timeout=30, boilerplate=[handout])
    assert run_grade(args) == 0
    assert "Similar work: 1 pair(s) of submissions" in capsys.readouterr().out
    page = (tmp_path / "g.html").read_text(encoding="utf-8")
    section = page[page.index("<h2 id='similar'>"):page.index("<h2>Evidence per student")]
    assert "alice" in section and "bob" in section and "carol" not in section
    assert "def parse_order(data):" in section  # a shared passage of the students' own code
    assert (tmp_path / "grades.csv").read_text().count(",6.0,6") == 3  # the points are untouched
    similar = json.loads((tmp_path / "g.json").read_text())["similar"]
    assert {(p["a"], p["b"]) for p in similar} == {("alice", "bob")} and similar[0]["passages"]


def test_a_missing_boilerplate_path_is_one_line(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    args = argparse.Namespace(class_dir=tmp_path / "class", json=None, csv=None, html=None, jobs=1, timeout=30,
                              boilerplate=[tmp_path / "nope"])
    assert run_grade(args) == 2
    assert "does not exist" in capsys.readouterr().out


def test_a_link_out_of_a_submission_is_not_read(tmp_path):
    secret = tmp_path / "grader_notes.py"
    secret.write_text("GRADER_ONLY = 'the answer key'\n" * 40)
    for name in ("mallory", "trent"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "checkout_server.py").symlink_to(secret)
    docs = similarity.student_documents(tmp_path / "mallory")
    assert "checkout_server.py" not in docs
    assert not similarity.similar_pairs({n: tmp_path / n for n in ("mallory", "trent")})


def test_what_a_third_of_a_large_class_shares_is_material_everyone_had(tmp_path):
    import random

    rng = random.Random(7)
    shared = "\n".join(f"def helper_{j}(amount, currency):\n    if amount < {j + 50}:\n        raise ValueError('{j}')\n"
                       f"    return {{'amount': amount * {j + 3}, 'currency': currency.lower()}}\n" for j in range(8))
    pair = "\n".join(f"def rare_{j}(cart):\n    total = sum(i['qty'] * {j + 11} for i in cart)\n"
                     f"    return [total // {j + 2}, total % {j + 5}, len(cart) ** {j % 3 + 1}]\n" for j in range(8))
    folders = {}
    for n in range(12):
        own = "\n".join(f"def own_{n}_{j}(x):\n    y = x * {rng.randint(2, 999)} - {rng.randint(1, 99)}\n"
                        f"    for z in range({rng.randint(3, 30)}):\n        y = (y + z) % {rng.randint(7, 97)}\n"
                        f"    return [y] * {rng.randint(2, 9)}\n" for j in range(12))
        folder = tmp_path / f"s{n:02d}"
        folder.mkdir()
        extra = pair if n in (3, 8) else ""
        (folder / "checkout_server.py").write_text(f"{shared}\n{own}\n{extra}\n", encoding="utf-8")
        folders[folder.name] = folder
    report = similarity.similar_pairs(folders)
    assert [(p.a, p.b) for p in report] == [("s03", "s08")]  # everyone's snippet is not a reason
    assert all("helper_" not in passage for passage in report[0].passages)
    assert any("rare_" in passage for passage in report[0].passages)
