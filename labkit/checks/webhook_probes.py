"""Part C checks on the student's webhook handler: the kit plays Stripe, through HTTP only.

Two fresh copies of the student's ``webhook_handler.py`` (:mod:`labkit.checks.webhook_runs`), each
in its own process with its own database, get real events (made through the API) signed with the
kit's one signer, and attacks; what the handler did is read only through its ``GET /orders``
(:func:`labkit.webhooks.probe.parse_orders` reads the shapes students use). A handler may
acknowledge an event and apply it a moment later, as Stripe advises: after each batch the kit sends
a fresh ``payment_intent.succeeded`` and waits, up to :data:`WAIT` seconds, until that order is paid,
then judges everything sent before it. The verdicts are in :mod:`labkit.checks.webhook_verdicts`.

- signature copy: at once, a forged signature, no signature, signatures made with an empty and
  with well-known default secrets, and a genuine event signed 10 minutes ago (a replay); then event
  types it does not handle; last, Stripe's genuine ``payment_intent.succeeded``.
- orders copy: ``payment_intent.created``, ``.processing`` and ``.payment_failed`` (none may make a
  paid order) and a genuine payment; then a dispute and a refund; then a duplicate of every event
  so far; then the handler is stopped, started again on its own database, and gets the duplicates
  again (a retry after a crash).
- one more copy with no ``STRIPE_WEBHOOK_SECRET`` (offline): it must refuse to start, or refuse
  unsigned events.
"""
from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from labkit.checks import webhook_runs as runs
from labkit.checks.items import clip
from labkit.checks.webhook_runs import HandlerCopy, pi_of
from labkit.webhook_signing import signature_header
from labkit.webhooks import probe
from labkit.webhooks.probe import Answer, is_paid, orders_by_pi

WAIT = 10.0  # seconds the checks wait for an event's effect to show in GET /orders
FACTS = json.loads(resources.files("labkit.data").joinpath("webhook_facts.json").read_text(encoding="utf-8"))
TOLERANCE = FACTS["tolerance_seconds"]["value"]  # construct_event's default
REPLAY_AGE = 2 * TOLERANCE  # seconds: a genuine event signed this long ago is a replay
WEAK_SECRETS = tuple(FACTS["weak_secrets"]["value"])  # an empty secret, placeholders from tutorials
TIMESTAMPISH = re.compile(r"(_at$|^at$|time|date|updated|received|seen|last_)", re.I)


@dataclass
class Sent:
    """One request the kit made, and what came back (the 5xx with the exception's last line)."""

    what: str
    pi: str
    answer: Answer
    seen: str = ""


@dataclass
class Findings:
    signature_start: str = ""            # why the signature copy did not start, if it did not
    refusals: list[tuple[str, Sent]] = field(default_factory=list)   # (kind, sent): forged, weak, replay
    unhandled: list[Sent] = field(default_factory=list)
    genuine: Sent | None = None
    sig_orders: dict | None = None
    orders_start: str = ""
    negatives: list[Sent] = field(default_factory=list)
    paid: Sent | None = None
    paid_after: float = 0.0
    orders: dict | None = None          # after the first batch
    orders_why: str = ""
    later: list[Sent] = field(default_factory=list)
    acted_on: list[str] = field(default_factory=list)
    duplicates: list[Sent] = field(default_factory=list)
    dup_changed: list[str] = field(default_factory=list)
    restart_error: str = ""
    survived: bool | None = None
    after_restart: list[Sent] = field(default_factory=list)
    restart_changed: list[str] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)     # copies restarted after a timeout
    no_secret: tuple[str, str] | None = None              # (verdict, what was seen)
    stripe_said: str = ""                                 # Stripe's own deliveries to the lab's handler


def _send(copy: HandlerCopy, event: dict[str, Any], what: str = "", **kw: Any) -> Sent:
    answer = copy.send(event, what=what or event.get("type", "an event"), **kw)
    return Sent(what or event["type"], pi_of(event), answer, copy.why_5xx(answer))


def _send_all(copy: HandlerCopy, events: list[dict[str, Any]]) -> list[Sent]:
    return [Sent(e["type"], pi_of(e), a, seen) for e, (a, seen) in zip(events, copy.send_all(events))]


def _normal(orders: list[dict[str, Any]]) -> list[Any]:
    """An order list without the fields that say when (a duplicate may touch a timestamp)."""
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if not TIMESTAMPISH.search(str(k))}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value
    return sorted((clean(o) for o in orders), key=repr)


