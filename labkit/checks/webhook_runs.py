"""What the Part C checks drive: copies of the student's handler, and real events to send them.

Each :class:`HandlerCopy` is the student's ``webhook_handler.py`` in its own process, on its own
port, with its own database and a signing secret the kit chose, so the kit can play Stripe: it
signs real events (made through the API, read back with ``events.list``) with the kit's one signer
and posts them through :mod:`labkit.webhooks.probe`. No copy is registered with Stripe, so nothing
but the kit's own requests reaches it. A request that times out leaves the process suspect (a hung
route holds a worker), so the copy is restarted before the next request: one hung route never
starves the probes after it.
"""
from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe

from labkit.checks.items import exception_line
from labkit.student.runner import StudentServer
from labkit.webhook_signing import signature_header
from labkit.webhooks import probe
from labkit.webhooks.trigger import trigger

WEBHOOK_FILE = "webhook_handler.py"
COPY_START_TIMEOUT = 30.0  # seconds
@dataclass
class HandlerCopy:
    """The student's handler in a process of its own; the kit holds its secret and plays Stripe."""

    lab: Any
    label: str
    db: Path
    secret: str = field(default_factory=lambda: "whsec_" + secrets.token_hex(24))
    server: StudentServer | None = None
    restarts: list[str] = field(default_factory=list)  # why each restart happened
    logs: list[str] = field(default_factory=list)      # the logs of the processes already stopped
    start_error: str = ""

    def start(self) -> bool:
        """Start (or start again, same database and secret); False with ``start_error`` when it does not."""
        self.server = self.lab.server(WEBHOOK_FILE, {"ORDERS_DB": str(self.db), "STRIPE_WEBHOOK_SECRET": self.secret},
                                      name=f"{WEBHOOK_FILE} ({self.label})")
        # The lab's own copy of this file has started already, so it imports: a slow start here is a busy
        # machine (grading runs students side by side), not the student's code.
        self.server.start_timeout = max(self.server.start_timeout, COPY_START_TIMEOUT)
        try:
            self.server.start()
        except Exception as exc:  # StudentServerError: one line saying why
            self.start_error = str(exc)
            self.server = None
            return False
        return True

    @property
    def url(self) -> str:
        return self.server.url if self.server else "http://127.0.0.1:9"

    def restart(self, why: str) -> bool:
        self.stop()
        self.restarts.append(why)
        return self.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.logs.append(self.server.log_text())
            self.server = None

    def log_text(self) -> str:
        return "\n".join(self.logs + ([self.server.log_text()] if self.server else []))

    def send(self, event: Any, *, secret: str | None = None, timestamp: int | None = None,
             header: str | None | bool = True, what: str = "") -> probe.Answer:
        """POST ``event`` as Stripe would: its bytes signed with this copy's secret now (or with
        ``secret``, at ``timestamp``); ``header``: False for none, a string for that header."""
        body = event if isinstance(event, bytes) else probe.stripe_body(event)
        if header is True:
            header = signature_header(body, self.secret if secret is None else secret, timestamp)
        elif header is False:
            header = None
        answer = probe.post_event(self.url + "/webhook", body, header)
        if answer.timed_out:
            self.restart(f"{what or 'a request'} {answer.text}")
        return answer

    def send_all(self, events: list[dict[str, Any]]) -> list[tuple[probe.Answer, str]]:
        """Send ``events`` one by one, each signed now: ``(answer, what it says)`` each (a 5xx with
        the exception its log shows). After a first time-out the rest go at once, so a route that
        hangs on every one of them costs two time limits, not one each."""
        out: list[tuple[probe.Answer, str]] = []
        for i, event in enumerate(events):
            answer = self.send(event, what=event["type"])
            out.append((answer, self.why_5xx(answer)))
            if answer.timed_out:
                return out + self._at_once(events[i + 1:])
        return out

    def _at_once(self, events: list[dict[str, Any]]) -> list[tuple[probe.Answer, str]]:
        if not events:
            return []
        url = self.url + "/webhook"

        def post(event: dict[str, Any]) -> probe.Answer:
            body = probe.stripe_body(event)
            return probe.post_event(url, body, signature_header(body, self.secret))

        with ThreadPoolExecutor(len(events)) as pool:
            answers = list(pool.map(post, events))
        crashed = sum(a.server_error for a in answers)
        out = [(a, self.why_5xx(a) if crashed == 1 else a.text) for a in answers]
        late = [e["type"] for e, a in zip(events, answers) if a.timed_out]
        if late:
            self.restart(f"{', '.join(late)} timed out after {answers[0].timeout:g} s")
        return out

    def why_5xx(self, answer: probe.Answer) -> str:
        """``HTTP 500 (KeyError: 'metadata')``: the status with the exception the handler's log shows."""
        if not answer.server_error:
            return answer.text
        line = ""
        for _ in range(10):  # the log is read by a thread: give it a moment to catch up
            line = exception_line(self.log_text())
            if line:
                break
            time.sleep(0.05)
        return f"{answer.text} ({line})" if line else answer.text

    def orders(self, ready: Any = None, limit: float = 0.0) -> tuple[dict[str, list[dict[str, Any]]] | None, str]:
        found, why, _ = probe.wait_for_orders(self.url, ready or (lambda o: True), limit)
        if "timed out" in why:
            self.restart(why)
        return found, why


