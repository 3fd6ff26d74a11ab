"""Importing a student's server the way ``flask run`` does, whatever editor saved it.

* :class:`StudentFinder`: every ``.py`` in the student's folder (``checkout_server.py``, a helper module
  it imports) is read with the kit's one reader (:func:`labkit.files.read_text`), so a file saved as
  UTF-16 ("Unicode" in old Notepad), Windows-1252 ("ANSI") or with CRLF line ends runs as it would
  have in the student's own editor; Python itself reads only UTF-8.
* :func:`no_blocking_run`: a module-level ``app.run()`` (with or without ``if __name__ == "__main__":``)
  returns at once while the file is imported, as under ``flask run``, instead of starting Flask's
  development server on the handout's port 5000 and never handing the app to the kit.
* :func:`read_templates_any_encoding`: the app's Jinja templates are read with the same reader (Flask
  reads them as UTF-8 only, and answers 500 for a template saved as Windows-1252).
* :class:`Utf8Text`: the student's static text files (``checkout.js``, ``.css``, ``.html``) are sent as
  UTF-8 whatever their encoding, so the browser reads them as the student's editor showed them.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

from labkit.files import UnreadableFile, decode_text, read_text

TEXT_TYPES = ("text/html", "text/css", "text/javascript", "application/javascript", "text/plain")


class TolerantLoader(importlib.machinery.SourceFileLoader):
    """A source loader that decodes with :func:`labkit.files.decode_text` (any common encoding)."""

    def source_to_code(self, data: bytes, path: Any, *, _optimize: int = -1) -> Any:  # type: ignore[override]
        text = decode_text(bytes(data), Path(str(path)).name)  # UnreadableFile: one line naming the file
        import linecache  # tracebacks quote the student's lines as decoded here (mtime None: kept as is)

        linecache.cache[str(path)] = (len(text), None, text.splitlines(True), str(path))
        return compile(text, path, "exec", dont_inherit=True, optimize=_optimize)

    def get_source(self, fullname: str) -> str:  # tracebacks show the student's lines in any encoding
        path = self.get_filename(fullname)
        return decode_text(self.get_data(path), Path(path).name)

    def get_code(self, fullname: str) -> Any:  # no bytecode cache: always the file as it is now
        return self.source_to_code(self.get_data(self.get_filename(fullname)), self.get_filename(fullname))


class StudentFinder(importlib.abc.MetaPathFinder):
    """Finds the plain ``.py`` modules of the student's ``folder`` (not packages, not the kit itself)
    and loads them with :class:`TolerantLoader`; everything else is imported as usual."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).resolve()
        self.names = {p.name for p in self.folder.glob("*.py")}  # exact case, as Python's own import

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or "." in fullname or fullname == "labkit" or f"{fullname}.py" not in self.names:
            return None
        candidate = self.folder / f"{fullname}.py"
        import importlib.util

        return importlib.util.spec_from_file_location(fullname, candidate,
                                                      loader=TolerantLoader(fullname, str(candidate)))


def install_finder(folder: Path) -> StudentFinder:
    finder = StudentFinder(folder)
    sys.meta_path.insert(0, finder)
    return finder


def load_student_module(path: Path) -> Any:
    """Import ``path`` (under its own name) with :class:`TolerantLoader`; its errors propagate."""
    import importlib.util

    loader = TolerantLoader(path.stem, str(path))
    spec = importlib.util.spec_from_file_location(path.stem, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def find_app(module: Any, path: Path) -> Any:
    """The module's WSGI app as ``flask run`` finds it: ``app`` (or ``application``), else the one Flask
    instance in the module, else a ``create_app()``/``make_app()`` factory. AttributeError of one line if none."""
    app = getattr(module, "app", None)
    if callable(app):
        return app
    try:
        from flask.cli import NoAppException, find_best_app
    except ImportError:
        raise AttributeError(f"{path.name} defines no Flask `app` at module level (app = Flask(__name__))") from None
    try:
        return find_best_app(module)
    except NoAppException as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise AttributeError(f"{path.name} defines no Flask `app` at module level (app = Flask(__name__)): "
                             f"{first}") from None


@contextlib.contextmanager
def no_blocking_run(calls: list[dict[str, Any]]) -> Iterator[None]:
    """While the student's file is imported, ``Flask.run(...)`` records its arguments in ``calls`` and
    returns, as it does under ``flask run``; afterwards Flask.run is Flask's own again."""
    try:
        from flask import Flask
    except ImportError:  # not a Flask app: nothing to neutralise
        yield
        return
    original = Flask.run

    def run(self: Any, host: Any = None, port: Any = None, debug: Any = None, **options: Any) -> None:
        calls.append({"host": host, "port": port, "debug": debug})

    Flask.run = run  # type: ignore[method-assign]
    try:
        yield
    finally:
        Flask.run = original  # type: ignore[method-assign]


def read_templates_any_encoding(app: Any) -> None:
    """Give the app (and its blueprints) template loaders that read any common encoding."""
    try:
        from jinja2 import FileSystemLoader
    except ImportError:
        return

    class AnyEncodingLoader(FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
            import os

            from jinja2 import TemplateNotFound
            from jinja2.loaders import split_template_path

            pieces = split_template_path(template)  # refuses "..", as Jinja does
            for folder in self.searchpath:
                filename = os.path.normpath(os.path.join(folder, *pieces))
                if os.path.isfile(filename):
                    mtime = os.path.getmtime(filename)
                    text = read_text(filename, f"templates/{template}")
                    return text, filename, lambda: os.path.isfile(filename) and os.path.getmtime(filename) == mtime
            raise TemplateNotFound(template)

    for owner in [app, *getattr(app, "blueprints", {}).values()]:
        loader = getattr(owner, "jinja_loader", None)
        if type(loader) is FileSystemLoader:
            owner.jinja_loader = AnyEncodingLoader(loader.searchpath, followlinks=loader.followlinks)


class Utf8Text:
    """WSGI middleware: a text response (page, script, stylesheet) that is not plain UTF-8 (a BOM, UTF-16,
    Windows-1252) is re-encoded as UTF-8 and labelled so; every other response passes untouched."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
            encoded = any(k.lower() == "content-encoding" for k, _ in headers)  # gzip: bytes are not text
            if encoded or ctype.split(";")[0].strip().lower() not in TEXT_TYPES:
                return start_response(status, headers, exc_info)
            captured.update(status=status, headers=headers, exc_info=exc_info, ctype=ctype)
            return lambda data: captured.setdefault("early", []).append(data)

        body_iter = self.app(environ, capture)
        if not captured:
            return body_iter
        try:
            body = b"".join([*captured.get("early", []), *body_iter])
        finally:
            getattr(body_iter, "close", lambda: None)()
        body = self._utf8(body)
        mime = captured["ctype"].split(";")[0].strip()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in ("content-length", "content-type")]
        headers += [("Content-Type", f"{mime}; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response(captured["status"], headers, captured["exc_info"])
        return [body]

    @staticmethod
    def _utf8(body: bytes) -> bytes:
        try:
            body.decode("utf-8")
            if not body.startswith(b"\xef\xbb\xbf") and b"\0" not in body[:200]:
                return body  # already plain UTF-8: untouched, line ends and all
        except UnicodeDecodeError:
            pass
        try:
            return decode_text(body).encode("utf-8")
        except UnreadableFile:
            return body
