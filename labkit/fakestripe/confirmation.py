"""Confirming, authenticating (3D Secure), capturing and canceling a PaymentIntent."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from labkit.fakestripe.common import Ctx, as_bool, as_int, card_of, check_params, metadata, now
from labkit.fakestripe.errors import StripeError, invalid
from labkit.fakestripe.payment_intents import AUTH_FAILURE_MESSAGE, CANCEL_REASONS, MANUAL_CONFIRM_WITH_PK, PI_CONFIRM
from labkit.fakestripe.state import Store, new_id

RETURN_TYPE = "labkit.return_url"  # where a full-page 3D Secure challenge goes back to (never shown by the API)
AUTHENTICATED_TYPE = "labkit.authenticated"  # a completed challenge awaiting the server's confirmation (manual)


def _return_id(pi_id: str) -> str:
    return f"labkitret_{pi_id}"


def _authenticated_id(pi_id: str) -> str:
    return f"labkit3ds_{pi_id}"


class ConfirmationMixin:
    store: Store

    def confirm_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, PI_CONFIRM)
        pi = self._get("payment_intent", pi_id)
        self._check_client_secret(pi, params, ctx)
        if ctx.publishable and pi["confirmation_method"] == "manual":
            raise invalid(MANUAL_CONFIRM_WITH_PK.format(id=pi["id"]), None, "payment_intent_invalid_parameter")
        self._check_confirm(pi["automatic_payment_methods"], params, ctx)
        return self._confirm(pi, params, ctx)

    def _confirm(self, pi: dict[str, Any], params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        new_pm = params.get("payment_method") or params.get("payment_method_data")
        if pi["status"] == "requires_action" and not new_pm:
            return pi  # the challenge is still pending: confirming again changes nothing
        if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise self._unexpected_state(pi, "confirm")
        if not new_pm and not pi["payment_method"]:
            raise StripeError(400, "invalid_request_error",
                              "You cannot confirm this PaymentIntent because it's missing a payment method. "
                              "Update the PaymentIntent with a payment method and then confirm it again.",
                              code="payment_intent_unexpected_state", payment_intent=Store.snapshot(pi))
        if params.get("payment_method"):
            pm = self.resolve_payment_method(params["payment_method"], ctx)
        elif params.get("payment_method_data"):
            pm = self.payment_method_from_data(params["payment_method_data"], ctx, "payment_method_data")
        else:
            pm = self._get("payment_method", pi["payment_method"], "payment_method")
        for key in ("receipt_email", "setup_future_usage", "capture_method"):
            if isinstance(params.get(key), str):
                pi[key] = params[key]
        pi.update(payment_method=pm["id"], last_payment_error=None, next_action=None)
        card = card_of(pm)
        off_session = params.get("off_session") is not None and as_bool(params["off_session"], "off_session")
        done = self.store.get(_authenticated_id(pi["id"]), AUTHENTICATED_TYPE)
        if done is not None:  # manual confirmation after a completed challenge: 3D Secure is not asked again
            self.store.delete(done)
            if done["payment_method"] == pm["id"]:
                return self.charge(pi, pm, card, ctx, three_d_secure=True)
        if card is not None and card.requires_3ds:
            if off_session:
                raise self.fail_charge(pi, pm, ctx, code="authentication_required",
                                       decline_code="authentication_required",
                                       message="Your card was declined. This transaction requires authentication.")
            return self._require_action(pi, params, ctx)
        return self.charge(pi, pm, card, ctx)

    def _require_action(self, pi: dict[str, Any], params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        challenge = f"{ctx.base_url}/3ds/{pi['id']}?client_secret={pi['client_secret']}"
        return_url = params.get("return_url")
        if return_url:
            self.store.add({"id": _return_id(pi["id"]), "object": RETURN_TYPE, "url": return_url})
        sdk = params.get("use_stripe_sdk") is not None and as_bool(params["use_stripe_sdk"], "use_stripe_sdk")
        if return_url and not sdk:  # Stripe.js (use_stripe_sdk) runs a card's challenge in its own modal
            pi["next_action"] = {"type": "redirect_to_url",
                                 "redirect_to_url": {"url": challenge, "return_url": return_url}}
        else:
            pi["next_action"] = {"type": "use_stripe_sdk",
                                 "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": challenge,
                                                    "source": new_id("src")}}
        pi["status"] = "requires_action"
        self.store.save(pi)
        self.emit("payment_intent.requires_action", pi, ctx)
        return pi

    def return_url_after_challenge(self, pi_id: str, client_secret: str) -> str | None:
        """Where the full-page challenge goes back to: the return_url stored with the confirmation
        (never one taken from the challenge page's own link), with Stripe's query parameters."""
        pi = self.store.get(pi_id, "payment_intent")
        stored = self.store.get(_return_id(pi_id), RETURN_TYPE)
        if pi is None or stored is None or client_secret != pi["client_secret"]:
            return None
        status = {"succeeded": "succeeded", "processing": "processing",
                  "requires_capture": "succeeded"}.get(pi["status"], "failed")
        sep = "&" if "?" in stored["url"] else "?"
        return stored["url"] + sep + urlencode({"payment_intent": pi_id, "payment_intent_client_secret": client_secret,
                                                "redirect_status": status})

    def authenticate(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """Finish a pending 3D Secure challenge: ``result=complete`` or ``fail`` (a test helper)."""
        check_params(params, {"result", "client_secret", "key", "expand"})
        pi = self._get("payment_intent", pi_id)
        self._check_client_secret(pi, params, ctx)
        result = params.get("result")
        if result not in ("complete", "fail"):
            raise invalid("result must be 'complete' or 'fail'", "result", "parameter_invalid_string")
        if pi["status"] != "requires_action":
            raise self._unexpected_state(pi, "authenticate")
        pm = self._get("payment_method", pi["payment_method"], "payment_method")
        pi["next_action"] = None
        if result == "fail":
            pi.update(status="requires_payment_method", payment_method=None, last_payment_error={
                "type": "invalid_request_error", "code": "payment_intent_authentication_failure",
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
                "message": AUTH_FAILURE_MESSAGE, "payment_method": Store.snapshot(pm)})
            self.store.save(pi)
            self.emit("payment_intent.payment_failed", pi, ctx)
            return pi
        if pi["confirmation_method"] == "manual":  # as on Stripe: the server confirms again (stripe_today.md)
            pi["status"] = "requires_confirmation"
            self.store.add({"id": _authenticated_id(pi["id"]), "object": AUTHENTICATED_TYPE,
                            "payment_method": pm["id"]})
            return self.store.save(pi)
        try:
            return self.charge(pi, pm, card_of(pm), ctx, three_d_secure=True)
        except StripeError:
            return pi  # the decline is recorded on the PaymentIntent (last_payment_error)

    def capture_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"amount_to_capture", "expand", "metadata", "statement_descriptor"})
        pi = self._get("payment_intent", pi_id)
        if pi["status"] != "requires_capture":
            raise self._unexpected_state(pi, "capture")
        amount = pi["amount_capturable"]
        if "amount_to_capture" in params:
            amount = as_int(params["amount_to_capture"], "amount_to_capture", 1, pi["amount_capturable"])
        if "metadata" in params:
            pi["metadata"] = metadata(params["metadata"], pi["metadata"])
        charge = self._get("charge", pi["latest_charge"])
        self.capture_charge(pi, charge, amount, ctx, first=False)
        return pi

    def cancel_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"cancellation_reason", "expand"})
        pi = self._get("payment_intent", pi_id)
        if pi["status"] in ("succeeded", "canceled", "processing"):
            raise self._unexpected_state(pi, "cancel")
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in CANCEL_REASONS:
            raise invalid(f"Invalid cancellation_reason: must be one of {', '.join(CANCEL_REASONS)}",
                          "cancellation_reason", "parameter_invalid_string")
        pi.update(status="canceled", canceled_at=now(), cancellation_reason=reason, next_action=None,
                  amount_capturable=0)
        self.store.save(pi)
        self.emit("payment_intent.canceled", pi, ctx)
        return pi
