"""The Part C webhook handler: verification, handlers, exactly-once, ordering, the fake Stripe."""
from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import stripe

from labkit.backend import Backend, make_client
from labkit.serving import BackgroundServer
from labkit.settings import Settings, project_root
from labkit.webhooks.app import INSECURE_HEADER, WebhookConfigError, create_app, serve
from labkit.webhooks.attacks import post, sign
from labkit.webhooks.handlers import Effect, merge, status_of
from labkit.webhooks.store import Delivery, OrderStore
from labkit.webhooks.trigger import trigger

SECRET = "whsec_labkit_tests_endpoint_secret_0001"
OTHER_SECRET = "whsec_labkit_tests_some_other_secret_02"
ROOT = project_root(Path(__file__).parent)


# ---------------------------------------------------------------------- helpers
def pi_object(pi="pi_TestOrder000000000001", amount=1800, status="succeeded", error=None, product="Safety Hard Hat"):
    return {"id": pi, "object": "payment_intent", "amount": amount, "amount_received": amount if status == "succeeded"
            else 0, "currency": "usd", "status": status, "latest_charge": "ch_TestCharge00000000001",
            "metadata": {"product_name": product}, "last_payment_error": error}


def make_event(type_, obj, created=None, eid=None):
    return {"id": eid or f"evt_{type_.replace('.', '_')}_{created or 0}_{obj['id'][-6:]}", "object": "event",
            "api_version": "2026-10-28.endive", "created": created if created is not None else int(time.time()),
            "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": type_}


def succeeded(pi="pi_TestOrder000000000001", created=None, **kw):
    return make_event("payment_intent.succeeded", pi_object(pi, **kw), created)


def failed(pi="pi_TestOrder000000000001", created=None):
    return make_event("payment_intent.payment_failed", pi_object(pi, status="requires_payment_method", error={
        "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
        "message": "Your card was declined."}), created)


def disputed(pi="pi_TestOrder000000000001", created=None):
    return make_event("charge.dispute.created", {
        "id": "dp_TestDispute0000000001", "object": "dispute", "amount": 1800, "currency": "usd",
        "charge": "ch_TestCharge00000000001", "payment_intent": pi, "reason": "fraudulent",
        "status": "needs_response", "metadata": {}}, created)


def refunded(pi="pi_TestOrder000000000001", created=None, amount_refunded=1800):
    return make_event("charge.refunded", {
        "id": "ch_TestCharge00000000001", "object": "charge", "amount": 1800, "amount_captured": 1800,
        "amount_refunded": amount_refunded, "refunded": amount_refunded >= 1800, "currency": "usd",
        "payment_intent": pi, "metadata": {"product_name": "Safety Hard Hat"}}, created)


def signed(event, secret=SECRET, timestamp=None):
    body = json.dumps(event).encode()
    return body, sign(body, secret, timestamp)


@pytest.fixture()
def settings(tmp_path):
    return Settings(db_path=tmp_path / "orders.db", webhook_secret=SECRET)


@pytest.fixture()
def store(settings):
    with OrderStore(settings.db_path) as s:
        yield s


@pytest.fixture()
def app(settings, store):
    return create_app(settings, store, SECRET)


@pytest.fixture()
def web(app):
    return app.test_client()


def deliver(web, event, secret=SECRET, timestamp=None):
    body, sig = signed(event, secret, timestamp)
    return web.post("/webhook", data=body, headers={"Stripe-Signature": sig, "Content-Type": "application/json"})


# ---------------------------------------------------------------------- fail closed
def test_refuses_to_start_without_a_secret(settings, store):
    with pytest.raises(WebhookConfigError, match="refuses to start"):
        create_app(settings.with_(webhook_secret=None), store, None)
    with pytest.raises(WebhookConfigError):
        create_app(settings, store, "")


