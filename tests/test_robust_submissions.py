"""Issue 30 (items 1-4): the checks read what students really hand in and pay on their page as a person would.

Made-up submissions in tests/submissions/robust.py: files saved on Windows, a module-level app.run(),
a page copied from Stripe's card sample with a wallet button, a receipt page after paying, a success
message with "not" in it, a JavaScript syntax error and a missing template. The browser tests pay
only the scenarios each case needs (about 5 s each), on the session's fake Stripe.
"""
from __future__ import annotations

import codecs

import pytest
import requests
from hypothesis import assume, given, settings as hsettings, strategies as st

from labkit import answers
from labkit.browser import CheckoutBrowser, in_worker_thread, load_scenarios
from labkit.checks import outcome
from labkit.checks.scenarios import judge
from labkit.checks.items import EVIDENCED, MISSING
from labkit.checks.items import clip
from labkit.checks.pages import latest_payment_intent, pay_on_page, payment_intent_ids, stripe_messages_for
from labkit.files import UnreadableFile, decode_text, read_text
from labkit.settings import Settings, project_root

from .submissions import robust
from .submissions.handout import handout_text

SCENARIOS = {s.key: s for s in load_scenarios()}
# the kit's handout-style code always; the handout's own code too when it is at hand
BASES = ["handout_style"] + (["handout"] if handout_text() is not None else [])


# ---------------------------------------------------------------- reading files in any encoding
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"]


@hsettings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="cp1252", blacklist_categories=("Cs",), blacklist_characters="\r\x00"),
               max_size=200).map(lambda t: "# " + t),
       st.sampled_from(ENCODINGS), st.booleans())
def test_any_common_encoding_and_line_end_reads_the_same(text, encoding, crlf):
    raw = (text.replace("\n", "\r\n") if crlf else text).encode(encoding)
    if encoding == "utf-16-le":
        raw = codecs.BOM_UTF16_LE + raw  # Notepad's "Unicode"
    if encoding == "cp1252" and not text.isascii():
        try:  # bytes that are also valid UTF-8 ("Ã©") read as UTF-8, as every editor would
            raw.decode("utf-8")
            assume(False)
        except UnicodeDecodeError:
            pass
    assert decode_text(raw) == text


