"""The one thread of this process that drives Chromium, and the Chromium it keeps open between runs.

Playwright's sync API cannot run inside a running asyncio loop (a notebook kernel), and its objects
belong to the thread that made them. So every browser run of the kit (:func:`in_worker_thread`) runs
in one long-lived daemon thread, and that thread keeps one Chromium per executable open: the
screenshot, the accessibility audit, the five payments, the double click and the PCI evidence of a
check or a notebook then pay for one launch (about a second on a 2-core machine), not one each.

Each run still gets a browser context of its own, and each customer's page in it is taken back clean
(:mod:`labkit.tabs`), so what one run's pages did cannot change the next run's or the next customer's.
A Chromium that crashed or was closed is launched again on the next run; it is closed when the process
ends (and, if the process is killed, by Playwright's driver, which ends with it).
"""
from __future__ import annotations

import atexit
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

_run = threading.local()  # the worker thread's own "stop" event, set when its cell is interrupted


def stopping() -> bool:
    """Was the cell running this browser run interrupted? (Checked between steps.)"""
    stop = getattr(_run, "stop", None)
    return stop is not None and stop.is_set()


class BrowserThread:
    """A daemon thread running one function at a time, in order, with the Chromiums it launched."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._playwright: Any = None
        self._browsers: dict[str, Any] = {}

    def is_current(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, fn: Callable[[], Any]) -> Future:
        future: Future = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="labkit-browser", daemon=True)
                self._thread.start()
            self._jobs.put((fn, future))
        return future

    def _serve(self) -> None:
        while True:
            fn, future = self._jobs.get()
            if fn is None:
                future.set_result(None)
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the caller, whatever it is
                future.set_exception(exc)

    def playwright_here(self) -> Any:
        """The Playwright this thread keeps, started now if need be, when called in this thread (else None):
        asking it where its Chromium is costs no second driver (half a second) before the launch."""
        if not self.is_current():
            return None
        if self._playwright is None:
            from playwright.sync_api import sync_playwright  # heavy: only once a browser is needed

            self._playwright = sync_playwright().start()
        return self._playwright

    def chromium(self, path: str | None, args: list[str]) -> Any:
        """This thread's Chromium for ``path`` (launched now if there is none, or it is gone)."""
        assert self.is_current(), "only the browser thread launches the kept Chromium"
        key = path or ""
        browser = self._browsers.get(key)
        if browser is not None and browser.is_connected():
            return browser
        self._browsers[key] = self.playwright_here().chromium.launch(executable_path=path, args=args, headless=True)
        return self._browsers[key]

    def _close_all(self) -> None:
        for browser in self._browsers.values():
            try:
                browser.close()
            except Exception:  # already gone
                pass
        self._browsers.clear()
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None

    def close(self, timeout: float = 10.0) -> None:
        """Close the kept Chromiums and end the thread (at exit; a later run starts them again)."""
        if self._thread is None or not self._thread.is_alive():
            return
        self.submit(self._close_all).result(timeout)
        done: Future = Future()
        self._jobs.put((None, done))
        done.result(timeout)
        self._thread = None


THREAD = BrowserThread()


def _close_at_exit() -> None:
    try:
        THREAD.close(timeout=5.0)
    except Exception:  # a browser that does not answer: Playwright's driver ends with this process anyway
        pass


atexit.register(_close_at_exit)


def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in the browser thread, waited for; a run already in that thread runs at once.

    Interrupting (Ctrl-C, the notebook's stop button) returns at once; the run stops at its next step
    (see :func:`stopping`), and the runs after it wait for that.
    """
    if THREAD.is_current():
        return fn(*args, **kwargs)
    stop = threading.Event()

    def work() -> Any:
        _run.stop = stop
        try:
            return fn(*args, **kwargs)
        finally:
            _run.stop = None

    future = THREAD.submit(work)
    try:
        return future.result()
    except (KeyboardInterrupt, SystemExit):
        stop.set()
        future.cancel()
        raise
