"""The class table: one row per student and check (CSV), a wide page for people (HTML), JSON."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from labkit.files import write_text

COLUMNS = ["student", "part", "check", "status", "points", "max_points", "evidence", "hint"]


def long_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [{"student": r["student"], **{k: i.get(k) for k in COLUMNS[1:]}} for r in results for i in r["items"]]
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per student: the kit's points, how many checks passed, and which are missing."""
    def one(group: pd.DataFrame) -> pd.Series:
        checkable = group[group["status"] != "for the grader"]
        return pd.Series({
            "kit points": round(float(group["points"].fillna(0).sum()), 1),
            "of": round(float(checkable["max_points"].fillna(0).sum()), 1),
            "evidenced": int((checkable["status"] == "evidenced").sum()),
            "checks": len(checkable),
            "missing or partial": ", ".join(checkable.loc[checkable["status"] != "evidenced", "check"]),
        })
    return frame.groupby("student", sort=False).apply(one, include_groups=False)


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.pivot_table(index="student", columns="check", values="status", aggfunc="first", sort=False)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    return write_text(path, frame.to_csv(index=False))


def write_json(results: list[dict[str, Any]], path: Path, pairs: list[Any] | None = None) -> Path:
    data: dict[str, Any] = {"students": [{"student": r["student"], "items": [
        {k: i.get(k) for k in ("part", "check", "status", "evidence", "points", "max_points")} for i in r["items"]]}
        for r in results]}
    if pairs is not None:  # labkit.grading.similarity's report
        data["similar"] = [p.as_dict() for p in pairs]
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


STYLE = """body{font:14px system-ui,sans-serif;margin:16px;max-width:100%}h2{margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;
font-size:13px;text-align:left}th{background:#f3f4f6}
.evidenced{background:#e8f5e9}.missing{background:#ffebee}.partial{background:#fff8e1}.for{color:#666}
.scroll{overflow:auto;max-width:100%;max-height:80vh;border:1px solid #ccc}
.matrix{margin:0;font-size:12px}.matrix thead th{position:sticky;z-index:2;white-space:normal;font-weight:600;
overflow-wrap:normal;min-width:3.6em;vertical-align:bottom;padding:3px 4px;font-size:12px}
.matrix thead tr.parts th{top:0;text-align:center;height:1.4em}.matrix thead tr.names th{top:calc(1.4em + 7px);
writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;min-width:0;text-align:left;padding:4px 2px}
.matrix th.student{position:sticky;left:0;z-index:1;background:#f9fafb;min-width:11em;max-width:16em;
overflow-wrap:anywhere}.matrix thead th.student{z-index:3;top:0}
.matrix td{text-align:center;white-space:nowrap;padding:0}
.matrix td a{display:block;padding:4px 6px;color:inherit;text-decoration:none}.matrix td a:hover{outline:2px solid #555}
.evidence{table-layout:fixed;width:100%}.evidence td,.evidence th{overflow-wrap:anywhere}
.evidence col.check{width:15em}.evidence col.status{width:7em}.evidence col.pts{width:5em}
.evidence col.hint{width:30%}tr:target{outline:3px solid #1a73e8}section:target h3{background:#e8f0fe}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0;background:#f6f8fa;padding:6px;font-size:12px}
.note{color:#555}"""
SHORT = {"evidenced": "✓", "partial": "½", "missing": "✗", "for the grader": "grader"}


