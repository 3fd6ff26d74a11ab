"""The submission export, end to end with headless Chromium and pypdf.

Small executed notebooks are built here with nbformat: titles, the four lab scenarios, a
PNG, a long code line, a public test card, and a secret key built at run time.
"""
from __future__ import annotations

import json
import os
import random
import string
import struct
import sys
import zlib
from importlib import resources
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from labkit.chromium import ChromiumNotFound, chromium_args, find_chromium, launch_args
from labkit.export import PDF_NAME, ExportError, export_submission, notebook_title
from labkit.leaks import load_test_cards, luhn_ok
from labkit.settings import load_settings

TITLES = ["Part A: Stripe setup", "Part B: Checkout server", "Part C: Test card scenarios"]


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


def scenarios() -> list[str]:
    doc = json.loads((resources.files("labkit") / "data" / "test_cards.json").read_text())
    return [s["title"] for s in doc["lab_scenarios"]][:4]


def make_notebook(title: str, key: str, extra_output: str = "") -> nbformat.NotebookNode:
    import base64

    png = base64.b64encode(png_bytes()).decode()
    nb = nbformat.v4.new_notebook()
    long_line = "amounts = [" + ", ".join(str(100 * i) for i in range(120)) + "]"
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\nPay with the test card 4242 4242 4242 4242."),
        nbformat.v4.new_code_cell("settings = load_settings()\nprint(settings.secret_key)", execution_count=1,
                                  outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"{key}\n")]),
        nbformat.v4.new_code_cell(long_line + "\nlen(amounts)", execution_count=2, outputs=[
            nbformat.v4.new_output("execute_result", execution_count=2, data={"text/plain": "120"})]),
        nbformat.v4.new_code_cell("show_results()", execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="\n".join(scenarios()) + "\n" + extra_output),
            nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        ]),
    ]
    return nb


def write_lab(tmp: Path, extra_output: str = "") -> tuple[list[Path], object, Path]:
    key = planted_key()
    nb_dir, out, root = tmp / "notebooks", tmp / "out", tmp / "repo"
    for d in (nb_dir, out / "screenshots", out / "charts", root):
        d.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, title in enumerate(TITLES, start=1):
        p = nb_dir / f"0{i}_part.ipynb"
        nbformat.write(make_notebook(title, key, extra_output if i == 2 else ""), p)
        paths.append(p)
    for name in ("success", "insufficient_funds", "3ds_complete", "3ds_fail"):
        (out / "screenshots" / f"{name}.png").write_bytes(png_bytes())
    (out / "charts" / "payments.png").write_bytes(png_bytes(rgb=(200, 80, 20)))
    whsec = planted_key("whsec_", 32)
    (out / "pci_assessment.md").write_text(f"# PCI SAQ A\n\nWebhook secret seen in a log: {whsec}\n")
    (root / "checkout_server.py").write_text("import os\nKEY = os.environ['STRIPE_SECRET_KEY']\n")
    settings = load_settings(environ={}, env_file=None).with_(out_dir=out, student_name="Ada Lovelace")
    return paths, settings, root


@pytest.fixture(scope="module")
def chromium() -> str:
    try:
        return find_chromium()
    except ChromiumNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def exported(tmp_path_factory, chromium):
    tmp = tmp_path_factory.mktemp("export")
    paths, settings, root = write_lab(tmp)
    result = export_submission(paths, tmp / "submission", settings, chromium=chromium, root=root,
                               date="November 26, 2025")
    return result, tmp


@pytest.mark.browser
def test_pdf_has_a_title_page_and_one_bookmark_per_notebook(exported):
    result, _ = exported
    reader = PdfReader(result.pdf)
    outline = reader.outline
    assert [o.title for o in outline] == TITLES
    first = " ".join(reader.pages[0].extract_text().split())
    for text in ("ITEC-442", "Lab 09: Payment Integration with Stripe", "Ada Lovelace", "November 26, 2025", *TITLES):
        assert text in first
    for item, title in zip(outline, TITLES):
        page = reader.get_destination_page_number(item)
        assert page >= 1 and title in reader.pages[page].extract_text()


@pytest.mark.browser
def test_pdf_shows_the_scenarios_and_no_secret(exported):
    result, _ = exported
    text = "\n".join(p.extract_text() for p in PdfReader(result.pdf).pages)
    for title in TITLES + scenarios():
        assert title in text
    assert planted_key() not in text.replace("\n", "")
    assert "sk_test_…[REDACTED]" in text
    assert "4242 4242 4242 4242" in text  # the test card stays
    assert "amounts = [0, 100" in text and "11900]" in text  # the long line is wrapped, not cut


