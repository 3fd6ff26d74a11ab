"""Part D answers are files: saved at once, read back on every run, in the report, the static
table and the summary; the data file's sources; the model answers; checks against any server."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

import labkit.pci
from labkit.answers import load_pci
from labkit.pci import report, saq_checks
from labkit.pci.requirements import load_saq
from labkit.pci.student_answers import MIN_WORDS, PLACEHOLDERS, Answer, text_problem
from labkit.pci.widgets import Checklist
from labkit.kit_server import BackgroundServer
from labkit.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
OWN_WORDS = ("The shop is served over plain HTTP from localhost and nobody has scanned it from outside; the "
             "pinned packages are never checked against advisories; the Stripe agreement and its attestation "
             "were not read; there is no written plan for an incident, and no one watches the page for changes.")


@pytest.fixture
def kit(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_ANSWERS", str(tmp_path / "answers"))
    monkeypatch.setenv("LABKIT_OUT", str(tmp_path / "out"))
    return load_settings()


def _pass(check_id: str) -> saq_checks.CheckResult:
    return saq_checks.CheckResult(check_id, saq_checks.CHECKS[check_id], "pass", f"{check_id} seen")


def _evidence(*results: saq_checks.CheckResult) -> saq_checks.Evidence:
    saq_checks.attach_requirements(results)
    return saq_checks.Evidence(saq_checks.Target("http://127.0.0.1:5000"), list(results))


# ----------------------------------------------------------------------------- answers are files
def test_an_answer_is_saved_at_once_and_comes_back_on_the_next_run(kit):
    ui = Checklist(settings=kit)
    ui.set("8.2.1", "Yes", "one login per person")
    ui.set("eligibility:card_not_present", "Yes", "online only")
    ui.set_text("gaps", OWN_WORDS)
    saved = load_pci(kit)
    assert saved["requirements"]["8.2.1"] == {"status": "yes", "note": "one login per person"}
    assert saved["gaps"] == OWN_WORDS
    again = Checklist(settings=kit)  # a re-run of notebook 04
    assert again.answers["8.2.1"] == Answer("Yes", "one login per person", "student")
    assert again.gaps == OWN_WORDS


def test_rewriting_the_report_keeps_every_answer(kit):
    ui = Checklist(settings=kit)
    ui.set("11.3.2", "No", "localhost only, never scanned")
    ui.set_text("remediation", "Contract an ASV before launch. " * 8)
    for _ in range(2):  # the notebook run twice, the second time with nothing typed
        path = Checklist(settings=kit).write()
    text = path.read_text()
    assert path == kit.out_dir / report.FILE_NAME
    assert "| 11.3.2 | — | Quarterly external vulnerability scans by an Approved Scanning Vendor | **No** | " \
           "localhost only, never scanned |" in text
    assert "Contract an ASV before launch." in text.split("**Remediation plan:**")[1]
    assert report.write_assessment(settings=kit).read_text() == text  # labkit pci's writer reads the same file


def test_the_widget_saves_each_change_to_the_file(kit):
    pytest.importorskip("ipywidgets")
    ui = Checklist(settings=kit)
    box = ui.widget()
    first_row = next(c for c in box.children if type(c).__name__ == "HBox")
    _title, toggle, note = first_row.children
    note.value = "cards online only"
    toggle.value = "Yes"
    gaps_area = [c for c in box.children if type(c).__name__ == "VBox"][0].children[1]
    gaps_area.value = OWN_WORDS
    saved = load_pci(kit)
    assert saved["requirements"]["eligibility:card_not_present"] == {"status": "yes", "note": "cards online only"}
    assert saved["gaps"] == OWN_WORDS
    assert Checklist(settings=kit).widget().children[1].children[1].value == "Yes"  # pre-filled on the next run


def test_the_static_table_is_redrawn_from_the_file(kit):
    Checklist(settings=kit).set("12.10.1", "No", "no written plan yet")
    ui = Checklist(settings=kit)
    html, text = ui.table()._repr_html_(), repr(ui.table())
    assert "no written plan yet" in html and "no written plan yet" in text
    assert "1 of 34 items answered" in text and "VBox" not in text
    bundle = ui._repr_mimebundle_()
    assert "no written plan yet" in bundle["text/html"] and bundle["text/plain"] == text


def test_suggestions_are_taken_only_when_asked_and_never_over_an_answer(kit):
    ev = _evidence(_pass("no_default_credentials"), _pass("card_fields_from_provider"))
    ui = Checklist(ev, settings=kit)
    ui.set("11.3.2", "N/A", "not public yet")
    assert "2.2.2" not in ui.answers  # suggested, not answered
    taken = ui.accept_suggestions()
    assert "2.2.2" in taken and "eligibility:payment_form_from_provider" in taken and "11.3.2" not in taken
    assert ui.answers["2.2.2"].value == "Yes" and ui.answers["11.3.2"] == Answer("N/A", "not public yet")


# ----------------------------------------------------------------------------- the summary
def test_summary_counts_the_file_and_judges_the_texts(kit):
    saq = load_saq()
    empty = labkit.pci.answers_summary(kit)
    assert empty["answered"] == 0 and empty["total"] == len(saq.requirements) == 27
    assert empty["gaps_written"] is False and empty["gaps_problem"] == "not written yet"
    ui = Checklist(settings=kit)
    ui.set("8.2.1", "Yes", "own logins")
    ui.set("9.4.1", "N/A", "")
    ui.set_text("gaps", OWN_WORDS)
    ui.set_text("remediation", PLACEHOLDERS["remediation"])
    s = labkit.pci.answers_summary(kit)
    assert s["answered"] == 2 and "8.2.1" not in s["unanswered"] and "2.2.2" in s["unanswered"]
    assert s["na_without_reason"] == ["9.4.1"]
    assert s["gaps_written"] and s["gaps_words"] >= MIN_WORDS
    assert not s["remediation_written"] and "template" in s["remediation_problem"]


def test_short_or_repeated_texts_are_not_the_students_own_words():
    assert "words" in text_problem("gaps", "No scans yet.")
    assert "repeated" in text_problem("gaps", "gap " * 40)
    assert text_problem("gaps", OWN_WORDS) is None


@pytest.mark.parametrize("text", ["", "<!-- labkit:part-d:end -->", "<!--labkit:part-e:start-->\n# Part E",
                                  "| a | b |\n|---|", "<!-- labkit:part-d:start -->" * 3, "ünïcødé\r\n\t\x00"])
def test_no_student_text_can_break_the_report_sections(text):
    block = report.render_assessment(gaps=text + "<!-- labkit:part-d:end -->", remediation=text, date="2025-09-01")
    assert block.count(report.PART_D_START) == 1 and block.count(report.PART_D_END) == 1
    assert "labkit:part-e" not in block and block.rstrip().endswith(report.PART_D_END)


# ----------------------------------------------------------------------------- data and model answers
def test_every_requirement_row_and_criterion_carries_a_known_source_with_its_date():
    doc = json.loads((ROOT / "labkit" / "data" / "saq_a_v401.json").read_text(encoding="utf-8"))
    sources = doc["sources"]
    rows = doc["requirements"] + doc["eligibility"] + doc["removed_in_r1"]
    for row in rows:
        assert row["sources"], row.get("number") or row.get("id")
        assert set(row["sources"]) <= set(sources), row.get("number") or row.get("id")
    for key, src in sources.items():
        assert src["publisher"] and src["title"] and src["date"], key
        assert re.search(r"\b20\d\d\b", src["date"]) or "not verified" in src["date"], key  # a year, or says so
        assert src.get("url") or "not verified" in src.get("note", ""), key
    assert all(t["source"] in sources for t in doc["timeline"])


def test_issue_15_corrections_are_in_the_data_and_the_report():
    saq = load_saq()
    tpsp = saq.criterion("tpsp_confirmed_compliant")
    assert "confirmed that its TPSP(s) are PCI DSS compliant for the services" in tpsp.text
    assert "reviewed" not in tpsp.text and "pciwatch_v40_v401r1" in tpsp.sources
    removed = {r.number: r for r in saq.removed}
    assert "v4.0.1 (October 2024)" in removed["12.3.1"].note and "Never in SAQ A v4.0" in removed["12.3.1"].note
    assert "AOC" in saq.requirement("12.8.4").plain
    text = report.render_assessment(date="2025-09-01")
    stripe = text.split("**How we verify Stripe's PCI compliance:**")[1].split("**Gaps identified:**")[0]
    assert "confirmed that each third-party service provider is PCI DSS compliant" in stripe
    assert "12.8.4" in stripe and "must read Stripe's Attestation" not in stripe
    assert "Appendix C" in saq.responses["N/A"]["meaning"] and saq.responses["N/A"]["source"] in saq.sources


def test_issue_24_corrections_are_in_the_data(kit):
    """3.2.1 is Not Applicable for a shop that stores no account data (paper included), also after
    "Take the suggested answers"; requirement 8 is about the web server, the Dashboard beyond SAQ A;
    12.1 was never in SAQ A. Each with a source that says whether it was verified."""
    saq = load_saq()
    r321 = saq.requirement("3.2.1")
    assert r321.default_answer == "N/A" and "Appendix C" in r321.default_note
    assert "saq_a_321_guidance" in r321.sources and "not verified" in saq.sources["saq_a_321_guidance"]["note"]
    clean = _evidence(_pass("no_card_data_at_rest"))
    assert report.prefill(saq, clean)["3.2.1"].value == "N/A"  # the checks found nothing stored
    stored = saq_checks.CheckResult("no_card_data_at_rest", saq_checks.CHECKS["no_card_data_at_rest"], "gap", "a PAN in a log")
    saq_checks.attach_requirements([stored])
    assert report.prefill(saq, saq_checks.Evidence(saq_checks.Target("http://127.0.0.1:5000"), [stored]))["3.2.1"].value == "No"
    ui = Checklist(clean, settings=kit)
    assert "3.2.1" in ui.accept_suggestions()
    assert load_pci(kit)["requirements"]["3.2.1"]["status"] == "n/a"  # what "Take the suggested answers" writes
    for r in saq.requirements:
        if r.number.startswith("8."):
            assert "saq_a_req8_scope" in r.sources, r.number
            assert "Dashboard" not in r.plain and ("Dashboard" not in (r.question or "")
                                                   or "beyond SAQ A" in r.question), r.number
    row = next(h for h in saq.handout_rows if h["handout"] == "12.1")
    assert row["verdict"] == "not in SAQ A" and "no longer" not in row["note"] and row["sources"]


@pytest.mark.solution
def test_model_answers_say_3_2_1_not_applicable_and_keep_the_dashboard_beyond_saq_a():
    doc = json.loads(labkit.pci.model_answers_path().read_text(encoding="utf-8"))
    assert doc["requirements"]["3.2.1"]["status"] == "n/a" and "Appendix C" in doc["requirements"]["3.2.1"]["note"]
    for rid, a in doc["requirements"].items():
        if rid.startswith("8.") and "Dashboard" in a["note"]:
            assert "beyond SAQ A" in a["note"], rid


@pytest.mark.solution
def test_model_answers_answer_everything_honestly():
    path = labkit.pci.model_answers_path()
    assert path is not None and path.name == "pci.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    saq = load_saq()
    keys = {r.number for r in saq.requirements} | {f"eligibility:{c.id}" for c in saq.eligibility}
    assert set(doc["requirements"]) == keys
    assert all(a["status"] in ("yes", "no", "n/a") and len(a["note"]) > 20 for a in doc["requirements"].values())
    evidence_ids = set(saq_checks.CHECKS)
    for rid, a in doc["requirements"].items():  # an answer the checks decide names the check it rests on
        checked = set(saq.requirement(rid).checks) if ":" not in rid else set(saq.criterion(rid[12:]).checks)
        if checked:
            assert any(c in a["note"] for c in checked | evidence_ids), rid
    assert doc["requirements"]["11.3.2"]["status"] == "no"  # localhost: honestly not scanned
    assert text_problem("gaps", doc["gaps"]) is None and text_problem("remediation", doc["remediation"]) is None


# ----------------------------------------------------------------------------- any server
def _bare_shop() -> Flask:
    """A student's first checkout: one page, no security headers, no webhook route, no success page."""
    app = Flask("student.bare_shop")

    @app.get("/")
    def index():
        return "<html><body><h1>Shop</h1><script>console.log('hi')</script></body></html>"

    return app