def test_test_mode_without_secret_explains_stripe_listen(settings):
    test_mode = settings.with_(backend="stripe", secret_key="sk_test_labkit_not_a_real_key",
                               publishable_key="pk_test_labkit_not_a_real_key", webhook_secret=None)
    backend = Backend(test_mode, "https://api.stripe.com", "https://js.stripe.com/v3/",
                      make_client(test_mode.secret_key, "https://api.stripe.com"))
    with pytest.raises(WebhookConfigError, match=r"stripe listen --forward-to localhost:5001/webhook"):
        serve(backend, port=0)


def test_cli_without_secret_in_test_mode_exits_and_explains(tmp_path):
    # SYSTEMROOT kept: without it Python cannot start on Windows (no random source, no sockets).
    env = {**{k: os.environ[k] for k in ("SYSTEMROOT",) if k in os.environ},
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LABKIT_BACKEND": "stripe",
           "STRIPE_SECRET_KEY": "sk_test_labkit_not_a_real_key", "STRIPE_PUBLISHABLE_KEY": "pk_test_labkit_not_a_real_key",
           "LABKIT_DB": str(tmp_path / "x.db")}
    done = subprocess.run([sys.executable, "webhook_handler.py", "--port", "0"], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "stripe listen --forward-to localhost:0/webhook" in done.stderr
    assert "never accepts unsigned events" in done.stderr
    assert "sk_test_labkit_not_a_real_key" not in done.stdout + done.stderr


def test_insecure_demo_accepts_unsigned_and_flags_every_response(settings, store, caplog):
    with caplog.at_level(logging.WARNING, logger="labkit.webhooks"):
        app = create_app(settings.with_(webhook_secret=None), store, None, insecure_demo=True)
        web = app.test_client()
        r = web.post("/webhook", data=json.dumps(succeeded()), content_type="application/json")
    assert r.status_code == 200 and r.json["outcome"] == "processed"
    assert "INSECURE DEMO MODE" in r.json["warning"]
    for path in ("/orders", "/deliveries", "/health", "/"):
        assert web.get(path).headers[INSECURE_HEADER] == "signatures are NOT verified"
    assert web.get("/health").json["mode"] == "insecure-demo"
    assert any("INSECURE" in rec.getMessage() for rec in caplog.records)
    assert store.deliveries()[0]["verified"] is False
    with pytest.raises(WebhookConfigError, match="only listens on this machine"):
        create_app(settings.with_(webhook_secret=None, host="0.0.0.0"), store, None, insecure_demo=True)
    with pytest.raises(WebhookConfigError):
        create_app(settings, store, SECRET, insecure_demo=True)


def test_secure_mode_has_no_insecure_flag(web):
    assert INSECURE_HEADER not in deliver(web, succeeded()).headers
    assert web.get("/health").json == {"ok": True, "ready": True, "mode": "verified"}


# ---------------------------------------------------------------------- rejections
def _tampered():
    body, sig = signed(succeeded())
    return body.replace(b'"amount": 1800', b'"amount": 180000'), sig


REJECTIONS = {
    "missing": (lambda: (json.dumps(succeeded()).encode(), None), "missing_signature", "no Stripe-Signature"),
    "empty": (lambda: (json.dumps(succeeded()).encode(), ""), "missing_signature", "no Stripe-Signature"),
    "malformed": (lambda: (json.dumps(succeeded()).encode(), "garbage"), "malformed_signature", "malformed"),
    "bad timestamp": (lambda: (json.dumps(succeeded()).encode(), "t=yesterday,v1=abc"), "malformed_signature",
                      "malformed"),
    "no v1": (lambda: (json.dumps(succeeded()).encode(), f"t={int(time.time())},v0=abc"), "malformed_signature",
              "no v1 signature"),
    "forged": (lambda: (json.dumps(succeeded()).encode(), f"t={int(time.time())},v1={'ab' * 32}"),
               "signature_mismatch", "forged"),
    "wrong secret": (lambda: signed(succeeded(), OTHER_SECRET), "signature_mismatch", "another secret"),
    "tampered": (_tampered, "signature_mismatch", "tampered"),
    "replayed": (lambda: signed(succeeded(), SECRET, int(time.time()) - 301), "stale_timestamp",
                 "more than 300 s old"),
    "replayed an hour later": (lambda: signed(succeeded(), SECRET, int(time.time()) - 3600), "stale_timestamp",
                               "replayed"),
    "signed non-JSON": (lambda: (b"not json", sign(b"not json", SECRET)), "invalid_json", "not JSON"),
    "signed non-event": (lambda: signed({"hello": "world"}), "not_an_event", "not a Stripe event"),
    "non-UTF-8 body": (lambda: (b"\xff\xfe{}", f"t={int(time.time())},v1=00"), "invalid_body", "UTF-8"),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_rejections_are_400_with_a_reason_and_change_nothing(case, web, store):
    make, code, words = REJECTIONS[case]
    body, sig = make()
    headers = {"Content-Type": "application/json"} | ({"Stripe-Signature": sig} if sig is not None else {})
    r = web.post("/webhook", data=body, headers=headers)
    assert r.status_code == 400
    assert r.json["error"]["code"] == code
    assert words in r.json["error"]["reason"]
    assert store.orders() == {}
    assert store.processed_event_ids() == set()
    logged = store.deliveries()
    assert len(logged) == 1
    assert logged[0]["outcome"] == "rejected" and logged[0]["http_status"] == 400
    assert logged[0]["reason"].startswith(code) and logged[0]["verified"] is False


def test_a_replayed_genuine_event_is_rejected_even_though_its_signature_matches(web, store):
    event = succeeded()
    r = deliver(web, event, timestamp=int(time.time()) - 10 * 60)
    assert r.status_code == 400 and r.json["error"]["code"] == "stale_timestamp"
    assert deliver(web, event).status_code == 200  # the same event, freshly signed, is fine
    assert len(store.orders()) == 1


def test_rejected_deliveries_are_logged_without_the_secret_or_signature(web, store, settings):
    deliver(web, succeeded(), OTHER_SECRET)
    deliver(web, succeeded())
    row = store.deliveries()[1]
    assert row["event_id"] == succeeded()["id"] and row["type"] == "payment_intent.succeeded"  # claimed, unverified
    assert row["signature"].startswith("t=") and "v1 x1" in row["signature"]
    store.close()
    raw = b"".join(p.read_bytes() for p in settings.db_path.parent.glob("orders.db*"))
    assert SECRET.encode() not in raw and OTHER_SECRET.encode() not in raw
    _, sig = signed(succeeded())
    assert sig.split("v1=")[1].encode() not in raw  # no MAC kept either


def test_oversized_body_is_refused_and_logged(web, store):
    r = web.post("/webhook", data=b"x" * (600 * 1024), headers={"Stripe-Signature": "t=1,v1=00"})
    assert r.status_code == 413 and r.json["error"]["code"] == "body_too_large"
    assert store.deliveries()[0]["outcome"] == "rejected"


def test_no_secret_in_any_response_or_log(web, caplog):
    with caplog.at_level(logging.DEBUG):
        answers = [deliver(web, succeeded()), deliver(web, succeeded(), OTHER_SECRET), web.get("/orders"),
                   web.get("/deliveries"), web.get("/health"), web.get("/")]
    text = "".join(a.get_data(as_text=True) for a in answers) + caplog.text
    assert "whsec_" not in text


# ---------------------------------------------------------------------- handlers
def test_payment_succeeded_creates_the_order(web):
    r = deliver(web, succeeded(created=100))
    assert r.status_code == 200 and r.json == {
        "received": True, "event": succeeded(created=100)["id"], "type": "payment_intent.succeeded",
        "outcome": "processed", "order": "pi_TestOrder000000000001", "note": "paid; fulfillment queued"}
    order = web.get("/orders").json["pi_TestOrder000000000001"]
    assert {k: order[k] for k in ("status", "amount", "currency", "product", "fulfillment", "amount_minor")} == {
        "status": "paid", "amount": 18.0, "currency": "USD", "product": "Safety Hard Hat", "fulfillment": "queued",
        "amount_minor": 1800}
    assert order["history"] == [{"id": succeeded(created=100)["id"], "type": "payment_intent.succeeded",
                                 "created": 100, "effect": "paid; fulfillment queued"}]


def test_payment_failed_records_code_and_message(web):
    deliver(web, failed(created=100))
    order = web.get("/orders").json["pi_TestOrder000000000001"]
    assert order["status"] == "payment_failed" and order["fulfillment"] is None
    assert (order["failure_code"], order["decline_code"], order["failure_message"]) == (
        "card_declined", "generic_decline", "Your card was declined.")


def test_dispute_flags_the_order_with_its_reason(web):
    deliver(web, succeeded(created=100))
    deliver(web, disputed(created=101))
    order = web.get("/orders").json["pi_TestOrder000000000001"]
    assert (order["status"], order["dispute_reason"], order["fulfillment"]) == ("disputed", "fraudulent", "on_hold")
    assert [h["type"] for h in order["history"]] == ["payment_intent.succeeded", "charge.dispute.created"]


def test_refund_marks_the_order_refunded(web):
    deliver(web, succeeded(created=100))
    deliver(web, refunded(created=101, amount_refunded=500))
    assert web.get("/orders").json["pi_TestOrder000000000001"]["status"] == "partially_refunded"
    deliver(web, make_event("charge.refunded", refunded(created=102)["data"]["object"], 102, "evt_full_refund_1"))
    order = web.get("/orders").json["pi_TestOrder000000000001"]
    assert (order["status"], order["refunded"], order["fulfillment"]) == ("refunded", 18.0, "canceled")


def test_other_types_are_acknowledged_and_recorded_as_unhandled(web, store):
    event = make_event("customer.created", {"id": "cus_Test0000001", "object": "customer"}, 100)
    r = deliver(web, event)
    assert r.status_code == 200 and r.json["outcome"] == "unhandled"
    assert store.orders() == {} and store.processed_event_ids() == {event["id"]}
    assert deliver(web, event).json["outcome"] == "duplicate"


# ---------------------------------------------------------------------- exactly once
def test_a_redelivered_event_does_nothing_twice(web, store):
    assert deliver(web, succeeded(created=100)).json["outcome"] == "processed"
    again = deliver(web, succeeded(created=100))
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert len(store.orders()["pi_TestOrder000000000001"]["history"]) == 1
    assert [d["outcome"] for d in store.deliveries()] == ["duplicate", "processed"]


def test_fifty_concurrent_deliveries_of_one_event_make_exactly_one_order(settings, store):
    app = create_app(settings, store, SECRET)
    body, sig = signed(succeeded(created=100))
    with BackgroundServer(app, threads=8, name="webhooks under test") as server:
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(lambda _: post(server.url + "/webhook", body, sig), range(50)))
    outcomes = sorted(a["outcome"] for _, a in answers)
    assert [s for s, _ in answers] == [200] * 50
    assert outcomes == ["duplicate"] * 49 + ["processed"]
    orders = store.orders()
    assert list(orders) == ["pi_TestOrder000000000001"] and len(orders["pi_TestOrder000000000001"]["history"]) == 1
    assert store.counts() | {"deliveries": 50} == {"orders": 1, "events": 1, "order_events": 1, "deliveries": 50}


def test_two_stores_on_one_file_still_process_once(settings):
    """Two processes' worth of connections (no shared Python lock): BEGIN IMMEDIATE decides."""
    a, b = OrderStore(settings.db_path), OrderStore(settings.db_path)
    event = succeeded(created=100)
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: (a if i % 2 else b).process(event, Delivery(time.time())).outcome,
                                range(20)))
    assert sorted(results) == ["duplicate"] * 19 + ["processed"]
    a.close(), b.close()


