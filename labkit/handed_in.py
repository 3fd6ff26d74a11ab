"""Answers written where the handout says: ``pci_assessment.md``, read when ``answers/`` is empty.

The kit's notebooks save Part D to ``answers/pci.json`` and Part E to ``answers/part_e.md``
(:mod:`labkit.answers`). A student who follows the handout instead writes ``pci_assessment.md``:
the SAQ A checklist as a Markdown table (the handout's v3.2.1 numbers or v4.0.1's), "Gaps
identified", "Remediation plan", and the ~400-word Part E analysis. This module finds that file
beside the answers (the submission's top folder) and reads each part from it, in the kit's
marked sections when it has them (:mod:`labkit.sections`), else by the handout's headings. Every
reader says where it found what it returns, so a check can say so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit import answers, sections
from labkit.settings import Settings

ASSESSMENT = "pci_assessment.md"
NAMES = {"pci_assessment.md", "pci_assessment.markdown", "pci_assessment.txt", "pci-assessment.md"}
REQ_ID = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d{1,2}){1,3})(?![\d.]*\d)")
_STATUS_HEADERS = re.compile(r"complian|status|answer|response|in\s*place|\bmet\b|result|yes\s*/\s*no", re.I)
_NOTE_HEADERS = re.compile(r"note|comment|evidence|explanation|justification|how|why|detail", re.I)
_KIT_LIST = ("*What the checks and the answers point to:*", "*The kit's suggestion for each gap above:*")
_NOT_WRITTEN = "*(Not written yet"


@dataclass
class FoundPci:
    data: dict[str, Any]
    where: str
    handout_rows: list[str] = field(default_factory=list)  # answered under the handout's v3.2.1 numbers


def find_assessment(answers_dir: Path) -> Path | None:
    """``pci_assessment.md`` in the answers folder or, for an ``answers/`` folder, the folder above it
    (the submission's top; never further up, where other students' folders may be)."""
    folders = (answers_dir, answers_dir.parent) if answers_dir.name == "answers" else (answers_dir,)
    for folder in folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for path in entries:
            if path.name.lower() in NAMES and path.is_file():
                return path
    return None


def read_any_text(path: Path) -> str:
    """A text file in UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1252; "" if unreadable."""
    try:
        raw = path.read_bytes()
    except OSError:
        return ""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace").replace("\r\n", "\n")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding).replace("\r\n", "\n")
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace").replace("\r\n", "\n")


# ---------------------------------------------------------------- Part D
def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(md: str) -> list[list[list[str]]]:
    tables, current = [], []
    for line in md.splitlines():
        if line.strip().startswith("|"):
            current.append(_cells(line.replace("\\|", "/")))
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def _column(header: list[str], pattern: re.Pattern[str], skip: set[int]) -> int | None:
    return next((i for i, h in enumerate(header) if i not in skip and pattern.search(h)), None)


def checklist(md: str) -> dict[str, dict[str, Any]]:
    """Every checklist row of the Markdown tables in ``md``: requirement number → status and note."""
    out: dict[str, dict[str, Any]] = {}
    for table in _tables(md):
        header, rows = table[0], [r for r in table[1:] if not all(set(c) <= set("-: ") for c in r)]
        status_col = _column(header, _STATUS_HEADERS, {0})
        note_col = _column(header, _NOTE_HEADERS, {0, status_col} if status_col is not None else {0})
        for row in rows:
            m = (REQ_ID.search(row[0]) if row else None) or (
                REQ_ID.fullmatch(row[1].strip()) if len(row) > 1 and status_col != 1 else None)
            if not m:
                continue
            if status_col is not None and status_col < len(row):
                answer = answers.read_answer(row[status_col])
            else:  # no header says which column: the first cell that holds an answer
                answer = next((a for a in map(answers.read_answer, row[1:]) if a["status"]), {"status": "", "note": ""})
            note = row[note_col] if note_col is not None and note_col < len(row) else ""
            answer["note"] = "" if note.startswith("suggested by") or note.startswith("to answer") else note
            out.setdefault(m.group(1), answer)
    return out


def labelled_text(md: str, label: str, stops: tuple[str, ...]) -> str:
    """The text after a bold label or heading matching ``label`` ("Gaps identified"), up to the next
    heading, bold label or one of ``stops``; without the kit's own lists and placeholders."""
    pattern = re.compile(rf"^\s*(?:#+\s*|\*\*|__)?\s*{label}[^\n]*$", re.I | re.M)
    m = pattern.search(md)
    if not m:
        return ""
    rest = md[m.end():]
    first_line = m.group(0).split(":", 1)[1].strip(" *_") if ":" in m.group(0) else ""
    end = re.search(r"^\s*(?:#+\s|\*\*[^*\n]{2,60}:?\*\*\s*$|<!--\s*labkit:)" + "".join(
        f"|^\\s*{re.escape(s)}" for s in stops), rest, re.M)
    body = (first_line + "\n" + (rest[:end.start()] if end else rest)).strip()
    return "" if body.startswith(_NOT_WRITTEN) else body


