"""Made-up student submissions for the checks and the class grading, built at test time.

Each is derived from a real artifact, so it stays in step with it: the solution edition's own
files, the student edition's starters (``labkit.release``), or ``handout_style/`` (the kit's own
code that behaves like the handout's printed code: one product, priced by the server, the
signature checked only when a secret is set, orders in memory, handlers that treat the event's
object as a dict). A mistake is one targeted edit of one of them; ``EXPECTED`` says how each must
be graded. The handout's own code (read from ../shared/lab09_handout.txt) is an extra case when
that file is beside the project: every other case runs in a plain clone.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from labkit import answers
from labkit.release import strip_solutions
from labkit.settings import project_root

from .handout import handout_code

ROOT = project_root(Path(__file__).parent)
PAGE_FILES = ("templates", "static")


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"the edit no longer applies: {old[:60]!r}"
    return text.replace(old, new)


def _copy_solution(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("checkout_server.py", "webhook_handler.py"):
        shutil.copy(ROOT / name, dest / name)
    for folder in PAGE_FILES:
        shutil.copytree(ROOT / folder, dest / folder, dirs_exist_ok=True)


HANDOUT_STYLE = Path(__file__).parent / "handout_style"


def _handout(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("checkout_server.py", "webhook_handler.py"):
        code = handout_code(name)
        assert code, "the handout's code was not found"
        (dest / name).write_text(code, encoding="utf-8")


def full_pci() -> dict:
    from labkit.pci.requirements import load_saq

    reqs = {r.number: {"status": "yes", "note": "checked against the running lab"} for r in load_saq().requirements}
    gaps = ("We have no written incident response plan and nobody is named to run it; staff share one Stripe "
            "Dashboard login, so access cannot be traced to a person; and we never re-check the scripts on the "
            "payment page after a deploy, which is how skimming code would slip in.")
    fix = ("Write a one-page incident plan with names and phone numbers and rehearse it each term; give every staff "
           "member their own Dashboard account with two-factor login; add a weekly job that compares the payment "
           "page's scripts and headers with the approved list and alerts the owner on any change.")
    return {"requirements": reqs, "gaps": gaps, "remediation": fix}


def own_essay() -> str:
    """A made-up student essay quoting the model's figures for the default retailer."""
    from labkit import altpay

    table = altpay.compare()
    picks = altpay.recommend(table)
    a, b = table.loc[picks[0]], table.loc[picks[1]]
    k = lambda v: f"${v / 1000:,.0f}k"
    body = (
        f"For an outdoor gear shop selling fifteen million dollars a year, most visits come from phones, so the "
        f"checkout on a small screen matters more than anything else. Wallets such as Apple Pay and Google Pay let "
        f"a shopper pay with a fingerprint instead of typing sixteen digits, and the merchant never sees the card "
        f"number because the phone hands over a token. Buy now pay later providers such as Klarna and Affirm pay the "
        f"merchant up front and take on the risk that the shopper does not repay, but they charge a much higher fee "
        f"than cards. Crypto processors like BitPay settle quickly and avoid chargebacks, yet very few of our "
        f"customers hold coins, prices swing, and the tax paperwork is heavy for a small finance team. "
        f"The model in notebook five puts the extra gross profit of {a['method']} at about {k(a['base'])} a year, "
        f"between {k(a['low'])} and {k(a['high'])}, and {b['method']} at about {k(b['base'])}, between {k(b['low'])} "
        f"and {k(b['high'])}. Crypto barely moves the needle in any case I tried. The ranges are wide because the "
        f"lift each provider claims comes from its own marketing, so I treated the high ends with suspicion and "
        f"looked at the low ends first: even there both picks stay above zero once the integration cost is paid. "
        f"I recommend adding {a['method']} and {b['method']} next. The first suits a mobile audience that abandons "
        f"long forms, and the second suits expensive items like tents and boots where spreading the cost helps a "
        f"hesitant buyer. Before launch I would run each for one season as a test, watch the share of orders and "
        f"the fee bill every month, and drop a method whose extra margin does not cover its fees. I would also check "
        f"that the BNPL provider's checkout keeps card data off our servers so our SAQ A scope does not grow, and "
        f"ask the wallet provider how liability for fraud shifts when a token is used. Finally the support team needs "
        f"a short guide on refunds for each method, since a refund to a wallet or a loan works differently from a "
        f"card refund and customers will ask where their money went. "
    )
    return "# Part E\n\n" + body + "Both choices keep the payment page simple and can be switched off later if the numbers disappoint.\n"


