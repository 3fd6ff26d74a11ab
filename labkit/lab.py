"""One running lab: the backend plus the checkout and webhook servers, for notebooks and the demo.

A notebook does ``lab = Lab.start()`` and gets everything on free ports, in background
threads. ``labkit demo`` starts one Lab and passes its URLs to every notebook kernel
(``LABKIT_STRIPE_API_BASE``, ``LABKIT_CHECKOUT_URL``, ``LABKIT_WEBHOOK_URL``), so the
whole lab runs against one fake Stripe and one set of servers.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from labkit.backend import Backend, connect
from labkit.settings import Settings, load_settings


class LabClosedError(RuntimeError):
    """A cell used a lab that an earlier cell closed (``lab.close()``)."""

    one_line = True

    def __init__(self) -> None:
        super().__init__("the lab was closed by the last cell: run Lab.start() again")


@dataclass
class Lab:
    settings: Settings
    backend: Backend
    checkout_url: str | None = None
    webhook_url: str | None = None
    _servers: list[Any] = field(default_factory=list, repr=False)
    webhook_server: Any = field(default=None, repr=False)  # the handler started here, if any
    webhook_store: Any = field(default=None, repr=False)
    closed: bool = False  # set by close(): using the lab afterwards raises LabClosedError

    @classmethod
    def start(cls, settings: Settings | None = None, checkout: bool = True, webhooks: bool = True) -> "Lab":
        settings = settings or load_settings()
        lab = cls(settings=settings, backend=connect(settings))
        try:
            if webhooks:
                lab.start_webhooks()
            if checkout:
                lab.start_checkout()
        except BaseException:
            lab.close()
            raise
        return lab

    @property
    def client(self):
        self.check_open()
        return self.backend.client

    def check_open(self) -> None:
        if self.closed:
            raise LabClosedError()

    def start_checkout(self, port: int = 0) -> str:
        """The checkout server (Part B), unless the demo already runs one (``LABKIT_CHECKOUT_URL``)."""
        given = os.environ.get("LABKIT_CHECKOUT_URL")
        if given:
            self.checkout_url = given.rstrip("/")
            return self.checkout_url
        from labkit.checkout import serve

        server = serve(self.backend, port=port)
        self._servers.append(server)
        self.checkout_url = server.url
        return self.checkout_url

    def start_webhooks(self, port: int = 0) -> str:
        """The webhook handler (Part C), registered with the fake Stripe in offline mode."""
        given = os.environ.get("LABKIT_WEBHOOK_URL")
        if given:
            self.webhook_url = given.rstrip("/")
            return self.webhook_url
        from labkit.webhooks.app import serve

        server, store = serve(self.backend, port=port)
        self._servers.append(server)
        self.webhook_server, self.webhook_store = server, store
        self.webhook_url = server.url
        return self.webhook_url

    def environ(self) -> dict[str, str]:
        """Variables that let another process (a notebook kernel) join this lab."""
        env = {"LABKIT_STRIPE_API_BASE": self.backend.api_base} if self.backend.offline else {}
        if self.checkout_url:
            env["LABKIT_CHECKOUT_URL"] = self.checkout_url
        if self.webhook_url:
            env["LABKIT_WEBHOOK_URL"] = self.webhook_url
        return env

    def close(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        self.backend.close()
        self.closed = True

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
