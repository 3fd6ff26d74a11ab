"""The background server helper."""
from __future__ import annotations

import logging

import pytest
import requests
from flask import Flask

from labkit.serving import BackgroundServer


def hello_app():
    app = Flask("hello")

    @app.get("/")
    def index():
        return "hello"

    return app


def test_serves_on_a_free_loopback_port_and_stops(capfd):
    with BackgroundServer(hello_app(), name="hello") as srv:
        assert srv.bound_address[0] == "127.0.0.1" and srv.port > 0
        for _ in range(3):
            assert requests.get(srv.url).text == "hello"
        url = srv.url
    assert not srv.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    out, err = capfd.readouterr()
    assert "GET /" not in out + err  # no per-request access log lines


def test_refuses_a_flask_app_in_debug_mode():
    app = hello_app()
    app.debug = True
    with pytest.raises(RuntimeError, match="debug"):
        BackgroundServer(app)


def test_a_crashing_app_answers_500_without_a_traceback_page(caplog):
    def broken(environ, start_response):
        raise ValueError("secret internals")

    with caplog.at_level(logging.ERROR), BackgroundServer(broken) as srv:
        resp = requests.get(srv.url)
    assert resp.status_code == 500 and "secret internals" not in resp.text and "Traceback" not in resp.text


def test_start_twice_is_harmless_and_restart_works():
    srv = BackgroundServer(hello_app())
    srv.start()
    first = srv.port
    srv.start()
    assert srv.port == first
    srv.stop()
    srv.start()
    assert requests.get(srv.url).text == "hello"
    srv.stop()
