"""The kit's configuration and dependencies: default or shared keys, a readable ``.env``, the pins.

These read the local configuration (the kit's settings, ``.env``, ``pyproject.toml``), not a
server: for a student's own servers they describe the machine the check runs on.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from labkit.pci.results import CheckResult, result
from labkit.settings import (
    OFFLINE_PUBLISHABLE_KEY,
    OFFLINE_SECRET_KEY,
    redact,
)

_PLACEHOLDER = re.compile(r"(example|your|xxxx|placeholder|changeme|dummy|123456)", re.I)


def check_default_credentials(settings: Any, env_file: str | os.PathLike | None = None) -> CheckResult:
    """The kit's configuration: the offline fake keys used with real Stripe, placeholder keys, a
    missing webhook secret, a ``.env`` (``env_file``, default the one in ``settings.root``) readable by others or
    tracked by git."""
    root = Path(settings.root)
    env_path = Path(env_file) if env_file else root / ".env"
    details: list[str] = []
    gaps: list[str] = []
    if settings.offline:
        details.append(f"backend: offline fake Stripe; secret key {redact(settings.secret_key)} is the kit's built-in "
                       "key, accepted only by the fake Stripe on this machine (it moves no money and opens no account)")
    else:
        details.append(f"backend: Stripe test mode; secret key {redact(settings.secret_key)}, "
                       f"publishable key {redact(settings.publishable_key)}")
        if settings.secret_key == OFFLINE_SECRET_KEY or settings.publishable_key == OFFLINE_PUBLISHABLE_KEY:
            gaps.append("the kit's public offline key is configured for Stripe mode (a key every student knows)")
        for name, value in (("STRIPE_SECRET_KEY", settings.secret_key), ("STRIPE_PUBLISHABLE_KEY", settings.publishable_key)):
            if value and _PLACEHOLDER.search(value.split("_", 2)[-1]):
                gaps.append(f"{name} looks like a placeholder ({redact(value)})")
        if not settings.webhook_secret:
            gaps.append("no STRIPE_WEBHOOK_SECRET: the webhook handler cannot verify Stripe's signatures")
        elif _PLACEHOLDER.search(settings.webhook_secret[6:]):
            gaps.append(f"STRIPE_WEBHOOK_SECRET looks like a placeholder ({redact(settings.webhook_secret)})")
    if env_path.is_file():
        mode = env_path.stat().st_mode & 0o777
        if os.name == "posix" and mode & 0o077:
            gaps.append(f".env is readable by other users of this machine (mode {mode:o}; chmod 600 .env)")
        else:
            details.append(".env exists and only its owner can read it")
        if _git_tracked(root, env_path):
            gaps.append(".env is committed to git: everyone with the repository has the keys")
        else:
            details.append(".env is not tracked by git")
    else:
        details.append("no .env file (keys, if any, come from the environment)")
    details.append("no login of the kit has a password: the servers have no admin accounts to default")
    if gaps:
        details[:0] = [f"problem: {g}" for g in gaps]
        return result("no_default_credentials", "gap", gaps[0], details,
                      "Use your own test keys from the Dashboard (never the kit's offline key or a sample value), "
                      "keep .env private (chmod 600, listed in .gitignore), and roll any key that was shared.")
    summary = ("offline: only the kit's fake key, which nothing but the local fake Stripe accepts"
               if settings.offline else "own test keys and a webhook secret; .env private")
    return result("no_default_credentials", "pass", summary, details)


def _git_tracked(root: Path, path: Path) -> bool:
    try:
        out = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=root, capture_output=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def check_dependencies(root: str | os.PathLike) -> CheckResult:
    """The pinned dependencies (pyproject.toml) and what is installed: the list to review
    against advisories for 6.3.1 and to keep patched for 6.3.3."""
    from importlib import metadata

    root = Path(root)
    pyproject = root / "pyproject.toml"
    specs: list[str] = []
    origin = ""
    if pyproject.is_file():
        import tomllib

        doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        project = doc.get("project", {})
        specs = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            specs += list(extra)
        origin = "pyproject.toml"
    else:
        try:
            specs = [r.split(";")[0].strip() for r in metadata.requires("labkit") or []]
            origin = "the installed labkit's metadata"
        except metadata.PackageNotFoundError:
            return result("dependency_inventory", "error", "no pyproject.toml and labkit is not installed")
    details = [f"Python {sys.version_info.major}.{sys.version_info.minor}; packages from {origin}:"]
    mismatched, unpinned = [], []
    for spec in specs:
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(==|>=|~=|<=|>|<)?\s*([^;\s,]*)", spec)
        if not m:
            continue
        name, op, want = re.sub(r"\[.*\]", "", m.group(1)), m.group(2), m.group(3)
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "not installed"
        note = ""
        if op != "==":
            unpinned.append(name)
            note = " (not pinned)"
        elif have != want:
            mismatched.append(f"{name} {have} (pinned {want})")
            note = f" (pinned {want})"
        details.append(f"  - {name} {have}{note}")
    details.append("Review these versions against security advisories (for example `pip-audit`, the GitHub advisory "
                   "database, the projects' security pages) and record who does it and how often; this check does "
                   "not query a vulnerability database (the kit works offline).")
    if mismatched or unpinned:
        bad = mismatched + [f"{n} (not pinned)" for n in unpinned]
        return result("dependency_inventory", "gap", f"installed versions differ from the pins: {', '.join(bad)}",
                      details, "Reinstall from the pins (python3 run.py) or update the pins deliberately after "
                               "reviewing the changes; keep every dependency pinned.")
    return result("dependency_inventory", "pass",
                  f"{len(specs)} packages, all pinned and installed as pinned; to review against advisories", details)


