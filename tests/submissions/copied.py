"""Made-up submissions for the similarity report: a copy disguised as students disguise one, and
independent work. Built from builder.py's submissions (not added to its EXPECTED)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from labkit import answers

from .builder import solution

RENAMES = {"product": "item", "quantity": "qty", "order": "purchase", "payload": "raw_body", "event": "evt"}


def _disguise(code: str) -> str:
    """Rename variables, reword comments, re-indent blank lines: what a copier does to hide a copy."""
    for old, new in RENAMES.items():
        code = re.sub(rf"\b{old}\b", new, code)
    code = re.sub(r"#[^\n]*", "# my code", code)
    return code.replace("\n\n", "\n\n\n")


def essay_copy(text: str) -> str:
    """The essay with its first sentence rewritten and a few words swapped."""
    body = text.replace("most visits come from phones", "phones bring most of the traffic")
    return body.replace("I recommend", "My advice is to go with").replace("matters", "counts")


def copied_from_solution(dest: Path) -> None:
    """The solution's code and essay, renamed and reworded."""
    solution(dest)
    for name in ("checkout_server.py", "webhook_handler.py"):
        path = dest / name
        path.write_text(_disguise(path.read_text(encoding="utf-8")), encoding="utf-8")
    path = dest / "answers" / answers.PART_E_FILE
    path.write_text(essay_copy(path.read_text(encoding="utf-8")), encoding="utf-8")


OTHER_ESSAY = (
    "# Part E\n\nI looked at three options for the outdoor shop. Customers buying a tent on a phone give up when "
    "the card form is long, which is what digital wallets fix: one tap, and the token replaces the card. Pay-later "
    "plans cost the shop a bigger fee per sale, but a shopper who hesitates over a four hundred dollar sleeping bag "
    "can split it into four payments, and the provider carries the credit risk. Bitcoin and stablecoins came last in "
    "every scenario I tried in the notebook: hardly any of our buyers hold them and refunds are awkward. My two "
    "picks are wallets and pay-later, tested for a season each, with the monthly fee bill compared against the "
    "extra margin before we keep either one.\n")


def own_gaps(dest: Path, gaps: str, fix: str) -> None:
    path = dest / "answers" / answers.PCI_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(gaps=gaps, remediation=fix)
    path.write_text(json.dumps(data), encoding="utf-8")


