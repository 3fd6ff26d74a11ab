"""The kit's browser thread: every browser run of a process in one thread, one Chromium kept for all."""
from __future__ import annotations

import threading

import pytest

from labkit.browser import CheckoutBrowser, in_worker_thread


def test_runs_happen_in_one_thread_in_order_and_a_nested_run_does_not_wait_for_itself():
    names = [in_worker_thread(lambda: threading.current_thread().name) for _ in range(3)]
    assert names == ["labkit-browser"] * 3
    assert in_worker_thread(lambda: in_worker_thread(lambda: "inner")) == "inner"  # no deadlock


def test_an_error_comes_back_to_the_caller_and_the_thread_goes_on():
    with pytest.raises(ZeroDivisionError):
        in_worker_thread(lambda: 1 / 0)
    assert in_worker_thread(lambda: 42) == 42


@pytest.mark.browser
def test_one_chromium_serves_every_run_with_fresh_contexts_and_is_launched_again_when_gone(kit_lab, chromium):
    def visit() -> tuple[object, list[str]]:
        with CheckoutBrowser(kit_lab.checkout_url, executable_path=chromium) as b:
            page = b.new_page()
            page.goto(kit_lab.checkout_url)
            cookies_before = [c["name"] for c in page.context.cookies()]
            page.context.add_cookies([{"name": "left_behind", "value": "1", "url": kit_lab.checkout_url}])
            return b._browser, cookies_before

    first, cookies = in_worker_thread(visit)
    second, cookies_again = in_worker_thread(visit)
    assert first is second  # launched once
    assert "left_behind" not in cookies_again  # each page has its own context
    assert not in_worker_thread(lambda: first.contexts)  # CheckoutBrowser.close closed what it opened
    in_worker_thread(first.close)  # a crash, or closed by someone
    third, _ = in_worker_thread(visit)
    assert third is not first and third.is_connected()


@pytest.mark.browser
def test_a_checkout_browser_in_another_thread_launches_and_closes_its_own(kit_lab, chromium):
    with CheckoutBrowser(kit_lab.checkout_url, executable_path=chromium) as b:
        own = b._browser
        assert own.is_connected()
    assert not own.is_connected()


@pytest.mark.browser
def test_playwrights_browser_is_found_inside_the_thread_where_playwright_already_runs(kit_lab, chromium,
                                                                                     monkeypatch):
    """A second Playwright cannot start in the browser thread: finding Playwright's Chromium there asks the
    kept one (a laptop without a system Chromium finds the browser on every run, not only the first)."""
    from labkit import chromium as found

    monkeypatch.setattr(found, "_usable", lambda path: True)  # as if Playwright's Chromium were downloaded
    found.playwright_chromium.cache_clear()
    outside = found.playwright_chromium()
    assert outside

    def inside() -> str | None:
        with CheckoutBrowser(kit_lab.checkout_url, executable_path=chromium):
            found.playwright_chromium.cache_clear()  # as if never asked in this process
            return found.playwright_chromium()

    try:
        assert in_worker_thread(inside) == outside
    finally:
        found.playwright_chromium.cache_clear()


@pytest.mark.browser
def test_finding_the_browser_in_the_browser_thread_starts_the_playwright_it_keeps(chromium, monkeypatch):
    """The launch that follows needs the thread's Playwright anyway: asking a temporary one where Playwright's
    Chromium is would start a second driver first (half a second of every check)."""
    from labkit import browser_thread
    from labkit import chromium as found

    fresh = browser_thread.BrowserThread()
    monkeypatch.setattr(browser_thread, "THREAD", fresh)
    found.playwright_chromium.cache_clear()

    def ask() -> object:
        found.playwright_chromium()
        return fresh._playwright

    try:
        kept = fresh.submit(ask).result(60)
        assert kept is not None and fresh.submit(lambda: fresh.playwright_here()).result(60) is kept
    finally:
        fresh.close()
        found.playwright_chromium.cache_clear()


@pytest.mark.browser
def test_a_lab_started_for_the_browser_launches_the_kept_chromium_meanwhile(fake, tmp_path, chromium):
    """``Lab.start(browser=True)`` (notebooks 02 and 04, and the check): Chromium launches in the browser
    thread while the servers start; the first browser run finds it there."""
    from labkit import browser_thread
    from labkit.lab import Lab
    from labkit.settings import Settings, project_root

    browser_thread.THREAD.close()  # no Chromium kept: as in a new kernel
    settings = Settings(backend="fake", api_base=fake.url, root=project_root(), db_path=tmp_path / "kit.db",
                        out_dir=tmp_path / "out")
    with Lab.start(settings, checkout=False, webhooks=False, notebook=False, browser=True):
        kept = in_worker_thread(lambda: [b for b in browser_thread.THREAD._browsers.values() if b.is_connected()])
    assert kept  # launched by the job queued at the start, before this one
