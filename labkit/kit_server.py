"""The kit's own HTTP servers: any WSGI app in a background daemon thread, quietly, on 127.0.0.1 by
default; and :func:`serve_in_foreground`, the one "serve until Ctrl-C" loop of the ``labkit checkout``,
``webhooks`` and ``fakestripe`` commands.

The server is waitress (a production WSGI server, pure Python): HTTP/1.1 keep-alive and
a worker pool, no debugger, and no access log, so nothing lands in notebook cells.
Werkzeug's development server closes every connection, which made each API call pay
for a new TCP connection and a new thread (see bench/bench_fakestripe.py).

Why the student's servers run on another WSGI server (cheroot, in :mod:`labkit.student.server_process`):
each of them is a child process of its own that serves one file, and there cheroot parses and answers
each request on one worker thread from its first byte to its last, with no hand-off between an I/O
thread and a worker; under the GIL waitress's hand-offs were most of a webhook's latency there
(``bench/bench_webhooks.py``: p99 50-70 ms on waitress, under 10 ms on cheroot, same handler, same four
threads). The child also makes cheroot's chunked reader strict and its refusals JSON by patching
cheroot's classes, which is safe only in a process that serves nothing else. The kit's servers live in
the kit's own process (a notebook kernel, a test), beside each other, where one waitress loop per server
in a daemon thread keeps them quiet and unpatched. So two servers, each where it fits; this is the one
place that says so.

Every app is served behind :class:`labkit.hostcheck.HostCheck` (against DNS rebinding):
only ``localhost``, ``127.0.0.1``/``::1`` and the names in ``LABKIT_ALLOWED_HOSTS`` are answered.
"""
from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
import threading
import time
from typing import Callable, Iterable
from urllib.parse import urlsplit

from waitress import wasyncore
from waitress.server import create_server

from labkit.hostcheck import HostCheck

log = logging.getLogger("labkit.kit_server")


def is_loopback_url(url: str) -> bool:
    """Does ``url`` point at this machine (localhost, 127.0.0.0/8, ::1)?"""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# The content type of every file the kit serves, by extension. Never guessed from the OS: on
# Windows that reads the registry, where some machines map .js to text/plain, and with nosniff
# the browser then refuses the script (the Pay button never enables).
STATIC_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
                "html": "text/html; charset=utf-8", "json": "application/json", "png": "image/png",
                "svg": "image/svg+xml", "ico": "image/x-icon"}


def register_static_types() -> None:
    """Make Python's ``mimetypes`` (and so Flask's ``send_from_directory``) give our types, whatever
    the OS registry says (Windows may map ``.js`` to ``text/plain``, which ``nosniff`` browsers refuse)."""
    import mimetypes

    for ext, kind in STATIC_TYPES.items():
        mimetypes.add_type(kind.split(";")[0], "." + ext)


def static_type(name: str) -> str:
    return STATIC_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


class PortInUseError(OSError):
    """Another program listens on the port; the message says what to do."""


def port_in_use_message(host: str, port: int) -> str:
    """One line: the port is taken, and what to do (stop the other server, or ``--port`` another one)."""
    msg = (f"port {port} on {host} is already in use (an earlier server still running? stop it with Ctrl-C in "
           f"its window, or choose another port with --port, e.g. --port {port + 50 if port < 65000 else 8050})")
    if port == 5000:
        msg += ("; on a Mac, AirPlay Receiver listens on port 5000: turn it off in System Settings → "
                "General → AirDrop & Handoff")
    return msg


def _socket_options(windows: bool = os.name == "nt") -> list[tuple[int, int, int]]:
    if windows:  # SO_REUSEADDR would let a second server share a busy port silently
        return [(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)]
    return [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)]  # POSIX: only reuses TIME_WAIT, not a listener


def _someone_listens(host: str, port: int) -> bool:
    """Does a server answer on (host, port)? (BSD/macOS let a specific bind shadow a wildcard one.)"""
    probe = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    try:
        with socket.create_connection((probe, port), timeout=0.5):
            return True
    except OSError:
        return False


