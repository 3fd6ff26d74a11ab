"""labkit.loopback_http (the kit's kept-alive client) and labkit.stripe_transport (the ``stripe``
package over it, offline): one connection reused, a connection the server closed is replaced, and
the real ``stripe`` package works through it against the fake, with a dead proxy in the environment."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import stripe

from labkit.loopback_http import KeptAlive
from labkit.stripe_transport import LoopbackHTTPClient
from labkit.student.runner import StudentServer, free_port
from tests.helpers import PUBLISHABLE_KEY, SECRET_KEY


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, int]] = []  # (path, client port) per request
    close_after: set[str] = set()     # paths after which the server closes the connection

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        type(self).seen.append((self.path, self.client_address[1]))
        data = b"%s %s %d" % (self.command.encode(), self.path.encode(), len(body))
        if self.path.startswith("/big"):
            data = b"x" * 100_000
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Kind", "Test")
        self.end_headers()
        self.wfile.write(data)
        if self.path in type(self).close_after:
            self.close_connection = True

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server():
    Recorder.seen, Recorder.close_after = [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_calls_in_a_row_share_one_connection(server):
    conn = KeptAlive(timeout=5)
    replies = [conn.request("POST", f"{server}/v1/x?n={i}", b"a=1", {"Content-Type": "text/plain"}) for i in range(5)]
    assert [r.status for r in replies] == [201] * 5
    assert replies[0].body == b"POST /v1/x?n=0 3" and replies[0].headers["x-kind"] == "Test"
    assert len({port for _, port in Recorder.seen}) == 1
    conn.close()


def test_a_connection_the_server_closed_is_replaced(server):
    Recorder.close_after = {"/first"}
    conn = KeptAlive(timeout=5)
    assert conn.request("GET", f"{server}/first").status == 201
    assert conn.request("GET", f"{server}/second").status == 201
    assert conn.request("GET", f"{server}/third").status == 201
    ports = [port for _, port in Recorder.seen]
    assert ports[0] != ports[1] == ports[2]
    assert [path for path, _ in Recorder.seen] == ["/first", "/second", "/third"]  # nothing sent twice


def test_an_unread_rest_of_a_body_closes_the_connection(server):
    conn = KeptAlive(timeout=5)
    assert len(conn.request("GET", f"{server}/big", limit=1000).body) == 1000
    assert conn.request("GET", f"{server}/after").body == b"GET /after 0"
    assert len({port for _, port in Recorder.seen}) == 2


def test_nobody_listening_raises_at_once():
    with pytest.raises(ConnectionRefusedError):
        KeptAlive(timeout=5).request("GET", f"http://127.0.0.1:{free_port()}/")


# ---------------------------------------------------------------------- the stripe package over it
@pytest.fixture()
def loopback_client(fake):
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake.url}, max_network_retries=0,
                               http_client=LoopbackHTTPClient())


def test_stripe_calls_and_errors_through_the_loopback_transport(loopback_client, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a dead proxy: not used for the fake
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    intent = loopback_client.v1.payment_intents.create(params={
        "amount": 1800, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}, "metadata": {"k": "v"}})
    assert intent.status == "succeeded" and intent.metadata["k"] == "v"
    again = loopback_client.v1.payment_intents.retrieve(intent.id)
    assert again.amount_received == 1800
    with pytest.raises(stripe.InvalidRequestError) as missing:
        loopback_client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.CardError) as declined:
        loopback_client.v1.payment_intents.create(params={
            "amount": 500, "currency": "usd", "payment_method": "pm_card_visa_chargeDeclined", "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    assert declined.value.code == "card_declined"


def test_same_idempotency_key_replays_through_the_transport(loopback_client):
    params = {"amount": 700, "currency": "usd"}
    first = loopback_client.v1.payment_intents.create(params=params, options={"idempotency_key": "labkit-t-1"})
    second = loopback_client.v1.payment_intents.create(params=params, options={"idempotency_key": "labkit-t-1"})
    assert first.id == second.id


def test_nobody_listening_is_an_api_connection_error_stripe_may_retry():
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": f"http://127.0.0.1:{free_port()}"},
                                 max_network_retries=0, http_client=LoopbackHTTPClient())
    with pytest.raises(stripe.APIConnectionError) as err:
        client.v1.balance.retrieve()
    assert err.value.should_retry and "Could not reach the Stripe API" in str(err.value)


# A student's server as the handout writes it (module-level stripe.api_key), not the kit's own
# checkout_server.py: that one is a starter in the student edition, whose tests must pass before the work.
HANDOUT_STYLE_SERVER = """
import os
import stripe
from flask import Flask, jsonify

app = Flask(__name__)
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]


@app.post("/create-payment-intent")
def create_payment_intent():
    intent = stripe.PaymentIntent.create(amount=1800, currency="usd", payment_method_types=["card"])
    return jsonify({"clientSecret": intent.client_secret})
"""


def test_a_students_checkout_pays_offline_with_a_dead_proxy_in_its_environment(fake, tmp_path):
    """A laptop with HTTP_PROXY set (and no NO_PROXY): requests would send the fake's 127.0.0.1 calls
    to the proxy; the student's server reaches the fake directly."""
    env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
           "HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"}
    (tmp_path / "checkout_server.py").write_text(HANDOUT_STYLE_SERVER, encoding="utf-8")
    with StudentServer(tmp_path / "checkout_server.py", env=env, api_base=fake.url) as server:
        resp = requests.post(server.url + "/create-payment-intent", json={"product_id": "prod_001"}, timeout=30,
                             proxies={"http": None, "https": None})
    assert resp.status_code == 200, resp.text
    assert resp.json()["clientSecret"].startswith("pi_")
