"""Find a Chromium the kit can run headless, and the flags to run it safely here.

Used by the submission export (printing HTML to PDF) and by the browser driver
(Playwright's ``executable_path``). The search order is:

1. ``LABKIT_CHROMIUM`` (from the environment or ``.env``), if set: it must exist;
2. Playwright's own downloaded Chromium, if ``python -m playwright install chromium`` ran
   (Playwright is asked where it would be; nothing is downloaded);
3. a system Chromium or Chrome: ``/usr/bin/chromium``, then ``chromium``,
   ``chromium-browser``, ``google-chrome`` (and friends) on ``PATH``, then the usual
   macOS and Windows install folders.

Nothing runs at import time.
"""
from __future__ import annotations

import functools

import os
import shutil
import sys
from pathlib import Path
from typing import Mapping

from labkit import browser_thread

ENV_VAR = "LABKIT_CHROMIUM"

_PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

_INSTALL = ("install one with `python -m playwright install chromium` (or `sudo apt-get install chromium`), "
            f"or set {ENV_VAR} to a Chrome or Chromium executable")
_INSTALL_HINT = f"No Chromium found for printing and browser runs: {_INSTALL}."


class ChromiumNotFound(RuntimeError):
    """No usable Chromium: the message (one line) says how to install one or fix ``LABKIT_CHROMIUM``."""

    one_line = True


def _usable(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_file() and os.access(p, os.X_OK)


def _platform_paths() -> list[Path]:
    if sys.platform == "darwin":
        apps = [Path("/Applications"), Path.home() / "Applications"]
        bundles = [
            "Chromium.app/Contents/MacOS/Chromium",
            "Google Chrome.app/Contents/MacOS/Google Chrome",
            "Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
        ]
        return [a / b for a in apps for b in bundles]
    if os.name == "nt":
        roots = [os.environ.get(v) for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        tails = [r"Google\Chrome\Application\chrome.exe", r"Chromium\Application\chrome.exe"]
        return [Path(r) / t for r in roots if r for t in tails]
    return []


@functools.lru_cache(maxsize=1)
def playwright_chromium() -> str | None:
    """Playwright's own Chromium if it is downloaded, else ``None`` (never downloads); asked once per
    process (starting Playwright's driver costs about half a second). In the kit's browser thread
    (:mod:`labkit.browser_thread`), the Playwright it keeps is asked (started now if need be, as the
    launch that follows needs it): a second cannot start there."""
    try:
        kept = browser_thread.THREAD.playwright_here()
    except Exception:  # no Playwright, or its driver will not start: the system browser, if any
        return None
    if kept is not None:
        path = kept.chromium.executable_path
        return path if path and _usable(path) else None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:  # driver missing or broken: fall through to the system browser
        return None
    return path if path and _usable(path) else None


def candidates(environ: Mapping[str, str] | None = None, use_playwright: bool = True) -> list[str]:
    """Every usable Chromium found, in the order :func:`find_chromium` prefers them."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    if use_playwright:
        pw = playwright_chromium()
        if pw:
            found.append(pw)
    if _usable("/usr/bin/chromium"):
        found.append("/usr/bin/chromium")
    search_path = env.get("PATH", os.defpath)
    for name in _PATH_NAMES:
        hit = shutil.which(name, path=search_path)
        if hit:
            found.append(hit)
    found.extend(str(p) for p in _platform_paths() if _usable(p))
    unique: list[str] = []
    for f in found:
        if f not in unique:
            unique.append(f)
    return unique


def _configured(environ: Mapping[str, str] | None) -> str | None:
    if environ is not None:
        return (environ.get(ENV_VAR) or "").strip() or None
    try:  # the environment or the project's .env
        from labkit.settings import load_settings

        return load_settings().chromium
    except Exception:  # a settings problem is reported where the settings are used, not here
        return None


def find_chromium(environ: Mapping[str, str] | None = None, use_playwright: bool = True) -> str:
    """The path of a Chromium to run headless, or :class:`ChromiumNotFound` with install help.

    ``environ`` replaces ``os.environ`` (and ``.env``) for the ``LABKIT_CHROMIUM`` and
    ``PATH`` look-ups; tests use it.
    """
    configured = _configured(environ)
    if configured:
        path = Path(configured).expanduser()
        if not _usable(path):
            raise ChromiumNotFound(
                f"{ENV_VAR}={configured} is not an executable file: fix the path or unset {ENV_VAR} "
                "(then the kit looks for a browser itself; if there is none, run "
                "`python -m playwright install chromium` or `sudo apt-get install chromium`)."
            )
        return str(path)
    found = candidates(environ, use_playwright=use_playwright)
    if not found:
        raise ChromiumNotFound(_INSTALL_HINT)
    return found[0]


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return bool(geteuid and geteuid() == 0)


def chromium_args(headless: bool = True) -> list[str]:
    """The flags for running Chromium here: headless, quiet, no network chatter.

    ``--no-sandbox`` is added only when running as root, where Chromium refuses to
    start with its sandbox.
    """
    args = ["--headless"] if headless else []
    if _is_root():
        args.append("--no-sandbox")
    args += [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    return args


def launch_args(headless: bool = True) -> list[str]:
    """Same as :func:`chromium_args`, for Playwright's ``launch(args=...)``.

    Playwright adds its own ``--headless``; this list leaves it out.
    """
    return [a for a in chromium_args(headless) if a != "--headless"]
