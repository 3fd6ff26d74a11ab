"""Parts D and E: checks of what the student wrote (answers/pci.json and answers/part_e.md)."""
from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

from labkit import answers
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Item, item
from labkit.settings import Settings

FAMILIES = {
    "digital wallets": r"apple\s*pay|google\s*pay|digital wallets?|\bwallets?\b",
    "BNPL": r"klarna|affirm|afterpay|\bbnpl\b|buy now,?\s*pay later",
    "crypto": r"crypto\w*|bitcoin|bitpay|coinbase|stablecoin",
}
SHINGLE = 8
FINGERPRINT = "model_answer_fingerprint.json"


def words(text: str) -> list[str]:
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    return re.findall(r"[A-Za-z0-9$%][A-Za-z0-9$%.,'’\-/]*", text)


# ---------------------------------------------------------------- Part D
def pci_answered(settings: Settings) -> Item:
    from labkit.pci import answers_summary

    summary = answers_summary(settings)
    done, total, todo = summary["answered"], summary["total"], summary["unanswered"]
    where = "answers/pci.json (notebook 04's checklist)"
    if not done:
        return item("pci:answered", MISSING, f"no requirement answered yet in {where}",
                    "Answer each requirement Yes / No / N/A in notebook 04, with a note: the handout's checklist "
                    "of pci_assessment.md is saved in answers/pci.json, and labkit export writes it into the "
                    "pci_assessment.md you hand in.")
    if todo:
        return item("pci:answered", PARTIAL, f"{done} of {total} answered; still open: "
                    f"{', '.join(todo[:8])}{' …' if len(todo) > 8 else ''}", "Answer the open requirements.")
    no_reason = summary["na_without_reason"]
    if no_reason:
        return item("pci:answered", PARTIAL, f"all {total} answered, but N/A without a reason: {', '.join(no_reason[:6])}",
                    "SAQ A asks why each N/A does not apply: write it in the note.")
    return item("pci:answered", EVIDENCED, f"all {total} requirements answered")


def pci_gaps(settings: Settings) -> Item:
    from labkit.pci import answers_summary

    summary = answers_summary(settings)
    words = f"gaps {summary['gaps_words']} words, remediation {summary['remediation_words']} words"
    if summary["gaps_written"] and summary["remediation_written"]:
        return item("pci:gaps", EVIDENCED, words)
    if not summary["gaps_words"] and not summary["remediation_words"]:
        return item("pci:gaps", MISSING, "no gaps or remediation plan written yet (answers/pci.json)",
                    "Write the gaps you found and how you would close them, in your own words (notebook 04).")
    why = "; ".join(p for p in (summary["gaps_problem"], summary["remediation_problem"]) if p)
    return item("pci:gaps", PARTIAL, f"{words}: {why}", "Name each gap, why it matters, and the step that closes it.")


# ---------------------------------------------------------------- Part E
def part_e_text(settings: Settings) -> str:
    return answers.load_part_e(settings)


def altpay_words(text: str) -> Item:
    from labkit.altpay import word_count

    n = word_count(re.sub(r"^#.*$", "", text, flags=re.M))
    if n == 0:
        return item("altpay:words", MISSING, "answers/part_e.md has no text yet",
                    "Write about 400 words in answers/part_e.md: the handout's Part E of pci_assessment.md goes "
                    "there, and labkit export puts it into the pci_assessment.md you hand in.")
    if 350 <= n <= 450:
        return item("altpay:words", EVIDENCED, f"{n} words (the handout asks for about 400)")
    status = PARTIAL if 250 <= n <= 550 else MISSING
    return item("altpay:words", status, f"{n} words: the handout asks for about 400",
                "Too short: compare the three families and justify both picks." if n < 350 else "Cut to about 400.")


def _families(text: str) -> list[str]:
    """The method families ``text`` names, in the order it first names them."""
    found = {name: m.start() for name, pattern in FAMILIES.items() if (m := re.search(pattern, text, re.I))}
    return sorted(found, key=found.get)


NOT_NOW = re.compile(r"\b(not|leave|later|skip|avoid|wait|instead of|rather than)\b", re.I)


