"""Pairs of submissions whose student-written code or essays are unusually similar (for a person to read).

Each student's own work is fingerprinted with ``copydetect`` (winnowed k-gram hashes, as MOSS
does; code is tokenized first, so renamed variables and changed comments still match):
``checkout_server.py``, ``webhook_handler.py``, ``static/checkout.js``, ``answers/part_e.md`` and the
gaps and remediation in ``answers/pci.json``. What every student was given is removed first: the
kit's starter code (the student edition's files), the Part E starter text, any file passed as
``--boilerplate`` (the handout's code), and any passage found in more than a third of the class
(and at least ten submissions: material everyone shares, as MOSS's ``-m``). A pair is reported when
one of its documents shares at least :data:`THRESHOLD` of its remaining text with the other's,
with the shared passages. A report is a reason to look, never a verdict, and changes no points.
"""
from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from labkit.answers import PART_E_STARTER
from labkit.grading.collect import answers_folder, collect
from labkit.release import strip_solutions
from labkit.settings import project_root

THRESHOLD = 0.33  # share of a document's own (non-boilerplate) text found in the other's: copydetect's default
MIN_SHARED = {"code": 150, "text": 200}  # shared characters (after filtering) below which nothing is reported
PARAMS = {"code": (25, 6), "text": (50, 11)}  # (k, window): copydetect's defaults for code; ~8-word phrases for text
DOCUMENTS = {  # document -> (kind, pygments language)
    "checkout_server.py": ("code", "python"),
    "webhook_handler.py": ("code", "python"),
    "static/checkout.js": ("code", "javascript"),
    "answers/part_e.md": ("text", None),
    "answers/pci.json (gaps and remediation)": ("text", None),
}
COMMON_SHARE, COMMON_MIN = 1 / 3, 10
MAX_BYTES = 512 * 1024  # of each file: the lab's files are a few kilobytes


@dataclass
class Pair:
    a: str
    b: str
    document: str
    similarity: float          # the larger of the two shares
    shares: tuple[float, float]
    passages: list[str] = field(default_factory=list)  # shared passages, as in a's file

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "document": self.document, "similarity": round(self.similarity, 3),
                "shares": [round(s, 3) for s in self.shares], "passages": self.passages}


