"""Benchmark ``POST /create-payment-intent`` of checkout_server.py against the offline fake Stripe.

    .venv/bin/python bench/bench_checkout.py [REQUESTS] [CLIENTS] [--rounds 3]   (default 600 requests, 4 clients)
    .venv/bin/python bench/bench_checkout.py --profile   (cProfile of the checkout, in this process)

The checkout runs as the kit runs a student's file (its own process, waitress, 4 threads); the fake
Stripe runs in a process of its own (`labkit fakestripe`). Each request is one full round trip:
the browser's JSON to the checkout, which validates it, prices it from the catalog and creates a
PaymentIntent on the fake (HTTP, with an idempotency key), then answers the client secret.

The clients are threads here on kept-alive ``http.client`` connections (as cheap as a load
generator can be in Python: the browser is not Python, and on a 2-core machine a heavier client
takes CPU from the servers it measures). Prints, per round, requests per second, p50/p90/p99, and
the CPU each process spent per request (where the time goes); then the median round.
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cpu import CpuMeter  # noqa: E402

KEYS = {"STRIPE_SECRET_KEY": "sk_test_" + "c" * 24, "STRIPE_PUBLISHABLE_KEY": "pk_test_" + "c" * 24}


def order() -> bytes:
    return json.dumps({"items": [{"product_id": "prod_001", "quantity": 2}], "checkout_id": uuid.uuid4().hex}).encode()


def start_fake() -> tuple[subprocess.Popen, str]:
    from labkit.loopback_http import KeptAlive
    from labkit.student.runner import free_port

    port = free_port()
    fake = subprocess.Popen([sys.executable, "-m", "labkit.cli", "fakestripe", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            KeptAlive(0.5).request("GET", url + "/")
            return fake, url
        except OSError:
            time.sleep(0.1)
    fake.kill()
    raise SystemExit("the fake Stripe did not start")


def load(port: int, total: int, clients: int) -> tuple[float, list[float]]:
    """``total`` orders from ``clients`` threads, each on its own kept-alive connection."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(n):
            body = order()
            t0 = time.perf_counter()
            conn.request("POST", "/create-payment-intent", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            mine.append(time.perf_counter() - t0)
            assert resp.status == 200, data[:200]
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(total // clients,)) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


def measure(fake: subprocess.Popen, fake_url: str, total: int, clients: int, rounds: int) -> None:
    import os

    from labkit.student.runner import StudentServer

    with StudentServer(ROOT / "checkout_server.py", api_base=fake_url, env=KEYS) as server:
        load(server.port, 40, 2)  # warm up
        p99s = []
        for r in range(rounds):
            meter = CpuMeter({"client": os.getpid(), "checkout": server.proc.pid, "fake": fake.pid})
            took, lat = load(server.port, total, clients)
            q = statistics.quantiles(lat, n=100)
            p99s.append(q[98] * 1000)
            print(f"round {r + 1}: {len(lat) / took:4.0f} requests/s   p50 {statistics.median(lat) * 1000:5.1f} ms   "
                  f"p90 {q[89] * 1000:5.1f} ms   p99 {q[98] * 1000:5.1f} ms")
            print(f"         {meter.per_call(len(lat))}")
    print(f"median p99 over {rounds} rounds: {statistics.median(p99s):.1f} ms (goal: p99 < 40 ms at 4 clients)")


def profile(total: int) -> None:
    """The checkout's own CPU, by function: its Flask app in this process (test client), the fake apart."""
    import cProfile
    import os
    import pstats

    fake, fake_url = start_fake()
    try:
        os.environ.update(KEYS)
        from labkit.student.server_process import import_student_file, point_stripe_at

        point_stripe_at(fake_url)  # as the kit's child process does offline
        app = import_student_file(ROOT / "checkout_server.py").app.test_client()
        for _ in range(20):
            app.post("/create-payment-intent", data=order(), content_type="application/json")
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(total):
            assert app.post("/create-payment-intent", data=order(), content_type="application/json").status_code == 200
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    finally:
        fake.terminate()
        fake.wait(10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("requests", nargs="?", type=int, default=600)
    parser.add_argument("clients", nargs="?", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the checkout in this process")
    args = parser.parse_args(argv)
    if args.profile:
        profile(min(args.requests, 300))
        return 0
    fake, fake_url = start_fake()
    try:
        print(f"{args.requests} orders per round from {args.clients} clients")
        measure(fake, fake_url, args.requests, args.clients, args.rounds)
    finally:
        fake.terminate()
        fake.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
