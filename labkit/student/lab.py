"""The student's two servers and a Stripe backend, started together for one folder.

>>> with StudentLab.start(folder) as lab:          # the fake Stripe in-process (offline)
...     lab.checkout.url, lab.webhooks.url, lab.client

Each server is the student's own file in its own process (:class:`StudentServer`), on a free
port of 127.0.0.1, with its own temporary database. Offline, the webhook handler's URL is
registered with the fake Stripe, which signs and delivers every event to it; the handler gets
the endpoint's secret through ``STRIPE_WEBHOOK_SECRET``, as the handout says. In Stripe test
mode the handler listens on ``LABKIT_WEBHOOK_PORT`` (5001) for ``stripe listen``.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.backend import Backend, connect
from labkit.settings import Settings, load_settings
from labkit.student.runner import StudentServer, StudentServerError, free_port

CHECKOUT_FILE = "checkout_server.py"
WEBHOOK_FILE = "webhook_handler.py"


def register_endpoint(client: Any, url: str) -> tuple[str, str]:
    """Register ``url`` for every event; returns (endpoint id, signing secret)."""
    ep = client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": ["*"],
                                                    "description": "labkit: the student's webhook handler"})
    return ep.id, ep.secret


@dataclass
class StudentLab:
    folder: Path
    backend: Backend
    work: Path
    checkout: StudentServer | None = None
    webhooks: StudentServer | None = None
    webhook_secret: str | None = None
    endpoint_id: str | None = None
    errors: dict[str, StudentServerError] = field(default_factory=dict)
    own_backend: bool = True
    keep_endpoint: bool = False  # `labkit webhooks`: the endpoint outlives the run (webhook_endpoint.json)

    @classmethod
    def start(cls, folder: Path | None = None, settings: Settings | None = None, *, backend: Backend | None = None,
              checkout: bool = True, webhooks: bool = True, strict: bool = False) -> "StudentLab":
        """Start what is asked; a file that does not start is kept in ``errors`` (``strict``: raised)."""
        settings = settings or load_settings()
        folder = Path(folder or settings.root).resolve()
        lab = cls(folder=folder, backend=backend or connect(settings), work=Path(tempfile.mkdtemp(prefix="labkit-")),
                  own_backend=backend is None)
        if settings.confine is not None:  # the student's servers keep their databases here
            settings.confine.give(lab.work)
        try:
            if webhooks:
                lab._try(lab.start_webhooks, "webhooks", strict)
            if checkout:
                lab._try(lab.start_checkout, "checkout", strict)
        except BaseException:
            lab.close()
            raise
        return lab

    def _try(self, start: Any, name: str, strict: bool) -> None:
        try:
            start()
        except StudentServerError as exc:
            self.errors[name] = exc
            if strict:
                raise

    @property
    def settings(self) -> Settings:
        return self.backend.settings

    @property
    def client(self) -> Any:
        return self.backend.client

    def keys_env(self) -> dict[str, str]:
        return {"STRIPE_SECRET_KEY": self.settings.secret_key, "STRIPE_PUBLISHABLE_KEY": self.settings.publishable_key}

    def server(self, filename: str, env: dict[str, str], port: int = 0, name: str | None = None) -> StudentServer:
        return StudentServer(self.folder / filename, env={**self.keys_env(), **env}, port=port, name=name or filename,
                             api_base=self.backend.api_base if self.backend.offline else "",
                             log_path=self.work / f"{Path(filename).stem}.log",
                             allowed_hosts=self.settings.allowed_hosts, start_timeout=self.settings.start_timeout,
                             confine=self.settings.confine)

    def start_checkout(self, port: int = 0) -> StudentServer:
        self.checkout = self.server(CHECKOUT_FILE, {}, port).start()
        return self.checkout

    def start_webhooks(self, port: int = 0, secret: str | None = None) -> StudentServer:
        """The handler on ``port`` (0: a free one), registered with the fake Stripe when offline."""
        if self.backend.offline:
            port = port or free_port()
            if secret is None:
                if self.endpoint_id is None:
                    self.endpoint_id, self.webhook_secret = register_endpoint(
                        self.client, f"http://127.0.0.1:{port}/webhook")
                secret = self.webhook_secret
        else:
            port = port or self.settings.webhook_port
            secret = secret if secret is not None else (self.settings.webhook_secret or "")
            self.webhook_secret = secret
        env = {"ORDERS_DB": str(self.work / "orders.db")}
        if secret:
            env["STRIPE_WEBHOOK_SECRET"] = secret
        self.webhooks = self.server(WEBHOOK_FILE, env, port).start()
        return self.webhooks

    def close(self) -> None:
        for srv in (self.checkout, self.webhooks):
            if srv is not None:
                srv.stop()
        if self.endpoint_id and self.backend.offline and not self.keep_endpoint:
            try:  # a shared fake Stripe keeps no endpoint pointing at a server that is gone
                self.client.v1.webhook_endpoints.delete(self.endpoint_id)
            except Exception:
                pass
        if self.own_backend:
            self.backend.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> "StudentLab":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

