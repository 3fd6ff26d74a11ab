"""The kit behind a Jupyter server, as on a JupyterHub or Binder.

JupyterLab is started with the command ``python3 run.py lab`` builds (as root here, so with
--allow-root), on 127.0.0.1 with a token; the checkout and its offline fake Stripe are reached
only through jupyter-server-proxy (``<lab>/proxy/PORT/``), and headless Chromium pays with 4242.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given, strategies as st

from labkit import links
from labkit.backend import connect
from labkit.browser import CARD_FRAME, PAY_BUTTON, RESULT, CheckoutBrowser, Scenario, in_worker_thread
from labkit.settings import Settings, SettingsError, load_settings
from labkit.student.runner import StudentServer

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "labkit-proxy-test-token"


def _run_py():
    spec = importlib.util.spec_from_file_location("labkit_run_py", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- run.py lab
def test_lab_command_passes_arguments_through_and_adds_allow_root_only_as_root():
    run = _run_py()
    cmd = run.lab_command(["--no-browser", "--port", "8899"], as_root=True)
    assert cmd[:3] == [str(run.PY), "-m", "jupyterlab"] and cmd[-3:] == ["--no-browser", "--port", "8899"]
    assert f"--ServerApp.root_dir={ROOT}" in cmd
    assert "--LabApp.default_url=/lab/tree/notebooks/01_setup.ipynb" in cmd
    assert "--allow-root" in cmd
    assert "--allow-root" not in run.lab_command([], as_root=False)
    given_twice = run.lab_command(["--allow-root", "--ServerApp.root_dir=/srv"], as_root=True)
    assert given_twice.count("--allow-root") == 1 and not any(a.startswith("--ServerApp.root_dir=/work") or
                                                              a == f"--ServerApp.root_dir={ROOT}" for a in given_twice)


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """``python3 run.py lab --no-browser --port P --ip 127.0.0.1 --IdentityProvider.token=T`` (less the set-up)."""
    pytest.importorskip("jupyter_server_proxy")
    run = _run_py()
    port = _free_port()
    home = tmp_path_factory.mktemp("jupyter")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_CONFIG_DIR": str(home / "config")}
    args = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={TOKEN}"]
    cmd = run.lab_command(args, as_root=hasattr(os, "geteuid") and os.geteuid() == 0)
    cmd[0] = sys.executable  # this interpreter (the kit's .venv when run by run.py)
    log = (home / "jupyterlab.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited ({proc.returncode}): {(home / 'jupyterlab.log').read_text()[-2000:]}")
            try:
                if requests.get(f"{base}/api/status", headers={"Authorization": f"token {TOKEN}"}, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 60 s: {(home / 'jupyterlab.log').read_text()[-2000:]}")
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.slow
def test_lab_runs_at_the_kits_top_folder(jupyter):
    auth = {"Authorization": f"token {TOKEN}"}
    top = requests.get(f"{jupyter}/api/contents", headers=auth, timeout=10).json()
    names = {item["name"] for item in top["content"]}
    assert {"notebooks", "pyproject.toml", "README.md"} <= names
    nb = requests.get(f"{jupyter}/api/contents/notebooks/01_setup.ipynb?content=0", headers=auth, timeout=10)
    assert nb.status_code == 200 and nb.json()["type"] == "notebook"
    assert requests.get(f"{jupyter}/api/contents", timeout=10).status_code == 403  # the token is needed


# ---------------------------------------------------------------- the checkout through the proxy
@pytest.fixture(scope="module")
def shop():
    """The kit's checkout_server.py in its own process, offline, as labkit.lab.Lab serves it."""
    with connect(Settings(backend="fake")) as backend:
        keys = {"STRIPE_SECRET_KEY": backend.settings.secret_key,
                "STRIPE_PUBLISHABLE_KEY": backend.settings.publishable_key}
        with StudentServer(ROOT / "checkout_server.py", env=keys, api_base=backend.api_base) as server:
            yield {"backend": backend, "port": server.port, "fake_port": urlsplit(backend.api_base).port}


