"""Environment errors (no network, no browser, a closed lab, an interrupted run) give one line that
says what to do: in a real notebook kernel, on the command line, and from the Python API."""
from __future__ import annotations

import asyncio
import gc
import json
import logging
import socket
import textwrap
import threading

import nbformat
import pytest
import stripe

from labkit.backend import STRIPE_API_BASE, StripeUnreachable, connect, problem_line, unreachable
from labkit.settings import load_settings

OFFLINE_HINT = "check the connection, or set LABKIT_BACKEND=fake to work offline"
CLOSED_LAB = "the lab was closed by the last cell: run Lab.start() again"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_stripe_env(port: int) -> dict[str, str]:
    """sk_test_ keys and LABKIT_BACKEND=stripe, with the API at a port where nothing listens (no internet)."""
    return {"LABKIT_BACKEND": "stripe", "STRIPE_SECRET_KEY": "sk_test_" + "a1" * 12,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_" + "b2" * 12, "LABKIT_STRIPE_API_BASE": f"http://127.0.0.1:{port}"}


# ------------------------------------------------------------------ Stripe does not answer

def test_the_message_names_api_stripe_com_and_the_offline_switch():
    assert unreachable(STRIPE_API_BASE) == f"no answer from api.stripe.com: {OFFLINE_HINT}"


def test_an_unreachable_api_is_one_line_from_ping_account_and_the_client():
    port = closed_port()
    settings = load_settings(offline_stripe_env(port), env_file=None)
    with connect(settings) as backend:
        ok, detail = backend.ping()
        assert (ok, detail) == (False, f"no answer from 127.0.0.1:{port}: {OFFLINE_HINT}")
        with pytest.raises(StripeUnreachable) as err:
            backend.account()
        assert str(err.value) == detail
        with pytest.raises(stripe.APIConnectionError) as raw:  # what a notebook cell calling the client gets
            backend.client.v1.payment_intents.list()
    assert problem_line(raw.value) == detail


def test_a_bug_keeps_its_traceback():
    assert problem_line(ValueError("a bug")) is None and problem_line(KeyError("x")) is None


def test_labkit_status_says_how_to_work_offline(monkeypatch, capsys):
    from labkit.cli import main

    port = closed_port()
    for name, value in offline_stripe_env(port).items():
        monkeypatch.setenv(name, value)
    assert main(["status"]) == 1
    out = capsys.readouterr()
    assert f"API:              FAILED: no answer from 127.0.0.1:{port}: {OFFLINE_HINT}" in out.out
    assert out.err.count("\n") == 1 and OFFLINE_HINT in out.err and "Traceback" not in out.err


def test_a_command_that_meets_no_network_prints_one_line(monkeypatch, capsys):
    from labkit.cli import main

    port = closed_port()
    for name, value in offline_stripe_env(port).items():
        monkeypatch.setenv(name, value)
    assert main(["trigger", "payment_intent.succeeded"]) == 1
    err = capsys.readouterr().err
    assert err == f"labkit trigger: no answer from 127.0.0.1:{port}: {OFFLINE_HINT}\n"


# ------------------------------------------------------------------ no browser

def test_a_wrong_labkit_chromium_is_one_actionable_line(monkeypatch):
    from labkit.chromium import ChromiumNotFound, find_chromium

    with pytest.raises(ChromiumNotFound) as err:
        find_chromium({"LABKIT_CHROMIUM": "/nonexistent", "PATH": ""})
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("LABKIT_CHROMIUM=/nonexistent is not an executable file: fix the path")
    assert problem_line(err.value) == str(err.value)


def test_no_browser_at_all_is_one_actionable_line(monkeypatch):
    import labkit.chromium as chromium

    monkeypatch.setattr(chromium, "_usable", lambda _p: False)
    with pytest.raises(chromium.ChromiumNotFound) as err:
        chromium.find_chromium({"PATH": ""}, use_playwright=False)
    assert "\n" not in str(err.value) and "python -m playwright install chromium" in str(err.value)


def test_labkit_export_without_a_browser_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    from labkit.cli import main
    from tests.helpers import write_lab

    from tests.helpers import use_lab_for_the_cli

    paths, settings, root = write_lab(tmp_path)
    use_lab_for_the_cli(monkeypatch, settings, root, chromium="/nonexistent")
    code = main(["export", "--notebooks", str(paths[0].parent), "--out", str(tmp_path / "sub"), "--student", "A"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("labkit export: LABKIT_CHROMIUM=/nonexistent is not an executable file")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "sub").exists()


def test_a_browser_run_against_a_stopped_server_says_so_before_starting_chromium():
    from labkit.browser import BrowserProblem, screenshot_checkout

    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(BrowserProblem) as err:
        screenshot_checkout(url, "unused.png", executable_path="/nonexistent")
    assert str(err.value) == (f"nothing answers at {url}: was the lab closed by the last cell? "
                              "Run Lab.start() again (or start the checkout server)")


# ------------------------------------------------------------------ a closed lab

def test_a_closed_lab_says_run_lab_start_again(fake, tmp_path, monkeypatch):
    from labkit.browser import run_lab_scenarios
    from labkit.lab import Lab, LabClosedError
    from labkit.settings import Settings

    monkeypatch.delenv("LABKIT_CHECKOUT_URL", raising=False)
    monkeypatch.delenv("LABKIT_WEBHOOK_URL", raising=False)
    lab = Lab.start(Settings(backend="fake", api_base=fake.url, db_path=tmp_path / "kit.db", out_dir=tmp_path),
                    webhooks=False)
    assert lab.client.v1.accounts.retrieve_current().id and not lab.closed
    lab.close()
    assert lab.closed
    for use in (lambda: lab.client, lambda: run_lab_scenarios(lab), lab.check_open):
        with pytest.raises(LabClosedError) as err:
            use()
        assert str(err.value) == CLOSED_LAB
        assert problem_line(err.value) == CLOSED_LAB


# ------------------------------------------------------------------ in a real notebook kernel

NOTEBOOK_CELLS = [
    ("setup", """
        import json, os
        from pathlib import Path
        from labkit.backend import connect
        from labkit.settings import load_settings, Settings, project_root
        from labkit.lab import Lab
        import labkit
        from labkit.browser import run_lab_scenarios, screenshot_checkout
        backend = connect(load_settings(json.loads(os.environ["TEST_OFFLINE_ENV"]), env_file=None))
        lab = Lab.start(Settings(backend="fake", api_base=os.environ["TEST_FAKE_URL"], db_path=os.environ["TEST_DB"],
                                 root=project_root(Path(labkit.__file__).parent)), webhooks=False)
    """),
    ("stripe", "backend.client.v1.accounts.retrieve_current()"),
    ("account", "backend.account()"),
    ("chromium", """
        os.environ["LABKIT_CHROMIUM"] = "/nonexistent"
        screenshot_checkout(lab.checkout_url, "never.png")
    """),
    ("close", "lab.close()"),
    ("closed", "run_lab_scenarios(lab)"),
    ("bug", "1 / 0"),
]


@pytest.fixture(scope="module")
def executed(fake, tmp_path_factory):
    from nbclient import NotebookClient

    tmp = tmp_path_factory.mktemp("nb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(src).strip(), metadata={"name": name})
                for name, src in NOTEBOOK_CELLS]
    env = {"TEST_OFFLINE_ENV": json.dumps(offline_stripe_env(closed_port())), "TEST_FAKE_URL": fake.url,
           "TEST_DB": str(tmp / "kit.db"), "LABKIT_CHECKOUT_URL": "", "LABKIT_WEBHOOK_URL": ""}
    import os

    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp)}})
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits them
    try:
        client.execute()
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return {c.metadata["name"]: c.outputs for c in nb.cells}