def _recommended(text: str) -> list[str]:
    """The families named in the sentences that recommend, leaving out clauses that turn one down."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if re.search(r"recommend", s, re.I)]
    picked: list[str] = []
    for sentence in sentences:
        for clause in re.split(r"[;:]|\bbut\b|\bwhile\b", sentence):
            if not NOT_NOW.search(clause):
                picked += [f for f in _families(clause) if f not in picked]
    return picked


def altpay_two_methods(text: str) -> Item:
    picked = _recommended(text)
    named = _families(text)
    if len(picked) >= 2:
        return item("altpay:two_methods", EVIDENCED, f"recommends {' and '.join(picked[:2])}")
    if len(named) >= 2:
        return item("altpay:two_methods", PARTIAL, f"names {', '.join(named)} but no sentence says which two you "
                    "recommend", "Write 'I recommend … and …' and why.")
    return item("altpay:two_methods", MISSING, "no two methods recommended" + (f" (names only {named[0]})" if named else ""),
                "Recommend two methods by name.")


MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)\s*(k|thousand|m|mn|million)?\b", re.I)


def dollar_figures(text: str) -> list[float]:
    out = []
    for num, unit in MONEY.findall(text):
        value = float(num.replace(",", ""))
        unit = (unit or "").lower()
        value *= 1e3 if unit in ("k", "thousand") else 1e6 if unit in ("m", "mn", "million") else 1
        out.append(value)
    return out


def model_figures(retailer: Any = None) -> list[float]:
    """Every figure the model gives for these assumptions (low/base/high profit, revenue, fees)."""
    from labkit import altpay

    table = altpay.compare(retailer)
    cols = [c for c in ("low", "base", "high", "delta_revenue", "delta_fees", "reachable") if c in table]
    return [float(v) for c in cols for v in table[c].tolist() if abs(float(v)) >= 1000]


def altpay_figures(text: str, retailer: Any = None) -> Item:
    quoted = [v for v in dollar_figures(text) if v >= 1000 and abs(v - 15e6) > 1]
    if not quoted:
        return item("altpay:figures", MISSING, "no dollar figure from the model quoted",
                    "Quote the model's extra gross profit for your two picks (notebook 05), e.g. '$120k a year'.")
    model = model_figures(retailer)
    agree = [q for q in quoted if any(abs(q - f) <= 0.1 * abs(f) + 500 for f in model)]
    shown = ", ".join(f"${q:,.0f}" for q in quoted[:6])
    if len(agree) >= max(1, len(quoted) // 2):
        return item("altpay:figures", EVIDENCED, f"{len(agree)} of {len(quoted)} figures agree with the model ({shown})")
    return item("altpay:figures", PARTIAL, f"{len(agree)} of {len(quoted)} figures agree with the model for your "
                f"assumptions ({shown})", "Re-run notebook 05 with your assumptions and quote its figures.")


def shingles(text: str) -> set[str]:
    ws = [w.lower().strip(".,;:'’\"()") for w in words(text)]
    return {hashlib.sha256(" ".join(ws[i:i + SHINGLE]).encode()).hexdigest()[:16] for i in range(len(ws) - SHINGLE + 1)}


def model_fingerprint() -> set[str] | None:
    """The model answer's hashed 8-word phrases: from the model itself (solution edition) or
    from ``labkit/data/model_answer_fingerprint.json`` (the student edition has no model answer)."""
    try:
        from labkit import altpay

        writer = getattr(altpay, "model_answer", None) or getattr(altpay, "analysis_text", None)
        if writer is not None:
            return shingles(writer())
    except ImportError:
        pass
    try:
        data = json.loads(resources.files("labkit.data").joinpath(FINGERPRINT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return set(data.get("shingles", []))


def altpay_own_words(text: str) -> Item:
    mine = shingles(text)
    if not mine:
        return item("altpay:own_words", MISSING, "answers/part_e.md has no text yet")
    model = model_fingerprint()
    if model is None:
        return item("altpay:own_words", "for the grader", "no model answer in this edition to compare with")
    share = len(mine & model) / len(mine)
    if share >= 0.25:
        return item("altpay:own_words", MISSING, f"{share:.0%} of your {SHINGLE}-word phrases are the model answer's",
                    "Write the analysis in your own words.")
    return item("altpay:own_words", EVIDENCED, f"{share:.0%} of {SHINGLE}-word phrases shared with the model answer")
