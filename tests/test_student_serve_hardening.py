"""A student's server as the kit runs it (labkit.student.server_process on cheroot) under a burst of connections
and malformed bodies: no connection reset, and every bad body a 4xx with a JSON error, never a 500 (an unknown
transfer coding is the 501 RFC 9112 asks for, with a JSON error too)."""
from __future__ import annotations

import json
import socket
import threading

import pytest

from labkit.student.runner import StudentServer

APP = '''
from flask import Flask, request, jsonify
app = Flask(__name__)

@app.get("/")
def index():
    return "ok"

@app.post("/echo")
def echo():
    return jsonify(length=len(request.get_data()))
'''


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("student")
    (folder / "app_server.py").write_text(APP, encoding="utf-8")
    with StudentServer(folder / "app_server.py", env={}) as server:
        yield server


def exchange(port: int, raw: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` on a new connection; the response's status, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def chunked_post(body_chunks: bytes) -> bytes:
    return (b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body_chunks)


def test_a_burst_of_64_simultaneous_connections_is_served_with_none_reset(served):
    n = 64
    barrier = threading.Barrier(n)
    outcomes: list[object] = [None] * n

    def one(i: int) -> None:
        barrier.wait()
        try:
            status, _, body = exchange(served.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            outcomes[i] = (status, body)
        except OSError as exc:  # ConnectionResetError, refused, broken pipe
            outcomes[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [o for o in outcomes if not (isinstance(o, tuple) and o == (200, b"ok"))]
    assert not failed, f"{len(failed)} of {n} connections failed: {failed[:3]}"


@pytest.mark.parametrize("name, raw, status", [
    ("bad chunk size", b"zz\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk without its CRLF", b"5\r\nhelloXX0\r\n\r\n", 400),
    ("negative chunk size", b"-5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk longer than said", b"3\r\nhello\r\n0\r\n\r\n", 400),
    ("17 MiB chunked body", b"".join([b"100000\r\n" + b"x" * 0x100000 + b"\r\n"] * 17) + b"0\r\n\r\n", 413),
])
def test_a_malformed_chunked_body_is_a_4xx_with_a_json_error(served, name, raw, status):
    got, headers, body = exchange(served.port, chunked_post(raw))
    assert got == status, (name, got, body[:200])
    assert headers.get("content-type", "").startswith("application/json"), (name, headers)
    assert json.loads(body)["error"], name


def post_with(headers: bytes, body: bytes) -> bytes:
    return b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n" + body


@pytest.mark.parametrize("name, raw, status", [
    ("Content-Length not a number", post_with(b"Content-Length: abc\r\n", b"hello"), 400),
    ("negative Content-Length", post_with(b"Content-Length: -1\r\n", b"hello"), 400),
    ("Content-Length over the limit", post_with(b"Content-Length: 99999999999\r\n", b"hello"), 413),
    ("both Content-Length and chunked", post_with(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                                                  b"5\r\nhello\r\n0\r\n\r\n"), 400),
    ("body shorter than its Content-Length", post_with(b"Content-Length: 50\r\n", b"hello"), 400),
    ("a transfer coding the server does not know", post_with(b"Transfer-Encoding: gzip\r\n", b"hello"), 501),
])
def test_every_malformed_body_is_refused_with_a_json_error(served, name, raw, status):
    got, headers, body = exchange(served.port, raw)
    assert got == status, (name, got, body[:200])
    assert headers.get("content-type", "").startswith("application/json") and json.loads(body)["error"], name


def test_a_well_formed_chunked_body_still_arrives_whole(served):
    got, _, body = exchange(served.port, chunked_post(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))
    assert got == 200 and json.loads(body) == {"length": 11}
