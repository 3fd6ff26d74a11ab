"""Feedback on the checks: text for a person (a notebook cell, the terminal) and JSON for tools."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from labkit.checks.items import EVIDENCED, GRADER, MARK, Item, rubric


def format_items(items: Iterable[Item]) -> str:
    items = list(items)
    titles = {p["part"]: p for p in rubric()["parts"]}
    lines: list[str] = []
    for part in dict.fromkeys(i.part for i in items):
        mine = [i for i in items if i.part == part]
        checkable = [i for i in mine if i.status != GRADER]
        done = sum(i.status == EVIDENCED for i in checkable)
        pts = sum(i.points or 0 for i in mine)
        max_pts = sum(i.max_points or 0 for i in mine if i.status != GRADER)
        head = titles.get(part, {"title": "", "points": ""})
        lines.append(f"Part {part}: {head['title']} ({head['points']} pts): {done} of {len(checkable)} checks pass"
                     + (f", {pts:g} of {max_pts:g} points the kit can decide" if max_pts else ""))
        for i in mine:
            lines.append(f"  {MARK[i.status]:<10} {i.check if i.status != GRADER else '(grader)'}: {i.title}")
            if i.status != GRADER:
                lines.append(f"             {i.evidence}")
                if i.hint and i.status != EVIDENCED:
                    lines.append(f"             hint: {i.hint}")
    lines += ["", rubric()["note"]]
    return "\n".join(lines)


def as_json(items: Iterable[Item]) -> dict:
    return {"items": [{"part": i.part, "check": i.check, "status": i.status, "evidence": i.evidence,
                       "title": i.title, "points": i.points, "max_points": i.max_points, "hint": i.hint}
                      for i in items]}


def write_json(items: Iterable[Item], path: Path) -> Path:
    from labkit.files import write_text

    return write_text(path, json.dumps(as_json(items), indent=2, ensure_ascii=False) + "\n")
