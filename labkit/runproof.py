"""Run proof: a notebook's last cell signs "this part ran here, now, on these files of yours".

:func:`stamp` (called by :func:`labkit.checks.notebook.check_part`, the last cell of every notebook)
prints one line::

    labkit run proof: part=B time=2026-11-26T22:10:05Z files=3f0c…(16 hex) mac=…(32 hex)

``mac`` is an HMAC-SHA256 over the part, the time, the hash of the student's files for that
part and the kit's version, keyed by a secret made on first use and kept in ``out/``
(git-ignored, so a fresh clone has none). :func:`verify` is what ``labkit export`` asks: a
notebook passes only if its last stamp was made with this machine's secret, its code cells ran
in order in one go (execution counts rising: Restart Kernel and Run All), and the student's
files still hash the same. Outputs stored in the repository, copied from another computer, or
made before an edit of ``checkout_server.py`` (or the answers) fail, with a message naming
the notebook to run again.

Which files count for which part (the files that part's notebook runs or reads):

* A: none (the keys are checked by the kit);
* B: ``checkout_server.py`` and the ``templates/`` and ``static/`` folders beside it;
* C: ``webhook_handler.py``;
* D: both servers, their templates/static, and ``answers/pci.json``;
* E: ``answers/part_e.md``;
* any other part: all of the above and every file in ``answers/``.

This proves a run, not honesty: it stops a PDF made from outputs a student never produced
(the repository's, or a classmate's), and a PDF that no longer matches the submitted code.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from labkit import __version__
from labkit.files import write_bytes
from labkit.settings import Settings

KEY_FILE = ".runproof_key"
PREFIX = "labkit run proof:"
LINE = re.compile(r"labkit run proof: part=(?P<part>[A-Z0-9]{1,3}) time=(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) "
                  r"files=(?P<files>[0-9a-f]{16}) mac=(?P<mac>[0-9a-f]{32})")
SERVERS = ("checkout_server.py", "webhook_handler.py")
ASSET_DIRS = ("templates", "static")
CLOCK_SLACK = dt.timedelta(minutes=10)  # a stamp "from the future" beyond this is refused

_PART_FILES = {
    "A": (),
    "B": ("checkout_server.py", "assets"),
    "C": ("webhook_handler.py",),
    "D": ("checkout_server.py", "webhook_handler.py", "assets", "answers/pci.json"),
    "E": ("answers/part_e.md",),
}


# ------------------------------------------------------------------ the student's files

def student_files(settings: Settings, part: str | None = None) -> list[tuple[str, Path]]:
    """(name shown to the student, path) of the files that ``part``'s proof covers (in ``settings.root``), sorted."""
    root = Path(settings.root)
    wanted = _PART_FILES.get((part or "").upper(), (*SERVERS, "assets", "answers/*"))
    found: dict[str, Path] = {}
    for want in wanted:
        if want in SERVERS:
            found[want] = root / want
        elif want == "assets":
            for folder in ASSET_DIRS:
                if (root / folder).is_dir():
                    for p in (root / folder).rglob("*"):
                        if p.is_file() and "__pycache__" not in p.parts:
                            found[p.relative_to(root).as_posix()] = p
        elif want == "answers/*":
            if Path(settings.answers_dir).is_dir():
                for p in Path(settings.answers_dir).iterdir():
                    if p.is_file() and not p.name.startswith("."):
                        found[f"answers/{p.name}"] = p
        else:
            found[want] = Path(settings.answers_dir) / want.split("/", 1)[1]
    return sorted(found.items())


def file_digests(settings: Settings, part: str | None = None) -> dict[str, str]:
    """name → SHA-256 of the content of each of the part's files (``"missing"`` for one not there)."""
    out = {}
    for name, path in student_files(settings, part):
        try:
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            out[name] = "missing"
    return out


