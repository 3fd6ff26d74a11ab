"""Parts D and E read as a careful grader reads them: recommendations, dollar figures for the stated
assumptions, statuses in the SAQ's words, pci_assessment.md when answers/ is empty, nothing-to-fix
gaps, and a reworded copy of the model answer. Through the checks' own entry points (writing.*,
run_checks), so each test also runs against older checks."""
from __future__ import annotations

import json
import random
from functools import lru_cache

import pytest
from hypothesis import assume, given, settings as hsettings, strategies as st

from labkit import answers
from labkit.checks import writing
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL

from .submissions import writing as made_up
from .submissions.builder import full_pci, own_essay

pytestmark = pytest.mark.solution  # the model answer and its figures are the solution edition's

CHECKS = {"altpay:two_methods": writing.altpay_two_methods, "altpay:figures": writing.altpay_figures,
          "altpay:own_words": writing.altpay_own_words}


@pytest.fixture()
def kit(tmp_path):
    from labkit.settings import load_settings

    return load_settings({}, env_file=None).with_(answers_dir=tmp_path / "answers")


# ---------------------------------------------------------------- made-up essays
@pytest.mark.parametrize("name", sorted(made_up.ESSAYS))
def test_each_made_up_essay_is_judged_as_a_grader_would(name):
    build, expected = made_up.ESSAYS[name]
    essay = build()
    for check, status in expected.items():
        got = CHECKS[check](essay)
        assert got.status == status, (name, check, got.evidence)


def test_the_grader_is_told_which_figures_disagree_and_what_the_model_gives():
    got = writing.altpay_figures(made_up.random_figures())
    assert "$151,900" in got.evidence and "$285,700" in got.evidence and "the model gives" in got.evidence
    assert "Klarna $32k / $142k / $307k" in got.evidence
    mine = writing.altpay_figures(made_up.stated_other_share())
    assert "mobile 65% of revenue" in mine.evidence  # the assumption it was judged for


def test_a_reworded_copy_is_caught_with_the_passages_shown():
    got = writing.altpay_own_words(made_up.REWORDED)
    assert got.status == MISSING
    assert "I would add (1) Klarna, base $142k, because the provider" in got.evidence  # the student's passage
    assert "model sentence" in got.evidence and "Add (1) Klarna, base $142k: the provider" in got.evidence  # and the model's
    assert writing.altpay_own_words(own_essay()).status == EVIDENCED


def test_the_student_edition_catches_it_from_signatures_alone(monkeypatch):
    """The student edition ships no model text: per-sentence signatures give the same verdict."""
    from labkit.checks import own_words

    shipped = {"shingles": sorted(writing.model_fingerprint()), "sentences": own_words.to_json(writing.model_sentences())}
    assert not any("Klarna" in json.dumps(row) for row in shipped["sentences"])
    monkeypatch.setattr(writing, "_model_text", lambda: None)
    monkeypatch.setattr(writing, "_shipped", lambda: shipped)
    got = writing.altpay_own_words(made_up.REWORDED)
    assert got.status == MISSING and "I would add (1) Klarna, base $142k, because the provider" in got.evidence
    assert "Add (1) Klarna, base $142k: the provider" not in got.evidence  # no model text to show
    assert writing.altpay_own_words(own_essay()).status == EVIDENCED


# ---------------------------------------------------------------- dollar figures
FORMATS = [lambda v: f"${v:,.0f}", lambda v: f"USD {v:,.0f}", lambda v: f"{v / 1e3:.0f}k", lambda v: f"${v / 1e3:.0f}K",
           lambda v: f"{v / 1e3:.0f} thousand", lambda v: f"US${v:,.0f}", lambda v: f"{v:,.0f} dollars",
           lambda v: f"${v / 1e6:.1f}M", lambda v: f"${v / 1e6:.2f} million"]


@given(st.integers(1, 999), st.integers(0, len(FORMATS) - 1), st.sampled_from(["", "about ", "roughly "]),
       st.sampled_from(["", " a year", ".", ","]))
@hsettings(max_examples=300, deadline=None)
def test_dollar_figures_in_the_usual_ways(thousands, fmt, before, after):
    value = thousands * 1000.0
    written = FORMATS[fmt](value)
    if "M" in written or "million" in written:
        value = float(written.replace("$", "").split("M")[0].split(" ")[0]) * 1e6
    assert writing.dollar_figures(f"Klarna adds {before}{written}{after}") == [value], written


