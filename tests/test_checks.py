"""The checks' parts that need no server: reading the student's text and the orders, feedback shape."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from labkit import answers
from labkit.checks import writing
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, STATUSES, item, rubric, rubric_entries
from labkit.checks.report import as_json, format_items
from labkit.webhooks.probe import parse_orders

from .submissions.builder import full_pci, own_essay

ISSUE_IDS = ("checkout:server_price", "scenario:success", "scenario:insufficient_funds", "scenario:3ds_complete",
             "scenario:3ds_fail", "scenario:generic_decline", "webhook:signature", "webhook:succeeded",
             "webhook:duplicate", "pci:answered", "pci:gaps", "altpay:words", "altpay:two_methods")


def test_every_named_check_is_in_the_rubric_with_points_that_add_up():
    entries = rubric_entries()
    assert set(ISSUE_IDS) <= set(entries)
    for part in rubric()["parts"]:
        decided = sum(i.get("points") or 0 for i in part["items"])
        assert decided <= part["points"], part["part"]
    assert sum(p["points"] for p in rubric()["parts"]) == 100


def test_points_follow_the_status():
    assert item("webhook:succeeded", EVIDENCED, "x").points == 12
    assert item("webhook:succeeded", PARTIAL, "x").points == 6
    assert item("webhook:succeeded", MISSING, "x").points == 0
    assert item("altpay:own_words", EVIDENCED, "x").points is None


@pytest.fixture()
def kit(tmp_path, kit_settings):
    return kit_settings.with_(answers_dir=tmp_path / "answers")


@pytest.fixture()
def kit_settings():
    from labkit.settings import load_settings

    return load_settings({}, env_file=None)


def test_pci_checks_read_the_answers_file(kit):
    assert writing.pci_answered(kit).status == MISSING
    data = full_pci()
    first = next(iter(data["requirements"]))
    data["requirements"][first]["status"] = ""
    answers.save_pci(data, kit)
    got = writing.pci_answered(kit)
    assert got.status == PARTIAL and first in got.evidence
    answers.set_requirement(first, "n/a", "no paper", settings=kit)
    assert writing.pci_answered(kit).status == EVIDENCED
    assert writing.pci_gaps(kit).status == EVIDENCED
    answers.set_text("gaps", "none", settings=kit)
    assert writing.pci_gaps(kit).status == PARTIAL


def test_part_e_checks():
    essay = own_essay()
    assert writing.altpay_words(essay).status == EVIDENCED
    assert writing.altpay_two_methods(essay).status == EVIDENCED
    assert writing.altpay_figures(essay).status == EVIDENCED
    assert writing.altpay_own_words(essay).status == EVIDENCED
    short = " ".join(essay.split()[:120])
    assert writing.altpay_words(short).status == MISSING
    assert writing.altpay_words("").status == MISSING
    assert writing.altpay_two_methods("Apple Pay and Klarna are both options.").status == PARTIAL
    wrong = essay.replace("$", "$9")
    assert writing.altpay_figures(wrong).status == PARTIAL


def test_copying_the_model_answer_is_caught():
    from labkit import altpay

    model = (getattr(altpay, "model_answer", None) or altpay.analysis_text)()
    assert writing.altpay_own_words(model).status == MISSING
    lightly_edited = model.replace("the ", "our ", 5)
    assert writing.altpay_own_words(lightly_edited).status == MISSING


def test_dollar_figures():
    assert writing.dollar_figures("about $120k a year, $1.2M, $3,400 and $5 million") == [120e3, 1.2e6, 3400, 5e6]


@given(st.text(max_size=300))
@hsettings(max_examples=200, deadline=None)
def test_text_checks_never_crash(text):
    for check in (writing.altpay_words, writing.altpay_two_methods):
        assert check(text).status in STATUSES
    writing.dollar_figures(text)
    writing.shingles(text)


@pytest.mark.parametrize("body, expected", [
    ({"pi_1": {"status": "paid"}}, {"pi_1": 1}),
    ([{"payment_intent": "pi_1", "status": "paid"}, {"payment_intent": "pi_1", "status": "paid"}], {"pi_1": 2}),
    ({"orders": [{"payment_intent": "pi_2"}]}, {"pi_2": 1}),
    ({"pi_3": "paid"}, {"pi_3": 1}),
])
def test_orders_in_the_shapes_students_use(body, expected):
    found, why = parse_orders(body)
    assert {k: len(v) for k, v in found.items()} == expected and why == ""


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
                    max_leaves=20))
@hsettings(max_examples=200, deadline=None)
def test_any_orders_json_is_read_or_refused_without_crashing(body):
    found, why = parse_orders(body)
    assert (found is None) == bool(why)


def test_feedback_text_and_json():
    items = [item("scenario:success", MISSING, "4242: expected success; saw nothing.", "Call confirmCardPayment."),
             item("pci:answered", EVIDENCED, "all 26 answered")]
    text = format_items(items)
    assert "hint: Call confirmCardPayment." in text and "[ok]" in text
    data = as_json(items)
    assert [i["check"] for i in data["items"]] == ["scenario:success", "pci:answered"]
    assert set(data["items"][0]) >= {"part", "check", "status", "evidence"}
    json.dumps(data)


def test_money_is_one_building_block():
    """One module turns Stripe's minor units into money; no second zero-decimal table in the kit."""
    import re
    from pathlib import Path

    from labkit.money import format_money, to_major

    assert to_major(1800, "usd") == 18.0 and to_major(500, "JPY") == 500.0
    assert format_money(1800) == "$18.00" and format_money(500, "jpy") == "500 JPY"
    root = Path(__file__).resolve().parents[1] / "labkit"
    tables = [p for p in root.rglob("*.py") if re.search(r"ZERO_DECIMAL\s*=", p.read_text(encoding="utf-8"))]
    assert [p.name for p in tables] == ["money.py"]


def test_one_webhook_signer():
    """Stripe-Signature is computed in one module only (the fake, the drills, the checks, the PCI probe)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "labkit"
    signers = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
               if "hmac" in p.read_text(encoding="utf-8") and "v1=" in p.read_text(encoding="utf-8")]
    assert signers == ["webhook_signing.py"], signers
