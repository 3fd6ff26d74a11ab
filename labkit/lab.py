"""One running lab for a notebook: a Stripe backend and the student's own two servers.

A notebook does ``lab = Lab.start()``: offline, a fake Stripe on a free port; then
``webhook_handler.py`` and ``checkout_server.py`` from the kit's top folder, each in its own
process on a free port of 127.0.0.1 (see :mod:`labkit.student`), the handler registered with the
fake Stripe. ``labkit demo`` starts one checkout for every notebook and passes its URL
(``LABKIT_CHECKOUT_URL``, with ``LABKIT_STRIPE_API_BASE``), so Part E prices Part B's payments.

A lab closed by the last cell says so when used again, instead of a connection error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labkit.backend import Backend, connect
from labkit.errors import LabClosedError  # noqa: F401  (raised here; imported from here by notebooks)
from labkit.settings import Settings, load_settings
from labkit.student.lab import StudentLab


@dataclass
class Lab:
    settings: Settings
    backend: Backend
    student: StudentLab
    checkout_url: str | None = None
    webhook_url: str | None = None
    closed: bool = field(default=False, repr=False)

    @classmethod
    def start(cls, settings: Settings | None = None, checkout: bool = True, webhooks: bool = True) -> "Lab":
        """Start what this notebook needs; a student file that cannot start raises one clear line."""
        settings = settings or load_settings()
        backend = connect(settings)
        shared = settings.checkout_url if checkout else None
        student = StudentLab.start(settings.root, settings, backend=backend, checkout=checkout and not shared,
                                   webhooks=webhooks, strict=True)
        student.own_backend = True
        lab = cls(settings=settings, backend=backend, student=student)
        lab.checkout_url = shared or (student.checkout.url if student.checkout else None)
        lab.webhook_url = student.webhooks.url if student.webhooks else None
        return lab

    @property
    def client(self) -> Any:
        self.check_open()
        return self.backend.client

    @property
    def webhook_secret(self) -> str | None:
        return self.student.webhook_secret

    @property
    def endpoint_id(self) -> str | None:
        return self.student.endpoint_id

    def check_open(self) -> None:
        if self.closed:
            raise LabClosedError()

    def environ(self) -> dict[str, str]:
        """Variables that let another process (a notebook kernel) join this lab."""
        env = {"LABKIT_STRIPE_API_BASE": self.backend.api_base} if self.backend.offline else {}
        if self.checkout_url:
            env["LABKIT_CHECKOUT_URL"] = self.checkout_url
        return env

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.student.close()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
