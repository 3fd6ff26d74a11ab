"""Drills for the notebook: attack the webhook handler the way the real world will.

Each function sends real HTTP requests at a running handler and returns plain rows
(for a pandas table): forged and replayed signatures, a burst of duplicates, events
delivered out of order, and a handler process that dies in the middle of a delivery.
The handler's secret is used only to play Stripe's part (a genuine or captured delivery);
it never appears in what these functions return.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import stripe

from labkit.files import delete
from labkit.webhooks.process import HandlerProcess, free_port, get_json

ATTACKER_SECRET = "whsec_fake0attacker0guessed0this0secret"  # a made-up secret
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``body`` (``t=…,v1=…``)."""
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret,
                                                             int(time.time()) if timestamp is None else timestamp)


def post(url: str, body: bytes, signature: str | None, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to ``url``; ``(status, JSON answer)`` whatever the status."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _NO_PROXY.open(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}


def body_of(event: Any) -> bytes:
    """The JSON body of an event (a ``stripe.Event`` or a dict), as Stripe would send it."""
    data = event.to_dict() if hasattr(event, "to_dict") else event
    return json.dumps(data, indent=2).encode()


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
        """The handler a :class:`labkit.lab.Lab` started in this process."""
        server = lab.webhook_server
        state = getattr(getattr(server, "app", None), "extensions", {}).get("labkit_webhooks")
        if state is not None:
            return cls(server.url, state.secret.get(), state.endpoint_id)
        raise RuntimeError("no webhook handler runs in this process (LABKIT_WEBHOOK_URL points elsewhere?): "
                           "the drills need the handler started by Lab.start() here.")

    def deliver(self, event: Any, *, timestamp: int | None = None) -> tuple[int, dict[str, Any]]:
        """Deliver ``event`` signed with the real secret, as Stripe would."""
        body = body_of(event)
        return post(self.webhook_url, body, sign(body, self.secret, timestamp))

    def orders(self) -> dict[str, Any]:
        return get_json(self.url + "/orders")

    def deliveries(self, limit: int = 50) -> list[dict[str, Any]]:
        return get_json(f"{self.url}/deliveries?limit={limit}")["deliveries"]


def _row(attack: str, status: int, answer: dict[str, Any]) -> dict[str, Any]:
    error = answer.get("error") or {}
    return {"attack": attack, "HTTP status": status,
            "answer": error.get("code") or answer.get("outcome"),
            "reason": error.get("reason") or answer.get("note") or ""}


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
    return dict(sorted(Counter(f"{status} {answer.get('outcome') or (answer.get('error') or {}).get('code')}"
                               for status, answer in answers).items()))


def deliver_all(target: Target, events: list[Any]) -> list[dict[str, Any]]:
    """Deliver ``events`` in the order given (signed with the real secret); a row each."""
    rows = []
    for event in events:
        e = event.to_dict() if hasattr(event, "to_dict") else event
        status, answer = target.deliver(e)
        rows.append({"event type": e["type"], "HTTP status": status, "outcome": answer.get("outcome"),
                     "what it did to the order": answer.get("note")})
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


def crash_drill(client: stripe.StripeClient, fake, out_dir: str | Path, *, fault: str = "crash-before-commit",
                timeout: float = 60.0) -> dict[str, Any]:
    """Run a handler process that dies in the middle of its first delivery, restart it, and
    let the fake Stripe's retry land. What happened, as a dict (no ids, no secrets).

    ``fault`` is ``crash-before-commit`` (the event's transaction is lost: the retry must
    apply it) or ``crash-after-commit`` (committed but never answered: the retry must be
    recognised as a duplicate).
    """
    from labkit.webhooks.trigger import trigger

    if fake is None:
        raise RuntimeError("the crash drill needs the offline fake Stripe (it delivers to localhost and retries)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"webhooks_crash_drill_{fault}.db"
    for stale in [*out.glob(db.name + "*"), db.with_suffix(".log")]:
        delete(stale, held_by="a crash-drill handler from an earlier run (Kernel → Restart, or end its python process)")
    port = free_port()
    endpoint = client.v1.webhook_endpoints.create(params={
        "url": f"http://127.0.0.1:{port}/webhook", "enabled_events": ["payment_intent.succeeded"],
        "description": f"labkit crash drill ({fault})"})
    proc = HandlerProcess(db, endpoint.secret, port, fault=fault)
    try:
        proc.start()
        paid = trigger(client, "payment_intent.succeeded", product_id="prod_002")
        exit_code = proc.wait_exit(timeout)
        proc.start(fault="")  # the same handler, restarted without the fault
        end = time.monotonic() + timeout

        def attempts() -> list[dict[str, Any]]:
            return [d for d in fake.deliveries() if d["endpoint"] == endpoint.id]

        while time.monotonic() < end and not any(a["status"] and 200 <= a["status"] < 300 for a in attempts()):
            time.sleep(0.1)
        tried = sorted(attempts(), key=lambda a: a["attempt"])
        order = proc.orders().get(paid["payment_intent"])
        orders = proc.orders()
        outcomes = Counter(d["outcome"] for d in proc.deliveries())
    finally:
        proc.stop()
        with contextlib.suppress(stripe.StripeError):
            client.v1.webhook_endpoints.delete(endpoint.id)
    return {
        "fault injected": fault,
        "handler process exit code": exit_code,
        "first attempt answered": tried[0]["status"] is not None if tried else None,
        "a retry got a 2xx": any(a["status"] and 200 <= a["status"] < 300 for a in tried[1:]),
        "orders in the database": len(orders),
        "order status": order["status"] if order else None,
        "events in the order's history": len(order["history"]) if order else 0,
        "deliveries the restarted handler logged": dict(sorted(outcomes.items())),
    }


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
