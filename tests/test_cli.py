"""The `labkit` command line and the backend choice, run as a student would."""
from __future__ import annotations

import os
import re
import subprocess
import sys


from labkit import backend as backend_mod
from labkit.fakestripe import FakeStripe, RemoteFake
from labkit.settings import load_settings

LIVE = "sk_live_" + "7" * 24


def labkit(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "LABKIT_"))}
    return subprocess.run([sys.executable, "-m", "labkit.cli", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=timeout)


def test_status_offline_answers():
    out = labkit("status")
    assert out.returncode == 0, out.stderr
    assert "offline fake Stripe" in out.stdout and "API:              OK" in out.stdout
    assert "sk_test_…" in out.stdout


def test_status_refuses_a_live_key_without_printing_it():
    out = labkit("status", env={"STRIPE_SECRET_KEY": LIVE})
    assert out.returncode == 2
    assert "LIVE" in out.stderr and "STRIPE_SECRET_KEY" in out.stderr
    assert LIVE not in out.stdout + out.stderr and "Traceback" not in out.stderr


def test_status_names_a_malformed_variable():
    out = labkit("status", env={"STRIPE_PUBLISHABLE_KEY": "pk_oops"})
    assert out.returncode == 2 and "STRIPE_PUBLISHABLE_KEY" in out.stderr and "malformed" in out.stderr


def test_status_fails_when_the_api_does_not_answer():
    out = labkit("status", env={"LABKIT_STRIPE_API_BASE": "http://127.0.0.1:9"})
    assert out.returncode == 1 and "FAILED" in out.stdout


def test_help_lists_every_command():
    out = labkit("--help")
    from labkit.release import edition

    commands = ["status", "fakestripe", "checkout", "webhooks", "trigger", "pci", "export", "check"]
    instructors = ["demo", "release", "grade"]  # not offered in the student edition
    for command in commands + (instructors if edition() != "student" else []):
        assert command in out.stdout


def test_fakestripe_command_prints_its_url_and_serves():
    import requests

    proc = subprocess.Popen([sys.executable, "-m", "labkit.cli", "fakestripe", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group()
        resp = requests.get(url + "/v1/account", auth=("sk_test_cli_fake_key", ""), timeout=5)
        assert resp.status_code == 200 and resp.json()["object"] == "account"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_standalone_commands_share_one_fake(monkeypatch, capsys):
    """checkout, webhooks and trigger find the fake on the shared port, or start it there."""
    with FakeStripe() as probe:
        free_port = probe.server.port  # a port that is free once this fake stops
    monkeypatch.setattr(backend_mod, "SHARED_FAKE_PORT", free_port)
    settings = load_settings({}, env_file=None)
    assert backend_mod.connect_shared(settings, start=False) is None
    first = backend_mod.connect_shared(settings, start=True)
    try:
        assert first.api_base == f"http://127.0.0.1:{free_port}" and isinstance(first.fake, FakeStripe)
        assert "Started the offline fake Stripe" in capsys.readouterr().out
        second = backend_mod.connect_shared(settings, start=True)
        assert second.api_base == first.api_base and isinstance(second.fake, RemoteFake)
        second.close()
        assert first.client.v1.accounts.retrieve_current().id  # the second closing left it running
    finally:
        first.close()


def test_the_shared_fake_is_found_past_a_proxy_set_for_the_internet(monkeypatch, fake):
    """A laptop's HTTP_PROXY (here one that answers nothing) must not capture the probe of 127.0.0.1."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert backend_mod._fake_answers(fake.url)
    assert not backend_mod._fake_answers(fake.url + "/nowhere-else")
