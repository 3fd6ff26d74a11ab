"""Answers and ``pci_assessment.md``: the handout's sections, filled from the SAQ data and the evidence.

The Part D text sits between ``<!-- labkit:part-d:start -->`` and ``<!-- labkit:part-d:end -->``;
writing it replaces only that section and keeps everything else in the file, in particular
the Part E section that :func:`labkit.altpay.write_part_e` maintains (Part D goes before it).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from labkit.pci.results import CheckResult
from labkit.pci.run import Evidence
from labkit.pci.requirements import ANSWERS, SAQ, Criterion, Requirement, load_saq

PART_D_START = "<!-- labkit:part-d:start -->"
PART_D_END = "<!-- labkit:part-d:end -->"
PART_E_START = "<!-- labkit:part-e:start -->"  # the same marker as labkit.altpay.PART_E_START
FILE_NAME = "pci_assessment.md"


@dataclass(frozen=True)
class Answer:
    """A response to one requirement or criterion: ``value`` is Yes / No / N/A, or None (not answered)."""

    value: str | None = None
    note: str = ""
    source: str = "student"  # "evidence" (pre-filled by the checks), "default" (the data file), "student"

    def __post_init__(self) -> None:
        if self.value not in (None, *ANSWERS):
            raise ValueError(f"an answer is one of {ANSWERS} or None, not {self.value!r}")


def _results_for(evidence: Evidence | None, ids: Iterable[str]) -> list[CheckResult]:
    if evidence is None:
        return []
    return [r for r in (evidence.get(i) for i in ids) if r is not None]


def prefill_requirement(req: Requirement, evidence: Evidence | None) -> Answer:
    """The answer the evidence (or the data file's default) suggests; None where the student must answer."""
    results = _results_for(evidence, req.checks)
    gaps = [r for r in results if r.status == "gap"]
    if gaps:
        return Answer("No", "; ".join(f"{r.title}: {r.summary}" for r in gaps), "evidence")
    if req.default_answer:
        return Answer(req.default_answer, req.default_note or "", "default")
    if results and req.evidence_decides and all(r.status == "pass" for r in results):
        confirm = f" Confirm for what software cannot see: {req.question}" if req.question else ""
        return Answer("Yes", "Pre-filled from the evidence: " + "; ".join(r.summary for r in results) + "." + confirm,
                      "evidence")
    return Answer(None, "", "student")


def prefill_criterion(crit: Criterion, evidence: Evidence | None) -> Answer:
    results = _results_for(evidence, crit.checks)
    if not results:
        return Answer(None, "", "student")
    if any(r.status == "gap" for r in results):
        return Answer("No", "; ".join(r.summary for r in results if r.status == "gap"), "evidence")
    if all(r.status == "pass" for r in results):
        return Answer("Yes", "; ".join(r.summary for r in results), "evidence")
    return Answer(None, "; ".join(f"{r.title}: {r.status}" for r in results), "student")


def prefill(saq: SAQ | None = None, evidence: Evidence | None = None) -> dict[str, Answer]:
    """Pre-filled answers keyed by requirement number and by ``eligibility:<id>``."""
    saq = saq or load_saq()
    answers = {r.number: prefill_requirement(r, evidence) for r in saq.requirements}
    answers.update({f"eligibility:{c.id}": prefill_criterion(c, evidence) for c in saq.eligibility})
    return answers


# ----------------------------------------------------------------------------- rendering
def _mark(answer: Answer) -> str:
    return f"**{answer.value}**" if answer.value else "☐ Yes / No / N/A"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _evidence_lines(results: Iterable[CheckResult], limit: int = 24) -> list[str]:
    lines = []
    for r in results:
        lines.append(f"  - evidence, *{r.title}*: **{r.status}**, {r.summary}.")
        for d in r.details[:limit]:
            depth = "      " if d.startswith("  ") else "    "
            lines.append(f"{depth}- {d.strip().lstrip('- ')}")
    return lines


@dataclass(frozen=True)
class Gap:
    what: str
    remediation: str
    where: str


def collect_gaps(saq: SAQ, answers: Mapping[str, Answer], evidence: Evidence | None) -> list[Gap]:
    """Gaps from the checks, then from requirements and criteria answered No."""
    gaps: list[Gap] = []
    seen_checks: set[str] = set()
    for r in (evidence.results if evidence else []):
        if r.status == "gap":
            seen_checks.add(r.id)
            where = ", ".join(r.requirements) or "beyond SAQ A"
            gaps.append(Gap(f"{r.title}: {r.summary}.", r.remediation or "Fix and re-run `labkit pci`.", where))
    for req in saq.requirements:
        a = answers.get(req.number, Answer())
        if a.value != "No" or (a.source == "evidence" and set(req.checks) & seen_checks):
            continue
        what = req.gap or f"{req.number} {req.title}: not in place." + (f" {a.note}" if a.note else "")
        gaps.append(Gap(what, req.remediation or "Put it in place, record how, and answer Yes with the evidence.",
                        req.number))
    for crit in saq.eligibility:
        a = answers.get(f"eligibility:{crit.id}", Answer())
        if a.value == "No" and not (a.source == "evidence" and set(crit.checks) & seen_checks):
            gaps.append(Gap(f"SAQ A eligibility not met: {crit.plain}" + (f" ({a.note})" if a.note else ""),
                            "Until it holds, SAQ A does not apply: fix it, or assess with SAQ A-EP or SAQ D.",
                            f"eligibility: {crit.id}"))
    return gaps


def render_assessment(saq: SAQ | None = None, evidence: Evidence | None = None,
                      answers: Mapping[str, Answer] | None = None, *, date: str | None = None,
                      merchant: str = "Lab 09 test shop") -> str:
    """The Part D section of ``pci_assessment.md`` (markers included)."""
    saq = saq or load_saq()
    answers = {**prefill(saq, evidence), **(answers or {})}
    date = date or _dt.date.today().isoformat()
    by_check = {r.id: r for r in (evidence.results if evidence else [])}
    out: list[str] = [PART_D_START, "# PCI DSS SAQ A Self-Assessment — Lab 09", ""]
    out += [
        "**Merchant type:** E-commerce, card-not-present (a test-mode shop: Stripe Payment Intents with Stripe's "
        "card Element)  ",
        f"**SAQ type:** SAQ A, {saq.standard} ({saq.short}): all cardholder-data functions outsourced to Stripe  ",
        f"**Assessment date:** {date}  ",
    ]
    if evidence is not None:
        t = evidence.target
        counts = {s: sum(1 for r in evidence.results if r.status == s) for s in ("pass", "gap", "n/a", "error")}
        out.append(f"**Servers assessed:** {t.label}: checkout {t.checkout_url}"
                   + (f", webhooks {t.webhook_url}" if t.webhook_url else "") + "  ")
        out.append(f"**Automated evidence:** {len(evidence.results)} checks by `labkit pci`: {counts['pass']} pass, "
                   f"{counts['gap']} gap, {counts['n/a']} not applicable, {counts['error']} could not run")
    else:
        out.append("**Automated evidence:** none (run `labkit pci` against the running servers)")
    out += ["", f"> The handout's checklist used PCI DSS v3.2.1 numbers; v3.2.1 was retired on 31 March 2024. "
                f"This assessment follows {saq.title}. {saq.provenance}", ""]

    # ---- eligibility
    out += ["## Why SAQ A Applies", "", "SAQ A applies only when every one of these holds:", ""]
    for c in saq.eligibility:
        a = answers.get(f"eligibility:{c.id}", Answer())
        box = "[x]" if a.value == "Yes" else "[ ]"
        state = {"Yes": "", "No": " **Not met.**", "N/A": " (N/A)"}.get(a.value or "", " *To confirm.*")
        out.append(f"- {box} {c.text}{state}")
        results = _results_for(evidence, (*c.checks, *c.related_checks))
        if results:
            out += [f"  - evidence, *{r.title}*: **{r.status}**, {r.summary}." for r in results]
        if a.note and a.source != "evidence":
            out.append(f"  - note: {a.note}")
        if not a.value and c.question:
            out.append(f"  - to answer: {c.question}")
        if c.handout_note:
            out.append(f"  - handout: {c.handout_note}")
    out.append("")

    # ---- checklist
    out += ["## SAQ A Requirements Checklist", "",
            "Responses: Yes = *In Place*, No = *Not in Place*, N/A = *Not Applicable* (SAQ A then asks why). "
            "'Handout' is the handout's v3.2.1 number where one maps.", "",
            "| Req (v4.0.1) | Handout | Requirement | Compliant | Notes |",
            "|---|---|---|:---:|---|"]
    for r in saq.requirements:
        a = answers.get(r.number, Answer())
        note = a.note or (f"To answer: {r.question}" if r.question else "")
        out.append(f"| {r.number} | {r.handout or '—'} | {_cell(r.title)} | {_mark(a)} | {_cell(note)} |")
    out += ["", "### Evidence and explanation under each answer", ""]
    for r in saq.requirements:
        a = answers.get(r.number, Answer())
        out.append(f"- **{r.number} {r.title}**: {a.value or 'not answered yet'}"
                   + {"evidence": " (pre-filled from the evidence)", "default": " (pre-filled: lab setting)"}
                   .get(a.source, "") + ".")
        out.append(f"  - what it asks: {r.plain}")
        out.append(f"  - handout: {r.mapping}")
        out += _evidence_lines(_results_for(evidence, r.checks))
        if a.note and a.source == "student":
            out.append(f"  - notes: {a.note}")
    out.append("")

    # ---- removed in r1
    out += ["## Removed from SAQ A in r1 (January 2025)", "",
            "| Req | What it asked | Now |", "|---|---|---|"]
    for r in saq.removed:
        out.append(f"| {r.number} | {_cell(r.plain)} | {_cell(r.note)} |")
    scripts = by_check.get("scripts_restricted_by_csp")
    if scripts:
        out += ["", f"What 6.4.3 would ask, from the script check (**{scripts.status}**): {scripts.summary}.", ""]
        out += [("  - " if d.startswith("  ") else "- ") + d.strip().lstrip("- ") for d in scripts.details if d.strip()]
    out.append("")

    # ---- implementation
    out += ["## Our Implementation", "", "**How we avoid handling card data:**", ""]
    out.append("The checkout page never contains a card input of its own. Stripe.js, loaded from Stripe's origin, "
               "mounts the card Element: an iframe served by Stripe, which the page's scripts cannot read (the "
               "browser's same-origin policy). When the customer pays, the iframe sends the card number straight "
               "to Stripe and hands the page only a PaymentMethod id; our server creates the PaymentIntent (the "
               "amount comes from its catalog) and later learns the outcome from Stripe's signed webhooks. So the "
               "card number never reaches our server, our logs or our database, and the checks below confirm it "
               "on the running servers:")
    out.append("")
    for cid in ("no_card_data_in_requests", "card_fields_from_provider", "no_card_data_at_rest",
                "scripts_restricted_by_csp", "secret_key_not_in_pages"):
        r = by_check.get(cid)
        if r:
            out.append(f"- {r.title}: **{r.status}**, {r.summary}.")
    if not by_check:
        out.append("- (no automated evidence in this file: run `labkit pci`)")
    out += ["", "**How we verify Stripe's PCI compliance:**", "",
            "Stripe is certified every year as a PCI Level 1 Service Provider (Stripe's security guide, "
            "docs.stripe.com/security/guide). The marketing page is not enough for SAQ A v4: the merchant must read "
            "Stripe's Attestation of Compliance (AOC), available to account holders, check that it is current and "
            "that it covers the services used (Payment Intents, Elements, webhooks), keep a copy, and repeat every "
            "12 months (12.8.4), together with Stripe's responsibility matrix (12.8.5). No stored Stripe statement "
            "confirms protection against script attacks in the sense of PCI SSC FAQ 1588, so this shop meets the "
            "script criterion with its own controls (the Content-Security-Policy above); Stripe's hosted Checkout "
            "(a full redirect) would make that criterion not applicable.", ""]
    further = [by_check[c] for c in ("webhook_rejects_forgeries", "debug_mode_off", "secret_key_not_in_pages",
                                     "transport_security") if c in by_check]
    if further:
        out += ["**Further evidence (security of the merchant's servers, beyond SAQ A's own items):**", ""]
        out += [f"- {r.title}: **{r.status}**, {r.summary}." for r in further]
        out.append("")

    # ---- gaps and remediation
    gaps = collect_gaps(saq, answers, evidence)
    unanswered = [r.number for r in saq.requirements if not answers.get(r.number, Answer()).value]
    unconfirmed = [c.id for c in saq.eligibility if not answers.get(f"eligibility:{c.id}", Answer()).value]
    out += ["**Gaps identified:**", ""]
    if gaps:
        out += [f"{i}. {g.what} *({g.where})*" for i, g in enumerate(gaps, 1)]
    else:
        out.append("None found by the checks or in the answers.")
    if unanswered or unconfirmed:
        out += ["", f"Still to answer by the student: {len(unanswered)} requirement(s)"
                    + (f" ({', '.join(unanswered)})" if unanswered else "")
                    + (f" and {len(unconfirmed)} eligibility criteria ({', '.join(unconfirmed)})" if unconfirmed else "")
                    + "; until they are answered, the assessment is incomplete."]
    out += ["", "**Remediation plan:**", ""]
    if gaps:
        out += [f"{i}. {g.remediation}" for i, g in enumerate(gaps, 1)]
        out += ["", "Re-run `labkit pci` after each fix; it rewrites this section with the new evidence."]
    else:
        out.append("Nothing to remediate; re-run the checks after every change to the checkout.")
    out.append("")

    # ---- mapping and sources
    out += ["## The handout's numbers, mapped to v4.0.1", "",
            "| Handout (v3.2.1) | Handout's title | SAQ A v4.0.1 | Verdict | Why |", "|---|---|---|---|---|"]
    for h in saq.handout_rows:
        out.append(f"| {h['handout']} | {_cell(h['title'])} | {', '.join(h['now']) or '—'} | {h['verdict']} | "
                   f"{_cell(h.get('note') or '')} |")
    out += ["", "## Sources", ""]
    cited = sorted({s for r in saq.requirements for s in r.sources} | {s for c in saq.eligibility for s in c.sources}
                   | {s for r in saq.removed for s in r.sources})
    out += [f"- {saq.source_label(s)}" for s in cited]
    out += ["", f"*{saq.provenance}*", "", PART_D_END, ""]
    return "\n".join(out)


def merge_part_d(old: str, block: str) -> str:
    """``old`` with its Part D section replaced by ``block``; new Part D goes before Part E, and
    every other line of ``old`` is kept."""
    block = block.rstrip("\n") + "\n"
    start, end = old.find(PART_D_START), old.find(PART_D_END)
    if (start == -1) != (end == -1) or (start != -1 and end < start):
        raise ValueError("unbalanced Part D markers in the assessment; fix them by hand")
    if start != -1:
        rest = old[end + len(PART_D_END):].lstrip("\n")
        return old[:start] + block + ("\n" + rest if rest else "")
    e = old.find(PART_E_START)
    if e != -1:
        before = old[:e].rstrip("\n")
        return (before + "\n\n" if before else "") + block + "\n" + old[e:]
    return (old.rstrip("\n") + "\n\n" if old.strip() else "") + block


def write_assessment(path: str | Path | None = None, saq: SAQ | None = None, evidence: Evidence | None = None,
                     answers: Mapping[str, Answer] | None = None, *, date: str | None = None) -> Path:
    """Write the Part D section into ``path`` (default ``<out_dir>/pci_assessment.md``), keeping Part E."""
    if path is None:
        from labkit.settings import load_settings

        path = load_settings().out_dir / FILE_NAME
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    text = merge_part_d(old, render_assessment(saq, evidence, answers, date=date))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def answers_frame(saq: SAQ | None = None, answers: Mapping[str, Answer] | None = None, evidence: Evidence | None = None):
    """The checklist as a DataFrame (for the notebook's static view)."""
    import pandas as pd

    saq = saq or load_saq()
    answers = {**prefill(saq, evidence), **(answers or {})}
    rows = []
    for r in saq.requirements:
        a = answers.get(r.number, Answer())
        rows.append({"req": r.number, "handout": r.handout or "—", "requirement": r.title,
                     "answer": a.value or "(to answer)", "from": a.source if a.value else "",
                     "checks": ", ".join(r.checks) or "—"})
    return pd.DataFrame(rows).set_index("req")


def with_answers(base: Mapping[str, Answer], **changes: tuple[str | None, str]) -> dict[str, Answer]:
    """``base`` with some answers replaced: ``with_answers(a, **{"8.2.1": ("Yes", "one account each")})``."""
    out = dict(base)
    for key, (value, note) in changes.items():
        out[key] = replace(out.get(key, Answer()), value=value, note=note, source="student")
    return out
