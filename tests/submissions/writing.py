"""Made-up Part D and Part E answers, written the way students write them, each with the verdict
a careful grader reading the handout would give. Each is a text (or a folder of answers) built at
test time; figures come from the model where the student would have copied them from notebook 05.

``ESSAYS``: name -> (the essay, {check: the status it deserves}).
``folder builders``: answers handed in as the handout asks (``pci_assessment.md``) or in the
SAQ's own words, for the Part D checks.
"""
from __future__ import annotations

import json
from pathlib import Path

from labkit import answers

from .builder import full_pci, own_essay

RECOMMEND = "I recommend adding Klarna and Apple Pay / Google Pay next."


def _k(value: float) -> str:
    return f"${value / 1000:,.0f}k"


def _swap(old: str, new: str) -> str:
    essay = own_essay()
    assert old in essay, old
    return essay.replace(old, new)


def revisit_bnpl() -> str:
    """Recommends wallets now and only *revisiting* BNPL next year: one method, not two."""
    return _swap(RECOMMEND, "I recommend adding Apple Pay / Google Pay next, and I'd recommend revisiting BNPL "
                            "next year once we see how the wallet pilot does.")


def against_crypto() -> str:
    """"I recommend against crypto" is not a recommendation of crypto: one method."""
    return _swap(RECOMMEND, "I recommend against crypto for now. I recommend Apple Pay / Google Pay as the one "
                            "method to add next.")


def no_recommend_word() -> str:
    """Never says "recommend", yet names its two choices plainly."""
    essay = _swap(RECOMMEND, "So the retailer should add Klarna and Apple Pay / Google Pay next, in that order.")
    assert "recommend" not in essay.lower()
    return essay


def three_choices() -> str:
    """Recommends all three families: the handout asks for two."""
    return _swap(RECOMMEND, "I recommend adding Klarna, Apple Pay / Google Pay and BitPay next.")


def random_figures() -> str:
    """Dollar figures near the model's but not its (7-8% off, written to the dollar): made up, not copied.
    The old check, 10% of any of 40-odd model figures, took them."""
    from labkit import altpay

    essay = own_essay()
    t = altpay.compare()
    for mid in altpay.recommend(t):
        for which, factor in (("base", 1.07), ("low", 1.08), ("high", 0.93)):
            essay = essay.replace(_k(t.loc[mid, which]), f"${round(t.loc[mid, which] * factor, -2):,.0f}", 1)
    return essay


def stated_other_share() -> str:
    """States that mobile is 65% of revenue (the handout's traffic share read as revenue) but quotes the
    model's figures for the kit's default 43%: the figures are not the model's for *its* assumption."""
    return _swap("most visits come from phones,", "most visits come from phones (I take mobile as 65% of "
                                                  "revenue, as the handout's traffic suggests),")


def stated_other_share_right_figures() -> str:
    """The same stated assumption, quoting the model's figures for it: they agree."""
    from labkit import altpay

    essay = stated_other_share()
    default, mine = altpay.compare(), altpay.compare(altpay.Retailer(mobile_revenue_share=0.65))
    for mid in altpay.recommend(default):
        for which in ("base", "low", "high"):
            essay = essay.replace(_k(default.loc[mid, which]), _k(mine.loc[mid, which]), 1)
    return essay


def other_formats() -> str:
    """The model's figures written without a dollar sign: "USD 142,000", "142 thousand", "0.31 million"."""
    from labkit import altpay

    t = altpay.compare()
    first, second = altpay.recommend(t)[:2]
    a, b = t.loc[first], t.loc[second]
    sentence = (f"The model in notebook five puts the extra gross profit of {a['method']} at about "
                f"USD {round(a['base'], -3):,.0f} a year, between {a['low'] / 1e3:,.0f} thousand and "
                f"{a['high'] / 1e6:.2f} million, and {b['method']} at about {b['base'] / 1e3:,.0f}k, between "
                f"{b['low'] / 1e3:,.0f}K and {b['high'] / 1e3:,.0f},000 dollars.")
    essay = own_essay()
    start = essay.index("The model in notebook five")
    end = essay.index("Crypto barely moves")
    return essay[:start] + sentence + " " + essay[end:]


