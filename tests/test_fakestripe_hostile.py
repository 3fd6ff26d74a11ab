"""The fake Stripe survives hostile input (issue 13, items 12 and 14): it authenticates before
decoding, keeps within limits, never answers 5xx, refuses web pages on secret-key endpoints
and foreign Host headers, and one bad webhook endpoint never holds up another."""
from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
import requests
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode

from labkit.fakestripe import FakeStripe
from labkit.fakestripe.errors import StripeError
from labkit.fakestripe.forms import MAX_DEPTH, decode_form, parse_pairs
from labkit.kit_server import BackgroundServer
from tests.helpers import PUBLISHABLE_KEY, SECRET_KEY

AUTH = {"Authorization": f"Bearer {SECRET_KEY}"}


def post(fake, path, body, headers=AUTH):
    return requests.post(fake.url + path, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", **headers}, timeout=30)


# 12: authenticate first, limits, no 5xx -------------------------------------------------------
def test_parameters_are_not_decoded_before_the_key_is_checked(fake):
    resp = requests.get(fake.url + "/v1/balance?a[30000000]=x", timeout=30)
    assert resp.status_code == 401
    resp = requests.get(fake.url + "/v1/balance?a[30000000]=x", headers=AUTH, timeout=30)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "parameter_unknown"


@pytest.mark.parametrize("body, param", [
    ("amount=--100&currency=usd", "amount"),
    ("amount=%C2%B2&currency=usd", "amount"),                      # "²"
    ("amount=%D9%A1%D9%A0%D9%A0&currency=usd", "amount"),          # Arabic-Indic 100
    ("amount=" + "9" * 5000 + "&currency=usd", "amount"),
    ("amount[]=1&currency=usd", "amount"),
    ("amount=1800&currency[a]=usd", "currency"),
])
def test_bad_numbers_and_shapes_are_400s(fake, body, param):
    resp = post(fake, "/v1/payment_intents", body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["type"] == "invalid_request_error" and resp.json()["error"].get("param") == param


def test_ids_sent_as_hashes_and_deep_nesting_are_400s(fake):
    resp = requests.get(fake.url + "/v1/payment_intents?starting_after[a]=b", headers=AUTH, timeout=30)
    assert resp.status_code == 400
    for levels in (6, 40, 500):
        deep = "shipping" + "[a]" * levels + "=x"
        resp = post(fake, "/v1/payment_intents", "amount=1800&currency=usd&" + deep)
        assert resp.status_code == 400 and resp.json()["error"]["type"] == "invalid_request_error"


def test_too_many_parameters_and_too_large_a_body(fake):
    many = "&".join(f"metadata[k{i}]=v" for i in range(1500))
    assert post(fake, "/v1/payment_intents", many).status_code == 400
    huge = "description=" + "x" * (300 * 1024)
    assert post(fake, "/v1/payment_intents", huge).status_code == 413


def test_metadata_limits_are_stripes(client):
    for bad in ({f"k{i}": "v" for i in range(51)}, {"k" * 41: "v"}, {"k": "v" * 501}):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd", "metadata": bad})


# hypothesis: the form decoder and the parameter validation ----------------------------------
# any name but metadata: metadata is a hash of the caller's keys at any depth, so metadata[0] stays the key "0"
_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(lambda n: n != "metadata")
_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_tree = st.recursive(_values, lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=4),
                                                      st.dictionaries(_names, inner, min_size=1, max_size=4)),
                     max_leaves=12)


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()))
    if isinstance(value, list):
        return 1 + max(map(_depth, value))
    return 0


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_names, _tree, min_size=1, max_size=5))
def test_what_the_stripe_package_encodes_decodes_back(params):
    pairs = [(k, str(v)) for k, v in _api_encode(params)]
    if max(map(_depth, params.values())) + 1 > MAX_DEPTH:
        with pytest.raises(StripeError) as info:
            decode_form(pairs)
        assert info.value.status == 400
        return
    assert decode_form(parse_pairs(urlencode(pairs))) == params


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_any_query_string_decodes_or_is_a_400(text):
    try:
        result = decode_form(parse_pairs(text))
    except StripeError as exc:
        assert exc.status == 400 and exc.type == "invalid_request_error"
    else:
        assert isinstance(result, dict)


_keys = st.builds(lambda name, shape: name + shape,
                  st.sampled_from(["amount", "currency", "metadata", "confirm", "payment_method", "expand",
                                   "automatic_payment_methods", "capture_method", "limit", "starting_after",
                                   "payment_method_data", "return_url", "shipping", "created", "description",
                                   "off_session", "query", "url", "enabled_events", "types", "payment_intent"]),
                  st.sampled_from(["", "", "[]", "[0]", "[a]", "[enabled]", "[type]", "[card][number]", "[gt]",
                                   "[0][a]", "[a][b][c]"]))