@pytest.mark.slow
def test_page_through_the_proxy_loads_stripe_js_through_it_too(jupyter, shop):
    auth = {"Authorization": f"token {TOKEN}"}
    page = requests.get(f"{jupyter}/proxy/{shop['port']}/", headers=auth, timeout=10)
    assert page.status_code == 200
    assert f'<script src="/proxy/{shop["fake_port"]}/v3/"></script>' in page.text
    assert f'href="/proxy/{shop["port"]}/static/checkout.css"' in page.text  # url_for under the proxy path
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'self';" in csp and "frame-src 'self' 'self';" in csp
    assert "frame-ancestors 'none'" in csp and "127.0.0.1" not in csp
    direct = requests.get(f"http://127.0.0.1:{shop['port']}/", timeout=10)
    assert f'<script src="{shop["backend"].js_url}"></script>' in direct.text
    assert 'href="/static/checkout.css"' in direct.text
    assert f"frame-src {shop['backend'].js_origin} " in direct.headers["Content-Security-Policy"]
    refused = requests.get(f"{jupyter}/proxy/{shop['port']}/", timeout=10, allow_redirects=False)
    assert refused.status_code in (302, 403)  # the proxy lets only the signed-in user through


class SignedInBrowser(CheckoutBrowser):
    """Each page first signs in to JupyterLab with the token (its cookie then rides on every proxied request)."""

    def __init__(self, jupyter: str, port: int, **kw) -> None:
        super().__init__(f"{jupyter}/proxy/{port}", **kw)
        self.jupyter = jupyter

    def new_page(self):
        page = super().new_page()
        page.goto(f"{self.jupyter}/api/status?token={TOKEN}")
        return page


@pytest.fixture(scope="module")
def browser(jupyter, shop, chromium):
    with SignedInBrowser(jupyter, shop["port"], executable_path=chromium) as b:
        yield b


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.solution  # pays through the solution's checkout_server.py (a starter in the student edition)
def test_pays_4242_through_the_proxy_in_headless_chromium(jupyter, shop, browser):
    client = shop["backend"].client
    page = browser.open_checkout("prod_001", 1)
    try:
        card_frame = page.locator(CARD_FRAME).first.get_attribute("src")
        page.fill("#cardholder-name", "Lab Student")
        browser.type_card(page, "4242424242424242")
        page.click(PAY_BUTTON)
        result = page.locator(RESULT)
        result.wait_for()
        data = result.evaluate("el => ({...el.dataset})")
        errors = list(page.labkit_errors)
    finally:
        browser.close_page(page)
    assert card_frame.startswith(f"{jupyter}/proxy/{shop['fake_port']}/elements/card#")  # same origin: see links
    assert data["outcome"] == "succeeded", errors
    pi = client.v1.payment_intents.retrieve(data["paymentIntent"])
    assert pi.status == "succeeded" and pi.amount == 1800
    assert client.v1.payment_methods.retrieve(pi.payment_method).card.last4 == "4242"


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.solution  # pays through the solution's checkout_server.py (a starter in the student edition)
def test_3d_secure_challenge_opens_through_the_proxy(shop, browser):
    run = browser.pay(Scenario("3ds", "4000002500003155", "3D Secure", "complete"), product="prod_002")
    assert run.three_d_secure and run.outcome == "succeeded", (run.message, run.browser_errors)
    assert shop["backend"].client.v1.payment_intents.retrieve(run.payment_intent).status == "succeeded"


@pytest.mark.browser
@pytest.mark.solution  # pays through the solution's checkout_server.py (a starter in the student edition)
def test_the_same_page_opened_directly_keeps_the_card_field_on_the_fakes_own_origin(shop, chromium):
    def work():  # in its own thread: this module's signed-in browser holds Playwright's loop in this one
        with CheckoutBrowser(f"http://127.0.0.1:{shop['port']}", executable_path=chromium) as direct:
            page = direct.open_checkout("prod_001", 1)
            try:
                frame = page.locator(CARD_FRAME).first.get_attribute("src")
            finally:
                direct.close_page(page)
            return frame, direct.pay(Scenario("3ds", "4000002500003155", "3D Secure", "complete"), product="prod_003")

    card_frame, run = in_worker_thread(work)
    assert card_frame.startswith(f"http://127.0.0.1:{shop['fake_port']}/elements/card#")
    assert run.three_d_secure and run.outcome == "succeeded", (run.message, run.browser_errors)