@pytest.mark.parametrize("cell,ename,starts", [
    ("stripe", "APIConnectionError", "no answer from 127.0.0.1:"),
    ("account", "StripeUnreachable", "no answer from 127.0.0.1:"),
    ("chromium", "ChromiumNotFound", "LABKIT_CHROMIUM=/nonexistent is not an executable file: fix the path"),
    ("closed", "LabClosedError", CLOSED_LAB),
])
def test_a_notebook_cell_shows_one_line_not_a_traceback(executed, cell, ename, starts):
    errors = [o for o in executed[cell] if o.output_type == "error"]
    assert len(errors) == 1, executed[cell]
    assert errors[0].ename == ename
    assert len(errors[0].traceback) == 1 and errors[0].traceback[0].startswith(f"{ename}: {starts}")
    assert "\n" not in errors[0].traceback[0]
    if cell in ("stripe", "account"):
        assert errors[0].traceback[0].endswith(OFFLINE_HINT)
    assert not [o for o in executed[cell] if o.output_type == "stream" and "Traceback" in o.text]


def test_a_bug_in_a_notebook_keeps_its_full_traceback(executed):
    assert [o.output_type for o in executed["setup"]] == [] and [o for o in executed["close"]] == []
    (error,) = executed["bug"]
    assert error.ename == "ZeroDivisionError" and len(error.traceback) > 1


# ------------------------------------------------------------------ an interrupted browser run

def test_orphaned_playwright_futures_are_not_reported_but_others_are(caplog):
    import labkit.browser  # noqa: F401  (installs the filter)
    from playwright._impl._errors import TargetClosedError

    def orphan(exc: BaseException) -> None:
        loop = asyncio.new_event_loop()
        fut = loop.create_future()
        fut.set_exception(exc)
        del fut
        gc.collect()
        loop.close()

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        orphan(TargetClosedError())
        assert "Future exception was never retrieved" not in caplog.text
        orphan(ValueError("a real problem"))
        assert "Future exception was never retrieved" in caplog.text


@pytest.mark.browser
def test_interrupting_a_browser_run_stops_it_at_its_next_step(kit_lab, chromium, tmp_path, capfd, caplog):
    import os
    import signal

    from labkit.browser import load_scenarios, run_scenarios

    first = tmp_path / f"{load_scenarios()[0].key}.png"
    stop = threading.Event()

    def interrupt_after_first_payment():
        while not stop.is_set():
            if first.exists():
                os.kill(os.getpid(), signal.SIGINT)  # what the notebook's stop button sends the kernel
                return
            stop.wait(0.05)

    watcher = threading.Thread(target=interrupt_after_first_payment, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_scenarios(kit_lab.checkout_url, out_dir=tmp_path)
    finally:
        stop.set()
    from labkit import browser_thread

    browser_thread.THREAD.submit(lambda: None).result(timeout=120)  # the run stopped at its next step
    gc.collect()
    shots = sorted(p.name for p in tmp_path.glob("*.png") if not p.name.endswith("_challenge.png"))
    assert 1 <= len(shots) < len(load_scenarios())
    out = capfd.readouterr()
    assert "Future exception was never retrieved" not in out.out + out.err + caplog.text
