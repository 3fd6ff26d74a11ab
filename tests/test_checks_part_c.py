"""The Part C checks on made-up handlers (tests/submissions/part_c.py): each mistake graded as it
deserves, each correct alternative with full marks, and the evidence naming the real cause."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from labkit.checks.items import clip, exception_line
from labkit.checks.run import run_checks
from labkit.settings import OFFLINE_PUBLISHABLE_KEY, OFFLINE_SECRET_KEY, load_settings
from labkit.webhooks.probe import parse_orders

from .submissions.part_c import EXPECTED


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every made-up handler through the Part C checks (two at a time: each runs its own fake Stripe)."""
    settings = load_settings({}, env_file=None).with_(backend="fake", secret_key=OFFLINE_SECRET_KEY,
                                                     publishable_key=OFFLINE_PUBLISHABLE_KEY, webhook_secret=None,
                                                     api_base=None)
    base = tmp_path_factory.mktemp("part_c")

    def grade(kind):
        folder = base / kind
        EXPECTED[kind][0](folder)
        return kind, {i.check: i for i in run_checks(folder, settings, parts={"C"})}

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(grade, EXPECTED))


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_handler_is_graded_as_it_deserves(graded, kind):
    got = graded[kind]
    for check, status in EXPECTED[kind][1].items():
        assert got[check].status == status, f"{kind} {check}: {got[check].status}: {got[check].evidence}"
        assert got[check].evidence.strip()


def test_a_handler_that_refuses_genuine_events_is_told_to_verify_the_raw_bytes(graded):
    got = graded["reserialised_body"]
    assert "genuine" in got["webhook:signature"].evidence and "HTTP 400" in got["webhook:signature"].evidence
    for check in ("webhook:signature", "webhook:succeeded"):
        assert "exact bytes" in got[check].hint and "order" not in got[check].hint.lower()


def test_a_crash_names_the_exception_and_a_hang_is_a_timeout(graded):
    crash = graded["unknown_type_500"]["webhook:acknowledges"]
    assert "HTTP 500 (KeyError: 'customer.created')" in crash.evidence
    hang = graded["hangs_on_unhandled"]["webhook:acknowledges"]
    assert "timed out after 5 s" in hang.evidence and "5xx" not in hang.evidence and "HTTP 5" not in hang.evidence
    assert "/orders" not in hang.hint


def test_each_mistake_names_what_it_did(graded):
    assert "payment_intent.created made a paid order" in graded["paid_on_created"]["webhook:succeeded"].evidence
    assert "payment_intent.processing made a paid order" in graded["paid_on_processing"]["webhook:succeeded"].evidence
    assert "payment_intent.payment_failed made a paid order" in graded["paid_on_failed"]["webhook:succeeded"].evidence
    assert "HTTP 200, and an order was created: signed with ''" in graded["accepts_empty_secret"]["webhook:signature"].evidence
    assert "replay" in graded["accepts_replay"]["webhook:signature"].evidence
    assert "restart" in graded["seen_in_memory"]["webhook:duplicate"].evidence
    assert "did not survive" in graded["orders_in_memory"]["webhook:duplicate"].evidence
    assert "waits up to 10 s" in graded["acks_then_applies"]["webhook:succeeded"].evidence


def test_the_correct_alternatives_get_every_point(graded):
    for kind in ("solution", "acks_then_applies", "json_file_orders"):
        assert sum(i.points or 0 for i in graded[kind].values()) == 25, kind


def test_exception_line_is_the_last_line_of_the_last_traceback():
    log = ("[2026-12-04] ERROR in app: Exception on /webhook [POST]\nTraceback (most recent call last):\n"
           '  File "x.py", line 3, in f\n    raise KeyError(k)\nKeyError: \'metadata\'\n127.0.0.1 - POST /webhook 500\n')
    assert exception_line(log) == "KeyError: 'metadata'"
    assert exception_line("no traceback here") == ""


@pytest.mark.parametrize("text", ["word " * 200, "a" * 700, "short", "Stripe-Signature: t=1,v1=" + "ab" * 400])
def test_clip_never_cuts_a_word(text):
    out = clip(text, 120)
    assert len(out) <= 120
    words = text.split()
    if out != " ".join(words):
        assert out.endswith("…")
        whole = [" ".join(words[:n]).rstrip(" ,;:") for n in range(1, len(words) + 1)]
        assert out[:-1] in whole or (len(words) == 1 and words[0].startswith(out[:-1]))


def test_orders_shapes_are_read_by_the_one_probe():
    assert parse_orders({"pi_1": {"status": "paid"}})[0] == {"pi_1": [{"status": "paid"}]}
    assert parse_orders("nope")[0] is None


def test_one_forged_event_probe():
    """The checks, the PCI check and the drills post events through labkit/webhooks/probe.py only
    (the fake Stripe's own deliveries aside), with the fake's one API version."""
    import re
    from pathlib import Path

    from labkit.fakestripe.common import API_VERSION
    from labkit.webhooks import probe

    assert probe.API_VERSION == API_VERSION
    root = Path(__file__).resolve().parents[1] / "labkit"
    posting = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                     if re.search(r'"Stripe-Signature"\]? *[=:]', p.read_text(encoding="utf-8")))
    assert posting == ["fakestripe/webhooks.py", "webhooks/probe.py"], posting
    versions = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                      if re.search(r'"api_version": "\d{4}-', p.read_text(encoding="utf-8")))
    assert versions == [], versions


def test_labkit_check_exits_1_when_an_item_is_missing():
    from labkit.checks.cli import exit_code
    from labkit.checks.items import EVIDENCED, GRADER, MISSING, PARTIAL, item

    assert exit_code([item("webhook:signature", EVIDENCED, "x"), item("webhook:duplicate", PARTIAL, "y"),
                      item("pci:gaps", GRADER, "z")]) == 0
    assert exit_code([item("webhook:signature", EVIDENCED, "x"), item("webhook:restart", MISSING, "y")]) == 1
