"""The child process that serves one student file: ``python -m labkit.student.server_process FILE --port N``.

It imports the file the way Flask would (its folder first on ``sys.path`` and as the working
directory, so ``templates/`` and ``static/`` beside it work), takes its module-level ``app``, and
serves it on 127.0.0.1 behind the kit's Host check (:func:`make_server`). As under ``flask run``,
nothing under ``if __name__ == "__main__"`` runs and a module-level ``app.run()`` returns at once
(:mod:`labkit.student.imports`), and ``app.debug`` is forced off (the debugger's console would run
any code a visitor types). Files saved in any common encoding (UTF-16, Windows-1252, a BOM) run.

Offline (``--api-base``), the ``stripe`` module is pointed at the fake Stripe before the file
is imported (over :mod:`labkit.stripe_transport`, no proxy or per-call lookups), and pages that
load ``https://js.stripe.com/v3/`` get the fake's Stripe.js instead (:class:`StripeRewrite`), so
the handout's code runs unchanged.

The first line on stdout is ``LABKIT-READY {"port": …, "debug": …}`` or
``LABKIT-ERROR {"kind": …, "message": …}`` (then exit 3), for :mod:`labkit.student.runner`.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

STRIPE_ORIGINS = ("https://js.stripe.com", "https://api.stripe.com", "https://hooks.stripe.com",
                  "https://checkout.stripe.com")  # Checkout Sessions: the hosted page, and the embedded form


class StripeRewrite:
    """WSGI middleware: in HTML pages and the CSP header, Stripe's origins become the fake's."""

    def __init__(self, app: Callable[..., Any], fake_origin: str) -> None:
        self.app = app
        self.fake = fake_origin.rstrip("/")

    def _swap(self, text: str, fake: str) -> str:
        for origin in STRIPE_ORIGINS:
            text = text.replace(origin, fake)
        return text

    def _fakes(self, environ: dict[str, Any]) -> tuple[str, str]:
        """The fake's address for the page and for its CSP: behind jupyter-server-proxy, its path
        through the same proxy (``/user/you/proxy/12111``) and ``'self'`` (see labkit.links)."""
        from labkit.links import proxied_sibling

        prefix = environ.get("labkit.proxy_prefix")
        if not prefix:
            return self.fake, self.fake
        try:
            return proxied_sibling(prefix, self.fake + "/").rstrip("/"), "'self'"
        except ValueError:  # a fake on another machine: its own address
            return self.fake, self.fake

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: captured.setdefault("early", []).append(data)

        body_iter = self.app(environ, capture)
        try:
            body = b"".join([*captured.get("early", []), *body_iter])
        finally:
            getattr(body_iter, "close", lambda: None)()
        headers = captured["headers"]
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
        page_fake, csp_fake = self._fakes(environ)
        if ctype.startswith("text/html"):
            body = self._swap(body.decode("utf-8", "replace"), page_fake).encode("utf-8")
        headers = [(k, self._swap(v, csp_fake) if k.lower().startswith("content-security-policy") else v)
                   for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers, captured["exc_info"])
        return [body]


class WholeBody:
    """WSGI middleware: the request body is read whole (up to the server's limit) before the app runs, as
    waitress did. A chunked body is given a ``Content-Length``, so the app's own limit (Flask's
    ``MAX_CONTENT_LENGTH``) answers 413 instead of Werkzeug handing it a body cut at the limit. What a
    careful server refuses gets a JSON error and the connection closed (where the next request would
    start is unknown), never a 500 or a truncated body passed on: a malformed chunked body (a bad chunk
    size, a chunk without its CRLF), a ``Content-Length`` that is not a number, both ``Content-Length`` and
    ``Transfer-Encoding`` (RFC 9112 section 6.1: a request-smuggling shape), a body shorter than its
    ``Content-Length`` (400), one over the limit (413)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = bool(environ.get("wsgi.input_terminated")) and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "")
        if length and chunked:
            return refuse(start_response, "400 Bad Request", "Send either Content-Length or Transfer-Encoding: "
                          "chunked, not both.")
        if length and not (length.isascii() and length.isdigit()):
            return refuse(start_response, "400 Bad Request",
                          f"Content-Length must be a number of bytes, not {length[:20]!r}.")
        if not length and not chunked:
            return self.app(environ, start_response)
        from cheroot.errors import MaxSizeExceeded

        try:
            body = environ["wsgi.input"].read(int(length)) if length else environ["wsgi.input"].read()
        except (MaxSizeExceeded, BodyTooLarge):
            return refuse(start_response, "413 Content Too Large", "The request body is too large.")
        except ValueError as exc:  # cheroot's and StrictChunks' malformed chunked coding
            return refuse(start_response, "400 Bad Request", f"Malformed chunked request body: {exc}")
        if length and len(body) < int(length):
            return refuse(start_response, "400 Bad Request", f"The body ended after {len(body)} of the "
                          f"{int(length)} bytes its Content-Length announced.")
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # no longer chunked (Werkzeug ignores a length beside it)
        return self.app(environ, start_response)


