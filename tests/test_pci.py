"""Part D: the SAQ A data, the HTTP evidence checks (kit passes, broken servers fail), the report, the CLI.

The browser-driven checks are in test_pci_browser.py.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from labkit.altpay import write_part_e
from labkit.pci import report, saq_checks
from labkit.pci.requirements import load_saq
from labkit.kit_server import BackgroundServer
from labkit.settings import OFFLINE_PUBLISHABLE_KEY, OFFLINE_SECRET_KEY, Settings, load_settings
from tests import broken_servers

ROOT = Path(__file__).resolve().parents[1]
# built at run time so that no secret-shaped literal sits in the source
FAKE_SECRET = "sk_" + "test_" + "pcicheckNotARealKey0123456789"


@pytest.fixture(scope="module")
def lab(kit_lab):
    return kit_lab


@pytest.fixture(autouse=True)
def own_answers(tmp_path, monkeypatch):
    """Every test reads and writes its own answers folder, never the kit's answers/."""
    monkeypatch.setenv("LABKIT_ANSWERS", str(tmp_path / "answers"))
    return tmp_path / "answers"


def serve(app):
    return BackgroundServer(app, name="broken")


# ----------------------------------------------------------------------------- data
def test_saq_data_is_consistent_and_sourced():
    saq = load_saq()
    numbers = [r.number for r in saq.requirements]
    assert len(numbers) == 27 and "9.4.1.1" in numbers  # 9.4.1.1: settled in issue 15 (see the data's provenance)
    for removed in ("6.4.3", "11.6.1", "12.3.1"):
        assert removed not in numbers
        assert removed in [r.number for r in saq.removed]
    assert "12.1" not in numbers and "12.9" not in numbers
    assert saq.requirement("12.10.1").handout == "12.9"
    assert saq.requirement("2.2.2").handout == "2.2"
    assert saq.requirement("6.3.3").handout == "6.2"
    assert "reconstructed" in saq.provenance.lower()
    assert {c.id for c in saq.eligibility} >= {"not_susceptible_to_script_attacks", "payment_form_from_provider"}
    assert all(r.sources for r in saq.requirements) and all(c.sources for c in saq.eligibility)
    assert saq.check_ids() <= set(saq_checks.CHECKS)
    handout = {h["handout"]: h for h in saq.handout_rows}
    assert set(handout) == {"2.2", "6.2", "6.3", "8.2", "8.3", "9.5", "12.1", "12.8", "12.9"}
    assert handout["12.1"]["now"] == []


# ----------------------------------------------------------------------------- helpers
def test_card_findings_see_grouped_and_url_encoded_numbers():
    assert saq_checks.card_findings("card[number]=4242+4242+4242+4242&cvc=123")
    assert saq_checks.card_findings("card=4242%204242%204242%204242")
    assert saq_checks.card_findings('{"card": "4000-0025-0000-3155"}')
    real = saq_checks.card_findings("pan 4111 1111 1111 1111")  # Luhn-valid, not a Stripe test card
    assert real and real[0].is_real_card and "1111" in real[0].redacted and "4111 1111" not in real[0].redacted
    assert not saq_checks.card_findings("order 4242424242424241 ts 1700000000000")  # Luhn fails; a timestamp


def test_parse_csp_and_webhook_endpoint():
    policy = saq_checks.parse_csp("default-src 'self'; script-src 'self' https://js.stripe.com ; frame-src x")
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert saq_checks.webhook_endpoint("http://127.0.0.1:5001") == "http://127.0.0.1:5001/webhook"
    assert saq_checks.webhook_endpoint("http://h:1/hooks/stripe") == "http://h:1/hooks/stripe"


# ----------------------------------------------------------------------------- the kit passes
def test_kit_webhook_rejects_forgeries(lab):
    r = saq_checks.check_webhook_forgery(lab.webhook_url)
    assert r.status == "pass", r.details
    assert any("unsigned: HTTP 400" in d for d in r.details)
    from labkit.webhooks.attacks import Target

    assert all("forged" not in json.dumps(o) for o in Target.of(lab).orders().values())


