"""`labkit demo`, the README's main command, end to end; and its failure report."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]


def run_demo(*args: str, tmp: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "LABKIT_"))}
    env["LABKIT_OUT"] = str(tmp / "out")
    env.update(extra_env)
    return subprocess.run([sys.executable, "-m", "labkit.cli", "demo", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def snapshot(*folders: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folders``: its modification time and its bytes."""
    files = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if p.is_file():
                files[str(p)] = (p.stat().st_mtime_ns, p.read_bytes())
    return files


@pytest.mark.browser
@pytest.mark.slow
def test_the_whole_lab_ends_in_its_own_submission_and_leaves_the_students_work_alone(tmp_path):
    out_dir, answers = tmp_path / "out", tmp_path / "answers"
    (out_dir / "screenshots").mkdir(parents=True)
    answers.mkdir()
    # what a student's own run and export left behind
    (out_dir / "pci_assessment.md").write_text("# My own assessment\n\nStudent: Grace Hopper\n")
    (out_dir / "screenshots" / "success.png").write_bytes(b"my own screenshot")
    (answers / "pci.json").write_text('{"requirements": {"8.2.1": {"status": "yes", "note": "mine"}}}\n')
    (answers / "part_e.md").write_text("# Part E\n\nMy own essay.\n")
    before = snapshot(out_dir, answers, ROOT / "submission", ROOT / "answers")

    result = run_demo("--student", "Test Student", tmp=tmp_path, LABKIT_ANSWERS=str(answers))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    after = snapshot(out_dir, answers, ROOT / "submission", ROOT / "answers")
    demo = out_dir / "demo"
    assert {k: v for k, v in after.items() if not k.startswith(str(demo))} == before
    for name in ("01_setup", "02_checkout", "03_webhooks", "04_pci", "05_alt_payments"):
        assert f"✓ {name}.ipynb" in result.stdout
        assert (demo / "executed" / f"{name}.ipynb").is_file()
    submission = demo / "submission"
    assert not (submission / "lab09_submission.pdf").exists()  # never mistaken for a student's submission
    reader = PdfReader(submission / "lab09_model_solution.pdf")
    assert all("MODEL SOLUTION" in page.extract_text() for page in reader.pages)
    titles = [item.title for item in reader.outline]
    assert titles[:3] == ["Grader's page", "Your code and answers", "Evidence"]
    assert [t.split(" —")[0] for t in titles[3:]] == [f"Lab 09 · Part {p}" for p in "ABCDE"]
    first = reader.pages[0].extract_text()
    assert "Test Student" in first and "grader's page" in first and "Rubric" in first
    text = "\n".join(page.extract_text() for page in reader.pages)
    for card in ("4242", "9995", "3155", "0002"):
        assert card in text
    from labkit.leaks import SECRET_KINDS, scan_text

    assert [f for f in scan_text(text) if f.kind in SECRET_KINDS] == []
    for name in ("checkout_server.py", "webhook_handler.py", "pci_assessment.md", "leak_report.md",
                 "screenshots/success.png", "screenshots/3ds_fail.png", "charts/payments.png"):
        assert (submission / name).is_file(), name
    assert "my own screenshot" not in (submission / "screenshots" / "success.png").read_text(errors="replace")
    # The checks re-ran the solution's servers: every Part B and Part C check passes (as many as rubric.json lists).
    from labkit.checks.items import rubric

    for part in rubric()["parts"]:
        if part["part"] in "BC":
            n = sum(1 for entry in part["items"] if entry.get("check"))
            assert f"({part['points']} pts): {n} of {n} checks pass" in result.stdout, result.stdout[-3000:]


def test_a_failing_notebook_is_named_with_its_cell_and_reason(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A broken part"),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("1 / 0  # the mistake")])
    nbformat.write(nb, folder / "01_broken.ipynb")
    out = run_demo("--notebooks", str(folder), "--no-export", tmp=tmp_path)
    assert out.returncode == 1
    assert "01_broken.ipynb failed at cell 3: ZeroDivisionError" in out.stderr
    assert "the cell starts: 1 / 0" in out.stderr and "Traceback" not in out.stderr


def test_no_notebooks_is_a_clear_error(tmp_path):
    out = run_demo("--notebooks", str(tmp_path), tmp=tmp_path)
    assert out.returncode == 1 and "no notebooks" in out.stderr


def test_the_demos_closing_check_reads_what_this_runs_check_cells_saved_and_checks_the_rest(tmp_path, monkeypatch):
    """The notebooks' check cells ran moments ago: their saved items are shown, not run twice; a part whose
    notebook did not run this time (``--only``, or a file from an earlier run) is checked now."""
    import os
    import time

    from labkit import demo
    from labkit.checks.items import EVIDENCED, MISSING, item
    from labkit.checks.notebook import saved_checks_path
    from labkit.checks.report import write_json
    from labkit.settings import Settings

    settings = Settings(backend="fake", out_dir=tmp_path)
    write_json([item("setup:keys", EVIDENCED, "saved by notebook 01")], saved_checks_path(settings, "A"))
    old = write_json([item("webhook:signature", EVIDENCED, "from an earlier run")], saved_checks_path(settings, "C"))
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    checked: list[str] = []
    monkeypatch.setattr(demo, "run_checks", lambda folder, settings, parts: checked.extend(parts) or
                        [item(f"run:{parts[0]}", MISSING, "checked now")])
    items = demo.checks_of_the_run(settings, since=time.time() - 60)
    assert checked == ["B", "C", "D", "E"]
    assert items[0].evidence == "saved by notebook 01" and [i.check for i in items[1:]] == [f"run:{p}" for p in "BCDE"]


def test_each_notebook_gets_a_fresh_kernel_started_while_the_one_before_ran(tmp_path):
    """labkit demo's kernels (labkit.notebooks.KernelsAhead): the next one starts before the notebook before
    it has finished, none runs two notebooks, each sees the demo's environment, and none is left running."""
    from labkit.notebooks import KernelsAhead, execute

    names = ("01_a.ipynb", "02_b.ipynb")
    for name in names:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import os, psutil\n"
                                              "print(os.getpid(), os.environ['LABKIT_DEMO_X'], psutil.Process().create_time())")]
        nbformat.write(nb, tmp_path / name)
    kernels = KernelsAhead(tmp_path, {"LABKIT_DEMO_X": "shared"})
    used, printed, finished = [], [], []
    try:
        for i, name in enumerate(names):
            km = kernels.take(another=i + 1 < len(names))
            used.append(km)
            printed.append(execute(tmp_path / name, write=False, km=km).cells[0].outputs[0]["text"].split())
            finished.append(time.time())
            kernels.done(km)
    finally:
        kernels.close()
    assert float(printed[1][2]) < finished[0]  # started before the first notebook ended
    assert printed[0][0] != printed[1][0] and printed[0][1] == printed[1][1] == "shared"
    assert not any(km.is_alive() for km in used)
