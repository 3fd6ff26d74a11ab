"""The Part E section of ``pci_assessment.md`` and the word count of a Part E text.

The markers and the replacing are :mod:`labkit.sections`, shared with Part D's report.
"""
from __future__ import annotations

import re
from pathlib import Path

from labkit import sections
from labkit.files import read_text, write_text

PART_E_START, PART_E_END = sections.start_marker("e"), sections.end_marker("e")


def word_count(text: str) -> int:
    """Words of prose: Markdown markers and the heading line are not counted."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    body = re.sub(r"[*`]", " ", body)
    return len([w for w in body.split() if re.search(r"\w", w)])


def write_part_e(path: str | Path, text: str) -> Path:
    """Write ``text`` into ``path`` as its Part E section (:mod:`labkit.sections`): replace that
    section if the file has it, append it otherwise; create the file (and its folder) if absent."""
    path = Path(path)
    old = read_text(path) if path.exists() else ""  # the student may have edited it in any editor
    try:
        new = sections.replace_section(old, "e", sections.block("e", text))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return write_text(path, new)
