"""Helpers the tests share (no test module imports another): the made-up executed lab of the export
tests, PDF readers, the `labkit webhooks` command in a subprocess, and where the handout is."""
from __future__ import annotations

import base64
import importlib.util
import json
import os
import random
import string
import struct
import subprocess
import sys
import zlib
from importlib import resources
from pathlib import Path

import nbformat
import pytest
import requests
import stripe
from pypdf import PdfReader

from labkit import runproof
from labkit.leaks import load_test_cards, luhn_ok
from labkit.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "sk_test_labkit_tests_fake_key"
PUBLISHABLE_KEY = "pk_test_labkit_tests_fake_key"
TITLES = ["Part A: Stripe setup", "Part B: Checkout server", "Part C: Test card scenarios"]
FRONT = ["Grader's page", "Your code and answers", "Evidence"]
NARRATION = "Narration-marker: this paragraph explains the lab."
KIT_CODE = "kit_code_marker = show_results()"
ESSAY = "Essay-marker: wallets first, then Klarna, because the margin allows it."
PCI_NOTE = "Note-marker: every staff member has their own Dashboard login"


def planted_key(prefix: str = "sk_test_", n: int = 99) -> str:
    rng = random.Random(42)
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def real_looking_card() -> str:
    rng = random.Random(5)
    tests = load_test_cards()
    while True:
        partial = "5" + str(rng.randint(1, 5)) + "".join(rng.choice(string.digits) for _ in range(13))
        number = next(partial + d for d in "0123456789" if luhn_ok(partial + d))
        if number not in tests:
            return number


def png_bytes(w: int = 60, h: int = 30, rgb=(15, 52, 96)) -> bytes:
    row = b"\x00" + bytes(rgb) * w
    chunk = lambda tag, data: struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * h)) + chunk(b"IEND", b""))


def scenarios() -> list[dict]:
    doc = json.loads((resources.files("labkit") / "data" / "test_cards.json").read_text())
    return doc["lab_scenarios"]


def message(key: str) -> str:
    return f"Result panel for {key.replace('_', ' ')}: the page says so."


def wide_table() -> str:
    head = "".join(f"<th>column_number_{k}</th>" for k in range(14))
    rows = "".join("<tr>" + "".join(f"<td>v{r}c{k} with words</td>" for k in range(14)) + "</tr>"
                   for r in range(4))
    return f"<table class='dataframe'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def out(kind: str, **data) -> nbformat.NotebookNode:
    if kind == "stream":
        return nbformat.v4.new_output("stream", name="stdout", text=data["text"])
    return nbformat.v4.new_output("display_data", data=data)


def make_notebook(title: str, key: str, part: str, proof: str, extra_output: str = "") -> nbformat.NotebookNode:
    png = base64.b64encode(png_bytes()).decode()
    nb = nbformat.v4.new_notebook()
    long_line = "amounts = [" + ", ".join(str(100 * i) for i in range(120)) + "]"
    shots = []
    for s in scenarios()[:2]:
        shots += [out("md", **{"text/markdown": f"**{s['title']}**: {message(s['key'])}"}),
                  out("png", **{"image/png": png, "text/plain": "<IPython.core.display.Image object>"})]
    code = lambda src, n, outs: nbformat.v4.new_code_cell(src, execution_count=n, outputs=outs)
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n{NARRATION} Pay with the test card 4242 4242 4242 4242."),
        code("settings = load_settings()\nprint(settings.secret_key)", 1, [out("stream", text=f"{key}\n")]),
        nbformat.v4.new_markdown_cell("## 1. The numbers\n\nMore narration."),
        code(long_line + "\nprint(len(amounts))", 2, [out("stream", text=long_line + "\n")]),
        code(KIT_CODE, 3, [out("stream", text="\n".join(s["title"] for s in scenarios()) + "\n" + extra_output),
                           out("png", **{"image/png": png, "text/plain": "<Figure size 600x300 with 1 Axes>"}),
                           out("txt", **{"text/plain": "<Figure size 640x480 with 1 Axes>"}), *shots]),
        code("ui.widget()", 4, [out("w", **{"application/vnd.jupyter.widget-view+json": {"model_id": "ab" * 16,
                                                                                       "version_major": 2,
                                                                                       "version_minor": 0},
                                            "text/plain": "VBox(children=(HTML(value='<b>Checklist</b>'),))"})]),
        code("counts", 5, [out("txt", **{"text/plain": "outcome\nprocessed    11\nrejected      5\n"
                                                      "Name: deliveries, dtype: int64"})]),
        code("wide", 6, [out("html", **{"text/html": wide_table(), "text/plain": "DataFrame"})]),
        nbformat.v4.new_markdown_cell("## Rubric self-check"),
        code(f"show_part('{part}')", 7, [out("stream", text=f"Part {part}: the rubric\n{proof}\n")]),
    ]
    return nb


