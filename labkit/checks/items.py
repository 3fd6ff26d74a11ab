"""One check's result, and the rubric table that gives each check its part, title and points."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

EVIDENCED, MISSING, PARTIAL, GRADER = "evidenced", "missing", "partial", "for the grader"
STATUSES = (EVIDENCED, MISSING, PARTIAL, GRADER)
MARK = {EVIDENCED: "[ok]", MISSING: "[missing]", PARTIAL: "[partial]", GRADER: "[grader]"}


@dataclass
class Item:
    part: str
    check: str
    status: str
    evidence: str
    title: str = ""
    points: float | None = None      # what the kit can decide (None: for the grader)
    max_points: float | None = None
    hint: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Feedback:
    """What a failed check saw: the scenario, what was expected, what was seen, and a hint."""

    scenario: str
    expected: str
    seen: str
    hint: str = ""
    extra: list[str] = field(default_factory=list)

    def text(self) -> str:
        parts = [f"{self.scenario}: expected {self.expected}; saw {self.seen}."]
        parts += self.extra
        return " ".join(parts)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with "…" when cut."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:—-") + "…"


def log_hint(log: str, who: str) -> list[str]:
    """What the student's server printed that explains a failure: "not done yet" for a starter's
    NotImplementedError, else its last error line (``who``: "server", "handler")."""
    if "NotImplementedError" in log:
        return [f"The {who}'s log says NotImplementedError: this exercise is not done yet."]
    errs = [line.strip() for line in log.splitlines() if "Error" in line or "error" in line][-1:]
    return [f"The {who}'s log says: {clip(errs[0], 200)}"] if errs else []


def rubric() -> dict[str, Any]:
    return json.loads(resources.files("labkit.data").joinpath("rubric.json").read_text(encoding="utf-8"))


def rubric_entries() -> dict[str, dict[str, Any]]:
    """check id → {part, title, points} from ``labkit/data/rubric.json``."""
    out = {}
    for part in rubric()["parts"]:
        for item in part["items"]:
            if item.get("check"):
                out[item["check"]] = {"part": part["part"], "title": item["text"], "points": item.get("points")}
    return out


def item(check: str, status: str, evidence: str, hint: str = "") -> Item:
    """An :class:`Item` with its part, title and points filled in from the rubric."""
    entry = rubric_entries().get(check, {"part": check.split(":")[0], "title": check, "points": None})
    max_points = entry.get("points")
    points = None
    if max_points is not None and status != GRADER:
        points = {EVIDENCED: 1.0, PARTIAL: 0.5}.get(status, 0.0) * float(max_points)
    return Item(part=entry["part"], check=check, status=status, evidence=evidence, title=entry["title"],
                points=points, max_points=max_points, hint=hint)
