"""Post signed events at the webhook handler from several client threads; compare with the handout's design.

Both servers run the same way (waitress, 8 worker threads, on 127.0.0.1) and get the same
signed ``payment_intent.succeeded`` events, each for a new PaymentIntent:

* labkit: verify, then apply exactly once in SQLite (WAL, synchronous=FULL, one
  transaction per event holding the event id, the order, its history and the delivery log);
* minimal: the handout's design with a secret: verify, parse, put the order in a dict.

Prints events per second and p50/p99 latency for each, and labkit / minimal as ratios.

    python bench/bench_webhooks.py [--events 2000] [--threads 4]
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import stripe
from flask import Flask, jsonify, request

from labkit.serving import BackgroundServer
from labkit.settings import Settings
from labkit.webhooks.app import create_app
from labkit.webhooks.attacks import sign
from labkit.webhooks.store import OrderStore

SECRET = "whsec_labkit_bench_secret_000000000001"


def minimal_app(secret: str) -> Flask:
    """The handout's handler, with its secret set: verify, parse, store in a dict."""
    app = Flask("minimal")
    orders: dict[str, dict] = {}

    @app.post("/webhook")
    def webhook():
        try:
            event = stripe.Webhook.construct_event(request.get_data(), request.headers.get("Stripe-Signature"), secret)
        except (ValueError, stripe.SignatureVerificationError):
            return jsonify({"error": "Invalid payload"}), 400
        if event["type"] == "payment_intent.succeeded":
            pi = event["data"]["object"]
            orders[pi["id"]] = {"status": "paid", "amount": pi["amount"] / 100,
                                "product": pi["metadata"]["product_name"] if "product_name" in pi["metadata"]
                                else "Unknown",  # the handout's pi.get(...) raises on stripe 16 objects
                                "fulfillment": "queued"}
        return jsonify({"received": True}), 200

    return app


def events(n: int, tag: str) -> list[bytes]:
    out = []
    for i in range(n):
        pi = f"pi_Bench{tag}{i:014d}"
        out.append(json.dumps({
            "id": f"evt_Bench{tag}{i:014d}", "object": "event", "api_version": "2026-10-28.endive",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1, "type": "payment_intent.succeeded",
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": {"id": pi, "object": "payment_intent", "amount": 1800, "amount_received": 1800,
                                "currency": "usd", "status": "succeeded", "latest_charge": None,
                                "metadata": {"product_name": "Safety Hard Hat"}}}}, indent=2).encode())
    return out


def run(url: str, bodies: list[bytes], threads: int) -> tuple[float, list[float]]:
    """Post every body once (signed just before sending), keep-alive per thread; (seconds, latencies)."""
    host, port = url.split("//")[1].split(":")
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]
    failures = []

    def worker(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine = []
        for body in chunk:
            headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body, SECRET)}
            t0 = time.perf_counter()
            conn.request("POST", "/webhook", body, headers)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - t0)
            if resp.status != 200:
                failures.append(resp.status)
        conn.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} deliveries failed: {failures[:5]}")
    return elapsed, latencies


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = OrderStore(db)
        labkit_app = create_app(Settings(db_path=db), store, SECRET)
        results = {}
        for name, app in (("minimal", minimal_app(SECRET)), ("labkit", labkit_app)):
            with BackgroundServer(app, name=name) as server:
                run(server.url, events(50, "warm" + name), args.threads)  # warm up
                elapsed, lat = run(server.url, events(args.events, name), args.threads)
            results[name] = (args.events / elapsed, pct(lat, 50), pct(lat, 99))
        counts = store.counts()
        store.close()
    print(f"{args.events} signed payment_intent.succeeded events, {args.threads} client threads, keep-alive\n")
    print(f"{'handler':<34}{'events/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    labels = {"minimal": "minimal (verify + dict, handout)", "labkit": "labkit (verify + SQLite, once)"}
    for name in ("minimal", "labkit"):
        eps, p50, p99 = results[name]
        print(f"{labels[name]:<34}{eps:>10.0f}{p50:>10.2f}{p99:>10.2f}")
    (m_eps, m50, m99), (l_eps, l50, l99) = results["minimal"], results["labkit"]
    print(f"{'labkit / minimal':<34}{l_eps / m_eps:>10.2f}{l50 / m50:>10.2f}{l99 / m99:>10.2f}")
    print(f"\nlabkit database after the run: {counts['orders']} orders, {counts['events']} events "
          f"(expected {args.events + 50} each)")


if __name__ == "__main__":
    main()