def listening_socket(host: str, port: int, windows: bool = os.name == "nt") -> socket.socket:
    """A socket bound to (host, port), refusing a port another server holds on every OS."""
    # Windows: a refused connect to localhost takes seconds, and the exclusive bind detects it anyway.
    if port and not windows and _someone_listens(host, port):
        raise PortInUseError(errno.EADDRINUSE, port_in_use_message(host, port))
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = sorted(infos, key=lambda i: i[0] != socket.AF_INET)[0]
    sock = socket.socket(family, kind, proto)
    try:
        for option in _socket_options(windows):
            sock.setsockopt(*option)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048:
            raise PortInUseError(errno.EADDRINUSE, port_in_use_message(host, port)) from exc
        if windows and exc.errno == errno.EACCES:  # WSAEACCES: held exclusively, or reserved by Hyper-V/WSL
            raise PortInUseError(errno.EADDRINUSE, port_in_use_message(host, port) + "; or Windows reserves "
                                 "it (netsh interface ipv4 show excludedportrange protocol=tcp)") from exc
        raise
    return sock


def wait_while_running(server: "BackgroundServer") -> None:
    """Block until the server stops; Ctrl-C raises KeyboardInterrupt at once on every OS.

    ``time.sleep`` is interruptible on Windows; ``Thread.join()`` without a timeout is not.
    """
    while server.running:
        time.sleep(0.2)


def serve_in_foreground(lines: Iterable[str], wait: Callable[[], int | None], close: Callable[[], None],
                        stopped: str) -> int:
    """The foreground loop of the ``labkit checkout``, ``webhooks`` and ``fakestripe`` commands: print
    ``lines`` (the URLs, how to stop), block in ``wait`` until Ctrl-C, then say ``stopped``; ``close``
    runs however it ends. Returns ``wait``'s exit code (a server that stopped by itself), 0 after Ctrl-C.

    SIGTERM or a closed terminal count as Ctrl-C where the command turns them into KeyboardInterrupt.
    """
    try:
        for line in lines:
            print(line, flush=True)
        return int(wait() or 0)
    except KeyboardInterrupt:
        print(f"\n{stopped}", flush=True)
        return 0
    finally:
        close()


class BackgroundServer:
    """A WSGI app served from a daemon thread.

    >>> with BackgroundServer(app) as srv:   # port 0 picks a free port
    ...     requests.get(srv.url)
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, name: str = "server", threads: int = 8,
                 allowed_hosts=None):
        if getattr(app, "debug", False):
            raise RuntimeError(f"{name}: refusing to serve a Flask app with debug on (it exposes a code console)")
        self.app = app
        # Host names served besides this machine's own; default: Settings.allowed_hosts
        self.allowed_hosts = tuple(_configured_hosts() if allowed_hosts is None else allowed_hosts)
        self.name = name
        self.threads = threads
        self._host = host
        self._port = port
        self._server = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self.name} is not running")
        return int(self._server.socket.getsockname()[1])

    @property
    def bound_address(self) -> tuple[str, int]:
        """The (host, port) the listening socket is bound to."""
        if self._server is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._server.socket.getsockname()[:2]

    @property
    def url(self) -> str:
        host = self._host if self._host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "BackgroundServer":
        if self.running:
            return self
        # Waitress warns on stderr when its queue is briefly deep (benchmarks, bursts): not news here.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._stop.clear()
        sock = listening_socket(self._host, self._port)  # waitress's own bind shares busy ports on Windows
        self._server = create_server(HostCheck(self.app, self.allowed_hosts), map={}, sockets=[sock],
                                     threads=self.threads, ident="labkit", expose_tracebacks=False,
                                     clear_untrusted_proxy_headers=True)
        self._thread = threading.Thread(target=self._serve, name=f"labkit-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        server = self._server
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
        finally:
            # Close from the loop's own thread: the map is not thread-safe.
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            for channel in list(server._map.values()):
                channel.close()
            server.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self.running else "stopped"
        return f"<BackgroundServer {self.name} {state}>"


def _configured_hosts() -> tuple[str, ...]:
    from labkit.settings import SettingsError, load_settings

    try:
        return load_settings().allowed_hosts
    except SettingsError:  # a bad key is reported by whoever uses it; the Host check needs no key
        return ()
