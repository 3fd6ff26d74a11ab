"""Create and confirm PaymentIntents through the real `stripe` package against the fake.

Prints pairs per second and the ratio of the last 100 pairs' time to the first 100's
(flat cost as the state grows means a ratio near 1.0). For scale it also times the
`stripe` package alone against a server that answers a canned PaymentIntent at once:
that is the ceiling no server can beat from one client thread.

    python bench/bench_fakestripe.py [--pairs 1000]
"""
from __future__ import annotations

import argparse
import json
import time

import stripe

from labkit.fakestripe import FakeStripe
from labkit.serving import BackgroundServer


def client_alone(body: bytes, calls: int) -> float:
    """Seconds per call of the stripe package against a server that does nothing."""
    def canned(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    with BackgroundServer(canned, name="canned") as srv:
        client = stripe.StripeClient("sk_test_bench_fake_key", base_addresses={"api": srv.url}, max_network_retries=0)
        start = time.perf_counter()
        for _ in range(calls):
            client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd"})
        return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    args = parser.parse_args()
    with FakeStripe() as fake:
        client = stripe.StripeClient("sk_test_bench_fake_key", base_addresses={"api": fake.url},
                                     max_network_retries=0)
        client.v1.accounts.retrieve_current()  # warm the connection
        blocks: list[float] = []
        start = block_start = time.perf_counter()
        for i in range(1, args.pairs + 1):
            pi = client.v1.payment_intents.create(params={"amount": 1800, "currency": "usd",
                                                           "automatic_payment_methods": {"enabled": True}})
            client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
            if i % 100 == 0:
                now = time.perf_counter()
                blocks.append(now - block_start)
                block_start = now
        total = time.perf_counter() - start
        canned = json.dumps(client.v1.payment_intents.retrieve(pi.id).to_dict()).encode()
    per_call = client_alone(canned, 2 * min(args.pairs, 500))
    print(f"pairs (create + confirm): {args.pairs}")
    print(f"total:                    {total:.2f} s")
    print(f"pairs per second:         {args.pairs / total:.0f}")
    print(f"per 100 pairs (s):        {' '.join(f'{b:.2f}' for b in blocks)}")
    if len(blocks) >= 2:
        print(f"last 100 / first 100:     {blocks[-1] / blocks[0]:.2f}")
    print(f"stripe package alone:     {per_call * 1000:.2f} ms per call against a canned answer "
          f"(ceiling {1 / (2 * per_call):.0f} pairs/s from one thread)")
    print(f"the fake's share:         {(total / args.pairs - 2 * per_call) * 1000:.2f} ms per pair")


if __name__ == "__main__":
    main()
