"""Parts D and E: checks of what the student wrote (answers/pci.json and answers/part_e.md, or, when
those are empty, pci_assessment.md as the handout asks: :mod:`labkit.handed_in`).

Reading is in its own modules: statuses in the SAQ's words (:mod:`labkit.pci.status_words`), the
methods an essay recommends (:mod:`labkit.checks.recommend`), dollar figures
(:mod:`labkit.checks.money_text`) and whether they agree with the model for the student's stated
assumptions (:mod:`labkit.checks.essay_figures`), and a reworded copy of the model answer
(:mod:`labkit.checks.own_words`)."""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Item, item
from labkit.settings import Settings

SHINGLE = 8
FINGERPRINT = "model_answer_fingerprint.json"


def words(text: str) -> list[str]:
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    return re.findall(r"[A-Za-z0-9$%][A-Za-z0-9$%.,'’\-/]*", text)


# ---------------------------------------------------------------- Part D
def _pci_found(settings: Settings) -> tuple[dict[str, Any], str, str]:
    """(summary, where the answers were found, a note on the handout's numbers) for Part D."""
    from labkit.handed_in import load_pci_found
    from labkit.pci.student_answers import answers_summary

    found = load_pci_found(settings)
    summary = answers_summary(settings, data=found.data)
    note = ""
    if found.handout_rows:
        note = (f"; rows {', '.join(found.handout_rows)} are the handout's v3.2.1 numbers, read as the v4.0.1 "
                "requirements they map to")
    summary["statuses"] = {k: a.get("status", "") for k, a in found.data["requirements"].items()}
    summary["handout_only"] = bool(found.handout_rows) and not any(summary["statuses"].get(k) for k in _NOT_IN_HANDOUT)
    return summary, found.where, note


_NOT_IN_HANDOUT = ("3.1.1", "3.2.1", "11.3.2", "11.3.2.1")  # v4.0.1 items with no row in the handout's checklist


def pci_answered(settings: Settings) -> Item:
    summary, where, note = _pci_found(settings)
    done, total, todo = summary["answered"], summary["total"], summary["unanswered"]
    if not done:
        return item("pci:answered", MISSING, f"no requirement answered yet in {where} (nor in a pci_assessment.md "
                    "checklist beside it)", "Answer each requirement In Place / Not in Place / Not Applicable in "
                    "notebook 04, with a note: the handout's checklist of pci_assessment.md is saved in "
                    "answers/pci.json, and labkit export writes it into the pci_assessment.md you hand in.")
    if summary["handout_only"] and set(todo) <= set(_NOT_IN_HANDOUT):
        return item("pci:answered", EVIDENCED, f"the handout's checklist complete in {where}{note}; v4.0.1 also asks "
                    f"{', '.join(todo)}, which the handout does not list" if todo else
                    f"all {total} answered in {where}{note}")
    if todo:
        return item("pci:answered", PARTIAL, f"{done} of {total} answered in {where}{note}; still open: "
                    f"{', '.join(todo[:8])}{' …' if len(todo) > 8 else ''}", "Answer the open requirements.")
    no_reason = summary["na_without_reason"]
    if no_reason:
        return item("pci:answered", PARTIAL, f"all {total} answered in {where}, but Not Applicable without a reason: "
                    f"{', '.join(no_reason[:6])}", "SAQ A asks why each N/A does not apply (Appendix C): write it in "
                    "the note.")
    return item("pci:answered", EVIDENCED, f"all {total} requirements answered in {where}{note}")


def pci_gaps(settings: Settings) -> Item:
    summary, where, _ = _pci_found(settings)
    words = f"gaps {summary['gaps_words']} words, remediation {summary['remediation_words']} words, in {where}"
    if summary["gaps_written"] and summary["remediation_written"]:
        return item("pci:gaps", EVIDENCED, words)
    if not summary["gaps_words"] and not summary["remediation_words"]:
        return item("pci:gaps", MISSING, f"no gaps or remediation plan written yet ({where})",
                    "Write the gaps you found and how you would close them, in your own words (notebook 04).")
    why = "; ".join(p for p in (summary["gaps_problem"], summary["remediation_problem"]) if p)
    said_no = [k for k, v in summary["statuses"].items() if v == "no" and ":" not in k]
    if said_no and "nothing to fix" in why:
        why += f"; yet your checklist answers Not in Place for {', '.join(sorted(said_no)[:6])}"
    hint = "Name each gap, why it matters, and the step that closes it."
    if "nothing to fix" in why:
        hint = ("A shop on localhost has gaps (no ASV scan, 11.3.2; plain HTTP; no incident plan, 12.10.1, unless "
                "you wrote one): name them, then the step that closes each.")
    return item("pci:gaps", PARTIAL, f"{words}: {why}", hint)