def refuse(start_response: Callable[..., Any], status: str, message: str) -> list[bytes]:
    body = json.dumps({"error": message[:300]}).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            ("Connection", "close")])
    return [body]


class BodyTooLarge(ValueError):
    """A chunked body past the server's limit (cheroot raises a bare ``IOError`` there)."""


HEX = frozenset(b"0123456789abcdefABCDEF")


def strict_chunks() -> None:
    """cheroot's chunked reader, made strict as RFC 9112 section 7.1 is: a chunk size is hex digits
    only (cheroot's ``int(size, 16)`` also takes ``-5``, ``+5``, ``0x5`` and ``1_0``; ``-5`` ended
    the body there and left the rest to be read as another request); over the limit is
    :class:`BodyTooLarge`. Only this child process serves, so patching cheroot here touches no one else."""
    from cheroot import server as cheroot_server

    class StrictChunks(cheroot_server.ChunkedRFile):
        def _fetch(self) -> None:
            if self.closed:
                return
            line = self.rfile.readline()
            self.bytes_read += len(line)
            size = line.split(b";", 1)[0].strip()
            if not size or not HEX.issuperset(size) or len(size) > 16:
                raise ValueError(f"bad chunk size {size[:20]!r}")
            chunk_size = int(size, 16)
            if self.maxlen and self.bytes_read + chunk_size > self.maxlen:
                raise BodyTooLarge("Request Entity Too Large")
            if chunk_size == 0:
                self.closed = True
                return
            chunk = self.rfile.read(chunk_size)
            self.bytes_read += len(chunk)
            self.buffer += chunk
            if self.rfile.read(2) != b"\r\n":
                raise ValueError("a chunk does not end with CRLF where its size says")

    cheroot_server.ChunkedRFile = StrictChunks
    cheroot_server.HTTPConnection.RequestHandlerClass = _json_errors(cheroot_server.HTTPRequest)


def _json_errors(base: type) -> type:
    """cheroot's own refusals (a malformed request line or Content-Length, headers or a body too large, an
    unknown Transfer-Encoding: 501 as RFC 9112 section 6.1 says) as a JSON error like the app's, not text."""

    class JsonErrors(base):  # type: ignore[misc, valid-type]
        def simple_response(self, status: Any, msg: Any = "") -> None:
            status = str(status)
            if status[:1] not in "45":
                return super().simple_response(status, msg)
            text = msg.decode("latin-1") if isinstance(msg, bytes) else str(msg)
            body = json.dumps({"error": text or status[4:] or "Bad request"}).encode("utf-8")
            self.close_connection = True
            head = (f"{self.server.protocol} {status}\r\nContent-Length: {len(body)}\r\n"
                    "Content-Type: application/json\r\nConnection: close\r\n\r\n")
            try:
                self.conn.wfile.write(head.encode("latin-1") + body)
            except OSError:  # the client is gone: nothing to tell it
                pass

    return JsonErrors


