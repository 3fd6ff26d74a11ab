"""``labkit autograder gradescope OUT.zip``: the zip to upload as a Gradescope programming assignment's autograder.

At its root: ``setup.sh`` (Gradescope runs it once, as root, when it builds the image),
``run_autograder`` (run for each submission), ``fallback_results.json`` (what ``run_autograder``
writes if the kit's Python cannot even start), and the kit's source (``labkit/``, ``pyproject.toml``,
``constraints.txt``, ``README.md``), which ``setup.sh`` installs with its pinned packages.

Python: Gradescope's own harness uses the image's ``python3``, so the kit gets a virtualenv of its
own (``/opt/labkit-venv``) from a Python the pins allow (3.11.5 to 3.14), never replacing ``python3``:

- Ubuntu 24.04: the image's ``python3`` is 3.12: used as it is (with ``python3-venv`` from apt).
- Ubuntu 22.04 (Gradescope's default, Python 3.10) and 20.04 (3.8): no allowed Python in the image or
  in Ubuntu's archive, so ``setup.sh`` installs the pinned ``uv`` from PyPI in a throwaway virtualenv
  and lets it install a standalone CPython 3.13 under ``/opt/labkit-python``.
- Ubuntu 18.04: refused: the pinned Playwright's Chromium does not support it.

Chromium: ``python -m playwright install --with-deps chromium`` (Playwright's build and the Ubuntu
libraries it needs; Ubuntu's own ``chromium`` package is a snap stub that cannot run in a container).
"""
from __future__ import annotations

import argparse
import json
import stat
import zipfile
from pathlib import Path

from labkit.autograder.gradescope import DEFAULT_TIMEOUT, failure_results
from labkit.release import kit_files
from labkit.settings import project_root

UV_PIN = "uv==0.13.8"
KIT_TOP_FILES = ("pyproject.toml", "constraints.txt", "README.md")

