"""The instructor's other model solutions (variants/: the Payment Element, a hosted Checkout Session)
get the card Element's marks from the same checks, and a typical mistake in each is graded down.
The models run the whole of Parts B and C; each mistake runs only the probe it changes."""
from __future__ import annotations

import pytest

from labkit.checks import scenarios as b
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL
from labkit.checks.run import B_CHECKS, C_CHECKS, run_checks
from labkit.lab import Lab
from labkit.settings import Settings, project_root
from tests.submissions import variants as v

pytest.importorskip("playwright")
pytestmark = pytest.mark.solution


@pytest.fixture()
def settings(fake, tmp_path):
    return Settings(backend="fake", api_base=fake.url, root=project_root(), db_path=tmp_path / "kit.db",
                    out_dir=tmp_path / "out")


@pytest.mark.parametrize("build", [v.payment_element, v.checkout_session], ids=["payment_element", "checkout_session"])
def test_a_model_variant_gets_every_mark_of_parts_b_and_c(build, settings, tmp_path, chromium):
    found = {i.check: i for i in run_checks(build(tmp_path / "student"), settings, parts={"B", "C"})}
    assert {c: found[c].status for c in B_CHECKS + C_CHECKS} == {c: EVIDENCED for c in B_CHECKS + C_CHECKS}, \
        [(i.check, i.evidence) for i in found.values() if i.status != EVIDENCED]
    assert "integration: " in found["scenario:success"].evidence
    assert found["scenario:3ds_complete"].points == found["scenario:3ds_complete"].max_points


def scenario_items(folder, settings, *keys):
    with Lab.start(settings, folder, checkout=True, webhooks=False, strict=False, notebook=False) as lab:
        return {i.check: i for i in b.scenarios(lab.checkout.url, lab.client, keys=keys)}


def test_confirm_payment_without_a_return_url_pays_nothing_and_the_feedback_says_why(settings, tmp_path, chromium):
    found = scenario_items(v.pe_no_return_url(tmp_path / "s"), settings, "success")["scenario:success"]
    assert found.status == MISSING and "return_url" in found.evidence
    assert "confirmPayment" in found.hint and "confirmCardPayment" not in found.hint


def test_if_required_without_a_return_url_is_partial(settings, tmp_path, chromium):
    found = scenario_items(v.pe_if_required_without_return_url(tmp_path / "s"), settings, "success")["scenario:success"]
    assert found.status == PARTIAL and "without confirmParams.return_url" in found.evidence


def test_a_return_page_that_shows_success_before_reading_the_status_is_caught(settings, tmp_path, chromium):
    found = scenario_items(v.pe_success_before_status(tmp_path / "s"), settings,
                           "generic_decline")["scenario:generic_decline"]
    assert found.status == MISSING and "redirect_status=failed" in found.evidence
    assert "retrievePaymentIntent" in found.hint


def test_a_checkout_session_priced_from_the_browser_is_caught(settings, tmp_path, chromium):
    """The page's own form post, recorded in the browser, sent again with a price: the session's amount_total
    must stay the catalog's (labkit.checks.checkout_api counts the Checkout Sessions a request makes)."""
    found = {i.check: i for i in run_checks(v.cs_priced_from_browser(tmp_path / "s"), settings, parts={"B"})}
    price = found["checkout:server_price"]
    assert price.status == MISSING and "price: 51" in price.evidence and "cs_test_" in price.evidence, price.evidence
    assert found["scenario:success"].status == EVIDENCED  # the mistake is the price, not the payment


def test_the_embedded_checkout_form_is_driven_too(settings, tmp_path, chromium):
    folder = v.checkout_embedded(tmp_path / "s")
    found = scenario_items(folder, settings, "success", "insufficient_funds", "3ds_fail")
    assert {k: i.status for k, i in found.items()} == {"scenario:success": EVIDENCED,
                                                       "scenario:insufficient_funds": EVIDENCED,
                                                       "scenario:3ds_fail": EVIDENCED}, found
    assert "embedded form" in found["scenario:success"].evidence


def test_the_checkout_session_variant_fulfils_from_checkout_session_completed(settings, tmp_path):
    import requests

    with Lab.start(settings, v.checkout_session(tmp_path / "s"), checkout=False, webhooks=True, strict=False,
                   notebook=False) as lab:
        session = lab.client.v1.checkout.sessions.create(params={
            "mode": "payment", "success_url": "http://127.0.0.1:9/ok", "metadata": {"product_name": "Safety Hard Hat"},
            "line_items": [{"price": "price_labkit_prod_001", "quantity": 1}]})
        requests.post(f"{settings.api_base}/v1/payment_pages/{session.id}/confirm",
                      data={"key": "pk_test_x", "payment_method": "pm_card_visa"}, timeout=10).raise_for_status()
        assert lab.backend.fake.wait_for_webhooks(10)
        pi = lab.client.v1.checkout.sessions.retrieve(session.id).payment_intent
        order = requests.get(lab.webhooks.url.replace("/webhook", "") + "/orders", timeout=10).json()[pi]
    assert order["checkout_session"] == session.id and order["status"] == "paid"
    assert "checkout.session.completed" in order["events"] and order["product"] == "Safety Hard Hat"


def test_page_facts_and_saq_a_eligibility_for_the_three_integrations(settings, chromium):
    from types import SimpleNamespace

    from labkit.backend import connect
    from labkit.variants import page_facts, saq_a_table

    with connect(settings.with_(chromium=chromium)) as backend:
        lab = SimpleNamespace(settings=backend.settings, backend=backend, client=backend.client)
        facts = page_facts(lab)
    card, pe, hosted = (facts[k] for k in ("card Element (handout)", "Payment Element", "Checkout Session (hosted)"))
    for f in (card, pe):
        assert f.card_typed_on == "a Stripe iframe in the shop's page" and f.card_origin == settings.api_base
        assert settings.api_base in f.scripts and settings.api_base in f.csp_script_src
    assert hosted.card_typed_on.startswith("Stripe's own page") and hosted.card_origin == settings.api_base
    assert hosted.scripts == [] and hosted.csp_script_src == ["'self'"]
    table = saq_a_table(facts)
    row = table.loc[[c for c in table.index if c.startswith("A script injected")][0]]
    assert row["Checkout Session (hosted)"].startswith("not in play")
    assert row["Payment Element"].startswith("to confirm") and "CSP limits scripts" in row["Payment Element"]
    assert all(v.startswith("yes") for v in table.loc[[c for c in table.index if "served by Stripe" in c][0]])


def test_part_d_evidence_types_into_the_payment_element_and_finds_its_card_fields(settings, tmp_path, chromium):
    from labkit.browser import load_scenarios
    from labkit.pci.browser_evidence import check_card_fields_origin, collect_browser_evidence

    success = [s for s in load_scenarios() if s.key == "success"]
    with Lab.start(settings, v.payment_element(tmp_path / "s"), checkout=True, webhooks=False, strict=False,
                   notebook=False) as lab:
        ev = collect_browser_evidence(lab.checkout.url, success, executable_path=chromium, timeout=15)
    assert "card typed into a Stripe iframe" in ev.notes
    assert check_card_fields_origin(ev).status == "pass"
