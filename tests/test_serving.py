"""The background server helper."""
from __future__ import annotations

import logging

import pytest
import requests
from flask import Flask

from labkit.kit_server import BackgroundServer


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


# ------------------------------------------------------------------ the Host header check

@pytest.fixture(scope="module")
def guarded_lab(fake, tmp_path_factory):
    """The student's (here the solution's) checkout and webhook handler, with LABKIT_ALLOWED_HOSTS set."""
    from labkit.lab import Lab
    from labkit.settings import load_settings

    settings = load_settings({"LABKIT_ALLOWED_HOSTS": "lab.example, hub.example", "LABKIT_BACKEND": "fake",
                              "LABKIT_STRIPE_API_BASE": fake.url,
                              "LABKIT_DB": str(tmp_path_factory.mktemp("hosts") / "kit.db")}, env_file=None)
    with Lab.start(settings) as lab:
        yield lab


def _lab_urls(lab):
    return {"checkout": lab.checkout_url + "/", "webhook handler": lab.webhook_url + "/orders"}


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:5000", "127.0.0.1.attacker.example",
                                  "localhost.attacker.example"])
def test_an_unknown_host_gets_400_json_from_checkout_and_handler(guarded_lab, host):
    for what, url in _lab_urls(guarded_lab).items():
        resp = requests.get(url, headers={"Host": host}, timeout=10)
        assert resp.status_code == 400, what
        assert resp.headers["Content-Type"] == "application/json", what
        assert "Unknown Host header" in resp.json()["error"]["message"], what
    # a signed-looking POST to the handler is refused before it is read
    resp = requests.post(guarded_lab.webhook_url + "/webhook", data=b"{}", headers={"Host": host}, timeout=10)
    assert resp.status_code == 400


@pytest.mark.parametrize("host", [None, "localhost", "127.0.0.1", "LAB.EXAMPLE", "hub.example:8888"])
def test_this_machine_and_the_configured_names_are_served(guarded_lab, host):
    headers = {"Host": host} if host else {}
    for what, url in _lab_urls(guarded_lab).items():
        resp = requests.get(url, headers=headers, timeout=10)
        assert resp.status_code == 200, (what, resp.text[:200])


def test_allowed_hosts_argument_wins_over_the_settings(monkeypatch):
    monkeypatch.setenv("LABKIT_ALLOWED_HOSTS", "lab.example")
    with BackgroundServer(hello_app(), allowed_hosts=["only.example"]) as srv:
        assert srv.allowed_hosts == ("only.example",)
        assert requests.get(srv.url, headers={"Host": "only.example"}).text == "hello"
        assert requests.get(srv.url, headers={"Host": "lab.example"}).status_code == 400
    with BackgroundServer(hello_app()) as srv:
        assert requests.get(srv.url, headers={"Host": "lab.example"}).text == "hello"
        assert requests.get(srv.url, headers={"Host": "only.example"}).status_code == 400


def test_the_fake_stripe_is_behind_the_host_check_too(fake):
    assert requests.get(fake.url + "/", headers={"Host": "attacker.example"}, timeout=10).status_code == 400
    assert requests.get(fake.url + "/", headers={"Host": "localhost"}, timeout=10).status_code == 200