def _prose(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip()


def _read(path: Path, folder: Path) -> str:
    """A submitted file's text: regular files inside the submission only (never a link out of it), capped."""
    try:
        if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(folder.resolve()):
            return ""
        with path.open("rb") as f:
            return f.read(MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def student_documents(folder: Path) -> dict[str, str]:
    """The student's own texts (empty ones left out)."""
    out: dict[str, str] = {}
    for name, (kind, _) in DOCUMENTS.items():
        path = answers_folder(folder) / "part_e.md" if name == "answers/part_e.md" else folder / name
        if name.startswith("answers/pci.json"):
            try:
                pci = json.loads(_read(answers_folder(folder) / "pci.json", folder) or "{}")
                text = f"{pci.get('gaps') or ''}\n{pci.get('remediation') or ''}"
            except (ValueError, AttributeError):
                text = ""
        else:
            text = _read(path, folder)
        if text.strip():
            out[name] = _prose(text) if kind == "text" else text
    return out


def kit_boilerplate(extra: list[Path] | tuple[Path, ...] = ()) -> list[str]:
    """What every student was given: the starter code, the Part E starter, and ``extra`` files (the handout)."""
    root = project_root(Path(__file__).parent)
    texts = [_prose(PART_E_STARTER)]
    for name in ("checkout_server.py", "webhook_handler.py", "static/checkout.js", "templates/checkout.html"):
        path = root / name
        if path.is_file():
            texts.append(strip_solutions(path.read_text(encoding="utf-8"), path.suffix, name).text)
    for path in extra:
        files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() else [Path(path)]
        texts += [f.read_text(encoding="utf-8", errors="replace") for f in files]
    return texts


def _fingerprint(text: str, document: str, boilerplate: Any = None) -> Any:
    import io

    from copydetect import CodeFingerprint

    kind, language = DOCUMENTS[document]
    k, win = PARAMS[kind]
    return CodeFingerprint(document, k, win, boilerplate=boilerplate, filter=kind == "code", language=language,
                           fp=io.StringIO(text))


def _boilerplate_hashes(texts: list[str], document: str) -> Any:
    import numpy as np

    kind = DOCUMENTS[document][0]
    hashes = [np.array(sorted(_fingerprint(_prose(t) if kind == "text" else t, document).hashes), dtype=np.int64)
              for t in texts if t.strip()]
    return np.unique(np.concatenate(hashes)) if hashes else np.array([], dtype=np.int64)


def _passages(raw: str, slices: Any, code: bool, limit: int = 3, width: int = 500) -> list[str]:
    """The longest shared passages, widened to whole lines (code) or words (text), in file order."""
    spans = sorted(((int(s), int(e)) for s, e in zip(*slices)), key=lambda se: se[0] - se[1])[:limit]
    out = []
    for start, end in sorted(spans):
        sep = "\n" if code else " "
        start = raw.rfind(sep, 0, start) + 1
        end = len(raw) if raw.find(sep, end) < 0 else raw.find(sep, end)
        text = raw[start:end].strip("\n")
        out.append(text if len(text) <= width else text[:width].rsplit(sep, 1)[0] + " …")
    return out


def _without(fp: Any, drop: set[int]) -> Any:
    """A fingerprint less the hashes in ``drop`` (what a third of the class shares), as copydetect removes
    boilerplate, without tokenizing the file again."""
    from copydetect.utils import get_token_coverage

    fp.hashes = {h for h in fp.hashes if int(h) not in drop}
    fp.hash_idx = {h: idx for h, idx in fp.hash_idx.items() if int(h) not in drop}
    fp.token_coverage = get_token_coverage(fp.hash_idx, fp.k, len(fp.filtered_code))
    return fp


def document_pairs(docs: dict[str, str], document: str, given: list[str]) -> list[Pair]:
    """Compare one document across students (``docs``: student -> text)."""
    from copydetect import compare_files

    base = _boilerplate_hashes(given, document)
    first = {s: _fingerprint(t, document, base) for s, t in docs.items()}
    seen: dict[int, set[str]] = {}
    for student, fp in first.items():
        for h in fp.hashes:
            seen.setdefault(int(h), set()).add(student)
    common = {h for h, who in seen.items() if len(who) >= max(COMMON_MIN, COMMON_SHARE * len(docs))}
    prints = {s: _without(fp, common) for s, fp in first.items()} if common else first
    kind = DOCUMENTS[document][0]
    pairs = []
    for a, b in combinations(sorted(prints), 2):
        if len(prints[a].hashes & prints[b].hashes) < 3:
            continue
        tokens, shares, (slices_a, _) = compare_files(prints[a], prints[b])
        if tokens < MIN_SHARED[kind] or max(shares) < THRESHOLD:
            continue
        pairs.append(Pair(a, b, document, float(max(shares)), (float(shares[0]), float(shares[1])),
                          _passages(prints[a].raw_code, slices_a, kind == "code")))
    return pairs


def similar_pairs(folders: dict[str, Path], boilerplate: list[Path] | tuple[Path, ...] = ()) -> list[Pair]:
    """Every reported pair in a class (``folders``: student -> code folder), most similar first."""
    given = kit_boilerplate(boilerplate)
    by_document: dict[str, dict[str, str]] = {}
    for student, folder in folders.items():
        for document, text in student_documents(folder).items():
            by_document.setdefault(document, {})[student] = text
    pairs = [p for document, docs in by_document.items() if len(docs) > 1
             for p in document_pairs(docs, document, given)]
    return sorted(pairs, key=lambda p: (-p.similarity, p.a, p.b, p.document))


def class_pairs(class_dir: Path, boilerplate: list[Path] | tuple[Path, ...] = ()) -> list[Pair]:
    """:func:`similar_pairs` for a class folder (folders and zips, unpacked into a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="labkit-similar-") as tmp:
        subs = collect(class_dir, Path(tmp))
        return similar_pairs({s.student: s.folder for s in subs if s.folder is not None}, boilerplate)
