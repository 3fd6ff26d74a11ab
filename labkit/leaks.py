"""Find and redact what must never leave a student's machine: Stripe secrets and real card numbers.

What counts as a leak:

* secret keys ``sk_test_…`` / ``sk_live_…``, restricted keys ``rk_test_…`` / ``rk_live_…`` and
  webhook signing secrets ``whsec_…``: redacted to their prefix (``sk_test_…[REDACTED]``);
  publishable keys (``pk_…``) are public by design and left alone;
* card numbers (PANs): 13–19 digits that pass the Luhn check and start with 2–6 (the issuer
  families of card networks; this keeps millisecond timestamps, which start with 1, from
  being taken for cards), written whole or in groups of 3+ digits (``4-4-4-4``, ``4-6-5``,
  ``4-12``…) with any separators a person or a renderer puts between them: spaces of every
  width (NBSP, thin, narrow no-break, figure), tabs, several at once, dots, slashes, dashes
  of every length, underscores, HTML entities (``&nbsp;``, ``&#160;``, ``&#x2009;``),
  ``<br>``, JSON escapes (``\\u00a0``), zero-width characters, and a line break anywhere
  (a wrapped number: then a group may be shorter), in any digits Unicode calls decimal (fullwidth
  ``４５３９``, Arabic-Indic, Devanagari… read as 0-9), grouped 4-4-4-4, 12+4 or any way whose first
  group has 4+ digits, or as a thousands-separated number (``4,539,148,803,436,467``,
  ``4 539 148…``, ``4.539.148…``, ``4'539'…``). Stripe's public test numbers (``test_cards.json`` and
  ``stripe_more_test_cards.json`` in ``labkit/data``) are the lab's subject: they are reported
  but never redacted. Any other such number is treated as a real card: redacted to its last
  four digits, and the export refuses to go on.

The scanner never keeps a secret: a :class:`Finding` holds only the redacted form.
"""
from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from labkit.data import more_test_cards, test_cards
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
# ---- what a person or a renderer can put between the digits of a card number
# spaces of every width (NBSP, thin, narrow NBSP, figure space…) and tabs; dashes of every
# length; dots, slashes, underscores (Python's 4539_1488_…), middle dots and bullets
_HSEP = ("\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
         "\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
         "./_\u00b7\u2022\u2024\u2027\u2044\u2215\u2219\uff0e\uff0f")
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200d\u2060\ufeff]")  # zero-width: read as U+200B
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a Unicode decimal digit (category Nd) other than ASCII: read as 0-9
# Between the groups of a thousands-separated number only (1-3 digits, then groups of exactly 3, one
# separator throughout): commas (ASCII, fullwidth, Arabic), the Arabic thousands separator, apostrophes.
_THOUSANDS_ONLY = ",\uff0c\u060c\u066c'\u2019"
_LINE_BREAK = r"(?:\r\n|[\n\r\x0b\x0c\x85\u2028\u2029])"
# Between two digit groups: up to 4 separators, or a line break (a wrapped number) with the
# indentation, quotes, string concatenation or comment marker a wrap in code or a quote brings.
_GAP_RE = re.compile(
    rf"[{_HSEP}]{{1,4}}"
    rf"|[{_HSEP}]{{0,4}}(?:[\"'][ \t]*\+?[ \t]*)?\\?{_LINE_BREAK}[ \t]*(?:\#|//|>)?[ \t]*[\"']?[{_HSEP}]{{0,4}}"
)
# Encoded forms, decoded before the digits are read: HTML entities (&nbsp; &#160; &#x2009;,
# also escaped twice as &amp;nbsp;), <br>/<wbr>, and JSON/Python escapes (\u00a0, \n, \t).
_ENCODED_RE = re.compile(
    r"&(?:amp;)?(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"
    r"|<(?:br|wbr)\s*/?>(?:\r?\n)?|\\(?:u[0-9a-fA-F]{4}|[ntr])",
    re.I,
)
_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r"}
_DIGITS_RE = re.compile(r"[0-9]+")
_DOT_RE, _WRAP_RE = re.compile("[.\u2024\uff0e]"), re.compile(_LINE_BREAK)
_LETTER = re.compile(r"[A-Za-z]")


