"""Is a Part E text the student's own, or the model answer reworded? Sentence by sentence.

Each sentence becomes the set of its content words (lower case, crudely stemmed, numbers as "#",
common words left out), so reordering a sentence, changing its figures or swapping a few words
keeps most of the set. Two sentences are alike when the sets overlap by :data:`ALIKE` (Jaccard).

The student edition does not ship the model answer. It ships, per model sentence, a 1-bit MinHash
signature of that set (:data:`PERMUTATIONS` hash functions, the lowest bit of each minimum): enough
to estimate the overlap with a student's sentence (to about ±0.05), not enough to read the sentence
back: each bit is shared by half of all words, so testing a dictionary against a signature puts most
of a sentence's words only one to three standard deviations above chance, among thousands of false
candidates (measured: 11% of random words score above a sentence's weakest true word); at best a few
of its words stand out, never their order, its small words or its figures.
Both editions compare through the signatures, so ``labkit check`` in the student edition and
``labkit grade`` in the instructor's give the same verdict; the instructor's edition also shows the
model's sentence beside the student's.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PERMUTATIONS, BITS = 512, 1  # 1-bit minwise hashing: 64 bytes a sentence
ALIKE = 0.5           # estimated Jaccard of two sentences' content words
MIN_WORDS = 5         # shorter sentences ("Crypto is risky.") are not compared
_STOP = frozenset("""a an the and or but if then than so of to in on at by for with from as is are was were be been
being it its this that these those there here i we you they he she our your their my me us them which who whom what
when where why how all any both each few more most other some such no nor not only own same too very can will just
should would could may might must do does did done has have had having about into over under again further once up
down out off also per via e g eg ie etc""".split())


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "edly", "ies", "ied", "ers", "er", "es", "ed", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(sentence: str) -> frozenset[str]:
    words = re.findall(r"[a-z]+|\d[\d,.]*", sentence.lower().replace("’", "'"))
    return frozenset("#" if w[0].isdigit() else _stem(w) for w in words if w not in _STOP and len(w) > 1)


def sentences(text: str) -> list[str]:
    """Sentences and list items of a Markdown text, without headings, comments and emphasis marks."""
    text = re.sub(r"<!--.*?-->", " ", text or "", flags=re.S)
    lines = [re.sub(r"[*_`>#]+", " ", line) for line in text.splitlines() if not line.lstrip().startswith("#")]
    out = []
    for para in re.split(r"\n\s*\n", "\n".join(lines)):
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(\"“$0-9])", " ".join(para.split())):
            if s.strip():
                out.append(s.strip())
    return out


_PRIME = (1 << 61) - 1  # hash functions h_i(x) = (a_i·x + b_i) mod p over a word's 64-bit hash x


def _coefficient(tag: str) -> int:
    return int.from_bytes(hashlib.blake2b(tag.encode(), digest_size=8).digest(), "big") % _PRIME or 1


_A = tuple(_coefficient(f"labkit minhash a{i}") for i in range(PERMUTATIONS))
_B = tuple(_coefficient(f"labkit minhash b{i}") for i in range(PERMUTATIONS))


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big") % _PRIME


def signature(words: frozenset[str]) -> bytes:
    """The 1-bit MinHash of a word set: the lowest bit of each hash function's minimum, packed."""
    if not words:
        return bytes(PERMUTATIONS // 8)
    xs = [_word_hash(w) for w in words]
    bits = 0
    for i, (a, b) in enumerate(zip(_A, _B)):
        bits |= (min((a * x + b) % _PRIME for x in xs) & 1) << i
    return bits.to_bytes(PERMUTATIONS // 8, "little")


def estimate(a: bytes, b: bytes) -> float:
    """The Jaccard overlap two signatures suggest (corrected for bits equal by chance, one in two)."""
    differ = bin(int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).count("1")
    same = 1 - differ / PERMUTATIONS
    return max(0.0, (same - 0.5) / 0.5)


@dataclass(frozen=True)
class ModelSentence:
    signature: bytes
    size: int
    text: str | None = None  # only where the model answer itself is at hand (the instructor's edition)


def fingerprint(model_text: str) -> list[ModelSentence]:
    """The model answer's sentences as signatures (and texts, for the instructor's edition)."""
    out = []
    for s in sentences(model_text):
        words = content_words(s)
        if len(words) >= MIN_WORDS:
            out.append(ModelSentence(signature(words), len(words), s))
    return out


def to_json(model: list[ModelSentence]) -> list[dict]:
    """What the student edition ships: no text, only each sentence's signature and size."""
    return [{"minhash": m.signature.hex(), "size": m.size} for m in model]


def from_json(rows: list[dict]) -> list[ModelSentence]:
    return [ModelSentence(bytes.fromhex(r["minhash"]), int(r["size"])) for r in rows
            if isinstance(r, dict) and isinstance(r.get("minhash"), str) and len(r["minhash"]) == PERMUTATIONS // 4]


@dataclass(frozen=True)
class Match:
    student: str
    model: ModelSentence
    index: int       # the model sentence's number, from 1
    overlap: float


def matches(text: str, model: list[ModelSentence]) -> tuple[list[Match], int]:
    """The student's sentences that are alike a model sentence, and how many were compared."""
    found, compared = [], 0
    for s in sentences(text):
        words = content_words(s)
        if len(words) < MIN_WORDS:
            continue
        compared += 1
        sig = signature(words)
        best = max(((estimate(sig, m.signature), i) for i, m in enumerate(model)), default=(0.0, -1))
        if best[0] >= ALIKE:
            found.append(Match(s, model[best[1]], best[1] + 1, best[0]))
    return found, compared


def cut(text: str, limit: int = 110) -> str:
    """``text`` cut at a word boundary, never mid-word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"
