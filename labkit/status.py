"""``labkit status``: the backend, the redacted keys, and whether the API answers."""
from __future__ import annotations

import argparse
import sys

from labkit.backend import connect
from labkit.settings import load_settings, redact


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-ping", action="store_true", help="do not call the API")


def run_status(args: argparse.Namespace) -> int:
    settings = load_settings()  # a live or malformed key raises SettingsError: the CLI prints it, exit 2
    print(f"backend:          {'offline fake Stripe' if settings.offline else 'Stripe test mode'}")
    print(f"secret key:       {redact(settings.secret_key)}  (server side only: creates and reads payments)")
    print(f"publishable key:  {redact(settings.publishable_key)}  (sent to the browser: Stripe.js, card field)")
    print(f"webhook secret:   {redact(settings.webhook_secret)}  (verifies Stripe-Signature on webhooks)")
    print(f"database:         {settings.db_path}")
    if args.no_ping:
        return 0
    with connect(settings) as backend:
        ok, detail = backend.ping()
        print(f"API:              {'OK' if ok else 'FAILED'}: {detail}")
    if not ok:
        print(f"labkit status: {detail} (README → Troubleshooting)", file=sys.stderr)
    return 0 if ok else 1