def pci_from_markdown(md: str) -> dict[str, Any]:
    """Part D of a ``pci_assessment.md`` as :func:`labkit.answers.load_pci` returns it."""
    part = sections.section(md, "d") or md
    data = answers.empty_pci()
    data["requirements"] = checklist(part)
    data["gaps"] = labelled_text(part, r"gaps(?:\s+identified)?", _KIT_LIST + ("**Remediation",))
    data["remediation"] = labelled_text(part, r"remediation(?:\s+plan)?", _KIT_LIST)
    return data


def _pci_empty(data: dict[str, Any]) -> bool:
    reqs = data.get("requirements") or {}
    return not any(a.get("status") or a.get("note") for a in reqs.values()) and not any(
        (data.get(k) or "").strip() for k in answers.TEXT_FIELDS)


def expand_handout_numbers(reqs: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Answers given under the handout's v3.2.1 numbers (its nine rows) applied to the v4.0.1
    requirements each row maps to, where those have no answer of their own; and the rows used."""
    from labkit.pci.requirements import load_saq

    saq = load_saq()
    v4 = {r.number for r in saq.requirements}
    out, used = dict(reqs), []
    for row in saq.handout_rows:
        given = reqs.get(row["handout"])
        if row["handout"] in v4 or not given or not given.get("status"):
            continue
        used.append(row["handout"])
        for number in row["now"]:
            if not (out.get(number) or {}).get("status"):
                out[number] = dict(given)
    return out, used


def load_pci_found(settings: Settings) -> FoundPci:
    """The Part D answers: ``answers/pci.json``, or, when it holds nothing, ``pci_assessment.md``."""
    data = answers.load_pci(settings)
    where = f"{settings.answers_dir.name}/{answers.PCI_FILE}"
    if _pci_empty(data):
        path = find_assessment(settings.answers_dir)
        if path is not None:
            md_data = pci_from_markdown(read_any_text(path))
            if not _pci_empty(md_data):
                data, where = md_data, f"{path.name}, read because {where} is empty"
    data["requirements"], used = expand_handout_numbers(data["requirements"])
    return FoundPci(data, where, used)


# ---------------------------------------------------------------- Part E
_PART_E_HEADING = re.compile(r"^(#{1,6}|\*\*)\s*(?:part\s*e\b|alternative\s+payments?)[^\n]*$", re.I | re.M)


def part_e_from_markdown(md: str) -> str:
    """Part E of a ``pci_assessment.md``: its marked section, else from its heading ("Part E",
    "Alternative Payments…") to the next heading of the same or a higher level."""
    marked = sections.section(md, "e")
    if marked:
        return marked
    m = _PART_E_HEADING.search(md)
    if not m:
        return ""
    level = len(m.group(1)) if m.group(1).startswith("#") else 1  # a bold line: up to the next heading
    rest = md[m.end():]
    end = re.search(rf"^#{{1,{level}}}\s", rest, re.M)
    return (m.group(0) + "\n" + (rest[:end.start()] if end else rest)).strip()


def prose_words(text: str) -> int:
    body = "\n".join(line for line in (text or "").splitlines() if not line.lstrip().startswith("#"))
    return len(re.findall(r"\w+", answers.strip_comments(body)))


def load_part_e_found(settings: Settings) -> tuple[str, str]:
    """The Part E text and where it was found: ``answers/part_e.md``, or, when it has no prose,
    the Part E section of ``pci_assessment.md``."""
    text = answers.load_part_e(settings)
    where = f"{settings.answers_dir.name}/{answers.PART_E_FILE}"
    if prose_words(text):
        return text, where
    path = find_assessment(settings.answers_dir)
    if path is not None:
        found = answers.strip_comments(part_e_from_markdown(read_any_text(path)))
        if prose_words(found):
            return found, f"the Part E section of {path.name}, read because {where} is empty"
    return text, where
