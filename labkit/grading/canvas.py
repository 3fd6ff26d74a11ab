"""``labkit grade … --canvas ROSTER.csv OUT.csv``: the kit's points as a Canvas gradebook import.

ROSTER.csv is the course's gradebook export from Canvas (Grades → Export): its identity columns
``Student, ID, SIS User ID, SIS Login ID, Section`` are copied, and one column is added for the lab
(the kit's points, with a ``Points Possible`` row). Each submission's folder or zip name is matched
to exactly one roster row, by the login (``SIS Login ID``, or its part before ``@``), by the name
(``Doe, Jane``, ``Jane Doe``, ``jane_doe``, ``doejane``: the same words in any order), or by the Canvas
user ID inside a name such as Canvas's own submission downloads (``doejane_12345_67890_lab.zip``).
A name that matches no row, or more than one, is listed and left out: never guessed. Roster rows
without a submission, and submissions the kit could not grade, get an empty cell (Canvas leaves the
score as it is) and are listed too.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from labkit.files import write_text

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
REQUIRED = ("Student", "ID")
DEFAULT_COLUMN = "Lab 09 (kit points)"


class RosterError(ValueError):
    """The roster cannot be used (not a Canvas gradebook export)."""


@dataclass
class CanvasExport:
    rows: list[dict[str, str]]                  # the roster's identity columns plus the lab's column
    columns: list[str]
    unmatched: list[str] = field(default_factory=list)       # submissions matched to no roster row (why)
    without_submission: list[str] = field(default_factory=list)  # roster students with no submission
    not_graded: list[str] = field(default_factory=list)      # matched, but the kit could not grade them


def read_roster(path: Path) -> list[dict[str, str]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise RosterError(f"{path} has no {' or '.join(repr(c) for c in missing)} column: export the gradebook "
                          "from Canvas (Grades, Export, CSV) and pass that file")
    rows = []
    for row in reader:
        student = (row.get("Student") or "").strip()
        if not student or student.lower().startswith("points possible") or not (row.get("ID") or "").strip():
            continue  # the export's "Points Possible" row, blank lines
        rows.append({c: (row.get(c) or "").strip() for c in IDENTITY if c in reader.fieldnames})
    return rows


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", text.casefold()) if w]


def _keys(row: dict[str, str]) -> set[str]:
    """The exact forms a folder name may take for this roster row."""
    keys = {f"id:{row['ID']}"}
    login = row.get("SIS Login ID", "").casefold()
    if login:
        keys |= {f"login:{login}", f"login:{login.split('@')[0]}"}
    name = row["Student"]
    if "," in name:  # Canvas's sortable name, "Doe, Jane Mary"
        last, first = (_words(part) for part in name.split(",", 1))
    else:            # "Jane Mary Doe"
        words = _words(name)
        last, first = words[-1:], words[:-1]
    if last or first:
        keys |= {f"name:{' '.join(sorted(first + last))}", f"joined:{''.join(first + last)}",
                 f"joined:{''.join(last + first)}"}
    return keys


def _folder_keys(name: str) -> list[set[str]]:
    """The folder name's forms, strongest first: its login, its name, a Canvas user ID inside it."""
    low = name.casefold().strip()
    words = _words(low)
    ids = set(re.findall(r"(?:^|_)(\d{3,})(?=_)", low))
    return [{f"login:{low}"}, {f"name:{' '.join(sorted(words))}", f"joined:{''.join(words)}"},
            {f"id:{i}" for i in ids}]


def match(students: list[str], roster: list[dict[str, str]]) -> tuple[dict[str, int], list[str]]:
    """Folder name -> roster row index, and the names left unmatched with the reason."""
    index: dict[str, list[int]] = {}
    for n, row in enumerate(roster):
        for key in _keys(row):
            index.setdefault(key, []).append(n)
    found: dict[str, int] = {}
    unmatched: list[str] = []
    for student in students:
        for level in _folder_keys(student):
            rows = sorted({n for key in level for n in index.get(key, [])})
            if len(rows) == 1:
                found[student] = rows[0]
                break
            if len(rows) > 1:
                names = ", ".join(roster[n]["Student"] for n in rows)
                unmatched.append(f"{student}: matches {len(rows)} roster rows ({names}); rename the folder to a login")
                break
        else:
            unmatched.append(f"{student}: no roster row has this login or name")
    taken: dict[int, list[str]] = {}
    for student, n in found.items():
        taken.setdefault(n, []).append(student)
    for n, names in taken.items():
        if len(names) > 1:  # two submissions for one student: neither is used
            for student in names:
                del found[student]
                unmatched.append(f"{student}: {roster[n]['Student']} has {len(names)} submissions ({', '.join(names)})")
    return found, unmatched


def canvas_export(points: dict[str, float | None], roster: list[dict[str, str]],
                  column: str = DEFAULT_COLUMN, possible: float | None = None) -> CanvasExport:
    """``points``: the kit's points per submission (None: could not be graded)."""
    found, unmatched = match(list(points), roster)
    by_row = {n: s for s, n in found.items()}
    columns = [c for c in IDENTITY if roster and c in roster[0]] + [column]
    rows, without, not_graded = [], [], []
    for n, row in enumerate(roster):
        student = by_row.get(n)
        value = points.get(student) if student else None
        if student is None:
            without.append(row["Student"])
        elif value is None:
            not_graded.append(f"{student} ({row['Student']})")
        rows.append({**{c: row.get(c, "") for c in columns[:-1]}, column: "" if value is None else f"{value:g}"})
    if possible is not None:
        rows.insert(0, {**{c: "" for c in columns}, "Student": "Points Possible", column: f"{possible:g}"})
    return CanvasExport(rows, columns, unmatched, without, not_graded)


def write_canvas(export: CanvasExport, path: Path) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=export.columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(export.rows)
    return write_text(path, buf.getvalue())


def report_lines(export: CanvasExport) -> list[str]:
    lines = []
    if export.unmatched:
        lines += ["Not in the Canvas file (matched to no single roster row; enter these by hand):"]
        lines += [f"  {u}" for u in export.unmatched]
    if export.not_graded:
        lines += ["Left empty (the kit could not grade them; see their rows in grades.csv):"]
        lines += [f"  {u}" for u in export.not_graded]
    if export.without_submission:
        lines += [f"Roster students with no submission ({len(export.without_submission)}), left empty: "
                  + "; ".join(export.without_submission)]
    return lines