def _changed(before: dict | None, after: dict | None, sent: list[Sent]) -> list[str]:
    """The events whose PaymentIntent's orders differ between the two readings."""
    before, after = before or {}, after or {}
    return [s.what for s in sent if _normal(before.get(s.pi, [])) != _normal(after.get(s.pi, []))]


def _settle(copy: HandlerCopy, client: Any) -> tuple[dict | None, str, float]:
    """Send a fresh genuine payment and wait until its order is paid: everything sent before is applied."""
    event = runs.paid_event(client)
    if event is None:
        return copy.orders()[0], "", 0.0
    answer = copy.send(event, what="a fresh payment_intent.succeeded")
    start = time.monotonic()
    orders, why = copy.orders(lambda o: any(is_paid(x) for x in o.get(pi_of(event), [])), WAIT if answer.ok else 0)
    return orders, why, time.monotonic() - start


# ---------------------------------------------------------------------- the signature copy
def _refusal_probes(copy: HandlerCopy, replay: dict[str, Any] | None) -> list[tuple[str, str, bytes, str | None]]:
    """(kind, what, body, Stripe-Signature) for each attack; each forged event names its own PaymentIntent."""
    probes = []
    for what, header_of in (("a forged signature", lambda b: signature_header(b, "whsec_" + "0" * 32)),
                            ("no Stripe-Signature header", lambda b: None)):
        body = probe.stripe_body(probe.forged_payment())
        probes.append(("forged", what, body, header_of(body)))
    for secret in WEAK_SECRETS:
        body = probe.stripe_body(probe.forged_payment())
        probes.append(("weak", f"signed with {secret!r}", body, signature_header(body, secret)))
    if replay is not None:
        body = probe.stripe_body(replay)
        old = int(time.time()) - REPLAY_AGE
        probes.append(("replay", f"a genuine event signed {REPLAY_AGE // 60} minutes ago (a replay)", body,
                       signature_header(body, copy.secret, old)))
    return probes


def signature_group(f: Findings, copy: HandlerCopy, client: Any) -> None:
    genuine, replay = runs.paid_event(client), runs.paid_event(client)
    probes = _refusal_probes(copy, replay)
    url = copy.url + "/webhook"
    with ThreadPoolExecutor(len(probes)) as pool:  # at once: one hung request cannot hold up the others
        answers = list(pool.map(lambda p: probe.post_event(url, p[2], p[3]), probes))
    for (kind, what, body, _), answer in zip(probes, answers):
        f.refusals.append((kind, Sent(what, pi_of(json.loads(body)), answer, copy.why_5xx(answer))))
    if any(a.timed_out for a in answers):
        copy.restart("an attack timed out")
    unhandled = [runs.event_for(client, "charge.succeeded", pi_of(genuine), wait=0) if genuine else None,
                 probe.made_up_event("customer.created", {"id": "cus_labkitprobe", "object": "customer"}, "labkitreal")]
    f.unhandled = _send_all(copy, [e for e in unhandled if e is not None])
    if genuine is not None:
        f.genuine = _send(copy, genuine, "Stripe's genuine payment_intent.succeeded")
        wait = WAIT if f.genuine.answer.ok else 0  # nothing will come of a refused event
        f.sig_orders, _ = copy.orders(lambda o: any(is_paid(x) for x in o.get(pi_of(genuine), [])), wait)


# ---------------------------------------------------------------------- the orders copy
def orders_group(f: Findings, copy: HandlerCopy, client: Any) -> None:
    unpaid = runs.unpaid_events(client)
    later = runs.later_events(client)  # [succeeded, dispute, succeeded, refund]
    paid = runs.paid_event(client)
    f.negatives = _send_all(copy, [e for e in unpaid.values() if e is not None])
    setup = [e for e in later if e["type"] == "payment_intent.succeeded"]
    for event in setup:
        _send(copy, event)
    if paid is None:
        return
    f.paid = _send(copy, paid)
    start = time.monotonic()
    f.orders, f.orders_why = copy.orders(lambda o: any(is_paid(x) for x in o.get(pi_of(paid), [])),
                                         WAIT if f.paid.answer.ok else 0)
    f.paid_after = time.monotonic() - start
    if f.orders is None or not f.orders.get(pi_of(paid)):
        return
    f.later = [_send(copy, e) for e in later if e["type"] != "payment_intent.succeeded"]
    before_later = f.orders
    after_later, _, _ = _settle(copy, client)
    f.acted_on = [s.what for s in f.negatives + [f.paid] if f.orders.get(s.pi)]
    f.acted_on += _changed(before_later, after_later, f.later)
    firsts = [s for s in f.negatives + [f.paid] + f.later if s.answer.ok]
    events = {**{e["type"]: e for e in unpaid.values() if e}, paid["type"]: paid,
              **{e["type"]: e for e in later if e["type"] != "payment_intent.succeeded"}}
    f.duplicates = [_send(copy, events[s.what], f"a duplicate of {s.what}") for s in firsts]
    after_dups, _, _ = _settle(copy, client)
    f.dup_changed = _changed(after_later, after_dups, firsts)
    restart_group(f, copy, client, firsts, events, after_dups)


