"""Drills for the notebook: attack the webhook handler the way the real world will.

Each function sends real HTTP requests at the student's running handler (``webhook_handler.py``)
and returns plain rows (for a pandas table): forged and replayed signatures, a burst of
duplicates, events delivered out of order, and the handler's process killed while payments
go on. What the handler did is read only through its ``GET /orders``, as the handout defines
it, and what Stripe saw through the fake Stripe's delivery log.
The handler's secret is used only to play Stripe's part (a genuine or captured delivery);
it never appears in what these functions return.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import stripe

from labkit.files import delete
from labkit.webhook_signing import signature_header
from labkit.webhooks import probe
from labkit.webhooks.trigger import trigger

ATTACKER_SECRET = "whsec_fake0attacker0guessed0this0secret"  # a made-up secret


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``body`` (``t=…,v1=…``)."""
    return signature_header(body, secret, timestamp)


def post(url: str, body: bytes, signature: str | None, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to ``url``; ``(status, JSON answer)`` whatever the status (0 and the reason
    when there was no answer), through the kit's one probe (:mod:`labkit.webhooks.probe`)."""
    answer = probe.post_event(url, body, signature, timeout=timeout)
    if answer.status is None:
        return 0, {"error": answer.text}
    return answer.status, answer.body if isinstance(answer.body, dict) else {}


def body_of(event: Any) -> bytes:
    """The JSON body of an event (a ``stripe.Event`` or a dict), as Stripe would send it."""
    return probe.stripe_body(event)


@dataclass
class Target:
    """A running handler: its base URL, its secret (to play Stripe), its registered endpoint."""

    url: str
    secret: str | None = None
    endpoint_id: str | None = None

    @property
    def webhook_url(self) -> str:
        return self.url + "/webhook"

    @classmethod
    def of(cls, lab) -> "Target":
        """The student's handler a :class:`labkit.lab.Lab` started (its secret plays Stripe's part)."""
        if not lab.webhook_url:
            raise RuntimeError("this lab runs no webhook handler: start it with Lab.start(webhooks=True)")
        return cls(lab.webhook_url, lab.webhook_secret, lab.endpoint_id)

    def deliver(self, event: Any, *, timestamp: int | None = None) -> tuple[int, dict[str, Any]]:
        """Deliver ``event`` signed with the real secret, as Stripe would."""
        body = body_of(event)
        return post(self.webhook_url, body, sign(body, self.secret, timestamp))

    def orders(self) -> dict[str, list[dict[str, Any]]]:
        """``{payment_intent: [orders naming it]}`` from the handler's ``GET /orders``."""
        found, why = probe.orders_by_pi(self.url)
        if found is None:
            raise RuntimeError(why)
        return found


def _row(attack: str, status: int, answer: dict[str, Any]) -> dict[str, Any]:
    error = answer.get("error")
    if isinstance(error, dict):
        error = error.get("message") or error.get("code")
    return {"attack": attack, "HTTP status": status, "refused": not 200 <= status < 300,
            "answer": str(error or answer.get("outcome") or ("received" if answer.get("received") else ""))[:80]}


def signature_attacks(target: Target, event: Any) -> list[dict[str, Any]]:
    """One genuine delivery of ``event`` and five ways to fake or abuse it; a row each."""
    body = body_of(event)
    tampered = json.loads(body)
    obj = tampered["data"]["object"]
    obj["amount"] = obj.get("amount", 0) * 100  # the attacker wants a bigger order
    tampered_body = json.dumps(tampered, indent=2).encode()
    old = int(time.time()) - 10 * 60
    url = target.webhook_url
    tries = [
        ("no signature (the handout's fallback when no secret is set)", body, None),
        ("malformed Stripe-Signature header", body, "v1=deadbeef"),
        ("forged: signed with a guessed secret", body, sign(body, ATTACKER_SECRET)),
        ("tampered: amount changed after Stripe signed it", tampered_body,
         sign(body, target.secret)),
        ("replayed: a genuine delivery captured 10 minutes ago", body, sign(body, target.secret, old)),
        ("genuine delivery, signed with the endpoint's secret", body, sign(body, target.secret)),
        ("the same genuine delivery again (a retry)", body, sign(body, target.secret)),
    ]
    return [_row(name, *post(url, b, sig)) for name, b, sig in tries]


def duplicate_burst(target: Target, event: Any, copies: int = 50, threads: int = 10) -> dict[str, int]:
    """``copies`` genuine deliveries of one event at once, from ``threads`` threads: outcomes counted."""
    body = body_of(event)
    sig = sign(body, target.secret)
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(lambda _: post(target.webhook_url, body, sig), range(copies)))
    return dict(sorted(Counter(f"HTTP {status}" + (f" {answer['outcome']}" if answer.get("outcome") else "")
                               for status, answer in answers).items()))


