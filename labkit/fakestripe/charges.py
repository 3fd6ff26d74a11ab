"""Charges (``/v1/charges``): made by confirming a PaymentIntent; captured, refunded, disputed.

Since API version 2022-11-15 a charge no longer carries its ``refunds`` list unless asked
(``expand[]=refunds``, or ``GET /v1/charges/{id}/refunds``); the fake follows that.
"""
from __future__ import annotations

from typing import Any

from labkit.fakestripe import cards as cardtable
from labkit.fakestripe.account import balance_transaction, card_fee
from labkit.fakestripe.common import Ctx, check_params, metadata, now, str_or_none
from labkit.fakestripe.errors import StripeError
from labkit.fakestripe.state import Store, new_id

CHARGE_UPDATE = {"description", "metadata", "receipt_email", "transfer_group", "expand"}

# outcome.seller_message: Stripe's wording pattern for declines (docs.stripe.com/declines and test-mode charges
# seen in the Dashboard; the exact strings are not verified, 2026-11-26).
GENERIC_SELLER_MESSAGE = "The bank did not return any further details with this decline."
SELLER_MESSAGES = {
    "generic_decline": GENERIC_SELLER_MESSAGE,
    "processing_error": "An error occurred while processing this card.",
    "authentication_required": "The bank returned the decline code `authentication_required`.",
}


def seller_message(decline_code: str | None) -> str:
    if decline_code is None:
        return GENERIC_SELLER_MESSAGE
    return SELLER_MESSAGES.get(decline_code, f"The bank returned the decline code `{decline_code}`.")