def restart_group(f: Findings, copy: HandlerCopy, client: Any, firsts: list[Sent], events: dict[str, Any],
                  before: dict | None) -> None:
    if not copy.restart("the kit restarted it"):
        f.restart_error = copy.start_error
        return
    now, _ = copy.orders()
    kept = [pi for pi in (before or {}) if (now or {}).get(pi)]
    f.survived = bool(before) and len(kept) == len(before or {})
    f.after_restart = [_send(copy, events[s.what], f"{s.what} again after the restart") for s in firsts]
    after, _, _ = _settle(copy, client)
    if f.survived:
        f.restart_changed = _changed(now, after, firsts)


# ---------------------------------------------------------------------- everything
def _start(start: Any) -> Any:
    """``start()``'s server, or the exception it raised (refusing to start can be the right answer)."""
    try:
        return start()
    except Exception as exc:
        return exc


def without_secret(server: Any) -> tuple[str, str] | None:
    """(``"closed"``/``"open"``/``"refused"``, what was seen) for a copy started with no secret
    (``server``: the running copy, or the exception that kept it from starting)."""
    if server is None:
        return None
    if isinstance(server, Exception):  # refusing to start without a secret is the right answer
        return "closed", f"does not start ({clip(str(server).split(': ', 1)[-1], 160)})"
    try:
        event = probe.forged_payment()
        answer = probe.post_event(server.url + "/webhook", probe.stripe_body(event), None)
        orders, _ = orders_by_pi(server.url)
    finally:
        server.stop()
    made = bool(orders and orders.get(pi_of(event)))
    seen = answer.text + (", and an order was created" if made else "")
    return ("open" if answer.ok or made or not answer.client_error else "refused"), seen


def stripe_deliveries(fake: Any, endpoint_id: str | None) -> str:
    """``payment_intent.succeeded: HTTP 400 ×3``: what the lab's own handler answered the fake's deliveries."""
    if fake is None:
        return ""
    fake.wait_for_webhooks(5)
    try:
        rows = [d for d in fake.deliveries() if d.get("type") == "payment_intent.succeeded"
                and d.get("endpoint") in (None, endpoint_id)]
    except Exception:
        return ""
    codes: dict[str, int] = {}
    for d in rows:
        key = f"HTTP {d['status']}" if d.get("status") else str(d.get("outcome") or "no answer").split(";")[0]
        codes[key] = codes.get(key, 0) + 1
    return ", ".join(f"{k} ×{n}" for k, n in sorted(codes.items()))


def probe_handler(lab: Any, start_without_secret: Any = None) -> Findings:
    """Run every Part C probe against fresh copies of the student's handler; what was seen."""
    f = Findings()
    sig = HandlerCopy(lab, "signature probes", lab.work / "orders_signature.db")
    orders = HandlerCopy(lab, "order probes", lab.work / "orders_orders.db")
    with ThreadPoolExecutor(2) as pool:  # the two copies start side by side: a start takes a second or two
        starting = [pool.submit(sig.start), pool.submit(orders.start)]
        sig_ok, orders_ok = (s.result() for s in starting)
    if sig_ok:
        try:
            signature_group(f, sig, lab.client)
        finally:
            sig.stop()
            f.restarts += sig.restarts
    else:
        f.signature_start = sig.start_error
    if orders_ok:
        try:
            orders_group(f, orders, lab.client)
        finally:
            orders.stop()
            f.restarts += [r for r in orders.restarts if r != "the kit restarted it"]
    else:
        f.orders_start = orders.start_error
    f.no_secret = without_secret(_start(start_without_secret) if start_without_secret else None)
    if f.genuine is not None and f.genuine.answer.client_error:  # corroborate: did Stripe's own fare better?
        f.stripe_said = stripe_deliveries(lab.backend.fake, lab.endpoint_id)
    return f
