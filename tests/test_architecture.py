"""The kit's shape, kept by tests: no import cycles, one signer, one money table, no upward imports."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from labkit.settings import project_root

ROOT = project_root(Path(__file__).parent)
KIT = ROOT / "labkit"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The labkit modules ``path`` imports (type-only imports included: they are a dependency too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = list(tree.body)
    for node in tree.body:
        if _type_checking(node):
            nodes += node.body
    if not top_level_only:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("labkit")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("labkit") and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def graph(top_level_only: bool = True) -> dict[str, set[str]]:
    """Module -> the kit modules it imports. A module's own enclosing packages are left out: Python runs
    a package's ``__init__`` before its modules whatever they import, so that is no design cycle."""
    files = {module_name(p): p for p in KIT.rglob("*.py")}
    return {name: {m for m in imports(path, top_level_only=top_level_only)
                   if m in files and m != name and not name.startswith(m + ".")}
            for name, path in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycles_at_module_level():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_kit_module_imports_a_command_line_or_the_tests():
    for name, deps in graph(top_level_only=False).items():
        if name in ("labkit.cli", "labkit.__main__") or name.endswith(".cli"):
            continue
        upward = {d for d in deps if d == "labkit.cli"}
        assert not upward, f"{name} imports {upward}"
    for path in KIT.rglob("*.py"):
        assert not re.search(r"^\s*(from|import) tests\b", path.read_text(encoding="utf-8"), re.M), path


def test_one_webhook_signer():
    """Stripe's signature (an HMAC of ``t.payload`` sent as ``v1=``) is computed in labkit/webhook_signing.py
    only; other modules (forged-event probes, the fake's deliveries) call it."""
    signers = [p.relative_to(ROOT).as_posix() for p in KIT.rglob("*.py")
               if re.search(r"^\s*(import hmac|from hmac import)", t := p.read_text(encoding="utf-8"), re.M)
               and "v1" in t]
    assert signers == ["labkit/webhook_signing.py"]


def test_one_money_table():
    """The zero-decimal currencies (JPY, KRW, …: amounts not in cents) are listed in labkit/money.py only."""
    holders = [p.relative_to(ROOT).as_posix() for p in [*KIT.rglob("*.py"), ROOT / "checkout_server.py",
                                                         ROOT / "webhook_handler.py"]
               if p.is_file() and re.search(r"[\"']krw[\"']", p.read_text(encoding="utf-8"), re.I)]
    assert holders == ["labkit/money.py"]


def _classes_with_start_classmethod() -> list[str]:
    found = []
    for path in KIT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for fn in node.body:
                    if (isinstance(fn, ast.FunctionDef) and fn.name == "start"
                            and any(ast.unparse(d) == "classmethod" for d in fn.decorator_list)):
                        found.append(f"{module_name(path)}.{node.name}")
    return found


def test_one_lab_class_starts_the_students_servers():
    """One lab object (issue 29): the notebooks, the checks, grading and the commands all start the
    student's servers through ``labkit.lab.Lab.start``; no second lab class beside it."""
    assert _classes_with_start_classmethod() == ["labkit.lab.Lab"]


# Stems several subpackages use for the same role, each read with its package: its command (`cli`), its
# "run everything" entry (`run`), its report, its pages (browser pages in checks/, PDF pages in export/),
# its errors and shared helpers. Any other stem names one capability in one place.
ROLE_STEMS = {"__init__", "cli", "run", "report", "pages", "errors", "common"}


def test_no_two_modules_share_a_name_outside_the_role_names():
    """A newcomer finds each capability in one guess: no `serve.py` beside `serving.py`, no `checkout.py`
    in two folders, no `lab.py` twice."""
    by_stem: dict[str, list[str]] = {}
    for path in KIT.rglob("*.py"):
        by_stem.setdefault(path.stem, []).append(path.relative_to(ROOT).as_posix())
    shared = {stem: sorted(paths) for stem, paths in by_stem.items() if len(paths) > 1 and stem not in ROLE_STEMS}
    assert shared == {}
    assert not ({"serve", "serving"} <= set(by_stem))


def test_one_foreground_loop_catches_ctrl_c():
    """`labkit checkout`, `webhooks` and `fakestripe` block until Ctrl-C in one function; besides it only the
    command line's own catch-all (exit code 130) catches KeyboardInterrupt, and the browser thread's wait
    (it tells the running browser run to stop, then raises it again)."""
    catchers = []
    for path in KIT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None and "KeyboardInterrupt" in ast.unparse(node.type):
                catchers.append(path.relative_to(ROOT).as_posix())
    assert sorted(catchers) == ["labkit/browser_thread.py", "labkit/cli.py", "labkit/kit_server.py"]


def _layout() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if "## Layout" not in text:  # the student edition's README is the student's guide: no map of the kit
        pytest.skip("this README has no Layout section (the student edition)")
    return text[text.index("## Layout"):text.index("All `labkit` subcommands")]


def test_the_readme_layout_matches_the_code():
    """Every module and package at labkit/'s top has its line in README's Layout, every path it names exists,
    and every file name it gives is a file of the kit (a renamed module leaves no stale name behind)."""
    layout = _layout()
    top = {p.name for p in KIT.iterdir() if (p.suffix == ".py" and p.stem != "__init__")
           or (p.is_dir() and (p / "__init__.py").is_file())}
    assert {name for name in top if f"labkit/{name}" not in layout} == set()
    for path in re.findall(r"\blabkit/[\w/.]*\w", layout):
        assert (ROOT / path).exists(), path
    files = {p.name for p in [*KIT.rglob("*.py"), *ROOT.glob("*.py")]}
    assert {name for name in re.findall(r"\b(\w+\.py)\b", layout) if name not in files} == set()


def test_no_test_imports_another_test_module():
    """Shared test code lives in tests/helpers.py (fixtures in conftest.py): a test module, or conftest, is
    never imported, so each test file runs, moves or is left out of an edition on its own."""
    tests = ROOT / "tests"
    importers = [p.relative_to(ROOT).as_posix() for p in tests.rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+(tests\.|\.)(test_\w+|conftest)\b",
                              p.read_text(encoding="utf-8"), re.M)]
    assert importers == []


