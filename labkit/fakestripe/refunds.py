"""Refunds (``/v1/refunds``, ``/v1/charges/{id}/refunds``): money back, at most what was captured."""
from __future__ import annotations

from typing import Any

from labkit.fakestripe.common import Ctx, as_int, check_params, metadata, now
from labkit.fakestripe.errors import invalid, missing
from labkit.fakestripe.state import Store, new_id

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


class RefundsMixin:
    store: Store

    def create_refund(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"charge", "payment_intent", "amount", "reason", "metadata", "expand"})
        charge = self._charge_to_refund(params)
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(f"Charge {charge['id']} has not been captured or did not succeed, so it cannot be refunded.",
                          "charge", "charge_not_refundable")
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", "charge", "charge_already_refunded")
        amount = remaining if params.get("amount") in (None, "") else as_int(params["amount"], "amount", 1)
        if amount > remaining:
            raise invalid(f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge "
                          f"(${remaining / 100:.2f})", "amount", "amount_too_large")
        reason = params.get("reason")
        if reason is not None and reason not in REASONS:
            raise invalid("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", "reason",
                          "parameter_invalid_string")
        meta = metadata(params.get("metadata"))
        refund = {
            "id": new_id("re"), "object": "refund", "amount": amount, "balance_transaction": None,
            "charge": charge["id"], "created": now(), "currency": charge["currency"],
            "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                             "reference_type": "acquirer_reference_number", "type": "refund"},
                                    "type": "card"},
            "metadata": meta, "payment_intent": charge["payment_intent"],
            "reason": reason, "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
            "transfer_reversal": None,
        }
        self.store.add(refund, [("refund.charge", charge["id"]), ("refund.payment_intent", charge["payment_intent"])])
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.store.save(charge)
        self.emit("refund.created", refund, ctx)
        self.emit("charge.refunded", charge, ctx, previous=previous)
        return refund

    def _charge_to_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("charge"):
            return self._get("charge", params["charge"], "charge")
        if params.get("payment_intent"):
            pi = self._get("payment_intent", params["payment_intent"], "payment_intent")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                raise invalid(f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                              "payment_intent", "charge_not_refundable")
            return self._get("charge", pi["latest_charge"])
        raise missing("charge")

    def update_refund(self, re_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"metadata", "expand"})
        refund = self._get("refund", re_id)
        if "metadata" in params:
            previous = {"metadata": dict(refund["metadata"])}
            refund["metadata"] = metadata(params["metadata"], refund["metadata"])
            self.store.save(refund)
            self.emit("refund.updated", refund, ctx, previous=previous)
        return refund
