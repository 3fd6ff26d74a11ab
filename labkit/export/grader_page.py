"""Page 1 of the PDF, for the grader: who, when, which kit, the rubric table, the contents.

The rubric rows are the results of the kit's checks (:mod:`labkit.checks`) as the last cell of
each notebook saved them (``<out>/checks/part_<P>.json``, written with the run proof beside it):
dicts with ``part, check, title, status, evidence, points`` (``points`` None: the grader decides).
A part whose check cell did not run gets a row saying which notebook to run.
"""
from __future__ import annotations

import html
import json
from typing import Any, Iterable, Sequence

from labkit.export.common import LAB_TITLE
from labkit.export.style import FRONT_CSS, with_style
from labkit.settings import Settings

STATUS_CLASS = {"evidenced": "evidenced", "missing": "missing", "partial": "partial", "for the grader": "grader"}
NOTEBOOK_OF = {"A": "01_setup", "B": "02_checkout", "C": "03_webhooks", "D": "04_pci", "E": "05_alt_payments"}


def rubric_items(settings: Settings) -> list[dict[str, Any]]:
    """The rubric rows the notebooks' check cells saved, part by part."""
    from labkit.checks.notebook import saved_checks_path  # deferred: the checks import stripe and requests

    rows: list[dict[str, Any]] = []
    for part, notebook in NOTEBOOK_OF.items():
        path = saved_checks_path(settings, part)
        try:
            items = json.loads(path.read_text(encoding="utf-8"))["items"]
        except (OSError, ValueError, KeyError):
            items = [{"part": part, "check": f"part:{part}", "title": f"Part {part}", "status": "missing",
                      "evidence": f"the checks did not run: run notebooks/{notebook}.ipynb to its last cell",
                      "points": None}]
        rows += [{k: i.get(k) for k in ("part", "check", "title", "status", "evidence", "points")} for i in items]
    return rows


def part_titles() -> dict[str, tuple[str, Any]]:
    from labkit.checks.items import rubric  # deferred: labkit.checks imports stripe and requests

    return {p["part"]: (p.get("title", ""), p.get("points")) for p in rubric().get("parts", [])}


def _points(value: Any) -> str:
    if value is None or value == "":
        return "grader"
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def rubric_table(rows: Sequence[dict[str, Any]], parts: dict[str, tuple[str, Any]]) -> str:
    e = html.escape
    body = []
    for part in dict.fromkeys(r["part"] for r in rows):
        title, points = parts.get(part, ("", None))
        decided = [r["points"] for r in rows if r["part"] == part and isinstance(r.get("points"), (int, float))]
        pts = f"{sum(decided):g} " if decided else ""
        pts += f"/ {points}" if points is not None else ""
        body.append(f"<tr class='part'><td colspan='3'>Part {e(part)}: {e(title)}</td><td>{e(pts)}</td></tr>")
        for r in (r for r in rows if r["part"] == part):
            status = str(r.get("status", ""))
            body.append(
                f"<tr><td>{e(str(r.get('title', '')))}</td>"
                f"<td class='status {STATUS_CLASS.get(status, '')}'>{e(status)}</td>"
                f"<td>{e(str(r.get('evidence', '')))}</td><td>{e(_points(r.get('points')))}</td></tr>")
    body.append(grand_total_row(rows, parts))
    return ("<table class='grid rubric'><colgroup><col style='width:29%'>"
            "<col style='width:10%'><col style='width:54%'><col style='width:7%'></colgroup>"
            "<thead><tr><th>Check</th><th>Status</th><th>Evidence the kit saw</th>"
            f"<th>Points</th></tr></thead><tbody>{''.join(body)}</tbody></table>")


def grand_total_row(rows: Sequence[dict[str, Any]], parts: dict[str, tuple[str, Any]]) -> str:
    """The last row: the kit's points over every part, out of the lab's total (the handout's 100)."""
    decided = sum(r["points"] for r in rows if isinstance(r.get("points"), (int, float)))
    total = sum(p for _t, p in parts.values() if isinstance(p, (int, float)))
    graders = sum(1 for r in rows if r.get("status") == "for the grader")
    note = f"the kit's points; {graders} item{'s' if graders != 1 else ''} for the grader" if graders else \
        "the kit's points"
    return (f"<tr class='part total'><td colspan='3'>Total ({html.escape(note)})</td>"
            f"<td>{decided:g} / {total:g}</td></tr>")


def contents(entries: Sequence[tuple[str, int]]) -> str:
    e = html.escape
    items = "".join(f"<li>{e(t)} <span class='page'>p. {p}</span></li>" for t, p in entries)
    return f"<ol class='contents'>{items}</ol>"


def files_summary(files: Iterable[str]) -> str:
    """``checkout_server.py, answers/ (2 files), screenshots/ (8 files)``: one line for the grader."""
    groups: dict[str, int] = {}
    for name in files:
        top = name.split("/", 1)[0] + "/" if "/" in name else name
        groups[top] = groups.get(top, 0) + 1
    return ", ".join(g if not g.endswith("/") else f"{g} ({n} file{'s' if n > 1 else ''})" for g, n in groups.items())


def grader_page_html(settings: Settings, student: str, date: str, version: str, rows: Sequence[dict[str, Any]],
                     entries: Sequence[tuple[str, int]], proof_note: str, files: Iterable[str] = ()) -> str:
    e = html.escape
    files = list(files)
    beside = f"<dt>Beside it</dt><dd class='light'>{e(files_summary(files))}, leak_report.md</dd>" if files else ""
    return with_style(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{e(LAB_TITLE)}: grader's page</title></head><body>"
        f"<div class='course'>{e(settings.course)}</div><h1>{e(LAB_TITLE)}: grader's page</h1>"
        "<div class='top'>"
        f"<dl class='meta'><dt>Student</dt><dd>{e(student)}</dd><dt>Date</dt><dd>{e(date)}</dd>"
        f"<dt>Kit version</dt><dd>labkit {e(version)}</dd><dt>Run proof</dt><dd>{e(proof_note)}</dd>{beside}</dl>"
        f"<div>{contents(entries)}</div></div>"
        "<h2>Rubric <span class='light'>(points only where the kit can decide them, else \"grader\"; "
        "secret keys redacted; the card numbers are Stripe's test cards)</span></h2>"
        + rubric_table(rows, part_titles()) + "</body></html>", FRONT_CSS)
