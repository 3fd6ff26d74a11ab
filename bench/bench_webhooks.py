"""Post signed events at a webhook handler from several client threads; the solution vs the handout.

Both handlers run as the kit runs a student's file (its own process, waitress, 127.0.0.1) and get
the same signed ``payment_intent.succeeded`` events, each for a new PaymentIntent:

* solution (webhook_handler.py): verify, then apply exactly once in SQLite (WAL; the event id,
  the order and the delivery log in one transaction, committed before the 200);
* handout (its printed webhook_handler.py, from ../shared/lab09_handout.txt, with the secret set and
  its one bug under stripe 16 fixed: ``.to_dict()`` on the event's object): verify, put the order in a dict.

Rounds alternate solution and handout (so a busy moment on the machine hits both); each prints
events per second, p50/p99 latency and the CPU each process spent per event (where the time goes),
then the medians over the rounds and solution / handout as a ratio.

    .venv/bin/python bench/bench_webhooks.py [--events 2000] [--threads 4] [--rounds 3]
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cpu import CpuMeter  # noqa: E402

from labkit.student.runner import StudentServer  # noqa: E402
from labkit.webhook_signing import signature_header  # noqa: E402
from tests.submissions.builder import handout_fixed  # noqa: E402

SECRET = "whsec_labkit_bench_secret_000000000001"


def events(n: int) -> list[bytes]:
    now = int(time.time())
    return [json.dumps({"id": f"evt_bench{i:08d}", "object": "event", "type": "payment_intent.succeeded",
                        "created": now, "data": {"object": {
                            "id": f"pi_bench{i:08d}", "object": "payment_intent", "amount": 1800,
                            "amount_received": 1800, "currency": "usd", "status": "succeeded",
                            "metadata": {"product_name": "Safety Hard Hat"}}}}).encode() for i in range(n)]


def run(url: str, bodies: list[bytes], threads: int) -> tuple[float, list[float]]:
    host, port = url.split("//")[1].split(":")
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]

    def client(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        mine = []
        for body in chunk:
            t0 = time.perf_counter()
            conn.request("POST", "/webhook", body, {"Content-Type": "application/json",
                                                    "Stripe-Signature": signature_header(body, SECRET)})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    workers = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start, latencies


def serve(path: Path, db: Path) -> StudentServer:
    return StudentServer(path, env={"STRIPE_SECRET_KEY": "sk_test_" + "b" * 24, "STRIPE_WEBHOOK_SECRET": SECRET,
                                    "ORDERS_DB": str(db)}).start()


def measure(name: str, path: Path, db: Path, n: int, threads: int) -> tuple[float, float]:
    import os

    server = serve(path, db)
    try:
        run(server.url, events(50), threads)  # warm up
        meter = CpuMeter({"client": os.getpid(), "server": server.proc.pid})
        took, lat = run(server.url, events(n)[50:] if n > 50 else events(n), threads)
        cpu = meter.per_call(len(lat), "event")
    finally:
        server.stop()
    rate = len(lat) / took
    p50, p99 = statistics.median(lat) * 1000, statistics.quantiles(lat, n=100)[98] * 1000
    print(f"{name:<10} {rate:8.0f} events/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   {cpu}")
    return rate, p99


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"solution": [], "handout": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        handout_fixed(work / "handout")
        files = {"solution": ROOT / "webhook_handler.py", "handout": work / "handout" / "webhook_handler.py"}
        print(f"{args.events} signed events from {args.threads} client threads, {args.rounds} rounds")
        for r in range(args.rounds):
            for name, path in files.items():
                results[name].append(measure(name, path, work / f"{name}{r}.db", args.events, args.threads))
    sol_rate, sol_p99 = (statistics.median(x) for x in zip(*results["solution"]))
    ref_rate, ref_p99 = (statistics.median(x) for x in zip(*results["handout"]))
    print(f"medians: solution {sol_rate:.0f} events/s, p99 {sol_p99:.1f} ms; handout {ref_rate:.0f} events/s, "
          f"p99 {ref_p99:.1f} ms")
    print(f"solution / handout: {sol_rate / ref_rate:.2f}x the events per second (goal >= 0.8), "
          f"p99 {sol_p99:.1f} ms (goal < 30)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
