"""Writing the kit's files safely: whole or not at all, and a clear word when a file is busy.

Every file the kit writes for a person (answers, reports, the PDF) goes through
:func:`write_text` / :func:`write_bytes`: the data goes to a temporary file beside the target,
which then replaces it in one step (``os.replace``), so a crash or a full disk never leaves half
a file. On Windows a file open in another program (a PDF viewer, Excel) cannot be replaced:
that becomes a :class:`FileBusyError` naming the file to close, not a traceback. The same
holds for :func:`delete` (a database an earlier kernel or server still holds open).
"""
from __future__ import annotations

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
