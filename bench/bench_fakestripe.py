"""Create and confirm PaymentIntents through the real `stripe` package against the fake.

Prints pairs per second and the ratio of the last 100 pairs' time to the first 100's
(flat cost as the state grows means a ratio near 1.0).

    python bench/bench_fakestripe.py [--pairs 1000]
"""
from __future__ import annotations

import argparse
import time

import stripe

from labkit.fakestripe import FakeStripe


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
    print(f"pairs (create + confirm): {args.pairs}")
    print(f"total:                    {total:.2f} s")
    print(f"pairs per second:         {args.pairs / total:.0f}")
    print(f"per 100 pairs (s):        {' '.join(f'{b:.2f}' for b in blocks)}")
    if len(blocks) >= 2:
        print(f"last 100 / first 100:     {blocks[-1] / blocks[0]:.2f}")


if __name__ == "__main__":
    main()