@given(st.integers(1, 999), st.sampled_from(["visits", "orders", "shoppers", "customers"]))
@hsettings(max_examples=50, deadline=None)
def test_counts_are_not_dollars(n, noun):
    assert writing.dollar_figures(f"{n}k {noun} a month and {n},000 {noun}") == []


def test_a_range_shares_its_unit():
    assert writing.dollar_figures("$32–307k, and 48 to 238 thousand dollars") == [32e3, 307e3, 48e3, 238e3]


@given(st.integers(5_000, 500_000), st.sampled_from(["Klarna", "Apple Pay", "BitPay", "Affirm"]))
@hsettings(max_examples=300, deadline=None)
def test_a_figure_agrees_only_within_the_stated_tolerance(amount, method):
    """Property: a quoted amount agrees only if it lies within 1% (or $250) of a figure the model gives
    for the method named, or is such a figure rounded as written (here written in full dollars)."""
    from labkit.checks.essay_figures import Assumptions, model_figures

    assume(amount % 1000)  # written to the dollar: no rounding to credit
    got = writing.altpay_figures(f"I recommend {method}: it would add about ${amount:,} a year.")
    group = {"Klarna": "bnpl", "Affirm": "bnpl", "Apple Pay": "wallet", "BitPay": "crypto"}[method]
    table = model_figures(Assumptions())
    near = any(abs(amount - v) <= max(0.01 * v, 250) for _, v in table[group] + table["retailer"])
    assert (got.status == EVIDENCED) == near, got.evidence


def test_random_amounts_almost_never_agree():
    rng = random.Random(2024)
    for method in ("Klarna", "Apple Pay", "BitPay", "the method"):
        agreed = sum(writing.altpay_figures(f"{method} would add about ${rng.randint(5_000, 500_000):,} a year.")
                     .status == EVIDENCED for _ in range(400))
        assert agreed / 400 < 0.05, method  # the old check agreed with about 60% of them


# ---------------------------------------------------------------- recommendations
FAMILY_NAMES = {"digital wallets": ["Apple Pay", "digital wallets", "Google Pay"],
                "BNPL": ["Klarna", "Affirm", "buy now, pay later"], "crypto": ["BitPay", "crypto", "Coinbase Commerce"]}
FILLER = ["Mobile traffic is 65% of visits.", "Fees matter for margins.", "The shop sells tents and boots.", ""]


@given(st.permutations(list(FAMILY_NAMES)), st.data())
@hsettings(max_examples=150, deadline=None)
def test_recommendations_are_read_as_recommendations(order, data):
    a, b, c = order
    name = {f: data.draw(st.sampled_from(FAMILY_NAMES[f])) for f in order}
    filler = data.draw(st.sampled_from(FILLER))
    two = writing.altpay_two_methods(f"{filler} I recommend {name[a]} and {name[b]}.")
    assert two.status == EVIDENCED and a in two.evidence and b in two.evidence
    turned = data.draw(st.sampled_from([f"I recommend against {name[c]}.", f"I'd recommend revisiting {name[c]} "
                                        "next year.", f"I would not recommend {name[c]} yet.",
                                        f"Leave {name[c]} for later."]))
    one = writing.altpay_two_methods(f"{turned} {filler} I recommend {name[a]}.")
    assert one.status == PARTIAL and "only" in one.evidence, one.evidence
    plain = writing.altpay_two_methods(f"{filler} The retailer should add {name[a]} and {name[b]} next.")
    assert plain.status == EVIDENCED
    three = writing.altpay_two_methods(f"I recommend {name[a]}, {name[b]} and {name[c]}.")
    assert three.status == PARTIAL and "3 methods" in three.evidence


# ---------------------------------------------------------------- Part D
STATUS_WORDS = {"yes": ["In Place", "in place", "Yes", "YES", "☑ Yes / ☐ No", "[x] Yes", "Compliant", "✓"],
                "no": ["Not in Place", "not in place", "No", "☐ Yes / ☑ No", "Non-compliant"],
                "n/a": ["Not Applicable", "N/A", "n/a", "NA", "☒ N/A"]}


@given(st.sampled_from(sorted(STATUS_WORDS)), st.data(), st.sampled_from(["", " ", "**"]))
@hsettings(max_examples=150, deadline=None)
def test_statuses_in_the_saqs_own_words(status, data, wrap):
    from labkit.pci.status_words import read_status

    word = data.draw(st.sampled_from(STATUS_WORDS[status]))
    assert read_status(f"{wrap}{word}{wrap}")[0] == status, word
    assert read_status("☐ Yes / No") == ("", False)  # the handout's cell, untouched
    assert read_status("In Place with CCW") == ("yes", True)


