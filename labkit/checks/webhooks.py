"""Part C checks on the student's running webhook handler, through HTTP only.

The orders are read through ``GET /orders`` as the handout defines it: JSON keyed by
PaymentIntent id, each with a ``status`` (a list of orders each naming its ``payment_intent``,
or ``{"orders": [...]}``, is accepted too).
"""
from __future__ import annotations

import json
import secrets
import time
from typing import Any, Callable

import requests

from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Feedback, Item, item, log_hint
from labkit.webhook_signing import signature_header as sign

PAID = {"paid", "succeeded", "success", "complete", "completed", "fulfilled", "queued", "fulfillment_queued"}


def orders_by_pi(url: str) -> tuple[dict[str, list[dict[str, Any]]] | None, str]:
    """``{pi: [orders naming it]}`` from ``GET /orders``, or ``(None, why)``."""
    try:
        resp = requests.get(url + "/orders", timeout=10)
        data = resp.json()
    except (requests.RequestException, ValueError) as exc:
        return None, f"GET /orders gave no JSON ({type(exc).__name__})"
    if isinstance(data, dict) and isinstance(data.get("orders"), (list, dict)):
        data = data["orders"]
    found: dict[str, list[dict[str, Any]]] = {}
    if isinstance(data, dict):
        for key, order in data.items():
            order = order if isinstance(order, dict) else {"value": order}
            pi = key if str(key).startswith("pi_") else order.get("payment_intent") or order.get("id")
            found.setdefault(str(pi), []).append(order)
    elif isinstance(data, list):
        for order in data:
            if isinstance(order, dict):
                pi = order.get("payment_intent") or order.get("payment_intent_id") or order.get("id")
                found.setdefault(str(pi), []).append(order)
    else:
        return None, f"GET /orders answered {type(data).__name__}, not JSON keyed by PaymentIntent id"
    return found, ""


def _is_paid(order: dict[str, Any]) -> bool:
    return str(order.get("status", "")).lower() in PAID


def fake_event(pi_id: str) -> bytes:
    """A well-formed payment_intent.succeeded event for a PaymentIntent Stripe never made."""
    return json.dumps({
        "id": "evt_labkitforged" + secrets.token_hex(6), "object": "event", "type": "payment_intent.succeeded",
        "created": int(time.time()), "livemode": False, "api_version": "2025-01-27.acacia",
        "data": {"object": {"id": pi_id, "object": "payment_intent", "amount": 1800, "amount_received": 1800,
                            "currency": "usd", "status": "succeeded", "metadata": {"product_name": "Forged"}}},
    }).encode()


