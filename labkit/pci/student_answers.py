"""The student's Part D answers as the report and the widgets use them, read from and saved to
``answers/pci.json`` through :mod:`labkit.answers` (the one reader and writer of that file).

The file holds only what the student answered: a status (yes / no / n/a) and a note per SAQ A
requirement or eligibility criterion (``eligibility:<id>``), and the gaps and remediation plan
in the student's words. What the evidence suggests is never written there on its own: the
student takes a suggestion explicitly (the widget's button, or :func:`accept`), so the answers
file, the report, the static table and :func:`answers_summary` always agree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from labkit import answers as answer_files
from labkit.pci.requirements import ANSWERS, SAQ, load_saq
from labkit.settings import Settings

VALUE_OF = {"yes": "Yes", "no": "No", "n/a": "N/A"}  # the file's status -> the SAQ's response
STATUS_OF = {v: k for k, v in VALUE_OF.items()}
MIN_WORDS = 30  # below this, the gaps or the plan are not yet an answer in the student's words
PCI_FILE = answer_files.PCI_FILE
MODEL_ANSWERS = "pci.json"  # labkit/data/model_answers/pci.json (solution edition only)

GAPS_PLACEHOLDER = ("In your own words: which requirements are not met, or not met yet, for this shop, and why "
                    "(the checks' gaps, what you answered No, what a public launch would change).")
REMEDIATION_PLACEHOLDER = ("In your own words: for each gap, what you will do, who does it and by when, and how "
                           "you will show it is fixed (the evidence to re-run or the document to keep).")
PLACEHOLDERS = {"gaps": GAPS_PLACEHOLDER, "remediation": REMEDIATION_PLACEHOLDER}


@dataclass(frozen=True)
class Answer:
    """A response to one requirement or criterion: ``value`` is Yes / No / N/A, or None (not answered)."""

    value: str | None = None
    note: str = ""
    source: str = "student"  # "student" (saved), "evidence" (suggested by the checks), "default" (the data file)

    def __post_init__(self) -> None:
        if self.value not in (None, *ANSWERS):
            raise ValueError(f"an answer is one of {ANSWERS} or None, not {self.value!r}")


@dataclass
class PciAnswers:
    """Everything the student answered for Part D."""

    answers: dict[str, Answer] = field(default_factory=dict)
    gaps: str = ""
    remediation: str = ""


def load(settings: Settings, data: dict[str, Any] | None = None) -> PciAnswers:
    """The saved answers (an empty set when nothing was saved yet); ``data``: answers already read
    (as :func:`labkit.answers.load_pci` returns them, e.g. from ``pci_assessment.md``)."""
    data = answer_files.load_pci(settings) if data is None else data
    saved = {key: Answer(VALUE_OF.get(a["status"]), _ccw_note(a), "student")
             for key, a in data["requirements"].items() if a["status"] or a["note"]}
    return PciAnswers(saved, data["gaps"], data["remediation"])


def _ccw_note(answer: dict[str, Any]) -> str:
    """The note, led by "In Place with CCW." where the answer was given so (the SAQ's compensating control)."""
    note = answer.get("note") or ""
    if answer.get("ccw") and "ccw" not in note.lower():
        return f"In Place with CCW. {note}".strip()
    return note


def save_answer(key: str, value: str | None, note: str | None = None, *, settings: Settings) -> Answer:
    """Save one answer at once (``value`` None clears the status, keeping the note)."""
    if value not in (None, *ANSWERS):
        raise ValueError(f"an answer is one of {ANSWERS} or None, not {value!r}")
    data = answer_files.set_requirement(key, STATUS_OF.get(value or "", ""), note, settings=settings)
    saved = data["requirements"][key]
    return Answer(VALUE_OF.get(saved["status"]), saved["note"], "student")


def save_text(name: str, text: str, settings: Settings) -> None:
    """Save the gaps or the remediation plan (``name``: ``"gaps"`` or ``"remediation"``)."""
    answer_files.set_text(name, text, settings)


def accept(suggested: Mapping[str, Answer], settings: Settings) -> list[str]:
    """Save the suggested answers for every item the student has not answered yet; returns their keys."""
    data = answer_files.load_pci(settings)
    taken = []
    for key, a in suggested.items():
        mine = data["requirements"].get(key, {"status": "", "note": ""})
        if a.value and not mine["status"]:
            data["requirements"][key] = {"status": STATUS_OF[a.value], "note": mine["note"] or a.note}
            taken.append(key)
    if taken:
        answer_files.save_pci(data, settings)
    return taken


def word_count(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9][A-Za-z0-9'’.\-/%$]*", text or ""))


def _normal(text: str) -> str:
    return " ".join((text or "").split()).lower()


def text_problem(name: str, text: str) -> str | None:
    """Why ``text`` is not yet the student's own gaps or plan (None when it is)."""
    if not (text or "").strip():
        return "not written yet"
    if _normal(PLACEHOLDERS[name]) in _normal(text):
        return "still the template's text"
    words = word_count(text)
    if words < MIN_WORDS:
        return f"{words} words: write at least {MIN_WORDS}"
    if len({w.lower() for w in re.findall(r"[A-Za-z]{2,}", text)}) < MIN_WORDS // 2:
        return "the same few words repeated, not an answer"
    denial = nothing_to_fix(text, plan=name == "remediation")
    if denial:
        return f"says there is nothing to fix ('{denial}'), which is not a {'gaps analysis' if name == 'gaps' else 'plan'}"
    return None


# "No gaps were identified", "nothing to fix", "fully compliant", "no remediation is needed": a text that
# denies any gap. A text that also names one (a requirement number, something missing or not done) is
# an analysis, whatever else it says.
_DENIAL = re.compile(
    r"\b(?:no|zero|not\s+any|without\s+any)\s+(?:\w+\s+){0,2}(?:gaps?|issues?|findings?|deficienc\w+|weakness\w*|"
    r"problems?|remediation|action|changes?|fix\w*)\b(?!\s+(?:in|for|with)\s+(?:card|the\s+card|our\s+code))|"
    r"\bnothing\s+(?:\w+\s+){0,2}(?:to\s+(?:fix|remediate|address|do|change|improve)|missing|needed|required)|"
    r"\b(?:fully|100\s*%|completely|entirely)\s+(?:pci\s+(?:dss\s+)?)?compliant\b|"
    r"\ball\s+(?:\w+\s+){0,3}(?:are|is)\s+(?:met|in\s+place|satisfied|compliant)\b|"
    r"\b(?:none|n/?a)\b\s*[.!]?\s*$", re.I)
_GAP_CUES = re.compile(
    r"(?<![\d.])\d{1,2}\.\d{1,2}(?:\.\d{1,2}){0,2}(?![\d.]*\d)|\b(?:missing|lacks?|lacking|absent|not\s+yet|"
    r"never\s+(?:been\s+)?(?:scanned|reviewed|checked|written|tested|done|read)|no\s+(?:written|external|asv|"
    r"incident|formal|documented|scan|plan|policy|process|schedule|review|reminder|inventory|mfa|two-factor|"
    r"second\s+factor|https|tls)|(?:is|are|was|were|has|have)(?:\s+not|n't)\s+(?:\w+\s+){0,2}(?:been\s+)?"
    r"(?:done|written|scanned|reviewed|checked|read|set|in\s+place|enabled|rotated|documented|signed)|"
    r"without\s+(?:a|an|any)\s+\w+|only\s+(?:a\s+)?password|plain\s+http|shared\s+(?:login|account|key|password)|"
    r"(?:need|needs|must|should)\s+(?:to\s+)?(?:be\s+)?(?:add|write|scan|set|enable|rotate|contract|document|review|"
    r"buy|get|move|fix|put|create|sign|read|download|turn|implement|schedule|train|serve|encrypt))", re.I)


def nothing_to_fix(text: str, plan: bool = False) -> str | None:
    """The sentence of ``text`` that says there is nothing to fix, if the text names no gap at all
    (``plan``: a remediation plan, where any other sentence of some length is a step of the plan)."""
    sentences = [x.strip() for x in re.split(r"(?<=[.!?])\s+|\n+", text or "") if x.strip()]
    denials = [x for x in sentences if _DENIAL.search(x)]
    if not denials:
        return None
    others = [x for x in sentences if x not in denials]
    if any(_GAP_CUES.search(x) or (plan and len(x.split()) >= 8) for x in others):
        return None
    shown = denials[0]
    return shown if len(shown) <= 80 else shown[:80].rsplit(" ", 1)[0] + " …"


def model_answers_path() -> Path | None:
    """The instructor's model answers for the demo (solution edition only); None in the student edition."""
    path = Path(str(resources.files("labkit").joinpath("data", "model_answers", MODEL_ANSWERS)))
    return path if path.is_file() else None


def answers_summary(settings: Settings, saq: SAQ | None = None,
                    data: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the student has answered, for the lead's checks ``pci:answered`` and ``pci:gaps``
    (``data``: answers already read, see :func:`load`)."""
    saq = saq or load_saq()
    saved = load(settings, data)
    numbers = [r.number for r in saq.requirements]
    criteria = [f"eligibility:{c.id}" for c in saq.eligibility]

    def answered(key: str) -> bool:
        return bool(saved.answers.get(key, Answer()).value)

    problems = {name: text_problem(name, getattr(saved, name)) for name in PLACEHOLDERS}
    return {
        "path": str(answer_files.answers_dir(settings) / answer_files.PCI_FILE),
        "answered": sum(answered(n) for n in numbers),
        "total": len(numbers),
        "unanswered": [n for n in numbers if not answered(n)],
        "eligibility_answered": sum(answered(k) for k in criteria),
        "eligibility_total": len(criteria),
        "eligibility_unanswered": [k.split(":", 1)[1] for k in criteria if not answered(k)],
        "na_without_reason": [n for n in (*numbers, *criteria)
                              if saved.answers.get(n, Answer()).value == "N/A" and not saved.answers[n].note.strip()],
        "gaps_words": word_count(saved.gaps),
        "remediation_words": word_count(saved.remediation),
        "gaps_written": problems["gaps"] is None,
        "remediation_written": problems["remediation"] is None,
        "gaps_problem": problems["gaps"],
        "remediation_problem": problems["remediation"],
        "min_words": MIN_WORDS,
    }
