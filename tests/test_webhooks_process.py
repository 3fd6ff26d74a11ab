"""The handler as a real process: SIGKILL durability, and crashes in the middle of a delivery."""
from __future__ import annotations

import json
import threading
import time

import pytest
import stripe

from labkit.fakestripe import FakeStripe
from labkit.webhooks.attacks import crash_drill, post, sign
from labkit.webhooks.process import KILLED_EXIT_CODE, HandlerProcess
from labkit.webhooks.store import OrderStore

SECRET = "whsec_labkit_tests_process_secret_0001"

pytestmark = pytest.mark.slow


def _event(n: int) -> dict:
    pi = f"pi_Durable{n:016d}"
    return {"id": f"evt_Durable{n:016d}", "object": "event", "created": int(time.time()), "livemode": False,
            "type": "payment_intent.succeeded", "data": {"object": {
                "id": pi, "object": "payment_intent", "amount": 900, "amount_received": 900, "currency": "usd",
                "status": "succeeded", "latest_charge": None, "metadata": {"product_name": "Cut-5 Safety Gloves"}}}}


def test_every_acknowledged_event_survives_sigkill(tmp_path):
    db = tmp_path / "durable.db"
    proc = HandlerProcess(db, SECRET).start()
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(10**6))

    def client() -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            event = _event(n)
            body = json.dumps(event).encode()
            try:
                status, answer = post(proc.url + "/webhook", body, sign(body, SECRET), timeout=5)
            except OSError:
                return  # the server is gone: this one was never acknowledged
            if status == 200 and answer.get("outcome") == "processed":
                with lock:
                    acked.append(event["id"])

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    while True:  # kill while deliveries are in flight
        with lock:
            if len(acked) >= 150:
                break
        time.sleep(0.01)
    proc.kill()
    stop.set()
    for t in threads:
        t.join(10)
    assert proc.proc.returncode == KILLED_EXIT_CODE  # -9 on POSIX; Windows has no SIGKILL

    proc.start()  # restart on the same database
    try:
        orders = proc.orders()
    finally:
        proc.stop()
    assert len(acked) >= 150
    assert set(acked) <= {h["id"] for o in orders.values() for h in o["history"]}
    with OrderStore(db) as store:
        assert set(acked) <= store.processed_event_ids()
        conn = store._conn()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.fixture(scope="module")
def quick_fake():
    with FakeStripe(retry_schedule=(0.5, 1.0, 2.0, 4.0, 8.0)) as fake:
        yield fake


@pytest.mark.parametrize("fault, logged", [
    ("crash-before-commit", {"processed": 1}),              # nothing committed: the retry applies it
    ("crash-after-commit", {"duplicate": 1, "processed": 1}),  # committed, never answered: the retry is a no-op
])
def test_a_handler_killed_mid_request_and_the_retry_make_exactly_one_order(quick_fake, tmp_path, fault, logged):
    client = stripe.StripeClient("sk_test_labkit_tests_fake_key", base_addresses={"api": quick_fake.url},
                                 max_network_retries=0)
    result = crash_drill(client, quick_fake, tmp_path, fault=fault)
    assert result == {
        "fault injected": fault,
        "handler process exit code": 70,
        "first attempt answered": False,
        "a retry got a 2xx": True,
        "orders in the database": 1,
        "order status": "paid",
        "events in the order's history": 1,
        "deliveries the restarted handler logged": logged,
    }


def test_webhook_handler_py_serves_the_same_app(tmp_path):
    """`python webhook_handler.py` is the handout's entry point: same app, same checks."""
    import os
    import subprocess
    import sys

    from labkit.settings import project_root
    from labkit.webhooks.process import free_port, get_json

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
    env.update(STRIPE_WEBHOOK_SECRET=SECRET, LABKIT_DB=str(tmp_path / "h.db"), LABKIT_BACKEND="fake")
    proc = subprocess.Popen([sys.executable, "webhook_handler.py", "--port", str(port)], cwd=project_root(),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if get_json(url + "/health", timeout=1)["ready"]:
                    break
            except OSError:
                time.sleep(0.05)
        body = json.dumps(_event(1)).encode()
        assert post(url + "/webhook", body, sign(body, SECRET))[0] == 200
        assert post(url + "/webhook", body, sign(body, "whsec_someone_else_entirely_00"))[0] == 400
        assert list(get_json(url + "/orders")) == ["pi_Durable0000000000000001"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"Webhook handler listening on http://127.0.0.1:{port}/webhook" in out
    assert "whsec_…" in out and SECRET not in out
