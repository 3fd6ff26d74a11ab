#!/usr/bin/env python3
"""One entry point that sets everything up on a fresh machine, then runs the lab or the tests.

    python run.py demo     # the whole lab offline, ending in out/demo/submission/ (the README's main command)
    python run.py test     # the linter, then every test: unit, fake Stripe, browser, notebooks under nbval
    python run.py test -m "not browser and not slow"   # the fast run (see README); or name test files
    python run.py setup    # only the set-up (virtualenv, pinned packages, a Chromium)
    python run.py lab [ARGS]  # set up, then JupyterLab at the kit's top folder on notebooks/01_setup.ipynb
                              # (ARGS go to JupyterLab: --no-browser --port 8899 --ip 0.0.0.0 ...)

Standard library only, so it runs before anything is installed (Windows: ``py run.py demo``).
It makes ``.venv`` beside this file, installs the pinned packages from ``constraints.txt``,
and finds a Chromium (Debian as root: ``apt-get install chromium``; elsewhere Playwright's own).
Python 3.11.5 to 3.14: the pinned packages have wheels for exactly these (see pyproject.toml).
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
# The pins' range: pandas/numpy/matplotlib/ipython need 3.11, soupsieve 3.11.5, and numpy and
# contourpy have no wheels for 3.15 (checked with `pip download --only-binary=:all:`).
OLDEST, NEWEST = (3, 11, 5), (3, 14)
# Windows' 260-character path limit: the deepest file pip writes into .venv is ~150 characters below it.
LONG_KIT_PATH = 100
PYTEST_ARGS = [
    "tests", "notebooks",
    "--nbval", "--nbval-current-env", "--nbval-cell-timeout=300",
    "--nbval-sanitize-with=tests/nbval_sanitize.cfg",
]


def pytest_args() -> list[str]:
    """The student edition ships notebooks without outputs: there nbval only checks that every
    cell runs (``--nbval-lax``); the solution edition compares the stored outputs too."""
    if student_edition():
        return [("--nbval-lax" if a == "--nbval" else a) for a in PYTEST_ARGS if not a.startswith("--nbval-sanitize")]
    return PYTEST_ARGS


def say(msg: str) -> None:
    print(f"[run.py] {msg}", flush=True)


def sh(*cmd: str | Path, check: bool = True, **kw) -> int:
    return subprocess.run([str(c) for c in cmd], check=check, cwd=ROOT, **kw).returncode


class SetupFailed(Exception):
    """A set-up step failed: the message (one line) says what to do."""


def python_problem(version: tuple = tuple(sys.version_info[:3])) -> str | None:
    """One line naming a Python to use when this one is outside the pins' range, else ``None``."""
    if OLDEST <= tuple(version[:3]) and tuple(version[:2]) <= NEWEST:
        return None
    this = ".".join(map(str, version[:3]))
    command = "lab" if student_edition() else "demo"
    use = f"py -3.13 run.py {command}" if os.name == "nt" else f"python3.13 run.py {command}"
    where = "from python.org" if os.name == "nt" or sys.platform == "darwin" else "(your package manager or python.org)"
    return (f"labkit needs Python 3.11.5 to 3.14 (its pinned packages have no wheels for {this}): "
            f"install Python 3.13 {where} and run:  {use}")


def long_path_warning(root: Path = ROOT, windows: bool = os.name == "nt",
                      long_paths: bool | None = None) -> str | None:
    """A warning when ``.venv`` inside ``root`` may exceed Windows' 260-character path limit."""
    if not windows or len(str(root)) <= LONG_KIT_PATH:
        return None
    if long_paths is None:
        long_paths = _windows_long_paths_enabled()
    if long_paths:
        return None
    return (f"warning: the kit's folder path is {len(str(root))} characters long; files deep inside .venv "
            "may pass Windows' 260-character limit and fail to install. Move the kit to a short path "
            r"such as C:\labkit (not inside OneDrive), or enable long paths (LongPathsEnabled).")


def _windows_long_paths_enabled() -> bool:
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
            return winreg.QueryValueEx(key, "LongPathsEnabled")[0] == 1
    except (ImportError, OSError):
        return False


def install_fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_venv() -> None:
    problem = python_problem()
    if problem:
        raise SetupFailed(problem)
    warning = long_path_warning()
    if warning:
        say(warning)
    if not PY.exists():
        say(f"creating the virtualenv {VENV.name}/")
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except (subprocess.CalledProcessError, OSError) as exc:
            shutil.rmtree(VENV, ignore_errors=True)  # half a virtualenv would be taken for a whole one
            hint = "on Debian/Ubuntu/WSL: sudo apt-get install python3-venv" if os.name != "nt" else \
                "reinstall Python from python.org with pip included"
            raise SetupFailed(f"could not create the virtualenv {VENV.name}/ ({exc}); {hint}, then run this again.")
    if STAMP.exists() and STAMP.read_text() == install_fingerprint():
        return
    say("installing the pinned packages (constraints.txt); the first time takes a minute or two")
    sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip")
    sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
       "-c", "constraints.txt", "-e", ".[test]")
    STAMP.write_text(install_fingerprint())


