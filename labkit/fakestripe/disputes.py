"""Disputes (``/v1/disputes``): the 0259 card's chargeback, which takes the money back.

Opening a dispute withdraws the disputed amount plus the dispute fee from the balance
(a balance transaction and ``charge.dispute.funds_withdrawn``), as Stripe does. Closing
it (``POST /v1/disputes/{id}/close``) accepts the loss: the money stays withdrawn.
"""
from __future__ import annotations

from typing import Any

from labkit.fakestripe.account import balance_transaction
from labkit.fakestripe.common import DISPUTE_FEE, Ctx, as_bool, as_dict, as_str, check_params, metadata, now
from labkit.fakestripe.errors import StripeError
from labkit.fakestripe.state import Store, new_id

EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation", "duplicate_charge_explanation",
    "duplicate_charge_id", "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address", "shipping_carrier",
    "shipping_date", "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)
OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")


def _evidence() -> dict[str, Any]:
    evidence: dict[str, Any] = {name: None for name in EVIDENCE_FIELDS}
    evidence.update(appeal=None, enhanced_evidence={})
    return evidence


class DisputesMixin:
    store: Store

    def open_dispute(self, pi: dict[str, Any], charge: dict[str, Any], reason: str, ctx: Ctx) -> None:
        dispute = {
            "id": new_id("dp"), "object": "dispute", "amount": charge["amount_captured"], "balance_transactions": [],
            "charge": charge["id"], "created": now(), "currency": charge["currency"],
            "enhanced_eligibility_types": [], "evidence": _evidence(),
            "evidence_details": {"due_by": now() + 7 * 86400, "enhanced_eligibility": {}, "has_evidence": False,
                                 "past_due": False, "submission_count": 0, "submission_method": None},
            "is_charge_refundable": False, "livemode": False, "metadata": {}, "network_reason_code": None,
            "payment_intent": pi["id"],
            "payment_method_details": {"card": {"brand": charge["payment_method_details"]["card"]["brand"],
                                                "case_type": "chargeback",
                                                "network_reason_code": "10.4" if reason == "fraudulent" else "13.1"},
                                       "type": "card"},
            "reason": reason, "status": "needs_response",
        }
        self.store.add(dispute, [("dispute.charge", charge["id"]), ("dispute.payment_intent", pi["id"])])
        charge["disputed"] = True
        self.store.save(charge)
        self.emit("charge.dispute.created", dispute, ctx)
        txn = balance_transaction(self.store, dispute["id"], dispute["currency"], -dispute["amount"], DISPUTE_FEE,
                                  kind="adjustment", description=f"Chargeback withdrawal for {charge['id']}")
        dispute["balance_transactions"] = [Store.snapshot(txn)]
        self.store.save(dispute)
        self.emit("charge.dispute.funds_withdrawn", dispute, ctx)

    def update_dispute(self, dp_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"evidence", "metadata", "submit", "expand"})
        dispute = self._get("dispute", dp_id)
        if dispute["status"] not in OPEN:
            raise StripeError(400, "invalid_request_error", f"This dispute is already closed ({dispute['status']}).")
        previous: dict[str, Any] = {}
        if "evidence" in params:
            evidence = as_dict(params["evidence"], "evidence")
            check_params(evidence, set(EVIDENCE_FIELDS), "evidence")
            previous["evidence"] = dict(dispute["evidence"])
            for key, value in evidence.items():
                dispute["evidence"][key] = as_str(value, f"evidence[{key}]", empty_ok=True)[:20000] or None
            dispute["evidence_details"]["has_evidence"] = any(
                dispute["evidence"][k] for k in EVIDENCE_FIELDS)
        if "metadata" in params:
            previous["metadata"] = dict(dispute["metadata"])
            dispute["metadata"] = metadata(params["metadata"], dispute["metadata"])
        if "submit" in params and as_bool(params["submit"], "submit"):
            previous["status"] = dispute["status"]
            dispute["status"] = "under_review"
            dispute["evidence_details"]["submission_count"] += 1
            dispute["evidence_details"]["submission_method"] = "manual"
        self.store.save(dispute)
        self.emit("charge.dispute.updated", dispute, ctx, previous=previous)
        return dispute

    def close_dispute(self, dp_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"expand"})
        dispute = self._get("dispute", dp_id)
        if dispute["status"] not in OPEN:
            raise StripeError(400, "invalid_request_error", f"This dispute is already closed ({dispute['status']}).")
        previous = {"status": dispute["status"]}
        dispute["status"] = "lost"
        self.store.save(dispute)
        self.emit("charge.dispute.closed", dispute, ctx, previous=previous)
        return dispute