def test_a_handler_error_rolls_back_answers_500_and_the_retry_applies_once(settings, store):
    app = create_app(settings, store, SECRET, fault="error-before-commit")
    web = app.test_client()
    first = deliver(web, succeeded(created=100))
    assert first.status_code == 500 and first.json["error"]["code"] == "handler_error"
    assert store.orders() == {} and store.processed_event_ids() == set()
    assert store.deliveries()[0]["outcome"] == "error"
    retry = deliver(web, succeeded(created=100))
    assert retry.status_code == 200 and retry.json["outcome"] == "processed"
    assert len(store.orders()["pi_TestOrder000000000001"]["history"]) == 1


def test_an_acknowledged_event_is_committed(web, settings):
    assert deliver(web, succeeded(created=100)).status_code == 200
    with OrderStore(settings.db_path) as other:  # a new connection sees it at once
        assert other.processed_event_ids() == {succeeded(created=100)["id"]}


# ---------------------------------------------------------------------- ordering
def test_payment_failed_after_succeeded_does_not_unpay(web):
    deliver(web, succeeded(created=200))
    late = deliver(web, failed(created=100))
    assert late.status_code == 200 and "stays paid" in late.json["note"]
    order = web.get("/orders").json["pi_TestOrder000000000001"]
    assert (order["status"], order["fulfillment"], order["failures"]) == ("paid", "queued", 1)


