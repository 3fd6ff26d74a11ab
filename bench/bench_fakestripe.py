"""Create and confirm PaymentIntents through the real `stripe` package against the fake, in the
lab's configuration: one webhook endpoint registered, its handler answering 200 at once.

Prints the median time of a pair over the first 100 and the last 100 pairs (a flat cost as
the state grows means a ratio near 1.0), the delivery backlog as the run goes (it should
drain as fast as it fills) and how long the rest takes to deliver after the last call, and
the fake's share of a call next to the `stripe` package's own: the package alone is timed
against a server that answers a canned PaymentIntent at once, the ceiling no server beats.

    python bench/bench_fakestripe.py [--pairs 1000] [--no-endpoint]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time

import stripe

from labkit.fakestripe import FakeStripe
from labkit.kit_server import BackgroundServer

PI = {"amount": 1800, "currency": "usd", "automatic_payment_methods": {"enabled": True}}
CONFIRM = {"payment_method": "pm_card_visa", "return_url": "http://127.0.0.1:5000/payment-success"}


def client_alone(body: bytes, calls: int) -> float:
    """Median seconds per call of the stripe package against a server that does nothing."""
    def canned(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    with BackgroundServer(canned, name="canned") as srv:
        client = stripe.StripeClient("sk_test_bench_fake_key", base_addresses={"api": srv.url}, max_network_retries=0)
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            client.v1.payment_intents.create(params=PI)
            times.append(time.perf_counter() - start)
        return statistics.median(times)


def _receive(environ, start_response):
    """A webhook handler that answers 200 at once."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def _serve_receiver(port_out) -> None:
    with BackgroundServer(_receive, name="webhook receiver") as srv:
        port_out.put(srv.url)
        while True:
            time.sleep(3600)


def run(pairs: int, endpoint: bool) -> None:
    # The handler runs in its own process, as the student's webhook server does in the lab.
    ctx = multiprocessing.get_context("spawn")
    urls = ctx.Queue()
    receiver = ctx.Process(target=_serve_receiver, args=(urls,), daemon=True)
    receiver.start()
    hook_url = urls.get(timeout=60)
    try:
        measure(pairs, endpoint, hook_url)
    finally:
        receiver.terminate()
        receiver.join(5)


def measure(pairs: int, endpoint: bool, hook_url: str) -> None:
    with FakeStripe() as fake:
        client = stripe.StripeClient("sk_test_bench_fake_key", base_addresses={"api": fake.url},
                                     max_network_retries=0)
        if endpoint:
            client.v1.webhook_endpoints.create(params={"url": hook_url + "/webhook", "enabled_events": ["*"]})
        client.v1.accounts.retrieve_current()  # warm the connection
        inside: list[float] = []
        dispatch = fake.app.dispatch

        def timed(request):  # the time spent inside the fake's WSGI app, per call
            t = time.perf_counter()
            try:
                return dispatch(request)
            finally:
                inside.append(time.perf_counter() - t)
        fake.app.dispatch = timed
        times: list[float] = []
        backlog: list[int] = []
        start = time.perf_counter()
        for i in range(1, pairs + 1):
            t0 = time.perf_counter()
            pi = client.v1.payment_intents.create(params=PI)
            client.v1.payment_intents.confirm(pi.id, params=CONFIRM)
            times.append(time.perf_counter() - t0)
            if i % 100 == 0:
                backlog.append(fake.app.deliverer.pending())
        total = time.perf_counter() - start
        t0 = time.perf_counter()
        drained = fake.wait_for_webhooks(timeout=120)
        drain = time.perf_counter() - t0
        canned = json.dumps(client.v1.payment_intents.retrieve(pi.id).to_dict()).encode()
        events = len(fake.app.store.ids("event"))
        delivered = sum(1 for i in fake.app.store.ids("event").ids
                        if fake.app.store.objects[i]["pending_webhooks"] == 0)
    per_call = client_alone(canned, 2 * min(pairs, 500))
    first, last = statistics.median(times[:100]), statistics.median(times[-100:])
    fake_share = (statistics.median(times) / 2 - per_call)
    print(f"configuration:            {'one webhook endpoint registered, answering 200 at once' if endpoint else 'no webhook endpoint'}")
    print(f"pairs (create + confirm): {pairs} in {total:.2f} s ({pairs / total:.0f} pairs/s)")
    print(f"median pair, first 100:   {first * 1000:.2f} ms")
    print(f"median pair, last 100:    {last * 1000:.2f} ms")
    print(f"last 100 / first 100:     {last / first:.2f}")
    if endpoint:
        print(f"deliveries pending, every 100 pairs: {' '.join(map(str, backlog))}")
        print(f"events {events}, delivered to the endpoint {delivered}; the rest drained in {drain:.2f} s after the last call"
              f"{'' if drained else ' (NOT drained in 120 s)'}")
    print(f"stripe package alone:     {per_call * 1000:.2f} ms per call (median, against a canned answer)")
    print(f"the fake's share:         {statistics.median(inside[-2 * pairs:]) * 1000:.2f} ms per call inside its app "
          f"(median); {fake_share * 1000:.2f} ms end to end (median pair / 2 - the package's own, which also "
          "counts the HTTP server and the deliveries' threads)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--no-endpoint", action="store_true", help="measure without a webhook endpoint")
    args = parser.parse_args()
    run(args.pairs, endpoint=not args.no_endpoint)


if __name__ == "__main__":
    main()
