"""Time `labkit export` and count its pages.

    .venv/bin/python bench/bench_export.py [N] [--cli]   (default N=5, the lab's count)
    .venv/bin/python bench/bench_export.py --demo        (the demo's real submission; run `labkit demo` first)

``--cli`` prints with one ``chromium --print-to-pdf`` per notebook instead of Playwright.

Without ``--demo`` the notebooks are synthetic but lab-shaped: a heading, a few code cells
with text outputs, a small table and a PNG chart each, and a run proof; deliverables skipped.
With ``--demo`` the notebooks ``labkit demo`` executed (``out/demo/executed/``) are exported
with the demo's own files, as a grader receives them: the page count is printed folded (the
default) and with ``--full``. The goal for the folded submission: under 20 pages.
"""
from __future__ import annotations

import base64
import sys
import tempfile
import time
from pathlib import Path


def _notebook(i: int, proof: str):
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(["succeeded", "declined", "3DS"], [3 + i, 2, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    png = base64.b64encode(buf.getvalue()).decode()
    table = "<table><tr><th>card</th><th>status</th></tr>" + "".join(
        f"<tr><td>4242 4242 4242 4242</td><td>succeeded {k}</td></tr>" for k in range(15)) + "</table>"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Notebook {i}: benchmark\n\nSome narration. " * 3)]
    for k in range(8):
        nb.cells.append(nbformat.v4.new_code_cell(f"x{k} = compute({k})\nprint(x{k})", execution_count=k + 1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=f"result {k}: " + "ok " * 40 + "\n")]))
    nb.cells.append(nbformat.v4.new_code_cell("df", execution_count=9, outputs=[
        nbformat.v4.new_output("execute_result", execution_count=9, data={"text/html": table, "text/plain": "df"})]))
    nb.cells.append(nbformat.v4.new_code_cell("chart()", execution_count=10, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]))
    nb.cells.append(nbformat.v4.new_code_cell("show_part()", execution_count=11, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=proof + "\n")]))
    return nb


def main(n: int = 5, use_playwright: bool = True) -> None:
    import nbformat

    from labkit.chromium import find_chromium
    from labkit.export import export_submission
    from labkit.runproof import stamp_line
    from labkit.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        settings = load_settings(environ={}, env_file=None).with_(out_dir=tmp / "out", answers_dir=tmp / "answers")
        paths = []
        for i in range(1, n + 1):
            p = tmp / f"0{i}_bench.ipynb"
            nbformat.write(_notebook(i, stamp_line("A", settings)), p)
            paths.append(p)
        routes: list[str] = []
        t0 = time.perf_counter()
        chromium = find_chromium()
        t1 = time.perf_counter()
        result = export_submission(paths, tmp / "submission", settings, student_name="Bench",
                                   chromium=chromium, include_deliverables=False,
                                   use_playwright=use_playwright, progress=lambda m: routes.append(m))
        t2 = time.perf_counter()
    print(f"find_chromium: {t1 - t0:.2f} s ({chromium})")
    print(next(r for r in routes if r.startswith("printing")))
    print(f"export of {n} notebooks: {t2 - t1:.2f} s, {result.pages} pages, "
          f"{(t2 - t1) / n:.2f} s per notebook")


def demo(use_playwright: bool = True) -> None:
    """Export the demo's executed notebooks with its own files, folded and --full: pages and seconds."""
    import os

    from labkit.demo import demo_environ
    from labkit.export import export_submission
    from labkit.settings import load_settings

    settings = load_settings({**os.environ, **demo_environ(load_settings())})
    notebooks = sorted((settings.out_dir / "executed").glob("0*.ipynb"))
    if not notebooks:
        sys.exit(f"no executed notebooks in {settings.out_dir / 'executed'}: run `python3 run.py demo` first")
    with tempfile.TemporaryDirectory() as tmp:
        for full in (False, True):
            t0 = time.perf_counter()
            result = export_submission(notebooks, Path(tmp) / f"sub-{full}", settings, student_name="Bench",
                                       full=full, use_playwright=use_playwright)
            label = "--full" if full else "folded (default)"
            print(f"demo submission, {label:<16}: {result.pages:3d} pages, {time.perf_counter() - t0:5.1f} s")


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    if "--demo" in sys.argv:
        demo(use_playwright="--cli" not in sys.argv)
    else:
        main(int(numbers[0]) if numbers else 5, use_playwright="--cli" not in sys.argv)