luhn_ok = luhn_valid  # the Luhn checksum every card number carries in its last digit


def load_test_cards() -> dict[str, str]:
    """Stripe's public test numbers: ``{digits: label}`` from both data files."""
    cards: dict[str, str] = {}
    for doc in (test_cards(), more_test_cards()):
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


class _Decoded:
    """``text`` with encoded separators decoded and zero-width characters dropped, and the way
    back from a position in the decoded text to one in the original."""

    def __init__(self, text: str) -> None:
        self.original = text
        pieces: list[str] = []
        self._segs: list[tuple[int, int, int, int]] = []  # decoded start, original start, original end, replaced
        pos = out = 0
        for m in re.finditer(f"{_ENCODED_RE.pattern}|{_INVISIBLE.pattern}|{_OTHER_DIGIT.pattern}", text, re.I):
            new = _decode_one(m.group(0))
            if new == m.group(0):
                continue
            if m.start() > pos:
                pieces.append(text[pos:m.start()])
                self._segs.append((out, pos, m.start(), 0))
                out += m.start() - pos
            if new:
                pieces.append(new)
                self._segs.append((out, m.start(), m.end(), 1))
                out += len(new)
            pos = m.end()
        if not self._segs:
            self.text = text
            return
        pieces.append(text[pos:])
        self._segs.append((out, pos, len(text), 0))
        self.text = "".join(pieces)
        self._starts = [seg[0] for seg in self._segs]

    def _seg(self, i: int) -> tuple[int, int, int, int]:
        return self._segs[bisect.bisect_right(self._starts, i) - 1]

    def span(self, s: int, e: int) -> tuple[int, int]:
        """The original span of the decoded ``text[s:e]`` (a decoded entity maps to all of it)."""
        if not self._segs:
            return s, e
        d0, o0, o1, replaced = self._seg(s)
        start = o0 if replaced else o0 + s - d0
        d0, o0, o1, replaced = self._seg(e - 1)
        return start, (o1 if replaced else o0 + e - d0)


def _decode_one(raw: str) -> str:
    if len(raw) == 1 and unicodedata.decimal(raw, None) is not None:
        return str(unicodedata.decimal(raw))  # ４ (fullwidth), ٤ (Arabic-Indic), ४ (Devanagari)… → 4
    if raw.startswith("&"):
        return html.unescape("&" + raw[5:] if raw.lower().startswith("&amp;") else raw)
    if raw.startswith("<"):
        return "\n" if raw[1:3].lower() == "br" else "\u200b"
    if raw.startswith("\\"):
        return chr(int(raw[2:], 16)) if raw[1] in "uU" else _ESCAPES.get(raw.lower(), raw)
    return "\u200b"  # a zero-width character: a place to break a line, like a wrap


def _gap_kind(gap: str) -> str:
    """"dot", "wrap" (a line break), "dot+wrap" (both) or "other"."""
    if gap in (" ", "-", "  ", "\t"):
        return "other"
    kinds = ("dot" if _DOT_RE.search(gap) else "", "wrap" if _WRAP_RE.search(gap) else "")
    return "+".join(k for k in kinds if k) or "other"


def _digit_chains(text: str) -> Iterable[list[tuple[int, int, str]]]:
    """Runs of digit groups joined by separators: [(start, end, kind of the gap after it)]."""
    chain: list[tuple[int, int, str]] = []
    for m in _DIGITS_RE.finditer(text):
        s, e = m.span()
        if chain:
            gap = text[chain[-1][1]:s]
            plain = gap.replace("\u200b", "")
            if len(gap) <= 40 and e - s <= 19 and (not plain or plain in _THOUSANDS_ONLY or _GAP_RE.fullmatch(plain)):
                chain[-1] = (chain[-1][0], chain[-1][1], _gap_kind(plain) if plain else "wrap")
                chain.append((s, e, ""))
                continue
            yield chain
        chain = [(s, e, "")] if e - s <= 19 else []
    if chain:
        yield chain


