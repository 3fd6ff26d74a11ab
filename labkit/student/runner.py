"""Start, watch and stop one student server in its own process (see :mod:`labkit.student.server_process`).

>>> server = StudentServer(Path("checkout_server.py"), env={...}, api_base=fake.url).start()
>>> server.url, server.log_tail()
>>> server.stop()

A file that does not import (a syntax error, a missing variable), that has no ``app``, or
that hangs while importing becomes a :class:`StudentServerError` with one line saying why,
never a traceback. Everything the student's code prints is kept (``log_tail``) as evidence
for the checks, and written to ``log_path`` when given.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from labkit.settings import project_root
from labkit.student.confine import Confinement, limit_reason, record

READY, ERROR = "LABKIT-READY ", "LABKIT-ERROR "
# Variables a child needs on every OS (Windows cannot start Python without SYSTEMROOT).
PASS_THROUGH = ("PATH", "SYSTEMROOT", "SYSTEMDRIVE", "TEMP", "TMP", "TMPDIR", "HOME", "USERPROFILE",
                "APPDATA", "LOCALAPPDATA", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV",
                # test mode behind a proxy or a TLS-inspecting firewall needs these to reach api.stripe.com
                # (offline, the fake is reached without them: labkit.stripe_transport)
                "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR",
                "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


class StudentServerError(RuntimeError):
    """The student's server could not be started; ``str()`` is one line for the student.

    In a notebook (:func:`labkit.backend.notebook_messages`) it shows as that line and what to do
    (:attr:`what_to_do`), with what the file printed, its traceback included, folded below (:attr:`folded`).
    """

    one_line = True

    def __init__(self, message: str, kind: str = "start", log: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.log = log

    @property
    def what_to_do(self) -> str:
        if self.kind == "port":
            return ""  # the message says it already (labkit.kit_server.port_in_use_message)
        if self.kind == "missing":
            return "put the file back (git checkout -- FILE restores the starter), then run the notebook from the top"
        return "fix it, save the file, then run the notebook again from the top (Kernel → Restart Kernel and Run All)"

    @property
    def folded(self) -> str:
        return self.log


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_environ(extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: the OS basics, none of the parent's STRIPE_/LABKIT_ values, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k.upper() in PASS_THROUGH}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    kit = str(project_root(Path(__file__).parent))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (kit, env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


class StudentServer:
    def __init__(self, path: Path, *, env: dict[str, str], api_base: str = "", port: int = 0,
                 name: str | None = None, log_path: Path | None = None, start_timeout: float = 20.0,
                 allowed_hosts: tuple[str, ...] = (), confine: Confinement | None = None) -> None:
        self.path = Path(path).resolve()
        self.confine = confine
        self.env = dict(env)
        self.api_base = api_base
        self.port = port
        self.name = name or self.path.name
        self.log_path = Path(log_path) if log_path else None
        self.start_timeout = start_timeout
        self.allowed_hosts = allowed_hosts
        self.debug_requested = False
        self.proc: subprocess.Popen | None = None
        self._lines: deque[str] = deque(maxlen=400)
        self._ready = threading.Event()
        self._status: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "StudentServer":
        if not self.path.is_file():
            raise StudentServerError(f"{self.path.name} not found in {self.path.parent}", kind="missing")
        # -P: the student's folder (the working directory) is not put first on sys.path, so a file there
        # named like a kit module or a package (labkit/, stripe.py) cannot run before the kit's own code.
        cmd = [sys.executable, "-P", "-m", "labkit.student.server_process", str(self.path), "--port", str(self.port)]
        if self.api_base:
            cmd += ["--api-base", self.api_base]
        for host in self.allowed_hosts:
            cmd += ["--allowed-host", host]
        env = child_environ(self.env)
        if self.confine is not None:
            cmd += ["--confine", self.confine.to_arg()]
            env = self.confine.environ(env)
        # each process has its own ready flag and status: the log thread of a process stopped before
        # (a restart) may still be reading its last lines, and must not mark this one as ended
        self._ready, self._status = threading.Event(), {}
        self.started_at = time.time()  # files saved after this may not be what the process read
        self.proc = subprocess.Popen(cmd, cwd=str(self.path.parent), env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._pump, args=(self.proc, self._ready, self._status),
                         name=f"labkit-log-{self.name}", daemon=True).start()
        if not self._ready.wait(self.start_timeout):
            self.kill()
            raise StudentServerError(f"{self.name} did not start within {self.start_timeout:g} s "
                                     "(does it wait for something while being imported?)", kind="timeout",
                                     log=self.log_tail())
        if "error" in self._status:
            self.wait_exit(5)
            err = self._status["error"]
            if err.get("kind") == "limit":
                record(self.name, err.get("message", "").split(": ", 1)[-1])
            raise StudentServerError(f"{self.name} did not start: {err.get('kind')}: {err.get('message')}",
                                     kind=err.get("kind", "error"), log=self.log_tail())
        self.port = int(self._status["port"])
        self.debug_requested = bool(self._status.get("debug"))
        return self

    def _pump(self, proc: subprocess.Popen, ready: threading.Event, status: dict[str, Any]) -> None:
        log = open(self.log_path, "a", encoding="utf-8") if self.log_path else None
        try:
            for raw in iter(proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line.startswith(READY) and not ready.is_set():
                    status.update(json.loads(line[len(READY):]))
                    ready.set()
                    continue
                if line.startswith(ERROR) and not ready.is_set():
                    status["error"] = json.loads(line[len(ERROR):])
                    ready.set()
                    continue
                self._lines.append(line)
                if log:
                    log.write(line + "\n")
                    log.flush()
        finally:
            if log:
                log.close()
            if not ready.is_set():
                status.setdefault("error", {"kind": "exited", "message": "the process ended before serving"})
                ready.set()

    @property
    def limit_hit(self) -> str:
        """Why a limit of :attr:`confine` ended this server ("" when none did, or it still runs)."""
        if self.confine is None or self.proc is None or self.proc.poll() is None:
            return ""
        return limit_reason(self.proc.returncode, self.confine.limits)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(list(self._lines)[-lines:])

    def log_text(self) -> str:
        return "\n".join(self._lines)

    def wait_exit(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Stop at once (SIGKILL on POSIX, TerminateProcess on Windows): no cleanup."""
        if self.running:
            sigkill = getattr(signal, "SIGKILL", None)  # Windows has none: terminate() is immediate there
            self.proc.send_signal(sigkill) if sigkill is not None else self.proc.terminate()
        self.wait_exit(10)

    def stop(self) -> None:
        if self.limit_hit:  # it ended by itself, at a limit: say so in the student's row
            record(self.name, self.limit_hit)
        if self.running:
            self.proc.terminate()
            if self.wait_exit(5) is None:
                self.kill()

    def __enter__(self) -> "StudentServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<StudentServer {self.name} {self.url if self.running else 'stopped'}>"