@pytest.mark.parametrize("raw, what", [(b"PK\x03\x04\x14\x00" + bytes(range(256)), "zip or Word"),
                                       (b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n\x00\x01", "PDF"),
                                       (b"\x00\x01\x02\x03\xff\xfe\xfd", "not UTF-8 or UTF-16 text"), (b"ab\x00\x00\x81\xff" * 9, "binary data")])
def test_what_is_not_text_is_one_line_saying_how_to_save_it(tmp_path, raw, what):
    (tmp_path / "part_e.md").write_bytes(raw)
    with pytest.raises(UnreadableFile) as info:
        read_text(tmp_path / "part_e.md", "answers/part_e.md")
    message = str(info.value)
    assert "\n" not in message and message.startswith("answers/part_e.md is") and what in message
    assert "UTF-8" in message


def test_windows_answers_are_read_and_broken_ones_fail_only_their_own_checks(tmp_path):
    from labkit.checks.run import writing_items

    settings = Settings(answers_dir=tmp_path / "windows" / "answers")
    robust.windows_files(tmp_path / "windows")
    got = {i.check: i for i in writing_items(settings, {"D", "E"})}
    assert got["pci:answered"].status == EVIDENCED and got["pci:gaps"].status == EVIDENCED, got["pci:answered"]
    assert got["altpay:words"].status == EVIDENCED and got["altpay:figures"].status == EVIDENCED
    assert "café-style" in answers.load_part_e(settings)

    settings = Settings(answers_dir=tmp_path / "broken" / "answers")
    robust.broken_answers(tmp_path / "broken")
    got = {i.check: i for i in writing_items(settings, {"D", "E"})}
    assert got["pci:answered"].status == MISSING and "pci.json is not valid JSON (line" in got["pci:answered"].evidence
    assert "zip or Word" in got["altpay:words"].evidence and "UTF-8" in got["altpay:words"].evidence


def test_an_exception_in_one_check_fails_that_item_alone(tmp_path, monkeypatch):
    from labkit.checks import run, writing

    robust.windows_files(tmp_path)
    monkeypatch.setattr(writing, "altpay_figures", lambda text: 1 / 0)
    got = {i.check: i for i in run.writing_items(Settings(answers_dir=tmp_path / "answers"), {"D", "E"})}
    assert got["altpay:figures"].status == MISSING
    assert got["altpay:figures"].evidence == "the check could not finish: ZeroDivisionError: division by zero"
    assert got["altpay:words"].status == EVIDENCED and got["pci:answered"].status == EVIDENCED


# ---------------------------------------------------------------- the outcome classifier
@pytest.mark.parametrize("text, verdict", [
    ("✓ Payment succeeded! ID: pi_3Nabc123456", "success"),
    ("Thanks! Your payment went through. Please do not pay again or refresh this page.", "success"),
    ("Do not close this window: your payment of $18.00 was received.", "success"),
    ("Order confirmed. You will not be charged twice.", "success"),
    ("Success! No errors.", "success"),
    ("Payment failed — Your card was declined.", "failure"),
    ("Sorry, that did not work: Your card has insufficient funds.", "failure"),
    ("Your payment could not be processed.", "failure"),
    ("Payment was not successful", "failure"),
    ("No payment received", "failure"),
    ("An error occurred while processing your card. Try again in a little bit.", "failure"),
    ("Your card does not support this type of purchase.", "failure"),
    ("Your card's security code is incorrect.", "failure"),
    ("Your card has expired.", "failure"),
    ("Processing…", "unclear"),
    ("pi_3Nabc123456", "unclear"),
])
def test_the_page_is_read_sentence_by_sentence_with_negation(text, verdict):
    assert outcome.classify(text)[0] == verdict


def test_stripe_s_own_decline_message_is_a_failure_whatever_else_the_page_says():
    for key in ("insufficient_funds", "generic_decline", "3ds_fail"):
        for message in stripe_messages_for(SCENARIOS[key]):
            shown = f"All done! {message}"
            assert outcome.classify(shown, stripe_messages=[message]) == ("failure", "Stripe's decline message")


@hsettings(max_examples=150, deadline=None)
@given(st.sampled_from(["Payment succeeded.", "Thank you for your order!", "Payment received.", "✓ Paid"]),
       st.sampled_from(["Please do not pay again.", "Do not refresh this page.", "You do not need to do anything else.",
                        "Don't close the tab.", ""]),
       st.sampled_from(["", "success", "alert alert-success", "result"]))
def test_a_success_with_not_in_it_stays_a_success(headline, instruction, cls):
    assert outcome.classify(f"{headline} {instruction}", classes=cls)[0] == "success"


@hsettings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_clip_never_cuts_a_word(text):
    cut = clip(text, 40)
    words = " ".join(text.split()).split(" ")
    assert len(cut) <= 40
    if cut.endswith("…"):
        assert all(w in words for w in cut[:-1].split())


# ---------------------------------------------------------------- the student's server starts as under flask run
@pytest.fixture()
def settings(fake, tmp_path):
    return Settings(backend="fake", api_base=fake.url, root=project_root(), db_path=tmp_path / "kit.db",
                    out_dir=tmp_path / "out", start_timeout=8.0)


def _checkout(folder, settings):
    from labkit.lab import Lab

    return Lab.start(settings, folder, webhooks=False, strict=True, notebook=False)


@pytest.mark.parametrize("base", BASES)
def test_a_module_level_app_run_does_not_block_the_start(tmp_path, settings, base):
    robust.module_level_run(tmp_path, base)
    with _checkout(tmp_path, settings) as lab:
        assert requests.get(lab.checkout.url + "/", timeout=10).status_code == 200
        assert lab.checkout.debug_requested  # app.run(debug=True) is noted, and debug stays off


FACTORY = """from flask import Flask


def create_app():
    web = Flask(__name__)

    @web.get("/")
    def index():
        return "the shop"

    return web


if __name__ == "__main__":
    create_app().run(debug=True)
"""


def test_an_app_factory_is_found_as_flask_run_finds_it_and_no_app_is_one_line(tmp_path):
    from labkit.student.runner import StudentServer, StudentServerError

    (tmp_path / "checkout_server.py").write_text(FACTORY, encoding="utf-8")
    (tmp_path / "webhook_handler.py").write_text("import flask\n", encoding="utf-8")
    with StudentServer(tmp_path / "checkout_server.py", env={}, start_timeout=8) as server:
        assert requests.get(server.url + "/", timeout=10).text == "the shop"
    with pytest.raises(StudentServerError) as info:
        StudentServer(tmp_path / "webhook_handler.py", env={}, start_timeout=8).start()
    assert "\n" not in str(info.value) and "defines no Flask `app`" in str(info.value)


def test_a_server_saved_as_utf16_or_cp1252_runs_and_serves_its_page(tmp_path, settings):
    robust.windows_files(tmp_path)
    with _checkout(tmp_path, settings) as lab:
        page = requests.get(lab.checkout.url + "/", timeout=10)
        script = requests.get(lab.checkout.url + "/static/checkout.js", timeout=10)
    assert page.status_code == 200 and "Paiement sécurisé" in page.text  # a Windows-1252 template
    assert script.content.startswith(b"// The checkout page") and "charset=utf-8" in script.headers["Content-Type"]


# ---------------------------------------------------------------- paying like a person (real Chromium)
def _pay(folder, settings, keys):
    """Pay the given scenarios on the submission's page; the judged items, by check."""
    lab = _checkout(folder, settings)

    def work():
        out = {}
        with CheckoutBrowser(lab.checkout.url, timeout=12) as browser:
            for key in keys:
                sc = SCENARIOS[key]
                known = payment_intent_ids(lab.client)
                run = pay_on_page(browser, lab.checkout.url, sc, timeout=12, stripe_messages=stripe_messages_for(sc))
                pi = latest_payment_intent(lab.client, known)
                out[key] = judge(run, pi, sc, lab.checkout.log_text())
        return out

    try:
        return in_worker_thread(work)
    finally:
        lab.close()


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("kind", ["stripe_sample_page", "receipt_page", "success_says_not", "alert_outcome"])
def test_correct_pages_written_the_way_students_write_get_full_marks(chromium, tmp_path, settings, kind, base):
    getattr(robust, kind)(tmp_path, base)
    got = _pay(tmp_path, settings, ["success", "insufficient_funds"])
    for key, found in got.items():
        assert found.status == EVIDENCED, (kind, key, found.evidence)
    if kind == "receipt_page":
        assert "the page it went to (/success" in got["success"].evidence


def test_a_javascript_syntax_error_is_named_with_its_file_and_line(chromium, tmp_path, settings):
    robust.js_syntax_error(tmp_path)
    found = _pay(tmp_path, settings, ["success"])["success"]
    assert found.status == MISSING
    assert "page error: static/checkout.js:" in found.evidence and "SyntaxError" in found.evidence
    assert "static/checkout.js line" in found.hint and "confirmCardPayment" not in found.hint


def test_a_missing_template_is_named_from_the_server_s_500(chromium, tmp_path, settings):
    robust.missing_template(tmp_path)
    found = _pay(tmp_path, settings, ["success"])["success"]
    assert found.status == MISSING and "HTTP 500" in found.evidence and "TemplateNotFound: checkout.html" in found.evidence
    assert "templates/checkout.html" in found.hint and "confirmCardPayment" not in found.hint


# ---------------------------------------------------------------- the fake Stripe.js answers as Stripe does offline
def test_fake_stripe_js_has_no_wallet_offline_and_names_what_it_lacks_in_one_line(chromium, fake):
    script = """async () => {
      const stripe = Stripe("pk_test_labkit_tests_fake_key");
      const pr = stripe.paymentRequest({country: "US", currency: "usd", total: {label: "Hat", amount: 1800}});
      const elements = stripe.elements();
      const button = elements.create("paymentRequestButton", {paymentRequest: pr});
      button.mount("#pr"); button.on("click", () => {}); button.unmount(); button.destroy();
      const card = elements.create("card"); card.mount("#card"); card.focus(); card.blur(); card.clear();
      card.update({style: {base: {fontSize: "18px"}}});
      const token = await stripe.createToken(card);
      await stripe.createToken(card);
      const split = elements.create("cardNumber");
      return {wallet: await pr.canMakePayment(), token: token.error.code, split: typeof split.mount};
    }"""

    def work():
        with CheckoutBrowser(fake.url, executable_path=chromium) as browser:  # the kit's kept Chromium
            page = browser.new_page()
            page.set_content(f"<div id=pr></div><div id=card></div><script src='{fake.url}/v3/'></script>")
            return page.evaluate(script), list(page.labkit_errors)

    got, errors = in_worker_thread(work)
    assert got == {"wallet": None, "token": "labkit_not_implemented", "split": "function"}
    notices = [e for e in errors if "labkit fake Stripe.js" in e]
    assert len(notices) == 2, errors  # once per missing method, each one line
    assert any("stripe.createToken() is not implemented offline" in e for e in notices)
    assert any("elements.create('cardNumber') is not implemented offline" in e for e in notices)
    assert all("\n" not in e for e in notices)


def test_a_cp1252_server_that_cannot_start_says_why_in_one_line(tmp_path):
    from labkit.student.runner import StudentServer, StudentServerError

    (tmp_path / "checkout_server.py").write_bytes('# Café Élan\r\nimport os\r\nKEY = os.environ["SHOP_KEY"]\r\n'
                                                  .encode("cp1252"))
    with pytest.raises(StudentServerError) as info:
        StudentServer(tmp_path / "checkout_server.py", env={}, start_timeout=8).start()
    assert str(info.value) == ("checkout_server.py did not start: import error: checkout_server.py line 3: "
                               "environment variable 'SHOP_KEY' is not set")


def test_a_lab_that_cannot_start_fails_parts_a_to_c_and_still_reads_the_answers(tmp_path, monkeypatch):
    from labkit.checks.run import run_checks
    from labkit.lab import Lab

    robust.windows_files(tmp_path)

    def broken(*args, **kwargs):
        raise OSError("no free port")

    monkeypatch.setattr(Lab, "start", broken)
    got = {i.check: i for i in run_checks(tmp_path, Settings(answers_dir=tmp_path / "answers"), parts={"B", "D"})}
    assert got["scenario:success"].status == MISSING
    assert got["scenario:success"].evidence == "the lab could not start: OSError: no free port"
    assert got["pci:answered"].status == EVIDENCED
