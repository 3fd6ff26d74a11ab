"""Serve a student's file until Ctrl-C, restarting it when the student saves a change.

``labkit checkout`` and ``labkit webhooks`` run the student's server in its own process; Python
reads the file once, so an edit was silently not picked up. :func:`serve_and_watch` compares the
contents of the watched files (not their modification times, which editors and sync tools set
unreliably) every half second, and on a change stops the server and starts it again on the same
port, saying so in one line. A change that does not start (a syntax error) is one line naming the
file and line; the next save tries again.
"""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

from labkit.student.runner import StudentServer, StudentServerError

POLL_S = 0.5
ABSENT = "absent"  # a watched path with no file (yet), or a folder's file since removed


class FileWatch:
    """Content hashes of the files a server runs: its ``.py`` file and any folders given (``templates/``)."""

    def __init__(self, paths: Iterable[Path], since: float | None = None, root: Path | None = None) -> None:
        """``since``: when the server started reading its files; one saved after that (before this watch
        began) is reported by the first :meth:`changed`, so a save in the first moments is not missed.
        ``root``: files under it are named by their path from it (``static/checkout.js``), not their name."""
        self.paths = [Path(p) for p in paths]
        self.root = Path(root) if root is not None else None
        self.seen = self.snapshot()
        self.late = sorted({self._name(p.as_posix()) for p in self._files()
                            if since is not None and _mtime(p) > since})

    def _name(self, key: str) -> str:
        path = Path(key)
        if self.root is not None:  # under the root, else under a watched folder elsewhere (answers/part_e.md)
            for base in (self.root, *(p.parent for p in self.paths)):
                try:
                    return path.relative_to(base).as_posix()
                except ValueError:
                    continue
        return path.name

    def _files(self) -> list[Path]:
        found = []
        for path in self.paths:
            if path.is_dir():
                found += sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            else:
                found.append(path)
        return found

    def snapshot(self) -> dict[str, str]:
        out = {}
        for path in self._files():
            try:
                out[path.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:  # not there (yet): the same as not listed
                out[path.as_posix()] = ABSENT
            except OSError:  # being saved: counts as its own state
                out[path.as_posix()] = "unreadable"
        return out

    def changed(self) -> list[str]:
        """The names of the files whose content changed since the last call (or the start)."""
        now = self.snapshot()
        names = sorted({self._name(k) for k in set(now) | set(self.seen)
                        if now.get(k, ABSENT) != self.seen.get(k, ABSENT)} | set(self.late))
        self.seen, self.late = now, []
        return names


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile: the content check sees it
        return 0.0


def restart(server: StudentServer, names: list[str], say: Callable[[str], None], command: str) -> bool:
    """Stop ``server`` and start it again on its port; one line either way. Returns whether it runs."""
    server.stop()
    try:
        server.start()
    except StudentServerError as exc:
        say(f"{command}: {', '.join(names)} changed; {exc}: fix it and save, the kit tries again")
        return False
    say(f"{command}: {', '.join(names)} changed: restarted {server.name} on {server.url}")
    return True


def serve_and_watch(server: StudentServer, command: str, also: Iterable[Path] = (),
                    say: Callable[[str], None] | None = None) -> int:
    """Keep ``server`` running until Ctrl-C (KeyboardInterrupt propagates), restarting it when its file or
    ``also`` changes. Returns 1, after its last lines, if the server stops by itself."""
    say = say or (lambda line: print(line, flush=True))
    watch = FileWatch([server.path, *also], since=getattr(server, "started_at", None))
    up = server.running
    while True:
        time.sleep(POLL_S)
        names = watch.changed()
        if names:
            up = restart(server, names, say, command)
        elif up and not server.running:
            print(f"{command}: {server.name} stopped by itself; its last lines:\n{server.log_tail()}",
                  file=sys.stderr, flush=True)
            return 1
