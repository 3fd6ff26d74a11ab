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


def write_json(results: list[dict[str, Any]], path: Path) -> Path:
    data = {"students": [{"student": r["student"], "items": [
        {k: i.get(k) for k in ("part", "check", "status", "evidence", "points", "max_points")} for i in r["items"]]}
        for r in results]}
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


STYLE = """body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse;margin:12px 0}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;font-size:13px}th{background:#f3f4f6}
.evidenced{background:#e8f5e9}.missing{background:#ffebee}.partial{background:#fff8e1}
td.for{color:#666}details{margin:6px 0}"""


def write_html(frame: pd.DataFrame, path: Path, title: str = "Lab 09: class grading") -> Path:
    def pts(points: Any, max_points: Any) -> str:
        if pd.isna(points):
            return ""
        return f"{points:g}" + ("" if pd.isna(max_points) else f" / {max_points:g}")

    def cell(status: Any) -> str:
        s = str(status) if isinstance(status, str) else ""
        return f'<td class="{s.split()[0] if s else ""}">{html.escape(s)}</td>'

    w = wide(frame)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["student", *w.columns])
    body = "".join(f"<tr><th>{html.escape(str(s))}</th>{''.join(cell(v) for v in row)}</tr>" for s, row in w.iterrows())
    details = []
    for student, group in frame.groupby("student", sort=False):
        rows = "".join(f"<tr><td>{html.escape(str(r.check))}</td>{cell(r.status)}<td>{html.escape(str(r.evidence))}</td>"
                       f"<td>{pts(r.points, r.max_points)}</td></tr>"
                       for r in group.itertuples())
        details.append(f"<details><summary>{html.escape(str(student))}</summary><table><tr><th>check</th><th>status"
                       f"</th><th>evidence</th><th>points</th></tr>{rows}</table></details>")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}"
            f"</style></head><body><h1>{html.escape(title)}</h1><h2>Summary</h2>{summary(frame).to_html()}"
            f"<h2>Each check</h2><table><tr>{head}</tr>{body}</table><h2>Evidence per student</h2>{''.join(details)}"
            "</body></html>")
    return write_text(path, page)
