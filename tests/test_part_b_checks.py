"""Part B's checks of the student's server (labkit.checks.checkout_api) on made-up submissions
(tests/submissions/part_b.py): each mistake is found, each correct alternative gets full marks.

The browser runs cost 10-30 s a submission, so only two pages are paid on in Chromium (the manual-
confirmation flow and the handout's page, whose requests differ from the solution's); a mistake in the
server alone is probed with the request the solution's page sends (as those two tests record it)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from labkit.checks import scenarios as b
from labkit.checks import run
from labkit.checks.cart import Recorder, Request, fresh_value, learn
from labkit.checks.exposure import exposed
from labkit.catalog import load_catalog
from labkit.settings import Settings, project_root

from .submissions import builder
from .submissions.handout import handout_text
from .submissions.part_b import EXPECTED_B

ROOT = project_root(Path(__file__).parent)
CATALOG = load_catalog()
LAB_KEY = "sk_test_labkit_offline_fake_key"


# ---------------------------------------------------------------------- a secret in any form
KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16, max_size=40)
FORMS = [
    lambda k: f'const key = "{k}";',
    lambda k: '"' + '" + "'.join(k[i:i + 5] for i in range(0, len(k), 5)) + '"',
    lambda k: "".join(f"\\u{ord(c):04x}" for c in k),
    lambda k: "".join(f"&#{ord(c)};" for c in k),
    lambda k: base64.b64encode(k.encode()).decode(),
    lambda k: k.encode().hex(),
    lambda k: "String.fromCharCode(" + ", ".join(str(ord(c)) for c in k) + ")",
    lambda k: json.dumps({"cfg": {"k": k[::-1]}}),
]


@hsettings(max_examples=60, deadline=None)
@given(body=KEYS, prefix=st.sampled_from(["sk_test_", "rk_test_", "sk_live_"]), form=st.sampled_from(FORMS),
       around=st.text(max_size=40))
def test_a_secret_key_is_seen_in_any_form(body, prefix, form, around):
    key = prefix + body
    assert exposed(around + " " + form(key) + "\n" + around, []) is not None


@hsettings(max_examples=40, deadline=None)
@given(body=KEYS, form=st.sampled_from(FORMS))
def test_the_labs_own_key_is_seen_however_it_is_split(body, form):
    key = "sk_test_" + body
    joined = '["' + '", "'.join(key.split("_")) + '"].join("_")'
    assert exposed(joined, [key]) == "split into pieces"
    assert exposed(form(key), [key]) is not None


@hsettings(max_examples=60, deadline=None)
@given(text=st.text(max_size=300))
def test_no_secret_is_made_up(text):
    text = text.replace("sk_", "").replace("rk_", "").replace("whsec_", "")
    assert exposed(text, [LAB_KEY]) is None or "sktestlabkitofflinefakekey" in "".join(c for c in text if c.isalnum())


def test_the_solutions_page_and_script_and_placeholders_are_clean():
    page = (ROOT / "templates" / "checkout.html").read_text() + (ROOT / "static" / "checkout.js").read_text()
    assert exposed(page + " pk_test_labkit_offline_fake_key sk_test_YOUR_KEY_HERE", [LAB_KEY]) is None


# ---------------------------------------------------------------------- what the page sends
def _requests(*bodies: dict, path: str = "/create-payment-intent") -> list[Request]:
    return [Request(i + 1, path, "application/json", json.dumps(body)) for i, body in enumerate(bodies)]


@pytest.mark.parametrize("bodies,shape,qty,attempt", [
    ([{"items": [{"product_id": "prod_001", "quantity": 1}], "checkout_id": "a" * 12},
      {"items": [{"product_id": "prod_001", "quantity": 1}], "checkout_id": "b" * 12}], "lines", "quantity",
     [("checkout_id",)]),
    ([{"product_id": "prod_001"}, {"product_id": "prod_001"}], "single", None, []),
    ([{"cart": {"prod_001": 1}, "pm": "pm_abcdefgh"}], "keyed", None, [("pm",)]),
    ([{"order": {"lines": [{"sku": "prod_002", "qty": 2, "price": 900}]}, "total": 1800}], "lines", "qty", []),
    ([{"ids": ["prod_001", "prod_001"]}], "ids", None, []),
])
def test_the_pages_request_is_understood(bodies, shape, qty, attempt):
    order = learn(_requests(*bodies), CATALOG)
    assert order.shape == shape and order.qty_key == qty and order.attempt == attempt
    body = order.cart([("prod_001", 1), ("prod_002", 2), ("prod_003", 1)] if order.multi else [("prod_003", 1)],
                      CATALOG, lambda v: fresh_value(v, lambda: "pm_new12345"))
    lines = order.lines(body)
    assert lines == ([("prod_001", 1), ("prod_002", 2), ("prod_003", 1)] if order.multi else [("prod_003", 1)])
    if "total" in body:  # a total the page sends honestly follows the cart
        assert body["total"] == 4050 and body["order"]["lines"][1]["price"] == 900
    for path in order.attempt:
        assert body[path[0]] != bodies[0][path[0]]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.sampled_from(["prod_001", "prod_002", "usd", "x", "pm_abcdefgh", "3f1c2a9e-0d4b-4c3e-9a51-7e2b1c0d9f01"]),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["items", "product_id", "qty", "id", "prod_001", "price", "total", "currency", "checkout_id"]),
        c, max_size=4), max_leaves=12)


@hsettings(max_examples=300, deadline=None)
@given(first=JSON, second=JSON)
def test_any_request_a_page_sends_is_read_and_rewritten_without_error(first, second):
    """Student pages send anything: learning its shape and writing carts and tampered copies never raises."""
    from labkit.checks.checkout_api import Probe, _quantity_cases, _tampered

    order = learn(_requests(first, second), CATALOG)
    probe = Probe("http://127.0.0.1:1", None, order, CATALOG, lambda: "pm_new12345")
    if order.shape != "none":
        n = 2 if order.has_quantity else 1  # a page that writes no quantity buys one of each
        lines = [("prod_001", 1), ("prod_002", n), ("prod_003", 1)] if order.multi else [("prod_002", n)]
        assert order.lines(order.cart(lines, CATALOG, probe.fresh)) == lines
    for _label, body in _tampered(probe):
        order.encode(body)
    for _label, body, _ignored in _quantity_cases(probe):
        order.encode(body)


def test_nothing_recorded_means_the_handouts_request():
    order = learn([], CATALOG)
    assert not order.recorded and order.shape == "single" and order.lines() == [("prod_001", 1)]


# ---------------------------------------------------------------------- made-up submissions, graded
@pytest.fixture(scope="module")
def settings(fake, tmp_path_factory):
    return Settings(backend="fake", api_base=fake.url, root=ROOT, db_path=tmp_path_factory.mktemp("b") / "kit.db",
                    out_dir=tmp_path_factory.mktemp("out"))


def grade_b(folder: Path, settings: Settings, page: Recorder | None = None) -> tuple[dict, Recorder]:
    """Part B's statuses for ``folder``: the browser runs and the server checks, or (``page``: what a
    page sent before) the server checks alone with that page's requests."""
    from labkit.lab import Lab

    lab = Lab.start(settings, folder, checkout=True, webhooks=False, strict=False, notebook=False)
    try:
        assert "checkout" not in lab.errors, lab.errors
        srv = lab.checkout
        recorder = Recorder(srv.url)
        items = []
        if page is None:
            items = b.scenarios(srv.url, lab.client, recorder=recorder)
        else:
            recorder.posts, recorder.double_click = list(page.posts), page.double_click
        items = run.server_checks(lab, srv, recorder) + items
    finally:
        lab.close()
    return {i.check: i for i in items}, recorder