# ---------------------------------------------------------------- Part E
def part_e_text(settings: Settings) -> str:
    return part_e_found(settings)[0]


def part_e_found(settings: Settings) -> tuple[str, str]:
    """The Part E text and where it was found (``answers/part_e.md``, else ``pci_assessment.md``)."""
    from labkit.handed_in import load_part_e_found

    return load_part_e_found(settings)


def altpay_words(text: str, where: str = "answers/part_e.md") -> Item:
    from labkit.altpay import word_count

    n = word_count(re.sub(r"^#.*$", "", text, flags=re.M))
    if n == 0:
        return item("altpay:words", MISSING, f"{where} has no text yet",
                    "Write about 400 words in answers/part_e.md: the handout's Part E of pci_assessment.md goes "
                    "there, and labkit export puts it into the pci_assessment.md you hand in.")
    if 350 <= n <= 450:
        return item("altpay:words", EVIDENCED, f"{n} words in {where} (the handout asks for about 400)")
    status = PARTIAL if 250 <= n <= 550 else MISSING
    return item("altpay:words", status, f"{n} words in {where}: the handout asks for about 400",
                "Too short: compare the three families and justify both picks." if n < 350 else "Cut to about 400.")


def altpay_two_methods(text: str) -> Item:
    from labkit.checks.recommend import families, read

    (picked, refused), named = read(text), families(text)
    aside = f" (turns down or puts off: {', '.join(refused)})" if refused else ""
    if len(picked) == 2:
        return item("altpay:two_methods", EVIDENCED, f"recommends {picked[0]} and {picked[1]}{aside}")
    if len(picked) > 2:
        return item("altpay:two_methods", PARTIAL, f"recommends {len(picked)} methods ({', '.join(picked)}): the "
                    "handout asks for two", "Say which two to add next; put the third off (e.g. 'revisit crypto "
                    "next year').")
    if picked:
        others = [f for f in named if f not in picked]
        mentioned = [f for f in others if f not in refused]
        return item("altpay:two_methods", PARTIAL, f"recommends only {picked[0]}"
                    + (f"; turns down or puts off {', '.join(refused)}" if refused else "")
                    + (f"; names {', '.join(mentioned)} without recommending it" if mentioned else ""),
            "The handout asks for two methods to add next: name the second and why.")
    if len(named) >= 2:
        return item("altpay:two_methods", PARTIAL, f"names {', '.join(named)} but no sentence says which two to add "
                    "now", "Say which two methods to add next (for example 'I recommend … and …') and why.")
    return item("altpay:two_methods", MISSING, "no two methods recommended" + (f" (names only {named[0]})" if named
                                                                                 else ""),
                "Recommend two methods by name.")


def dollar_figures(text: str) -> list[float]:
    from labkit.checks.money_text import amounts

    return amounts(text)


def _model_range(judged: Any) -> str:
    """What the model gives for a disagreeing figure's family: each method's low / base / high."""
    by_method: dict[str, list[float]] = {}
    for what, value in judged.model:
        name, _, which = what.rpartition(" ")
        if which in ("low", "base", "high"):
            by_method.setdefault(name, []).append(value)
    shown: dict[str, str] = {}
    for name, v in sorted(by_method.items(), key=lambda kv: -kv[1][1] if len(kv[1]) == 3 else 0):
        triple = " / ".join(f"${x / 1e3:,.0f}k" for x in v)
        if len(v) == 3 and triple not in shown.values() and len(shown) < 2:  # Affirm and Klarna round alike
            shown[name] = triple
    return "; ".join(f"{name} {triple} (low / base / high)" for name, triple in shown.items())


