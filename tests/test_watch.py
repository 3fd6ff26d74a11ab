"""``labkit checkout`` and ``labkit webhooks`` restart the student's server when its file changes, and say
so in one line; a change that does not start is one line too, and the next save is picked up (issue 31)."""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from labkit.student.runner import free_port
from labkit.student.watch import FileWatch

pytestmark = pytest.mark.slow

SERVER = '''\
import os
from flask import Flask, jsonify

app = Flask(__name__)
SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")


@app.get("/version")
def version():
    return jsonify({{"version": {version}}})
'''


def kit_folder(tmp: Path) -> Path:
    """A folder the kit takes for its top (pyproject.toml and notebooks/ in it)."""
    (tmp / "notebooks").mkdir()
    (tmp / "pyproject.toml").write_text("[project]\nname = 'made-up-student-kit'\n", encoding="utf-8")
    return tmp


class Command:
    """A `labkit` command running in the background; its output lines, read as they come."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "labkit.cli", *args], cwd=cwd, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self) -> str:
        return self.lines.get(timeout=90)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


@pytest.mark.parametrize("command,filename", [("checkout", "checkout_server.py"), ("webhooks", "webhook_handler.py")])
def test_saving_the_students_file_restarts_the_server(fake, tmp_path, command, filename):
    kit = kit_folder(tmp_path)
    student = kit / filename
    student.write_text(SERVER.format(version=1), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
    env.update(LABKIT_BACKEND="fake", LABKIT_STRIPE_API_BASE=fake.url, LABKIT_OUT=str(tmp_path / "out"),
               LABKIT_DB=str(tmp_path / "out" / "kit.db"), PYTHONIOENCODING="utf-8")
    port = free_port()
    run = Command([command, "--port", str(port)], kit, env)
    try:
        first = run.next_line()
        assert f"127.0.0.1:{port}" in first and "restarts" in first, first
        version = lambda: requests.get(f"http://127.0.0.1:{port}/version", timeout=10).json()["version"]
        assert version() == 1

        student.write_text(SERVER.format(version=2), encoding="utf-8")
        line = run.next_line()
        assert line == f"labkit {command}: {filename} changed: restarted {filename} on http://127.0.0.1:{port}"
        assert version() == 2

        student.write_text(SERVER.format(version="3 +"), encoding="utf-8")  # a syntax error
        line = run.next_line()
        assert f"{filename} changed;" in line and "syntax error" in line and f"{filename} line 10" in line
        assert "fix it and save" in line

        student.write_text(SERVER.format(version=4), encoding="utf-8")
        while "restarted" not in line:  # the broken version may print its traceback lines first
            line = run.next_line()
        assert version() == 4
        assert run.proc.poll() is None
    finally:
        run.stop()
    rest = []
    while not run.lines.empty():
        rest.append(run.lines.get())
    assert not [r for r in rest if "Traceback" in r and "labkit" in r], rest


def test_file_watch_compares_contents_not_times(tmp_path):
    path = tmp_path / "checkout_server.py"
    path.write_text("a = 1\n")
    (tmp_path / "templates").mkdir()
    watch = FileWatch([path, tmp_path / "templates"])
    stamp = path.stat().st_mtime_ns
    path.write_text("a = 1\n")
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))  # touched, same content
    assert watch.changed() == []
    path.write_text("a = 2\n")
    os.utime(path, ns=(stamp, stamp))  # new content, old time (a sync tool, a coarse clock)
    assert watch.changed() == ["checkout_server.py"]
    (tmp_path / "templates" / "checkout.html").write_text("<p>")
    assert watch.changed() == ["checkout.html"]
    assert watch.changed() == []


def test_a_file_saved_while_the_server_started_is_not_missed(tmp_path):
    """The watch begins after the server has read its file: a save in between restarts it once."""
    import time

    path = tmp_path / "checkout_server.py"
    path.write_text("a = 1\n")
    started = time.time()
    stamp = int((started + 1) * 1e9)
    path.write_text("a = 2\n")  # saved after the server started reading it, before the watch begins
    os.utime(path, ns=(stamp, stamp))
    watch = FileWatch([path], since=started)
    assert watch.changed() == ["checkout_server.py"]
    assert watch.changed() == []
    assert FileWatch([path], since=started + 5).changed() == []  # saved before the start: what it runs
