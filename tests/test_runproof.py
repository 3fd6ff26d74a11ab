"""The run proof: a notebook's last cell signs the run; export believes only this machine's signatures."""
from __future__ import annotations

import configparser
import datetime as dt
import os
import re
from pathlib import Path

import nbformat
import pytest

from labkit import runproof
from labkit.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def kit(tmp_path):
    root = tmp_path / "repo"
    (root / "templates").mkdir(parents=True)
    (root / "checkout_server.py").write_text("app = 'shop'\n")
    (root / "webhook_handler.py").write_text("app = 'hooks'\n")
    (root / "templates" / "checkout.html").write_text("<form></form>\n")
    settings = load_settings(environ={}, env_file=None).with_(out_dir=tmp_path / "out", root=root,
                                                              answers_dir=tmp_path / "answers")
    (tmp_path / "answers").mkdir()
    (tmp_path / "answers" / "pci.json").write_text('{"requirements": {}}\n')
    (tmp_path / "answers" / "part_e.md").write_text("# Part E\n")
    return settings, root


def notebook_with(line: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("show_part('B')", execution_count=1, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=f"Part B — checkout\n{line}\n")])]
    return nb


def touch_later(path: Path, text: str) -> None:
    path.write_text(text)
    later = dt.datetime.now().timestamp() + 5
    os.utime(path, (later, later))


def test_a_stamp_made_here_verifies_and_the_secret_is_made_on_first_use(kit, capsys):
    settings, root = kit
    assert not runproof.key_path(settings).exists()
    line = runproof.stamp_line("B", settings)
    assert runproof.key_path(settings).is_file()
    assert runproof.LINE.fullmatch(line)
    proof = runproof.verify(notebook_with(line), settings)
    assert proof.ok and proof.part == "B", proof.problem


def test_the_stamp_is_printed_by_the_check_cell(kit, capsys, monkeypatch):
    settings, _root = kit
    from labkit.checks.notebook import check_part, saved_checks_path

    check_part("E", settings=settings)
    out = capsys.readouterr().out
    assert runproof.LINE.search(out.splitlines()[-1])
    assert saved_checks_path(settings, "E").is_file()


def test_without_this_machines_secret_the_outputs_are_not_believed(kit, tmp_path):
    settings, root = kit
    line = runproof.stamp_line("B", settings)
    elsewhere = settings.with_(out_dir=tmp_path / "other-machine-out")  # a fresh clone: no secret at all
    proof = runproof.verify(notebook_with(line), elsewhere)
    assert not proof.ok and "not made on this machine" in proof.problem
    runproof.stamp_line("A", elsewhere)  # that machine now has its own, different secret
    assert not runproof.verify(notebook_with(line), elsewhere).ok


def test_no_stamp_says_the_last_cell_did_not_run(kit):
    settings, root = kit
    nb = notebook_with("Part B — checkout")
    proof = runproof.verify(nb, settings)
    assert not proof.ok and "last cell" in proof.problem


@pytest.mark.parametrize("part, changed, counts", [
    ("B", "checkout_server.py", True), ("B", "templates/checkout.html", True), ("B", "webhook_handler.py", False),
    ("C", "webhook_handler.py", True), ("D", "answers/pci.json", True), ("E", "answers/part_e.md", True),
    ("E", "answers/pci.json", False), ("A", "checkout_server.py", False), ("Z", "answers/part_e.md", True),
])
def test_a_change_to_the_parts_files_after_the_run_breaks_its_proof(kit, tmp_path, part, changed, counts):
    settings, root = kit
    line = runproof.stamp_line(part, settings)
    path = (tmp_path / changed) if changed.startswith("answers/") else root / changed
    touch_later(path, path.read_text() + "# edited after the run\n")
    proof = runproof.verify(notebook_with(line), settings)
    assert proof.ok is not counts
    if counts:
        assert changed in proof.problem and "changed after it ran" in proof.problem


def test_a_stamp_from_the_future_is_refused(kit):
    settings, root = kit
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    proof = runproof.verify(notebook_with(runproof.stamp_line("B", settings, now=later)), settings)
    assert not proof.ok and "future" in proof.problem


def test_any_one_character_edit_of_the_line_breaks_it(kit):
    settings, root = kit
    line = runproof.stamp_line("B", settings)
    m = runproof.LINE.search(line)
    alphabet = {"part": "ABCDE", "time": "0123456789", "files": "0123456789abcdef", "mac": "0123456789abcdef"}
    edits = 0
    for name, chars in alphabet.items():
        for i in range(*m.span(name)):
            new = next(c for c in chars if c != line[i])
            edited = line[:i] + new + line[i + 1:]
            if runproof.LINE.search(edited):
                assert not runproof.verify(notebook_with(edited), settings).ok, (name, i)
                edits += 1
    assert edits >= 60


def test_the_nbval_sanitizer_makes_two_runs_compare_equal(kit):
    settings, root = kit
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")

    def sanitize(text: str) -> str:
        for section in cfg.sections():
            text = re.sub(cfg[section]["regex"], cfg[section]["replace"], text)
        return text

    a = runproof.stamp_line("D", settings)
    b = runproof.stamp_line("D", settings, now=dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc))
    assert a != b and sanitize(a) == sanitize(b) == "labkit run proof: STAMP"


@pytest.mark.parametrize("counts, ok", [
    ((1, 2, 3), True), ((4, 9, 12), True), ((1, 5, 3), False), ((None, 2, 3), False), ((1, 2, 2), False),
])
def test_only_a_run_from_the_top_counts(kit, counts, ok):
    """Stored outputs plus a re-run of the last cell alone must not pass for a run."""
    settings, root = kit
    nb = notebook_with(runproof.stamp_line("B", settings))
    last = nb.cells[0]
    nb.cells = [nbformat.v4.new_code_cell(f"x = {i}", execution_count=c) for i, c in enumerate(counts[:-1])]
    last.execution_count = counts[-1]
    nb.cells += [nbformat.v4.new_markdown_cell("## Rubric"), nbformat.v4.new_code_cell("   "), last]
    proof = runproof.verify(nb, settings)
    assert proof.ok is ok, proof.problem
    if not ok:
        assert "run it again from the top" in proof.problem


def test_only_the_files_whose_content_changed_are_named(kit):
    """Answering the checklist changes answers/pci.json only: the servers, saved again unchanged (an editor's
    save, a git checkout) and so newer, are not named; a change under an old time (a sync tool) is."""
    settings, root = kit
    line = runproof.stamp_line("D", settings)
    answers = Path(settings.answers_dir) / "pci.json"
    touch_later(answers, '{"requirements": {"2.2": {"status": "yes", "note": ""}}}\n')
    for same in (root / "checkout_server.py", root / "webhook_handler.py", root / "templates" / "checkout.html"):
        touch_later(same, same.read_text())
    proof = runproof.verify(notebook_with(line), settings)
    assert not proof.ok and proof.problem.startswith("answers/pci.json changed after it ran"), proof.problem
    server = root / "checkout_server.py"
    old = server.stat().st_mtime - 3600
    server.write_text("app = 'a new shop'\n")
    os.utime(server, (old, old))
    problem = runproof.verify(notebook_with(line), settings).problem
    assert problem.startswith("answers/pci.json, checkout_server.py changed after it ran"), problem
