"""The browser's pages, one customer at a time: each handed out as a new customer would find it.

A browser run pays several times on the student's page, each time as a new customer. A new browser
context per customer would say so most plainly, but on a 2-core machine it costs about a second of
CPU a payment (a context, a tab, a renderer and Playwright's set-up of each); reusing one tab costs
about half. So :class:`Tabs` keeps one context and, between customers, one tab, and takes it back
clean (:meth:`Tabs.close_page`):

* every listener a check added for that customer (:func:`listen`) is removed;
* the session storage of each site the page shows is cleared while it shows it (DevTools'
  ``DOMStorage.clear`` finds it through the page's frames), then the tab leaves for ``about:blank``,
  then every site the tab had open loses its cookies, local and session storage, IndexedDB, caches
  and service workers (``Storage.clearDataForOrigin``; Chromium 156, seen here, clears a tab's
  session storage there too), and the context's cookies go (those set for sites the page only sent
  requests to);
* the windows it opened are closed;
* a tab that went through a site its last page no longer shows, other than Stripe's (whose frames
  the shop's code cannot script), is closed instead, in case a Chromium keeps that site's session
  storage; so is one that crashed or could not be left: the next customer gets a new tab.

The HTTP cache stays (a file the server sent is the same file).
"""
from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import urlsplit

STRIPE_HOSTS = re.compile(r"^https://([a-z0-9-]+\.)*(stripe\.com|stripe\.network)(:\d+)?$")
LEAVE_MS = 5000  # a page that takes longer to leave (an unload handler that never ends) is closed instead


def listen(page: Any, event: str, fn: Callable[..., Any]) -> None:
    """``page.on(event, fn)`` for the current customer only: removed when the page is taken back."""
    page.on(event, fn)
    listeners = getattr(page, "labkit_listeners", None)
    if listeners is not None:
        listeners.append((event, fn))


def origin(url: str) -> str:
    """``scheme://host:port`` of an http(s) URL, else "" (about:blank, data:)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def _frames(page: Any) -> list[Any]:
    try:
        return list(page.frames)
    except Exception:  # the page crashed
        return []


class Tabs:
    """One browser context's pages, one customer at a time (several at once get a tab each)."""

    def __init__(self, browser: Any, viewport: tuple[int, int], timeout_ms: int) -> None:
        self._browser = browser
        self._viewport = viewport
        self._timeout_ms = timeout_ms
        self._context: Any = None
        self._spare: Any = None  # a tab taken back clean, for the next customer

    def new_page(self) -> Any:
        page, self._spare = self._spare, None
        if page is None or page.is_closed():
            page = self._new_tab()
        for kept in (page.labkit_errors, page.labkit_dialogs, page.labkit_origins, page.labkit_popups,
                     page.labkit_stripe_origins, page.labkit_tops):
            kept.clear()
        page.labkit_dialogs_before = 0
        return page

    def _new_tab(self) -> Any:
        from labkit.page_errors import watch_page

        if self._context is None:
            self._context = self._browser.new_context(
                viewport={"width": self._viewport[0], "height": self._viewport[1]}, device_scale_factor=1,
                locale="en-US")
        page = self._context.new_page()
        page.set_default_timeout(self._timeout_ms)
        watch_page(self._context, page)  # page.labkit_errors (console and page errors, file:line), page.labkit_dialogs
        origins: set[str] = set()
        popups: list[Any] = []
        stripe: set[str] = set()
        tops: set[str] = set()  # the sites of its pages (a frame's name alone cannot make one of them Stripe's)
        page.labkit_origins, page.labkit_popups, page.labkit_listeners = origins, popups, []
        page.labkit_stripe_origins, page.labkit_tops = stripe, tops

        def navigated(frame: Any) -> None:
            site = origin(frame.url)
            origins.add(site)
            if frame.parent_frame is None:  # a page of its own: Stripe's only by its address
                tops.add(site)
            if frame.name.startswith("__privateStripe"):  # Stripe.js's frames
                stripe.add(site)
        page.on("framenavigated", navigated)
        page.on("popup", lambda popup: popups.append(popup))
        return page

    def close_page(self, page: Any) -> None:
        """Take a customer's page back clean (see the module's notes), keeping its tab when it can."""
        for event, fn in getattr(page, "labkit_listeners", ()):
            try:
                page.remove_listener(event, fn)
            except Exception:  # the page is gone
                pass
        getattr(page, "labkit_listeners", []).clear()
        frames = _frames(page)
        showing = {origin(f.url) for f in frames} - {""}
        visited = (set(getattr(page, "labkit_origins", ())) | showing) - {""}
        named = set(getattr(page, "labkit_stripe_origins", ())) - set(getattr(page, "labkit_tops", ()))
        left = {site for site in visited - showing - named if not STRIPE_HOSTS.search(site)}  # the shop's code ran there
        keep = self._spare is None and not left and bool(frames) and not page.is_closed()
        cdp = getattr(page, "labkit_cdp", None)
        for site in sorted(showing) if keep else ():
            try:  # while a frame of the site is there (DevTools finds the storage through it)
                cdp.send("DOMStorage.clear", {"storageId": {"securityOrigin": site, "isLocalStorage": False}})
            except Exception:  # no DevTools session, or the frame went away: the session storage stays, so the tab goes
                keep = False
        for window in getattr(page, "labkit_popups", ()):
            _close(window)
        if keep:
            try:
                page.goto("about:blank", timeout=LEAVE_MS)  # first: what the page writes as it is left goes too
            except Exception:  # a page that would not be left
                keep = False
        self._forget(page, visited)  # through the page's DevTools session: before it closes
        if keep:
            self._spare = page
        else:
            _close(page)

    def _forget(self, page: Any, origins: set[str]) -> None:
        cdp = getattr(page, "labkit_cdp", None)
        for site in sorted(origins):
            try:
                cdp.send("Storage.clearDataForOrigin", {"origin": site, "storageTypes": "all"})
            except Exception:  # no DevTools session (not Chromium), or the page closed: the cookies still go
                break
        try:
            self._context.clear_cookies()  # also those set for sites the page only sent requests to
        except Exception:  # the browser is gone
            pass

    def close(self) -> None:
        if self._context is not None:
            try:
                self._context.close()
            except Exception:  # the browser is gone already
                pass
        self._context = self._spare = None


def _close(page: Any) -> None:
    try:
        page.close()
    except Exception:  # closed already
        pass