def _answers(dest: Path, essay: str | None = None, pci: dict | None = None) -> None:
    folder = dest / "answers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / answers.PCI_FILE).write_text(json.dumps(pci or full_pci(), indent=2), encoding="utf-8")
    (folder / answers.PART_E_FILE).write_text(own_essay() if essay is None else essay, encoding="utf-8")


def _edit(dest: Path, name: str, old: str, new: str) -> None:
    path = dest / name
    path.write_text(_replace(path.read_text(encoding="utf-8"), old, new), encoding="utf-8")


def solution(dest: Path) -> None:
    _copy_solution(dest)
    _answers(dest)


def starter(dest: Path) -> None:
    _copy_solution(dest)
    for name in ("checkout_server.py", "webhook_handler.py", "static/checkout.js"):
        path = dest / name
        path.write_text(strip_solutions(path.read_text(encoding="utf-8"), path.suffix, name).text, encoding="utf-8")
    (dest / "answers").mkdir()
    (dest / "answers" / answers.PART_E_FILE).write_text(answers.PART_E_STARTER, encoding="utf-8")


def handout(dest: Path) -> None:
    _handout(dest)
    _answers(dest)


def handout_fixed(dest: Path) -> None:
    """The handout's code with its one bug under today's stripe package fixed (a StripeObject is no dict)."""
    handout(dest)
    _edit(dest, "webhook_handler.py", 'data = event["data"]["object"]', 'data = event["data"]["object"].to_dict()')


def handout_style(dest: Path) -> None:
    shutil.copytree(HANDOUT_STYLE, dest, dirs_exist_ok=True)
    _answers(dest)


def handout_style_fixed(dest: Path) -> None:
    """The handout-style code with the handout's one bug fixed (the event's object read as a dict)."""
    handout_style(dest)
    _edit(dest, "webhook_handler.py", 'obj = event["data"]["object"]', 'obj = event["data"]["object"].to_dict()')


def amount_from_browser(dest: Path) -> None:
    handout_style_fixed(dest)
    _edit(dest, "checkout_server.py", 'amount=item["price"],', 'amount=int(body.get("amount", item["price"])),')


def no_signature_check(dest: Path) -> None:
    handout_style_fixed(dest)
    _edit(dest, "webhook_handler.py", "        if WEBHOOK_SECRET:\n", "        if False:\n")


def fail_open(dest: Path) -> None:
    solution(dest)
    _edit(dest, "webhook_handler.py", "if not WEBHOOK_SECRET:  # fail closed", "if False:  # fail closed")
    _edit(dest, "webhook_handler.py",
          "        stripe.WebhookSignature.verify_header(payload.decode(\"utf-8\"), header, WEBHOOK_SECRET, TOLERANCE)\n"
          "        signed_at = int(header.split(\"t=\", 1)[1].split(\",\", 1)[0])\n",
          "        if WEBHOOK_SECRET:  # the mistake: no secret, no check\n"
          "            stripe.WebhookSignature.verify_header(payload.decode(\"utf-8\"), header, WEBHOOK_SECRET, TOLERANCE)\n"
          "        signed_at = int(header.split(\"t=\", 1)[1].split(\",\", 1)[0]) if WEBHOOK_SECRET else 0\n")


def not_idempotent(dest: Path) -> None:
    handout_style_fixed(dest)
    _edit(dest, "webhook_handler.py", "orders = {}", "orders = []")
    _edit(dest, "webhook_handler.py", '    orders[pi["id"]] = {"status": "paid",', '    orders.append({"payment_intent": pi["id"], "status": "paid",')
    _edit(dest, "webhook_handler.py", '"fulfillment": "queued"}\n', '"fulfillment": "queued"})\n')


def double_click_pays_twice(dest: Path) -> None:
    """The handout-style page without its guard: Pay stays enabled while paying, and nothing keys the attempt."""
    handout_style_fixed(dest)
    _edit(dest, "templates/page.html", "      button.disabled = true;\n", "")


def declines_shown_as_success(dest: Path) -> None:
    handout_style_fixed(dest)
    _edit(dest, "templates/page.html", 'show(error.message, "error");', 'show("Payment succeeded!", "success");')