def test_answers_in_the_saqs_own_words_count(kit):
    kit.answers_dir.mkdir(parents=True)
    (kit.answers_dir / answers.PCI_FILE).write_text(json.dumps(made_up.saq_words_pci()), encoding="utf-8")
    got = writing.pci_answered(kit)
    assert got.status == EVIDENCED, got.evidence
    from labkit.pci.student_answers import load

    ccw = [a for a in load(kit).answers.values() if a.note.startswith("In Place with CCW")]
    assert ccw and all(a.value == "Yes" for a in ccw)  # answered, and the report still says it was through a CCW


def test_a_gaps_section_with_nothing_to_fix_is_not_a_gaps_analysis(kit):
    answers.save_pci(made_up.nothing_to_fix_pci(), kit)
    got = writing.pci_gaps(kit)
    assert got.status == PARTIAL and "nothing to fix" in got.evidence, got.evidence
    answers.save_pci(full_pci(), kit)
    assert writing.pci_gaps(kit).status == EVIDENCED


def test_pci_assessment_md_is_read_when_answers_is_empty(tmp_path):
    from labkit.checks.run import run_checks
    from labkit.settings import load_settings

    folder = made_up.assessment_only(tmp_path / "student")
    items = {i.check: i for i in run_checks(folder, load_settings({}, env_file=None), parts={"D", "E"},
                                            answers_dir=folder / "answers")}
    for check in ("pci:answered", "pci:gaps", "altpay:words", "altpay:two_methods"):
        assert items[check].status == EVIDENCED, (check, items[check].evidence)
    assert "pci_assessment.md" in items["pci:answered"].evidence and "handout" in items["pci:answered"].evidence
    assert "pci_assessment.md" in items["altpay:words"].evidence


MARKDOWNISH = st.text(alphabet=st.sampled_from(list("abc XYZ 0123456789.,;:$%|-*#\n/☐☑()kKmM")) , max_size=400)


@given(st.one_of(st.text(max_size=300), MARKDOWNISH))
@hsettings(max_examples=200, deadline=None)
def test_the_readers_never_crash(text):
    from labkit.checks.recommend import recommended
    from labkit.handed_in import part_e_from_markdown, pci_from_markdown
    from labkit.pci.status_words import read_status

    recommended(text)
    read_status(text)
    pci_from_markdown(text)
    part_e_from_markdown(text)
    for check in (writing.altpay_two_methods, writing.altpay_figures, writing.altpay_own_words):
        assert check(text).status in (EVIDENCED, PARTIAL, MISSING, "for the grader")


def test_the_kits_own_pci_assessment_md_reads_back(tmp_path):
    """`labkit pci` / export write pci_assessment.md from the answers: read back, the same answers."""
    from labkit.handed_in import pci_from_markdown
    from labkit.pci import report
    from labkit.pci.student_answers import Answer

    data = full_pci()
    given = {k: Answer({"yes": "Yes", "no": "No", "n/a": "N/A"}[v["status"]], v["note"])
             for k, v in data["requirements"].items()}
    given["8.2.1"], given["9.4.1"] = Answer("No", "a shared login"), Answer("N/A", "no paper is kept")
    del given["3.1.1"]
    text = report.render_assessment(answers=given, gaps=data["gaps"], remediation=data["remediation"])
    got = pci_from_markdown(text)
    assert got["requirements"]["8.2.1"] == {"status": "no", "note": "a shared login"}
    assert got["requirements"]["9.4.1"]["status"] == "n/a" and got["requirements"]["3.1.1"]["status"] == ""
    assert got["gaps"] == data["gaps"] and got["remediation"] == data["remediation"]


def test_a_pci_assessment_md_outside_the_students_folder_is_not_read(tmp_path):
    from labkit.handed_in import find_assessment

    (tmp_path / "pci_assessment.md").write_text("| Req | Compliant |\n|---|---|\n| 2.2.2 | Yes |\n")
    student = tmp_path / "alice"
    student.mkdir()
    assert find_assessment(student) is None  # the class folder is not the student's
    (student / "answers").mkdir()
    assert find_assessment(student / "answers") is None
    (student / "pci_assessment.md").write_text("x")
    assert find_assessment(student / "answers") == student / "pci_assessment.md"


