"""Settings: read from the environment and an optional ``.env`` file, validated once.

Nothing here talks to the network or starts anything; :mod:`labkit.backend` does that.
Keys are never printed whole: :func:`redact` is the only way they leave this module
in a human-readable form.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from dotenv import dotenv_values

# Keys used when no keys are configured and the fake Stripe is the backend.
# They only work against the fake; real Stripe rejects them.
OFFLINE_SECRET_KEY = "sk_test_labkit_offline_fake_key"
OFFLINE_PUBLISHABLE_KEY = "pk_test_labkit_offline_fake_key"

_KEY_SHAPE = re.compile(r"^(sk|rk|pk)_(test|live)_[A-Za-z0-9_]{8,}$")
_WHSEC_SHAPE = re.compile(r"^whsec_[A-Za-z0-9_+/=]{8,}$")

BACKENDS = ("fake", "stripe")


def project_root(start: Path | None = None) -> Path:
    """The kit's checkout (the folder holding ``pyproject.toml`` and ``notebooks/``), else the cwd.

    Notebooks run with their own folder as the working directory; resolving paths from
    the project root lets them and the command line share one ``.env`` and one ``out/``.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


class SettingsError(ValueError):
    """A setting is missing, malformed or refused (for example a live key)."""


def redact(value: str | None) -> str:
    """Show a key's kind and last four characters only: ``sk_test_…abcd``."""
    if not value:
        return "(not set)"
    m = re.match(r"^((?:sk|rk|pk)_(?:test|live)_|whsec_)", value)
    prefix = m.group(1) if m else ""
    tail = value[-4:] if len(value) - len(prefix) > 8 else ""
    return f"{prefix}…{tail}"


def _check_key(name: str, value: str, allowed: tuple[str, ...]) -> str:
    value = value.strip()
    m = _KEY_SHAPE.match(value)
    if value.startswith(("sk_live_", "rk_live_", "pk_live_")):
        raise SettingsError(
            f"{name} is a LIVE key ({redact(value)}). This lab never touches real money: "
            f"use the test-mode key from the Stripe Dashboard (it starts with "
            f"'{allowed[0]}_test_'), or unset {name} to work offline."
        )
    if not m or m.group(1) not in allowed:
        want = " or ".join(f"'{a}_test_…'" for a in allowed)
        raise SettingsError(
            f"{name} is malformed ({redact(value)}): expected a Stripe test key starting "
            f"with {want}. Copy it again from Developers → API keys, or unset it to work offline."
        )
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the kit reads from its environment, already validated."""

    backend: str = "fake"
    secret_key: str = OFFLINE_SECRET_KEY
    publishable_key: str = OFFLINE_PUBLISHABLE_KEY
    webhook_secret: str | None = None
    api_base: str | None = None  # an already running Stripe-compatible server
    db_path: Path = Path("out/labkit.db")
    host: str = "127.0.0.1"
    checkout_port: int = 5000
    webhook_port: int = 5001
    out_dir: Path = Path("out")
    root: Path = Path(".")  # the kit's top folder (the student's deliverables are here)
    answers_dir: Path = Path("answers")  # the student's answers (labkit.answers)
    checkout_url: str | None = None  # a checkout already running (the demo's), LABKIT_CHECKOUT_URL
    start_timeout: float = 20.0  # seconds a student's server may take to start (LABKIT_START_TIMEOUT)
    demo_dir: Path = Path("out/demo")  # everything `labkit demo` writes (LABKIT_DEMO, default <out>/demo)
    allowed_hosts: tuple[str, ...] = ()  # Host names served besides localhost/127.0.0.1 (labkit.hostcheck)
    # Where the notebooks' Jupyter server is, as the student's browser sees it (labkit.links): a path such as
    # "/user/alice/" (JupyterHub's JUPYTERHUB_SERVICE_PREFIX) or a URL (LABKIT_JUPYTER_URL); "" on one's own machine.
    jupyter_url: str = ""
    jupyter_host: str = ""  # "jupyterhub", "binder", "remote" (LABKIT_JUPYTER_URL) or "" (this machine)
    student_name: str = ""
    course: str = "ITEC-442 Electronic Commerce"
    chromium: str | None = None  # LABKIT_CHROMIUM: a Chromium/Chrome to use instead of looking for one
    submission_date: str | None = None  # LABKIT_SUBMISSION_DATE: the date on the PDF's title page
    # Grading only (never from the environment): how the student's servers are confined
    # (a labkit.student.confine.Confinement; None: unconfined, as in a student's own check).
    confine: Any = None

    @property
    def offline(self) -> bool:
        return self.backend == "fake"

    # -- what the kit writes under out_dir (one spelling of each path) --------------------------
    @property
    def screenshots_dir(self) -> Path:
        """The lab's browser runs' screenshots (notebook 02, the demo): ``<out>/screenshots``."""
        return Path(self.out_dir) / "screenshots"

    @property
    def browser_runs_path(self) -> Path:
        """What each browser run showed (labkit.browser.save_runs), read by the export: ``<out>/evidence/browser_runs.json``."""
        return Path(self.out_dir) / "evidence" / "browser_runs.json"

    @property
    def charts_dir(self) -> Path:
        """The charts the notebooks save for the PDF: ``<out>/charts``."""
        return Path(self.out_dir) / "charts"

    @property
    def checks_dir(self) -> Path:
        """Each part's saved check results (labkit.checks.notebook): ``<out>/checks``."""
        return Path(self.out_dir) / "checks"

    @property
    def check_screenshots_dir(self) -> Path:
        """Screenshots of `labkit check` and the notebooks' checks: ``<out>/check/screenshots``."""
        return Path(self.out_dir) / "check" / "screenshots"

    @property
    def classroom_dir(self) -> Path:
        """`labkit classroom-check`'s cached parts and screenshots: ``<out>/classroom``."""
        return Path(self.out_dir) / "classroom"

    @property
    def executed_dir(self) -> Path:
        """The notebooks `labkit demo` executed: ``<out>/executed``."""
        return Path(self.out_dir) / "executed"

    @property
    def demo_submission_dir(self) -> Path:
        """The PDF and folder `labkit demo` exports: ``<out>/submission``."""
        return Path(self.out_dir) / "submission"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    def describe(self) -> dict[str, str]:
        """A safe summary (keys redacted) for status lines and notebooks."""
        return {
            "backend": self.backend,
            "STRIPE_SECRET_KEY": redact(self.secret_key),
            "STRIPE_PUBLISHABLE_KEY": redact(self.publishable_key),
            "STRIPE_WEBHOOK_SECRET": redact(self.webhook_secret),
            "LABKIT_STRIPE_API_BASE": self.api_base
            or ("(fake Stripe started in-process)" if self.offline else "https://api.stripe.com"),
            "LABKIT_DB": shown_path(self.db_path),
        }


