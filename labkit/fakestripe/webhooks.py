"""Delivering events to registered webhook endpoints, signed, with retries.

Each endpoint has its own queue and its own delivery thread (Stripe allows 16 endpoints
per account, and so does the fake), so an endpoint that never answers delays only its own
events. Within one endpoint, first attempts go out one at a time in the order the events
happened, over one kept-alive connection (:mod:`labkit.loopback_http`); a failed attempt is retried later on a
compressed schedule. A delivery counts only on a 2xx answer: redirects are not followed
and a 3xx counts as a failure, as with Stripe.

Stripe retries for up to three days with exponential backoff in live mode (three times
over a few hours in a sandbox); the fake's schedule is seconds so a lab session sees it.
"""
from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from labkit.loopback_http import CALL_ERRORS, KeptAlive
from labkit.webhook_signing import signature_header

log = logging.getLogger("labkit.fakestripe.webhooks")

DEFAULT_RETRY_SCHEDULE = (1.0, 3.0, 9.0, 27.0, 81.0)
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks) labkit-fake"


@dataclass
class Job:
    endpoint_id: str
    event_id: str
    attempt: int = 1
    job_id: int | None = None  # its row in the --db file, if any


# (job, status, outcome, retry delay or None) -> record it; called after every attempt
ResultHook = Callable[[Job, "int | None", str, "float | None"], None]


class Deliverer:
    """Per-endpoint queues, one delivery thread per endpoint with work, one timer for retries."""

    def __init__(self, lookup: Callable[[str], dict[str, Any] | None], on_result: ResultHook,
                 retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE, timeout: float = 5.0) -> None:
        self._lookup = lookup          # id -> endpoint or event object
        self._on_result = on_result
        self.retry_schedule = tuple(retry_schedule)
        self.timeout = timeout
        self._cond = threading.Condition()
        self._queues: dict[str, deque[Job]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._retries: list[tuple[float, int, Job]] = []
        self._seq = 0
        self._inflight = 0
        self._stopped = False
        self._timer = threading.Thread(target=self._time_retries, name="fakestripe-retries", daemon=True)
        self._timer.start()

    # -- queueing -------------------------------------------------------------
    def enqueue(self, endpoint_id: str, event_id: str, delay: float = 0.0, attempt: int = 1,
                job_id: int | None = None) -> None:
        self.put(Job(endpoint_id, event_id, attempt, job_id), delay)

    def put(self, job: Job, delay: float = 0.0) -> None:
        with self._cond:
            if self._stopped:
                return
            if delay > 0:
                self._seq += 1
                heapq.heappush(self._retries, (time.monotonic() + delay, self._seq, job))
                self._cond.notify_all()
            else:
                self._ready(job)

    def _ready(self, job: Job) -> None:  # under the lock
        self._queues.setdefault(job.endpoint_id, deque()).append(job)
        if job.endpoint_id not in self._threads:
            thread = threading.Thread(target=self._work, args=(job.endpoint_id,), daemon=True,
                                      name=f"fakestripe-webhooks-{job.endpoint_id[-6:]}")
            self._threads[job.endpoint_id] = thread
            thread.start()

    def _time_retries(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                while self._retries and self._retries[0][0] <= now:
                    self._ready(heapq.heappop(self._retries)[2])
                wait = self._retries[0][0] - now if self._retries else None
                self._cond.wait(timeout=wait)

    # -- what is left ---------------------------------------------------------
    def pending(self) -> int:
        with self._cond:
            return sum(map(len, self._queues.values())) + self._inflight + len(self._retries)

    def due_now(self) -> int:
        """Deliveries due now or running (retries scheduled for later are not counted)."""
        with self._cond:
            soon = time.monotonic() + 0.05
            return (sum(map(len, self._queues.values())) + self._inflight
                    + sum(1 for due, _, _ in self._retries if due <= soon))

    def idle(self) -> bool:
        return self.pending() == 0

    def wait_idle(self, timeout: float = 10.0, include_retries: bool = False) -> bool:
        """Wait until nothing is due now (or at all, with ``include_retries``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if (self.pending() if include_retries else self.due_now()) == 0:
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            threads = list(self._threads.values())
            self._cond.notify_all()
        self._timer.join(timeout=2)
        for t in threads:
            t.join(timeout=2)

    # -- delivering -----------------------------------------------------------
    def _work(self, endpoint_id: str) -> None:
        conn = KeptAlive(self.timeout)
        try:
            while True:
                with self._cond:
                    queue = self._queues.get(endpoint_id)
                    if self._stopped or not queue:
                        self._queues.pop(endpoint_id, None)
                        self._threads.pop(endpoint_id, None)
                        return
                    job = queue.popleft()
                    self._inflight += 1
                try:
                    self._deliver(job, conn)
                except Exception:  # a bug here must not stop the endpoint's deliveries
                    log.exception("webhook delivery crashed")
                finally:
                    with self._cond:
                        self._inflight -= 1
        finally:
            conn.close()

    def _deliver(self, job: Job, conn: KeptAlive) -> None:
        endpoint = self._lookup(job.endpoint_id)
        event = self._lookup(job.event_id)
        if endpoint is None or event is None or endpoint.get("status") != "enabled":
            self._on_result(job, None, "skipped: endpoint deleted or disabled", None)
            return
        body = json.dumps(event, indent=2).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "Stripe-Signature": signature_header(body, endpoint["secret"])}
        status: int | None = None
        try:
            status = conn.request("POST", endpoint["url"], body, headers, limit=64 * 1024).status
            outcome = "delivered" if 200 <= status < 300 else f"HTTP {status}"
            if 300 <= status < 400:
                outcome += " (a redirect counts as a failure)"
        except CALL_ERRORS as exc:
            outcome = "timed out" if isinstance(exc, TimeoutError) or "timed out" in str(exc) else f"failed: {exc}"
        ok = status is not None and 200 <= status < 300
        delay = None
        if not ok and job.attempt <= len(self.retry_schedule):
            delay = self.retry_schedule[job.attempt - 1]
            outcome += f"; retry {job.attempt} in {delay:g}s"
        elif not ok:
            outcome += "; giving up"
        self._on_result(job, status, outcome, delay)
        if delay is not None:
            self.put(Job(job.endpoint_id, job.event_id, job.attempt + 1, job.job_id), delay)
