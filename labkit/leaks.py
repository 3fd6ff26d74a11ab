"""Find and redact what must never leave a student's machine: Stripe secrets and real card numbers.

What counts as a leak:

* secret keys ``sk_test_…`` / ``sk_live_…``, restricted keys ``rk_test_…`` / ``rk_live_…`` and
  webhook signing secrets ``whsec_…``: redacted to their prefix (``sk_test_…[REDACTED]``);
  publishable keys (``pk_…``) are public by design and left alone;
* card numbers (PANs): runs of 13–19 digits, written whole or in the usual groups separated
  by spaces or dashes (``4-4-4-4``, ``4-6-5``…), that pass the Luhn check and start with
  2–6 (the issuer families of card networks; this keeps millisecond timestamps, which start
  with 1, from being taken for cards). Stripe's public test numbers (``test_cards.json`` and
  ``stripe_more_test_cards.json`` in ``labkit/data``) are the lab's subject: they are reported
  but never redacted. Any other such number is treated as a real card: redacted to its last
  four digits, and the export refuses to go on.

The scanner never keeps a secret: a :class:`Finding` holds only the redacted form.
"""
from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, Iterable

from labkit.fakestripe.cards import luhn_valid

SECRET_KINDS = ("secret_key", "restricted_key", "webhook_secret")
CARD_KINDS = ("test_card", "card_number")

_KIND_LABELS = {
    "secret_key": "secret key",
    "restricted_key": "restricted key",
    "webhook_secret": "webhook signing secret",
    "test_card": "Stripe test card",
    "card_number": "card number (not a Stripe test card)",
}

# Stripe keys are letters and digits after the prefix; the offline fake key also has
# underscores. At least 8 characters, so prose such as "keys start with sk_test_" is no hit.
_SECRET_RE = re.compile(
    r"(?<![A-Za-z0-9_])(?P<prefix>(?P<kind>sk|rk)_(?:test|live)_|whsec_)"
    r"(?P<body>[A-Za-z0-9_+/=]{8,})"
)
_SEP = r"[ \-\u00a0]"
_CARD_RES = (
    # 4-4-4-x (13-16 digits), optionally a fifth group (up to 19)
    re.compile(rf"(?<![\d])[2-6]\d{{3}}(?P<s>{_SEP})\d{{4}}(?P=s)\d{{4}}(?P=s)\d{{1,4}}(?:(?P=s)\d{{1,3}})?(?![\d])"),
    # 4-6-5 (Amex) and 4-6-4 (Diners)
    re.compile(rf"(?<![\d])3\d{{3}}(?P<s>{_SEP})\d{{6}}(?P=s)\d{{4,5}}(?![\d])"),
    # written whole
    re.compile(r"(?<![\d])[2-6]\d{12,18}(?![\d])"),
)

_BINARY_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


luhn_ok = luhn_valid  # the Luhn checksum every card number carries in its last digit


def load_test_cards() -> dict[str, str]:
    """Stripe's public test numbers: ``{digits: label}`` from both data files."""
    cards: dict[str, str] = {}
    data = resources.files("labkit") / "data"
    for name in ("test_cards.json", "stripe_more_test_cards.json"):
        f = data / name
        if not f.is_file():
            continue
        doc = json.loads(f.read_text(encoding="utf-8"))
        for card in doc.get("cards", []) + doc.get("lab_scenarios", []):
            number = re.sub(r"\D", "", str(card.get("number", "")))
            if number:
                cards.setdefault(number, card.get("label") or card.get("title") or "Stripe test card")
    return cards


def mask_card(digits: str) -> str:
    """A real card number reduced to its last four digits."""
    return f"[card …{digits[-4:]} REDACTED]"