def test_one_test_card_reader():
    """Stripe's test-card files are read by labkit/data (``test_cards()``, ``more_test_cards()``) only."""
    readers = [p.relative_to(ROOT).as_posix() for p in KIT.rglob("*.py")
               if re.search(r"[\"'](stripe_more_)?test_cards\.json[\"']", p.read_text(encoding="utf-8"))]
    assert readers == ["labkit/data/__init__.py"]


def test_one_http_client_besides_requests():
    """The kit's own HTTP calls use ``requests``, or, between its own processes (the fake's webhook deliveries, the
    ``stripe`` package's transport to the fake), the kept-alive client of labkit/loopback_http.py: no other module
    speaks ``http.client`` or ``urllib.request`` itself."""
    users = [p.relative_to(ROOT).as_posix() for p in KIT.rglob("*.py")
             if re.search(r"^\s*(import|from)\s+(http\.client|urllib\.request)\b", p.read_text(encoding="utf-8"), re.M)]
    assert users == ["labkit/loopback_http.py"]


def test_no_test_waits_for_the_handout():
    """A plain clone has no ../shared/lab09_handout.txt: tests find it through tests/helpers.py's handout_path()
    only, and none is skipped without it (the kit's handout-style code stands in; the handout is one more case)."""
    tests = [p for p in (ROOT / "tests").rglob("*.py") if p.name != "test_architecture.py"]
    locators = [p.relative_to(ROOT).as_posix() for p in tests
                if re.search(r"[\"']lab09_handout\.txt[\"']", p.read_text(encoding="utf-8"))]
    assert locators == ["tests/helpers.py"]
    skips = [p.relative_to(ROOT).as_posix() for p in tests
             if re.search(r"skip(if)?\(.*handout", p.read_text(encoding="utf-8"), re.I)]
    assert skips == []


def test_the_paths_the_kit_writes_are_spelled_once():
    """``<out>/evidence/browser_runs.json`` and the kit's other output folders are Settings properties
    (labkit/settings.py): no other module joins a folder name onto ``out_dir`` itself."""
    spellers = [p.relative_to(ROOT).as_posix() for p in KIT.rglob("*.py")
                if re.search(r"out_dir\)?\s*/\s*[\"']", p.read_text(encoding="utf-8"))]
    assert spellers == ["labkit/settings.py"]


# the entry points a notebook calls without settings (each loads them once, at its top)
NOTEBOOK_ENTRY_POINTS = {"labkit/backend.py", "labkit/lab.py", "labkit/links.py",
                         "labkit/checks/notebook.py", "labkit/pci/widgets.py"}


def test_settings_are_loaded_by_the_commands_and_passed_down():
    """Below the commands (and the notebooks' entry points) nothing falls back to ``load_settings()`` or
    ``project_root()`` itself: the caller's settings, and their ``root``, are the one way in."""
    fallback = re.compile(r"settings (or|if settings is not None else) .*load_settings\(\)|\bor project_root\(\)")
    found = {p.relative_to(ROOT).as_posix() for p in KIT.rglob("*.py") if fallback.search(p.read_text(encoding="utf-8"))}
    assert found <= NOTEBOOK_ENTRY_POINTS, found - NOTEBOOK_ENTRY_POINTS
