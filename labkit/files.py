"""Reading what students hand in, in any common encoding; writing the kit's files safely.

Reading: every text file a student hands in (answers, ``pci_assessment.md``, their ``.py``,
``.js`` and ``.html``) goes through :func:`read_text` / :func:`decode_text`: UTF-8 with or without
a BOM, UTF-16 or UTF-32 with a BOM (Notepad's "Unicode", PowerShell 5.1's ``>``), UTF-16 without
one, and else Windows-1252 (Notepad's "ANSI" on a Western Windows); line ends become ``\\n``.
What is not text at all (a Word file renamed ``.md``, a PDF, a zip) is an :class:`UnreadableFile`
whose message is one line naming the file and how to save it again.

Writing: whole or not at all, and a clear word when a file is busy.

Every file the kit writes for a person (answers, reports, the PDF) goes through
:func:`write_text` / :func:`write_bytes`: the data goes to a temporary file beside the target,
which then replaces it in one step (``os.replace``), so a crash or a full disk never leaves half
a file. On Windows a file open in another program (a PDF viewer, Excel) cannot be replaced:
that becomes a :class:`FileBusyError` naming the file to close, not a traceback. The same
holds for :func:`delete` (a database an earlier kernel or server still holds open).
"""
from __future__ import annotations

import codecs
import os
import tempfile
import time
from pathlib import Path


class FileBusyError(OSError):
    """The target is open in another program (Windows) or not writable."""


def write_bytes(path: str | os.PathLike, data: bytes, retries: int = 5) -> Path:
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileBusyError(f"cannot create the folder {target.parent}: {exc.strerror or exc}") from exc
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        for attempt in range(retries):
            try:
                os.replace(tmp, target)
                return target
            except PermissionError:
                if attempt == retries - 1:
                    raise
                time.sleep(0.2)
    except PermissionError as exc:
        raise FileBusyError(f"{target} is open in another program or read-only: close it "
                            f"(for example the PDF viewer) and run this again.") from exc
    except OSError as exc:
        raise FileBusyError(f"cannot write {target}: {exc.strerror or exc} (is the disk full?)") from exc
    finally:
        if os.path.exists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return target


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text with ``\\n`` line ends on every OS."""
    return write_bytes(path, text.encode("utf-8"))


def delete(path: str | os.PathLike, held_by: str = "another program", retries: int = 5) -> bool:
    """Remove a file if it is there (``False`` if it was not).

    Windows refuses to delete an open file (WinError 32): after a few short retries (virus
    scanners hold new files for a moment) that is a :class:`FileBusyError` naming the file and
    ``held_by``, what to close or stop.
    """
    target = Path(path)
    for attempt in range(retries):
        try:
            target.unlink()
            return True
        except FileNotFoundError:
            return False
        except PermissionError as exc:
            if attempt == retries - 1:
                raise FileBusyError(f"{target} cannot be deleted: it is still open in {held_by}. "
                                    "Close or stop that, then run this again.") from exc
            time.sleep(0.2)
    return False


# ---------------------------------------------------------------- reading what students hand in
SAVE_AS_UTF8 = ("save it again as plain text in UTF-8 (Notepad: File → Save as → Encoding: UTF-8; "
                "VS Code: click the encoding in the status bar → Save with Encoding → UTF-8)")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_NOT_TEXT = ((b"%PDF", "a PDF"), (b"PK\x03\x04", "a zip or Word/Office file"), (b"\xd0\xcf\x11\xe0", "an old Word/Office file"),
             (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"{\\rtf", "an RTF (WordPad) file"))


class UnreadableFile(ValueError):
    """A handed-in file that is not text; ``str()`` is one line: which file, what it is, what to do."""


def unicode_encoding(raw: bytes) -> str:
    """The Unicode encoding ``raw`` is in, by its BOM or (UTF-16 without a BOM) its zero bytes; else UTF-8."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return encoding
    if len(raw) >= 2 and raw[1] == 0 and raw[0] != 0:  # UTF-16 without its BOM: text starts with ASCII,
        return "utf-16-le"                              # which is followed (LE) or preceded (BE) by a zero byte
    if len(raw) >= 2 and raw[0] == 0 and raw[1] != 0:
        return "utf-16-be"
    return "utf-8"


def decode_text(raw: bytes, name: str = "the file", legacy: bool = True) -> str:
    """``raw`` as text with ``\\n`` line ends: a Unicode encoding (see :func:`unicode_encoding`), else
    (``legacy``) Windows-1252. :class:`UnreadableFile` for what is not text, or (not ``legacy``) not Unicode."""
    encoding = unicode_encoding(raw)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        if not legacy or encoding != "utf-8":
            raise UnreadableFile(f"{name} is not UTF-8 or UTF-16 text: {SAVE_AS_UTF8}") from None
        text = _windows_1252(raw, name)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _windows_1252(raw: bytes, name: str) -> str:
    kind = next((what for magic, what in _NOT_TEXT if raw.startswith(magic)), None)
    if kind is None and b"\0" in raw[:4096]:
        kind = "binary data, not text"
    if kind:
        raise UnreadableFile(f"{name} is {kind}: {SAVE_AS_UTF8}")
    # Windows' own decoder keeps the five bytes cp1252 leaves undefined (0x81, 0x8D…) as the same code points
    return raw.decode("cp1252", errors="labkit-as-latin1")


def _as_latin1(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start:exc.end].decode("latin-1"), exc.end


codecs.register_error("labkit-as-latin1", _as_latin1)


def read_text(path: str | os.PathLike, name: str | None = None) -> str:
    """A handed-in text file, whatever its encoding and line ends (see :func:`decode_text`).

    A missing file raises ``FileNotFoundError`` (the caller says what to write); anything else that stops
    the reading (not text, a folder, no permission) is an :class:`UnreadableFile` of one line.
    """
    target = Path(path)
    label = name or target.name
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableFile(f"{label} could not be read: {exc.strerror or exc}") from None
    return decode_text(raw, label)