SETUP_SH = r"""#!/usr/bin/env bash
# labkit's Gradescope autograder: set-up. Gradescope runs this once, as root, when it builds the image.
# Tests (and a dry run on your own machine) can move and skip steps:
#   LABKIT_AUTOGRADER_SOURCE (default /autograder/source), LABKIT_VENV (default /opt/labkit-venv),
#   LABKIT_PYTHON (an interpreter to try first), LABKIT_SETUP_SKIP="apt python-install install chromium".
set -euo pipefail
SOURCE="${LABKIT_AUTOGRADER_SOURCE:-/autograder/source}"
VENV="${LABKIT_VENV:-/opt/labkit-venv}"
SKIP=" ${LABKIT_SETUP_SKIP:-} "
step() { case "$SKIP" in *" $1 "*) echo "setup.sh: skipping $1"; return 1;; esac; echo "setup.sh: $1"; }

# The kit's pins need Python 3.11.5 to 3.14 (pyproject.toml's requires-python).
allowed() { "$1" -c 'import sys; sys.exit(not ((3, 11, 5) <= sys.version_info[:3] < (3, 15)))' 2>/dev/null; }
find_python() {
  local p found
  for p in "${LABKIT_PYTHON:-}" python3.13 python3.12 python3.14 python3.11 python3; do
    [ -n "$p" ] || continue
    found="$(command -v "$p" 2>/dev/null)" || continue
    if allowed "$found"; then echo "$found"; return 0; fi
  done
  return 1
}

if [ -r /etc/os-release ] && grep -q '^VERSION_ID="18\.04"' /etc/os-release; then
  echo "setup.sh: Ubuntu 18.04 cannot run the pinned Playwright's Chromium: choose the Ubuntu 22.04 or 24.04 base image" >&2
  exit 1
fi

if step apt; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends ca-certificates python3-venv
fi

PY="$(find_python || true)"
if [ -z "$PY" ] && step python-install; then
  # Ubuntu 20.04/22.04: no allowed Python in the image; a standalone CPython 3.13 beside the system python3.
  python3 -m venv /opt/labkit-uv
  /opt/labkit-uv/bin/pip install -q "@UV_PIN@"
  export UV_PYTHON_INSTALL_DIR=/opt/labkit-python
  /opt/labkit-uv/bin/uv python install 3.13
  PY="$(/opt/labkit-uv/bin/uv python find --python-preference only-managed 3.13)"
fi
if [ -z "$PY" ] || ! allowed "$PY"; then
  echo "setup.sh: no Python 3.11.5 to 3.14 found; set LABKIT_PYTHON or let the python-install step run" >&2
  exit 1
fi
echo "setup.sh: using $PY ($("$PY" --version 2>&1))"
"$PY" -m venv "$VENV"

if step install; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -c "$SOURCE/constraints.txt" "$SOURCE"
fi
if step chromium; then
  "$VENV/bin/python" -m playwright install --with-deps chromium
fi
echo "setup.sh: done"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# labkit's Gradescope autograder: grades the one submission in $ROOT/submission, writes $ROOT/results/results.json.
# LABKIT_AUTOGRADER_ROOT moves /autograder (tests run it in a temporary folder); LABKIT_AUTOGRADER_PYTHON
# is the kit's Python (default: setup.sh's virtualenv); LABKIT_GRADE_TIMEOUT the seconds for one submission.
ROOT="${LABKIT_AUTOGRADER_ROOT:-/autograder}"
PY="${LABKIT_AUTOGRADER_PYTHON:-${LABKIT_VENV:-/opt/labkit-venv}/bin/python}"
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
cd "$ROOT" || exit 0
"$PY" -m labkit.autograder.gradescope --root "$ROOT" --timeout "${LABKIT_GRADE_TIMEOUT:-@TIMEOUT@}"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  # the kit's Python did not start or died: every rubric item fails, saying so (never a missing file).
  # Gradescope unpacks the zip in $ROOT/source and runs a copy of this script from $ROOT.
  for fallback in "$ROOT/source/fallback_results.json" "$HERE/fallback_results.json"; do
    [ -s "$fallback" ] && cp "$fallback" "$ROOT/results/results.json" && break
  done
  [ -s "$ROOT/results/results.json" ] || printf '%s\n' '{"score": 0, "output": "The autograder could not start: ask course staff to rebuild it.", "tests": [{"name": "Grading run: the autograder could not start", "score": 0, "max_score": 0, "status": "failed", "output": "The kit did not start and its fallback results are missing."}]}' > "$ROOT/results/results.json"
  echo "run_autograder: the kit exited with status $status before writing results" >&2
fi
exit 0
"""


def kit_sources(root: Path) -> list[str]:
    """The kit's files that setup.sh installs: the package and the three files pip needs."""
    return [n for n in kit_files(root) if n.startswith("labkit/") or n in KIT_TOP_FILES]


def _add(zf: zipfile.ZipFile, name: str, data: str | bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    zf.writestr(info, data)


def build_zip(out: Path, root: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Write the Gradescope autograder zip for the kit at ``root`` (default: this kit)."""
    root = (root or project_root(Path(__file__).parent)).resolve()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fallback = failure_results("the kit's Python did not start on Gradescope (see the autograder's log): "
                               "ask course staff to rebuild the autograder")
    with zipfile.ZipFile(out, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.replace("@UV_PIN@", UV_PIN), executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.replace("@TIMEOUT@", f"{timeout:g}"), executable=True)
        _add(zf, "fallback_results.json", json.dumps(fallback, indent=2) + "\n")
        for name in kit_sources(root):
            _add(zf, name, (root / name).read_bytes())
    return out


def add_autograder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("platform", choices=["gradescope"], help="the course platform")
    parser.add_argument("out", type=Path, help="the zip to write (upload it as the assignment's autograder)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds one submission may take (default {DEFAULT_TIMEOUT:g})")


def run_autograder(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".zip":
        print(f"labkit autograder: {args.out} should end in .zip (Gradescope takes a zip)")
        return 2
    path = build_zip(args.out, timeout=args.timeout)
    print(f"wrote {path}. On Gradescope: a Programming Assignment, Configure Autograder, base image Ubuntu 22.04 "
          "or 24.04, upload this zip. Give it 2 GB of memory, 1 CPU and a 10-minute timeout (README: Grading at scale).")
    return 0