def test_kit_debug_off(lab):
    r = saq_checks.check_debug_mode({"checkout": lab.checkout_url, "webhooks": lab.webhook_url})
    assert r.status == "pass", r.details


def test_kit_csp_restricts_scripts(lab):
    r = saq_checks.check_scripts_csp(lab.checkout_url, lab.backend.js_origin)
    assert r.status == "pass", r.details
    assert any("/static/checkout.js" in d for d in r.details)
    assert any("/v3/" in d for d in r.details)


def test_kit_pages_hold_no_secret(lab):
    r = saq_checks.check_secret_key_in_pages(lab.checkout_url)
    assert r.status == "pass", r.details
    assert any("publishable key" in d for d in r.details)


def test_kit_database_holds_no_card(lab, tmp_path):
    from labkit.webhooks.attacks import stripe_deliveries

    lab.backend.fake.wait_for_webhooks(10)
    assert stripe_deliveries(lab) is not None
    r = saq_checks.check_card_data_at_rest([lab.work / "orders.db"])
    assert r.status == "pass", r.details


def test_plain_http_on_localhost_is_a_gap_with_remediation(lab):
    r = saq_checks.check_transport(lab.checkout_url, lab.webhook_url)
    assert r.status == "gap" and "localhost" in r.summary and "HTTPS" in r.remediation
    assert saq_checks.check_transport("https://shop.example.test/").status == "pass"


def test_offline_credentials_pass_with_an_explanation(tmp_path):
    r = saq_checks.check_default_credentials(Settings(root=tmp_path))
    assert r.status == "pass" and "offline" in r.summary


def test_dependencies_listed_and_pinned():
    r = saq_checks.check_dependencies(ROOT)
    assert r.status == "pass", r.details
    assert any(d.strip().startswith("- flask 3.1.3") for d in r.details)


# ----------------------------------------------------------------------------- broken servers fail
def test_unsigned_webhook_server_is_a_gap():
    app = broken_servers.unsigned_webhooks()
    with serve(app) as srv:
        r = saq_checks.check_webhook_forgery(srv.url)
    assert r.status == "gap" and "accepted" in r.summary
    assert len(app.extensions["received"]) == 2  # it really took both forgeries


def test_missing_webhook_endpoint_is_an_error_not_a_pass():
    with serve(broken_servers.no_csp_checkout()) as srv:
        r = saq_checks.check_webhook_forgery(srv.url)
    assert r.status == "error"


def test_debug_server_is_a_gap():
    with broken_servers.WerkzeugServer(broken_servers.debug_checkout()) as srv:
        r = saq_checks.check_debug_mode({"checkout": srv.url})
    assert r.status == "gap", r.details
    assert any("Werkzeug" in d for d in r.details)


def test_werkzeug_without_debugger_passes_but_says_so():
    with broken_servers.WerkzeugServer(broken_servers.debug_checkout(), debugger=False) as srv:
        r = saq_checks.check_debug_mode({"checkout": srv.url})
    assert r.status == "pass"
    assert any("development server" in d for d in r.details)


def test_page_without_csp_is_a_gap():
    with serve(broken_servers.no_csp_checkout()) as srv:
        r = saq_checks.check_scripts_csp(srv.url)
    assert r.status == "gap" and "no Content-Security-Policy" in r.summary
    assert any("cdn.example-analytics.test" in d for d in r.details)  # the inventory names the tracker


def test_loose_csp_is_a_gap():
    with serve(broken_servers.loose_csp_checkout()) as srv:
        r = saq_checks.check_scripts_csp(srv.url)
    assert r.status == "gap"
    assert any("'unsafe-inline'" in d for d in r.details) and any("allows *" in d for d in r.details)


