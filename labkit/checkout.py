"""``labkit checkout``: the student's ``checkout_server.py`` on its usual port (5000) until Ctrl-C.

This is also where the student's ``checkout_server.py`` imports the catalog from
(``from labkit.checkout import load_catalog``, as the starter and every submission have it); the catalog
itself is :mod:`labkit.catalog`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labkit.catalog import load_catalog  # noqa: F401  (the student's checkout_server.py imports it from here)
from labkit.kit_server import serve_in_foreground
from labkit.lab import CHECKOUT_FILE, Lab
from labkit.settings import load_settings
from labkit.student.runner import StudentServerError
from labkit.student.watch import serve_and_watch


def add_checkout_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default LABKIT_CHECKOUT_PORT or 5000; 0 = a free one)")
    parser.add_argument("--folder", default=None,
                        help="serve the checkout_server.py of this folder (default: the kit's top; e.g. "
                             "variants/payment_element in the instructor's edition)")


def run_checkout(args: argparse.Namespace) -> int:
    """``labkit checkout``: the student's checkout_server.py on its usual port (5000) until Ctrl-C, with the
    shared offline fake Stripe (the one ``labkit webhooks`` uses) or Stripe test mode."""
    settings = load_settings()
    folder = Path(args.folder).resolve() if getattr(args, "folder", None) else settings.root
    if not (folder / CHECKOUT_FILE).is_file():
        print(f"labkit checkout: no {CHECKOUT_FILE} in {folder}", file=sys.stderr)
        return 2
    lab = Lab.open(settings, folder, shared_fake=True)
    try:
        srv = lab.start_checkout(settings.checkout_port if args.port is None else args.port)
    except StudentServerError as exc:
        lab.close()
        print(f"labkit checkout: {exc}", file=sys.stderr)
        if exc.log:
            print(exc.log, file=sys.stderr)
        return 1
    except BaseException:
        lab.close()
        raise
    return serve_in_foreground(
        [f"checkout_server.py on {srv.url}  (test card 4242 4242 4242 4242)  Ctrl-C to stop; "
         "saving a change restarts it"],
        lambda: serve_and_watch(srv, "labkit checkout", also=[settings.root / "templates"]),
        lab.close, "Checkout server stopped.")
