"""The leak scanner: secrets and real card numbers are found and redacted, test cards are kept.

Keys and "real" card numbers are built at run time, so nothing in the repository looks
like a leaked secret or a card.
"""
from __future__ import annotations

import json
import random
import string
from importlib import resources

import nbformat
import pytest

from labkit.leaks import LeakReport, load_test_cards, luhn_ok, redact_notebook, redact_text, scan_notebook, scan_text


def fake_key(prefix: str, n: int = 32, seed: int = 7) -> str:
    rng = random.Random(seed)
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def luhn_complete(partial: str) -> str:
    """Append the check digit that makes ``partial`` Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(partial + d):
            return partial + d
    raise AssertionError("unreachable")


def not_a_test_card(seed: int = 11) -> str:
    rng = random.Random(seed)
    tests = load_test_cards()
    while True:
        number = luhn_complete("4" + "".join(rng.choice(string.digits) for _ in range(14)))
        if number not in tests:
            return number


# ------------------------------------------------------------------ secrets

@pytest.mark.parametrize("prefix,kind", [
    ("sk_test_", "secret_key"), ("sk_live_", "secret_key"),
    ("rk_test_", "restricted_key"), ("rk_live_", "restricted_key"),
    ("whsec_", "webhook_secret"),
])
def test_each_secret_kind_is_found_and_redacted(prefix, kind):
    key = fake_key(prefix)
    text, findings = redact_text(f"config: key={key}; done")
    assert key not in text
    assert text == f"config: key={prefix}…[REDACTED]; done"
    assert [(f.kind, f.redacted) for f in findings] == [(kind, f"{prefix}…[REDACTED]")]
    assert key not in repr(findings)  # a finding never keeps the secret


def test_publishable_keys_and_prose_are_left_alone():
    pk = fake_key("pk_test_")
    text = f"Publishable {pk}. Secret keys start with sk_test_ and webhook secrets with whsec_; task_test_abcdefghijkl."
    assert scan_text(text) == []
    assert redact_text(text)[0] == text


def test_the_kits_offline_fake_key_counts_as_a_secret_key():
    from labkit.settings import OFFLINE_SECRET_KEY

    assert [f.kind for f in scan_text(f"key {OFFLINE_SECRET_KEY}")] == ["secret_key"]


# ------------------------------------------------------------------ cards

@pytest.mark.parametrize("written", ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242",
                                     "3782 822463 10005", "4000 0025 0000 3155"])
def test_test_cards_are_reported_not_redacted(written):
    text = f"Pay with {written} then check."
    out, findings = redact_text(text)
    assert out == text
    assert [f.kind for f in findings] == ["test_card"]
    assert findings[0].label


def test_every_documented_test_number_is_luhn_valid_and_known():
    data = resources.files("labkit") / "data"
    for name in ("test_cards.json", "stripe_more_test_cards.json"):
        doc = json.loads((data / name).read_text())
        for card in doc["cards"]:
            assert luhn_ok(card["number"]), card
            assert [f.kind for f in scan_text(card["number"])] == ["test_card"], card


def test_a_trailing_cvc_does_not_turn_a_test_card_into_a_real_one():
    findings = scan_text("card 4242 4242 4242 4242 123 exp 12/34")
    assert [(f.kind, f.redacted) for f in findings] == [("test_card", "4242 4242 4242 4242")]


@pytest.mark.parametrize("sep", ["", " ", "-"])
def test_a_real_looking_card_is_redacted_to_its_last_four(sep):
    number = not_a_test_card()
    written = sep.join(number[i:i + 4] for i in range(0, 16, 4))
    out, findings = redact_text(f"customer card: {written}.")
    assert [f.kind for f in findings] == ["card_number"]
    assert number not in out.replace(" ", "").replace("-", "")
    assert out == f"customer card: [card …{number[-4:]} REDACTED]."


def test_numbers_that_are_not_cards_are_ignored():
    text = ("invalid 4242424242424241, timestamp ms 1732600000000, order 2024-0001, "
            "amounts 2000  5000  1500, id 9999999999999995, uuid-ish 123456789012")
    assert scan_text(text) == []


# ------------------------------------------------------------------ notebooks

def _notebook(key: str, card: str | None = None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Setup\nUse the card 4242 4242 4242 4242."),
        nbformat.v4.new_code_cell("settings.describe()", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=f"loaded {key}\n"),
            nbformat.v4.new_output("execute_result", execution_count=1,
                                   data={"text/plain": f"{{'key': '{key}'}}", "text/html": f"<b>{key}</b>",
                                         "image/png": "iVBORw0KGgo="}),
        ]),
        nbformat.v4.new_code_cell("boom()", execution_count=2, outputs=[
            nbformat.v4.new_output("error", ename="AuthenticationError", evalue=f"Invalid API Key provided: {key}",
                                   traceback=[f"AuthenticationError: {key}"]),
        ]),
    ]
    if card:
        nb.cells.append(nbformat.v4.new_code_cell("x", execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=f"charged {card}\n")]))
    return nb


def test_redact_notebook_cleans_every_output_and_leaves_the_original():
    key = fake_key("sk_test_", 99)
    nb = _notebook(key)
    clean, report = redact_notebook(nb, "02_checkout.ipynb")
    assert key in json.dumps(nb)  # the original is untouched
    dumped = json.dumps(clean, ensure_ascii=False)
    assert key not in dumped
    assert dumped.count("sk_test_…[REDACTED]") == 5
    assert clean.cells[1].outputs[1].data["image/png"] == "iVBORw0KGgo="
    nbformat.validate(clean)
    assert len(report.secrets) == 5 and not report.real_cards
    assert [f.kind for f in report.test_cards] == ["test_card"]
    assert any("cell 3, output 1" in f.where for f in report.secrets)


def test_scan_notebook_reports_real_cards_and_images():
    number = not_a_test_card(3)
    report = scan_notebook(_notebook(fake_key("rk_live_"), card=number), "nb.ipynb")
    assert [f.redacted for f in report.real_cards] == [f"[card …{number[-4:]} REDACTED]"]
    assert report.real_cards[0].where == "nb.ipynb, cell 4, output 1"
    assert "1 image in nb.ipynb" in report.not_scanned


def test_report_markdown_lists_redactions_without_secrets():
    key = fake_key("whsec_", 32)
    _, report = redact_notebook(_notebook(key), "03_webhooks.ipynb")
    md = report.to_markdown()
    assert md.startswith("# Leak scan")
    assert "webhook signing secret `whsec_…[REDACTED]` in 03_webhooks.ipynb, cell 2, output 1" in md
    assert "Stripe test card …4242 (Visa, succeeds)" in md
    assert key not in md
    assert LeakReport().clean and "Redacted: nothing" in LeakReport().to_markdown()