def test_every_arrival_order_ends_in_the_same_state(tmp_path):
    events = [failed(created=100), succeeded(created=101), disputed(created=102), refunded(created=103)]
    finals = set()
    for n, order in enumerate(itertools.permutations(events)):
        with OrderStore(tmp_path / f"perm{n}.db") as store:
            for event in order:
                assert store.process(event, Delivery(time.time())).outcome == "processed"
            o = store.orders()["pi_TestOrder000000000001"]
            finals.add(json.dumps({k: v for k, v in o.items() if k not in ("created_at", "updated_at", "history")},
                                  sort_keys=True))
            assert sorted(h["id"] for h in o["history"]) == sorted(e["id"] for e in events)
    assert len(finals) == 1
    final = json.loads(finals.pop())
    assert (final["status"], final["amount"], final["product"], final["failures"], final["refunded"]) == (
        "disputed", 18.0, "Safety Hard Hat", 1, 18.0)


def test_newest_failure_details_win_whatever_the_arrival_order():
    old = Effect("pi_1", "failed", 100, "evt_a", {"failure_code": "card_declined", "failure_message": "old"})
    new = Effect("pi_1", "failed", 200, "evt_b", {"failure_code": "expired_card", "failure_message": "new"})
    one, _ = merge(merge(None, old)[0], new)
    two, _ = merge(merge(None, new)[0], old)
    assert one == two and one["failure_message"] == "new" and status_of(one) == "payment_failed"