def exit_with_parent(interval: float = 0.5) -> None:
    """Stop when the process that started us is gone (a killed kernel, grader or `labkit webhooks`),
    so no orphaned student server keeps a port or a database."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="labkit-parent-watch", daemon=True).start()


def say(tag: str, **data: Any) -> None:
    print(f"LABKIT-{tag} {json.dumps(data)}", flush=True)


def import_student_file(path: Path, run_calls: list[dict[str, Any]] | None = None) -> Any:
    """Import ``path`` as a module named after the file, as ``flask run`` would; its errors propagate.

    Any common encoding reads (:mod:`labkit.student.imports`, also for the student's own helper
    modules), and a module-level ``app.run()`` returns at once (its arguments go to ``run_calls``).
    """
    from labkit.student.imports import install_finder, load_student_module, no_blocking_run

    folder = str(path.parent)
    sys.path.insert(0, folder)
    os.chdir(folder)
    install_finder(path.parent)
    with no_blocking_run(run_calls if run_calls is not None else []):
        return load_student_module(path)


def point_stripe_at(api_base: str) -> None:
    import stripe

    from labkit.kit_server import is_loopback_url

    stripe.api_base = api_base
    if is_loopback_url(api_base):  # the fake on this machine: no proxy, no per-call lookups
        from labkit.stripe_transport import use_loopback_transport

        use_loopback_transport()
    try:  # StripeClient(...) takes its default address from here, not from stripe.api_base
        import stripe._stripe_client as sc

        sc.DEFAULT_API_BASE = api_base
    except (ImportError, AttributeError):
        pass


def describe_error(exc: BaseException, path: Path) -> dict[str, str]:
    """One line a student can act on: the kind of error, the file and line, the message."""
    if isinstance(exc, SyntaxError):
        return {"kind": "syntax error", "message": f"{path.name} line {exc.lineno}: {exc.msg}"}
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).name == path.name]
    where = f"{path.name} line {frames[-1].lineno}" if frames else path.name
    if isinstance(exc, SystemExit):
        return {"kind": "exited", "message": f"{where}: exited while being imported ({exc.code})"}
    if isinstance(exc, KeyError) and frames and "environ" in (frames[-1].line or ""):
        return {"kind": "import error", "message": f"{where}: environment variable {exc} is not set"}
    return {"kind": "import error", "message": f"{where}: {type(exc).__name__}: {exc}"[:400]}


def student_traceback(exc: BaseException) -> str:
    """The traceback of an error in the student's files, without the kit's own frames (the import
    machinery, :mod:`labkit`): what a student reads under the one-line message."""
    kit = Path(__file__).resolve().parents[1]
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and kit not in Path(f.filename).resolve().parents]
    head = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    return "".join(head + traceback.format_exception_only(type(exc), exc)).rstrip("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.student.server_process")
    parser.add_argument("file", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-base", default="", help="offline: the fake Stripe's URL")
    parser.add_argument("--allowed-host", action="append", default=[])
    parser.add_argument("--confine", default="", help="grading: limits and user (labkit.student.confine)")
    args = parser.parse_args(argv)
    confinement = None
    if args.confine:
        from labkit.student.confine import Confinement, apply_in_child

        confinement = Confinement.from_arg(args.confine)
        apply_in_child(confinement)
    exit_with_parent()
    path = args.file.resolve()
    if args.api_base:
        point_stripe_at(args.api_base)
    from labkit.kit_server import register_static_types

    register_static_types()  # the student's static/checkout.js is served as JavaScript on every OS
    run_calls: list[dict[str, Any]] = []
    try:
        module = import_student_file(path, run_calls)
        from labkit.student.imports import find_app

        app = find_app(module, path)  # as `flask run` finds it: app, the one Flask instance, or create_app()
    except BaseException as exc:  # anything the student's file does at import: report, do not crash
        print(student_traceback(exc), flush=True)  # kept in the log, shown folded under the one line
        error = describe_error(exc, path)
        if isinstance(exc, MemoryError) and confinement is not None:
            from labkit.student.confine import memory_reason

            error = {"kind": "limit", "message": f"{error['message'].split(':')[0]}: {memory_reason(confinement.limits)}"
                                                 " while being imported"}
        say("ERROR", **error)
        return 3
    from labkit.student.imports import Utf8Text, read_templates_any_encoding

    read_templates_any_encoding(app)
    debug = bool(getattr(app, "debug", False)) or any(call.get("debug") for call in run_calls)
    if debug:
        app.debug = False
    from labkit.hostcheck import HostCheck
    from labkit.links import ProxyPrefix

    wsgi = StripeRewrite(Utf8Text(app), args.api_base) if args.api_base else Utf8Text(app)
    wsgi = WholeBody(HostCheck(ProxyPrefix(wsgi), args.allowed_host))  # links under a Jupyter proxy path stay under it
    try:
        server = make_server(wsgi, args.port)
    except OSError as exc:  # PortInUseError says which port and what to do
        say("ERROR", kind="port", message=f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
        return 3
    say("READY", port=server.bind_addr[1], debug=debug)
    server.serve()
    return 0


BACKLOG = 1024
MAX_BODY = 16 * 1024 * 1024
WORKERS = 4  # requests served at once: a slow Stripe call does not block the page, and the drills' races happen


def make_server(wsgi: Callable[..., Any], port: int) -> Any:
    """A cheroot server bound to 127.0.0.1:``port`` (0: a free one), not yet serving.

    Cheroot (CherryPy's production server) serves each request on one of ``WORKERS`` threads from its
    first byte to its last (why cheroot here and waitress for the kit's own servers: :mod:`labkit.kit_server`).
    Idle kept-alive connections wait in a selector, not in a thread; limits are set here (cheroot's
    defaults have none).
    """
    import socket

    from cheroot import wsgi as cheroot_wsgi

    from labkit.kit_server import listening_socket

    strict_chunks()

    sock = listening_socket("127.0.0.1", port)  # a busy port is refused on every OS, in one line
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server = cheroot_wsgi.Server(sock.getsockname()[:2], wsgi, numthreads=WORKERS, max=WORKERS,
                                 server_name="labkit-student", timeout=30, shutdown_timeout=2)
    server.bind = lambda *_args: setattr(server, "socket", sock)  # cheroot listens on our socket
    server.version = "labkit-student"  # the Server header (server_name) names no product or version
    server.max_request_header_size = 64 * 1024
    server.max_request_body_size = MAX_BODY  # the app's own limit (MAX_CONTENT_LENGTH) is usually lower
    # The listen backlog: connections the kernel holds while the four workers are busy. cheroot's default
    # is 5, and a burst of 30 saw several reset; waitress, before, had 1024 (the kernel caps it at somaxconn).
    server.request_queue_size = BACKLOG
    server.prepare()
    return server


if __name__ == "__main__":
    sys.exit(main())
