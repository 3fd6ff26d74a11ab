"""The rubric self-check: evidenced only what it sees, never a point it cannot see."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.altpay import analysis_text, Retailer, write_part_e
from labkit.rubric import EVIDENCED, GRADER, MISSING, PARTIAL, format_rubric, rubric, rubric_check
from labkit.settings import load_settings

RUNS = [
    {"scenario": "success", "status": "succeeded", "decline_code": None, "error_code": None, "three_d_secure": False},
    {"scenario": "insufficient_funds", "status": "requires_payment_method", "decline_code": "insufficient_funds",
     "error_code": "card_declined", "three_d_secure": False},
    {"scenario": "3ds_complete", "status": "succeeded", "decline_code": None, "error_code": None, "three_d_secure": True},
    {"scenario": "3ds_fail", "status": "requires_payment_method", "decline_code": "payment_intent_authentication_failure",
     "error_code": "payment_intent_authentication_failure", "three_d_secure": True},
    {"scenario": "generic_decline", "status": "requires_payment_method", "decline_code": "generic_decline",
     "error_code": "card_declined", "three_d_secure": False},
]


@pytest.fixture()
def settings(tmp_path):
    return load_settings({"LABKIT_OUT": str(tmp_path / "out"), "LABKIT_DB": str(tmp_path / "out" / "lab.db")},
                         env_file=None)


def by_text(results, fragment):
    return next(r for r in results if fragment in r.text)


def write_runs(settings, runs, with_screenshots=True):
    shots = settings.out_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    rows = []
    for run in runs:
        shot = shots / f"{run['scenario']}.png"
        if with_screenshots:
            shot.write_bytes(b"\x89PNG\r\n\x1a\n")
        rows.append({**run, "payment_intent": None, "screenshot": str(shot)})
    (settings.out_dir / "evidence").mkdir(parents=True, exist_ok=True)
    (settings.out_dir / "evidence" / "browser_runs.json").write_text(json.dumps(rows))


def test_nothing_done_yet_is_missing_and_never_evidenced(settings):
    results = rubric_check(settings, parts="BDE")
    assert {r.status for r in results} <= {MISSING, GRADER, EVIDENCED}
    assert by_text(results, "4242").status == MISSING
    assert "02_checkout" in by_text(results, "4242").evidence
    assert by_text(results, "about 400 words").status == MISSING
    # only the repo's own checkout_server.py counts as evidence here
    assert [r.text for r in results if r.status == EVIDENCED] == ["checkout_server.py (runs on localhost:5000)"]


def test_recorded_browser_runs_evidence_each_scenario(settings):
    write_runs(settings, RUNS)
    results = rubric_check(settings, parts="B")
    for fragment in ("4242", "9995", "3D Secure completed", "3D Secure failed", "0002"):
        assert by_text(results, fragment).status == EVIDENCED, fragment


def test_a_wrong_outcome_or_a_missing_screenshot_is_not_evidence(settings):
    wrong = [dict(r, status="succeeded") if r["scenario"] == "generic_decline" else r for r in RUNS]
    write_runs(settings, wrong)
    assert by_text(rubric_check(settings, parts="B"), "0002").status == MISSING
    write_runs(settings, RUNS, with_screenshots=False)
    for path in (settings.out_dir / "screenshots").glob("*.png"):
        path.unlink()
    assert by_text(rubric_check(settings, parts="B"), "4242").status == MISSING


def test_part_e_words_and_recommendations_from_the_written_section(settings):
    write_part_e(settings.out_dir / "pci_assessment.md", analysis_text(Retailer()))
    results = rubric_check(settings, parts="E")
    assert by_text(results, "about 400 words").status == EVIDENCED
    rec = by_text(results, "two methods")
    assert rec.status == EVIDENCED and " and " in rec.evidence


def test_an_unanswered_checklist_is_partial(settings):
    from labkit.pci.report import write_assessment

    write_assessment(settings.out_dir / "pci_assessment.md")
    result = by_text(rubric_check(settings, parts="D"), "checklist")
    assert result.status == PARTIAL
    assert "requirements answered" in result.evidence


def test_grader_items_are_never_claimed_and_the_report_says_so(settings):
    results = rubric_check(settings)
    graders = [r for r in results if r.status == GRADER]
    expected = sum(item["check"] is None for part in rubric()["parts"] for item in part["items"])
    assert len(graders) == expected
    text = format_rubric(results)
    assert "awards no points" in text and "pts" in text
    assert sum(p["points"] for p in rubric()["parts"]) == 100


def test_keys_and_account_through_the_api(settings, client):
    results = rubric_check(settings, client=client, parts="A")
    assert by_text(results, "API keys").status == EVIDENCED
    assert by_text(results, "test-mode state").status == EVIDENCED


def test_a_paid_order_made_by_a_succeeded_event_is_evidence(settings, client):
    import time

    from labkit.webhooks.store import Delivery, OrderStore

    assert by_text(rubric_check(settings, parts="C"), "became a paid order").status == MISSING
    pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "confirm": True,
                                                   "payment_method_types": ["card"],
                                                   "payment_method": "pm_card_visa",
                                                   "metadata": {"product_id": "prod_001"}})
    created = client.v1.events.list(params={"type": "payment_intent.created", "limit": 1}).data[0].to_dict()
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    with OrderStore(settings.db_path) as store:
        store.process(created, Delivery(received_at=time.time(), verified=True))
    assert by_text(rubric_check(settings, parts="C"), "became a paid order").status == MISSING
    succeeded = next(e for e in client.v1.events.list(params={"type": "payment_intent.succeeded", "limit": 20}).data
                     if e.data.object.id == pi.id).to_dict()
    with OrderStore(settings.db_path) as store:
        store.process(succeeded, Delivery(received_at=time.time(), verified=True))
    result = by_text(rubric_check(settings, parts="C"), "became a paid order")
    assert result.status == EVIDENCED and "1 of 1 orders" in result.evidence