@dataclass(frozen=True)
class Finding:
    """One hit. ``redacted`` is the only form of the value ever kept."""

    kind: str  # secret_key | restricted_key | webhook_secret | test_card | card_number
    redacted: str  # what replaces the value (for a test card: the card as written, it is public)
    start: int  # position in the scanned text
    end: int
    where: str = ""  # e.g. "02_checkout.ipynb, cell 4, output 1"
    label: str = ""  # for test cards: Stripe's description

    @property
    def is_secret(self) -> bool:
        return self.kind in SECRET_KINDS

    @property
    def is_real_card(self) -> bool:
        return self.kind == "card_number"

    @property
    def redacts(self) -> bool:
        """Whether redaction replaces this value (everything but test cards)."""
        return self.kind != "test_card"

    def at(self, where: str) -> "Finding":
        return Finding(self.kind, self.redacted, self.start, self.end, where, self.label)

    def describe(self) -> str:
        kind = _KIND_LABELS.get(self.kind, self.kind)
        if self.kind == "test_card":
            last4 = re.sub(r"\D", "", self.redacted)[-4:]
            return f"{kind} …{last4} ({self.label})"
        return f"{kind} `{self.redacted}`"


def _card_findings(text: str, test_cards: dict[str, str], taken: list[tuple[int, int]]) -> list[Finding]:
    found: list[Finding] = []

    def overlaps(a: int, b: int) -> bool:
        return any(a < e and s < b for s, e in taken)

    for rx in _CARD_RES:
        for m in rx.finditer(text):
            raw = m.group(0)
            spans = [(m.start(), m.end())]
            # "4242 4242 4242 4242 123": also try without a trailing group (a CVC, say)
            cut = max(raw.rfind(" "), raw.rfind("-"), raw.rfind("\u00a0"))
            if cut > 0:
                spans.append((m.start(), m.start() + cut))
            hits = []
            for s, e in spans:
                digits = re.sub(r"\D", "", text[s:e])
                if 13 <= len(digits) <= 19 and luhn_ok(digits) and not overlaps(s, e):
                    hits.append((digits not in test_cards, s, e, digits))
            if not hits:
                continue
            # a public test card wins over a longer reading of the same digits
            is_real, s, e, digits = min(hits, key=lambda h: h[0])
            if is_real:
                found.append(Finding("card_number", mask_card(digits), s, e))
            else:
                found.append(Finding("test_card", text[s:e], s, e, label=test_cards[digits]))
            taken.append((s, e))
    return found


def scan_text(text: str, test_cards: dict[str, str] | None = None) -> list[Finding]:
    """Every secret and card number in ``text``, in order of position."""
    if not text:
        return []
    cards = load_test_cards() if test_cards is None else test_cards
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for m in _SECRET_RE.finditer(text):
        prefix = m.group("prefix")
        kind = {"sk": "secret_key", "rk": "restricted_key"}.get(m.group("kind") or "", "webhook_secret")
        findings.append(Finding(kind, f"{prefix}…[REDACTED]", m.start(), m.end()))
        taken.append((m.start(), m.end()))
    findings += _card_findings(text, cards, taken)
    return sorted(findings, key=lambda f: f.start)


def redact_text(text: str, test_cards: dict[str, str] | None = None) -> tuple[str, list[Finding]]:
    """``text`` with secrets and real card numbers replaced, and all findings (test cards too)."""
    findings = scan_text(text, test_cards)
    out: list[str] = []
    pos = 0
    for f in findings:
        if f.redacts:
            out.append(text[pos:f.start])
            out.append(f.redacted)
            pos = f.end
    out.append(text[pos:])
    return "".join(out), findings


@dataclass
class LeakReport:
    """What a scan found, where; renders as a short Markdown list."""

    findings: list[Finding] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)  # what was looked at
    not_scanned: list[str] = field(default_factory=list)  # e.g. images

    def extend(self, other: "LeakReport") -> "LeakReport":
        self.findings += other.findings
        self.scanned += other.scanned
        self.not_scanned += other.not_scanned
        return self

    @property
    def secrets(self) -> list[Finding]:
        return [f for f in self.findings if f.is_secret]

    @property
    def real_cards(self) -> list[Finding]:
        return [f for f in self.findings if f.is_real_card]

    @property
    def test_cards(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "test_card"]

    @property
    def redacted(self) -> list[Finding]:
        return [f for f in self.findings if f.redacts]

    @property
    def clean(self) -> bool:
        """True when nothing needed redacting."""
        return not self.redacted

    def to_markdown(self, title: str = "Leak scan") -> str:
        lines = [f"# {title}", ""]
        if self.scanned:
            lines.append(f"Scanned: {', '.join(self.scanned)}.")
            lines.append("")
        grouped = Counter((f.describe(), f.where) for f in self.redacted)
        if grouped:
            lines.append("Redacted:")
            lines.append("")
            for (what, where), n in grouped.items():
                times = f" (×{n})" if n > 1 else ""
                lines.append(f"- {what}{' in ' + where if where else ''}{times}")
        else:
            lines.append("Redacted: nothing (no secret key, restricted key, webhook secret or real card number).")
        lines.append("")
        tests = Counter(f.describe() for f in self.test_cards)
        if tests:
            lines.append("Kept (public Stripe test cards, the subject of the lab):")
            lines.append("")
            for what, n in tests.items():
                lines.append(f"- {what}: {n} time{'s' if n > 1 else ''}")
            lines.append("")
        if self.not_scanned:
            lines.append(
                "Not scanned (images; check yourself that no key or real card shows): "
                + ", ".join(self.not_scanned) + "."
            )
            lines.append("")
        return "\n".join(lines)

    __str__ = to_markdown


