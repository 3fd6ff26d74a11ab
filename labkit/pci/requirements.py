"""The SAQ A questionnaire (PCI DSS v4.0.1, r1) as data: eligibility criteria, requirements, sources.

The facts live in ``labkit/data/saq_a_v401.json`` with their sources; this module only
reads them into small frozen records. The list is reconstructed from the Council's change
logs and secondary sources (the file says so in ``provenance``), so the report repeats it;
every source names its publisher, title, date and URL, or says "not verified".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

DATA_FILE = "saq_a_v401.json"
ANSWERS = ("Yes", "No", "N/A")


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion for SAQ A."""

    id: str
    text: str
    plain: str
    handout: str | None
    handout_note: str | None
    checks: tuple[str, ...]
    question: str | None
    sources: tuple[str, ...]
    related_checks: tuple[str, ...] = ()  # evidence shown with the criterion, not deciding it

    @property
    def software_checkable(self) -> bool:
        return bool(self.checks)


@dataclass(frozen=True)
class Requirement:
    """One SAQ A requirement, with the handout's old number and how software can check it."""

    number: str
    group: str
    title: str
    plain: str
    handout: str | None
    handout_title: str | None
    mapping: str
    software: str  # "full" | "partial" | "none"
    checks: tuple[str, ...]
    question: str | None
    default_answer: str | None
    default_note: str | None
    gap: str | None
    remediation: str | None
    sources: tuple[str, ...]
    evidence_decides: bool = True  # False: the checks inform the student's answer but do not pre-fill "Yes"

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.number.split("."))


@dataclass(frozen=True)
class RemovedRequirement:
    number: str
    title: str
    plain: str
    note: str
    checks: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SAQ:
    title: str
    short: str
    standard: str
    in_force: str
    provenance: str
    eligibility: tuple[Criterion, ...]
    requirements: tuple[Requirement, ...]
    removed: tuple[RemovedRequirement, ...]
    handout_rows: tuple[dict[str, Any], ...]
    responses: dict[str, dict[str, str]]
    timeline: tuple[dict[str, str], ...]
    sources: dict[str, dict[str, Any]]

    def requirement(self, number: str) -> Requirement:
        for r in self.requirements:
            if r.number == number:
                return r
        raise KeyError(f"{number} is not a requirement of {self.short}")

    def criterion(self, id_: str) -> Criterion:
        for c in self.eligibility:
            if c.id == id_:
                return c
        raise KeyError(f"no eligibility criterion {id_!r} in {self.short}")

    def check_ids(self) -> set[str]:
        """Every check id the questionnaire refers to."""
        ids = {c for r in self.requirements for c in r.checks}
        ids |= {c for e in self.eligibility for c in (*e.checks, *e.related_checks)}
        ids |= {c for r in self.removed for c in r.checks}
        return ids

    def source_label(self, key: str) -> str:
        s = self.sources[key]
        parts = [s["publisher"], s["title"], s.get("date")]
        text = ", ".join(p for p in parts if p)
        text = f"{text} ({s['url']})" if s.get("url") else text
        return f"{text} [{s['note']}]" if s.get("note") else text


def _t(value: Any) -> tuple:
    return tuple(value or ())


def load_saq(path: str | Path | None = None) -> SAQ:
    """Read the questionnaire (default: the kit's data file) and check it is consistent."""
    if path is None:
        text = resources.files("labkit").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    doc = json.loads(text)
    eligibility = tuple(
        Criterion(e["id"], e["text"], e["plain"], e.get("handout"), e.get("handout_note"), _t(e.get("checks")),
                  e.get("question"), _t(e.get("sources")), _t(e.get("related_checks")))
        for e in doc["eligibility"])
    requirements = tuple(
        Requirement(r["number"], r["group"], r["title"], r["plain"], r.get("handout"), r.get("handout_title"),
                    r["mapping"], r["software"], _t(r.get("checks")), r.get("question"), r.get("default_answer"),
                    r.get("default_note"), r.get("gap"), r.get("remediation"), _t(r.get("sources")),
                    bool(r.get("evidence_decides", True)))
        for r in doc["requirements"])
    removed = tuple(RemovedRequirement(r["number"], r["title"], r["plain"], r["note"], _t(r.get("checks")),
                                       _t(r.get("sources"))) for r in doc["removed_in_r1"])
    saq = SAQ(doc["title"], doc["short"], doc["standard"], doc["in_force"], doc["provenance"], eligibility,
              requirements, removed, tuple(doc["handout_rows"]), doc["responses"], tuple(doc["timeline"]),
              doc["sources"])
    _validate(saq)
    return saq


def _validate(saq: SAQ) -> None:
    numbers = [r.number for r in saq.requirements]
    if len(set(numbers)) != len(numbers):
        raise ValueError("duplicate requirement numbers in the SAQ data")
    cited = {s for r in saq.requirements for s in r.sources} | {s for e in saq.eligibility for s in e.sources}
    cited |= {s for r in saq.removed for s in r.sources}
    missing = cited - set(saq.sources)
    if missing:
        raise ValueError(f"SAQ data cites unknown sources: {sorted(missing)}")
    for key, src in saq.sources.items():
        if not all(src.get(f) for f in ("publisher", "title", "date")):
            raise ValueError(f"source {key}: needs a publisher, a title and a date")
        if not src.get("url") and "not verified" not in (src.get("note") or ""):
            raise ValueError(f"source {key}: give its URL, or say 'not verified' in its note")
    unsourced = [r.number for r in saq.requirements if not r.sources]
    if unsourced:
        raise ValueError(f"requirements without a source: {unsourced}")
    for r in saq.requirements:
        if r.software not in ("full", "partial", "none"):
            raise ValueError(f"{r.number}: software must be full, partial or none")
        if r.default_answer not in (None, *ANSWERS):
            raise ValueError(f"{r.number}: default_answer must be one of {ANSWERS} or null")
        if bool(r.checks) != (r.software != "none"):
            raise ValueError(f"{r.number}: checks and software={r.software!r} disagree")