def altpay_figures(text: str, retailer: Any = None) -> Item:
    from labkit.checks.essay_figures import TOLERANCE, Assumptions, judge, stated_assumptions

    assumed = stated_assumptions(text) if retailer is None else Assumptions(
        retailer.revenue, retailer.gross_margin, retailer.mobile_revenue_share)
    revenue = assumed.revenue or 15e6
    judged = [j for j in judge(text, assumed) if abs(j.figure.value - revenue) > 1]
    if not judged:
        return item("altpay:figures", MISSING, "no dollar figure from the model quoted",
                    "Quote the model's extra gross profit for your two picks (notebook 05), e.g. '$120k a year'.")
    agree = [j for j in judged if j.agrees]
    wrong = [j for j in judged if not j.agrees]
    basis = ("your stated " + ", ".join(assumed.read())) if assumed.read() else "the handout's retailer (you state no " \
        "other revenue, margin or mobile share)"
    shown = ", ".join(j.figure.text.lstrip("–—- ") for j in agree[:5])
    evidence = f"{len(agree)} of {len(judged)} figures agree with the model for {basis} ({TOLERANCE})"
    evidence += f": {shown}" if shown else ""
    groups: dict[str, list[Any]] = {}
    for j in wrong:
        groups.setdefault(j.about, []).append(j)
    for about, js in groups.items():
        names = ", ".join(j.figure.text.lstrip("–—- ") for j in js[:5]) + (" …" if len(js) > 5 else "")
        evidence += (f"; disagree: {names} (about {about.replace('bnpl', 'BNPL').replace('wallet', 'wallets')}: "
                     f"the model gives {_model_range(js[0]) or 'other figures'})")
    if agree and 3 * len(wrong) <= len(judged):
        return item("altpay:figures", EVIDENCED, evidence)
    return item("altpay:figures", PARTIAL, evidence,
                "Re-run notebook 05 with your assumptions (state them in the text) and quote its figures for the "
                "method each sentence names.")


def shingles(text: str) -> set[str]:
    ws = [w.lower().strip(".,;:'’\"()") for w in words(text)]
    return {hashlib.sha256(" ".join(ws[i:i + SHINGLE]).encode()).hexdigest()[:16] for i in range(len(ws) - SHINGLE + 1)}


@lru_cache(maxsize=1)
def _model_text() -> str | None:
    """The model answer for the default assumptions (solution edition only), rendered once."""
    try:
        from labkit import altpay

        writer = getattr(altpay, "model_answer", None) or getattr(altpay, "analysis_text", None)
        return writer() if writer is not None else None
    except ImportError:
        return None


def _shipped() -> dict[str, Any] | None:
    try:
        return json.loads(resources.files("labkit.data").joinpath(FINGERPRINT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def model_fingerprint() -> set[str] | None:
    """The model answer's hashed 8-word phrases: from the model itself (solution edition) or
    from ``labkit/data/model_answer_fingerprint.json`` (the student edition has no model answer)."""
    text = _model_text()
    if text is not None:
        return shingles(text)
    data = _shipped()
    return None if data is None else set(data.get("shingles", []))


def model_sentences() -> list[Any] | None:
    """The model answer's sentences as MinHash signatures (:mod:`labkit.checks.own_words`), with their
    text in the solution edition; from the shipped fingerprint in the student edition."""
    from labkit.checks import own_words

    text = _model_text()
    if text is not None:
        return _fingerprint(text)
    data = _shipped()
    return None if data is None else own_words.from_json(data.get("sentences", []))


@lru_cache(maxsize=4)
def _fingerprint(text: str) -> list[Any]:
    from labkit.checks import own_words

    return own_words.fingerprint(text)


REWORDED = 0.4   # share of the compared sentences alike a model sentence: a reworded copy
CLOSE = 0.15     # above this, some passages follow the model closely
ALIKE_SHOWN = "half of their content words shared"  # own_words.ALIKE, in words


def altpay_own_words(text: str) -> Item:
    from labkit.checks.own_words import cut, matches

    mine = shingles(text)
    if not mine:
        return item("altpay:own_words", MISSING, "answers/part_e.md has no text yet")
    model, sentences = model_fingerprint(), model_sentences()
    if model is None and sentences is None:
        return item("altpay:own_words", "for the grader", "no model answer in this edition to compare with")
    share = len(mine & (model or set())) / len(mine)
    alike, compared = matches(text, sentences or [])
    alike_share = len(alike) / compared if compared else 0.0
    passages = "; ".join(f"yours: “{cut(m.student, 90)}” ~ model sentence {m.index}"
                         + (f": “{cut(m.model.text, 90)}”" if m.model.text else "") + f" ({m.overlap:.0%} alike)"
                         for m in sorted(alike, key=lambda m: -m.overlap)[:3])
    summary = (f"{len(alike)} of your {compared} sentences are alike a model-answer sentence (same content words, "
               f"any order, at least {ALIKE_SHOWN}); {share:.0%} of your {SHINGLE}-word phrases are the model's")
    if share >= 0.25 or alike_share >= REWORDED:
        return item("altpay:own_words", MISSING, f"{summary}: {passages}" if passages else summary,
                    "Write the analysis in your own words: a reworded copy of the model answer is still a copy.")
    if alike_share >= CLOSE:
        return item("altpay:own_words", PARTIAL, f"{summary}: {passages}",
                    "Rewrite the passages shown in your own words and reasoning.")
    return item("altpay:own_words", EVIDENCED, summary)