def assert_graded(kind: str, got: dict) -> None:
    for check, status in EXPECTED_B[kind][1].items():
        assert got[check].status == status, (kind, check, got[check].evidence)
        if status == "missing":
            assert got[check].hint, (kind, check)


def solution_page(**extra) -> Recorder:
    """What the solution's page sends (seen in the browser: the cart and one checkout id per attempt)."""
    page = Recorder("http://127.0.0.1:1")
    page.posts = _requests(*({"items": [{"product_id": "prod_001", "quantity": 1}],
                              "checkout_id": f"3f1c2a9e-0d4b-4c3e-9a51-7e2b1c0d9f{n:02d}", **extra} for n in (1, 2)))
    return page


def test_the_solution_gets_every_server_mark(settings, tmp_path):
    builder.solution(tmp_path / "s")
    got, _ = grade_b(tmp_path / "s", settings, page=solution_page())
    assert {c: i.status for c, i in got.items()} == {c: "evidenced" for c in run.B_CHECKS[:5]}
    assert "4050 usd" in got["checkout:cart_total"].evidence


SERVER_ONLY = ["ignores_cart", "bad_quantities", "no_idempotency_key", "secret_in_config", "secret_in_script",
               "currency_from_browser", "stripe_client", "ignores_unknown_fields", "charges_total_cents",
               "hangs_on_zero"]


