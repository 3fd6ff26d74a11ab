"""``labkit check --watch``: check again each time a file of the work is saved, and only the parts that read it.

The command stays up between checks, so Chromium, Playwright's driver and the kit's own imports are ready
for the next one (about a second saved each time on a 2-core machine). A save re-checks only the parts
whose checks read that file: an edit of ``webhook_handler.py`` costs Part C's second or two, not all
five parts (which server runs which of the student's ``.py`` files is read from their imports). Each
check still starts the student's servers anew from the files as saved, with a fresh fake Stripe;
nothing but the browser is kept from one check to the next. The report always shows every part
asked for: the ones checked now, and the others as they were last checked (its first line says which).

The files are compared by content five times a second (:class:`labkit.student.watch.FileWatch`, as
``labkit checkout`` does to restart the server), so a save that changes nothing checks nothing.
"""
from __future__ import annotations

import ast
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from labkit.student.watch import FileWatch

PARTS = "ABCDE"
POLL_S = 0.2   # how often the files are compared (a handful of small files: no CPU to speak of)
QUIET_S = 0.15  # an editor may save in several writes: the check starts once the files are quiet this long


class StudentFiles:
    """What changed among the files the checks read, by their path from ``folder``: the student's ``*.py``
    (one added later too), ``.env``, ``templates/`` and ``static/``; the answers and ``pci_assessment.md``
    (a file not there yet counts once it is saved). See :class:`labkit.student.watch.FileWatch`."""

    def __init__(self, folder: Path, answers_dir: Path) -> None:
        self.folder, self.answers_dir = Path(folder).resolve(), Path(answers_dir).resolve()
        self.modules = self._modules()
        self.watch = self._watch()

    def _modules(self) -> list[Path]:
        return sorted(self.folder.glob("*.py"))

    def _watch(self) -> FileWatch:
        paths = [*self.modules, self.folder / ".env", self.folder / "templates", self.folder / "static",
                 self.answers_dir, self.folder / "pci_assessment.md"]
        return FileWatch(paths, root=self.folder)

    def changed(self) -> list[str]:
        names = set(self.watch.changed())
        modules = self._modules()
        if modules != self.modules:  # a module added: watched from now on
            names |= {p.name for p in modules if p not in self.modules}
            self.modules = modules
            self.watch = self._watch()
        return sorted(names)


def watched(folder: Path, answers_dir: Path) -> StudentFiles:
    return StudentFiles(folder, answers_dir)


SERVERS = {"B": "checkout_server.py", "C": "webhook_handler.py"}  # the part each of the student's servers is


def local_imports(folder: Path, start: str) -> set[str]:
    """``start`` and the student's own modules it imports, directly or through each other (file names in
    ``folder``). Read, not run; a file that does not parse (a save half-way, a syntax error) adds only
    itself: its own check says what is wrong with it."""
    folder, seen, todo = Path(folder), set(), [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            tree = ast.parse((folder / name).read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level <= 1:
                modules = [node.module] if node.module else [alias.name for alias in node.names]
            else:
                continue
            todo += [f for f in (m.split(".")[0] + ".py" for m in modules) if (folder / f).is_file()]
    return seen


def servers_reach(folder: Path) -> dict[str, set[str]]:
    """For Parts B and C, the student's files their server runs (see :func:`local_imports`)."""
    return {part: local_imports(folder, server) for part, server in SERVERS.items()}


def parts_for(name: str, reach: dict[str, set[str]] | None = None) -> set[str]:
    """The parts whose checks read the file named ``name`` (see :func:`watched`). ``reach``
    (:func:`servers_reach`): which server runs which ``.py`` file; without it, or for a file neither
    server imports by name (it may be loaded some other way), a ``.py`` file is both servers'."""
    if name.startswith(("templates/", "static/")):
        return {"B"}
    if name.endswith(".py"):
        return {part for part, files in (reach or {}).items() if name in files} or {"B", "C"}
    if name == ".env":
        return {"A", "B", "C"}  # the keys and the webhook secret
    return {"D", "E"}  # the answers, pci_assessment.md


def _print(text: str) -> None:
    print(text, flush=True)  # at once, also into a pipe or a log


class Watch:
    """The latest items of each part asked for, and the loop that keeps them current."""

    def __init__(self, check: Callable[[set[str]], list], files: Any, wanted: Iterable[str], *,
                 show: Callable[[str], None] = _print, after: Callable[[list], Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 reach: Callable[[], dict[str, set[str]]] | None = None) -> None:
        """``check(parts)``: the items of those parts, checked now; ``files``: what changed since it was
        last asked (:class:`labkit.student.watch.FileWatch`); ``reach()``: which server runs which of the
        student's files now (:func:`servers_reach`)."""
        self.check, self.files, self.show, self.after, self.sleep = check, files, show, after, sleep
        self.reach = reach
        self.wanted = [p for p in PARTS if p in {w.upper() for w in wanted}]
        self.latest: dict[str, list] = {}
        self.when: dict[str, str] = {}

    def items(self) -> list:
        return [i for p in self.wanted for i in self.latest.get(p, [])]

    def run(self, parts: list[str], why: str = "") -> None:
        """Check ``parts`` now and show the whole report; an error is one line, and the watch goes on."""
        from labkit.checks.report import format_items

        try:
            items = self.check(set(parts))
        except Exception as exc:  # a .env saved half-way, a bug in the kit: say it, keep watching
            first = (str(exc).strip().splitlines() or [""])[0]
            self.show(f"labkit check: {type(exc).__name__}: {first[:200]} (fix it and save again)")
            return
        at = datetime.now().strftime("%H:%M:%S")
        for part in parts:
            self.latest[part], self.when[part] = [i for i in items if i.part == part], at
        older = [p for p in self.wanted if p not in parts and p in self.when]
        head = f"── {at} · {why + ' · ' if why else ''}checked Part {', '.join(parts)}"
        if older:
            head += " · " + "; ".join(f"Part {p} as checked at {self.when[p]}" for p in older)
        self.show(f"{head} ──\n{format_items(self.items())}")
        if self.after is not None:
            self.after(self.items())

    def once(self) -> None:
        """Look at the files once; when some changed (and then stayed as they are), check the parts they touch."""
        names = set(self.files.changed())
        if not names:
            return
        while True:
            self.sleep(QUIET_S)
            more = set(self.files.changed())
            if not more:
                break
            names |= more
        shown = sorted(names)
        reach = self.reach() if self.reach is not None else None
        parts = [p for p in self.wanted if any(p in parts_for(n, reach) for n in shown)]
        why = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "") + " changed"
        if parts:
            self.run(parts, why)
        else:
            self.show(f"{why}: no check of Part {', '.join(self.wanted)} reads it")

    def forever(self, rounds: int | None = None) -> None:
        """Check every part asked for, then watch (``rounds`` looks, or until Ctrl-C, which propagates:
        :func:`labkit.kit_server.serve_in_foreground` catches it). ``items()`` holds the latest report."""
        self.files.changed()  # what was saved before now is checked now
        self.run(self.wanted)
        self.show("watching your files: save one to check again (Ctrl-C to stop)")
        while rounds is None or rounds > 0:
            self.sleep(POLL_S)
            self.once()
            rounds = None if rounds is None else rounds - 1
