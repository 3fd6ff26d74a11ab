"""The solution's checkout_server.py (Part B): in-process with Flask's test client against the fake
Stripe, and as a student's file is run (its own process, Stripe.js rewritten to the fake's)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import requests
import stripe

from labkit.catalog import load_catalog
from labkit.settings import project_root
from labkit.student.runner import StudentServer
from tests.helpers import PUBLISHABLE_KEY, SECRET_KEY, import_student_app

ROOT = project_root(Path(__file__).parent)


@pytest.fixture(scope="module")
def app(fake):
    return import_student_app(ROOT / "checkout_server.py", fake.url)


@pytest.fixture()
def http(app):
    return app.test_client()


@pytest.fixture(scope="module")
def served(fake):
    """checkout_server.py served as the kit serves a student's file."""
    with StudentServer(ROOT / "checkout_server.py", env={"STRIPE_SECRET_KEY": SECRET_KEY,
                       "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY}, api_base=fake.url) as server:
        yield server


def post(http, body, content_type="application/json", **kw):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return http.post("/create-payment-intent", data=data, content_type=content_type, **kw)


def retrieve(client, secret):
    return client.v1.payment_intents.retrieve(secret.split("_secret_")[0])


# ---------------------------------------------------------------------- the page
def test_page_shows_the_chosen_product_and_only_the_publishable_key(http):
    resp = http.get("/?product=prod_002")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Cut-5 Safety Gloves" in html and "Pay $9.00" in html
    assert PUBLISHABLE_KEY in html
    assert SECRET_KEY not in html and "sk_test_" not in html
    config = json.loads(re.search(r'<script type="application/json" id="checkout-config">(.*?)</script>', html, re.S)[1])
    assert config["selected"] == "prod_002" and config["publishableKey"] == PUBLISHABLE_KEY
    assert {p: v["price"] for p, v in config["products"].items()} == {"prod_001": 1800, "prod_002": 900, "prod_003": 450}


def test_page_loads_stripe_js_from_stripe_and_has_no_inline_script(http):
    html = http.get("/").get_data(as_text=True)
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    for attrs, body in scripts:
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs  # CSP forbids inline code
    assert "Test mode" in html


def test_security_headers(http):
    resp = http.get("/")
    csp = dict(d.strip().split(" ", 1) for d in resp.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self' https://js.stripe.com"
    assert csp["frame-src"] == "https://js.stripe.com https://hooks.stripe.com"
    assert csp["connect-src"] == "'self' https://api.stripe.com"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert post(http, {"product_id": "prod_001"}).headers["X-Content-Type-Options"] == "nosniff"


def test_offline_the_kit_swaps_stripes_origins_for_the_fake(served, fake):
    resp = requests.get(served.url + "/", timeout=10)
    assert f'<script src="{fake.url}/v3/"></script>' in resp.text and "js.stripe.com" not in resp.text
    csp = resp.headers["Content-Security-Policy"]
    assert f"script-src 'self' {fake.url};" in csp and "stripe.com" not in csp
    assert requests.get(fake.url + "/v3/", timeout=10).status_code == 200


@pytest.mark.parametrize("query,status", [("?product=prod_999", 404), ("?quantity=0", 400), ("?quantity=abc", 400),
                                          ("?quantity=11", 400), ("?quantity=%C2%B2", 400),
                                          ("?quantity=" + "9" * 5000, 400), ("?quantity=%00", 400)])
def test_page_refuses_unknown_product_or_quantity_with_a_helpful_page(http, query, status):
    resp = http.get("/" + query)
    assert resp.status_code == status
    html = resp.get_data(as_text=True)
    assert "Choose a product" in html and 'href="?product=prod_001"' in html
    assert 'href="/?' not in html  # relative links: behind a Jupyter proxy (/user/you/proxy/5000/) they stay under it
    assert "Traceback" not in html


def test_static_files_and_unknown_paths(http):
    assert http.get("/static/checkout.js").status_code == 200
    assert http.get("/static/checkout.js").headers["Content-Type"].startswith(("text/javascript", "application/javascript"))
    resp = http.get("/static/../checkout_server.py")
    assert resp.status_code == 404 and resp.is_json
    resp = http.get("/nope")
    assert resp.status_code == 404 and resp.is_json
    resp = http.get("/create-payment-intent")
    assert resp.status_code == 405 and resp.is_json


# ---------------------------------------------------------------------- creating PaymentIntents
def test_create_payment_intent_prices_from_the_catalog_with_metadata(http, client):
    resp = post(http, {"product_id": "prod_001", "quantity": 3})
    assert resp.status_code == 200, resp.json
    assert resp.json["amount"] == 5400 and resp.json["currency"] == "usd"
    pi = retrieve(client, resp.json["clientSecret"])
    assert pi.amount == 5400 and pi.currency == "usd" and pi.status == "requires_payment_method"
    meta = pi.metadata.to_dict()
    assert meta["product_id"] == "prod_001" and meta["product_name"] == "Safety Hard Hat x3"
    assert meta["quantity"] == "3" and meta["integration"] == "lab09-itec442"
    assert pi.automatic_payment_methods.enabled is True


def test_handout_body_without_quantity_buys_one(http, client):
    resp = post(http, {"product_id": "prod_003"})
    assert resp.status_code == 200
    assert retrieve(client, resp.json["clientSecret"]).amount == 450


def test_cart_of_several_products(http, client):
    resp = post(http, {"items": [{"product_id": "prod_001", "quantity": 1}, {"product_id": "prod_002", "quantity": 2},
                                 {"product_id": "prod_003"}]})
    assert resp.status_code == 200, resp.json
    pi = retrieve(client, resp.json["clientSecret"])
    assert pi.amount == 1800 + 2 * 900 + 450
    assert pi.metadata["items"] == "prod_001:1,prod_002:2,prod_003:1"
    assert pi.metadata["product_name"] == "Safety Hard Hat, Cut-5 Safety Gloves x2, Safety Glasses"


def test_same_checkout_attempt_never_creates_two_payment_intents(http, client):
    body = {"product_id": "prod_002", "quantity": 2, "checkout_id": "attempt-0001-double-click"}
    first, second = post(http, body), post(http, body)
    assert first.status_code == second.status_code == 200
    assert first.json["clientSecret"] == second.json["clientSecret"]
    # a changed cart in the same attempt is a different payment, not an idempotency error
    third = post(http, {**body, "quantity": 3})
    assert third.status_code == 200 and third.json["clientSecret"] != first.json["clientSecret"]
    # without a checkout_id every request is its own attempt
    a, b = post(http, {"product_id": "prod_002"}), post(http, {"product_id": "prod_002"})
    assert a.json["clientSecret"] != b.json["clientSecret"]
    pi = retrieve(client, first.json["clientSecret"])
    assert pi.metadata["checkout_id"] == "attempt-0001-double-click"


BAD_BODIES = [
    # (body, content type, status, words the message must contain)
    (b"", "application/json", 400, "No request body"),
    ("product_id=prod_001", "application/x-www-form-urlencoded", 415, "application/json"),
    ('{"product_id": "prod_001"}', "text/plain", 415, "Content-Type must be application/json"),
    ("{not json", "application/json", 400, "not valid JSON"),
    # Nested too deep for Python <= 3.12's parser ("not valid JSON"); 3.13 parses it and the
    # list is refused as "not a JSON object": either way a 400 JSON error, so no words checked.
    ("[" * 3000 + "]" * 3000, "application/json", 400, ""),
    (b"\xff\xfe{}", "application/json", 400, "not UTF-8"),
    ('["prod_001"]', "application/json", 400, "JSON object"),
    ('"prod_001"', "application/json", 400, "JSON object"),
    ({}, "application/json", 400, "Missing product_id"),
    ({"product_id": "prod_999"}, "application/json", 404, "Unknown product 'prod_999'"),
    ({"product_id": 1}, "application/json", 400, "product_id must be"),
    ({"product_id": None}, "application/json", 400, "product_id must be"),
    ({"product_id": "prod_001", "quantity": 0}, "application/json", 400, "from 1 to 10"),
    ({"product_id": "prod_001", "quantity": -2}, "application/json", 400, "from 1 to 10"),
    ({"product_id": "prod_001", "quantity": 11}, "application/json", 400, "from 1 to 10"),
    ({"product_id": "prod_001", "quantity": 10**30}, "application/json", 400, "from 1 to 10"),
    ({"product_id": "prod_001", "quantity": 1.5}, "application/json", 400, "whole number"),
    ({"product_id": "prod_001", "quantity": "2"}, "application/json", 400, "whole number"),
    ({"product_id": "prod_001", "quantity": True}, "application/json", 400, "whole number"),
    ({"product_id": "prod_001", "quantity": None}, "application/json", 400, "whole number"),
    ({"product_id": "prod_001", "amount": 1}, "application/json", 400, "never takes an amount"),
    ({"product_id": "prod_001", "price": 1}, "application/json", 400, "never takes an amount"),
    ({"product_id": "prod_001", "coupon": "FREE"}, "application/json", 400, "Unknown field(s): coupon"),
    ({"product_id": "prod_001", "checkout_id": "x"}, "application/json", 400, "checkout_id must be"),
    ({"product_id": "prod_001", "checkout_id": "aaaaaaaa\n"}, "application/json", 400, "checkout_id must be"),
    ({"product_id": "prod_001", "items": []}, "application/json", 400, "not both"),
    ({"items": []}, "application/json", 400, "non-empty list"),
    ({"items": "prod_001"}, "application/json", 400, "non-empty list"),
    ({"items": ["prod_001"]}, "application/json", 400, "items[0] must be an object"),
    ({"items": [{"product_id": "prod_001", "price": 1}]}, "application/json", 400, "unknown field(s)"),
    ({"items": [{"product_id": "prod_001"}, {"product_id": "prod_001"}]}, "application/json", 400, "listed twice"),
    ({"items": [{"product_id": "prod_001"}] * 4}, "application/json", 400, "list each product once"),
    ({"items": [{"product_id": "prod_001", "quantity": 0}]}, "application/json", 400, "items[0].quantity"),
]


@pytest.mark.parametrize("body,ctype,status,words", BAD_BODIES, ids=[f"{b[2]}-{b[3][:24] or 'deeply nested'}" for b in BAD_BODIES])
def test_bad_input_gets_a_json_4xx_never_a_500(http, body, ctype, status, words):
    resp = post(http, body, content_type=ctype)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    assert words in resp.json["error"]
    assert "Traceback" not in resp.get_data(as_text=True)


def test_no_content_type_at_all(http):
    resp = http.post("/create-payment-intent", data=b'{"product_id": "prod_001"}')
    assert resp.status_code == 415 and "got none" in resp.json["error"]


def test_oversized_body_is_refused_with_413(http, app):
    body = json.dumps({"product_id": "prod_001", "pad": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
    resp = post(http, body)
    assert resp.status_code == 413 and resp.is_json and "too large" in resp.json["error"]


def test_oversized_chunked_body_is_refused_over_http(served):
    def chunks():
        yield b'{"product_id": "prod_001", "pad": "'
        for _ in range(20):
            yield b"x" * 1024
        yield b'"}'
    resp = requests.post(served.url + "/create-payment-intent", data=chunks(),
                         headers={"Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 413 and "too large" in resp.json()["error"]


def test_a_chunked_order_within_the_limit_arrives_whole(served):
    """No Content-Length (Transfer-Encoding: chunked): the app still gets the whole body, not an empty one."""
    def chunks():
        yield b'{"product_id": '
        yield b'"prod_002", "quantity": 3}'
    resp = requests.post(served.url + "/create-payment-intent", data=chunks(),
                         headers={"Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 200 and resp.json()["amount"] == 3 * 900, resp.text
    assert resp.headers["Server"] == "labkit-student"  # no product or version named


def test_amount_never_comes_from_the_client(http, client):
    resp = post(http, {"product_id": "prod_003", "quantity": 2, "amount": 1})
    assert resp.status_code == 400
    ok = post(http, {"product_id": "prod_003", "quantity": 2})
    assert retrieve(client, ok.json["clientSecret"]).amount == 900


def test_a_refused_key_is_a_502_that_names_no_key(http, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", "sk_test_wrong_shape!")
    resp = post(http, {"product_id": "prod_001"})
    assert resp.status_code == 502 and "secret key" in resp.json["error"]
    assert "wrong_shape" not in resp.get_data(as_text=True)


def test_unreachable_stripe_is_a_503_with_advice(http, monkeypatch):
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    resp = post(http, {"product_id": "prod_001"})
    assert resp.status_code == 503 and "Could not reach Stripe" in resp.json["error"]


# ---------------------------------------------------------------------- payment-success
def test_payment_success_reads_status_amount_currency_from_stripe(http, client):
    secret = post(http, {"product_id": "prod_001", "quantity": 2}).json["clientSecret"]
    pi_id = secret.split("_secret_")[0]
    client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_visa",
                                                     "return_url": "http://127.0.0.1:5000/payment-success"})
    resp = http.get(f"/payment-success?payment_intent={pi_id}")
    assert resp.status_code == 200
    assert resp.json == {"id": pi_id, "status": "succeeded", "amount": 36.0, "currency": "USD", "display": "$36.00",
                         "product": "Safety Hard Hat x2", "last_payment_error": None}


def test_payment_success_knows_zero_decimal_currencies(http, client):
    """500 JPY is 500 yen, not 5.00 (labkit.money's table of Stripe's zero-decimal currencies)."""
    pi = client.v1.payment_intents.create(params={"amount": 500, "currency": "jpy", "payment_method_types": ["card"]})
    body = http.get(f"/payment-success?payment_intent={pi.id}").json
    assert body["amount"] == 500 and body["currency"] == "JPY" and body["display"] == "500 JPY"


def test_payment_success_after_a_decline_shows_the_error(http, client):
    secret = post(http, {"product_id": "prod_002"}).json["clientSecret"]
    pi_id = secret.split("_secret_")[0]
    with pytest.raises(Exception):
        client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_visa_chargeDeclinedInsufficientFunds",
                                                         "return_url": "http://127.0.0.1:5000/payment-success"})
    body = http.get(f"/payment-success?payment_intent={pi_id}").json
    assert body["status"] == "requires_payment_method" and body["last_payment_error"] == "Your card has insufficient funds."


@pytest.mark.parametrize("query,status,words", [
    ("", 400, "payment_intent=pi_"),
    ("?payment_intent=", 400, "payment_intent=pi_"),
    ("?payment_intent=ch_123", 400, "payment_intent=pi_"),
    ("?payment_intent=pi_123/../../v1/charges", 400, "payment_intent=pi_"),
    ("?payment_intent=pi_%C2%B2", 400, "payment_intent=pi_"),
    ("?payment_intent=pi_doesnotexist", 404, "No such payment_intent"),
])
def test_payment_success_bad_ids(http, query, status, words):
    resp = http.get("/payment-success" + query)
    assert resp.status_code == status and resp.is_json and words in resp.json["error"]


def test_catalog_has_the_three_handout_products_with_a_source():
    cat = load_catalog()
    assert "handout" in cat["source"]
    assert {pid: (p["name"], p["price"], p["currency"]) for pid, p in cat["products"].items()} == {
        "prod_001": ("Safety Hard Hat", 1800, "usd"),
        "prod_002": ("Cut-5 Safety Gloves", 900, "usd"),
        "prod_003": ("Safety Glasses", 450, "usd"),
    }


# ---------------------------------------------------------------------- running it
@pytest.mark.parametrize("env,words", [
    ({}, "STRIPE_SECRET_KEY is not set"),
    ({"STRIPE_SECRET_KEY": SECRET_KEY}, "STRIPE_PUBLISHABLE_KEY is not set"),
    ({"STRIPE_SECRET_KEY": "sk_live_abc", "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY}, "is not a test key"),
])
def test_python_checkout_server_without_keys_says_what_to_set(tmp_path, env, words):
    """`python checkout_server.py` as in the handout, without keys: one line, no KeyError traceback."""
    import os
    import subprocess

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "LABKIT_"))}
    proc = subprocess.run([sys.executable, str(ROOT / "checkout_server.py")], cwd=tmp_path, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "labkit checkout" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "sk_live_abc" not in proc.stderr


def test_served_like_a_students_file(served):
    resp = requests.get(served.url + "/", timeout=10)
    assert resp.status_code == 200 and "FSU Safety Supply" in resp.text
    r = requests.post(served.url + "/create-payment-intent", json={"product_id": "prod_001"}, timeout=10)
    assert r.status_code == 200 and r.json()["clientSecret"].startswith("pi_")
    assert requests.get(served.url + "/", headers={"Host": "attacker.example"}, timeout=10).status_code == 400


def test_labkit_checkout_command_parses_port():
    import argparse

    from labkit.checkout import add_checkout_arguments

    parser = argparse.ArgumentParser()
    add_checkout_arguments(parser)
    assert parser.parse_args([]).port is None
    assert parser.parse_args(["--port", "5050"]).port == 5050


def test_try_requests_shows_what_the_server_answers_each_example(served):
    from labkit.catalog import EXAMPLE_REQUESTS, try_requests

    table = try_requests(served.url)
    assert list(table.index) == [label for label, _ in EXAMPLE_REQUESTS]
    assert table.loc["the handout's body", "HTTP"] == 200
    assert table.loc["two hats and glasses", "answer"].startswith("clientSecret of pi_")
    assert table.loc["unknown product", "HTTP"] == 404
    assert (table.drop(["the handout's body", "two hats and glasses"])["HTTP"] // 100 == 4).all()