# ---------------------------------------------------------------------- with the fake Stripe
@pytest.fixture()
def offline_backend(fake, tmp_path):
    settings = Settings(db_path=tmp_path / "lab.db", api_base=fake.url)
    return Backend(settings, fake.url, fake.url + "/v3/", make_client(settings.secret_key, fake.url), fake=None)


def test_serve_registers_with_the_fake_and_handles_real_events(offline_backend, fake, client):
    server, store = serve(offline_backend, port=0)
    try:
        endpoint_id = server.state.endpoint_id
        endpoint = client.v1.webhook_endpoints.retrieve(endpoint_id)
        assert endpoint.url == server.url + "/webhook" and endpoint.enabled_events == ["*"]
        made = {t: trigger(client, t) for t in ("payment_intent.succeeded", "payment_intent.payment_failed",
                                                  "charge.dispute.created", "charge.refunded")}
        assert fake.wait_for_webhooks(20)
        orders = post_free_get(server.url + "/orders")
        want = {"payment_intent.succeeded": "paid", "payment_intent.payment_failed": "payment_failed",
                "charge.dispute.created": "disputed", "charge.refunded": "refunded"}
        assert {t: orders[m["payment_intent"]]["status"] for t, m in made.items()} == want
        assert orders[made["payment_intent.payment_failed"]["payment_intent"]]["failure_code"] == "card_declined"
        assert orders[made["payment_intent.succeeded"]["payment_intent"]]["product"] == "Safety Hard Hat"
        mine = [d for d in fake.deliveries() if d["endpoint"] == endpoint_id]
        assert mine and all(d["status"] == 200 for d in mine)
        logged = post_free_get(server.url + "/deliveries?limit=100")["deliveries"]
        assert {d["outcome"] for d in logged} == {"processed", "unhandled"} and len(logged) == len(mine)
    finally:
        server.stop()
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.retrieve(endpoint_id)  # removed on stop


