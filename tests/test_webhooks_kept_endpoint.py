"""`labkit webhooks` keeps its endpoint and secret however it is stopped (Ctrl-C, SIGTERM, closing the
terminal, SIGKILL): the events made while it was down are delivered after a restart."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from labkit.settings import project_root
from labkit.student.runner import free_port
from labkit.webhooks.trigger import trigger
from tests.helpers import orders, start_webhooks_command

pytestmark = pytest.mark.skipif(os.name == "nt", reason="process groups, SIGHUP and SIGKILL are POSIX")

STOPS = {  # how a terminal stops the command: Ctrl-C and hang-up reach its whole process group
    "ctrl-c": lambda proc: os.killpg(proc.pid, signal.SIGINT),
    "sigterm": lambda proc: os.kill(proc.pid, signal.SIGTERM),
    "terminal closed": lambda proc: os.killpg(proc.pid, signal.SIGHUP),
    "sigkill": lambda proc: os.killpg(proc.pid, signal.SIGKILL),
}


@pytest.mark.parametrize("how", list(STOPS))
def test_the_endpoint_survives_every_stop_and_downtime_events_arrive(patient_fake, tmp_path, how):
    fake, client = patient_fake, patient_fake.client
    db, port = tmp_path / "out" / "orders.db", free_port()
    proc = start_webhooks_command(fake, db, port, project_root())
    try:
        paid = [trigger(client, "payment_intent.succeeded", product_id="prod_003")["payment_intent"]]
        saved = json.loads((db.parent / "webhook_endpoint.json").read_text())
        STOPS[how](proc)
        proc.wait(15)
        assert client.v1.webhook_endpoints.retrieve(saved["id"]).url == saved["url"]  # still registered
        paid += [trigger(client, "payment_intent.succeeded", product_id="prod_003")["payment_intent"]
                 for _ in range(3)]  # while the handler is down
        proc = start_webhooks_command(fake, db, port, project_root())
        assert json.loads((db.parent / "webhook_endpoint.json").read_text()) == saved
        assert [e.id for e in client.v1.webhook_endpoints.list().data] == [saved["id"]]
        end = time.monotonic() + 40
        while time.monotonic() < end and not set(paid) <= set(orders(port)):
            time.sleep(0.3)
        have = orders(port)
        assert set(paid) <= set(have), f"{how}: {len(set(paid) - set(have))} of {len(paid)} orders never arrived"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