PHRASINGS = {  # how students say it -> the families a grader reads as recommended now
    "I'd recommend revisiting BNPL next year. I recommend wallets now.": ["digital wallets"],
    "I recommend against crypto and BNPL.": [],
    "I recommend wallets and BNPL, but not crypto.": ["digital wallets", "BNPL"],
    "Crypto would add little. Wallets and BNPL are the best options.": ["digital wallets", "BNPL"],
    "I recommend adding Apple Pay because most traffic is mobile, and Klarna because tents are expensive.":
        ["digital wallets", "BNPL"],
    "I recommend Klarna because, unlike crypto, it has demand. I also recommend Google Pay.": ["BNPL", "digital wallets"],
    "## Recommendation\n\n1. Digital wallets (Apple Pay, Google Pay)\n2. Buy now, pay later (Klarna)\n\n"
    "Crypto is not worth it yet.": ["digital wallets", "BNPL"],
    "If I had to pick two: Apple Pay and Klarna.": ["digital wallets", "BNPL"],
    "I would only add crypto if demand grows. We should go with wallets and Affirm.": ["digital wallets", "BNPL"],
    "The retailer could add crypto, but demand is thin. I recommend Apple Pay and Klarna.": ["digital wallets", "BNPL"],
    "We'd recommend BNPL only once the holiday data is in; for now, I recommend Apple Pay and Google Pay.":
        ["digital wallets"],
    "Apple Pay is my top pick and Klarna my second.": ["digital wallets", "BNPL"],
    "I don't think crypto makes sense yet, so I recommend wallets and BNPL.": ["digital wallets", "BNPL"],
    "Recommendation: Apple Pay/Google Pay and Afterpay. Crypto should be revisited in 2027.": ["digital wallets", "BNPL"],
    "We should prioritize Apple Pay, followed by Klarna.": ["digital wallets", "BNPL"],
    "Crypto is not recommended. Wallets and BNPL are recommended.": ["digital wallets", "BNPL"],
    "I recommend implementing digital wallets. BNPL could be considered in the future.": ["digital wallets"],
    "I would recommend Klarna over Affirm and Apple Pay over Google Pay.": ["BNPL", "digital wallets"],
    "In conclusion, adding Apple Pay and Klarna is the best choice for this retailer.": ["digital wallets", "BNPL"],
    "The retailer should not add crypto. It should add wallets and Klarna.": ["digital wallets", "BNPL"],
    "Add (1) Klarna, base $142k: the provider carries the risk; (2) Apple Pay, base $119k: no extra fee.":
        ["BNPL", "digital wallets"],
}


@pytest.mark.parametrize("text", sorted(PHRASINGS))
def test_recommendations_as_students_phrase_them(text):
    from labkit.checks.recommend import recommended

    assert recommended(text) == PHRASINGS[text]
    want = {2: EVIDENCED, 0: MISSING}.get(len(PHRASINGS[text]), PARTIAL)
    got = writing.altpay_two_methods(text)
    assert got.status == want or (want == MISSING and got.status == PARTIAL), got.evidence


@pytest.mark.parametrize("name, text, denies", [
    ("gaps", made_up.NOTHING_TO_FIX, True),
    ("gaps", "We are fully PCI compliant because Stripe is a Level 1 provider and hosts the card field in its iframe; "
             "nothing needs to be fixed before launch and every checklist item is answered yes with evidence.", True),
    ("gaps", "There are no gaps in card handling: the card never reaches our server, logs or database. But no ASV "
             "has scanned the shop (11.3.2), and there is no written incident response plan (12.10.1).", False),
    ("gaps", full_pci()["gaps"], False),
    ("remediation", "No remediation is needed for card handling. Before launch, contract an Approved Scanning Vendor "
                    "and scan every quarter; write a one-page incident plan this month and rehearse it each term.", False),
    ("remediation", "No remediation is required because there are no gaps; Stripe handles all card data for the shop "
                    "and our server never stores, processes or transmits any card number at all.", True),
])
def test_nothing_to_fix_is_told_from_a_gaps_analysis(name, text, denies):
    from labkit.pci.student_answers import text_problem

    problem = text_problem(name, text)
    assert (problem is not None and "nothing to fix" in problem) == denies, problem


@pytest.mark.parametrize("text, expected", [
    ("The shop makes $20M in revenue a year, with a 38% gross margin.", (20e6, 0.38, None)),
    ("I take mobile as 65% of revenue, as the handout's traffic suggests.", (None, None, 0.65)),
    ("Adobe found mobile was 43% of revenue at such retailers, but I assume 50% of revenue is mobile.",
     (None, None, 0.50)),
    ("The mobile share of revenue is 50% in my model; mobile traffic is 65% of visits.", (None, None, 0.50)),
    ("Mobile traffic is 65% of visits and mobile revenue is about $6.5M of the $15M.", (None, None, None)),  # not $6.5M
])
def test_the_assumptions_a_text_states(text, expected):
    from labkit.checks.essay_figures import stated_assumptions

    got = stated_assumptions(text)
    assert (got.revenue, got.gross_margin, got.mobile_revenue_share) == expected


