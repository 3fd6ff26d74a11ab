"""The Part E section of ``pci_assessment.md`` and the word count of a Part E text.

``write_part_e`` is kept for notebook 05 and the report until the kit's one module for the
marked sections of ``pci_assessment.md`` takes it over.
"""
from __future__ import annotations

import re
from pathlib import Path

PART_E_START = "<!-- labkit:part-e:start -->"
PART_E_END = "<!-- labkit:part-e:end -->"


def word_count(text: str) -> int:
    """Words of prose: Markdown markers and the heading line are not counted."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    body = re.sub(r"[*`]", " ", body)
    return len([w for w in body.split() if re.search(r"\w", w)])


def write_part_e(path: str | Path, text: str) -> Path:
    """Write ``text`` into ``path`` between the Part E markers: replace that section if the
    file has it, append it otherwise; create the file (and its folder) if absent.
    (Kept for notebook 05 and the report until the kit's one module for the marked sections
    of ``pci_assessment.md`` takes it over.)"""
    path = Path(path)
    block = f"{PART_E_START}\n{text.rstrip()}\n{PART_E_END}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = old.find(PART_E_START), old.find(PART_E_END)
    if start != -1 and end != -1 and end > start:
        rest = old[end + len(PART_E_END):].lstrip("\n")
        new = old[:start] + block + ("\n" + rest if rest else "")
    else:
        if start != -1 or end != -1:
            raise ValueError(f"{path}: unbalanced Part E markers; fix them by hand")
        new = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    return path
