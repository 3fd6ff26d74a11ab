"""Part B's kit side: the shop's catalog data, the example requests of notebook 02, and ``labkit checkout``.

The checkout itself, with the validation of an order, its price and its idempotency key, is the
student's deliverable: ``checkout_server.py`` at the kit's top. It reads the catalog with
:func:`load_catalog` (``labkit/data/catalog.json``: the handout's ``PRODUCTS``, prices in cents).
``labkit checkout`` serves the student's ``checkout_server.py`` (see :mod:`labkit.student`).
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def _catalog_text() -> str:
    return resources.files("labkit").joinpath("data", "catalog.json").read_text(encoding="utf-8")


def load_catalog() -> dict[str, Any]:
    """The shop's catalog (a fresh copy): ``{"store", "max_quantity", "default_product", "products": {id: {...}}}``."""
    return json.loads(_catalog_text())


# What a student might send, and what the server should answer (notebook 02 shows these).
EXAMPLE_REQUESTS: list[tuple[str, Any]] = [
    ("the handout's body", {"product_id": "prod_001"}),
    ("two hats and glasses", {"items": [{"product_id": "prod_001", "quantity": 2},
                                        {"product_id": "prod_003", "quantity": 1}]}),
    ("unknown product", {"product_id": "prod_999"}),
    ("quantity 0", {"product_id": "prod_001", "quantity": 0}),
    ("quantity 2.5", {"product_id": "prod_001", "quantity": 2.5}),
    ("a price from the browser", {"product_id": "prod_001", "amount": 1}),
    ("a form, not JSON", "product_id=prod_001"),
]


def try_requests(checkout_url: str, examples: list[tuple[str, Any]] | None = None):
    """POST each example to ``/create-payment-intent`` and tabulate the answers (a DataFrame)."""
    import pandas as pd
    import requests

    url = checkout_url.rstrip("/") + "/create-payment-intent"
    rows = []
    for label, body in examples or EXAMPLE_REQUESTS:
        if isinstance(body, str):
            resp = requests.post(url, data=body, timeout=10,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        else:
            resp = requests.post(url, json=body, timeout=10)
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        secret = answer.get("clientSecret") if isinstance(answer, dict) else None
        if resp.ok and isinstance(secret, str):
            shown = f"clientSecret of {secret.split('_secret_')[0]} received"
        elif isinstance(answer, dict) and answer.get("error"):
            shown = str(answer["error"])[:160]
        else:
            shown = f"(not JSON) {resp.text[:80]!r}" if answer is None else str(answer)[:160]
        rows.append({"request": label, "HTTP": resp.status_code, "answer": shown})
    return pd.DataFrame(rows).set_index("request")


def add_checkout_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default LABKIT_CHECKOUT_PORT or 5000; 0 = a free one)")
    parser.add_argument("--folder", default=None,
                        help="serve the checkout_server.py of this folder (default: the kit's top; e.g. "
                             "variants/payment_element in the instructor's edition)")


def run_checkout(args: argparse.Namespace) -> int:
    """``labkit checkout``: the student's checkout_server.py on its usual port (5000) until Ctrl-C, with the
    shared offline fake Stripe (the one ``labkit webhooks`` uses) or Stripe test mode."""
    import tempfile
    from pathlib import Path

    from labkit.backend import connect, connect_shared
    from labkit.settings import load_settings
    from labkit.student.lab import StudentLab
    from labkit.student.runner import StudentServerError

    settings = load_settings()
    backend = connect_shared(settings) if settings.offline else connect(settings)
    folder = Path(args.folder).resolve() if getattr(args, "folder", None) else settings.root
    if not (folder / "checkout_server.py").is_file():
        print(f"labkit checkout: no checkout_server.py in {folder}", file=sys.stderr)
        return 2
    lab = StudentLab(folder=folder, backend=backend, work=Path(tempfile.mkdtemp(prefix="labkit-")))
    try:
        srv = lab.start_checkout(settings.checkout_port if args.port is None else args.port)
        print(f"checkout_server.py on {srv.url}  (test card 4242 4242 4242 4242)  Ctrl-C to stop; "
              "saving a change restarts it", flush=True)
        from labkit.student.watch import serve_and_watch

        return serve_and_watch(srv, "labkit checkout", also=[settings.root / "templates"])
    except StudentServerError as exc:
        print(f"labkit checkout: {exc}", file=sys.stderr)
        if exc.log:
            print(exc.log, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nCheckout server stopped.", flush=True)
        return 0
    finally:
        lab.close()
