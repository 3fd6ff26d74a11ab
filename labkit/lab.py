"""One running lab: a Stripe backend and the student's own two servers, for one folder.

A notebook does ``lab = Lab.start()``: offline, a fake Stripe on a free port; then
``webhook_handler.py`` and ``checkout_server.py`` from the kit's top folder, each in its own
process on a free port of 127.0.0.1 (:class:`labkit.student.runner.StudentServer`), each with its
own temporary database. Offline, the handler's URL is registered with the fake Stripe, which signs
and delivers every event to it; the handler gets the endpoint's secret through
``STRIPE_WEBHOOK_SECRET``, as the handout says. In Stripe test mode the handler listens on
``LABKIT_WEBHOOK_PORT`` (5001) for ``stripe listen``.

The checks and grading start the same lab for a student's folder with ``notebook=False``: a file
that does not start is kept in :attr:`Lab.errors` (unless ``strict``), so each check can say why.
The ``labkit checkout`` and ``labkit webhooks`` commands :meth:`Lab.open` one on the shared offline
fake Stripe and start the server they serve on its usual port.

``labkit demo`` starts one checkout for every notebook and passes its URL (``LABKIT_CHECKOUT_URL``,
with ``LABKIT_STRIPE_API_BASE``), so Part E prices Part B's payments; a notebook's lab then uses it.

A lab closed by the last cell says so when used again, instead of a connection error. In a notebook
kernel the lab started last is :func:`current`: starting another (the ``Lab.start()`` cell run again)
stops it first, and the check cell finds it there; after a kernel restart there is none, and the
check says to run the notebook from the top (:class:`RunFromTheTop`).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from labkit.backend import Backend, connect, connect_shared
from labkit.errors import LabClosedError, RunFromTheTop  # noqa: F401  (raised here; notebooks import them from here)
from labkit.settings import Settings, load_settings
from labkit.student.runner import StudentServer, StudentServerError, free_port

CHECKOUT_FILE = "checkout_server.py"
WEBHOOK_FILE = "webhook_handler.py"

_current: "Lab | None" = None  # in a notebook kernel: the lab its Lab.start() cell started last


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def current() -> "Lab | None":
    """The lab this notebook kernel started last (None outside a notebook, or before ``Lab.start()``)."""
    return _current


def register_endpoint(client: Any, url: str) -> tuple[str, str]:
    """Register ``url`` for every event; returns (endpoint id, signing secret)."""
    ep = client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": ["*"],
                                                    "description": "labkit: the student's webhook handler"})
    return ep.id, ep.secret


class SharedCheckout:
    """A checkout the demo runs for every notebook (``LABKIT_CHECKOUT_URL``): not ours to read or stop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.debug_requested = False

    def log_text(self) -> str:
        return ""

    def stop(self) -> None:
        pass


@dataclass
class Lab:
    settings: Settings
    backend: Backend
    folder: Path
    work: Path  # the student's servers' databases and logs
    checkout: StudentServer | SharedCheckout | None = None
    webhooks: StudentServer | None = None
    webhook_secret: str | None = None
    endpoint_id: str | None = None
    errors: dict[str, StudentServerError] = field(default_factory=dict)
    own_backend: bool = True
    keep_endpoint: bool = False  # `labkit webhooks`: the endpoint outlives the run (webhook_endpoint.json)
    closed: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, settings: Settings, folder: Path | None = None, *, backend: Backend | None = None,
             shared_fake: bool = False) -> "Lab":
        """A lab with no server yet. The backend is chosen here, once: ``backend`` (borrowed, not closed with
        the lab), else the one the settings choose (``shared_fake``: offline, the fake the standalone
        commands share, see :func:`labkit.backend.connect_shared`); the lab closes a backend it opened."""
        own = backend is None
        if own:
            backend = connect_shared(settings) if shared_fake and settings.offline else connect(settings)
        lab = cls(settings=settings, backend=backend, folder=Path(folder or settings.root).resolve(),
                  work=Path(tempfile.mkdtemp(prefix="labkit-")), own_backend=own)
        if settings.confine is not None:  # grading: the student's servers keep their databases here
            settings.confine.give(lab.work)
        return lab

    @classmethod
    def start(cls, settings: Settings | None = None, folder: Path | None = None, *, checkout: bool = True,
              webhooks: bool = True, strict: bool = True, notebook: bool = True,
              backend: Backend | None = None, browser: bool = False) -> "Lab":
        """Start what is asked for ``folder`` (default: the kit's top).

        ``browser``: the caller will drive Chromium, so the kit's Chromium is launched now, in the background
        (:func:`labkit.browser.warm_up`), while the servers start (and, in a notebook, while its next cells run).

        ``strict``: a student file that cannot start raises one clear line; otherwise it is kept in
        :attr:`errors`. ``notebook`` (a notebook's ``Lab.start()``): the lab an earlier run of this cell
        started is stopped first (its servers and ports), the demo's shared checkout is used, and the lab
        becomes :func:`current`; the checks and grading pass ``notebook=False``. Settings are loaded here
        only for a notebook's ``Lab.start()``; every other caller passes its own."""
        global _current
        if notebook and _current is not None and _in_notebook():
            _current.close()
            _current = None
        if browser:
            from labkit.browser import warm_up

            warm_up()
        settings = settings or load_settings()
        lab = cls.open(settings, folder, backend=backend)
        shared = settings.checkout_url if notebook and checkout else None
        if shared:
            lab.checkout = SharedCheckout(shared)
        try:
            if webhooks:
                lab._try(lab.start_webhooks, "webhooks", strict)
            if checkout and not shared:
                lab._try(lab.start_checkout, "checkout", strict)
        except BaseException:
            lab.close()
            raise
        if notebook and _in_notebook():
            _current = lab
        return lab

    def _try(self, start: Callable[[], Any], name: str, strict: bool) -> None:
        try:
            start()
        except StudentServerError as exc:
            self.errors[name] = exc
            if strict:
                raise

    @property
    def client(self) -> Any:
        self.check_open()
        return self.backend.client

    @property
    def checkout_url(self) -> str | None:
        return self.checkout.url if self.checkout is not None else None

    @property
    def webhook_url(self) -> str | None:
        return self.webhooks.url if self.webhooks is not None else None

    def check_open(self) -> None:
        if self.closed:
            raise LabClosedError()

    def keys_env(self) -> dict[str, str]:
        return {"STRIPE_SECRET_KEY": self.settings.secret_key, "STRIPE_PUBLISHABLE_KEY": self.settings.publishable_key}

    def server(self, filename: str, env: dict[str, str], port: int = 0, name: str | None = None) -> StudentServer:
        """The student's ``filename`` from this lab's folder, not started yet, with the keys and ``env``."""
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

    def environ(self) -> dict[str, str]:
        """Variables that let another process (a notebook kernel) join this lab."""
        env = {"LABKIT_STRIPE_API_BASE": self.backend.api_base} if self.backend.offline else {}
        if self.checkout_url:
            env["LABKIT_CHECKOUT_URL"] = self.checkout_url
        return env

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for srv in (self.checkout, self.webhooks):
            if srv is not None:
                srv.stop()
        if self.endpoint_id and self.backend.offline and not self.keep_endpoint:
            try:  # a shared fake Stripe keeps no endpoint pointing at a server that is gone
                self.backend.client.v1.webhook_endpoints.delete(self.endpoint_id)
            except Exception:
                pass
        if self.own_backend:
            self.backend.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
