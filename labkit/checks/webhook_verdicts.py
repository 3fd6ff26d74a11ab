"""The Part C items from what the probes saw (:class:`labkit.checks.webhook_probes.Findings`).

Each item names the real cause first: a genuine event refused (the signature step), a crash (the
5xx with the exception's last line from the handler's log), a timeout (as a timeout), and only
then what ``GET /orders`` showed.
"""
from __future__ import annotations

from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Feedback, Item, clip, item
from labkit.checks.webhook_probes import FACTS, REPLAY_AGE, TOLERANCE, WAIT, Findings, Sent
from labkit.webhooks.probe import PROBE_TIMEOUT, is_paid

RAW_BYTES_HINT = ("Stripe's genuine events are refused: verify the exact bytes received (request.get_data()), "
                  "not a re-serialised or re-decoded body, with the secret from STRIPE_WEBHOOK_SECRET.")
TIMEOUT_HINT = (f"Answer each event within a few seconds (the kit waits {PROBE_TIMEOUT:g} s): acknowledge with a "
                "2xx first and do slow work afterwards; a hung request holds one of the server's few workers.")


def _list(sent: list[Sent]) -> str:
    return ", ".join(f"{s.what}: {s.seen}" for s in sent)


def _grouped(sent: list[Sent]) -> str:
    """``HTTP 400: a forged signature, no header; timed out after 5 s: …``: the answers, each once."""
    by: dict[str, list[str]] = {}
    for s in sent:
        by.setdefault(s.seen, []).append(s.what)
    return "; ".join(f"{seen}: {', '.join(whats)}" for seen, whats in by.items())


def _made(orders: dict | None, pi: str) -> bool:
    return bool(orders and orders.get(pi))


def _start_failed(check: str, why: str) -> Item:
    return item(check, MISSING, clip(f"a fresh copy of the handler did not start: {why}"),
                "Fix the error, then run the check again.")


def signature(f: Findings, log_tail: str = "") -> Item:
    """``webhook:signature``: genuine events accepted; forged, weakly signed and replayed ones refused."""
    if f.signature_start:
        return _start_failed("webhook:signature", f.signature_start)
    g = f.genuine
    if g is not None and g.answer.client_error:
        stripe = f" (Stripe's own deliveries to the handler: {f.stripe_said})" if f.stripe_said else ""
        weak = [s.what for kind, s in f.refusals if kind == "weak" and s.answer.ok]
        extra = f" It accepted an event {weak[0]}: it verifies with that secret, not STRIPE_WEBHOOK_SECRET." \
            if weak else ""
        fb = Feedback("Stripe's genuine payment_intent.succeeded, its exact bytes signed with the handler's secret",
                      "a 2xx", f"{g.seen}{stripe}")
        return item("webhook:signature", MISSING, clip(fb.text() + extra) + " Refusing every event is not verifying.",
                    RAW_BYTES_HINT)
    accepted = [(k, s) for k, s in f.refusals if s.answer.ok or _made(f.sig_orders, s.pi)]
    bad = [s for k, s in accepted if k in ("forged", "weak")]
    if bad:
        seen = [Sent(s.what, s.pi, s.answer, s.seen + (", and an order was created" if _made(f.sig_orders, s.pi)
                                                       else "")) for s in bad]
        fb = Feedback("POST /webhook with a forged payment_intent.succeeded", "a 4xx and no order", _grouped(seen))
        return item("webhook:signature", MISSING, clip(fb.text()),
                    "Verify with stripe.Webhook.construct_event(raw_body, Stripe-Signature, STRIPE_WEBHOOK_SECRET) "
                    "before reading, and never with an empty or default secret.")
    if (g is None or not g.answer.ok) and not any(s.answer.client_error for _, s in f.refusals):
        everything = _grouped(([g] if g else []) + [s for _, s in f.refusals])
        not_done = "NotImplementedError" in everything or "NotImplementedError" in log_tail
        return item("webhook:signature", MISSING, clip(f"genuine and forged events alike got: {everything}. It does "
                                                       "not tell a genuine event from a forged one."),
                    "The handler's log says NotImplementedError: this exercise is not done yet." if not_done else
                    "Verify Stripe-Signature first and answer 400 when it fails; then answer 2xx to genuine events.")
    refused = _grouped([s for _, s in f.refusals])
    genuine = f"Stripe's genuine event: {g.seen}. " if g is not None else ""
    problems, hints = [], []
    if any(k == "replay" for k, _ in accepted):
        problems.append(f"a genuine event signed {REPLAY_AGE // 60} minutes ago was accepted (a replay)")
        hints.append(f"Check the timestamp: construct_event refuses one older than {TOLERANCE} s by default "
                     "(verify_header checks none unless given a tolerance).")
    odd = [s for k, s in f.refusals if not s.answer.ok and not s.answer.client_error]
    if odd:
        problems.append("refused without a 4xx: " + _list(odd))
        hints.append("Answer 400 at once when verification fails.")
    if f.no_secret and f.no_secret[0] == "open":
        problems.append(f"started without STRIPE_WEBHOOK_SECRET, it answered an unsigned event with {f.no_secret[1]}: "
                        "it fails open")
        hints.append("Never accept unsigned events: exit at start-up when the secret is missing.")
    without = f" Without STRIPE_WEBHOOK_SECRET it {f.no_secret[1]}." if f.no_secret and f.no_secret[0] != "open" else ""
    if problems:
        return item("webhook:signature", PARTIAL, clip(f"{genuine}Refused: {refused}. But " + "; ".join(problems) + "."),
                    " ".join(hints))
    return item("webhook:signature", EVIDENCED, clip(f"{genuine}Refused: {refused}.{without}"))


