"""Notebook 03's kill-and-restart drill (labkit.webhooks.attacks.kill_restart_drill), against the solution's
handler: deliveries fail while it is down, the fake Stripe's retries land after the restart, one order each."""
from __future__ import annotations

from labkit.lab import Lab
from labkit.settings import Settings, project_root
from labkit.webhooks.attacks import kill_restart_drill


def test_every_payment_made_while_the_handler_was_down_becomes_one_paid_order(patient_fake, tmp_path):
    settings = Settings(backend="fake", api_base=patient_fake.url, root=project_root(), db_path=tmp_path / "kit.db",
                        out_dir=tmp_path / "out")
    with Lab.start(settings, checkout=False, notebook=False) as lab:
        drill = kill_restart_drill(lab, payments=3, timeout=20.0)
        restarted = lab.webhooks.running
    assert drill["payments while the handler was down"] == 3
    assert drill["first delivery attempts that failed (handler down)"] >= 3  # one payment_intent.succeeded each
    assert drill["paid orders after the restart"] == 3 and drill["payments with more than one order"] == 0
    assert restarted
