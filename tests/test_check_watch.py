"""``labkit check --watch``: a save re-checks only the parts that read the file, the report keeps the others."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from labkit.checks.items import EVIDENCED, Item
from labkit.checks.recheck import POLL_S, Watch, local_imports, parts_for, servers_reach, watched
from labkit.settings import SettingsError
from tests.submissions.builder import build

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name, parts", [
    ("static/checkout.js", {"B"}), ("templates/checkout.html", {"B"}), ("checkout_server.py", {"B", "C"}),
    ("webhook_handler.py", {"B", "C"}), ("orders.py", {"B", "C"}), (".env", {"A", "B", "C"}),
    ("answers/part_e.md", {"D", "E"}), ("answers/pci.json", {"D", "E"}), ("pci_assessment.md", {"D", "E"}),
])
def test_each_file_re_checks_the_parts_that_read_it(name, parts):
    assert parts_for(name) == parts


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_saved_module_re_checks_only_the_servers_that_import_it(tmp_path):
    folder = _folder(tmp_path, {
        "checkout_server.py": "import os\nimport stripe\nfrom catalog import PRODUCTS\n",
        "webhook_handler.py": "import json\nfrom . import store\n",
        "catalog.py": "from shared import money\n",
        "store.py": "import shared.db\n",
        "shared.py": "",
        "tool.py": "print('never imported by name')\n",
    })
    reach = servers_reach(folder)
    assert reach == {"B": {"checkout_server.py", "catalog.py", "shared.py"},
                     "C": {"webhook_handler.py", "store.py", "shared.py"}}
    assert parts_for("webhook_handler.py", reach) == {"C"}  # Part C's second or two, not Part B's payments
    assert parts_for("catalog.py", reach) == {"B"}
    assert parts_for("shared.py", reach) == {"B", "C"}
    assert parts_for("tool.py", reach) == {"B", "C"}  # may be loaded some other way: both, to be safe
    (folder / "checkout_server.py").write_text("from webhook_handler import app as hooks\n")
    assert parts_for("webhook_handler.py", servers_reach(folder)) == {"B", "C"}


def test_a_server_that_does_not_parse_is_still_its_own_part(tmp_path):
    folder = _folder(tmp_path, {"checkout_server.py": "def broken(:\n", "webhook_handler.py": "import store\n"})
    reach = servers_reach(folder)
    assert reach == {"B": {"checkout_server.py"}, "C": {"webhook_handler.py"}}
    assert parts_for("checkout_server.py", reach) == {"B"}


LINES = ["import catalog", "from catalog import PRODUCTS", "from . import catalog", "import catalog.prices",
         "import os, stripe", "from .. import catalog", "x = (", "if True:\n    import catalog", "# import catalog",
         "s = 'import catalog'", "def f(:", "import missing_module"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(LINES), max_size=6).map("\n".join)))
def test_reading_the_imports_of_any_text_never_fails_and_finds_what_it_imports(text):
    import ast
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = _folder(Path(tmp), {"checkout_server.py": text, "catalog.py": "import checkout_server\n"})
        found = local_imports(folder, "checkout_server.py")
    assert "checkout_server.py" in found and found <= {"checkout_server.py", "catalog.py"}
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return
    imports = any(line.strip().startswith(("import catalog", "from catalog ", "from . import catalog"))
                  for line in text.splitlines())
    assert ("catalog.py" in found) == imports


def test_the_watch_names_changed_files_by_their_path_not_caches_outputs_or_unchanged_saves(tmp_path):
    folder = build("solution", tmp_path / "student")
    answers = folder / "answers"
    answers.mkdir(exist_ok=True)
    (answers / "part_e.md").write_text("draft\n")
    files = watched(folder, answers)
    assert files.changed() == []
    for junk in ("__pycache__/checkout_server.cpython-311.pyc", "out/evidence/x.json", "orders.db"):
        (folder / junk).parent.mkdir(parents=True, exist_ok=True)
        (folder / junk).write_text("x")
    script = folder / "static" / "checkout.js"
    script.write_text(script.read_text())  # saved again, nothing changed
    assert files.changed() == []
    script.write_text(script.read_text() + "\n// edited\n")
    (answers / "part_e.md").unlink()
    (folder / ".env").write_text("LABKIT_BACKEND=fake\n")
    assert files.changed() == [".env", "answers/part_e.md", "static/checkout.js"]


def test_a_module_added_after_the_watch_began_is_watched_from_then_on(tmp_path):
    folder = build("solution", tmp_path / "student")
    files = watched(folder, folder / "answers")
    (folder / "prices.py").write_text("PRICES = {}\n")
    assert files.changed() == ["prices.py"]
    assert files.changed() == []
    (folder / "prices.py").write_text("PRICES = {'prod_001': 1800}\n")
    assert files.changed() == ["prices.py"]
    (folder / "prices.py").unlink()
    assert files.changed() == ["prices.py"]


def test_an_answers_folder_made_after_the_watch_began_is_seen_by_its_files(tmp_path):
    """The answers may live outside the student's folder (LABKIT_ANSWERS), and not exist yet."""
    folder = build("solution", tmp_path / "student")
    answers = tmp_path / "elsewhere" / "answers"
    files = watched(folder, answers)
    answers.mkdir(parents=True)
    assert files.changed() == []  # a folder alone is nothing to check
    (answers / "part_e.md").write_text("BNPL and wallets\n")
    assert files.changed() == ["answers/part_e.md"]


