"""``labkit webhooks``: the student's ``webhook_handler.py`` on port 5001 until Ctrl-C.

Offline, the handler's URL is registered with the shared fake Stripe (``LABKIT_STRIPE_API_BASE``,
else the one on 127.0.0.1:12111, started if needed), and the endpoint's id and signing secret
are kept in ``webhook_endpoint.json`` beside the orders database. A restart (after Ctrl-C, a
crash or a SIGKILL) reuses them, so Stripe's pending retries to that endpoint still land and
nothing is lost. In Stripe test mode the secret is ``STRIPE_WEBHOOK_SECRET`` from
``stripe listen --forward-to localhost:5001/webhook``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from labkit.backend import connect, connect_shared
from labkit.files import FileBusyError, write_text
from labkit.settings import Settings, load_settings
from labkit.student.lab import StudentLab, register_endpoint
from labkit.student.runner import StudentServerError
from labkit.student.watch import serve_and_watch

ENDPOINT_FILE = "webhook_endpoint.json"
LISTEN_HELP = ("No STRIPE_WEBHOOK_SECRET: in Stripe test mode run `stripe listen --forward-to "
               "localhost:{port}/webhook` and put the whsec_… secret it prints in .env as STRIPE_WEBHOOK_SECRET "
               "(or set LABKIT_BACKEND=fake to work offline).")


def add_webhooks_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=None, help="port (default LABKIT_WEBHOOK_PORT or 5001)")
    parser.add_argument("--db", type=Path, default=None, help="the handler's SQLite file (ORDERS_DB; "
                        "default LABKIT_DB or out/labkit.db)")


def _prepare_db_folder(db: Path) -> str | None:
    """None if the database's folder is usable, else one line saying what to fix."""
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=db.parent, prefix=".labkit-write-test-"):
            pass
    except OSError as exc:
        return (f"cannot write the orders database folder {db.parent} ({exc.strerror or exc}): make it writable, "
                "or choose another file with --db or LABKIT_DB.")
    return None


def kept_endpoint(client: Any, path: Path, url: str) -> tuple[str, str]:
    """The endpoint registered for ``url`` on an earlier run (if Stripe still has it), else a new one."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("url") == url:
            client.v1.webhook_endpoints.retrieve(saved["id"])
            return saved["id"], saved["secret"]
    except (OSError, ValueError, KeyError, Exception):  # missing, unreadable, or gone from Stripe: register anew
        pass
    endpoint_id, secret = register_endpoint(client, url)
    write_text(path, json.dumps({"id": endpoint_id, "secret": secret, "url": url}) + "\n")
    return endpoint_id, secret


def _start(settings: Settings, port: int, db: Path) -> StudentLab:
    backend = connect_shared(settings) if settings.offline else connect(settings)
    lab = StudentLab(folder=settings.root, backend=backend, work=Path(tempfile.mkdtemp(prefix="labkit-")))
    env = {"ORDERS_DB": str(db)}
    if settings.offline:
        url = f"http://127.0.0.1:{port}/webhook"
        lab.endpoint_id, lab.webhook_secret = kept_endpoint(backend.client, db.parent / ENDPOINT_FILE, url)
        lab.keep_endpoint = True  # however the command stops, Stripe keeps retrying to it (read back next run)
    else:
        lab.webhook_secret = settings.webhook_secret
    env["STRIPE_WEBHOOK_SECRET"] = lab.webhook_secret or ""
    lab.webhooks = lab.server("webhook_handler.py", env, port).start()
    return lab


def _stop_on_signals() -> None:
    """SIGTERM and a closed terminal (SIGHUP) stop the command as Ctrl-C does: the handler's process is
    ended and the endpoint kept. (SIGKILL runs nothing here: the handler ends with its parent, and the
    endpoint, never deleted, is read back from webhook_endpoint.json on the next run.)"""
    import signal

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):  # Windows has no SIGHUP
            signal.signal(getattr(signal, name), interrupt)


def run_webhooks(args: argparse.Namespace) -> int:
    settings = load_settings()
    port = settings.webhook_port if args.port is None else args.port
    db = Path(args.db).resolve() if args.db else settings.db_path
    if not settings.offline and not settings.webhook_secret:
        print(f"labkit webhooks: {LISTEN_HELP.format(port=port)}", file=sys.stderr)
        return 2
    problem = _prepare_db_folder(db)
    if problem:
        print(f"labkit webhooks: {problem}", file=sys.stderr)
        return 2
    _stop_on_signals()
    try:
        lab = _start(settings, port, db)
    except (StudentServerError, FileBusyError) as exc:
        print(f"labkit webhooks: {exc}", file=sys.stderr)
        if getattr(exc, "log", ""):
            print(exc.log, file=sys.stderr)
        return 1
    try:
        print(f"webhook_handler.py on {lab.webhooks.url}/webhook (orders: {lab.webhooks.url}/orders; "
              f"database {db}). Ctrl-C to stop; saving a change restarts it.", flush=True)
        return serve_and_watch(lab.webhooks, "labkit webhooks")
    except KeyboardInterrupt:
        print("\nWebhook handler stopped.", flush=True)
        return 0
    finally:
        lab.close()
