"""Benchmark ``POST /create-payment-intent`` against the offline fake Stripe (threaded servers).

    .venv/bin/python bench/bench_checkout.py [REQUESTS] [CONCURRENCY]   (default 300 requests, 4 clients)

Each request is one full round trip: the browser's JSON to the checkout server, which
validates it, prices it from the catalog and creates a PaymentIntent on the fake Stripe
(HTTP, form-encoded, with an idempotency key), then answers the client secret. Both
servers run in background threads of this process (werkzeug's threaded server), as in
the notebooks. Prints requests per second and p50/p90/p99 latency.
"""
from __future__ import annotations

import statistics
import sys
import threading
import time
import uuid


def main(argv: list[str]) -> int:
    import requests

    from labkit.backend import connect
    from labkit.checkout import serve
    from labkit.settings import Settings

    total = int(argv[0]) if argv else 300
    concurrency = int(argv[1]) if len(argv) > 1 else 4
    with connect(Settings(backend="fake")) as backend:
        server = serve(backend, port=0)
        url = server.url + "/create-payment-intent"
        try:
            warm = requests.Session()
            for _ in range(10):
                warm.post(url, json={"product_id": "prod_001"}, timeout=10).raise_for_status()

            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()
            per_client = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]

            def client(n: int) -> None:
                session = requests.Session()
                mine = []
                for i in range(n):
                    body = {"items": [{"product_id": "prod_001", "quantity": 1 + i % 3},
                                      {"product_id": "prod_003", "quantity": 1}],
                            "checkout_id": uuid.uuid4().hex}
                    t0 = time.perf_counter()
                    resp = session.post(url, json=body, timeout=30)
                    mine.append(time.perf_counter() - t0)
                    if resp.status_code != 200 or "clientSecret" not in resp.json():
                        with lock:
                            errors.append(f"{resp.status_code} {resp.text[:100]}")
                with lock:
                    latencies.extend(mine)

            threads = [threading.Thread(target=client, args=(n,)) for n in per_client]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
        finally:
            server.stop()

    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(f"POST /create-payment-intent: {len(latencies)} requests, {concurrency} concurrent clients, "
          f"{len(errors)} errors")
    print(f"  throughput  {len(latencies) / elapsed:8.1f} requests/s   ({elapsed:.2f} s wall)")
    print(f"  latency     p50 {q[49] * 1000:6.1f} ms   p90 {q[89] * 1000:6.1f} ms   p99 {q[98] * 1000:6.1f} ms   "
          f"max {latencies[-1] * 1000:6.1f} ms")
    for e in errors[:5]:
        print("  error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
