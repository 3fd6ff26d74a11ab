"""The webhook handler in its own process, for crash drills: start it, kill it, start it again.

A thread cannot be killed the way a server dies (power cut, OOM killer, ``kill -9``); a
process can. The tests and the notebook's crash demonstration run the real
``labkit webhooks`` command here, on a fixed port and database, with the secret given
in the child's environment only.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from labkit.settings import project_root

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# What a killed handler's exit code reads: -9 (SIGKILL) on POSIX; Windows has no SIGKILL and
# TerminateProcess (Popen.kill) ends the process just as abruptly, with exit code 1.
KILLED_EXIT_CODE = -signal.SIGKILL if hasattr(signal, "SIGKILL") else 1


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0) -> Any:
    with _NO_PROXY.open(url, timeout=timeout) as resp:
        return json.loads(resp.read())


class HandlerProcess:
    """``python -m labkit.cli webhooks`` as a child process.

    >>> proc = HandlerProcess(db_path, secret).start()     # waits until /health answers
    >>> proc.kill()                                           # SIGKILL: no cleanup at all
    >>> proc.start()                                          # same port, same database
    """

    def __init__(self, db_path: str | Path, secret: str, port: int | None = None, *,
                 fault: str | None = None, log_path: str | Path | None = None) -> None:
        self.db_path = Path(db_path)
        self.secret = secret
        self.port = port or free_port()
        self.fault = fault
        self.log_path = Path(log_path) if log_path else self.db_path.with_suffix(".log")
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, fault: str | None = None, timeout: float = 30.0) -> "HandlerProcess":
        """Start (again); ``fault`` replaces the fault setting for this run only."""
        if self.running:
            raise RuntimeError("the handler process is already running")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
        env.update(STRIPE_WEBHOOK_SECRET=self.secret, LABKIT_DB=str(self.db_path), LABKIT_BACKEND="fake",
                   PYTHONUNBUFFERED="1")
        fault = self.fault if fault is None else fault
        if fault:
            env["LABKIT_WEBHOOK_FAULT"] = fault
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "labkit.cli", "webhooks", "--port", str(self.port)],
                cwd=project_root(Path(__file__).parent), env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.starts += 1
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the handler exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if get_json(self.url + "/health", timeout=1).get("ready"):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"the handler did not answer within {timeout:g} s; see {self.log_path}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout: float = 10.0) -> int | None:
        """Wait for the process to end by itself (a crash drill); its exit code."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL (Windows: TerminateProcess): no chance to flush, close or answer anything."""
        if self.running:
            if hasattr(signal, "SIGKILL"):
                self.proc.send_signal(signal.SIGKILL)
            else:  # Windows: Popen.terminate() is TerminateProcess, as abrupt as SIGKILL
                self.proc.terminate()
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self) -> None:
        if self.running:
            self.proc.send_signal(signal.SIGTERM)  # handled like Ctrl-C: a clean stop
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def orders(self) -> dict[str, Any]:
        return get_json(self.url + "/orders")

    def deliveries(self, limit: int = 50) -> list[dict[str, Any]]:
        return get_json(f"{self.url}/deliveries?limit={limit}")["deliveries"]

    def __enter__(self) -> "HandlerProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
