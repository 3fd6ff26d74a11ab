"""Benchmark ``POST /create-payment-intent`` of checkout_server.py against the offline fake Stripe.

    .venv/bin/python bench/bench_checkout.py [REQUESTS] [CONCURRENCY]   (default 300 requests, 4 clients)

The checkout runs as the kit runs a student's file (its own process, waitress); the fake Stripe runs
in a process of its own too (`labkit fakestripe`), so the client threads here do not share a GIL with
either server. Each request is one full round trip: the browser's JSON to the checkout,
which validates it, prices it from the catalog and creates a PaymentIntent on the fake (HTTP,
with an idempotency key), then answers the client secret. Prints requests per second and p50/p90/p99.
"""
from __future__ import annotations

import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    import requests

    import subprocess

    from labkit.student.runner import free_port

    total = int(argv[0]) if argv else 300
    concurrency = int(argv[1]) if len(argv) > 1 else 4
    port = free_port()
    fake = subprocess.Popen([sys.executable, "-m", "labkit.cli", "fakestripe", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fake_url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(fake_url + "/", timeout=0.5)
            break
        except requests.RequestException:
            time.sleep(0.1)
    try:
        run(fake_url, total, concurrency)
    finally:
        fake.terminate()
        fake.wait(10)
    return 0


def run(fake_url: str, total: int, concurrency: int) -> None:
    import requests

    from labkit.student.runner import StudentServer

    with StudentServer(ROOT / "checkout_server.py", api_base=fake_url, env={
            "STRIPE_SECRET_KEY": "sk_test_" + "c" * 24, "STRIPE_PUBLISHABLE_KEY": "pk_test_" + "c" * 24}) as server:
        url = server.url + "/create-payment-intent"
        latencies: list[float] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            session = requests.Session()
            mine = []
            for _ in range(n):
                body = {"items": [{"product_id": "prod_001", "quantity": 2}], "checkout_id": uuid.uuid4().hex}
                t0 = time.perf_counter()
                resp = session.post(url, json=body, timeout=30)
                mine.append(time.perf_counter() - t0)
                assert resp.status_code == 200, resp.text
            with lock:
                latencies.extend(mine)

        client(20)  # warm up
        latencies.clear()
        threads = [threading.Thread(target=client, args=(total // concurrency,)) for _ in range(concurrency)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    print(f"{len(latencies)} requests, {concurrency} clients: {len(latencies) / took:.0f} requests/s")
    print(f"p50 {statistics.median(latencies) * 1000:.1f} ms   p90 {q[89] * 1000:.1f} ms   p99 {q[98] * 1000:.1f} ms "
          "(goal: p99 < 40 ms at 4 clients)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