@pytest.mark.browser
def test_pdf_embeds_the_images(exported):
    result, _ = exported
    images = sum(len(p.images) for p in PdfReader(result.pdf).pages)
    assert images >= len(TITLES)


@pytest.mark.browser
def test_deliverables_and_leak_report_are_written_without_secrets(exported):
    result, tmp = exported
    dest = tmp / "submission"
    names = {p.relative_to(dest).as_posix() for p in result.files}
    assert {PDF_NAME, "checkout_server.py", "pci_assessment.md", "leak_report.md", "charts/payments.png",
            "screenshots/success.png", "screenshots/3ds_fail.png"} <= names
    assert any("webhook_handler.py" in w for w in result.warnings)
    for path in dest.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert planted_key().encode() not in data and planted_key("whsec_", 32).encode() not in data, path
    assert "whsec_…[REDACTED]" in (dest / "pci_assessment.md").read_text()
    report = (dest / "leak_report.md").read_text()
    assert "secret key `sk_test_…[REDACTED]` in 01_part.ipynb, cell 2, output 1" in report
    assert "webhook signing secret `whsec_…[REDACTED]` in pci_assessment.md" in report
    assert "Stripe test card …4242" in report
    assert "webhook_handler.py" in report  # the warning for the missing deliverable


def test_a_real_card_number_stops_the_export_and_writes_nothing(tmp_path):
    number = real_looking_card()
    paths, settings, root = write_lab(tmp_path, extra_output=f"charged card {number}\n")
    dest = tmp_path / "submission"
    with pytest.raises(ExportError) as err:
        export_submission(paths, dest, settings, root=root, chromium="/nonexistent/never-run")
    assert f"…{number[-4:]}" in str(err.value) and number not in str(err.value)
    assert "02_part.ipynb, cell 4, output 1" in str(err.value)
    assert not dest.exists()


def test_notebook_title_is_the_first_heading():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("Intro\n\n## **Part D**: PCI ##")]
    assert notebook_title(nb, "fallback") == "Part D: PCI"
    assert notebook_title(nbformat.v4.new_notebook(), "fallback") == "fallback"


def test_no_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="No notebooks"):
        export_submission([], tmp_path / "s", load_settings(environ={}, env_file=None))


@pytest.mark.browser
def test_the_command_line_route_without_playwright_gives_the_same_bookmarks(tmp_path, chromium):
    paths, settings, root = write_lab(tmp_path)
    result = export_submission(paths[:2], tmp_path / "sub", settings, chromium=chromium, root=root,
                               use_playwright=False, include_deliverables=False)
    reader = PdfReader(result.pdf)
    assert [o.title for o in reader.outline] == TITLES[:2]
    assert planted_key() not in "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert {p.name for p in (tmp_path / "sub").iterdir()} == {PDF_NAME, "leak_report.md"}


@pytest.mark.browser
def test_labkit_export_command(tmp_path, monkeypatch, capsys, chromium):
    from labkit.cli import main

    paths, settings, _root = write_lab(tmp_path)
    monkeypatch.setenv("LABKIT_OUT", str(settings.out_dir))
    monkeypatch.setenv("LABKIT_CHROMIUM", chromium)
    code = main(["export", "--notebooks", str(paths[0].parent), "--out", str(tmp_path / "sub"),
                 "--student", "Grace Hopper"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "export: done" in out.out and "leak report" in out.out
    assert planted_key() not in out.out + out.err and planted_key("whsec_", 32) not in out.out + out.err
    assert "Grace Hopper" in PdfReader(tmp_path / "sub" / PDF_NAME).pages[0].extract_text()


# ------------------------------------------------------------------ finding Chromium

def test_configured_chromium_path_wins():
    assert find_chromium({"LABKIT_CHROMIUM": sys.executable, "PATH": ""}) == sys.executable


def test_a_wrong_configured_path_explains_how_to_install(tmp_path):
    with pytest.raises(ChromiumNotFound) as err:
        find_chromium({"LABKIT_CHROMIUM": str(tmp_path / "nope"), "PATH": ""})
    assert "python -m playwright install chromium" in str(err.value)
    assert "apt-get install chromium" in str(err.value)


def test_flags_are_headless_and_quiet():
    args = chromium_args()
    assert args[0] == "--headless"
    for flag in ("--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"):
        assert flag in args
    assert ("--no-sandbox" in args) == (hasattr(os, "geteuid") and os.geteuid() == 0)
    assert "--headless" not in launch_args() and set(launch_args()) < set(args)