def write_lab(tmp: Path, extra_output: str = "", stamp: bool = True) -> tuple[list[Path], object, Path]:
    key = planted_key()
    nb_dir, outdir, root, answers = tmp / "notebooks", tmp / "out", tmp / "repo", tmp / "answers"
    for d in (nb_dir, outdir / "screenshots", outdir / "charts", outdir / "evidence", root, answers):
        d.mkdir(parents=True, exist_ok=True)
    (root / "checkout_server.py").write_text("import os\nKEY = os.environ['STRIPE_SECRET_KEY']\nPORT = 5000\n")
    (answers / "pci.json").write_text(json.dumps({"requirements": {
        "8.2.1": {"status": "yes", "note": PCI_NOTE}, "3.1.1": {"status": "n/a", "note": "no paper kept"}},
        "gaps": "- HTTP on localhost", "remediation": "- serve over HTTPS"}))
    (answers / "part_e.md").write_text(f"# Part E\n\n<!-- starter comment -->\n\n{ESSAY}\n")
    settings = load_settings(environ={}, env_file=None).with_(out_dir=outdir, answers_dir=answers, root=root,
                                                              student_name="Ada Lovelace")
    runs = []
    for i, s in enumerate(scenarios()):
        shot = outdir / "screenshots" / f"{s['key']}.png"
        shot.write_bytes(png_bytes(380, 520, rgb=(20 * i, 90, 160)))
        runs.append({"scenario": s["key"], "title": s["title"], "message": message(s["key"]),
                     "screenshot": str(shot), "challenge_screenshot": None})
    settings.browser_runs_path.write_text(json.dumps(runs))
    (outdir / "charts" / "payments.png").write_bytes(png_bytes(rgb=(200, 80, 20)))
    whsec = planted_key("whsec_", 32)
    (outdir / "pci_assessment.md").write_text(
        "# PCI SAQ A\n\n## SAQ A Requirements Checklist\n\n| Req | Requirement | Compliant | Notes |\n|---|---|---|---|\n"
        + "".join(f"| 8.{k} | a requirement with a long title number {k} | Yes | {'words ' * 30} |\n" for k in range(6))
        + f"\n## Our Implementation\n\nWebhook secret seen in a log: {whsec}\n")
    paths = []
    for i, title in enumerate(TITLES, start=1):
        part = "ABC"[i - 1]
        proof = runproof.stamp_line(part, settings) if stamp else "no proof"
        p = nb_dir / f"0{i}_part.ipynb"
        nbformat.write(make_notebook(title, key, part, proof, extra_output if i == 2 else ""), p)
        paths.append(p)
    return paths, settings, root


def pages_text(pdf: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages]


def bookmarks(pdf: Path) -> list[tuple[str, int]]:
    reader = PdfReader(pdf)
    return [(o.title, reader.get_destination_page_number(o)) for o in reader.outline]


def use_lab_for_the_cli(monkeypatch, settings, root, **changes):
    """`labkit export` (the command) reads its settings itself: give it the made-up lab's."""
    monkeypatch.setattr("labkit.export.cli.load_settings", lambda: settings.with_(root=root, **changes))


def start_webhooks_command(fake, db, port, root: Path):
    """`labkit webhooks` in its own process group against ``fake``, once it says it serves the handler."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
    env.update(LABKIT_BACKEND="fake", LABKIT_STRIPE_API_BASE=fake.url, LABKIT_DB=str(db),
               LABKIT_WEBHOOK_PORT=str(port), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "labkit.cli", "webhooks"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    line = proc.stdout.readline()
    assert "webhook_handler.py on" in line, line + proc.stdout.read()[-2000:]
    return proc


def orders(port):
    return requests.get(f"http://127.0.0.1:{port}/orders", timeout=10).json()


HANDOUT = ROOT.parent / "shared" / "lab09_handout.txt"


def handout_path() -> Path | None:
    """The course's handout beside the project (``../shared/lab09_handout.txt``), or None: a plain clone has
    none. ``LABKIT_TESTS_HANDOUT`` names another file; set empty, it hides the handout (a plain clone)."""
    chosen = os.environ.get("LABKIT_TESTS_HANDOUT")
    path = HANDOUT if chosen is None else Path(chosen) if chosen else None
    return path if path is not None and path.is_file() else None


def import_student_app(path, api_base: str):
    """A student file's Flask ``app``, imported in this process against the fake (for Flask's test client)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
        mp.setenv("STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
        spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    stripe.api_base = api_base
    stripe.max_network_retries = 0
    sys.modules[spec.name] = module
    return module.app