# ---------------------------------------------------------------- labkit.links
HUB = {"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"}


def test_links_on_this_machine_and_on_a_hub():
    local = load_settings(environ={}, env_file=None)
    assert links.browser_url("http://127.0.0.1:5000", local) == "http://127.0.0.1:5000/"
    assert links.browser_url("http://localhost:5000/?product=prod_002", local) == "http://localhost:5000/?product=prod_002"
    assert links.where(local) == "on this machine" and not links.behind_proxy(local)
    hub = load_settings(environ=HUB, env_file=None)
    assert links.browser_url("http://127.0.0.1:5000", hub) == "/user/alice/proxy/5000/"
    assert links.browser_url("http://127.0.0.1:5001/webhook", hub) == "/user/alice/proxy/5001/webhook"
    assert links.browser_url("https://api.stripe.com/v1", hub) == "https://api.stripe.com/v1"
    assert links.where(hub) == "on a JupyterHub"
    binder = load_settings(environ={**HUB, "BINDER_REPO_URL": "https://example.org/kit"}, env_file=None)
    assert links.where(binder) == "on Binder"
    remote = load_settings(environ={"LABKIT_JUPYTER_URL": "https://lab.example.edu"}, env_file=None)
    assert links.browser_url("http://localhost:5000/", remote) == "https://lab.example.edu/proxy/5000/"


@pytest.mark.parametrize("value", ["lab.example.edu", "ftp://lab.example.edu/", '/user/a"><script>/'])
def test_a_malformed_jupyter_url_is_refused_with_what_to_set(value):
    with pytest.raises(SettingsError, match="LABKIT_JUPYTER_URL must be"):
        load_settings(environ={"LABKIT_JUPYTER_URL": value}, env_file=None)


def test_show_displays_a_link_that_opens_in_a_new_tab(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)  # no IPython shell made for the session
    url = links.show("http://127.0.0.1:5000", "Open <the> checkout", load_settings(environ=HUB, env_file=None))
    html = shown[0]._repr_html_()
    assert url == "/user/alice/proxy/5000/"
    assert html.startswith('<a href="/user/alice/proxy/5000/" target="_blank" rel="noopener">Open &lt;the&gt; checkout</a>')
    assert "on a JupyterHub" in html


def test_card_field_isolation_is_claimed_only_where_it_holds():
    ok, why = links.card_field_isolated(load_settings(environ={}, env_file=None))
    assert ok and "own port" in why
    ok, why = links.card_field_isolated(load_settings(environ=HUB, env_file=None))
    assert not ok and "same jupyter-server-proxy address" in why
    stripe_mode = load_settings(environ={**HUB, "STRIPE_SECRET_KEY": "sk_test_" + "a" * 24,
                                         "STRIPE_PUBLISHABLE_KEY": "pk_test_" + "a" * 24}, env_file=None)
    ok, why = links.card_field_isolated(stripe_mode)
    assert ok and "js.stripe.com" in why


def test_proxied_sibling_keeps_the_proxy_path():
    assert links.proxied_sibling("/user/a/proxy/5000", "http://127.0.0.1:12111/v3/") == "/user/a/proxy/12111/v3/"
    assert links.proxied_sibling("/proxy/5000", "http://localhost:12111/v3/") == "/proxy/12111/v3/"
    with pytest.raises(ValueError):
        links.proxied_sibling("/user/a/proxy/5000", "https://js.stripe.com/v3/")


@given(st.text(max_size=80))
def test_forwarded_prefix_accepts_only_a_proxy_path(value):
    got = links.forwarded_prefix(value)
    if got is not None:
        assert got.startswith("/") and not got.startswith("//") and "://" not in got
        assert got.rsplit("/", 2)[1] == "proxy" and got.rsplit("/", 1)[1].isdigit()
        assert not any(c in got for c in "<>\"' \\\n\t")


@pytest.mark.parametrize("value", ["//evil.example/proxy/5000", "/a b/proxy/1", "https://x/proxy/1",
                                   "/user/a/proxy/5000/../x", "/user/a/proxy/", '/"><script>/proxy/1'])
def test_forwarded_prefix_refuses_junk(value):
    assert links.forwarded_prefix(value) is None
