"""One running lab for a notebook: a Stripe backend and the student's own two servers.

A notebook does ``lab = Lab.start()``: offline, a fake Stripe on a free port; then
``webhook_handler.py`` and ``checkout_server.py`` from the kit's top folder, each in its own
process on a free port of 127.0.0.1 (see :mod:`labkit.student`), the handler registered with the
fake Stripe. ``labkit demo`` starts one checkout for every notebook and passes its URL
(``LABKIT_CHECKOUT_URL``, with ``LABKIT_STRIPE_API_BASE``), so Part E prices Part B's payments.

A lab closed by the last cell says so when used again, instead of a connection error. In a notebook
kernel the lab started last is :func:`current`: starting another (the ``Lab.start()`` cell run again)
stops it first, and the check cell finds it there; after a kernel restart there is none, and the
check says to run the notebook from the top (:class:`RunFromTheTop`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labkit.backend import Backend, connect
from labkit.errors import LabClosedError, RunFromTheTop  # noqa: F401  (raised here; notebooks import them from here)
from labkit.settings import Settings, load_settings
from labkit.student.lab import StudentLab


_current: "Lab | None" = None  # in a notebook kernel: the lab its Lab.start() cell started last


def _in_notebook() -> bool:
    import sys

    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def current() -> "Lab | None":
    """The lab this notebook kernel started last (None outside a notebook, or before ``Lab.start()``)."""
    return _current


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
        """Start what this notebook needs; a student file that cannot start raises one clear line.
        In a notebook, the lab an earlier run of this cell started is stopped first (its servers and ports)."""
        global _current
        if _current is not None and _in_notebook():
            _current.close()
            _current = None
        settings = settings or load_settings()
        backend = connect(settings)
        shared = settings.checkout_url if checkout else None
        student = StudentLab.start(settings.root, settings, backend=backend, checkout=checkout and not shared,
                                   webhooks=webhooks, strict=True)
        student.own_backend = True
        lab = cls(settings=settings, backend=backend, student=student)
        lab.checkout_url = shared or (student.checkout.url if student.checkout else None)
        lab.webhook_url = student.webhooks.url if student.webhooks else None
        if _in_notebook():
            _current = lab
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