def no_3ds(dest: Path) -> None:
    handout_style_fixed(dest)
    _edit(dest, "templates/page.html", "payment_method: { card: card }\n      });",
          "payment_method: { card: card }\n      }, { handleActions: false });")


def essay_too_short(dest: Path) -> None:
    solution(dest)
    words = own_essay().split()
    (dest / "answers" / answers.PART_E_FILE).write_text(" ".join(words[:160]) + "\n", encoding="utf-8")


def essay_copied(dest: Path) -> None:
    from labkit import altpay

    solution(dest)
    writer = getattr(altpay, "model_answer", None) or altpay.analysis_text
    (dest / "answers" / answers.PART_E_FILE).write_text(writer(), encoding="utf-8")


def syntax_error(dest: Path) -> None:
    solution(dest)
    _edit(dest, "checkout_server.py", "def payment_success():", "def payment_success(:")


def hangs(dest: Path) -> None:
    solution(dest)
    _edit(dest, "checkout_server.py", "import os\n", "import os\nimport time\ntime.sleep(3600)  # waits forever\n")


B = ("checkout:cart_total", "checkout:quantities", "checkout:idempotency", "checkout:server_price",
     "checkout:no_secret", "scenario:success", "scenario:insufficient_funds", "scenario:3ds_complete",
     "scenario:3ds_fail", "scenario:generic_decline")
C = ("webhook:signature", "webhook:succeeded", "webhook:duplicate")
WRITING_OK = {"pci:answered": "evidenced", "pci:gaps": "evidenced", "altpay:words": "evidenced",
              "altpay:two_methods": "evidenced", "altpay:figures": "evidenced", "altpay:own_words": "evidenced"}
ALL_OK = {**{c: "evidenced" for c in B + C}, **WRITING_OK}
# The handout's handler fails open without a secret, and with stripe >= 15 its handlers call .get() on a
# StripeObject, which raises: every payment_intent.succeeded gets a 500, as it would from real Stripe.
# Its page sends no checkout-attempt id and its server sets no idempotency key, but the page disables Pay while
# it pays: a double click makes one PaymentIntent (checkout:idempotency evidenced).
HANDOUT = {**ALL_OK, "webhook:signature": "partial", "webhook:succeeded": "missing",
           "webhook:duplicate": "missing"}
HANDOUT_FIXED = {**ALL_OK, "webhook:signature": "partial"}

# kind -> (builder, the statuses it must get; checks not named may be anything)
EXPECTED = {
    "solution": (solution, ALL_OK),
    "starter": (starter, {**{c: "missing" for c in B + C}, "pci:answered": "missing", "altpay:words": "missing"}),
    "handout_style": (handout_style, HANDOUT),
    "handout_style_fixed": (handout_style_fixed, HANDOUT_FIXED),
    "amount_from_browser": (amount_from_browser, {"checkout:server_price": "missing", "scenario:success": "evidenced"}),
    "no_signature_check": (no_signature_check, {"webhook:signature": "missing", "webhook:succeeded": "evidenced"}),
    "fail_open": (fail_open, {"webhook:signature": "partial", "webhook:succeeded": "evidenced"}),
    "not_idempotent": (not_idempotent, {"webhook:duplicate": "missing", "webhook:succeeded": "evidenced"}),
    "double_click_pays_twice": (double_click_pays_twice, {"checkout:idempotency": "missing",
                                                          "scenario:success": "evidenced"}),
    "declines_shown_as_success": (declines_shown_as_success, {
        "scenario:success": "evidenced", "scenario:insufficient_funds": "missing", "scenario:generic_decline": "missing"}),
    "no_3ds": (no_3ds, {"scenario:success": "evidenced", "scenario:3ds_complete": "missing"}),
    "essay_too_short": (essay_too_short, {"altpay:words": "missing", "checkout:server_price": "evidenced"}),
    "essay_copied": (essay_copied, {"altpay:own_words": "missing"}),
    "syntax_error": (syntax_error, {**{c: "missing" for c in B}, "webhook:succeeded": "evidenced"}),
    "hangs": (hangs, {**{c: "missing" for c in B}, "webhook:succeeded": "evidenced"}),
}


if handout_code("checkout_server.py"):  # the printed handout beside the project: its own code, as handed in
    EXPECTED["handout"] = (handout, HANDOUT)
    EXPECTED["handout_fixed"] = (handout_fixed, HANDOUT_FIXED)


def build(kind: str, dest: Path) -> Path:
    EXPECTED[kind][0](dest)
    return dest
