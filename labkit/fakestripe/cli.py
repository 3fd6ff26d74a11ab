"""``labkit fakestripe``: run the fake Stripe in the foreground."""
from __future__ import annotations

import argparse
import logging
import sys

from labkit.fakestripe import FakeStripe
from labkit.fakestripe.state import DatabaseError
from labkit.kit_server import serve_in_foreground, wait_while_running
from labkit.settings import load_settings


def add_fakestripe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=12111, help="port to listen on (default 12111; 0 = a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1, this machine only)")
    parser.add_argument("--db", default=None, help="keep the state in this SQLite file across restarts")


def run_fakestripe(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        try:
            allowed = load_settings().allowed_hosts
        except Exception:  # a bad .env is reported by the commands that need it; the fake serves loopback names
            allowed = ()
        fake = FakeStripe(args.host, args.port, db_path=args.db, allowed_hosts=allowed).start()
    except DatabaseError as exc:
        print(f"labkit fakestripe: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"labkit fakestripe: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. "
              "Choose another port with --port.", file=sys.stderr)
        return 1
    return serve_in_foreground(
        [f"Fake Stripe listening on {fake.url}",
         f"  API        {fake.url}/v1   (any sk_test_… key works)",
         f"  Stripe.js  {fake.js_url}",
         "  Python:    stripe.StripeClient('sk_test_…', base_addresses={'api': '%s'})" % fake.url,
         "  Ctrl-C to stop."],
        lambda: wait_while_running(fake.server), fake.stop, "Fake Stripe stopped.")
