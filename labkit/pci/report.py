"""``pci_assessment.md``: the handout's sections, filled from the SAQ data, the evidence and the
student's saved answers (``answers/pci.json``, see :mod:`labkit.pci.student_answers`).

The answers shown are the student's only; where the student has not answered, the report says
so and shows what the evidence suggests. The Part D text sits between
``<!-- labkit:part-d:start -->`` and ``<!-- labkit:part-d:end -->``; writing it replaces only that
section and keeps everything else in the file, in particular the Part E section that
:func:`labkit.altpay.write_part_e` maintains (Part D goes before it).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Mapping

from labkit import sections
from labkit.files import read_text, write_text
from labkit.pci.requirements import SAQ, Criterion, Requirement, load_saq
from labkit.pci.results import CheckResult
from labkit.pci.run import Evidence
from labkit.pci.student_answers import Answer
from labkit.pci.student_answers import load as load_answers
from labkit.settings import Settings

PART_D_START, PART_D_END = sections.start_marker("d"), sections.end_marker("d")
FILE_NAME = "pci_assessment.md"
# Shown where the student's own gaps or plan should be (the kit's lists follow it, labelled as the kit's).
NOT_WRITTEN = "*(Not written yet: write it in your own words in notebook 04, or in `answers/pci.json`.)*"

__all__ = ["Answer", "FILE_NAME", "Gap", "PART_D_END", "PART_D_START", "collect_gaps", "merge_part_d", "prefill",
           "prefill_criterion", "prefill_requirement", "render_assessment", "with_answers", "write_assessment"]


def _results_for(evidence: Evidence | None, ids: Iterable[str]) -> list[CheckResult]:
    if evidence is None:
        return []
    return [r for r in (evidence.get(i) for i in ids) if r is not None]


def prefill_requirement(req: Requirement, evidence: Evidence | None) -> Answer:
    """The answer the evidence (or the data file's default) suggests; None where only the student can say."""
    results = _results_for(evidence, req.checks)
    gaps = [r for r in results if r.status == "gap"]
    if gaps:
        return Answer("No", "; ".join(f"{r.title}: {r.summary}" for r in gaps), "evidence")
    if req.default_answer:
        return Answer(req.default_answer, req.default_note or "", "default")
    if results and req.evidence_decides and all(r.status == "pass" for r in results):
        confirm = f" Confirm for what software cannot see: {req.question}" if req.question else ""
        return Answer("Yes", "From the evidence: " + "; ".join(r.summary for r in results) + "." + confirm,
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
    """Suggested answers keyed by requirement number and by ``eligibility:<id>``."""
    saq = saq or load_saq()
    answers = {r.number: prefill_requirement(r, evidence) for r in saq.requirements}
    answers.update({f"eligibility:{c.id}": prefill_criterion(c, evidence) for c in saq.eligibility})
    return answers


def with_answers(base: Mapping[str, Answer], **changes: tuple[str | None, str]) -> dict[str, Answer]:
    """``base`` with some answers replaced: ``with_answers(a, **{"8.2.1": ("Yes", "one account each")})``."""
    out = dict(base)
    for key, (value, note) in changes.items():
        out[key] = replace(out.get(key, Answer()), value=value, note=note, source="student")
    return out


# ----------------------------------------------------------------------------- gaps
@dataclass(frozen=True)
class Gap:
    what: str
    remediation: str
    where: str


def collect_gaps(saq: SAQ, answers: Mapping[str, Answer], evidence: Evidence | None) -> list[Gap]:
    """Gaps from the checks, then from requirements and criteria answered No (once each)."""
    gaps: list[Gap] = []
    seen_checks: set[str] = set()
    for r in (evidence.results if evidence else []):
        if r.status == "gap":
            seen_checks.add(r.id)
            where = ", ".join(r.requirements) or "beyond SAQ A"
            gaps.append(Gap(f"{r.title}: {r.summary}.", r.remediation or "Fix and re-run `labkit pci`.", where))
    for req in saq.requirements:
        a = answers.get(req.number, Answer())
        if a.value != "No" or set(req.checks) & seen_checks:
            continue
        what = req.gap or f"{req.number} {req.title}: not in place." + (f" {a.note}" if a.note else "")
        gaps.append(Gap(what, req.remediation or "Put it in place, record how, and answer Yes with the evidence.",
                        req.number))
    for crit in saq.eligibility:
        a = answers.get(f"eligibility:{crit.id}", Answer())
        if a.value == "No" and not set(crit.checks) & seen_checks:
            gaps.append(Gap(f"SAQ A eligibility not met: {crit.plain}" + (f" ({a.note})" if a.note else ""),
                            "Until it holds, SAQ A does not apply: fix it, or assess with SAQ A-EP or SAQ D.",
                            f"eligibility: {crit.id}"))
    return gaps


# ----------------------------------------------------------------------------- rendering
def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _own_text(text: str) -> str:
    """The student's Markdown, with anything that looks like the kit's section markers taken out."""
    return re.sub(r"<!--\s*labkit:part-[a-z]:(start|end)\s*-->", "", text or "").strip()


def _evidence_lines(results: Iterable[CheckResult], limit: int = 24) -> list[str]:
    lines = []
    for r in results:
        lines.append(f"  - evidence, *{r.title}*: **{r.status}**, {r.summary}.")
        for d in r.details[:limit]:
            depth = "      " if d.startswith("  ") else "    "
            lines.append(f"{depth}- {d.strip().lstrip('- ')}")
    return lines


@dataclass(frozen=True)
class _Doc:
    """What every section of the report reads."""

    saq: SAQ
    evidence: Evidence | None
    answers: Mapping[str, Answer]
    suggested: Mapping[str, Answer]
    gaps_text: str
    remediation_text: str

    def answer(self, key: str) -> Answer:
        return self.answers.get(key, Answer())

    def suggestion(self, key: str) -> str:
        s = self.suggested.get(key, Answer())
        return f"suggested by the {'evidence' if s.source == 'evidence' else 'lab setting'}: {s.value}" if s.value else ""

    def results(self, ids: Iterable[str]) -> list[CheckResult]:
        return _results_for(self.evidence, ids)

    def check(self, check_id: str) -> CheckResult | None:
        return self.evidence.get(check_id) if self.evidence else None


def _header(doc: _Doc, date: str, merchant: str) -> list[str]:
    saq = doc.saq
    out = [PART_D_START, "# PCI DSS SAQ A Self-Assessment — Lab 09", "", f"**Merchant:** {merchant}  ",
           "**Merchant type:** E-commerce, card-not-present (a test-mode shop: Stripe Payment Intents with Stripe's "
           "card Element)  ",
           f"**SAQ type:** SAQ A, {saq.standard} ({saq.short}): all cardholder-data functions outsourced to Stripe  ",
           f"**Assessment date:** {date}  "]
    if doc.evidence is not None:
        t, results = doc.evidence.target, doc.evidence.results
        counts = {s: sum(1 for r in results if r.status == s) for s in ("pass", "gap", "n/a", "error")}
        out.append(f"**Servers assessed:** {t.label}: checkout {t.checkout_url}"
                   + (f", webhooks {t.webhook_url}" if t.webhook_url else "") + "  ")
        out.append(f"**Automated evidence:** {len(results)} checks by `labkit pci`: {counts['pass']} pass, "
                   f"{counts['gap']} gap, {counts['n/a']} not applicable, {counts['error']} could not run")
    else:
        out.append("**Automated evidence:** none (run `labkit pci` against the running servers)")
    return out + ["", "> The handout's checklist used PCI DSS v3.2.1 numbers; v3.2.1 was retired on 31 March 2024. "
                      f"This assessment follows {saq.title}. {saq.provenance}", ""]


def _eligibility(doc: _Doc) -> list[str]:
    out = ["## Why SAQ A Applies", "", "SAQ A applies only when every one of these holds:", ""]
    for c in doc.saq.eligibility:
        key = f"eligibility:{c.id}"
        a = doc.answer(key)
        state = {"Yes": "", "No": " **Not met.**", "N/A": " (N/A)"}.get(a.value or "", " *Not answered yet.*")
        out.append(f"- {'[x]' if a.value == 'Yes' else '[ ]'} {c.text}{state}")
        out += [f"  - evidence, *{r.title}*: **{r.status}**, {r.summary}."
                for r in doc.results((*c.checks, *c.related_checks))]
        if a.note:
            out.append(f"  - note: {a.note}")
        if not a.value:
            hint = "; ".join(x for x in (doc.suggestion(key), c.question and f"to answer: {c.question}") if x)
            if hint:
                out.append(f"  - {hint}")
        if c.handout_note:
            out.append(f"  - handout: {c.handout_note}")
    return out + [""]


def _checklist(doc: _Doc) -> list[str]:
    out = ["## SAQ A Requirements Checklist", "",
           "Responses: Yes = *In Place*, No = *Not in Place*, N/A = *Not Applicable* (SAQ A then asks why). "
           "'Handout' is the handout's v3.2.1 number where one maps.", "",
           "| Req (v4.0.1) | Handout | Requirement | Compliant | Notes |", "|---|---|---|:---:|---|"]
    for r in doc.saq.requirements:
        a = doc.answer(r.number)
        mark = f"**{a.value}**" if a.value else "☐ to answer"
        note = a.note or "; ".join(x for x in (doc.suggestion(r.number), r.question and f"to answer: {r.question}") if x)
        out.append(f"| {r.number} | {r.handout or '—'} | {_cell(r.title)} | {mark} | {_cell(note)} |")
    return out


def _explanations(doc: _Doc) -> list[str]:
    out = ["", "### Evidence and explanation under each answer", ""]
    for r in doc.saq.requirements:
        a = doc.answer(r.number)
        results = doc.results(r.checks)
        out.append(f"- **{r.number} {r.title}**: {a.value or 'not answered yet'}.")
        out.append(f"  - what it asks: {r.plain}")
        out.append(f"  - handout: {r.mapping}")
        out += _evidence_lines(results)
        if a.value == "Yes" and any(x.status == "gap" for x in results):
            out.append("  - **the answer says Yes, but the evidence above found a gap**")
        if a.note:
            out.append(f"  - notes: {a.note}")
    return out + [""]


def _removed(doc: _Doc) -> list[str]:
    out = ["## Removed from SAQ A in r1 (January 2025)", "", "| Req | What it asked | Now |", "|---|---|---|"]
    out += [f"| {r.number} | {_cell(r.plain)} | {_cell(r.note)} |" for r in doc.saq.removed]
    scripts = doc.check("scripts_restricted_by_csp")
    if scripts:
        out += ["", f"What 6.4.3 would ask, from the script check (**{scripts.status}**): {scripts.summary}.", ""]
        out += [("  - " if d.startswith("  ") else "- ") + d.strip().lstrip("- ") for d in scripts.details if d.strip()]
    return out + [""]


def _implementation(doc: _Doc) -> list[str]:
    out = ["## Our Implementation", "", "**How we avoid handling card data:**", "",
           "The checkout page never contains a card input of its own. Stripe.js, loaded from Stripe's origin, "
           "mounts the card Element: an iframe served by Stripe, which the page's scripts cannot read (the "
           "browser's same-origin policy). When the customer pays, the iframe sends the card number straight "
           "to Stripe and hands the page only a PaymentMethod id; our server creates the PaymentIntent (the "
           "amount comes from its catalog) and later learns the outcome from Stripe's signed webhooks. So the "
           "card number never reaches our server, our logs or our database, and the checks below confirm it "
           "on the running servers:", ""]
    shown = [doc.check(c) for c in ("no_card_data_in_requests", "card_fields_from_provider", "no_card_data_at_rest",
                                    "scripts_restricted_by_csp", "secret_key_not_in_pages")]
    out += [f"- {r.title}: **{r.status}**, {r.summary}." for r in shown if r]
    if doc.evidence is None:
        out.append("- (no automated evidence in this file: run `labkit pci`)")
    out += ["", "**How we verify Stripe's PCI compliance:**", "", _STRIPE_COMPLIANCE, ""]
    further = [doc.check(c) for c in ("webhook_rejects_forgeries", "debug_mode_off", "transport_security")]
    if any(further):
        out += ["**Further evidence (security of the merchant's servers, beyond SAQ A's own items):**", ""]
        out += [f"- {r.title}: **{r.status}**, {r.summary}." for r in further if r]
        out.append("")
    return out


# Issue 15: SAQ A v4.0.1 asks the merchant to have *confirmed* its providers' compliance (v4.0 asked it
# to have reviewed their AOCs); reading the AOC is now the evidence for 12.8.4. Sources in the data file
# (criterion tpsp_confirmed_compliant: pciwatch_v40_v401r1, stripe_security_guide).
_STRIPE_COMPLIANCE = (
    "SAQ A v4.0.1 asks the merchant to have confirmed that each third-party service provider is PCI DSS "
    "compliant for the services the merchant uses (the eligibility criterion; SAQ A v4.0 had worded it as having "
    "reviewed each provider's Attestation of Compliance). Stripe says it is assessed every year as a PCI Level 1 "
    "Service Provider and makes its Attestation of Compliance (AOC) available to its users (Stripe, \"Security at "
    "Stripe\", docs.stripe.com/security/guide). That AOC is the evidence behind the confirmation: reading the "
    "current one, checking its date and that it covers the services used (Payment Intents, Elements, webhooks), "
    "keeping a copy and doing it again at least every 12 months is how the shop meets 12.8.4; Stripe's "
    "responsibility matrix answers 12.8.5. No stored Stripe statement confirms protection against script attacks "
    "in the sense of PCI SSC FAQ 1588, so this shop meets the script criterion with its own controls (the "
    "Content-Security-Policy above); Stripe's hosted Checkout (a full redirect) would make that criterion not "
    "applicable.")


def _gaps_and_plan(doc: _Doc) -> list[str]:
    gaps = collect_gaps(doc.saq, doc.answers, doc.evidence)
    unanswered = [r.number for r in doc.saq.requirements if not doc.answer(r.number).value]
    unconfirmed = [c.id for c in doc.saq.eligibility if not doc.answer(f"eligibility:{c.id}").value]
    out = ["**Gaps identified:**", "", _own_text(doc.gaps_text) or NOT_WRITTEN, "",
           "*What the checks and the answers point to:*", ""]
    out += [f"{i}. {g.what} *({g.where})*" for i, g in enumerate(gaps, 1)] or ["None found by the checks or in the "
                                                                                "answers."]
    if unanswered or unconfirmed:
        out += ["", f"Still to answer: {len(unanswered)} requirement(s)"
                    + (f" ({', '.join(unanswered)})" if unanswered else "")
                    + (f" and {len(unconfirmed)} eligibility criteria ({', '.join(unconfirmed)})" if unconfirmed else "")
                    + "; until they are answered, the assessment is incomplete."]
    out += ["", "**Remediation plan:**", "", _own_text(doc.remediation_text) or NOT_WRITTEN, ""]
    if gaps:
        out += ["*The kit's suggestion for each gap above:*", ""]
        out += [f"{i}. {g.remediation}" for i, g in enumerate(gaps, 1)]
        out += ["", "Re-run `labkit pci` after each fix; it rewrites this section with the new evidence."]
    return out + [""]


def _mapping_and_sources(doc: _Doc) -> list[str]:
    saq = doc.saq
    out = ["## The handout's numbers, mapped to v4.0.1", "",
           "| Handout (v3.2.1) | Handout's title | SAQ A v4.0.1 | Verdict | Why |", "|---|---|---|---|---|"]
    out += [f"| {h['handout']} | {_cell(h['title'])} | {', '.join(h['now']) or '—'} | {h['verdict']} | "
            f"{_cell(h.get('note') or '')} |" for h in saq.handout_rows]
    cited = sorted({s for r in saq.requirements for s in r.sources} | {s for c in saq.eligibility for s in c.sources}
                   | {s for r in saq.removed for s in r.sources})
    out += ["", "## Sources", ""] + [f"- {saq.source_label(s)}" for s in cited]
    return out + ["", f"*{saq.provenance}*", "", PART_D_END, ""]


def render_assessment(saq: SAQ | None = None, evidence: Evidence | None = None,
                      answers: Mapping[str, Answer] | None = None, *, date: str | None = None,
                      merchant: str = "Lab 09 test shop", gaps: str = "", remediation: str = "") -> str:
    """The Part D section of ``pci_assessment.md`` (markers included), from the student's ``answers``
    (and ``gaps``/``remediation`` text) and the evidence's suggestions for what is not answered."""
    saq = saq or load_saq()
    doc = _Doc(saq, evidence, dict(answers or {}), prefill(saq, evidence), gaps, remediation)
    sections = (_header(doc, date or _dt.date.today().isoformat(), merchant), _eligibility(doc), _checklist(doc),
                _explanations(doc), _removed(doc), _implementation(doc), _gaps_and_plan(doc),
                _mapping_and_sources(doc))
    return "\n".join(line for section in sections for line in section)


def merge_part_d(old: str, block: str) -> str:
    """``old`` with its Part D section replaced by ``block``; new Part D goes before Part E, and
    every other line of ``old`` is kept (:mod:`labkit.sections`)."""
    return sections.replace_section(old, "d", block)


def write_assessment(path: str | Path | None = None, saq: SAQ | None = None, evidence: Evidence | None = None,
                     answers: Mapping[str, Answer] | None = None, *, date: str | None = None,
                     settings: Settings, gaps: str | None = None,
                     remediation: str | None = None) -> Path:
    """Write the Part D section into ``path`` (default ``<out_dir>/pci_assessment.md``), keeping Part E.

    The answers, gaps and remediation plan come from the answers file (``settings.answers_dir``)
    unless given, so re-running notebook 04 or ``labkit pci`` never loses what the student wrote.
    """
    saved = load_answers(settings)
    path = Path(path) if path is not None else settings.out_dir / FILE_NAME
    old = read_text(path) if path.exists() else ""  # the student may have edited it in any editor
    block = render_assessment(saq, evidence, saved.answers if answers is None else answers, date=date,
                              gaps=saved.gaps if gaps is None else gaps,
                              remediation=saved.remediation if remediation is None else remediation)
    return write_text(path, merge_part_d(old, block))