class ChargesMixin:
    store: Store

    def _new_charge(self, pi: dict[str, Any], pm: dict[str, Any], status: str, three_d_secure: bool) -> dict[str, Any]:
        card = pm["card"]
        return {
            "id": new_id("ch"), "object": "charge", "amount": pi["amount"], "amount_captured": 0,
            "amount_refunded": 0, "application": None, "application_fee": None, "application_fee_amount": None,
            "balance_transaction": None, "billing_details": Store.snapshot(pm["billing_details"]),
            "calculated_statement_descriptor": "FSU SAFETY SUPPLY", "captured": False, "created": now(),
            "currency": pi["currency"], "customer": pi["customer"], "description": pi["description"],
            "disputed": False, "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
            "fraud_details": {}, "livemode": False, "metadata": dict(pi["metadata"]), "on_behalf_of": None,
            "outcome": None, "paid": False, "payment_intent": pi["id"], "payment_method": pm["id"],
            "payment_method_details": {"card": {
                "amount_authorized": None, "authorization_code": None, "brand": card["brand"],
                "checks": dict(card["checks"]), "country": card["country"], "exp_month": card["exp_month"],
                "exp_year": card["exp_year"], "fingerprint": card["fingerprint"], "funding": card["funding"],
                "installments": None, "last4": card["last4"], "mandate": None, "network": card["brand"],
                "network_token": {"used": False}, "network_transaction_id": None,
                "three_d_secure": ({"authentication_flow": "challenge", "electronic_commerce_indicator": "05",
                                    "result": "authenticated", "result_reason": None, "version": "2.2.0"}
                                   if three_d_secure else None),
                "wallet": None}, "type": "card"},
            "receipt_email": pi["receipt_email"], "receipt_number": None, "receipt_url": None, "refunded": False,
            "review": None, "shipping": pi["shipping"], "source": None, "source_transfer": None,
            "statement_descriptor": pi["statement_descriptor"],
            "statement_descriptor_suffix": pi["statement_descriptor_suffix"], "status": status,
            "transfer_data": None, "transfer_group": pi["transfer_group"],
        }

    def fail_charge(self, pi: dict[str, Any], pm: dict[str, Any], ctx: Ctx, *, code: str, message: str,
                    decline_code: str | None = None, three_d_secure: bool = False) -> StripeError:
        """Record a declined charge on the PaymentIntent; returns the 402 to raise."""
        charge = self._new_charge(pi, pm, "failed", three_d_secure)
        reason = decline_code or code
        charge.update(failure_code=code, failure_message=message, outcome={
            "advice_code": "try_again_later" if code == "processing_error" else "do_not_try_again",
            "network_advice_code": None, "network_decline_code": None,
            "network_status": "declined_by_network", "reason": reason, "risk_level": "normal",
            "risk_score": 20, "seller_message": seller_message(decline_code), "type": "issuer_declined"})
        self.store.add(charge, [("charge.payment_intent", pi["id"])])
        error = {"type": "card_error", "code": code, "message": message, "charge": charge["id"],
                 "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
                 "payment_method": Store.snapshot(pm)}
        if decline_code:
            error["decline_code"] = decline_code
        pi.update(status="requires_payment_method", latest_charge=charge["id"], last_payment_error=error,
                  payment_method=None)
        self.store.save(pi)
        self.emit("charge.failed", charge, ctx)
        self.emit("payment_intent.payment_failed", pi, ctx)
        return StripeError(402, "card_error", message, code=code, decline_code=decline_code, charge=charge["id"],
                           payment_intent=Store.snapshot(self.public(pi)), payment_method=Store.snapshot(pm))

    def charge(self, pi: dict[str, Any], pm: dict[str, Any], card: cardtable.TestCard | None, ctx: Ctx,
               three_d_secure: bool = False) -> dict[str, Any]:
        declines = card is not None and (card.outcome == "decline" or (three_d_secure and card.after_3ds == "decline"))
        if declines:
            raise self.fail_charge(pi, pm, ctx, code=card.code or "card_declined", message=card.message or "",
                                   decline_code=card.decline_code, three_d_secure=three_d_secure)
        charge = self._new_charge(pi, pm, "succeeded", three_d_secure)
        charge.update(paid=True, outcome={
            "advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": "approved_by_network", "reason": None, "risk_level": "normal", "risk_score": 20,
            "seller_message": "Payment complete.", "type": "authorized"})
        charge["payment_method_details"]["card"]["amount_authorized"] = pi["amount"]
        self.store.add(charge, [("charge.payment_intent", pi["id"])])
        pi.update(latest_charge=charge["id"], payment_method=pm["id"])
        if pi["capture_method"] == "manual":
            pi.update(status="requires_capture", amount_capturable=pi["amount"])
            self.store.save(pi)
            self.emit("charge.succeeded", charge, ctx)
            self.emit("payment_intent.amount_capturable_updated", pi, ctx)
            return pi
        self.capture_charge(pi, charge, pi["amount"], ctx, first=True)
        if card is not None and card.outcome == "dispute":
            self.open_dispute(pi, charge, card.dispute_reason or "fraudulent", ctx)
        return pi

    def capture_charge(self, pi: dict[str, Any], charge: dict[str, Any], amount: int, ctx: Ctx, first: bool) -> None:
        """Capture ``amount``; the rest of a partial capture is released (not refunded: Stripe leaves
        ``amount_refunded`` at 0 and a later refund can return at most what was captured)."""
        txn = balance_transaction(self.store, charge["id"], pi["currency"], amount, card_fee(amount),
                                  kind="charge", description=pi["description"])
        charge.update(captured=True, amount_captured=amount, balance_transaction=txn["id"])
        self.store.save(charge)
        pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.store.save(pi)
        if first:
            self.emit("charge.succeeded", charge, ctx)
        else:
            self.emit("charge.captured", charge, ctx, previous={"captured": False, "amount_captured": 0})
        self.emit("payment_intent.succeeded", pi, ctx)
        self.emit("charge.updated", charge, ctx, previous={"balance_transaction": None})

    def update_charge(self, ch_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, CHARGE_UPDATE)
        charge = self._get("charge", ch_id)
        changes = {key: str_or_none(params, key) for key in ("description", "receipt_email", "transfer_group")
                   if key in params}  # every value checked before anything changes
        if "metadata" in params:
            changes["metadata"] = metadata(params["metadata"], charge["metadata"])
        previous: dict[str, Any] = {key: charge[key] for key in changes}
        charge.update(changes)
        self.store.save(charge)
        self.emit("charge.updated", charge, ctx, previous=previous)
        return charge
