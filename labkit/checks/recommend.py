"""Which payment-method families an essay recommends adding now, read as a grader reads it.

A family is recommended when a sentence that picks ("I recommend", "should add", "my two picks
are", "go with", a "Recommendation" heading's list) names it in a part of the sentence that is
not turned down or put off: "I recommend against crypto", "wallets rather than crypto", "I'd
recommend revisiting BNPL next year", "only if demand grows" do not recommend crypto or BNPL now.
A part of a sentence without its own verb ("… and Klarna") takes the stance of the part before it.
Families named only in a reason ("because, unlike crypto, …") are not picks.
"""
from __future__ import annotations

import re

FAMILIES = {
    "digital wallets": r"apple\s*pay|google\s*pay|samsung\s*pay|shop\s*pay|digital[-\s]wallets?|mobile\s+wallets?|"
                       r"\bwallets?\b",
    "BNPL": r"klarna|affirm|afterpay|clearpay|sezzle|zip\s+pay|\bbnpl\b|buy[-\s]+now,?[-\s]+pay[-\s]+later|"
            r"pay[-\s]+later|pay[-\s]+in[-\s]+(?:4|four)|installments?|instalments?",
    "crypto": r"crypto\w*|bitcoin|\bbtc\b|bitpay|coinbase|stablecoins?|\busdc\b|ethereum",
}
_FAMILY = {name: re.compile(p, re.I) for name, p in FAMILIES.items()}

_PICK = re.compile(
    r"recommend|suggest|propose|advis|advocat|\bpick|\bchoose|\bchose|\bchoice|\bselect|\bopt\s+for|go\s+with|"
    r"go\s+for|prioriti[sz]|in\s+favou?r\s+of|best\s+(?:bets?|options?|choices?|candidates?|fits?)|"
    r"(?:(?:\bi|\bwe|\byou|\bthey|retailer|shop|store|company|merchant|business)\s+(?:would|will)|\bi'd|\bwe'd|"
    r"\bi'll|\bwe'll|should|must|\bto)\s+(?:also\s+|first\s+|then\s+|definitely\s+|probably\s+|still\s+)?"
    r"(?:add|adopt|offer|introduce|implement|integrate|enable|launch|roll\s+out|support|accept|start\s+with|"
    r"begin\s+with|turn\s+on|be\s+added|come\s+first)|"
    r"\bworth\s+(?:adding|it|offering)|makes?\s+sense|top\s+priorit|next\s+steps?\s+(?:is|are|should)|"
    r"^\s*(?:[-*•]\s*|\d+[.)]\s*)?(?:add|adopt|offer|start\s+with)\b|two\s+methods|\bwinners?\b", re.I)
_NEGATIVE = re.compile(
    r"\bagainst\b|\bavoid|\bskip|\bnot\b|\bn't\b|\bnever\b|\bno\b|\bleave\b|\bleaving\b|\bdrop|\bexclud|\bexcept|"
    r"\brule\s+out|\bruled\s+out|\breject|\bdecline|\bpass\s+on\b|\bdon'?t\b|\bwithout\b|\bunlike\b", re.I)
_DEFER = re.compile(
    r"\brevisit|\breconsider|\bre-?evaluat|\blater\b|\bnext\s+year|\bin\s+(?:a|the)\s+(?:future|year|few)|\bfuture\b|"
    r"\beventually|\bwait|\bhold\s+off|\bpostpon|\bdefer|\bdelay|\bmonitor|\bkeep\s+an\s+eye|"
    r"\bdown\s+the\s+(?:line|road)|\bonce\b|\bonly\s+if\b|\bunless\b|\bif\s+(?:demand|customers|shoppers|it|the|"
    r"adoption|volume|regulation)|\bmatures?\b|\bphase\s+(?:two|2|three|3)\b", re.I)
# A pick that is not put off, though its words look like it: "if I had to pick two", "not only … but".
_PICK_OVERRIDE = re.compile(r"\bif\s+i\s+(?:had|were|have)\s+to\s+(?:pick|choose)|\bnot\s+only\b|"
                            r"\bno\s+doubt\b|\bnot\s+hesitate\b|\bno[-\s]brainer\b|\bwithout\s+(?:a\s+)?doubt\b",
                            re.I)
_TURN = re.compile(r"\s*(?:\brather\s+than\b|\binstead\s+of\b|\bover\b|\bbut\s+not\b|\bnot\b|\bexcept\b|"
                   r"\bunlike\b|\bcompared\s+(?:to|with)\b)\s*", re.I)
_SPLIT = re.compile(r"(\s*[;:]\s*|\s*,\s*|\s+\b(?:and|but|while|whereas|although|though|however|then|plus|"
                    r"or|rather\s+than|instead\s+of|over|but\s+not|except|unlike|compared\s+(?:to|with))\b\s*)",
                    re.I)
_REASON = re.compile(r"\b(?:because|since|as\s+(?:it|they|its|their|most|many)|given|due\s+to|so\s+that|which|"
                     r"who|where|thanks\s+to)\b", re.I)
_HEADING = re.compile(r"^\s*(?:#+\s*|\*\*)\s*(?:my\s+)?(?:final\s+)?(?:recommendations?|picks?|choices?|verdict|"
                      r"conclusion|decision)s?\b", re.I)
