"""Does a secret reach the browser? A secret key found in a page, a script or an answer, in any form.

Plain (``sk_test_…``, ``rk_test_…``, ``whsec_…``, found by :func:`labkit.leaks.scan_text`), escaped
(``\\u0073k_…``, ``&#115;k_…``, ``%73k_…``), cut into pieces (``"sk_" + "test_" + …``; the lab's own
keys also as ``["sk", "test", …].join("_")``), reversed, in base64 or hex, or as character codes
(``String.fromCharCode(115, 107, …)``). The known secrets (the keys the lab gave the student's
server) are also looked for by their letters and digits alone, so any way of splitting them is seen.
"""
from __future__ import annotations

import base64
import binascii
import html
import re
from urllib.parse import unquote

from labkit.leaks import SECRET_KINDS, scan_text

_ESCAPE = re.compile(r"\\u\{?([0-9a-fA-F]{2,6})\}?|\\x([0-9a-fA-F]{2})")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")
_CODES = re.compile(r"(?:\b\d{2,3}\s*,\s*){7,}\d{2,3}\b")
_JOIN = re.compile(r"""["'`]\s*\+\s*["'`]""")
_PLACEHOLDER = re.compile(r"YOUR|HERE|X{4,}|x{4,}|\.\.\.|…", re.I)


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _unescaped(text: str) -> str:
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    return unquote(html.unescape(text))


def _decoded_runs(text: str) -> list[str]:
    """What base64, hex and character-code runs in ``text`` decode to (ASCII text only)."""
    out: list[str] = []
    for token in _B64.findall(text):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(token + "=" * (-len(token) % 4))
            except (binascii.Error, ValueError):
                continue
            if raw.isascii() and raw.decode("ascii").isprintable():
                out.append(raw.decode("ascii"))
    for token in _HEX.findall(text):
        raw = bytes.fromhex(token)
        if raw.isascii():
            out.append(raw.decode("ascii"))
    for run in _CODES.findall(text):
        codes = [int(c) for c in re.findall(r"\d+", run)]
        if all(32 <= c < 127 for c in codes):
            out.append("".join(map(chr, codes)))
    return out


def _shaped(text: str) -> bool:
    """A secret-shaped string (not a placeholder such as ``sk_test_YOUR_KEY_HERE``)."""
    for finding in scan_text(text, test_cards={}):
        if finding.kind in SECRET_KINDS:
            raw = text[finding.start:finding.end]
            if not _PLACEHOLDER.search(raw):
                return True
    return False


def exposed(text: str, secrets: list[str]) -> str | None:
    """How a secret shows in ``text`` ("as written", "escaped", "split into pieces", "reversed", "encoded"),
    or None. ``secrets``: the real secrets to look for by their letters and digits (may be empty)."""
    if not text:
        return None
    unescaped = _unescaped(text)
    plain = _JOIN.sub("", unescaped)  # "sk_" + "test_" + "…" read as one string
    cores = [_alnum(s) for s in secrets if len(_alnum(s)) >= 12]
    flat = _alnum(plain)
    if _shaped(text):
        return "as written"
    if _shaped(unescaped):
        return "escaped"
    if _shaped(plain) or any(core in flat for core in cores):
        return "split into pieces"
    if any(core[::-1] in flat for core in cores) or _shaped(plain[::-1]):
        return "reversed"
    for decoded in _decoded_runs(plain):
        if _shaped(decoded) or any(core in _alnum(decoded) for core in cores):
            return "encoded (base64, hex or character codes)"
    return None