def _post(url: str, body: bytes, header: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    try:
        return requests.post(url + "/webhook", data=body, headers=headers, timeout=10).status_code
    except requests.RequestException:
        return 0


def _forgery_accepted(url: str, header_for: Callable[[bytes], str | None]) -> tuple[bool, str]:
    """POST a forged event; (accepted?, what was seen)."""
    pi_id = "pi_labkitforged" + secrets.token_hex(6)
    body = fake_event(pi_id)
    status = _post(url, body, header_for(body))
    orders, why = orders_by_pi(url)
    made = bool(orders and orders.get(pi_id))
    return (200 <= status < 300 or made), f"HTTP {status}" + (", and an order was created" if made else "")


def signature(url: str, start_without_secret: Callable[[], Any] | None = None) -> Item:
    """``webhook:signature``: forged and unsigned events refused; also without a secret."""
    forged_header = lambda body: f"t={int(time.time())},v1={secrets.token_hex(32)}"
    results = {"a forged signature": _forgery_accepted(url, forged_header),
               "no Stripe-Signature header": _forgery_accepted(url, lambda body: None)}
    bad = {k: v for k, v in results.items() if v[0]}
    if bad:
        which = "; ".join(f"{k}: {v[1]}" for k, v in bad.items())
        fb = Feedback("POST /webhook with a forged payment_intent.succeeded", "a 4xx and no order", which)
        return item("webhook:signature", MISSING, fb.text(),
                    "Verify with stripe.Webhook.construct_event(raw_body, Stripe-Signature, secret) before reading.")
    codes = ", ".join(f"{k}: {v[1]}" for k, v in results.items())
    if any(v[1].startswith("HTTP 5") or v[1].startswith("HTTP 0") for v in results.values()):
        return item("webhook:signature", MISSING, f"forged events got no 4xx ({codes}): a 5xx makes Stripe retry "
                    "for days, and says nothing about the signature", "Answer 400 when verification fails.")
    if start_without_secret is None:
        return item("webhook:signature", EVIDENCED, f"refused ({codes})")
    return _fail_open(codes, start_without_secret)


def _fail_open(codes: str, start_without_secret: Callable[[], Any]) -> Item:
    try:
        server = start_without_secret()
    except Exception as exc:  # refusing to start without a secret is the right answer
        return item("webhook:signature", EVIDENCED, f"refused ({codes}); without STRIPE_WEBHOOK_SECRET the handler "
                    f"does not start ({str(exc)[:120]})")
    try:
        accepted, seen = _forgery_accepted(server.url, lambda body: None)
    finally:
        server.stop()
    if accepted or not seen.startswith("HTTP 4"):
        fb = Feedback("the handler started without STRIPE_WEBHOOK_SECRET, then an unsigned event",
                      "a 4xx (or no start at all)", seen)
        return item("webhook:signature", PARTIAL, f"with the secret: refused ({codes}). " + fb.text() +
                    " It fails open.", "Never accept unsigned events: exit at start-up when the secret is missing.")
    return item("webhook:signature", EVIDENCED, f"refused ({codes}), and also without a secret ({seen})")


def pay_and_wait(client: Any, fake: Any, product: str = "Safety Hard Hat") -> str:
    """A real payment through the API; returns its PaymentIntent id once deliveries settled."""
    pi = client.v1.payment_intents.create(params={
        "amount": 1800, "currency": "usd", "payment_method_types": ["card"], "payment_method": "pm_card_visa",
        "confirm": True, "metadata": {"product_id": "prod_001", "product_name": product}})
    if fake is not None:
        fake.wait_for_webhooks(15)
    return pi.id


def succeeded(url: str, client: Any, fake: Any, pi_id: str, log_tail: str = "") -> Item:
    """``webhook:succeeded``: the verified event became a paid order."""
    orders, why = orders_by_pi(url)
    if orders is None:
        return item("webhook:succeeded", MISSING, Feedback("a real payment (pm_card_visa)", "a paid order in GET /orders",
                    why).text(), "Keep GET /orders from the handout: JSON keyed by PaymentIntent id.")
    mine = orders.get(pi_id) or []
    if any(_is_paid(o) for o in mine):
        return item("webhook:succeeded", EVIDENCED, f"a real payment ({pi_id}) became a paid order through its "
                    "signed payment_intent.succeeded")
    answers = _delivery_codes(fake, "payment_intent.succeeded")
    seen = (f"order {json.dumps(mine[0])[:120]}" if mine else "no order for it") + \
           (f"; the handler answered Stripe's deliveries with {answers}" if answers else "")
    fb = Feedback("a real payment (pm_card_visa), its payment_intent.succeeded delivered and signed",
                  "an order with status \"paid\" in GET /orders", seen)
    extra = " ".join(log_hint(log_tail, "handler"))
    return item("webhook:succeeded", PARTIAL if mine else MISSING, (fb.text() + " " + extra).strip(),
                "Verify, then on payment_intent.succeeded store orders[pi_id] = {\"status\": \"paid\", …}.")


def _delivery_codes(fake: Any, type_: str) -> str:
    try:
        rows = [d for d in fake.deliveries() if d.get("type") == type_]
    except Exception:
        return ""
    codes = sorted({str(d.get("status") or d.get("http_status") or d.get("outcome")) for d in rows})
    return ", ".join(codes)


def duplicate(url: str, client: Any, secret: str | None, pi_id: str) -> Item:
    """``webhook:duplicate``: the same signed event twice more changes nothing."""
    if not secret:
        return item("webhook:duplicate", MISSING, "no signing secret to re-send the event with")
    events = client.v1.events.list(params={"limit": 30, "type": "payment_intent.succeeded"}).data
    event = next((e for e in events if e.to_dict()["data"]["object"].get("id") == pi_id), None)
    if event is None:
        return item("webhook:duplicate", MISSING, f"no payment_intent.succeeded event found for {pi_id}")
    before, _ = orders_by_pi(url)
    body = json.dumps(event.to_dict()).encode()
    codes = [_post(url, body, sign(body, secret)) for _ in range(2)]
    after, why = orders_by_pi(url)
    if after is None:
        return item("webhook:duplicate", MISSING, why)
    was, now = (before or {}).get(pi_id, []), after.get(pi_id, [])
    if not was:
        return item("webhook:duplicate", MISSING, f"no order was made for {pi_id}, so a duplicate cannot be judged "
                    "(see webhook:succeeded)", "Make webhook:succeeded pass first.")
    if len(now) == 1 and now == was and all(200 <= c < 300 for c in codes):
        return item("webhook:duplicate", EVIDENCED, f"event {event.id} delivered twice more (HTTP {codes[0]}, "
                    f"{codes[1]}): still one order, unchanged")
    seen = f"{len(now)} order(s) for {pi_id}" + ("" if now == was else ", and the order changed") + \
           f"; HTTP {', '.join(map(str, codes))}"
    fb = Feedback(f"the same payment_intent.succeeded ({event.id}) delivered twice more", "one order, unchanged, "
                  "and a 2xx each time (Stripe retries anything else)", seen)
    return item("webhook:duplicate", MISSING, fb.text(),
                "Store each event id in the same transaction as its effect; skip an id you have seen.")