def test_checks_report_what_a_bare_server_has_without_crashing(tmp_path):
    with BackgroundServer(_bare_shop(), name="bare shop") as srv:
        ev = saq_checks.run_checks(saq_checks.Target(srv.url, srv.url, label="a student's servers"), browser=False,
                               settings=load_settings())
    status = {r.id: r for r in ev.results}
    assert set(status) == set(saq_checks.CHECKS)
    assert status["webhook_rejects_forgeries"].status == "error"
    assert "no webhook endpoint" in status["webhook_rejects_forgeries"].summary
    assert status["scripts_restricted_by_csp"].status == "gap"
    assert status["secret_key_not_in_pages"].status == "pass"
    assert any("/payment-success: HTTP 404" in d for d in status["secret_key_not_in_pages"].details)
    assert status["no_card_data_in_requests"].status == "n/a"
    text = report.render_assessment(evidence=ev, date="2025-09-01")
    assert "a student's servers" in text


def test_an_error_page_is_not_judged_for_its_csp():
    app = Flask("student.broken_index")

    @app.get("/")
    def index():
        return "boom", 500

    with BackgroundServer(app, name="broken index") as srv:
        r = saq_checks.check_scripts_csp(srv.url)
    assert r.status == "error" and "HTTP 500" in r.summary


def test_cli_refuses_an_address_that_is_not_http(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "labkit.cli", "pci", "--checkout-url", "localhost:5000",
                           "--no-browser", "--out", str(tmp_path / "a.md")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**os.environ, "LABKIT_ANSWERS": str(tmp_path)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--checkout-url must be an http(s) address" in proc.stderr and not (tmp_path / "a.md").exists()


def test_taking_the_suggestions_shows_them_in_the_widget_and_saves_them_once(kit):
    pytest.importorskip("ipywidgets")
    ev = _evidence(_pass("card_fields_from_provider"))
    ui = Checklist(ev, settings=kit)
    box = ui.widget()
    take = next(c for c in box.children[-1].children if getattr(c, "description", "") == "Take the suggested answers")
    take.click()
    toggle, note = ui._controls["eligibility:payment_form_from_provider"]
    assert toggle.value == "Yes" and "card_fields_from_provider seen" in note.value
    assert load_pci(kit)["requirements"]["eligibility:payment_form_from_provider"]["status"] == "yes"
