"""`labkit demo`, the README's main command, end to end; and its failure report."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]


def run_demo(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "LABKIT_"))}
    env["LABKIT_OUT"] = str(tmp / "out")
    return subprocess.run([sys.executable, "-m", "labkit.cli", "demo", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.browser
@pytest.mark.slow
def test_the_whole_lab_ends_in_a_submission_and_a_rubric(tmp_path):
    out = run_demo("--student", "Test Student", "--out", str(tmp_path / "submission"), tmp=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for name in ("01_setup", "02_checkout", "03_webhooks", "04_pci", "05_alt_payments"):
        assert f"✓ {name}.ipynb" in out.stdout
        assert (tmp_path / "out" / "executed" / f"{name}.ipynb").is_file()
    pdf = tmp_path / "submission" / "lab09_submission.pdf"
    reader = PdfReader(pdf)
    titles = [item.title for item in reader.outline]
    assert [t.split(" —")[0] for t in titles] == [f"Lab 09 · Part {p}" for p in "ABCDE"]
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Test Student" in text
    for card in ("4242", "9995", "3155", "0002"):
        assert card in text
    from labkit.leaks import SECRET_KINDS, scan_text

    assert [f for f in scan_text(text) if f.kind in SECRET_KINDS] == []
    for name in ("checkout_server.py", "webhook_handler.py", "pci_assessment.md", "leak_report.md",
                 "screenshots/success.png", "screenshots/3ds_fail.png", "charts/payments.png"):
        assert (tmp_path / "submission" / name).is_file(), name
    # The checks re-ran the solution's servers: every Part B and Part C check passes.
    assert "(35 pts): 6 of 6 checks pass" in out.stdout
    assert "(25 pts): 3 of 3 checks pass" in out.stdout


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
