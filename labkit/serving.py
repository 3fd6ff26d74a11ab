"""Run any WSGI app in a background daemon thread, quietly, on 127.0.0.1 by default."""
from __future__ import annotations

import logging
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("labkit.serving")


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log (it would land in notebook cells); keep-alive on."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):  # noqa: D401 - werkzeug hook
        pass

    def log(self, type, message, *args):  # only errors, and through logging, never stderr
        if type == "error":
            log.error("%s - %s", self.address_string(), message % args)


class BackgroundServer:
    """A WSGI app served from a daemon thread.

    >>> with BackgroundServer(app) as srv:   # port 0 picks a free port
    ...     requests.get(srv.url)
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, name: str = "server"):
        if getattr(app, "debug", False):
            raise RuntimeError(f"{name}: refusing to serve a Flask app with debug on (it exposes a code console)")
        self.app = app
        self.name = name
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._server.server_port

    @property
    def url(self) -> str:
        host = self._host if self._host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "BackgroundServer":
        if self.running:
            return self
        self._server = make_server(self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"labkit-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self.running else "stopped"
        return f"<BackgroundServer {self.name} {state}>"


def serve_forever(app, host: str, port: int, name: str) -> None:
    """Serve in the foreground (for the standalone commands) until Ctrl-C."""
    with BackgroundServer(app, host, port, name) as srv:
        print(f"{name} listening on {srv.url}  (Ctrl-C to stop)", flush=True)
        try:
            srv._thread.join()
        except KeyboardInterrupt:
            print(f"\n{name} stopped.")
