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

from labkit.files import write_text
from labkit.settings import Settings, load_settings

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


def answers_dir(settings: Settings | None = None) -> Path:
    return (settings or load_settings()).answers_dir


def empty_pci() -> dict[str, Any]:
    return {"requirements": {}, "gaps": "", "remediation": ""}


def load_pci(settings: Settings | None = None) -> dict[str, Any]:
    """The saved checklist; an empty one when nothing was saved (or the file is not JSON)."""
    path = answers_dir(settings) / PCI_FILE
    data = empty_pci()
    try:
        saved = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return data
    if isinstance(saved, dict):
        reqs = saved.get("requirements")
        if isinstance(reqs, dict):
            for rid, ans in reqs.items():
                if isinstance(ans, dict):
                    status = str(ans.get("status") or "").strip().lower()
                    data["requirements"][str(rid)] = {
                        "status": status if status in STATUSES else "",
                        "note": str(ans.get("note") or ""),
                    }
        for name in TEXT_FIELDS:
            if isinstance(saved.get(name), str):
                data[name] = saved[name]
    return data


def save_pci(data: dict[str, Any], settings: Settings | None = None) -> Path:
    clean = empty_pci()
    for rid, ans in sorted((data.get("requirements") or {}).items()):
        status = str(ans.get("status") or "").lower()
        if status not in STATUSES:
            raise ValueError(f"requirement {rid}: status must be one of yes, no, n/a (not {status!r})")
        clean["requirements"][rid] = {"status": status, "note": str(ans.get("note") or "")}
    for name in TEXT_FIELDS:
        clean[name] = str(data.get(name) or "")
    path = write_text(answers_dir(settings) / PCI_FILE, json.dumps(clean, indent=2, ensure_ascii=False) + "\n")
    _saved(PCI_FILE)
    return path


def set_requirement(req_id: str, status: str | None = None, note: str | None = None,
                    settings: Settings | None = None) -> dict[str, Any]:
    """Change one requirement's answer and save at once; returns the whole checklist."""
    data = load_pci(settings)
    ans = data["requirements"].setdefault(req_id, {"status": "", "note": ""})
    if status is not None:
        ans["status"] = status.strip().lower()
    if note is not None:
        ans["note"] = note
    save_pci(data, settings)
    return data


def set_text(name: str, text: str, settings: Settings | None = None) -> dict[str, Any]:
    """Save the gaps or the remediation plan (``name`` is ``"gaps"`` or ``"remediation"``)."""
    if name not in TEXT_FIELDS:
        raise ValueError(f"unknown answer {name!r}: one of {', '.join(TEXT_FIELDS)}")
    data = load_pci(settings)
    data[name] = text
    save_pci(data, settings)
    return data


def load_part_e(settings: Settings | None = None) -> str:
    """The student's Part E text (without the starter's comment), or ``""``."""
    path = answers_dir(settings) / PART_E_FILE
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        return ""
    return strip_comments(text)


def save_part_e(text: str, settings: Settings | None = None) -> Path:
    path = write_text(answers_dir(settings) / PART_E_FILE, text if text.endswith("\n") else text + "\n")
    _saved(PART_E_FILE)
    return path


def strip_comments(markdown: str) -> str:
    """Drop ``<!-- … -->`` comments (the starter's instructions) from a Markdown answer."""
    import re

    return re.sub(r"<!--.*?-->", "", markdown, flags=re.S).strip()
