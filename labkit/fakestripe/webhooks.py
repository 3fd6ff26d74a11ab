"""Signing and delivering events to registered webhook endpoints, with retries.

Deliveries run on a small pool of background threads fed by a time-ordered queue, so
an API call never waits for a webhook. A non-2xx answer or a timeout is retried on a
compressed schedule (seconds, not Stripe's hours) so a lab session sees the retry.
"""
from __future__ import annotations

import heapq
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger("labkit.fakestripe.webhooks")

DEFAULT_RETRY_SCHEDULE = (1.0, 3.0, 9.0, 27.0, 81.0)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``: ``t=…,v1=…``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    endpoint_id: str = field(compare=False)
    event_id: str = field(compare=False)
    attempt: int = field(compare=False, default=1)


class Deliverer:
    """Queue of pending deliveries, worked by ``workers`` daemon threads."""

    def __init__(
        self,
        lookup: Callable[[str], dict[str, Any] | None],
        on_result: Callable[[str, str, int, int | None, str], None],
        retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE,
        timeout: float = 5.0,
        workers: int = 4,
    ) -> None:
        self._lookup = lookup          # id -> endpoint or event object
        self._on_result = on_result    # (endpoint_id, event_id, attempt, status, outcome)
        self.retry_schedule = tuple(retry_schedule)
        self.timeout = timeout
        self._heap: list[_Job] = []
        self._cond = threading.Condition()
        self._seq = 0
        self._stopped = False
        self._inflight = 0
        self._busy: set[str] = set()  # endpoints with a delivery in flight
        self._threads = [threading.Thread(target=self._work, name=f"fakestripe-webhooks-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    def enqueue(self, endpoint_id: str, event_id: str, delay: float = 0.0, attempt: int = 1) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, _Job(time.monotonic() + delay, self._seq, endpoint_id, event_id, attempt))
            self._cond.notify()

    def idle(self) -> bool:
        with self._cond:
            return not self._heap and self._inflight == 0

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._inflight

    def due_now(self) -> int:
        """Deliveries due now or running (retries scheduled for later are not counted)."""
        with self._cond:
            soon = time.monotonic() + 0.05
            return sum(1 for j in self._heap if j.due <= soon) + self._inflight

    def wait_idle(self, timeout: float = 10.0, include_retries: bool = False) -> bool:
        """Wait until nothing is due now (or at all, with ``include_retries``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if (self.pending() if include_retries else self.due_now()) == 0:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=2)

    def _next_job(self) -> _Job | None:
        """The earliest due job whose endpoint has nothing in flight. One delivery at a time per
        endpoint keeps first attempts in the order the events happened (retries still land late,
        as with Stripe); different endpoints are served in parallel."""
        now = time.monotonic()
        passed_over, job = [], None
        while self._heap and self._heap[0].due <= now:
            candidate = heapq.heappop(self._heap)
            if candidate.endpoint_id in self._busy:
                passed_over.append(candidate)
            else:
                job = candidate
                break
        for other in passed_over:
            heapq.heappush(self._heap, other)
        return job

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    job = self._next_job()
                    if job is not None:
                        break
                    future = [j.due for j in self._heap if j.due > time.monotonic()]
                    wait = max(0.0, min(future) - time.monotonic()) if future else None
                    self._cond.wait(timeout=wait)  # woken by enqueue() or a finished delivery
                self._busy.add(job.endpoint_id)
                self._inflight += 1
            try:
                self._deliver(job)
            except Exception:  # a bug here must not kill the worker
                log.exception("webhook delivery crashed")
            finally:
                with self._cond:
                    self._inflight -= 1
                    self._busy.discard(job.endpoint_id)
                    self._cond.notify_all()

    def _deliver(self, job: _Job) -> None:
        endpoint = self._lookup(job.endpoint_id)
        event = self._lookup(job.event_id)
        if endpoint is None or event is None or endpoint.get("status") != "enabled":
            return
        body = json.dumps(event, indent=2).encode()
        req = urllib.request.Request(
            endpoint["url"], data=body, method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) labkit-fake",
                "Stripe-Signature": sign(body, endpoint["secret"]),
            },
        )
        status: int | None = None
        try:
            with _NO_PROXY.open(req, timeout=self.timeout) as resp:
                status = resp.status
                outcome = "delivered"
        except urllib.error.HTTPError as exc:
            status = exc.code
            outcome = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            outcome = "timed out" if "timed out" in str(reason) else f"failed: {reason}"
        ok = status is not None and 200 <= status < 300
        if not ok and job.attempt <= len(self.retry_schedule):
            delay = self.retry_schedule[job.attempt - 1]
            outcome += f"; retry {job.attempt} in {delay:g}s"
            self.enqueue(job.endpoint_id, job.event_id, delay=delay, attempt=job.attempt + 1)
        elif not ok:
            outcome += "; giving up"
        self._on_result(job.endpoint_id, job.event_id, job.attempt, status, outcome)


# Deliveries go to localhost: never through an HTTP proxy from the environment.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
