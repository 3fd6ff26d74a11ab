"""`labkit webhooks` (the student's handler on its own): it keeps its endpoint across restarts, so
Stripe's retries survive a crash; a database folder it cannot write is one line, not a traceback."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from labkit.settings import project_root
from labkit.student.runner import free_port
from labkit.webhooks.trigger import trigger
from tests.helpers import orders, start_webhooks_command

ROOT = project_root()
pytestmark = pytest.mark.skipif(os.name == "nt", reason="process groups and SIGKILL are POSIX")


def test_sigkill_mid_stream_and_a_restart_lose_no_order(patient_fake, tmp_path):
    fake, client = patient_fake, patient_fake.client
    db, port = tmp_path / "out" / "orders.db", free_port()
    proc = start_webhooks_command(fake, db, port, ROOT)
    paid = []
    try:
        for i in range(14):
            paid.append(trigger(client, "payment_intent.succeeded", product_id="prod_003")["payment_intent"])
            if i == 6:
                os.killpg(proc.pid, signal.SIGKILL)  # the command and the student's server, no clean-up
                proc.wait(10)
        saved = json.loads((db.parent / "webhook_endpoint.json").read_text())
        proc = start_webhooks_command(fake, db, port, ROOT)
        assert json.loads((db.parent / "webhook_endpoint.json").read_text())["id"] == saved["id"]
        end = time.monotonic() + 30
        while time.monotonic() < end and not set(paid) <= set(orders(port)):
            time.sleep(0.3)
        have = orders(port)
        assert set(paid) <= set(have), f"{len(set(paid) - set(have))} of {len(paid)} orders never arrived"
        assert all(have[pi]["status"] == "paid" for pi in paid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def test_an_unwritable_database_folder_is_one_line(fake, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
    env.update(LABKIT_BACKEND="fake", LABKIT_STRIPE_API_BASE=fake.url, LABKIT_DB=str(blocker / "orders.db"),
               LABKIT_WEBHOOK_PORT=str(free_port()))
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "webhooks"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "cannot write the orders database folder" in out.stderr and "LABKIT_DB" in out.stderr