def _items(parts: set[str], tag: str) -> list[Item]:
    return [Item(p, f"check:{p}", EVIDENCED, f"{tag} {p}") for p in sorted(parts)]


class Files:
    """What :class:`labkit.student.watch.FileWatch` would report: the names the test saved since the last look."""

    def __init__(self) -> None:
        self.saved: list[str] = []

    def save(self, name: str) -> None:
        self.saved.append(name)

    def changed(self) -> list[str]:
        names, self.saved = self.saved, []
        return names


def test_a_save_re_checks_its_parts_and_the_report_keeps_the_others():
    files, asked, shown = Files(), [], []
    saves = iter([[], ["static/checkout.js"], [], ["checkout_server.py"], ["answers/part_e.md"]])

    def check(parts):
        asked.append("".join(sorted(parts)))
        return _items(parts, f"run{len(asked)}")

    def sleep(seconds):
        if seconds == POLL_S:  # a look: the test saves the next file
            for name in next(saves, []):
                files.save(name)

    watch = Watch(check, files, "ABCDE", show=shown.append, sleep=sleep)
    watch.forever(rounds=5)
    items = watch.items()
    assert asked == ["ABCDE", "B", "BC", "DE"]
    assert [i.evidence for i in items] == ["run1 A", "run3 B", "run3 C", "run4 D", "run4 E"]
    head = shown[2].splitlines()[0]
    assert "static/checkout.js changed · checked Part B · Part A as checked at" in head
    assert "Part C as checked at" in head and "Part E as checked at" in head
    assert "Part A:" in shown[2] and "Part E:" in shown[2]  # the whole report, every part


def test_saves_while_an_editor_writes_are_one_check():
    files, asked = Files(), []
    writes = iter([["static/checkout.js"], ["static/checkout.css"], []])

    def sleep(_seconds):
        for name in next(writes, []):
            files.save(name)

    watch = Watch(lambda parts: asked.append(parts) or _items(parts, "x"), files, ["B"], show=lambda _t: None,
                  sleep=sleep)
    files.save("templates/checkout.html")
    watch.once()
    assert asked == [{"B"}]


def test_a_save_no_asked_part_reads_runs_nothing_and_says_so():
    files, asked, shown = Files(), [], []
    watch = Watch(lambda parts: asked.append(parts) or _items(parts, "x"), files, ["B"],
                  show=shown.append, sleep=lambda _s: None)
    watch.run(["B"])
    files.save("answers/part_e.md")
    watch.once()
    assert asked == [{"B"}] and shown[-1] == "answers/part_e.md changed: no check of Part B reads it"


def test_an_error_is_one_line_and_the_watch_goes_on():
    files, shown = Files(), []
    results = iter([SettingsError("STRIPE_SECRET_KEY is a live key (sk_live_…): use a test key"), _items({"A"}, "ok")])

    def check(parts):
        got = next(results)
        if isinstance(got, Exception):
            raise got
        return got

    watch = Watch(check, files, ["A"], show=shown.append, sleep=lambda _s: None)
    watch.run(["A"])
    assert shown == ["labkit check: SettingsError: STRIPE_SECRET_KEY is a live key (sk_live_…): use a test key "
                     "(fix it and save again)"]
    watch.run(["A"], ".env changed")
    assert watch.items()[0].evidence == "ok A"


@pytest.mark.slow
def test_labkit_check_watch_re_checks_a_saved_handler_and_stops_on_ctrl_c(tmp_path):
    """The command itself: Part C checked, the handler saved without its signature check, checked again, Ctrl-C."""
    folder = build("solution", tmp_path / "student")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
    env.update(LABKIT_BACKEND="fake", LABKIT_OUT=str(tmp_path / "out"), LABKIT_DB=str(tmp_path / "kit.db"),
               LABKIT_ANSWERS=str(tmp_path / "answers"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "labkit.cli", "check", "--part", "C", "--folder", str(folder),
                             "--watch"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []

    def wait_for(text: str, timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if text in line:
                return
        pytest.fail(f"never printed {text!r}: {''.join(lines)[-2000:]} {proc.stderr.read()[-2000:]}")

    try:
        wait_for("watching your files")
        first = "".join(lines)
        assert "Part C:" in first and "5 of 5 checks pass" in first, first
        mistaken = build("no_signature_check", tmp_path / "mistaken") / "webhook_handler.py"
        (folder / "webhook_handler.py").write_text(mistaken.read_text())  # the student saves a mistake
        wait_for("webhook_handler.py changed · checked Part C")
        wait_for("webhook:signature")
        assert "[missing]" in lines[-1], lines[-1]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped watching" in out and "Traceback" not in err, err
    assert proc.returncode == 1  # the latest check has items missing
