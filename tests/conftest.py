"""Shared fixtures: a fake Stripe on a free port and a real ``stripe`` client pointed at it."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
import stripe

from labkit.fakestripe import FakeStripe
from labkit.lab import Lab
from labkit.kit_server import BackgroundServer
from labkit.settings import Settings, project_root
from tests.helpers import PUBLISHABLE_KEY, SECRET_KEY

try:  # property tests explore the same examples on every run (no test passes or fails by chance),
    # keep no example database, and give slow CI machines no deadline
    from hypothesis import settings as _hypothesis

    _hypothesis.register_profile("labkit", derandomize=True, database=None, deadline=None)
    _hypothesis.load_profile("labkit")
except ImportError:
    pass



@pytest.fixture(scope="session", autouse=True)
def _browser_required_in_ci():
    """Browser tests skip where no Chromium is installed, except in CI (run.py installs one):
    there a missing browser fails the run instead of silently skipping the proof."""
    if os.environ.get("CI"):
        from labkit.chromium import find_chromium

        find_chromium()


@pytest.fixture(scope="session")
def chromium():
    """A Chromium for the browser tests (skipped where none is installed; CI fails instead, above)."""
    from labkit.chromium import ChromiumNotFound, find_chromium

    try:
        return find_chromium()
    except ChromiumNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def exported(tmp_path_factory, chromium):
    """The made-up lab of tests/helpers.py (write_lab) exported once for every export test: (result, its folder)."""
    from labkit.export import export_submission
    from tests.helpers import write_lab

    tmp = tmp_path_factory.mktemp("export")
    paths, settings, root = write_lab(tmp)
    result = export_submission(paths, tmp / "submission", settings, chromium=chromium,
                               date="November 26, 2025")
    return result, tmp


@pytest.fixture(scope="session")
def fake():
    with FakeStripe(retry_schedule=(0.2, 0.4, 0.8)) as server:
        yield server


@pytest.fixture()
def patient_fake():
    """Retries spread over half a minute, like (a compressed) Stripe: long enough to outlast a restart of
    `labkit webhooks` (tests/test_webhooks_standalone.py, test_webhooks_kept_endpoint.py)."""
    with FakeStripe(retry_schedule=(0.5, 1, 2, 4, 8, 16)) as server:
        server.client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": server.url}, max_network_retries=0)
        yield server


@pytest.fixture(scope="module")
def kit_lab(fake, tmp_path_factory):
    """The student's (here: the solution's) checkout and webhook servers against the session's fake."""
    settings = Settings(backend="fake", api_base=fake.url, root=project_root(),
                        db_path=tmp_path_factory.mktemp("lab") / "kit.db", out_dir=tmp_path_factory.mktemp("out"))
    with Lab.start(settings) as running:
        yield running


@pytest.fixture(scope="session")
def client(fake):
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake.url}, max_network_retries=0)


@pytest.fixture(scope="session")
def browser_client(fake):
    """What Stripe.js can do: the publishable key."""
    return stripe.StripeClient(PUBLISHABLE_KEY, base_addresses={"api": fake.url}, max_network_retries=0)


class Receiver:
    """A webhook endpoint that records every delivery and can be told to fail the first N."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_first = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        with self.lock:
            self.requests.append({"body": body, "signature": environ.get("HTTP_STRIPE_SIGNATURE"),
                                  "event": json.loads(body)})
            failing = len(self.requests) <= self.fail_first
        status = "500 INTERNAL SERVER ERROR" if failing else "200 OK"
        start_response(status, [("Content-Type", "application/json")])
        return [b'{"received": true}']

    def events(self, type_: str | None = None) -> list[dict]:
        with self.lock:
            return [r["event"] for r in self.requests if type_ is None or r["event"]["type"] == type_]

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.02)
        return False


@pytest.fixture()
def receiver():
    rec = Receiver()
    with BackgroundServer(rec, name="test receiver") as server:
        rec.url = server.url + "/webhook"
        yield rec


def pytest_collection_modifyitems(config, items):
    """Tests that drive Chromium (the ``chromium`` fixture) are marked ``browser``, so that the fast run
    (README, "Tests and benchmarks": ``-m "not browser and not slow"``) leaves them out. In the student
    edition, tests of the solution itself (marked ``solution``, or using the solution's running servers
    through ``kit_lab``) are skipped: the starters are not done yet."""
    from labkit.release import edition

    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    if edition() != "student":
        return
    skip = pytest.mark.skip(reason="tests the solution edition's code; the student edition has starters")
    for item in items:
        if "solution" in item.keywords or "kit_lab" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)
