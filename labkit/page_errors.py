"""What a person would see in the browser's console while paying: the page's errors with file and line.

Playwright's own ``pageerror`` has no file or line for a syntax error (``Unexpected end of input``
and nothing else), which leaves a student with a broken ``checkout.js`` guessing; Chromium's
DevTools protocol (``Runtime.exceptionThrown``) has both, so the kit listens there. Console errors
keep the file they came from (a ``static/checkout.js`` that answered 404), and ``alert()`` or
``confirm()`` messages are kept and answered OK, as a person would.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def _where(url: str | None, line: int | None, column: int | None = None) -> str:
    """``static/checkout.js:6:1`` for a script of the page's own server; the address for any other."""
    if not url:
        return ""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "the page itself"
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        name = url.split("?")[0]
    if line is None or line < 0:
        return name
    return f"{name}:{line}" + (f":{column}" if column else "")


def _exception_line(details: dict[str, Any]) -> str:
    """A page's uncaught JavaScript error, as the browser's console shows it, with file:line first."""
    exc = details.get("exception") or {}
    message = (exc.get("description") or details.get("text") or "error").strip().splitlines()[0]
    frames = ((details.get("stackTrace") or {}).get("callFrames") or [])
    url = details.get("url") or (frames[0].get("url") if frames else "")
    line = details.get("lineNumber") if details.get("url") else (frames[0].get("lineNumber") if frames else None)
    col = details.get("columnNumber") if details.get("url") else (frames[0].get("columnNumber") if frames else None)
    where = _where(url, None if line is None else line + 1, None if col is None else col + 1)
    return f"page error: {where}: {message}" if where else f"page error: {message}"


def watch_page(context: Any, page: Any) -> None:
    """Collect what a person would see in the browser's console: uncaught errors with file:line (over
    Chromium's DevTools protocol; Playwright's own page errors have no line for a syntax error), console
    errors with the file they came from, and ``alert()``/``confirm()`` messages (answered OK, as a person would).

    ``page.labkit_errors`` and ``page.labkit_dialogs`` are the lists, in the order they happened.
    """
    errors: list[str] = []
    dialogs: list[str] = []
    page.labkit_errors = errors  # type: ignore[attr-defined]
    page.labkit_dialogs = dialogs  # type: ignore[attr-defined]

    def console(msg: Any) -> None:
        if msg.type != "error":
            return
        loc = msg.location or {}
        if str(loc.get("url", "")).endswith("/favicon.ico"):
            return
        where = _where(loc.get("url"), (loc.get("lineNumber") or 0) + 1 if loc.get("lineNumber") else None)
        errors.append(f"console error: {msg.text}" + (f" ({where})" if where else ""))

    def dialog(d: Any) -> None:
        dialogs.append(d.message)
        try:
            d.accept()
        except Exception:  # the page closed meanwhile
            pass

    page.on("console", console)
    page.on("dialog", dialog)
    try:
        cdp = context.new_cdp_session(page)
        page.labkit_cdp = cdp  # type: ignore[attr-defined]  (the browser driver clears the page's sites with it)
        cdp.on("Runtime.exceptionThrown", lambda e: errors.append(_exception_line(e.get("exceptionDetails") or {})))
        cdp.send("Runtime.enable")
    except Exception:  # not Chromium: Playwright's page errors, without a line for syntax errors
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