# ---------------------------------------------------------------------- real events from Stripe
def event_for(client: Any, type_: str, object_id: str, wait: float = 10.0) -> dict[str, Any] | None:
    """The event of ``type_`` about ``object_id`` (a PaymentIntent, or what names it), as a dict."""
    end = time.monotonic() + wait
    while True:
        for event in client.v1.events.list(params={"type": type_, "limit": 30}).data:
            data = event.to_dict()
            obj = data["data"]["object"]
            if object_id in (obj.get("id"), obj.get("payment_intent")):
                return data
        if time.monotonic() >= end:
            return None
        time.sleep(0.3)


def paid_event(client: Any, product_id: str = "prod_001") -> dict[str, Any] | None:
    """A real payment with the Visa test card; its ``payment_intent.succeeded``."""
    done = trigger(client, "payment_intent.succeeded", product_id=product_id)
    return event_for(client, "payment_intent.succeeded", done["payment_intent"])


def unpaid_events(client: Any) -> dict[str, dict[str, Any] | None]:
    """Events that must not make a paid order: ``payment_intent.created`` (a PaymentIntent never
    confirmed), ``payment_intent.processing`` and ``payment_intent.payment_failed`` (a decline)."""
    params = {"amount": 1800, "currency": "usd", "payment_method_types": ["card"],
              "metadata": {"product_id": "prod_001", "product_name": "Safety Hard Hat"}}
    created = client.v1.payment_intents.create(params=params)
    failed = trigger(client, "payment_intent.payment_failed")
    # Stripe sends processing for payment methods that settle later; the fake's cards never do, so
    # the event is built here around a real PaymentIntent, as Stripe would send it.
    waiting = client.v1.payment_intents.create(params=params).to_dict()
    waiting.update(status="processing", amount_received=0)
    return {"payment_intent.created": event_for(client, "payment_intent.created", created.id),
            "payment_intent.processing": probe.made_up_event("payment_intent.processing", waiting, "labkitreal"),
            "payment_intent.payment_failed": event_for(client, "payment_intent.payment_failed",
                                                       failed.get("payment_intent") or "")}


def later_events(client: Any) -> list[dict[str, Any]]:
    """A dispute and a refund, each with the ``payment_intent.succeeded`` that came before it."""
    out: list[dict[str, Any]] = []
    for type_ in ("charge.dispute.created", "charge.refunded"):
        try:
            done = trigger(client, type_)
        except stripe.StripeError:
            continue
        pi = done.get("payment_intent") or ""
        for t in ("payment_intent.succeeded", type_):
            event = event_for(client, t, pi)
            if event is not None:
                out.append(event)
    return out


def pi_of(event: dict[str, Any]) -> str:
    obj = event["data"]["object"]
    return str(obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent"))
