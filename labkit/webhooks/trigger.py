"""``labkit trigger EVENT``: make Stripe emit a real event through the API, like ``stripe trigger``.

Each trigger does what a customer or the merchant would do (a payment with the right test
card, a refund), so the event that reaches the webhook handler is the real one, in the
offline fake and in Stripe test mode alike.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from typing import Any

import stripe

from labkit.backend import SHARED_FAKE_PORT, connect, connect_shared, problem_line
from labkit.settings import load_settings


# event type -> (test PaymentMethod, refund afterwards?, what it shows)
TRIGGERS: dict[str, tuple[str, bool, str]] = {
    "payment_intent.succeeded": ("pm_card_visa", False, "a payment with the Visa test card succeeds"),
    "payment_intent.payment_failed": ("pm_card_visa_chargeDeclined", False,
                                      "a payment with the declining test card fails (card_declined)"),
    "charge.dispute.created": ("pm_card_createDispute", False,
                               "a payment with the dispute test card succeeds, then the customer disputes it"),
    "charge.refunded": ("pm_card_visa", True, "a successful payment is refunded in full"),
}


def _product(product_id: str | None) -> dict[str, Any]:
    """A product from the kit's catalog (``labkit/data/catalog.json``)."""
    try:
        catalog = json.loads(resources.files("labkit.data").joinpath("catalog.json").read_text())
    except FileNotFoundError:
        return {"id": "labkit_trigger", "name": "labkit trigger test item", "price": 2000, "currency": "usd"}
    pid = product_id or catalog.get("default_product") or next(iter(catalog["products"]))
    if pid not in catalog["products"]:
        raise ValueError(f"no product {pid!r} in the catalog (have: {', '.join(catalog['products'])})")
    return {"id": pid, **catalog["products"][pid]}


def trigger(client: stripe.StripeClient, event_type: str, *, product_id: str | None = None,
            quantity: int = 1) -> dict[str, Any]:
    """Produce ``event_type`` through the API; what was done, as a dict (ids, no secrets)."""
    if event_type not in TRIGGERS:
        raise ValueError(f"cannot trigger {event_type!r}; choose one of: {', '.join(TRIGGERS)}")
    payment_method, refund, story = TRIGGERS[event_type]
    product = _product(product_id)
    params = {
        "amount": int(product["price"]) * quantity, "currency": product["currency"],
        "payment_method_types": ["card"], "payment_method": payment_method, "confirm": True,
        "description": f"labkit trigger {event_type}",
        "metadata": {"product_id": product["id"], "product_name": product["name"], "quantity": str(quantity),
                     "labkit_trigger": event_type},
    }
    result: dict[str, Any] = {"event": event_type, "what happened": story, "product": product["name"],
                              "amount": int(product["price"]) * quantity, "currency": product["currency"]}
    try:
        pi = client.v1.payment_intents.create(params=params)
    except stripe.CardError as exc:
        if event_type != "payment_intent.payment_failed":
            raise
        err = exc.error
        result.update(payment_intent=getattr(err.payment_intent, "id", None), status="requires_payment_method",
                      decline=err.decline_code or err.code, message=err.message)
        return result
    result.update(payment_intent=pi.id, status=pi.status, charge=pi.latest_charge)
    if refund:
        re = client.v1.refunds.create(params={"payment_intent": pi.id, "reason": "requested_by_customer"})
        result.update(refund=re.id, refund_status=re.status)
    return result


# ---------------------------------------------------------------------- labkit trigger
def add_trigger_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", choices=list(TRIGGERS), help="the event to produce")
    parser.add_argument("--product", default=None, help="catalog product id (default: the catalog's default)")
    parser.add_argument("--quantity", type=int, default=1)


def run_trigger(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.offline:
        backend = connect_shared(settings, start=False)
        if backend is None:
            print("labkit trigger: no offline fake Stripe is running, so no webhook handler would see the event.\n"
                  "Start the handler first (`labkit webhooks` starts the fake on port "
                  f"{SHARED_FAKE_PORT}), or set LABKIT_STRIPE_API_BASE to a running `labkit fakestripe`.",
                  file=sys.stderr)
            return 1
    else:
        backend = connect(settings)
    with backend:
        try:
            result = trigger(backend.client, args.event, product_id=args.product, quantity=args.quantity)
        except stripe.StripeError as exc:
            # no network: one line that says what to do
            print(f"labkit trigger: {problem_line(exc) or f'the API refused: {exc.user_message or exc}'}",
                  file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"labkit trigger: {exc}", file=sys.stderr)
            return 2
    where = "the fake Stripe" if settings.offline else "Stripe test mode"
    print(f"Triggered {args.event} on {where}: {result['what happened']}.")
    for key in ("payment_intent", "charge", "refund", "decline"):
        if result.get(key):
            print(f"  {key:15} {result[key]}")
    print("  Every endpoint registered for it gets the signed event (see the handler's /deliveries).")
    return 0