@pytest.mark.parametrize("kind", SERVER_ONLY)
def test_a_server_mistake_or_alternative(kind, settings, tmp_path):
    EXPECTED_B[kind][0](tmp_path / kind)
    sends_total = kind == "charges_total_cents"  # its page sends the total it shows
    got, _ = grade_b(tmp_path / kind, settings, page=solution_page(**({"total_cents": 1800} if sends_total else {})))
    assert_graded(kind, got)
    if kind == "ignores_cart":  # the evidence names what was sent and what was charged; the hint the cause
        cart = got["checkout:cart_total"]
        assert "prod_001×1 + prod_002×2 + prod_003×1" in cart.evidence and "of 1800 usd" in cart.evidence
        assert "catalog total 4050" in cart.evidence and "first product" in cart.hint
        assert "does not read the quantities" in got["checkout:quantities"].hint
    if kind == "bad_quantities":
        quantity = got["checkout:quantities"]
        assert "quantity 0: HTTP 200" in quantity.evidence and "quantity 2.5: HTTP 200" in quantity.evidence
        assert "whole number" in quantity.hint
    if kind == "currency_from_browser":
        price = got["checkout:server_price"]
        assert "currency: 'eur'" in price.evidence and "1800 eur" in price.evidence
        assert "currency from the catalog" in price.hint
    if kind == "charges_total_cents":
        assert "the page's total_cents: 51" in got["checkout:server_price"].evidence
    if kind == "hangs_on_zero":  # one timeout, said once: the probes after it are not sent
        assert "quantity 0: no answer within" in got["checkout:quantities"].evidence
        assert got["checkout:server_price"].evidence.startswith("not tried: the server did not answer")
    if kind == "secret_in_script":
        assert "/static/checkout.js (split into pieces)" in got["checkout:no_secret"].evidence


BROWSER = ["manual_confirmation"] + \
    (["handout_with_attempt_id"] if handout_text() is not None else [])


@pytest.mark.slow
@pytest.mark.parametrize("kind", BROWSER)
def test_a_page_of_its_own_is_graded_by_what_it_sends(kind, settings, chromium, tmp_path):
    """Paid on in Chromium: the requests the page sends are recorded and the checks send that shape."""
    EXPECTED_B[kind][0](tmp_path / kind)
    got, recorder = grade_b(tmp_path / kind, settings)
    assert_graded(kind, got)
    assert len({r.page for r in recorder.posts}) == 6  # an order request per page: five scenarios, one double click
    assert recorder.double_click == 1
    if kind == "manual_confirmation":
        assert "payment_method_id" in got["checkout:idempotency"].evidence
    else:  # the handout's page: one product, no quantity, its own attempt id
        assert "orders of one product" in got["checkout:cart_total"].evidence
        assert "the page's attempt" in got["checkout:idempotency"].evidence


@pytest.mark.parametrize("double_click,status", [(2, "missing"), (None, "missing"), (1, "evidenced")])
def test_a_page_without_an_attempt_id_is_judged_by_what_a_double_click_does(settings, tmp_path, double_click, status):
    """The handout-style page sends only the product and its server keys nothing: the same request twice makes
    two PaymentIntents. Safe only if the page itself lets an attempt be sent once (Pay disabled while paying)."""
    builder.handout_style_fixed(tmp_path / "h")
    page = Recorder("http://127.0.0.1:1")
    page.posts = _requests({"product_id": "prod_001"}, {"product_id": "prod_001"})
    page.double_click = double_click
    got, _ = grade_b(tmp_path / "h", settings, page=page)
    assert got["checkout:idempotency"].status == status
    if status == "missing":
        assert "crypto.randomUUID()" in got["checkout:idempotency"].hint
    else:
        assert "a double click on Pay made one PaymentIntent" in got["checkout:idempotency"].evidence
    assert got["checkout:cart_total"].status == got["checkout:server_price"].status == "evidenced"
    assert got["checkout:quantities"].status == "evidenced"  # it sends no quantity; one sent anyway is ignored