def files_hash(settings: Settings, part: str | None = None) -> str:
    """16 hex digits over the names and contents of the part's files (a missing file counts too)."""
    h = hashlib.sha256()
    for name, path in student_files(settings, part):
        try:
            data = path.read_bytes()
        except OSError:
            data = None
        h.update(name.encode() + b"\0")
        h.update(b"missing" if data is None else hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------ the secret

def key_path(settings: Settings) -> Path:
    return Path(settings.out_dir) / KEY_FILE


def _read_key(settings: Settings) -> bytes | None:
    try:
        key = bytes.fromhex(key_path(settings).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return key if len(key) >= 16 else None


def _key(settings: Settings) -> bytes:
    """This machine's secret, made on first use (readable by its owner only)."""
    key = _read_key(settings)
    if key is None:
        key = secrets.token_bytes(32)
        path = write_bytes(key_path(settings), key.hex().encode("ascii") + b"\n")
        try:
            os.chmod(path, 0o600)
        except OSError:
            pass
    return key


def _mac(key: bytes, part: str, when: str, files: str) -> str:
    msg = f"labkit {__version__}|{part}|{when}|{files}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()[:32]


# ------------------------------------------------------------------ stamping and checking

DIGESTS_FILE = "runproof_files.json"  # in out/: each part's file contents at its last stamp


def _record_digests(settings: Settings, part: str, when: str) -> None:
    """What each file of ``part`` held when it was stamped, so export can name the ones changed since."""
    import json

    path = Path(settings.out_dir) / DIGESTS_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict):
        record = {}
    record[part] = {"time": when, "files": file_digests(settings, part)}
    try:
        write_bytes(path, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    except OSError:  # the proof line still stands; export then names every file of the part
        pass


def stamp_line(part: str, settings: Settings, now: dt.datetime | None = None) -> str:
    """The proof line for ``part`` now (makes the secret if there is none yet)."""
    part = part.upper()
    when = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    files = files_hash(settings, part)
    line = f"{PREFIX} part={part} time={when} files={files} mac={_mac(_key(settings), part, when, files)}"
    _record_digests(settings, part, when)
    return line


def stamp(part: str, settings: Settings) -> str:
    """Print the proof line (the last cell of a notebook); ``labkit export`` checks it."""
    line = stamp_line(part, settings)
    print(line)
    return line


@dataclass
class Proof:
    ok: bool
    part: str = ""
    when: str = ""
    problem: str = ""  # why the proof fails, in words for the student


def _stamps(nb: Any) -> Iterable[re.Match]:
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text = out.get("text") if out.get("output_type") == "stream" else (out.get("data") or {}).get("text/plain")
            text = "".join(text) if isinstance(text, list) else (text or "")
            yield from LINE.finditer(text)


def _changed_since(settings: Settings, part: str, when: str) -> list[str] | None:
    """The files of ``part`` whose content differs from what they held at the stamp made at ``when``
    (by content, never by modification time); ``None`` when that stamp's record is not in ``out/``."""
    import json

    try:
        record = json.loads((Path(settings.out_dir) / DIGESTS_FILE).read_text(encoding="utf-8")).get(part) or {}
    except (OSError, ValueError, AttributeError):
        return None
    if record.get("time") != when or not isinstance(record.get("files"), dict):
        return None
    then, now = record["files"], file_digests(settings, part)
    return [f"{name} (now missing)" if now.get(name) == "missing" else name
            for name in sorted(set(then) | set(now)) if then.get(name) != now.get(name)]


def _out_of_order(nb: Any) -> str:
    """Why the code cells' execution counts are not 1, 2, 3… in order (one Run All), or ""."""
    last = 0
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code" and "".join(c.get("source") or "").strip()]
    for number, cell in enumerate(code, start=1):
        count = cell.get("execution_count")
        if count is None:
            return f"code cell {number} did not run"
        if count <= last:
            return f"code cell {number} ran before the one above it"
        last = count
    return ""


def verify(nb: Any, settings: Settings, now: dt.datetime | None = None) -> Proof:
    """Does the notebook (an nbformat node) carry a valid proof of a run on this machine?"""
    found = list(_stamps(nb))
    if not found:
        return Proof(False, problem="it has no run proof (its last cell, the rubric self-check, has not run)")
    m = found[-1]
    part, when_s, files = m.group("part"), m.group("time"), m.group("files")
    key = _read_key(settings)
    if key is None or not hmac.compare_digest(_mac(key, part, when_s, files), m.group("mac")):
        return Proof(False, part, when_s, "its outputs were not made on this machine (they are the ones stored "
                                          "in the repository, come from another computer, or out/ was "
                                          "cleared since)")
    when = dt.datetime.strptime(when_s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    if when > (now or dt.datetime.now(dt.timezone.utc)) + CLOCK_SLACK:
        return Proof(False, part, when_s, f"its run proof is dated in the future ({when_s})")
    out_of_order = _out_of_order(nb)
    if out_of_order:
        return Proof(False, part, when_s, f"its cells did not all run in order in one go ({out_of_order}): "
                                          "run it again from the top")
    if files != files_hash(settings, part):
        changed = _changed_since(settings, part, when_s)
        if changed:
            return Proof(False, part, when_s, f"{', '.join(changed)} changed after it ran (at {when_s})")
        names = ", ".join(n for n, _ in student_files(settings, part))
        return Proof(False, part, when_s, f"one of its files ({names}) changed after it ran (at {when_s})")
    return Proof(True, part, when_s)
