"""Console output that works on any code page.

The kit prints a few marks outside ASCII (``✓ ✗ ◐ → …``). A UTF-8 terminal shows them; a
Windows pipe, ``> log.txt`` or Git Bash encodes output in the ANSI code page (cp1252 and
friends), where ``print("✓")`` raises ``UnicodeEncodeError``. :func:`setup_console` makes
stdout and stderr replace what the stream's encoding cannot hold with an ASCII stand-in
(``✓`` → ``OK``, ``✗`` → ``X``), so no output ever stops a command. Called once by the
``labkit`` command line; a stream already in UTF-8 is left as it is.
"""
from __future__ import annotations

import codecs
import sys

ERRORS = "labkit-ascii"

# Characters the kit prints, and what stands in for them where the encoding lacks them.
ASCII = {
    "✓": "OK", "✗": "X", "◐": "~", "·": ".", "→": "->", "←": "<-", "…": "...",
    "—": "-", "–": "-", "≥": ">=", "≤": "<=", "×": "x", "“": '"', "”": '"', "‘": "'", "’": "'",
    "█": "#", "▏": "|", "▎": "|", "▍": "|", "▌": "|", "▋": "|", "▊": "|", "▉": "|",  # tqdm's bar
}


def _ascii_stand_in(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(ASCII.get(ch, "?") for ch in bad), exc.end


codecs.register_error(ERRORS, _ascii_stand_in)


def to_ascii(text: str) -> str:
    """``text`` with the kit's marks in ASCII (what a cp1252 console would show, minus its own letters)."""
    return text.encode("ascii", errors=ERRORS).decode("ascii")


def setup_console(*streams) -> None:
    """Let ``streams`` (default stdout and stderr) print anything without ``UnicodeEncodeError``."""
    for stream in streams or (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if encoding in ("utf-8", "utf8") or not hasattr(stream, "reconfigure"):
            continue  # UTF-8 holds every character; notebook kernels' streams have no reconfigure
        try:
            stream.reconfigure(errors=ERRORS)
        except (ValueError, OSError):  # a detached or closed stream: nothing to print to anyway
            pass