def test_secret_key_in_a_script_is_a_gap():
    with serve(broken_servers.secret_in_page_checkout(FAKE_SECRET)) as srv:
        r = saq_checks.check_secret_key_in_pages(srv.url, paths=("/",))
    assert r.status == "gap" and "/config.js" in r.summary
    assert FAKE_SECRET not in json.dumps(r.to_dict())  # reported redacted


def test_logged_card_number_is_a_gap(tmp_path):
    log = tmp_path / "checkout.log"
    app = broken_servers.logging_checkout(log)
    try:
        with serve(app) as srv:
            requests.post(srv.url + "/pay", json={"card": "4242 4242 4242 4242", "cvc": "123"}, timeout=10)
        r = saq_checks.check_card_data_at_rest(log_paths=[log])
    finally:
        app.extensions["broken_log_handler"].close()
    assert r.status == "gap" and "4242" in r.summary


def test_card_in_a_database_is_a_gap_and_masked(tmp_path):
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE orders (id TEXT, note TEXT)")
        con.execute("INSERT INTO orders VALUES ('o1', 'customer card 4111-1111-1111-1111')")
    r = saq_checks.check_card_data_at_rest([db])
    assert r.status == "gap" and "orders.note" in r.summary
    assert "4111-1111-1111-1111" not in json.dumps(r.to_dict())


def test_nothing_to_scan_is_not_applicable():
    assert saq_checks.check_card_data_at_rest().status == "n/a"


def test_offline_key_in_stripe_mode_is_a_gap(tmp_path):
    settings = Settings(backend="stripe", secret_key=OFFLINE_SECRET_KEY, publishable_key=OFFLINE_PUBLISHABLE_KEY)
    r = saq_checks.check_default_credentials(settings.with_(root=tmp_path))
    assert r.status == "gap" and "offline key" in r.summary
    assert any("STRIPE_WEBHOOK_SECRET" in d for d in r.details)


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_world_readable_env_is_a_gap(tmp_path):
    env = tmp_path / ".env"
    env.write_text("LABKIT_BACKEND=fake\n")
    env.chmod(0o644)
    assert saq_checks.check_default_credentials(Settings(root=tmp_path), env).status == "gap"
    env.chmod(0o600)
    assert saq_checks.check_default_credentials(Settings(root=tmp_path), env).status == "pass"


