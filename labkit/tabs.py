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
  and Checkout pages the shop's code cannot script), is closed instead, in case a Chromium keeps that
  site's session storage; so is one that crashed or could not be left: the next customer gets a new tab
  (and, on a 2-core machine, costs about 0.4 s more: a new renderer process).

The HTTP cache stays (a file the server sent is the same file).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from labkit.pci.page import origin_of

STRIPE_HOSTS = re.compile(r"^https://([a-z0-9-]+\.)*(stripe\.com|stripe\.network)(:\d+)?$")
CHECKOUT_PATH = re.compile(r"/c/(pay|embedded)/cs_")  # Stripe Checkout's page (real, and the offline fake's)
LEAVE_MS = 5000  # a page that takes longer to leave (an unload handler that never ends) is closed instead


@dataclass
class _Visit:
    """What one customer's page did that must be undone when it is taken back (``page.labkit_visit``)."""
    sites: set[str] = field(default_factory=set)      # every site a frame of the tab showed
    tops: set[str] = field(default_factory=set)       # the sites of its pages (never Stripe's by a frame's name)
    named: set[str] = field(default_factory=set)      # the sites of frames Stripe.js named ``__privateStripe…``
    checkout: set[str] = field(default_factory=set)   # the sites that showed Stripe Checkout's page
    shop: str = ""                                    # the site of the customer's first page
    popups: list[Any] = field(default_factory=list)
    listeners: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)

    def seen(self, frame: Any) -> None:
        site = _site(frame.url)
        self.sites.add(site)
        if frame.parent_frame is None:
            self.tops.add(site)
            self.shop = self.shop or site
            if site and CHECKOUT_PATH.match(frame.url[len(site):]):
                self.checkout.add(site)
        if frame.name.startswith("__privateStripe"):
            self.named.add(site)

    def stripes(self, site: str) -> bool:
        """Is ``site`` Stripe's (its pages cannot be scripted by the shop's code)? Stripe's hosts; the site of
        frames Stripe.js named, never a page's; the site of a Checkout page the shop sent the customer to
        (offline, the fake Stripe's), never the shop's own."""
        return (bool(STRIPE_HOSTS.search(site)) or (site in self.named and site not in self.tops)
                or (site in self.checkout and site != self.shop))


def listen(page: Any, event: str, fn: Callable[..., Any]) -> None:
    """``page.on(event, fn)`` for the current customer only: removed when the page is taken back."""
    page.on(event, fn)
    visit = getattr(page, "labkit_visit", None)
    if visit is not None:
        visit.listeners.append((event, fn))


def _site(url: str) -> str:
    """The origin of an http(s) URL, else "" (about:blank, data:, Chromium's error page)."""
    return origin_of(url) if url.startswith(("http://", "https://")) else ""


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
        page.labkit_errors.clear()
        page.labkit_dialogs.clear()
        page.labkit_dialogs_before = 0
        page.labkit_visit = _Visit()
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
        page.labkit_visit = _Visit()
        page.on("framenavigated", lambda frame: page.labkit_visit.seen(frame))  # the visit of the page's customer
        page.on("popup", lambda popup: page.labkit_visit.popups.append(popup))
        return page

    def close_page(self, page: Any) -> None:
        """Take a customer's page back clean (see the module's notes), keeping its tab when it can."""
        visit = getattr(page, "labkit_visit", None) or _Visit()
        for event, fn in visit.listeners:
            try:
                page.remove_listener(event, fn)
            except Exception:  # the page is gone
                pass
        frames = _frames(page)
        showing = {_site(f.url) for f in frames} - {""}
        sites = (visit.sites | showing) - {""}
        left = {site for site in sites - showing if not visit.stripes(site)}  # the shop's code ran there
        keep = self._spare is None and not left and bool(frames) and not page.is_closed()
        cdp = getattr(page, "labkit_cdp", None)
        for site in sorted(showing) if keep else ():
            try:  # while a frame of the site is there (DevTools finds the storage through it)
                cdp.send("DOMStorage.clear", {"storageId": {"securityOrigin": site, "isLocalStorage": False}})
            except Exception:  # no DevTools session, or the frame went away: the session storage stays, so the tab goes
                keep = False
        for window in visit.popups:
            _close(window)
        if keep:
            try:
                page.goto("about:blank", timeout=LEAVE_MS)  # first: what the page writes as it is left goes too
            except Exception:  # a page that would not be left
                keep = False
        self._forget(cdp, sites)  # through the page's DevTools session: before it closes
        if keep:
            self._spare = page
        else:
            _close(page)

    def _forget(self, cdp: Any, sites: set[str]) -> None:
        for site in sorted(sites) if cdp is not None else ():
            try:
                cdp.send("Storage.clearDataForOrigin", {"origin": site, "storageTypes": "all"})
            except Exception:  # the page crashed: the cookies still go
                pass
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
