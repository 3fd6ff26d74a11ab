"""The leak scan of a notebook: cell sources, outputs, metadata and attachments (see :mod:`labkit.leaks`).

Outputs are read as JSON-like values (every string in them); images in outputs are counted, not read.
Attachments are read by their MIME type: a text type is scanned as written and, when it is also base64 of
UTF-8 text (as JupyterLab stores a dropped file), decoded; any other type is binary and counted.
"""
from __future__ import annotations

import base64
import binascii
import copy
from typing import Any, Callable, Iterable

from labkit.leaks import LeakReport, load_test_cards, redact_text, scan_text

_BINARY_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


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
    """(where, value, setter) for every scannable part of a notebook but attachments."""
    label = name or "notebook"
    for i, cell in enumerate(nb.get("cells", []), start=1):
        yield f"{label}, cell {i} ({cell.get('cell_type', '?')}) source", cell.get("source", ""), \
            lambda v, c=cell: c.__setitem__("source", v)
        if cell.get("metadata"):
            yield f"{label}, cell {i} metadata", cell["metadata"], lambda v, c=cell: c.__setitem__("metadata", v)
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
    return n


def _base64_text(value: str) -> str | None:
    """The UTF-8 text a base64 value encodes, or None (not base64, or binary)."""
    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _is_text_mime(mime: str) -> bool:
    """Whether an attachment of this MIME type is text (scanned) rather than binary (an image, a PDF)."""
    mime = mime.split(";")[0].strip().lower()
    return mime.startswith("text/") or mime.endswith(("+json", "+xml")) or mime in (
        "application/json", "application/javascript", "application/xml", "application/x-ipynb+json")


def _attachments(nb: Any, name: str, fix: Callable[[str, str], str]) -> int:
    """Scan (and with a redacting ``fix``, rewrite) the cells' attachments, read by their MIME type: a text
    type is scanned as it is and, when it is also base64 of UTF-8 text (as JupyterLab stores a dropped
    file), decoded; any other type is binary and counted as not scanned (images). Returns that count."""
    unread = 0
    for i, cell in enumerate(nb.get("cells", []), start=1):
        for att, bundle in (cell.get("attachments") or {}).items():
            for mime, value in list((bundle or {}).items()):
                raw = "".join(value) if isinstance(value, list) else value
                if not isinstance(raw, str) or not _is_text_mime(mime):
                    unread += 1
                    continue
                where = f"{name or 'notebook'}, cell {i}, attachment {att} ({mime})"
                text = _base64_text(raw)
                new = fix(raw, where)  # as written (a text attachment may be stored plain)
                if text is not None:
                    decoded = fix(text, where + ", base64-decoded")
                    if decoded != text:
                        new = base64.b64encode(decoded.encode("utf-8")).decode("ascii")
                if new != raw:
                    bundle[mime] = new
    return unread


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
    images = _count_images(nb) + _attachments(nb, name, fix)
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