def test_an_explicit_secret_wins_over_registration(offline_backend, client):
    before = len(client.v1.webhook_endpoints.list(params={"limit": 100}).data)
    backend = offline_backend
    backend.settings = backend.settings.with_(webhook_secret=SECRET)
    server, store = serve(backend, port=0)
    try:
        assert server.state.endpoint_id is None
        assert len(client.v1.webhook_endpoints.list(params={"limit": 100}).data) == before
        body, sig = signed(succeeded())
        assert post(server.url + "/webhook", body, sig)[0] == 200
    finally:
        server.stop()


def test_trigger_refuses_unknown_events(client):
    with pytest.raises(ValueError, match="cannot trigger"):
        trigger(client, "customer.created")


def test_labkit_trigger_command_uses_the_configured_fake(fake, monkeypatch, capsys):
    from labkit.cli import main

    monkeypatch.setenv("LABKIT_STRIPE_API_BASE", fake.url)
    monkeypatch.setenv("LABKIT_BACKEND", "fake")
    for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["trigger", "charge.refunded"]) == 0
    out = capsys.readouterr().out
    assert "Triggered charge.refunded on the fake Stripe" in out and "refund" in out


def post_free_get(url):
    from labkit.webhooks.process import get_json

    return get_json(url)


# ---------------------------------------------------------------------- the notebook's drills
def test_drills_against_a_lab(tmp_path):
    from labkit.lab import Lab
    from labkit.webhooks import attacks
    from labkit.webhooks.tables import deliveries_summary, orders_table

    settings = Settings(db_path=tmp_path / "drills.db")
    with Lab.start(settings, checkout=False) as lab:
        target = attacks.Target.of(lab)
        with attacks.held_back(lab.client, target):
            made = trigger(lab.client, "payment_intent.succeeded")
        attacks.settle(lab)
        assert target.orders() == {}  # held back: nothing delivered
        event = attacks.events_for(lab.client, made["payment_intent"], ("payment_intent.succeeded",))[0]
        rows = attacks.signature_attacks(target, event)
        assert [r["HTTP status"] for r in rows] == [400] * 5 + [200, 200]
        assert [r["answer"] for r in rows][-2:] == ["processed", "duplicate"]
        with attacks.held_back(lab.client, target):
            pi = attacks.declined_then_paid_then_refunded(lab.client)
        rows = attacks.deliver_all(target, attacks.events_for(lab.client, pi))
        assert rows[0]["event type"] == "charge.refunded" and rows[-1]["event type"] == "payment_intent.created"
        table = orders_table(target.orders())
        assert table.loc[pi, "status"] == "refunded" and table.loc[pi, "failure_code"] == "card_declined"
        assert table.loc[made["payment_intent"], "status"] == "paid"
        summary = deliveries_summary(target.deliveries(100))
        assert summary.groupby("outcome")["deliveries"].sum().to_dict() == {
            "duplicate": 1, "processed": 4, "rejected": 5, "unhandled": 5}


def test_rejections_print_nothing_into_a_notebook_cell(offline_backend):
    """In a kernel nobody configures logging: the kit's warnings must not land in cell output."""
    script = (
        "import json, sys\n"
        "from labkit.backend import connect\n"
        "from labkit.settings import load_settings\n"
        "from labkit.webhooks.app import serve\n"
        "from labkit.webhooks.attacks import post\n"
        f"backend = connect(load_settings({{'LABKIT_STRIPE_API_BASE': {offline_backend.api_base!r}}}, env_file=None))\n"
        f"server, store = serve(backend, port=0, db_path={str(offline_backend.settings.db_path)!r})\n"
        "status, _ = post(server.url + '/webhook', b'{}', None)\n"
        "server.stop()\n"
        "print(status)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "400"
    assert out.stderr == ""