def find_chromium() -> str | None:
    code = "from labkit.chromium import find_chromium; print(find_chromium())"
    # UTF-8 both ways: a path with characters outside the console's code page must come back whole.
    out = subprocess.run([str(PY), "-c", code], cwd=ROOT, capture_output=True, encoding="utf-8",
                         errors="replace", env={**os.environ, "PYTHONIOENCODING": "utf-8"})
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
    else:  # no root needed (Ubuntu's chromium is a snap wrapper, unusable under WSL)
        say("no Chromium on this system: installing Playwright's own (python -m playwright install chromium)")
        if sh(PY, "-m", "playwright", "install", "chromium", check=False) != 0:
            raise SetupFailed("Playwright could not download its Chromium (offline? behind a proxy?): run "
                              f"{PY.relative_to(ROOT)} -m playwright install chromium, or set LABKIT_CHROMIUM "
                              "to a Chrome or Chromium you have.")
    if not find_chromium():
        hint = (f" Linux: its system libraries may be missing: sudo {PY.relative_to(ROOT)} -m playwright "
                "install-deps chromium." if sys.platform.startswith("linux") else "")
        raise SetupFailed("Chromium is still not found (see README, Troubleshooting)." + hint)


STUDENT_DOC = """Sets everything up on a fresh machine, then opens the lab or runs the kit's tests.

    python run.py lab [ARGS]  # set up, then JupyterLab on notebooks/01_setup.ipynb (ARGS go to JupyterLab)
    python run.py test        # the kit's tests (they pass before and after your work)
    python run.py setup       # only the set-up (virtualenv, pinned packages, a Chromium)

Windows: ``py run.py lab``. README.md says what to do, in the handout's order.
"""


def student_edition() -> bool:
    edition = ROOT / "labkit" / "data" / "edition.json"
    return edition.is_file() and '"student"' in edition.read_text(encoding="utf-8")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "demo" and student_edition() and not python_problem():
        return fail("the demo runs the instructor's model solution and is not part of the student edition: "
                    "run `python3 run.py lab` and follow README.md.", 2)
    if command not in ("setup", "test", "demo", "lab"):
        print(STUDENT_DOC if student_edition() else __doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    try:
        ensure_venv()
        ensure_chromium()
    except SetupFailed as exc:
        return fail(str(exc))
    except subprocess.CalledProcessError as exc:
        return step_failed(exc)
    except OSError as exc:
        return fail(f"set-up failed: {exc}")
    except KeyboardInterrupt:
        return fail("set-up interrupted; run this again to finish it.", 130)
    if command == "setup":
        say("ready: .venv has labkit and its pinned dependencies; a Chromium was found")
        return 0
    if command == "test":
        return run_tests(argv[1:])
    if command == "demo":
        return sh(PY, "-m", "labkit.cli", "demo", *argv[1:], check=False)
    return run_lab(argv[1:])


LINTED = ["labkit", "tests", "bench", "run.py", "checkout_server.py", "webhook_handler.py", "variants"]


def run_tests(args: list[str]) -> int:
    """The linter (ruff, a small rule set in pyproject.toml) on the kit's code, then every test. With
    arguments, pytest alone with them: paths (``tests/test_checks.py``) instead of the whole suite, or
    options (``-m "not browser and not slow"``: the fast run) for the whole of ``tests/``."""
    if not args:
        code = sh(PY, "-m", "ruff", "check", "--quiet", *[p for p in LINTED if (ROOT / p).exists()], check=False)
        if code != 0:
            say("ruff found the problems above: fix them, then run this again.")
            return code
        return sh(PY, "-m", "pytest", *pytest_args(), check=False)
    named = any(not a.startswith("-") and (ROOT / a.split("::")[0]).exists() for a in args)
    return sh(PY, "-m", "pytest", *([] if named else ["tests"]), *args, check=False)


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


def fail(message: str, code: int = 1) -> int:
    print(f"[run.py] {message}", file=sys.stderr, flush=True)
    return code


def step_failed(exc: subprocess.CalledProcessError) -> int:
    cmd = " ".join(Path(str(c)).name if i == 0 else str(c) for i, c in enumerate(exc.cmd))
    return fail(f"set-up step failed (exit code {exc.returncode}): {cmd}; see the lines above. "
                "Run this again; if it fails the same way, see README, Troubleshooting.")


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:  # any step outside main's own set-up
        sys.exit(step_failed(exc))
    except KeyboardInterrupt:  # Ctrl-C while a command runs: its own output said what stopped
        sys.exit(130)
