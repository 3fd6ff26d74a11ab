"""The student edition: built from this one, no solution line in it, starters where they were."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labkit import release
from labkit.release import MARK, ReleaseError, build, kit_files, strip_notebook, strip_solutions
from labkit.settings import project_root

ROOT = project_root(Path(__file__).parent)


def marked_solution_lines(root: Path) -> set[str]:
    """Every line inside a solution block of the solution edition that appears nowhere else in it."""
    inside: set[str] = set()
    outside: set[str] = set()
    for name in kit_files(root):
        path = root / name
        if path.suffix not in (*MARK, ".ipynb"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            chunks = ["".join(c["source"]) for c in json.loads(text)["cells"]]
            suffixes = [".py"] * len(chunks)
        else:
            chunks, suffixes = [text], [path.suffix]
        for chunk, suffix in zip(chunks, suffixes):
            res = strip_solutions(chunk, suffix, name)
            inside |= {l.strip() for l in res.removed}
            outside |= {l.strip() for l in res.text.splitlines()}
    return {l for l in inside - outside if len(l) >= 12 and not l.startswith(("#", "//"))}


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    dest = tmp_path_factory.mktemp("edition") / "student"
    return build(dest)


def test_no_marked_solution_line_in_the_student_edition(edition):
    lines = marked_solution_lines(ROOT)
    assert len(lines) > 30  # the checkout, the page, the handler: a real amount of solution
    found = []
    for path in edition.dest.rglob("*"):
        if path.is_file() and path.suffix in release.TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".ipynb":
                text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
            present = {l.strip() for l in text.splitlines()}
            found += [(path.name, l) for l in lines if l in present]
    assert not found, found[:5]


def test_starters_replace_the_exercises(edition):
    dest = edition.dest
    co = (dest / "checkout_server.py").read_text()
    assert "raise NotImplementedError('checkout_server.py: create_payment_intent() is not written yet')" in co
    assert "stripe.PaymentIntent.create(" not in co
    # the lesson is the student's: the catalog lookup, quantity checks and idempotency key (issue 31)
    for fn in ("parse_order", "idempotency_key", "payment_success"):
        assert f"raise NotImplementedError('checkout_server.py: {fn}() is not written yet')" in co, fn
    assert 'PRODUCTS[p]["price"]' not in co and "hashlib.sha256(" not in co
    assert "from labkit.checkout import load_catalog\n" in co  # only the catalog's data comes from the kit
    wh = (dest / "webhook_handler.py").read_text()
    assert "construct_event(payload" not in wh and wh.count("NotImplementedError") >= 6
    js = (dest / "static" / "checkout.js").read_text()
    assert "confirmCardPayment(body.clientSecret" not in js and 'showResult("error", "Not done yet"' in js
    for path in (dest / "checkout_server.py", dest / "webhook_handler.py"):
        compile(path.read_text(), str(path), "exec")  # starters are valid Python
    assert (dest / "answers" / "part_e.md").read_text().startswith("# Part E")
    assert json.loads((dest / "labkit" / "data" / "edition.json").read_text())["edition"] == "student"


def test_solution_only_files_and_outputs_are_left_out(edition):
    dest = edition.dest
    assert not (dest / "labkit" / "data" / "model_answers").exists()
    assert not (dest / "tests" / "test_grade.py").exists() and not (dest / "bench").exists()
    assert not (dest / "labkit" / "demo.py").exists() and not (dest / "labkit" / "grading").exists()
    for nb in (dest / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), nb.name


def test_the_variant_model_solutions_are_not_shipped(edition):
    assert (ROOT / "variants" / "payment_element" / "checkout_server.py").is_file()
    assert (ROOT / "variants" / "checkout_session" / "checkout_server.py").is_file()
    assert not (edition.dest / "variants").exists()
    assert not list(edition.dest.rglob("complete.html")) and not (edition.dest / "tests" / "test_variants.py").exists()


def test_model_answer_text_is_not_in_the_student_edition(edition):
    from labkit import altpay

    writer = getattr(altpay, "model_answer", None) or altpay.analysis_text
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", writer()) if len(s.strip()) > 60]
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in edition.dest.rglob("*")
             if p.is_file() and p.suffix in release.TEXT_SUFFIXES]
    leaked = [s for s in sentences if any(s in t for t in texts)]
    assert not leaked, leaked[:2]


def test_the_student_edition_catches_a_reworded_copy_without_the_model_text(edition, tmp_path):
    """The shipped fingerprint holds per-sentence signatures, not sentences, and the student edition's own
    check finds a reworded copy of the model answer with them (issue 30: sentence by sentence)."""
    from tests.submissions.writing import REWORDED

    data = json.loads((edition.dest / "labkit" / "data" / "model_answer_fingerprint.json").read_text())
    assert len(data["sentences"]) >= 10 and all(set(row) == {"minhash", "size"} for row in data["sentences"])
    essay = tmp_path / "part_e.md"
    essay.write_text(REWORDED, encoding="utf-8")
    code = ("import sys; sys.path.insert(0, '.'); import labkit; assert labkit.__file__.startswith(sys.argv[2]), "
            "labkit.__file__; from labkit.checks.writing import altpay_own_words; "
            "from pathlib import Path; i = altpay_own_words(Path(sys.argv[1]).read_text()); print(i.status, i.evidence)")
    out = subprocess.run([sys.executable, "-c", code, str(essay), str(edition.dest)], cwd=edition.dest,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("missing") and "model sentence" in out.stdout, out.stdout


def test_strip_solutions_python_js_html_and_starters():
    py = "def f():\n    \"\"\"Do it.\"\"\"\n    # BEGIN SOLUTION\n    return 42\n    # END SOLUTION\n"
    assert strip_solutions(py, ".py").text == (
        "def f():\n    \"\"\"Do it.\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError(': f() is not written yet')\n")
    js = "a();\n  // BEGIN SOLUTION\n  secret();\n  // END SOLUTION\n  // BEGIN STARTER\n  // hint();\n  // END STARTER\n"
    assert strip_solutions(js, ".js").text == "a();\n  hint();\n"
    html = "<p>\n<!-- BEGIN SOLUTION -->\n<b>x</b>\n<!-- END SOLUTION -->\n</p>"
    assert strip_solutions(html, ".html").text == "<p>\n<!-- YOUR CODE HERE -->\n</p>"
    with pytest.raises(ReleaseError):
        strip_solutions("# BEGIN SOLUTION\nx = 1\n", ".py", "f.py")


def test_notebook_cells_are_stripped_and_cleared():
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "# BEGIN SOLUTION\n", "y = 2\n", "# END SOLUTION\n"],
                     "outputs": [{"output_type": "stream", "text": "2"}], "execution_count": 3, "metadata": {}},
                    {"cell_type": "markdown", "source": ["<!-- BEGIN SOLUTION -->\n", "model text\n",
                                                         "<!-- END SOLUTION -->\n"], "metadata": {}}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = json.loads(strip_notebook(json.dumps(nb), "n.ipynb").text)
    assert "y = 2" not in "".join(out["cells"][0]["source"]) and out["cells"][0]["outputs"] == []
    assert "".join(out["cells"][1]["source"]).strip() == "<!-- YOUR ANSWER HERE -->"


def test_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(ReleaseError, match="not empty"):
        build(tmp_path)
    assert (tmp_path / "x").read_text() == "keep me"


def test_release_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "release", "student", str(tmp_path / "s")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "student edition written" in out.stdout
    assert (tmp_path / "s" / "checkout_server.py").is_file()


# ------------------------------------------------------------------ the edition as a student reads it (issue 31)
INSTRUCTOR_WORDS = ("solution edition", "run.py demo", "labkit demo", "bench/", "bench_", "labkit grade",
                    "labkit release", "model answer", "model solution", "instructor's")


def test_the_edition_has_its_own_readme(edition):
    readme = (edition.dest / "README.md").read_text(encoding="utf-8")
    assert readme != (ROOT / "README.md").read_text(encoding="utf-8")
    lowered = readme.lower()
    assert not [w for w in INSTRUCTOR_WORDS if w.lower() in lowered], "an instructor-only word in the README"
    # what the student does, in the handout's order
    parts = [readme.index(f"Part {p} (") for p in "ABCDE"]
    assert parts == sorted(parts)
    notebooks = [readme.index(f"notebooks/0{i}_") for i in range(1, 6)]
    assert notebooks == sorted(notebooks)
    # the two commands, where each answer goes and how it maps to the handout's pci_assessment.md
    assert "python3 run.py lab" in readme and "python3 run.py test" in readme
    for where in ("checkout_server.py", "static/checkout.js", "webhook_handler.py", "answers/pci.json",
                  "answers/part_e.md", "pci_assessment.md"):
        assert where in readme, where
    # checking, exporting, handing in by git or by upload, and what not to edit
    for words in ("labkit check", "labkit export", "git add", "upload", "lab09_submission.pdf", "What not to edit"):
        assert words in readme, words
    assert "{{" not in readme and "{%" not in readme
    assert not (edition.dest / "labkit" / "data" / "student_readme.md.j2").exists()


def test_every_labkit_command_the_readme_names_exists_in_the_edition(edition):
    readme = (edition.dest / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`labkit (\w+)", readme))
    assert {"check", "export", "checkout", "webhooks"} <= named
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "--help"], cwd=edition.dest, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(edition.dest)})
    listed = set(re.findall(r"^\s{4}(\w+)\s", out.stdout, re.M))
    assert named <= listed, named - listed
    assert not {"demo", "grade", "release"} & listed  # the instructor's commands are not offered


def test_the_instructors_commands_refuse_in_one_line_in_the_edition(edition):
    env = {**os.environ, "PYTHONPATH": str(edition.dest)}
    for command in (["demo"], ["grade", "x"], ["release", "student", "y"]):
        out = subprocess.run([sys.executable, "-m", "labkit.cli", *command], cwd=edition.dest, capture_output=True,
                             text=True, timeout=120, env=env)
        assert out.returncode == 2 and "not part of the student edition" in out.stderr, (command, out.stderr)
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    run = subprocess.run([sys.executable, "run.py", "demo"], cwd=edition.dest, capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 2 and "not part of the student edition" in run.stderr
    assert not (edition.dest / ".venv").exists()  # refused before any set-up


def test_the_edition_gitignore_keeps_the_hand_in_in_a_commit(edition, tmp_path):
    import shutil as _shutil

    if _shutil.which("git") is None:
        pytest.skip("no git here")
    kit = tmp_path / "kit"
    _shutil.copytree(edition.dest, kit)
    (kit / "submission").mkdir()
    handed_in = ["answers/pci.json", "answers/part_e.md", "submission/lab09_submission.pdf",
                 "submission/pci_assessment.md", "submission/answers/part_e.md"]
    for name in handed_in[2:]:
        (kit / name).parent.mkdir(parents=True, exist_ok=True)
        (kit / name).write_bytes(b"%PDF-1.7\n" if name.endswith(".pdf") else b"text\n")
    kept_out = [".env", "out/.runproof_key", ".venv/bin/python", ".hypothesis/x"]
    for name in kept_out:
        (kit / name).parent.mkdir(parents=True, exist_ok=True)
        (kit / name).write_text("secret\n")
    git = lambda *a: subprocess.run(["git", *a], cwd=kit, capture_output=True, text=True, timeout=60)
    assert git("init", "-q").returncode == 0
    assert git("add", "-A").returncode == 0
    staged = set(git("diff", "--cached", "--name-only").stdout.split())
    assert set(handed_in) <= staged, set(handed_in) - staged
    assert not set(kept_out) & staged
