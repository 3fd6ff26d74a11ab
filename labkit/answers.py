"""The student's answers live in plain files under ``answers/``, never only in widget state.

* ``answers/pci.json``: the Part D checklist (a status and a note per SAQ A requirement), and
  the gaps and remediation plan in the student's own words;
* ``answers/part_e.md``: the Part E analysis (about 400 words, two recommendations).

Widgets save here the moment a value changes and are pre-filled from here on every run, so
re-running a notebook never loses an answer; the report writer, ``labkit check`` and
``labkit export`` read the same files. A student may also edit them by hand.
The folder is ``Settings.answers_dir`` (``LABKIT_ANSWERS``, default ``answers/`` at the kit's top).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from labkit.files import UnreadableFile, read_text, write_text
from labkit.settings import Settings

PCI_FILE = "pci.json"
PART_E_FILE = "part_e.md"
STATUSES = ("yes", "no", "n/a", "")  # "" = not answered yet
TEXT_FIELDS = ("gaps", "remediation")

PART_E_STARTER = """# Part E: alternative payments (about 400 words)

<!-- Write your analysis here, in your own words. Compare digital wallets, BNPL and crypto
     for the retailer, quote the figures from the model in notebook 05 for your assumptions,
     and recommend the two methods to add next, with why. -->
"""


_listeners: dict[str, Callable[[str], None]] = {}  # told the file's name after each save (a notebook's check cell)


def on_save(key: str, callback: Callable[[str], None] | None) -> None:
    """Call ``callback(file name)`` after every save of an answer (``None``: stop); one callback per ``key``."""
    if callback is None:
        _listeners.pop(key, None)
    else:
        _listeners[key] = callback


def _saved(name: str) -> None:
    for callback in list(_listeners.values()):
        try:
            callback(name)
        except Exception:  # a closed notebook output must not stop the save
            pass


def answers_dir(settings: Settings) -> Path:
    return Path(settings.answers_dir)


def empty_pci() -> dict[str, Any]:
    return {"requirements": {}, "gaps": "", "remediation": ""}


def load_pci(settings: Settings) -> dict[str, Any]:
    """The saved checklist; an empty one when nothing was saved (or the file is not JSON)."""
    path = answers_dir(settings) / PCI_FILE
    data = empty_pci()
    try:
        saved = json.loads(read_text(path))
    except (OSError, ValueError):  # missing, unreadable or not JSON: read_problem() says which
        return data
    if isinstance(saved, dict):
        data["requirements"].update(read_requirements(saved.get("requirements")))
        for name in TEXT_FIELDS:
            if isinstance(saved.get(name), str):
                data[name] = saved[name]
    return data


STATUS_KEYS = ("status", "answer", "response", "compliant", "in_place", "value")
ID_KEYS = ("requirement", "req", "id", "number", "key")


def read_answer(ans: Any) -> dict[str, Any]:
    """One requirement's answer as a student may write it by hand: ``{"status": "In Place", "note": …}``,
    another key for the status ("answer", "response", "compliant"), or just the status ("Not Applicable").
    The status is read in the SAQ's words or the kit's short forms (:mod:`labkit.pci.status_words`)."""
    from labkit.pci.status_words import read_status

    if isinstance(ans, dict):
        raw = next((ans[k] for k in STATUS_KEYS if k in ans), "")
        note = ans.get("note", ans.get("notes", ans.get("comment", "")))
    else:
        raw, note = ans, ""
    status, ccw = read_status(raw)
    out = {"status": status, "note": str(note or "") if not isinstance(note, (dict, list)) else ""}
    if ccw:
        out["ccw"] = True
    return out


def read_requirements(reqs: Any) -> dict[str, dict[str, Any]]:
    """The requirements part of ``pci.json``: a mapping by number, or a list of rows naming their number."""
    out: dict[str, dict[str, Any]] = {}
    if isinstance(reqs, dict):
        items = list(reqs.items())
    elif isinstance(reqs, list):
        items = [(next((r[k] for k in ID_KEYS if k in r), None), r) for r in reqs if isinstance(r, dict)]
    else:
        return out
    for rid, ans in items:
        if rid is not None and str(rid).strip():
            out[str(rid).strip()] = read_answer(ans)
    return out


def save_pci(data: dict[str, Any], settings: Settings) -> Path:
    clean = empty_pci()
    for rid, ans in sorted((data.get("requirements") or {}).items()):
        status = str(ans.get("status") or "").lower()
        if status not in STATUSES:
            raise ValueError(f"requirement {rid}: status must be one of yes, no, n/a (not {status!r})")
        clean["requirements"][rid] = {"status": status, "note": str(ans.get("note") or "")}
        if ans.get("ccw") and status == "yes":
            clean["requirements"][rid]["ccw"] = True  # "In Place with CCW", kept through the widgets
    for name in TEXT_FIELDS:
        clean[name] = str(data.get(name) or "")
    path = write_text(answers_dir(settings) / PCI_FILE, json.dumps(clean, indent=2, ensure_ascii=False) + "\n")
    _saved(PCI_FILE)
    return path


def set_requirement(req_id: str, status: str | None = None, note: str | None = None, *,
                    settings: Settings) -> dict[str, Any]:
    """Change one requirement's answer and save at once; returns the whole checklist."""
    data = load_pci(settings)
    ans = data["requirements"].setdefault(req_id, {"status": "", "note": ""})
    if status is not None:
        ans["status"] = status.strip().lower()
    if note is not None:
        ans["note"] = note
    save_pci(data, settings)
    return data


def set_text(name: str, text: str, settings: Settings) -> dict[str, Any]:
    """Save the gaps or the remediation plan (``name`` is ``"gaps"`` or ``"remediation"``)."""
    if name not in TEXT_FIELDS:
        raise ValueError(f"unknown answer {name!r}: one of {', '.join(TEXT_FIELDS)}")
    data = load_pci(settings)
    data[name] = text
    save_pci(data, settings)
    return data


def load_part_e(settings: Settings) -> str:
    """The student's Part E text (without the starter's comment), or ``""``."""
    path = answers_dir(settings) / PART_E_FILE
    try:
        text = read_text(path)
    except (OSError, UnreadableFile):  # read_problem() says why
        return ""
    return strip_comments(text)


def read_problem(filename: str, settings: Settings) -> str:
    """Why ``answers/<filename>`` cannot be read, in one line ("" when it reads, or is not there yet).

    Any common encoding reads (:func:`labkit.files.read_text`); ``pci.json`` must also be JSON.
    """
    path = answers_dir(settings) / filename
    shown = f"answers/{filename}"
    try:
        text = read_text(path, shown)
    except FileNotFoundError:
        return ""
    except UnreadableFile as exc:
        return str(exc)
    if filename.endswith(".json"):
        try:
            saved = json.loads(text)
        except ValueError as exc:
            where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}" if hasattr(exc, "lineno") else str(exc)
            return (f"{shown} is not valid JSON ({where}): fix that spot (a missing comma or quote), or delete "
                    "the file and answer again in notebook 04")
        if not isinstance(saved, dict):
            return f"{shown} holds {type(saved).__name__}, not the checklist object: delete it and answer in notebook 04"
    return ""


def save_part_e(text: str, settings: Settings) -> Path:
    path = write_text(answers_dir(settings) / PART_E_FILE, text if text.endswith("\n") else text + "\n")
    _saved(PART_E_FILE)
    return path


def strip_comments(markdown: str) -> str:
    """Drop ``<!-- … -->`` comments (the starter's instructions) from a Markdown answer."""
    import re

    return re.sub(r"<!--.*?-->", "", markdown, flags=re.S).strip()
