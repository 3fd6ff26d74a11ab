"""The solution's webhook_handler.py, run as a student's would be (its own process), attacked over HTTP."""
from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from labkit.settings import project_root
from labkit.student.runner import StudentServer, StudentServerError
from labkit.webhooks.attacks import sign

SECRET = "whsec_" + "t3st" * 8


def event(type_="payment_intent.succeeded", pi="pi_" + "A" * 24, **obj):
    body = {"id": "evt_" + secrets.token_hex(8), "object": "event", "type": type_, "created": int(time.time()),
            "data": {"object": {"id": pi, "object": "payment_intent", "amount": 1800, "amount_received": 1800,
                                "currency": "usd", "metadata": {"product_name": "Safety Hard Hat"}, **obj}}}
    return body


@pytest.fixture()
def handler(tmp_path):
    srv = StudentServer(project_root() / "webhook_handler.py", env={
        "STRIPE_SECRET_KEY": "sk_test_" + "x" * 24, "STRIPE_WEBHOOK_SECRET": SECRET,
        "ORDERS_DB": str(tmp_path / "orders.db")}, log_path=tmp_path / "handler.log").start()
    srv.db = tmp_path / "orders.db"
    yield srv
    srv.stop()


def post(srv, body, header="sign", raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if header == "sign":
        headers["Stripe-Signature"] = sign(data, SECRET)
    elif header is not None:
        headers["Stripe-Signature"] = header
    return requests.post(srv.url + "/webhook", data=data, headers=headers, timeout=10)


def orders(srv):
    return requests.get(srv.url + "/orders", timeout=10).json()


def test_refuses_to_start_without_a_secret(tmp_path):
    srv = StudentServer(project_root() / "webhook_handler.py", env={"STRIPE_SECRET_KEY": "sk_test_" + "x" * 24,
                                                                  "ORDERS_DB": str(tmp_path / "o.db")})
    with pytest.raises(StudentServerError, match="STRIPE_WEBHOOK_SECRET"):
        srv.start()


@pytest.mark.parametrize("name, header, tamper", [
    ("no signature", None, False),
    ("malformed header", "v1=deadbeef", False),
    ("not ASCII", "t=1,v1=\u00e9", False),
    ("guessed secret", "other", False),
    ("tampered body", "sign", True),
    ("stale", "stale", False),
    ("a year ahead", "future", False),
])
def test_forged_tampered_stale_and_future_events_get_400_and_change_nothing(handler, name, header, tamper):
    body = event()
    data = json.dumps(body).encode()
    if header == "other":
        header = sign(data, "whsec_" + "g" * 32)
    elif header == "stale":
        header = sign(data, SECRET, int(time.time()) - 600)
    elif header == "future":
        header = sign(data, SECRET, int(time.time()) + 365 * 86400)
    elif header == "sign":
        header = sign(data, SECRET)
    if tamper:
        body["data"]["object"]["amount_received"] = 1
        data = json.dumps(body).encode()
    resp = requests.post(handler.url + "/webhook", data=data, timeout=10,
                         headers={"Content-Type": "application/json", **({"Stripe-Signature": header} if header else {})})
    assert resp.status_code == 400, (name, resp.status_code, resp.text)
    assert resp.json()["error"]
    assert orders(handler) == {}
    assert SECRET not in resp.text


def test_each_event_type_changes_the_order(handler):
    pi = "pi_" + "B" * 24
    assert post(handler, event(pi=pi)).json()["outcome"] == "processed"
    assert orders(handler)[pi]["status"] == "paid" and orders(handler)[pi]["fulfillment"] == "queued"
    post(handler, event("charge.dispute.created", pi="dp_1", object="dispute", payment_intent=pi, reason="fraudulent"))
    assert orders(handler)[pi]["status"] == "disputed"
    post(handler, event("charge.refunded", pi="ch_1", object="charge", payment_intent=pi, refunded=True,
                        amount_refunded=1800))
    assert orders(handler)[pi]["status"] == "refunded"
    assert post(handler, event("customer.created", pi="cus_1", object="customer")).json()["outcome"] == "unhandled"


def test_events_in_any_order_end_in_the_same_state(handler):
    pi = "pi_" + "C" * 24
    failed = event("payment_intent.payment_failed", pi=pi, last_payment_error={"code": "card_declined"})
    paid = event(pi=pi)
    refunded = event("charge.refunded", pi="ch_2", object="charge", payment_intent=pi, refunded=True,
                     amount_refunded=1800)
    for e in (refunded, paid, failed):  # newest first
        assert post(handler, e).status_code == 200
    assert orders(handler)[pi]["status"] == "refunded"


def test_fifty_copies_at_once_make_one_order(handler):
    body = event(pi="pi_" + "D" * 24)
    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(lambda _: post(handler, body).json()["outcome"], range(50)))
    assert sorted(set(outcomes)) == ["duplicate", "processed"] and outcomes.count("processed") == 1
    assert len(orders(handler)) == 1


@pytest.mark.parametrize("obj", [{"created": "yesterday"}, {"no_id": True}, {"not_a_dict": True}])
def test_odd_but_signed_events_never_get_a_500(handler, obj):
    body = event()
    if "created" in obj:
        body["created"] = "yesterday"
    elif "no_id" in obj:
        del body["data"]["object"]["id"]
    else:
        body["data"]["object"] = "text"
    resp = post(handler, body)
    assert resp.status_code in (200, 400), resp.text


def test_every_acknowledged_event_survives_sigkill(handler):
    """Clients post while the process is killed; after a restart every 200 is in the database."""
    acked: list[str] = []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            body = event(pi="pi_" + secrets.token_hex(12))
            try:
                if post(handler, body).status_code == 200:
                    acked.append(body["data"]["object"]["id"])
            except requests.RequestException:
                pass

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    handler.kill()
    stop.set()
    for t in threads:
        t.join()
    assert acked
    handler.start()
    have = set(orders(handler))
    assert set(acked) <= have
    with sqlite3.connect(handler.db) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] >= len(acked)


def test_needs_no_secret_key_only_the_webhook_secret(tmp_path):
    """Least privilege: the handler never calls Stripe, so it runs without STRIPE_SECRET_KEY."""
    srv = StudentServer(project_root() / "webhook_handler.py", env={"STRIPE_WEBHOOK_SECRET": SECRET,
                                                                  "ORDERS_DB": str(tmp_path / "o.db")}).start()
    try:
        assert post(srv, event()).status_code == 200
        assert orders(srv)["pi_" + "A" * 24]["status"] == "paid"
    finally:
        srv.stop()


def test_run_without_its_secret_it_says_what_to_set_in_one_line(tmp_path):
    import shutil
    import subprocess
    import sys

    shutil.copy(project_root() / "webhook_handler.py", tmp_path / "webhook_handler.py")
    env = {k: v for k, v in __import__("os").environ.items() if k in ("PATH", "HOME", "SYSTEMROOT")}
    proc = subprocess.run([sys.executable, "webhook_handler.py"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "STRIPE_WEBHOOK_SECRET" in lines[0] and "labkit webhooks" in lines[0]