# A copy of the model answer (default assumptions) reworded sentence by sentence: synonyms, reordered
# clauses, figures kept. Its 8-word phrases are mostly new, its sentences are not.
REWORDED = """# Part E

**Retailer and assumptions.** The shop makes $15M a year with a 40% gross margin (REI, 2024) and an average order of $125, which is my own assumption. Although 65% of visits come from mobile, mobile baskets are about 32% smaller (Adobe, 2024) and phone visitors convert less often, so I treat mobile as 43% of revenue (around $6.5M), the share measured at retailers between $10M and $100M: that means mobile converts at roughly 60% of the desktop rate. The range goes from 34% (converting at 40% of desktop, Monetate 2019) to 56% if both convert alike. Cards cost 2.9% + $0.30 (Stripe pricing).

**Counting.** Each method only earns the additional revenue that a holdout test would measure (the reachable revenue times the lift, using the course planning range), and card sales that would have happened anyway only cost the difference in fees. The shortcut in the handout credits the bigger baskets of self-selected shoppers and charges the full fee on those sales.

**Wallets.** Apple Pay swaps the card number for a device token plus a one-time cryptogram for each payment, so a stolen token cannot be used anywhere else and the fraud liability moves to the issuer; Google Pay only does this for Android device tokens, not for cards stored in a Google account. The published lifts (6% to 20%) come from vendors, and the handout's 10% to 30% has no source; with a lift of 2% to 10% on mobile revenue the gain is $48k to $238k (base $119k, and $93k to $154k across the range of mobile shares).

**BNPL.** Via Stripe, Affirm, Klarna and Afterpay charge about 6% + $0.30 (direct deals 4% to 8%), pay the merchant upfront and take on the default and fraud risk. I leave out order-value lifts (30% to 50% in the handout, more from vendors) because they are self-selection. With 1% to 6% more sales and 5% of revenue paid this way, Klarna gives $32k to $307k (base $142k) and breaks even at a 0.42% lift; Affirm and Afterpay are within $1k of it.

**Crypto.** USDC on Stripe, Coinbase Commerce and BitPay charge between 1% and 2% (BitPay adds $0.25 per payment), settle in dollars or USDC so there is no volatility for the merchant, and have no chargebacks; refunds are sent back to the customer's wallet. Demand is weak: 17% of US adults have ever used crypto and only 1% paid with it. Coinbase Commerce is worth $2k to $29k.

**Recommendation.** I would add (1) Klarna, base $142k, because the provider carries the credit risk and any lift above 0.42% covers the higher fee; and (2) Apple Pay / Google Pay, base $119k, because it costs the same as a card and stays positive even at the low lift ($48k). The order flips at a 51% mobile share, so that assumption is the deciding one. Crypto can wait, and each pick should be piloted against a holdout group.
"""

# name -> (builder, the statuses a careful grader gives; checks not named may be anything)
ESSAYS = {
    "revisit_bnpl": (revisit_bnpl, {"altpay:two_methods": "partial"}),
    "against_crypto": (against_crypto, {"altpay:two_methods": "partial"}),
    "no_recommend_word": (no_recommend_word, {"altpay:two_methods": "evidenced"}),
    "three_choices": (three_choices, {"altpay:two_methods": "partial"}),
    "random_figures": (random_figures, {"altpay:figures": "partial"}),
    "stated_other_share": (stated_other_share, {"altpay:figures": "partial"}),
    "stated_other_share_right_figures": (stated_other_share_right_figures, {"altpay:figures": "evidenced"}),
    "other_formats": (other_formats, {"altpay:figures": "evidenced", "altpay:two_methods": "evidenced"}),
    "reworded_model_answer": (lambda: REWORDED, {"altpay:own_words": "missing", "altpay:two_methods": "evidenced"}),
}


# ---------------------------------------------------------------- Part D
def saq_words_pci() -> dict:
    """pci.json answered by hand in the SAQ's own words ("In Place", "Not Applicable", "In Place with CCW")."""
    data = full_pci()
    words = ["In Place", "Not in Place", "Not Applicable", "In Place with CCW", "in place", "N/A", "☑ Yes / ☐ No"]
    for i, (rid, ans) in enumerate(sorted(data["requirements"].items())):
        ans["status"] = words[i % len(words)]
        ans["note"] = "paper is never kept" if "pplicable" in ans["status"] or "N/A" in ans["status"] else ans["note"]
    return data


NOTHING_TO_FIX = ("No gaps were identified. Stripe handles all card data through Elements, so our server never "
                  "sees a card number, and the database and logs hold none. Every requirement in the checklist is "
                  "in place, so there is nothing to fix before launch and no remediation is needed.")


def nothing_to_fix_pci() -> dict:
    data = full_pci()
    data["gaps"] = NOTHING_TO_FIX
    return data


def _handout_table(rows: dict[str, tuple[str, str]]) -> str:
    lines = ["| Req | Requirement | Compliant | Notes |", "|-----|-------------|:---------:|-------|"]
    lines += [f"| {num} | {title} | {status} | {note} |" for num, (title, status, note) in rows.items()]
    return "\n".join(lines)