def deliver_all(target: Target, events: list[Any]) -> list[dict[str, Any]]:
    """Deliver ``events`` in the order given (signed with the real secret); a row each."""
    rows = []
    for event in events:
        e = event.to_dict() if hasattr(event, "to_dict") else event
        status, answer = target.deliver(e)
        rows.append({"event type": e["type"], "HTTP status": status, "outcome": answer.get("outcome") or ""})
    return rows


@contextlib.contextmanager
def held_back(client: stripe.StripeClient, target: Target) -> Iterator[None]:
    """Pause deliveries to the handler's endpoint while the block runs (events still happen)."""
    if not target.endpoint_id:
        raise RuntimeError("the handler has no endpoint registered through the API (Stripe test mode with "
                           "`stripe listen`?): this drill needs the offline fake Stripe.")
    client.v1.webhook_endpoints.update(target.endpoint_id, params={"disabled": True})
    try:
        yield
    finally:
        client.v1.webhook_endpoints.update(target.endpoint_id, params={"disabled": False})


def events_for(client: stripe.StripeClient, payment_intent: str, types: tuple[str, ...] | None = None,
               limit: int = 100) -> list[stripe.Event]:
    """The events about one PaymentIntent, newest first (as the API lists them)."""
    found = []
    for event in client.v1.events.list(params={"limit": limit}).data:
        obj = event.to_dict()["data"]["object"]
        if payment_intent in (obj.get("id"), obj.get("payment_intent")) and (types is None or event.type in types):
            found.append(event)
    return found


def declined_then_paid_then_refunded(client: stripe.StripeClient, product: str = "Safety Glasses",
                                     amount: int = 450) -> str:
    """One PaymentIntent with a history: a declined card, then a good card, then a full refund."""
    pi = client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method_types": ["card"],
        "metadata": {"product_name": product}})
    try:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa_chargeDeclined"})
    except stripe.CardError:
        pass
    client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    client.v1.refunds.create(params={"payment_intent": pi.id})
    return pi.id


def kill_restart_drill(lab, payments: int = 6, timeout: float = 45.0) -> dict[str, Any]:
    """Kill the handler's process (no clean-up at all), pay ``payments`` times while it is down,
    restart it (same port, secret and database), and let the fake Stripe's retries land.
    Every payment must end as exactly one paid order. What happened, as a dict (no ids, no secrets)."""
    _is_paid = probe.is_paid

    fake = getattr(lab.backend, "fake", None)
    if fake is None:
        raise RuntimeError("the drill needs the offline fake Stripe (it delivers to localhost and retries)")
    server = lab.webhooks
    before = len(fake.deliveries())
    server.kill()
    paid = [trigger(lab.client, "payment_intent.succeeded", product_id="prod_002")["payment_intent"]
            for _ in range(payments)]
    fake.wait_for_webhooks(timeout)  # every first attempt made (and failed): the retries come later
    failed_first = sum(1 for d in fake.deliveries()[before:]
                       if d.get("attempt") == 1 and not 200 <= (d.get("status") or 0) < 300)
    server.start()  # back before the first retries (1 s after each failure), or in time for the next ones
    end = time.monotonic() + timeout
    orders: dict[str, list[dict[str, Any]]] = {}
    while time.monotonic() < end:
        orders = Target.of(lab).orders()
        if all(any(_is_paid(o) for o in orders.get(pi, [])) for pi in paid):
            break
        time.sleep(0.1)
    return {
        "payments while the handler was down": payments,
        "first delivery attempts that failed (handler down)": failed_first,
        "paid orders after the restart": sum(1 for pi in paid if any(_is_paid(o) for o in orders.get(pi, []))),
        "payments with more than one order": sum(1 for pi in paid if len(orders.get(pi, [])) > 1),
    }


def stripe_deliveries(lab) -> list[dict[str, Any]]:
    """What Stripe (the fake) saw of each delivery to the lab's endpoint: event type and HTTP status."""
    fake = getattr(lab.backend, "fake", None)
    if fake is None:
        return []
    return [{"type": d.get("type"), "http_status": d.get("status"), "attempt": d.get("attempt")}
            for d in fake.deliveries() if d.get("endpoint") in (None, lab.endpoint_id)]


def settle(lab, timeout: float = 20.0) -> None:
    """Wait until the deliveries due now have been made (the fake's queue; in test mode, a pause)."""
    fake = getattr(lab.backend, "fake", None)
    if fake is not None:
        fake.wait_for_webhooks(timeout)
    else:
        time.sleep(min(timeout, 5.0))


def fresh_db(path: str | Path) -> Path:
    """Remove a database (and its WAL files) so a run starts from an empty order table."""
    path = Path(path)
    for f in path.parent.glob(path.name + "*"):
        if f.is_file():  # still open on Windows: a FileBusyError saying what holds it
            delete(f, held_by="the lab this notebook started before (Kernel → Restart, then run this cell again)")
        elif f.is_dir():
            shutil.rmtree(f)
    return path
