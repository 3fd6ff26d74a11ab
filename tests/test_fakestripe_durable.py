"""``labkit fakestripe --db``: every API call is one transaction (objects, events, idempotency
record, webhook deliveries), so a killed or failing fake keeps whole calls only, and a
restarted one replays idempotency keys and resumes pending deliveries (issue 13, item 13)."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import uuid

import pytest
import stripe

from labkit.fakestripe import FakeStripe
from labkit.fakestripe.state import Store
from tests.helpers import SECRET_KEY


def start(db, port: int = 0) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "labkit.cli", "fakestripe", "--port", str(port), "--db", str(db)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, line
    return proc, match.group()


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()


def client_for(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": url}, max_network_retries=0)


def test_an_idempotency_key_is_replayed_after_a_kill_and_restart(tmp_path):
    db, key = tmp_path / "fake.db", str(uuid.uuid4())
    params = {"amount": 1800, "currency": "usd", "payment_method_types": ["card"], "confirm": True,
              "payment_method": "pm_card_visa"}
    proc, url = start(db)
    try:
        first = client_for(url).v1.payment_intents.create(params=params, options={"idempotency_key": key})
    finally:
        kill(proc)
    port = int(url.rsplit(":", 1)[1])
    proc, url = start(db, port)
    try:
        again = client_for(url).v1.payment_intents.create(params=params, options={"idempotency_key": key})
        assert again.id == first.id and again.last_response.headers.get("Idempotent-Replayed") == "true"
        assert len(client_for(url).v1.charges.list(params={"payment_intent": first.id}).data) == 1
    finally:
        kill(proc)


def test_pending_deliveries_resume_after_a_kill_and_restart(tmp_path, receiver):
    db = tmp_path / "fake.db"
    receiver.fail_first = 10 ** 6  # the handler is down while the first fake runs
    proc, url = start(db)
    try:
        client = client_for(url)
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["payment_intent.created"]})
        pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"})
        assert receiver.wait_for(lambda: receiver.events("payment_intent.created"))  # tried once, got a 500
    finally:
        kill(proc)
    receiver.fail_first = 0
    with receiver.lock:
        receiver.requests.clear()
    port = int(url.rsplit(":", 1)[1])
    proc, url = start(db, port)
    try:
        assert receiver.wait_for(lambda: any(e["data"]["object"]["id"] == pi.id
                                             for e in receiver.events("payment_intent.created")), timeout=30)
        event = client_for(url).v1.events.list(params={"type": "payment_intent.created", "limit": 1}).data[0]
        assert receiver.wait_for(lambda: client_for(url).v1.events.retrieve(event.id).pending_webhooks == 0)
    finally:
        kill(proc)


class DiskFull:
    """Make the n-th write of the SQLite journal fail, as a full disk does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, after: int) -> None:
        self.left = after
        real = Store._journal

        def journal(store, *args, **kwargs):
            if store._db is not None and store._db.in_transaction:
                self.left -= 1
                if self.left < 0:
                    raise sqlite3.OperationalError("database or disk is full")
            return real(store, *args, **kwargs)
        monkeypatch.setattr(Store, "_journal", journal)


@pytest.mark.parametrize("after", [0, 2, 5])
def test_a_call_that_cannot_be_written_leaves_nothing_behind(tmp_path, monkeypatch, after):
    db = tmp_path / "fake.db"
    with FakeStripe(db_path=db) as fake:
        client = client_for(fake.url)
        pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd",
                                                      "payment_method_types": ["card"]})
        events_before = len(client.v1.events.list(params={"limit": 100}).data)
        with monkeypatch.context() as mp:
            DiskFull(mp, after)
            with pytest.raises(stripe.APIError):
                client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
        # neither the memory nor the file kept part of the confirm
        assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"
        assert client.v1.charges.list(params={"payment_intent": pi.id}).data == []
        assert len(client.v1.events.list(params={"limit": 100}).data) == events_before
        done = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
        assert done.status == "succeeded"
        assert len(client.v1.charges.list(params={"payment_intent": pi.id}).data) == 1
    with FakeStripe(db_path=db) as again:
        assert len(client_for(again.url).v1.charges.list(params={"payment_intent": pi.id}).data) == 1


def test_idempotency_keys_are_kept_24_hours(tmp_path, monkeypatch):
    import time as real_time

    from labkit.fakestripe import state as state_mod

    key = str(uuid.uuid4())
    with FakeStripe(db_path=tmp_path / "fake.db") as fake:
        client = client_for(fake.url)
        first = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"},
                                                 options={"idempotency_key": key})
        with pytest.raises(stripe.IdempotencyError):  # the same key with other parameters, within a day
            client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"},
                                             options={"idempotency_key": key})

        class DayLater:
            @staticmethod
            def time() -> float:
                return real_time.time() + 24 * 3600 + 1

        monkeypatch.setattr(state_mod, "time", DayLater)
        later = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"},
                                                 options={"idempotency_key": key})
        assert later.id != first.id and later.amount == 900


def test_a_sigkill_mid_payments_leaves_only_whole_payments(tmp_path):
    """Payments run while the fake is killed: after a restart, every PaymentIntent is either
    untouched or fully paid (one succeeded charge and its payment_intent.succeeded event)."""
    import threading

    db = tmp_path / "fake.db"
    proc, url = start(db)
    done = threading.Semaphore(0)

    def pay() -> None:
        client = client_for(url)
        try:
            while True:
                client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "confirm": True,
                                                         "payment_method_types": ["card"],
                                                         "payment_method": "pm_card_visa"})
                done.release()
        except stripe.StripeError:
            return  # the fake was killed under us

    workers = [threading.Thread(target=pay, daemon=True) for _ in range(3)]
    for w in workers:
        w.start()
    for _ in range(30):
        assert done.acquire(timeout=60)
    kill(proc)  # calls are in flight right now
    for w in workers:
        w.join(timeout=30)
    port = int(url.rsplit(":", 1)[1])
    proc, url = start(db, port)
    try:
        client = client_for(url)
        intents = list(client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter())
        succeeded_events = {e.data.object.id for e in client.v1.events.list(
            params={"type": "payment_intent.succeeded", "limit": 100}).auto_paging_iter()}
        assert len(intents) >= 30
        for pi in intents:
            charges = client.v1.charges.list(params={"payment_intent": pi.id}).data
            if pi.status == "succeeded":
                assert [c.status for c in charges] == ["succeeded"] and pi.id in succeeded_events
            else:
                assert charges == [] and pi.id not in succeeded_events
    finally:
        kill(proc)