@lru_cache(maxsize=1)
def _model_answer() -> str:
    from labkit import altpay

    return altpay.model_answer()


@given(st.randoms(use_true_random=False), st.integers(1, 99))
@hsettings(max_examples=25, deadline=None)
def test_a_copy_with_each_sentence_reordered_and_other_figures_is_still_a_copy(rnd, figure):
    """Sentence by sentence, order and figures do not matter: shuffle the words of every model sentence,
    change every number, and it is still the model answer's content."""
    import re as _re

    from labkit.checks.own_words import sentences

    shuffled = []
    for sentence in sentences(_model_answer()):
        words = _re.sub(r"\d+", str(figure), sentence).split()
        rnd.shuffle(words)
        shuffled.append(" ".join(words).rstrip(".") + ".")
    assert writing.altpay_own_words(" ".join(shuffled)).status == MISSING


def test_checklist_tables_and_part_e_headings_as_students_lay_them_out():
    from labkit.handed_in import checklist, part_e_from_markdown

    md = ("| Requirement | Req # | Status | Notes |\n|---|---|---|---|\n"
          "| No default passwords | 2.2.2 | ✅ | changed |\n| Quarterly ASV scans | 11.3.2 | ❌ | none yet |\n"
          "| Paper | 9.4.1 | Not Applicable | no paper |\n")
    assert checklist(md) == {"2.2.2": {"status": "yes", "note": "changed"},
                             "11.3.2": {"status": "no", "note": "none yet"},
                             "9.4.1": {"status": "n/a", "note": "no paper"}}
    text = "# Part D\n\nx\n\n**Part E — Alternative payments**\n\nI recommend wallets.\n\n# Appendix\n\ny"
    assert "I recommend wallets." in part_e_from_markdown(text) and "Appendix" not in part_e_from_markdown(text)
    assert "z" in part_e_from_markdown("## Part E: Alternative Payments Analysis\n\nz\n")


def test_a_v4_checklist_in_the_saqs_words_with_headed_sections(tmp_path):
    from labkit.handed_in import pci_from_markdown
    from labkit.pci.requirements import load_saq

    words = ["In Place", "Not in Place", "Not Applicable", "In Place with CCW"]
    rows = "\n".join(f"| {r.number} | {r.title} | {words[i % 4]} | note {i} |"
                     for i, r in enumerate(load_saq().requirements))
    md = (f"# PCI DSS SAQ A\n\n## Checklist\n\n| Req | Requirement | Response | Notes |\n|---|---|---|---|\n{rows}\n\n"
          f"## Gaps Identified\n\n- {full_pci()['gaps']}\n\n## Remediation Plan\n\n1. {full_pci()['remediation']}\n\n"
          "## Part E\n\nessay\n")
    data = pci_from_markdown(md)
    assert all(a["status"] for a in data["requirements"].values()) and len(data["requirements"]) == 27
    assert data["gaps"].startswith("- We have no written") and "Part E" not in data["remediation"]
    assert data["remediation"].startswith("1. Write a one-page")


def test_a_figure_for_a_lift_the_sentence_states_agrees():
    from labkit import altpay

    at_7 = altpay.estimate(altpay.Retailer(), "wallet", lift=0.07).base
    assert writing.altpay_figures(f"With a 7% lift, Apple Pay would add about ${at_7:,.0f} a year.").status == EVIDENCED
    assert writing.altpay_figures(f"Apple Pay would add about ${at_7:,.0f} a year.").status == PARTIAL  # lift unstated


@given(st.sampled_from(sorted(STATUS_WORDS)), st.data(), st.sampled_from([" - ", ": ", " (", ", ", ". "]),
       st.text(alphabet="abcdeilnoprstuy ", max_size=40))
@hsettings(max_examples=200, deadline=None)
def test_a_status_followed_by_its_note_is_the_status(status, data, separator, note):
    """'N/A - no paper kept', 'Yes (one login each)': the note after the answer never changes it."""
    from labkit.pci.status_words import read_status

    word = data.draw(st.sampled_from([w for w in STATUS_WORDS[status] if "/" not in w or "N/A" in w]))
    assert read_status(f"{word}{separator}{note}")[0] == status, (word, note)
