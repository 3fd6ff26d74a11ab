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


class FileWatch:
    """Content hashes of the files a server runs: its ``.py`` file and any folders given (``templates/``)."""

    def __init__(self, paths: Iterable[Path], since: float | None = None) -> None:
        """``since``: when the server started reading its files; one saved after that (before this watch
        began) is reported by the first :meth:`changed`, so a save in the first moments is not missed."""
        self.paths = [Path(p) for p in paths]
        self.seen = self.snapshot()
        self.late = sorted({p.name for p in self._files() if since is not None and _mtime(p) > since})

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
            except OSError:  # being saved, or removed: counts as its own state
                out[path.as_posix()] = "unreadable"
        return out

    def changed(self) -> list[str]:
        """The names of the files whose content changed since the last call (or the start)."""
        now = self.snapshot()
        names = sorted({Path(k).name for k in set(now) | set(self.seen) if now.get(k) != self.seen.get(k)}
                       | set(self.late))
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
