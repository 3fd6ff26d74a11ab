"""The marked sections of ``pci_assessment.md``: Part D and Part E, each between its own markers.

``<!-- labkit:part-d:start -->`` … ``<!-- labkit:part-d:end -->`` (and ``part-e``). Writing a
part replaces only its section and keeps every other line of the file, so the report writer
(Part D) and Part E can each update the file without touching the other or the student's notes.
Part D goes before Part E when it is added.
"""
from __future__ import annotations

import re

ORDER = ("d", "e")


def start_marker(part: str) -> str:
    return f"<!-- labkit:part-{part.lower()}:start -->"


def end_marker(part: str) -> str:
    return f"<!-- labkit:part-{part.lower()}:end -->"


def block(part: str, text: str) -> str:
    """``text`` between ``part``'s markers (the text may already carry them)."""
    body = text.strip("\n")
    if body.startswith(start_marker(part)):
        return body + "\n"
    return f"{start_marker(part)}\n{body}\n{end_marker(part)}\n"


def section(text: str, part: str) -> str:
    """The text of ``part``'s section in ``text`` (without markers), or ``""``."""
    m = re.search(re.escape(start_marker(part)) + r"(.*?)" + re.escape(end_marker(part)), text or "", re.S)
    return m.group(1).strip("\n") if m else ""


def replace_section(old: str, part: str, new_block: str) -> str:
    """``old`` with ``part``'s section replaced by ``new_block`` (a :func:`block`), or the block added:
    before the next part's section if there is one, else at the end. Unbalanced markers raise."""
    new_block = new_block.rstrip("\n") + "\n"
    start, end = old.find(start_marker(part)), old.find(end_marker(part))
    if (start == -1) != (end == -1) or (start != -1 and end < start):
        raise ValueError(f"unbalanced Part {part.upper()} markers in the assessment; fix them by hand")
    if start != -1:
        rest = old[end + len(end_marker(part)):].lstrip("\n")
        return old[:start] + new_block + ("\n" + rest if rest else "")
    later = [old.find(start_marker(p)) for p in ORDER[ORDER.index(part.lower()) + 1:] if start_marker(p) in old]
    if later:
        at = min(later)
        before = old[:at].rstrip("\n")
        return (before + "\n\n" if before else "") + new_block + "\n" + old[at:]
    return (old.rstrip("\n") + "\n\n" if old.strip() else "") + new_block