_any_value = st.one_of(st.text(max_size=12), st.integers(-10**20, 10**20).map(str),
                       st.sampled_from(["true", "false", "pm_card_visa", "usd", "manual", "1800", "", "[]"]))


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        s.trust_env = False
        s.headers.update(AUTH)
        yield s


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/v1/payment_intents", "/v1/refunds", "/v1/payment_methods", "/v1/webhook_endpoints",
                             "/v1/charges", "/v1/events", "/v1/payment_intents/search", "/v1/balance",
                             "/v1/payment_intents/pi_x/confirm", "/v1/charges/ch_x/refunds"]),
       method=st.sampled_from(["GET", "POST"]),
       pairs=st.lists(st.tuples(_keys, _any_value), max_size=8))
def test_no_parameters_make_the_fake_answer_5xx(fake, session, path, method, pairs):
    body = urlencode(pairs)
    if method == "GET":
        resp = session.get(f"{fake.url}{path}?{body}", timeout=30)
    else:
        resp = session.post(fake.url + path, data=body, timeout=30,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert resp.json()["error"]["type"] in ("invalid_request_error", "card_error", "idempotency_error")


# 14: web pages, Host, redirects, slow endpoints ----------------------------------------------
def test_web_pages_may_not_use_secret_key_endpoints(fake):
    evil = {"Origin": "http://evil.example"}
    pre = requests.options(fake.url + "/v1/payment_intents", headers={**evil, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 403 and "Access-Control-Allow-Origin" not in pre.headers
    resp = requests.get(fake.url + "/v1/payment_intents", headers={**AUTH, **evil}, timeout=30)
    assert resp.status_code == 403 and "Access-Control-Allow-Origin" not in resp.headers
    refund = post(fake, "/v1/refunds", "payment_intent=pi_x", headers={**AUTH, **evil})
    assert refund.status_code == 403


def test_stripe_js_endpoints_answer_web_pages_with_the_publishable_key(fake, client):
    pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"})
    page = {"Origin": "http://localhost:5000"}
    pre = requests.options(f"{fake.url}/v1/payment_intents/{pi.id}/confirm",
                           headers={**page, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
    resp = requests.get(f"{fake.url}/v1/payment_intents/{pi.id}", headers=page, timeout=30,
                        params={"key": PUBLISHABLE_KEY, "client_secret": pi.client_secret})
    assert resp.status_code == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    with_secret = requests.get(f"{fake.url}/v1/payment_intents/{pi.id}", headers={**page, **AUTH}, timeout=30)
    assert with_secret.status_code == 403


def test_foreign_host_headers_are_refused(fake):
    resp = requests.get(fake.url + "/v1/balance", headers={**AUTH, "Host": "rebound.evil.example"}, timeout=30)
    assert resp.status_code == 400
    assert requests.get(fake.url + "/v1/balance", headers={**AUTH, "Host": "localhost"}, timeout=30).ok


def test_allowed_hosts_extend_the_host_check():
    with FakeStripe(allowed_hosts=("lab.example.edu",)) as fake:
        resp = requests.get(fake.url + "/v1/balance", headers={**AUTH, "Host": "lab.example.edu"}, timeout=30)
        assert resp.status_code == 200


def test_a_redirect_is_a_failed_delivery_and_is_not_followed(fake, client):
    followed = []

    def redirecting(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if environ["PATH_INFO"] == "/moved":  # where the redirect points: it would answer 200
            followed.append(environ["REQUEST_METHOD"])
            start_response("200 OK", [("Content-Length", "0")])
        else:
            start_response("302 Found", [("Location", "/moved"), ("Content-Length", "0")])
        return [b""]

    with BackgroundServer(redirecting, name="redirecting endpoint") as srv:
        we = client.v1.webhook_endpoints.create(params={"url": srv.url + "/hook", "enabled_events": ["charge.failed"]})
        try:
            with pytest.raises(stripe.CardError):
                client.v1.payment_intents.create(params={
                    "amount": 1800, "currency": "usd", "payment_method_types": ["card"], "confirm": True,
                    "payment_method": "pm_card_visa_chargeDeclined"})
            assert fake.wait_for_webhooks(timeout=20)
            mine = [d for d in fake.deliveries() if d["endpoint"] == we.id]
            assert mine and mine[0]["status"] == 302 and "retry" in mine[0]["outcome"]
            assert followed == []  # the redirect was not followed
        finally:
            client.v1.webhook_endpoints.delete(we.id)


def test_endpoints_that_never_answer_do_not_hold_up_a_healthy_one(receiver):
    release = threading.Event()

    def hung(environ, start_response):
        release.wait(60)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    with FakeStripe(delivery_timeout=60) as fake, BackgroundServer(hung, name="hung", threads=8) as slow:
        client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake.url}, max_network_retries=0)
        try:
            for n in range(4):
                client.v1.webhook_endpoints.create(params={"url": f"{slow.url}/hook{n}", "enabled_events": ["*"]})
            client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
            pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"})
            # The healthy endpoint gets the event while the four others are still hanging.
            assert receiver.wait_for(lambda: any(e["data"]["object"]["id"] == pi.id for e in receiver.events()),
                                     timeout=30)
            assert not release.is_set()
        finally:
            release.set()