def shown_path(path: Path) -> str:
    """A path relative to the project root when inside it (outputs stay the same on every machine)."""
    try:
        return Path(path).resolve().relative_to(project_root()).as_posix()
    except ValueError:
        return Path(path).as_posix()  # forward slashes on every OS, so outputs read the same


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """The variables of a ``.env`` file in UTF-8, UTF-8 with a BOM, or UTF-16 (PowerShell 5.1's ``>``).

    Anything else is a :class:`SettingsError` of one line saying how to save it.
    """
    from labkit.files import UnreadableFile, decode_text

    try:
        text = decode_text(Path(path).read_bytes(), legacy=False)  # the one reader of text files (BOMs, UTF-16)
    except UnreadableFile:
        raise SettingsError(
            f"{shown_path(Path(path))} is not UTF-8 or UTF-16 text: save it again as UTF-8 (Notepad: "
            "File → Save as → Encoding: UTF-8; VS Code: the encoding in the status bar), or delete it."
        ) from None
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def _seconds(raw: str | None, name: str, default: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise SettingsError(f"{name} must be a number of seconds from 1 to 3600, not {raw!r}.")
    return value


def _read_env(environ: Mapping[str, str] | None, env_file: str | os.PathLike | None,
              overrides: Mapping[str, str] | None, root: Path) -> Callable[[str], str | None]:
    """A getter over ``.env``, then the environment, then ``overrides`` (blank values count as unset)."""
    if env_file == "":
        env_file = root / ".env"
    env: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        env.update(read_env_file(env_file))
    env.update(os.environ if environ is None else environ)
    env.update(overrides or {})

    def get(name: str) -> str | None:
        v = env.get(name)
        return v.strip() if v and v.strip() else None
    return get


def _stripe_keys(get: Callable[[str], str | None]) -> tuple[str, str | None, str | None, str | None]:
    """(backend, secret key, publishable key, webhook secret), each checked; live keys refused."""
    sk = get("STRIPE_SECRET_KEY")
    pk = get("STRIPE_PUBLISHABLE_KEY")
    whsec = get("STRIPE_WEBHOOK_SECRET")
    if sk:
        sk = _check_key("STRIPE_SECRET_KEY", sk, ("sk", "rk"))
    if pk:
        pk = _check_key("STRIPE_PUBLISHABLE_KEY", pk, ("pk",))
    if whsec and not _WHSEC_SHAPE.match(whsec):
        raise SettingsError(
            f"STRIPE_WEBHOOK_SECRET is malformed ({redact(whsec)}): expected 'whsec_…' as printed "
            "by `stripe listen` or shown for the endpoint in the Dashboard."
        )
    backend = (get("LABKIT_BACKEND") or ("stripe" if sk else "fake")).lower()
    if backend not in BACKENDS:
        raise SettingsError(f"LABKIT_BACKEND must be 'fake' or 'stripe', not {backend!r}.")
    if backend == "stripe" and not (sk and pk):
        missing = " and ".join(n for n, v in (("STRIPE_SECRET_KEY", sk), ("STRIPE_PUBLISHABLE_KEY", pk)) if not v)
        raise SettingsError(
            f"LABKIT_BACKEND=stripe needs {missing}: copy the test keys from the Stripe Dashboard "
            "(Developers → API keys), or set LABKIT_BACKEND=fake to work offline."
        )
    return backend, sk, pk, whsec


def _port(get: Callable[[str], str | None], name: str, default: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise SettingsError(f"{name} must be a port number from 0 to 65535, not {raw!r}.")
    return int(raw)


def _urls(get: Callable[[str], str | None]) -> tuple[str | None, str, str]:
    """(the Stripe API base, the Jupyter server's URL, what kind of Jupyter host), checked."""
    api_base = get("LABKIT_STRIPE_API_BASE")
    if api_base and not re.match(r"^https?://", api_base):
        raise SettingsError(f"LABKIT_STRIPE_API_BASE must be an http(s) URL, not {api_base!r}.")
    jupyter_url = get("LABKIT_JUPYTER_URL") or get("JUPYTERHUB_SERVICE_PREFIX") or ""
    if jupyter_url and not re.match(r"^(https?://[^/\s\"'<>]+(/[^\s\"'<>]*)?|/[^\s\"'<>]*)$", jupyter_url):
        raise SettingsError(f"LABKIT_JUPYTER_URL must be the Jupyter server's address as your browser shows it "
                            f"(https://host/user/you/, or a path such as /user/you/), not {jupyter_url[:60]!r}.")
    jupyter_host = ("remote" if get("LABKIT_JUPYTER_URL") else "binder" if get("BINDER_LAUNCH_HOST") or
                    get("BINDER_REPO_URL") else "jupyterhub" if jupyter_url else "")
    return api_base, jupyter_url, jupyter_host


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | os.PathLike | None = "",
                  overrides: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``) over an optional ``.env``.

    ``env_file`` defaults to ``.env`` in the project root; ``None`` reads no file.
    Variables already in the environment win over the file, as with python-dotenv.
    Relative paths (``LABKIT_DB``, ``LABKIT_OUT``) are taken from the project root.
    ``overrides`` win over both (``{"LABKIT_BACKEND": "fake"}`` for the demo).
    """
    root = project_root()
    get = _read_env(environ, env_file, overrides, root)
    backend, sk, pk, whsec = _stripe_keys(get)
    api_base, jupyter_url, jupyter_host = _urls(get)
    return Settings(
        backend=backend,
        secret_key=sk or OFFLINE_SECRET_KEY,
        publishable_key=pk or OFFLINE_PUBLISHABLE_KEY,
        webhook_secret=whsec,
        api_base=api_base.rstrip("/") if api_base else None,
        db_path=root / (get("LABKIT_DB") or "out/labkit.db"),
        host=get("LABKIT_HOST") or "127.0.0.1",
        checkout_port=_port(get, "LABKIT_CHECKOUT_PORT", 5000),
        webhook_port=_port(get, "LABKIT_WEBHOOK_PORT", 5001),
        out_dir=root / (get("LABKIT_OUT") or "out"),
        root=root,
        demo_dir=root / get("LABKIT_DEMO") if get("LABKIT_DEMO") else root / (get("LABKIT_OUT") or "out") / "demo",
        answers_dir=root / (get("LABKIT_ANSWERS") or "answers"),
        checkout_url=(get("LABKIT_CHECKOUT_URL") or "").rstrip("/") or None,
        start_timeout=_seconds(get("LABKIT_START_TIMEOUT"), "LABKIT_START_TIMEOUT", 20.0),
        allowed_hosts=tuple(h.strip() for h in (get("LABKIT_ALLOWED_HOSTS") or "").split(",") if h.strip()),
        jupyter_url=jupyter_url.rstrip("/") + "/" if jupyter_url else "",
        jupyter_host=jupyter_host,
        student_name=get("LABKIT_STUDENT_NAME") or "",
        course=get("LABKIT_COURSE") or "ITEC-442 Electronic Commerce",
        chromium=get("LABKIT_CHROMIUM"),
        submission_date=get("LABKIT_SUBMISSION_DATE"),
    )


def offline_settings() -> Settings:
    """Settings for re-running a student's work to grade it: always the offline fake Stripe, with the kit's
    made-up keys, whatever keys the environment or a committed ``.env`` holds (GitHub Classroom, graders)."""
    kept = {k: v for k, v in os.environ.items()
            if not k.startswith("STRIPE_") and k not in ("LABKIT_BACKEND", "LABKIT_STRIPE_API_BASE")}
    return load_settings(environ=kept, env_file=None).with_(backend="fake", secret_key=OFFLINE_SECRET_KEY,
                                              publishable_key=OFFLINE_PUBLISHABLE_KEY, webhook_secret=None,
                                              api_base=None)
