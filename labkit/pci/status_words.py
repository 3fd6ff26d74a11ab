"""A checklist answer as students write it, read into the kit's short form (yes / no / n/a).

The SAQ's own responses are "In Place", "In Place with CCW" (with a Compensating Controls
Worksheet), "Not in Place" and "Not Applicable" (``labkit/data/saq_a_v401.json``, ``responses``);
the kit's short forms are Yes / No / N/A. Students also tick the handout's "☐ Yes / No" cell
("☑ Yes / ☐ No", "[x] Yes", "Yes ✅"), write "Compliant" or "Met", or leave the template as it is.

:func:`read_status` returns ``(status, ccw)``: ``status`` is "yes", "no", "n/a", or "" when the
text gives no single answer (empty, the untouched template, two options with none ticked);
``ccw`` is True for "In Place with CCW" (answered In Place, through a compensating control).
"""
from __future__ import annotations

import re
import unicodedata

TICKED = "☑☒✓✔✅■◼●▣⊠"
CROSSES = "✗✘❌✖❎"  # alone in the "Compliant" cell: No
UNTICKED = "☐□◻○"
# Longest first: "not in place" before "in place", "in place with ccw" before "in place".
_PHRASES: tuple[tuple[str, str, bool], ...] = (
    (r"in\s*place\s*(?:with|w/|w\.|using|\+)\s*(?:a\s+)?(?:ccw|compensating\s+controls?(?:\s+worksheet)?)", "yes", True),
    (r"not\s*in\s*place", "no", False),
    (r"not\s*applicable|n\s*/\s*a|n\.\s?a\.?|\bna\b|does\s+not\s+apply|not\s+relevant", "n/a", False),
    (r"non[-\s]?compliant|not\s+compliant|not\s+met|not\s+yet|partially|partial|\bno\b|\bnot\s+done\b|\bfalse\b|"
     r"\bn\b", "no", False),
    (r"in\s*place|compliant|\bmet\b|\byes\b|\bdone\b|\btrue\b|\by\b|\bok\b", "yes", False),
)
_COMPILED = tuple((re.compile(p, re.I), s, c) for p, s, c in _PHRASES)
_TICK = re.compile(r"\[\s*[xX✓✔]\s*\]|\(\s*[xX✓✔]\s*\)|[" + TICKED + "]")
_UNTICK = re.compile(r"\[\s*\]|\(\s*\)|[" + UNTICKED + "]")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[*_`~]", "", text).strip()


def _options(text: str) -> list[tuple[str, bool]]:
    """(status, ccw) of every answer named in ``text``, left to right, each phrase once."""
    found: list[tuple[int, str, bool]] = []
    taken: list[tuple[int, int]] = []
    for pattern, status, ccw in _COMPILED:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), status, ccw))
    return [(s, c) for _, s, c in sorted(found)]


def read_status(text: object) -> tuple[str, bool]:
    """The answer in ``text`` as ``(status, ccw)``; ``("", False)`` when there is no single answer."""
    if isinstance(text, bool):
        return ("yes" if text else "no"), False
    if not isinstance(text, str):
        return "", False
    cleaned = _clean(text).rstrip(" -–—:(,;.")
    if not cleaned or cleaned.lower() in ("to answer", "☐ to answer", "-", "—", "?", "tbd", "todo"):
        return "", False
    if set(cleaned) <= set(TICKED + " "):  # a bare tick in the "Compliant" column
        return "yes", False
    if set(cleaned) <= set(CROSSES + " "):
        return "no", False
    cleaned = re.sub(r"\bn\s*/\s*a\b", "not applicable", cleaned, flags=re.I)
    cleaned = re.sub(r"\bw\s*/\s*", "with ", cleaned, flags=re.I)
    head = re.split(r"\s[-–—]\s|[:(,;]|\.\s", cleaned, maxsplit=1)[0]  # "N/A - no paper": the note follows
    if head != cleaned and head.strip():
        status = read_status(head)
        if status[0]:
            return status
    segments = re.split(r"\s*(?:/|\||,|;|\bor\b)\s*", cleaned)
    ticked = [seg for seg in segments if _TICK.search(seg)]
    if ticked:  # "☑ Yes / ☐ No": the ticked option
        chosen = [o for seg in ticked for o in _options(_TICK.sub(" ", seg))]
        if not chosen and not re.search(r"[A-Za-z]", " ".join(ticked)):
            return "yes", False  # a tick and a note: "✓ (see below)"
        return chosen[0] if len({s for s, _ in chosen}) == 1 else ("", False)
    options = [o for seg in segments for o in _options(_UNTICK.sub(" ", seg))]
    if not options or len({s for s, _ in options}) > 1:  # "☐ Yes / No" untouched, or "yes and no"
        return "", False
    return options[0]


def status_label(status: str, ccw: bool = False) -> str:
    """The SAQ's own words for a short status."""
    if status == "yes":
        return "In Place with CCW" if ccw else "In Place"
    return {"no": "Not in Place", "n/a": "Not Applicable"}.get(status, "not answered")