def _orders_unreadable(f: Findings) -> Item:
    if "timed out" in f.orders_why or "no answer" in f.orders_why:
        return item("webhook:succeeded", MISSING, clip(f"after a genuine payment_intent.succeeded, {f.orders_why}"),
                    "GET /orders hangs: " + TIMEOUT_HINT)
    return item("webhook:succeeded", MISSING, clip(f"after a genuine payment_intent.succeeded, {f.orders_why}"),
                "Keep GET /orders from the handout: JSON keyed by PaymentIntent id.")


def succeeded(f: Findings, log_tail: str = "") -> Item:
    """``webhook:succeeded``: a genuine payment becomes a paid order; nothing else makes one."""
    if f.orders_start:
        return _start_failed("webhook:succeeded", f.orders_start)
    p = f.paid
    if p is None:
        return item("webhook:succeeded", MISSING, "no payment_intent.succeeded event could be made through the API")
    scenario = "a genuine payment_intent.succeeded of a real payment (pm_card_visa)"
    if p.answer.client_error:
        return item("webhook:succeeded", MISSING, clip(Feedback(scenario, "a 2xx and a paid order", p.seen).text()
                    + " The handler refused Stripe's genuine event (see webhook:signature)."), RAW_BYTES_HINT)
    if p.answer.server_error:
        hint = "The handler crashed on payment_intent.succeeded: fix the error its log shows, then run the check again."
        if "NotImplementedError" in p.seen or "NotImplementedError" in log_tail:
            hint = "The handler's log says NotImplementedError: this exercise is not done yet."
        return item("webhook:succeeded", MISSING, clip(Feedback(scenario, "a 2xx and a paid order", p.seen).text()), hint)
    if p.answer.status is None:
        return item("webhook:succeeded", MISSING, clip(Feedback(scenario, "a 2xx and a paid order", p.seen).text()),
                    TIMEOUT_HINT)
    if f.orders is None:
        return _orders_unreadable(f)
    mine = f.orders.get(p.pi) or []
    if not any(is_paid(o) for o in mine):
        import json

        seen = f"{p.seen}, then after {WAIT:g} s " + (f"the order {json.dumps(mine[0])}" if mine else "no order for it")
        fb = Feedback(scenario, f"an order with status \"paid\" in GET /orders within {WAIT:g} s", seen)
        return item("webhook:succeeded", PARTIAL if mine else MISSING, clip(fb.text()),
                    "After verifying, on payment_intent.succeeded store orders[pi_id] = {\"status\": \"paid\", …}.")
    wrong = [s for s in f.negatives if any(is_paid(o) for o in f.orders.get(s.pi, []))]
    if wrong:
        fb = Feedback("events that come before or instead of a payment", "no paid order",
                      "; ".join(f"{s.what} made a paid order" for s in wrong))
        return item("webhook:succeeded", MISSING, clip(fb.text()),
                    "Only payment_intent.succeeded says the money arrived: created and processing come before any "
                    "payment, payment_failed after a decline. Mark an order paid on payment_intent.succeeded only.")
    later = f" (it showed {f.paid_after:.1f} s after the {p.seen}; the kit waits up to {WAIT:g} s)" \
        if f.paid_after >= 0.5 else f" ({p.seen})"
    none = ", ".join(s.what for s in f.negatives)
    return item("webhook:succeeded", EVIDENCED, clip(f"a real payment became a paid order through its signed "
                                                     f"payment_intent.succeeded{later}; {none} made no paid order"))