# ----------------------------------------------------------------------------- notebooks

def _walk(value: Any, fix: Callable[[str, str], str], where: str) -> Any:
    """Apply ``fix(text, where)`` to every string in a JSON-like value; return the new value."""
    if isinstance(value, str):
        return fix(value, where)
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):  # multi-line text kept as a list
            joined = "".join(value)
            fixed = fix(joined, where)
            return value if fixed == joined else fixed.splitlines(keepends=True)
        return [_walk(v, fix, where) for v in value]
    if isinstance(value, dict):
        return value.__class__(
            (k, v if k in _BINARY_MIMES else _walk(v, fix, where)) for k, v in value.items()
        )
    return value


def _notebook_parts(nb: Any, name: str) -> Iterable[tuple[str, Any, Callable[[Any], None]]]:
    """(where, value, setter) for every scannable part of a notebook."""
    label = name or "notebook"
    for i, cell in enumerate(nb.get("cells", []), start=1):
        yield f"{label}, cell {i} ({cell.get('cell_type', '?')}) source", cell.get("source", ""), \
            lambda v, c=cell: c.__setitem__("source", v)
        for j, out in enumerate(cell.get("outputs", []) or [], start=1):
            def setter(v, c=cell, k=j - 1):
                c["outputs"][k] = v
            yield f"{label}, cell {i}, output {j}", out, setter
    if nb.get("metadata"):
        yield f"{label}, metadata", nb["metadata"], lambda v: nb.__setitem__("metadata", v)


def _count_images(nb: Any) -> int:
    n = 0
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            data = out.get("data", {}) if isinstance(out, dict) else {}
            n += sum(1 for k in data if k in _BINARY_MIMES)
        n += len(cell.get("attachments", {}) or {})
    return n


def _notebook_pass(nb: Any, name: str, redact: bool, test_cards: dict[str, str] | None) -> LeakReport:
    cards = load_test_cards() if test_cards is None else test_cards
    report = LeakReport(scanned=[name or "notebook"])

    def fix(text: str, where: str) -> str:
        if redact:
            new, found = redact_text(text, cards)
        else:
            new, found = text, scan_text(text, cards)
        report.findings.extend(f.at(where) for f in found)
        return new

    for where, value, setter in _notebook_parts(nb, name):
        new = _walk(value, fix, where)
        if redact and new is not value:
            setter(new)
    images = _count_images(nb)
    if images:
        report.not_scanned.append(f"{images} image{'s' if images > 1 else ''} in {name or 'notebook'}")
    return report


def scan_notebook(nb: Any, name: str = "", test_cards: dict[str, str] | None = None) -> LeakReport:
    """Scan a notebook (an ``nbformat`` node or a plain dict): sources, outputs, metadata."""
    return _notebook_pass(nb, name, redact=False, test_cards=test_cards)


def redact_notebook(nb: Any, name: str = "", test_cards: dict[str, str] | None = None) -> tuple[Any, LeakReport]:
    """A redacted copy of the notebook (the original is untouched), and the report."""
    copy_ = copy.deepcopy(nb)
    report = _notebook_pass(copy_, name, redact=True, test_cards=test_cards)
    return copy_, report
