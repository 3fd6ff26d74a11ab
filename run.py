#!/usr/bin/env python3
"""One entry point that sets everything up on a fresh machine, then runs the lab or the tests.

    python run.py demo     # the whole lab offline, ending in submission/ (the README's main command)
    python run.py test     # every test: unit, fake Stripe, browser, notebooks under nbval
    python run.py setup    # only the set-up (virtualenv, pinned packages, a Chromium)
    python run.py lab [ARGS]  # set up, then JupyterLab at the kit's top folder on notebooks/01_setup.ipynb
                              # (ARGS go to JupyterLab: --no-browser --port 8899 --ip 0.0.0.0 ...)

Standard library only, so it runs before anything is installed (Windows: ``py run.py demo``).
It makes ``.venv`` beside this file, installs the pinned packages from ``constraints.txt``,
and finds a Chromium (Debian as root: ``apt-get install chromium``; elsewhere Playwright's own).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".labkit-installed"
PYTEST_ARGS = [
    "tests", "notebooks",
    "--nbval", "--nbval-current-env", "--nbval-cell-timeout=300",
    "--nbval-sanitize-with=tests/nbval_sanitize.cfg",
]


def say(msg: str) -> None:
    print(f"[run.py] {msg}", flush=True)


def sh(*cmd: str | Path, check: bool = True, **kw) -> int:
    return subprocess.run([str(c) for c in cmd], check=check, cwd=ROOT, **kw).returncode


def install_fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    if sys.version_info < (3, 10):
        sys.exit(f"labkit needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        say(f"creating the virtualenv {VENV.name}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == install_fingerprint():
        return
    say("installing the pinned packages (constraints.txt); the first time takes a minute or two")
    sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip")
    sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
       "-c", "constraints.txt", "-e", ".[test]")
    STAMP.write_text(install_fingerprint())


def find_chromium() -> str | None:
    code = "from labkit.chromium import find_chromium; print(find_chromium())"
    out = subprocess.run([str(PY), "-c", code], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def ensure_chromium() -> None:
    if find_chromium():
        return
    debian = Path("/etc/debian_version").exists() and shutil.which("apt-get")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if debian and is_root:
        say("installing Debian's chromium (apt-get)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        sh("apt-get", "update", "-qq", env=env)
        sh("apt-get", "install", "-y", "-qq", "chromium", "fonts-liberation", env=env)
    elif debian:
        sys.exit("No Chromium found. Install it with:  sudo apt-get install chromium   (then run this again)")
    else:
        say("installing Playwright's Chromium (python -m playwright install chromium)")
        sh(PY, "-m", "playwright", "install", "chromium")
    if not find_chromium():
        sys.exit("Chromium is still not found: see README → Troubleshooting.")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in ("setup", "test", "demo", "lab"):
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    ensure_venv()
    ensure_chromium()
    if command == "setup":
        say("ready: .venv has labkit and its pinned dependencies; a Chromium was found")
        return 0
    if command == "test":
        return sh(PY, "-m", "pytest", *PYTEST_ARGS, *argv[1:], check=False)
    if command == "demo":
        return sh(PY, "-m", "labkit.cli", "demo", *argv[1:], check=False)
    return run_lab(argv[1:])


def lab_command(args: list[str], as_root: bool) -> list[str]:
    """The JupyterLab command line: the kit's top folder as the root (so out/, answers/ and .env show in
    the file browser), opening notebooks/01_setup.ipynb; ``args`` are passed through, and as root
    ``--allow-root`` is added unless given (Docker, Codespaces and course containers run as root)."""
    cmd = [str(PY), "-m", "jupyterlab"]
    named = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    if not named & {"--ServerApp.root_dir", "--notebook-dir", "--ServerApp.notebook_dir"}:
        cmd.append(f"--ServerApp.root_dir={ROOT}")
    if "--LabApp.default_url" not in named:
        cmd.append("--LabApp.default_url=/lab/tree/notebooks/01_setup.ipynb")
    if as_root and not named & {"--allow-root", "--no-allow-root", "--ServerApp.allow_root"}:
        cmd.append("--allow-root")
    return cmd + list(args)


def run_lab(args: list[str]) -> int:
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    cmd = lab_command(args, is_root)
    say("starting JupyterLab: " + " ".join(cmd[1:]))
    try:
        return subprocess.run(cmd, cwd=ROOT, check=False).returncode
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
