"""Time the whole `labkit demo` (set-up excluded) and each notebook in it.

    python bench/bench_demo.py [--runs 1]

Runs `python -m labkit.cli demo` as a user would, and prints the wall time of the whole
command, the per-notebook times it reports and the page count of its PDF (written under
``out/demo/``, never over the student's files). The aim: the whole lab, browser runs and PDF
included, in under a minute on a 2-core machine (issue 28's goal: 20 s); the PDF under 20 pages. It also
prints the CPU the whole command used (on Linux the whole machine's: run it on a quiet machine) and what
that CPU sets as the least wall time on this machine's cores, in any order or in parallel.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_check import used_cpu  # noqa: E402


def one_run() -> tuple[float, float, dict[str, float], str]:
    import psutil

    me = psutil.Process()
    start, start_cpu = time.perf_counter(), used_cpu(me)
    proc = subprocess.run([sys.executable, "-m", "labkit.cli", "demo", "--student", "Benchmark"], cwd=ROOT,
                          capture_output=True, text=True)
    total, cpu = time.perf_counter() - start, used_cpu(me) - start_cpu
    if proc.returncode != 0:
        sys.exit(f"labkit demo failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    notebooks = {m.group(1): float(m.group(2))
                 for m in re.finditer(r"✓ (\S+\.ipynb)\s+([\d.]+) s", proc.stdout)}
    pages = re.search(r"✓ the model solution's PDF \(not a submission\): (\S+) \((\d+) pages", proc.stdout)
    return total, cpu, notebooks, f"{pages.group(2)} pages ({pages.group(1)})" if pages else "no PDF reported"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    totals, cpus, per_nb, pdf = [], [], {}, ""
    for _ in range(args.runs):
        total, cpu, notebooks, pdf = one_run()
        totals.append(total)
        cpus.append(cpu)
        for name, secs in notebooks.items():
            per_nb.setdefault(name, []).append(secs)
    for name, secs in per_nb.items():
        print(f"{name:<28} {statistics.median(secs):6.1f} s")
    other = statistics.median(totals) - sum(statistics.median(s) for s in per_nb.values())
    print(f"{'export, rubric, start-up':<28} {other:6.1f} s")
    print(f"{'labkit demo (whole)':<28} {statistics.median(totals):6.1f} s   (median of {args.runs})")
    cores = os.cpu_count() or 1
    cpu = statistics.median(cpus)
    print(f"{'CPU used':<28} {cpu:6.1f} s   (the machine's: kernels, Chromium, the student's servers, the PDF)")
    print(f"{'the floor on ' + str(cores) + ' cores':<28} {cpu / cores:6.1f} s   (that CPU spread over every core)")
    print(f"{'its PDF':<28} {pdf}")


if __name__ == "__main__":
    main()
