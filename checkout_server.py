"""Lab 09, Part B: the checkout server.   Run:  python checkout_server.py   → http://localhost:5000

The handout's checkout_server.py, built from the kit's app factory (labkit/checkout.py):
the same routes (GET /, POST /create-payment-intent, GET /payment-success), plus input
validation, an idempotency key per checkout attempt, and security headers.

Keys come from the environment or .env (STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY) and
select Stripe test mode; without them the kit starts its offline fake Stripe. Debug mode
stays off (it would expose a code console). Same thing: `labkit checkout`.
"""
import sys

from labkit.checkout import add_checkout_arguments, run_checkout
from labkit.settings import SettingsError

if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Lab 09 checkout server (port 5000)")
    add_checkout_arguments(parser)
    try:
        sys.exit(run_checkout(parser.parse_args()))
    except SettingsError as exc:  # a live or malformed key: say what to fix, no traceback
        sys.exit(f"checkout_server.py: {exc}")