def test_unpinned_or_drifted_dependency_is_a_gap(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\ndependencies=["flask>=1", "requests==0.0.1"]\n')
    r = saq_checks.check_dependencies(tmp_path)
    assert r.status == "gap" and "flask (not pinned)" in r.summary and "requests" in r.summary


# ----------------------------------------------------------------------------- report
def _evidence(*results):
    saq_checks.attach_requirements(results)
    return saq_checks.Evidence(saq_checks.Target("http://127.0.0.1:5000", "http://127.0.0.1:5001"), list(results))


def test_prefill_follows_the_evidence():
    saq = load_saq()
    good = saq_checks.CheckResult("no_default_credentials", "t", "pass", "fine")
    bad = saq_checks.CheckResult("no_default_credentials", "t", "gap", "shared key", remediation="roll it")
    deps = saq_checks.CheckResult("dependency_inventory", "t", "pass", "listed")
    a = report.prefill(saq, _evidence(good, deps))
    assert a["2.2.2"].value == "Yes" and a["2.2.2"].source == "evidence"
    assert a["6.3.1"].value is None  # an inventory informs the answer, it does not decide it
    assert a["11.3.2"].value == "No" and a["11.3.2"].source == "default"
    assert a["8.2.1"].value is None
    assert report.prefill(saq, _evidence(bad))["2.2.2"].value == "No"


def test_report_has_the_handout_sections_and_lists_gaps():
    ev = _evidence(saq_checks.check_transport("http://127.0.0.1:5000"))
    text = report.render_assessment(evidence=ev, date="2025-09-01")
    for heading in ("# PCI DSS SAQ A Self-Assessment — Lab 09", "**Merchant type:**", "## Why SAQ A Applies",
                    "## SAQ A Requirements Checklist", "**How we avoid handling card data:**",
                    "**How we verify Stripe's PCI compliance:**", "**Gaps identified:**", "**Remediation plan:**",
                    "**Assessment date:** 2025-09-01"):
        assert heading in text
    gaps = text.split("**Gaps identified:**")[1].split("**Remediation plan:**")[0]
    assert "plain HTTP on localhost" in gaps and "ASV" not in gaps  # 11.3.2 is not answered: only suggested
    assert "| 11.3.2 | — | Quarterly external vulnerability scans by an Approved Scanning Vendor | ☐ to answer | " \
           "suggested by the lab setting: No" in text
    assert "| 12.10.1 | 12.9 |" in text and "reconstructed" in text.lower()


def test_given_answers_are_shown_and_the_prefill_only_suggested():
    base = report.prefill()
    answers = report.with_answers(base, **{"8.2.1": ("Yes", "one login per person"), "11.3.2": ("N/A", "not public")})
    text = report.render_assessment(answers=answers, date="2025-09-01")
    assert "| 8.2.1 | 8.2 | Every user has a unique ID | **Yes** | one login per person |" in text
    assert "No ASV scan" not in text


def test_writer_keeps_part_e_either_way(tmp_path):
    path = tmp_path / "pci_assessment.md"
    write_part_e(path, "## Part E\n\nwallets and BNPL")
    report.write_assessment(path, date="2025-09-01", settings=load_settings())
    text = path.read_text()
    assert text.index(report.PART_D_START) < text.index("<!-- labkit:part-e:start -->")
    assert "wallets and BNPL" in text
    report.write_assessment(path, answers=report.with_answers(report.prefill(), **{"8.2.1": ("No", "shared")}),
                            date="2025-09-02", settings=load_settings())
    write_part_e(path, "## Part E\n\nrevised")
    text = path.read_text()
    assert text.count(report.PART_D_START) == 1 and text.count("labkit:part-e:start") == 1
    assert "2025-09-02" in text and "revised" in text and "wallets" not in text


def test_writer_keeps_other_text_and_refuses_broken_markers(tmp_path):
    path = tmp_path / "pci_assessment.md"
    path.write_text("Student's preface.\n")
    report.write_assessment(path, date="2025-09-01", settings=load_settings())
    assert path.read_text().startswith("Student's preface.\n")
    path.write_text(report.PART_D_START + "\nhalf\n")
    with pytest.raises(ValueError):
        report.write_assessment(path, settings=load_settings())


# ----------------------------------------------------------------------------- CLI
def test_cli_checks_given_servers_without_a_browser(lab, tmp_path):
    out = tmp_path / "assessment.md"
    proc = subprocess.run([sys.executable, "-m", "labkit.cli", "pci", "--checkout-url", lab.checkout_url,
                           "--webhook-url", lab.webhook_url, "--db", str(lab.settings.db_path), "--no-browser",
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "LABKIT_BACKEND": "fake"})
    assert proc.returncode == 0, proc.stderr
    assert "0 of 27 requirements" in proc.stdout
    assert "webhook_rejects_forgeries" in proc.stdout and "wrote" in proc.stdout
    text = out.read_text()
    assert "**Servers assessed:** given servers" in text
    assert "no browser run" in text


def test_explain_puts_checks_in_words(lab):
    transport = saq_checks.check_transport(lab.checkout_url, lab.webhook_url)
    evidence = saq_checks.Evidence(target=saq_checks.Target(lab.checkout_url, lab.webhook_url), results=[transport])
    text = evidence.explain(transport.id, details=False)
    assert text.startswith(" gap  ") and "remediation: " in text and transport.summary in text
    assert all(line in evidence.explain(transport.id) for line in transport.details)
    with pytest.raises(KeyError):
        evidence.explain("no_such_check")