def duplicate(f: Findings) -> Item:
    """``webhook:duplicate``: a duplicate of every event changes nothing, also after a restart."""
    if f.orders_start:
        return _start_failed("webhook:duplicate", f.orders_start)
    if f.paid is None or f.orders is None or not f.orders.get(f.paid.pi):
        return item("webhook:duplicate", MISSING, "no order was made for a genuine payment, so a duplicate cannot be "
                    "judged (see webhook:succeeded)", "Make webhook:succeeded pass first.")
    kinds = ", ".join(dict.fromkeys(s.what.replace("a duplicate of ", "") for s in f.duplicates))
    if f.dup_changed:
        fb = Feedback(f"a second delivery of each event ({kinds})", "no change in GET /orders",
                      f"the orders changed after the duplicate of {', '.join(f.dup_changed)}")
        return item("webhook:duplicate", MISSING, clip(fb.text()),
                    "Store each event id in the same transaction as its effect; skip an id you have seen.")
    not_2xx = [s for s in f.duplicates + f.after_restart if not s.answer.ok]
    if f.restart_changed:
        fb = Feedback("the same events again after the handler restarted on its own database", "no change",
                      f"the orders changed after {', '.join(f.restart_changed)}")
        return item("webhook:duplicate", PARTIAL, clip(f"duplicates right away changed nothing, but {fb.text()} "
                    "The ids of the events already seen are lost on a restart."),
                    "Keep the ids of the events you applied in the same storage as the orders (a table with a "
                    "primary key), written in the same transaction.")
    if not_2xx:
        return item("webhook:duplicate", PARTIAL, clip(f"duplicates changed nothing, but were answered { _list(not_2xx)}: "
                    "Stripe retries anything but a 2xx"), "Answer 2xx to a duplicate (it was handled the first time).")
    after = "; after a restart the same events again changed nothing" if f.survived else \
        ("; after a restart: not judged, the orders did not survive it (see webhook:restart)" if f.survived is False
         else f"; the restart could not be judged ({f.restart_error})" if f.restart_error else "")
    acted = [k for k in dict.fromkeys(f.acted_on)]
    rest = [k for k in kinds.split(", ") if k and k not in acted]
    which = f"the events it acted on ({', '.join(acted) or 'none'})" + (f" and the others ({', '.join(rest)})"
                                                                          if rest else "")
    return item("webhook:duplicate", EVIDENCED, clip(f"a second delivery of {which}, each answered 2xx, changed "
                                                     f"nothing{after}"))


def restart(f: Findings) -> Item:
    """``webhook:restart`` (reported, no points): the orders are still there after a restart."""
    if f.restart_error:
        return item("webhook:restart", MISSING, clip(f"stopped and started again on its database, the handler did "
                                                     f"not start: {f.restart_error}"))
    if f.survived is None:
        return item("webhook:restart", MISSING, "not judged: no order was made before the restart (see "
                    "webhook:succeeded)", "Make webhook:succeeded pass first.")
    if not f.survived:
        return item("webhook:restart", PARTIAL, "stopped and started again, the handler had lost its orders "
                    "(kept in memory, like the handout's dict): a real shop would lose paid orders on every deploy",
                    "Keep the orders in a file or a database (SQLite, a JSON file): ORDERS_DB says where.")
    return item("webhook:restart", EVIDENCED, "stopped and started again on its own database, the handler still "
                "listed every order")


def acknowledges(f: Findings) -> Item:
    """``webhook:acknowledges`` (reported): every genuine event gets a 2xx in time, unhandled types too."""
    if f.signature_start or f.orders_start:
        return _start_failed("webhook:acknowledges", f.signature_start or f.orders_start)
    if f.genuine is not None and f.genuine.answer.client_error:
        return item("webhook:acknowledges", MISSING, "genuine events are refused (see webhook:signature)",
                    RAW_BYTES_HINT)
    genuine = f.unhandled + f.negatives + f.later + ([f.paid] if f.paid else [])
    bad = [s for s in genuine if not s.answer.ok]
    restarted = " (the kit restarted the handler after each time-out, so the probes after it were not starved)" \
        if f.restarts else ""
    if bad:
        timeouts = any(s.answer.timed_out for s in bad)
        hint = TIMEOUT_HINT if timeouts and not any(s.answer.server_error for s in bad) else \
            ("Answer 2xx to every genuine event, also types you do not handle (ignore them): "
             f"{FACTS['retries']['text']}, and {FACTS['disable']['text']}.")
        if "NotImplementedError" in _list(bad):
            hint = "The handler's log says NotImplementedError: this exercise is not done yet."
        return item("webhook:acknowledges", MISSING, clip(f"genuine events not acknowledged: {_grouped(bad)}"
                                                          f"{restarted}"), hint)
    kinds = ", ".join(dict.fromkeys(s.what for s in genuine))
    return item("webhook:acknowledges", EVIDENCED, clip(f"every genuine event answered 2xx within "
                                                        f"{PROBE_TIMEOUT:g} s ({kinds})"))


def items(f: Findings, log_tail: str = "") -> list[Item]:
    return [signature(f, log_tail), succeeded(f, log_tail), duplicate(f), acknowledges(f), restart(f)]