_FILLER = re.compile(r"\b(?:and|also|too|both|the|a|an|as\s+well|second(?:ly)?|first(?:ly)?|next|then|followed\s+by|"
                     r"plus|method|methods|option|options|payments?|via|through|with|e\.?g\.?|such\s+as|like|"
                     r"now|today|immediately|right\s+away|soon)\b|[()\[\]'\"“”‘’.!?*_-]", re.I)


_ENUM = re.compile(r"^\s*(?:\(?\d[.)]|\(?[ivx]+\)|first(?:ly)?\b|second(?:ly)?\b|the\s+(?:first|second)\s+is\b)",
                   re.I)


_FIRST = re.compile(r"\(\s*(?:1|i|a)\s*\)|(?<![\d.])1[.)]\s", re.I)


def families(text: str) -> list[str]:
    """The families ``text`` names, in the order it first names them."""
    found = {name: m.start() for name, pat in _FAMILY.items() if (m := pat.search(text or ""))}
    return sorted(found, key=found.get)


def _sentences(text: str) -> list[tuple[str, bool]]:
    """(sentence, under a recommendation heading) for each sentence or list item."""
    out, under = [], False
    for line in (text or "").splitlines():
        if re.match(r"^\s*#", line) or re.match(r"^\s*\*\*[^*]+\*\*\s*:?\s*$", line):
            under = bool(_HEADING.match(line))
            if under:
                continue
        if _HEADING.match(line):
            under = True
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])", line):
            if sentence.strip():
                out.append((sentence.strip(), under or bool(re.match(r"^\s*(?:[-*•]|\d+[.)])\s", line)) and under))
    return out


def _bare(segment: str) -> bool:
    """A part without a verb of its own: only names (and filler words) once the names are taken out."""
    rest = segment
    for pat in _FAMILY.values():
        rest = pat.sub(" ", rest)
    rest = _FILLER.sub(" ", rest)
    return len(re.findall(r"[A-Za-z]{2,}", rest)) <= 1


def _without_names(text: str) -> str:
    for pat in _FAMILY.values():  # "buy now, pay later" holds "later"; "no" may sit inside a name
        text = pat.sub(" ", text)
    return text


def _stance(segment: str, carried: str | None, turned: bool) -> str | None:
    """"pick", "no" or None (says nothing) for one part of a picking sentence."""
    body = _without_names(_REASON.split(segment, maxsplit=1)[0])
    if turned:
        return "no"
    if _PICK_OVERRIDE.search(body):
        return "pick"
    if _NEGATIVE.search(body) or _DEFER.search(body):
        return "no"
    if _PICK.search(body):
        return "pick"
    return carried if _bare(body) else None


def _within_family(segments: list[str], stances: list[str | None], segment: str) -> bool:
    """Whether ``segment`` (turned down) names only families the sentence has picked before it."""
    before = {f for seg, st in zip(segments, stances[:-1]) if st == "pick" for f in families(seg)}
    named = set(families(segment))
    return bool(named) and named <= before


def _picks_in(sentence: str, default: str | None) -> tuple[list[str], list[str]]:
    """(families picked, families turned down) in one sentence."""
    parts = _SPLIT.split(sentence)
    segments, joints = parts[0::2], parts[1::2] + [""]
    stances: list[str | None] = []
    stance, turned, before_reason, listed = default, False, None, None
    for segment, joint in zip(segments, joints):
        parallel = stance is None and _REASON.search(segment)  # "…, and Klarna because …": the same stance
        enumerated = _ENUM.match(segment)
        carried = listed if enumerated and listed else before_reason if parallel else stance
        stance = _stance(segment, carried, turned)
        if (enumerated or _FIRST.search(segment)) and listed is None:
            listed = stance  # "(1) Klarna …; (2) Apple Pay …": every numbered item as the first
        stances.append(stance)
        if _REASON.search(segment):
            before_reason, stance = stance, None  # what follows a "because" is a reason until a part picks again
        if turned and stance == "no" and _within_family(segments, stances, segment):
            stance = "pick"  # "Klarna over Affirm and Apple Pay over …": a choice inside a family already picked
        turned = bool(_TURN.fullmatch(joint)) if joint.strip() else False
    for i in range(len(segments) - 2, -1, -1):  # "Wallets and BNPL are the best options": a bare subject
        if stances[i] is None and _bare(_without_names(segments[i])) and joints[i].strip().lower() in ("and", ",", "or"):
            stances[i] = stances[i + 1]
    picked: list[str] = []
    refused: list[str] = []
    for segment, stance in zip(segments, stances):
        named = families(_REASON.split(segment, maxsplit=1)[0])
        target = picked if stance == "pick" else refused if stance == "no" else None
        if target is not None:
            target += [f for f in named if f not in target]
    return picked, refused


def read(text: str) -> tuple[list[str], list[str]]:
    """(the families the essay recommends adding now, in that order; those it turns down or puts off
    and never recommends)."""
    picked: list[str] = []
    refused: list[str] = []
    for sentence, under_heading in _sentences(text):
        if not (_PICK.search(sentence) or under_heading):
            continue
        got, no = _picks_in(sentence, "pick" if under_heading else None)
        refused += [f for f in no if f not in got and f not in refused]
        picked += [f for f in got if f not in picked]
    return picked, [f for f in refused if f not in picked]


def recommended(text: str) -> list[str]:
    """The families the essay recommends adding now, in the order it recommends them."""
    return read(text)[0]
