"""Card numbers at rest: the merchant's SQLite databases and logs, and the logs of this process.

A card number found is only ever reported by its last four digits or as a public Stripe test
card (:mod:`labkit.leaks` does the finding). A test card in a log is a finding too: it shows
the code would log a real one.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Sequence
from urllib.parse import unquote, unquote_plus

from labkit.files import UnreadableFile, decode_text
from labkit.leaks import CARD_KINDS, Finding, load_test_cards, scan_text
from labkit.pci.results import CheckResult, result


def card_findings(text: str, cards: dict[str, str] | None = None) -> list[Finding]:
    """Card numbers (public Stripe test cards and any other Luhn-valid PAN) in ``text``, also
    when URL-encoded (``+`` or ``%20`` between the groups)."""
    cards = load_test_cards() if cards is None else cards
    found: list[Finding] = []
    seen: set[str] = set()
    variants = [text]
    if "%" in text or "+" in text:
        variants += [unquote_plus(text), unquote(text)]
    for variant in variants:
        for f in scan_text(variant, cards):
            digits = re.sub(r"\D", "", f.redacted) if f.kind == "test_card" else f.redacted
            if f.kind in CARD_KINDS and digits not in seen:
                seen.add(digits)
                found.append(f)
    return found


def describe_cards(findings: Sequence[Finding]) -> str:
    """The findings as text safe to show: last four digits or the public test card's name."""
    return "; ".join(f.describe() for f in findings)




def _sqlite_texts(path: Path) -> Iterator[tuple[str, str]]:
    uri = f"file:{path.resolve().as_posix()}?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=5)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            quoted = table.replace('"', '""')
            cur = con.execute(f'SELECT * FROM "{quoted}"')
            cols = [d[0] for d in cur.description]
            for row in cur:
                for col, value in zip(cols, row):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, (str, int)) and len(str(value)) >= 13:
                        yield f"{path.name}: {table}.{col}", str(value)
    finally:
        con.close()


def check_card_data_at_rest(db_paths: Sequence[str | os.PathLike] = (), log_paths: Sequence[str | os.PathLike] = (),
                            log_texts: Mapping[str, str] | None = None) -> CheckResult:
    """Scan the merchant's SQLite databases and logs for card numbers (test cards included:
    a test card in a log shows the code would log a real one)."""
    cards = load_test_cards()
    details: list[str] = []
    hits: list[str] = []
    scanned = 0
    for db in db_paths:
        path = Path(db)
        if not path.is_file():
            details.append(f"database {path.name}: not found")
            continue
        values = 0
        try:
            for where, text in _sqlite_texts(path):
                values += 1
                found = card_findings(text, cards)
                if found:
                    hits.append(f"{where}: {describe_cards(found)}")
        except sqlite3.Error as exc:
            details.append(f"database {path.name}: could not be read ({exc})")
            continue
        scanned += 1
        details.append(f"database {path.name}: every table and column read")
    for log in log_paths:
        path = Path(log)
        if not path.is_file():
            details.append(f"log {path.name}: not found")
            continue
        found = card_findings(_log_text(path), cards)
        scanned += 1
        details.append(f"log {path.name}: read")
        if found:
            hits.append(f"log {path.name}: {describe_cards(found)}")
    for name, text in (log_texts or {}).items():
        found = card_findings(text, cards)
        scanned += 1
        details.append(f"{name}: read")
        if found:
            hits.append(f"{name}: {describe_cards(found)}")
    if not scanned:
        return result("no_card_data_at_rest", "n/a", "no log or database given to scan", details)
    if hits:
        details[:0] = [f"card number in {h}" for h in hits]
        return result("no_card_data_at_rest", "gap", f"card numbers stored: {hits[0]}", details,
                      "Find the code that logs or stores request bodies or card fields and remove it; the card "
                      "field must stay Stripe's iframe. Delete the stored copies (logs, database rows, backups).")
    return result("no_card_data_at_rest", "pass", "no card number in the merchant's logs or database", details)


class LogCapture(logging.Handler):
    """Everything the servers in this process log while it is attached (the fake Stripe's own
    log is left out: it plays Stripe, not the merchant)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("labkit.fakestripe"):
            return
        try:
            line = f"{record.levelname} {record.name}: {record.getMessage()}"
            if record.exc_info:
                line += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:  # a broken log call must not break the server
            return
        with self._lock_lines:
            self.lines.append(line)

    @property
    def text(self) -> str:
        with self._lock_lines:
            return "\n".join(self.lines)


@contextmanager
def capture_logs(names: Sequence[str] = ("labkit", "waitress", "werkzeug", "flask")) -> Iterator[LogCapture]:
    """Record every log record of the named loggers (at DEBUG) while the block runs."""
    handler = LogCapture()
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)




def _log_text(path: Path) -> str:
    """A log in any common encoding (Python's logging writes the system's code page on Windows)."""
    raw = path.read_bytes()
    try:
        return decode_text(raw, path.name)
    except UnreadableFile:
        return raw.decode("utf-8", errors="replace")