def _esc(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else html.escape(str(value))


def _pts(points: Any, max_points: Any) -> str:
    if points is None or pd.isna(points):
        return ""
    return f"{points:g}" + ("" if max_points is None or pd.isna(max_points) else f" / {max_points:g}")


def _words(text: Any, limit: int) -> str:
    """``text`` cut at a word boundary (a tooltip; the whole text is in the evidence table)."""
    text = "" if not isinstance(text, str) else text
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _status_class(status: Any) -> str:
    return str(status).split()[0] if isinstance(status, str) and status else ""


def _matrix(frame: pd.DataFrame, ids: dict[str, str]) -> str:
    """Student × check, each cell a link to its evidence; the student column and the header stay in view."""
    number = {c: n for n, c in enumerate(dict.fromkeys(frame["check"]))}  # anchors, as in _evidence
    part_of = dict(zip(frame["check"], frame["part"]))
    parts = list(dict.fromkeys(part_of.values()))
    checks = sorted(number, key=lambda c: (parts.index(part_of[c]), number[c]))  # each part's checks together
    span = "".join(f'<th colspan="{sum(part_of[c] == p for c in checks)}">Part {_esc(p)}</th>' for p in parts)
    names = "".join(f'<th title="{_esc(c)}">{_esc(c.split(":", 1)[-1]).replace("_", "_<wbr>")}</th>' for c in checks)
    head = f'<tr class="parts"><th class="student" rowspan="2">student</th>{span}</tr><tr class="names">{names}</tr>'
    rows = []
    for student, group in frame.groupby("student", sort=False):
        sid = ids[student]
        by_check = {r.check: r for r in group.itertuples()}
        cells = []
        for c in checks:
            r = by_check.get(c)
            if r is None:
                cells.append("<td></td>")
                continue
            cls = _status_class(r.status)
            cells.append(f'<td class="{cls}" title="{_esc(r.status)}: {_esc(_words(r.evidence, 300))}">'
                         f'<a href="#{sid}-{number[c]}">{SHORT.get(r.status, _esc(r.status))}</a></td>')
        rows.append(f'<tr><th class="student"><a href="#{sid}">{_esc(student).replace("_", "_<wbr>")}</a></th>'
                    f'{"".join(cells)}</tr>')
    return (f'<div class="scroll"><table class="matrix"><thead>{head}</thead><tbody>{"".join(rows)}</tbody>'
            '</table></div>')


def _evidence(frame: pd.DataFrame, ids: dict[str, str]) -> str:
    """Per student: each check's status, points, evidence and, beside it, the hint."""
    checks = list(dict.fromkeys(frame["check"]))
    out = []
    for student, group in frame.groupby("student", sort=False):
        sid = ids[student]
        rows = "".join(
            f'<tr id="{sid}-{checks.index(r.check)}"><td>{_esc(r.check)}</td>'
            f'<td class="{_status_class(r.status)}">{_esc(r.status)}</td><td>{_pts(r.points, r.max_points)}</td>'
            f'<td>{_esc(r.evidence)}</td><td>{_esc(r.hint) if r.status != "evidenced" else ""}</td></tr>'
            for r in group.itertuples())
        out.append(f'<section id="{sid}"><h3>{_esc(student)}</h3><table class="evidence"><colgroup>'
                   '<col class="check"><col class="status"><col class="pts"><col><col class="hint"></colgroup>'
                   '<tr><th>check</th><th>status</th><th>points</th><th>evidence</th><th>hint</th></tr>'
                   f'{rows}</table></section>')
    return "".join(out)


def _similar(pairs: list[Any] | None, ids: dict[str, str]) -> str:
    if pairs is None:
        return ""
    intro = ("<p class='note'>Pairs whose own code or essays share unusually much, after removing the starter code, "
             "the handout's code and what most of the class shares (copydetect fingerprints). A reason to read both "
             "submissions, never a verdict: no points were changed.</p>")
    if not pairs:
        return f"<h2 id='similar'>Similar work</h2>{intro}<p>No pair above the threshold.</p>"
    grouped: dict[tuple[str, str], list[Any]] = {}
    for p in pairs:
        grouped.setdefault((p.a, p.b), []).append(p)
    rows = []
    for (a, b), docs in grouped.items():
        link = lambda s: f'<a href="#{ids[s]}">{_esc(s)}</a>' if s in ids else _esc(s)
        parts = "".join(f"<p><b>{_esc(p.document)}</b>: {p.shares[0]:.0%} of {_esc(a)}'s, {p.shares[1]:.0%} of "
                        f"{_esc(b)}'s</p>" + "".join(f"<pre>{_esc(x)}</pre>" for x in p.passages) for p in docs)
        rows.append(f"<tr><td>{link(a)}<br>{link(b)}</td><td>{max(p.similarity for p in docs):.0%}</td>"
                    f"<td>{parts}</td></tr>")
    return (f"<h2 id='similar'>Similar work</h2>{intro}<table class='evidence'><colgroup><col class='check'>"
            f"<col class='pts'><col></colgroup><tr><th>pair</th><th>most</th><th>shared passages</th></tr>"
            f"{''.join(rows)}</table>")


def write_html(frame: pd.DataFrame, path: Path, title: str = "Lab 09: class grading",
               pairs: list[Any] | None = None) -> Path:
    """The page for people: summary, the student × check table, similar work, then each student's evidence.

    ``pairs``: :func:`labkit.grading.similarity.similar_pairs`'s report (None: not computed)."""
    ids = {s: f"s{n}" for n, s in enumerate(dict.fromkeys(frame["student"]))}
    overview = summary(frame) if len(frame) else pd.DataFrame()
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{_esc(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{_esc(title)}</h1><h2>Summary</h2>{overview.to_html(escape=True)}"
            f"<h2>Each check</h2><p class='note'>✓ evidenced, ½ partial, ✗ missing; click a cell for its evidence "
            f"and hint.</p>{_matrix(frame, ids)}{_similar(pairs, ids)}<h2>Evidence per student</h2>"
            f"{_evidence(frame, ids)}</body></html>")
    return write_text(path, page)
