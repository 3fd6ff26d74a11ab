"""How long a notebook takes, cell by cell (a figure, not a test).

    .venv/bin/python bench/bench_notebook.py [notebooks/02_checkout.ipynb] [--runs 3]

Runs the notebook in a fresh kernel as the lab does (offline, outputs under a temporary folder, the
notebook file left as it is) and prints, for the median run, the kernel's start-up and each code
cell's wall time with the CPU used during it (``bench_check.used_cpu``: on Linux the whole machine's,
so the student's servers and Chromium's short-lived renderers are counted; run it on a quiet machine). The goal of issue 28 for notebook 02: 8 s of cell time on the 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_check import used_cpu  # noqa: E402


def one_run(path: Path, out: Path) -> tuple[float, list[tuple[str, float, float]]]:
    nb = nbformat.read(path, as_version=4)
    os.environ.update({"LABKIT_BACKEND": "fake", "LABKIT_OUT": str(out), "LABKIT_DB": str(out / "labkit.db"),
                       "LABKIT_ANSWERS": str(out / "answers")})
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    cells = []
    with client.setup_kernel():
        kernel = psutil.Process(client.km.provisioner.process.pid)
        startup = time.perf_counter() - start
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t, c = time.perf_counter(), used_cpu(kernel)
            client.execute_cell(cell, index)
            first = next((line for line in cell.source.splitlines() if line and not line.startswith("#")), "")
            cells.append((first[:60], time.perf_counter() - t, used_cpu(kernel) - c))
    return startup, cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=ROOT / "notebooks" / "02_checkout.ipynb")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {psutil.cpu_count()} cores, load {' '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(one_run(args.notebook.resolve(), Path(tmp)))
    totals = [sum(w for _, w, _ in cells) for _, cells in runs]
    startup, cells = runs[totals.index(statistics.median_low(totals))]
    print(f"{args.notebook.name}: cell time median {statistics.median(totals):.2f} s of {args.runs} runs "
          f"(min {min(totals):.2f}, max {max(totals):.2f}); kernel start-up {startup:.2f} s")
    print("the median run, cell by cell (wall, and CPU: the kernel, its servers and Chromium):")
    for first, wall, cpu in cells:
        print(f"  {wall:6.2f} s  CPU {cpu:5.2f} s  {first}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