def handout_assessment() -> str:
    """``pci_assessment.md`` as the handout lays it out: its nine rows ticked, gaps, plan, Part E."""
    pci = full_pci()
    rows = {
        "2.2": ("No default vendor passwords", "☑ Yes / ☐ No", "changed the router and hosting defaults"),
        "6.2": ("Protection of public-facing systems", "☐ Yes / ☑ No", "no patch routine yet"),
        "6.3": ("Security vulnerabilities addressed", "☐ Yes / ☑ No", "nobody reads advisories"),
        "8.2": ("Unique user IDs for all access", "☑ Yes / ☐ No", "one login per person on the server"),
        "8.3": ("Secure individual authentication", "☑ Yes / ☐ No", "passphrases, 14+ characters"),
        "9.5": ("Physical security of media", "N/A", "no paper with card numbers is ever kept"),
        "12.1": ("Security policy established", "☐ Yes / ☑ No", "not written"),
        "12.8": ("Third-party service provider compliance", "☑ Yes / ☐ No", "(Stripe) AOC read"),
        "12.9": ("Incident response plan", "☐ Yes / ☑ No", "no plan yet"),
    }
    return "\n".join([
        "# PCI DSS SAQ A Self-Assessment — Lab 09", "", "**Merchant type:** E-commerce, card-not-present",
        "**SAQ type:** SAQ A", "**Assessment date:** 2026-11-30", "", "## SAQ A Requirements Checklist", "",
        _handout_table(rows), "", "## Our Implementation", "", "**How we avoid handling card data:**",
        "Stripe Elements puts the card field in Stripe's iframe.", "", "**Gaps identified:**", pci["gaps"], "",
        "**Remediation plan:**", pci["remediation"], "", "# Part E — Alternative Payments Analysis", "",
        own_essay().split("\n", 2)[2], ""])


def assessment_only(dest: Path) -> Path:
    """A submission with ``answers/`` empty (as the student edition ships it) and ``pci_assessment.md`` beside it."""
    (dest / "answers").mkdir(parents=True, exist_ok=True)
    (dest / "answers" / answers.PART_E_FILE).write_text(answers.PART_E_STARTER, encoding="utf-8")
    (dest / "answers" / answers.PCI_FILE).write_text(json.dumps(answers.empty_pci()), encoding="utf-8")
    (dest / "pci_assessment.md").write_text(handout_assessment(), encoding="utf-8")
    return dest


# An essay of the student's own on the same facts and figures as the model answer (tokens and
# cryptograms, Stripe's BNPL fees, crypto settling in USDC, the model's ranges): it shares
# vocabulary with the model answer, not its sentences.
SAME_FACTS_OWN_WORDS = """# Part E

Our outdoor gear shop sells about $15M a year, and I kept the notebook's defaults: a 40% gross margin and mobile at 43% of revenue, since phone visits turn into smaller orders less often than desktop ones.

Wallets first. When a customer pays with Apple Pay, the phone sends Stripe a device token and a fresh cryptogram rather than the card number, which is why a leaked token is worthless and why the bank, not us, carries the fraud loss. Google Pay only gives that protection on Android phones with a device token. Stripe charges nothing extra for wallets, so every sale they win is almost pure margin. The notebook puts Apple Pay / Google Pay at $119k a year in the base case, somewhere between $48k and $238k depending on the lift.

Buy now, pay later costs more: Klarna through Stripe takes 5.99% plus 30 cents, double a card. In exchange Klarna pays us up front and chases the shopper if she stops paying. Tents, stoves and down jackets are pricey, so splitting a $400 order into four payments should persuade some hesitant buyers. The model gives Klarna $142k in the base case, with a range of $32k to $307k, and it only needs a tiny lift to pay for its fee.

Crypto is the weak option. BitPay or Coinbase can convert payments to dollars or USDC straight away, so price swings are not our problem, and there are no chargebacks. But hardly anyone buys hiking boots with bitcoin, and the model finds at most about $29k a year.

My recommendation is Klarna and Apple Pay / Google Pay, in that order, with crypto parked until customers ask for it. I would switch each one on for a test group first and compare its conversion with a control group before rolling it out to everyone, because the vendors' own lift figures are marketing, not measurements.
"""
ESSAYS["same_facts_own_words"] = (lambda: SAME_FACTS_OWN_WORDS, {
    "altpay:own_words": "evidenced", "altpay:two_methods": "evidenced", "altpay:figures": "evidenced"})