def _thousands(text: str, chain: list[tuple[int, int, str]], i: int, j: int) -> bool:
    """Groups i..j written as one thousands-separated number: 1-3 digits, then groups of exactly 3,
    the same one separator between all of them (``4,539,148,803,436,467``, ``4 539 148 …``); with a
    comma or an apostrophe, the groups are the whole run (a CSV row of 3-digit numbers is no card)."""
    gaps = {text[chain[k][1]:chain[k + 1][0]] for k in range(i, j)}
    if len(gaps) != 1 or len(gap := gaps.pop()) != 1 or not 1 <= chain[i][1] - chain[i][0] <= 3:
        return False
    if any(chain[k][1] - chain[k][0] != 3 for k in range(i + 1, j + 1)):
        return False
    if gap in _THOUSANDS_ONLY:
        return (i == 0 or text[chain[i - 1][1]:chain[i][0]] != gap) and \
            (j == len(chain) - 1 or text[chain[j][1]:chain[j + 1][0]] != gap)
    return True


def _looks_written(text: str, chain: list[tuple[int, int, str]], i: int, j: int) -> bool:
    """Could groups i..j be one number as people and renderers write it? Either a thousands-separated
    number (:func:`_thousands`), or a first group of 4+ digits (4-4-4-4, 4-6-5, 4-12, 12+4…) and others
    of 3+, except beside a line break (a wrap splits a group anywhere); dots are not mixed with spaces or
    dashes (that is a table of decimal numbers, ``1234.567  2345.678``); commas only in thousands."""
    if i == j:
        return True
    if _thousands(text, chain, i, j):
        return True
    if any(text[chain[k][1]:chain[k + 1][0]] in _THOUSANDS_ONLY for k in range(i, j)):
        return False
    size = {k: chain[k][1] - chain[k][0] for k in range(i, j + 1)}
    wrap_after = {k: "wrap" in chain[k][2] for k in range(i, j + 1)}
    kinds = {chain[k][2].split("+")[0] for k in range(i, j)}
    if "dot" in kinds and "other" in kinds:
        return False
    if size[i] < 4 and not wrap_after[i]:
        return False
    return all(size[k] >= 3 or wrap_after[k - 1] or (k < j and wrap_after[k]) for k in range(i + 1, j + 1))


def _card_candidates(text: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, digits) of every Luhn-valid reading of 13-19 digits that could be a card:
    it starts and ends at group boundaries, starts with 2-6, is not glued to a letter, and
    its groups look written (:func:`_looks_written`)."""
    for chain in _digit_chains(text):
        for i, (s, _e, _k) in enumerate(chain):
            if text[s] not in "23456" or (s and _LETTER.match(text[s - 1])):
                continue
            digits = ""
            for j in range(i, len(chain)):
                gs, ge, _k = chain[j]
                digits += text[gs:ge]
                if len(digits) > 19:
                    break
                if (len(digits) >= 13 and not _LETTER.match(text[ge:ge + 1]) and luhn_ok(digits)
                        and _looks_written(text, chain, i, j)):
                    yield s, ge, digits


def _card_findings(text: str, test_cards: dict[str, str], taken: list[tuple[int, int]]) -> list[Finding]:
    decoded = _Decoded(text)
    hits = [(digits not in test_cards, *decoded.span(s, e), digits) for s, e, digits in _card_candidates(decoded.text)]
    # a public test card wins over any reading that overlaps it (a trailing CVC, say), then
    # the earliest and longest reading of a real number
    hits.sort(key=lambda h: (h[0], h[1], h[1] - h[2]))
    found: list[Finding] = []
    for is_real, s, e, digits in hits:
        k = bisect.bisect_right(taken, (s, s))  # taken: sorted spans that never overlap
        if (k and taken[k - 1][1] > s) or (k < len(taken) and taken[k][0] < e):
            continue
        found.append(Finding("card_number", mask_card(digits), s, e) if is_real
                     else Finding("test_card", text[s:e], s, e, label=test_cards[digits]))
        taken.insert(k, (s, e))
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



# (a notebook's scan and redaction: labkit.leaks_notebook, which builds on this module)
__all__ = ["CARD_KINDS", "SECRET_KINDS", "Finding", "LeakReport", "load_test_cards", "luhn_ok", "mask_card",
           "redact_text", "scan_text"]
