"""The Host header check (labkit.hostcheck): property tests of the parser and the decision."""
from __future__ import annotations

import ipaddress
import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.hostcheck import LOOPBACK_NAMES, HostCheck, host_allowed, host_name

# DNS-looking names: labels of letters, digits and dashes, at least one letter somewhere
_label = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12)
names = st.lists(_label, min_size=1, max_size=4).map(".".join).filter(lambda n: any(c.isalpha() for c in n))
ports = st.integers(min_value=0, max_value=65535)


@settings(deadline=None, max_examples=500)
@given(st.text())
def test_any_string_is_parsed_and_judged_without_an_exception(header):
    name = host_name(header)
    assert isinstance(name, str)
    assert isinstance(host_allowed(header), bool)
    assert isinstance(host_allowed(header, ["lab.example", "", "  "]), bool)


@settings(deadline=None)
@given(st.text(), st.lists(st.text(), max_size=3))
def test_an_allowed_header_names_a_loopback_or_a_configured_host(header, extra):
    if host_allowed(header, extra):
        name = host_name(header)
        configured = {e.strip().lower().rstrip(".") for e in extra}
        assert name in LOOPBACK_NAMES or name in configured or ipaddress.ip_address(name).is_loopback


@settings(deadline=None)
@given(names, ports)
def test_names_not_configured_are_refused_with_or_without_port(name, port):
    if name in LOOPBACK_NAMES:
        return
    assert not host_allowed(name)
    assert not host_allowed(f"{name}:{port}")
    assert not host_allowed(f"{name.upper()}.:{port}", ["other.example"])


@settings(deadline=None)
@given(names, ports, st.sampled_from([str.lower, str.upper, str.title]))
def test_a_configured_name_is_allowed_in_any_case_with_a_port(name, port, case):
    assert host_allowed(f"{case(name)}:{port}", [name])
    assert host_allowed(case(name) + ".", [f" {name} "])


@settings(deadline=None)
@given(ports, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_this_machines_names_are_allowed(port, a, b, c):
    for header in (f"localhost:{port}", "LOCALHOST", f"127.{a}.{b}.{c}:{port}", f"[::1]:{port}", "localhost."):
        assert host_allowed(header), header


def test_tricks_that_only_look_local_are_refused():
    for header in ("127.0.0.1.attacker.example", "localhost.attacker.example", "attacker.example#localhost",
                   "127.0.0.\u00b9", "127.\u0661.0.1", "::1", "[::1", "localhost:80:80", "", " ",
                   "user@localhost", "10.0.0.1", "0.0.0.0"):
        assert not host_allowed(header), header


def test_the_middleware_answers_400_json_and_never_calls_the_app():
    calls = []

    def app(environ, start_response):
        calls.append(environ["HTTP_HOST"])
        start_response("200 OK", [])
        return [b"ok"]

    statuses = []
    guarded = HostCheck(app, ["lab.example"])
    body = b"".join(guarded({"HTTP_HOST": "attacker.example"}, lambda s, h: statuses.append((s, dict(h)))))
    assert statuses[0][0].startswith("400") and statuses[0][1]["Content-Type"] == "application/json"
    assert "LABKIT_ALLOWED_HOSTS" in json.loads(body)["error"]["message"]
    assert b"".join(guarded({"HTTP_HOST": "lab.example:8888"}, lambda s, h: statuses.append(s))) == b"ok"
    assert calls == ["lab.example:8888"]


def test_requests_through_a_jupyter_proxy_are_served_whatever_their_host():
    """jupyter-server-proxy forwards the hub's Host; its X-Forwarded-Prefix shows the request came through it
    (a page cannot send that header without a CORS preflight, and the preflight is refused)."""
    from labkit.hostcheck import HostCheck

    seen = []
    app = HostCheck(lambda environ, start: (start("200 OK", []), seen.append(1), [b"ok"])[2])

    def status(**environ):
        out = []
        app({"HTTP_HOST": "hub.example.edu", **environ}, lambda s, h: out.append(s))
        return out[0]

    assert status().startswith("400")
    assert status(HTTP_X_FORWARDED_PREFIX="/user/alice/proxy/5000").startswith("200")
    assert status(HTTP_X_FORWARDED_PREFIX="/proxy/absolute/12111/").startswith("200")
    for junk in ("/user/alice/lab", "/proxy/notaport", "https://evil/proxy/1", "/proxy/123456", "x" * 400):
        assert status(HTTP_X_FORWARDED_PREFIX=junk).startswith("400"), junk
