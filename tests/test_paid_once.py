"""Notebook 02 pays the five scenarios, then checks Part B: the check judges those payments (made on the
page as it still is) instead of paying five more times; a changed page, or a second check, pays anew."""
from __future__ import annotations

import os

import pytest

from labkit.checks.run import run_checks
from labkit.lab import Lab
from labkit.settings import Settings
from tests.submissions.builder import build

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def lab(fake, tmp_path, chromium):
    folder = build("solution", tmp_path / "student")
    settings = Settings(backend="fake", api_base=fake.url, root=folder, db_path=tmp_path / "kit.db",
                        out_dir=tmp_path / "out")
    with Lab.start(settings, webhooks=False) as running:
        yield running


def payment_intents(lab) -> set[str]:
    """The PaymentIntents a browser paid (confirmed with a card: the server checks' own requests only create)."""
    return {pi.id for pi in lab.client.v1.payment_intents.list(params={"limit": 100}).data
            if pi.status != "requires_payment_method" or pi.last_payment_error}


def check_b(lab) -> tuple[dict, int]:
    before = payment_intents(lab)
    items = run_checks(None, lab.settings, parts=["B"], lab=lab)
    return {i.check: i for i in items}, len(payment_intents(lab) - before)


def test_the_check_judges_the_notebooks_payments_and_pays_only_the_double_click(lab):
    from labkit.checks.paid import lab_page_runs

    runs = lab_page_runs(lab)
    assert [r.outcome for r in runs] == ["succeeded", "failed", "succeeded", "failed", "failed"]
    got, made = check_b(lab)
    assert made == 1  # the double click's one payment, not five more
    assert all(i.status == "evidenced" for i in got.values()), {k: i.evidence for k, i in got.items()}
    assert "after a declined payment" in got["a11y:checkout"].evidence  # the 0002 run's audit, kept
    _again, made_again = check_b(lab)
    assert made_again >= 5  # kept payments are used once: checking again pays again


def test_a_page_changed_since_the_payments_is_paid_on_again(lab):
    from labkit.checks.paid import kept_audit, lab_page_runs

    lab_page_runs(lab)
    assert kept_audit(lab) is not None
    script = lab.settings.root / "static" / "checkout.js"
    st = script.stat()
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # the student saved the file again
    assert kept_audit(lab) is None  # the audit was of the page as it was: notebook 02 audits it anew
    got, made = check_b(lab)
    assert made >= 5 and got["scenario:success"].status == "evidenced"


def test_notebook_02_reads_the_accessibility_of_the_page_it_paid_on_without_opening_it_again(lab, monkeypatch):
    """The notebook's accessibility cell reads the 0002 run's audit (ready, and after the decline) and
    leaves the payments kept for the check."""
    from labkit.checks import a11y
    from labkit.checks.paid import kept_audit, lab_page_runs

    assert kept_audit(lab) is None  # nothing paid yet
    lab_page_runs(lab)
    opened = []
    real = a11y._audit_checkout
    monkeypatch.setattr(a11y, "_audit_checkout", lambda *args: opened.append(args) or real(*args))
    access = a11y.a11y_item(lab.checkout_url, audit=kept_audit(lab))
    assert opened == [] and access.status == "evidenced"
    assert "when the page is ready and after a declined payment" in access.evidence
    got, made = check_b(lab)
    assert made == 1 and got["a11y:checkout"].status == "evidenced"  # still kept: only the double click paid


def test_runs_no_check_will_judge_skip_the_accessibility_audit(lab):
    """notebook 02's side-by-side of today's integrations pays without auditing (half a second a page)."""
    from labkit.checks.paid import page_runs

    runs, payments = page_runs(lab.checkout_url, lab.client, audit=False)
    assert [r.outcome for r in runs] == ["succeeded", "failed", "succeeded", "failed", "failed"]
    assert payments.audit.found is None and payments.audit.moments == []
    _runs, audited = page_runs(lab.checkout_url, lab.client)
    assert audited.audit.found is not None and audited.audit.moments
