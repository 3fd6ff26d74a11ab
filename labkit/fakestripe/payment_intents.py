"""PaymentIntents (``/v1/payment_intents``): the payment state machine.

requires_payment_method → requires_confirmation → (requires_action →) succeeded, or
requires_capture → succeeded with manual capture; a decline returns to
requires_payment_method. Every check runs before anything is written, so a request that
fails validation leaves no trace (and, like Stripe, keeps no idempotency record).
"""
from __future__ import annotations

from typing import Any

from labkit.fakestripe.common import (MAX_AMOUNT, MIN_AMOUNT, Ctx, as_bool, as_dict, as_int, check_params,
                                      metadata, now, str_or_none)
from labkit.fakestripe.errors import StripeError, invalid, missing
from labkit.fakestripe.payment_methods import PM_DATA, STRIPE_JS_EXTRAS
from labkit.fakestripe.state import Store, new_id

# The API's text for a failed challenge (docs.stripe.com/error-codes#payment-intent-authentication-failure,
# 2026-11-26); Stripe.js shows its own wording to the customer (see static/stripe.js).
AUTH_FAILURE_MESSAGE = ("The provided PaymentMethod has failed authentication. You can provide payment_method_data "
                        "or a new PaymentMethod to attempt to fulfill this PaymentIntent again.")
RETURN_URL_NEEDED = ("This PaymentIntent accepts the payment methods enabled in your Dashboard, and some of them need "
                     "a redirect to finish: pass a return_url when confirming, or create the PaymentIntent with "
                     "automatic_payment_methods[allow_redirects]=never (or payment_method_types[]=card).")
PI_CREATE = {"amount", "currency", "automatic_payment_methods", "payment_method_types", "metadata", "description",
             "receipt_email", "payment_method", "payment_method_data", "confirm", "capture_method",
             "confirmation_method", "customer", "statement_descriptor", "statement_descriptor_suffix",
             "setup_future_usage", "shipping", "return_url", "off_session", "payment_method_options", "expand",
             "use_stripe_sdk", "error_on_requires_action", "mandate_data", "transfer_group"}
PI_UPDATE = {"amount", "currency", "metadata", "description", "receipt_email", "payment_method",
             "payment_method_types", "statement_descriptor", "statement_descriptor_suffix", "setup_future_usage",
             "shipping", "capture_method", "expand", "payment_method_options", "transfer_group"}
PI_CONFIRM = {"payment_method", "payment_method_data", "return_url", "receipt_email", "setup_future_usage",
              "off_session", "use_stripe_sdk", "client_secret", "expand", "mandate_data",
              "error_on_requires_action", "payment_method_options", "shipping", "capture_method", *STRIPE_JS_EXTRAS}
UPDATABLE_AFTER_SUCCESS = {"metadata", "description", "receipt_email", "expand", "shipping"}
CANCEL_REASONS = ("abandoned", "duplicate", "fraudulent", "requested_by_customer")


def _amount(value: Any, currency: str) -> int:
    amount = as_int(value, "amount")
    minimum = MIN_AMOUNT.get(currency, 50)
    if amount < minimum:
        shown = f"${minimum / 100:.2f}" if currency == "usd" else f"{minimum} ({currency} smallest unit)"
        raise invalid(f"Amount must be at least {shown} {currency}", "amount", "amount_too_small")
    if amount > MAX_AMOUNT:
        raise invalid("Amount must be no more than $999,999.99" if currency == "usd"
                      else f"Amount must be no more than {MAX_AMOUNT}", "amount", "amount_too_large")
    return amount


def _currency(value: Any) -> str:
    cur = str(value or "").lower() if isinstance(value, str) else ""
    if cur not in MIN_AMOUNT:
        raise invalid(f"Invalid currency: {cur[:10]}. The fake Stripe supports: {', '.join(sorted(MIN_AMOUNT))}.",
                      "currency", "parameter_invalid_string")
    return cur


# Stripe's answer to both parameters at once (its usual wording for parameters that exclude each other, as
# quoted in public bug reports against API 2023-08-16 and later; read 2026-12-04).
APM_WITH_CONFIRMATION_METHOD = ("You may only specify one of these parameters: automatic_payment_methods, "
                                "confirmation_method.")
# A manual-confirmation PaymentIntent confirmed with the publishable key (Stripe's wording as quoted in
# github.com/stripe/stripe-php/issues/1109, 2021-04-06).
MANUAL_CONFIRM_WITH_PK = ("This PaymentIntent {id} cannot be confirmed using your publishable key because its "
                          "`confirmation_method` is set to `manual`. Please use your secret key instead, or create a "
                          "PaymentIntent with `confirmation_method` set to `automatic`.")


def _automatic_payment_methods(params: dict[str, Any]) -> dict[str, Any] | None:
    """Enabled unless turned off or ``payment_method_types`` is given (the default since API
    2023-08-16, docs.stripe.com/changelog/2023-08-16/automatic-payment-methods). Not the default
    either with ``confirmation_method``, which Stripe refuses beside ``automatic_payment_methods``
    (the manual-confirmation samples send neither; not verified on Stripe, 2026-12-04)."""
    if "confirmation_method" in params:
        if params["confirmation_method"] not in ("automatic", "manual"):
            raise invalid("Invalid confirmation_method: must be one of automatic or manual", "confirmation_method",
                          "parameter_invalid_string")
        if "automatic_payment_methods" in params:
            raise invalid(APM_WITH_CONFIRMATION_METHOD, "automatic_payment_methods")
        return None
    if "automatic_payment_methods" not in params:
        return None if "payment_method_types" in params else {"allow_redirects": "always", "enabled": True}
    apm = as_dict(params["automatic_payment_methods"], "automatic_payment_methods")
    check_params(apm, {"enabled", "allow_redirects"}, "automatic_payment_methods")
    if "enabled" not in apm:
        raise missing("automatic_payment_methods[enabled]")
    if not as_bool(apm["enabled"], "automatic_payment_methods[enabled]"):
        return None
    redirects = apm.get("allow_redirects", "always")
    if redirects not in ("always", "never"):
        raise invalid("Invalid automatic_payment_methods[allow_redirects]: must be one of always or never",
                      "automatic_payment_methods[allow_redirects]", "parameter_invalid_string")
    return {"allow_redirects": redirects, "enabled": True}


def _payment_method_types(params: dict[str, Any]) -> list[str]:
    types = params.get("payment_method_types", ["card"])
    if not isinstance(types, list) or not types:
        raise invalid("Invalid array", "payment_method_types", "parameter_invalid_array")
    bad = [t for t in types if t != "card"]
    if bad:
        raise invalid(f"The payment method type \"{str(bad[0])[:30]}\" is invalid. The fake Stripe supports \"card\".",
                      "payment_method_types", "parameter_invalid_string")
    return ["card"]


class PaymentIntentsMixin:
    store: Store

    # -- reading and checking ---------------------------------------------------------
    def _check_client_secret(self, pi: dict[str, Any], params: dict[str, Any], ctx: Ctx) -> None:
        secret = params.get("client_secret")
        if ctx.publishable and not secret:
            raise missing("client_secret")
        if secret is not None and secret != pi["client_secret"]:
            raise invalid("The client_secret provided does not match any associated PaymentIntent on this account.",
                          "client_secret", "payment_intent_invalid_parameter")

    def retrieve_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"client_secret", "expand", "key"})
        pi = self._get("payment_intent", pi_id)
        self._check_client_secret(pi, params, ctx)
        return pi

    def _unexpected_state(self, pi: dict[str, Any], verb: str) -> StripeError:
        return StripeError(400, "invalid_request_error",
                           f"You cannot {verb} this PaymentIntent because it has a status of {pi['status']}.",
                           code="payment_intent_unexpected_state", payment_intent=Store.snapshot(pi))

    def _check_confirm(self, pi_apm: dict[str, Any] | None, params: dict[str, Any], ctx: Ctx) -> None:
        """Checks a confirmation's parameters before anything is written."""
        str_or_none(params, "receipt_email")  # checked before anything is written
        return_url = str_or_none(params, "return_url")
        if return_url is not None and not return_url.startswith(("http://", "https://")):
            raise invalid("Invalid URL: return_url must begin with http:// or https://", "return_url", "url_invalid")
        off_session = "off_session" in params and as_bool(params["off_session"], "off_session")
        if pi_apm and pi_apm["allow_redirects"] == "always" and return_url is None and not off_session \
                and not ctx.publishable:  # Stripe.js handles next actions itself (use_stripe_sdk)
            raise invalid(RETURN_URL_NEEDED, "return_url")
        if pi_apm and "error_on_requires_action" in params:
            raise invalid("error_on_requires_action cannot be used with automatic_payment_methods: create the "
                          "PaymentIntent with payment_method_types[]=card instead.", "error_on_requires_action")
        if "payment_method_data" in params:
            pmd = as_dict(params["payment_method_data"], "payment_method_data")
            check_params(pmd, PM_DATA, "payment_method_data")
        for flag in ("off_session", "use_stripe_sdk", "error_on_requires_action"):
            if flag in params:
                as_bool(params[flag], flag)

    # -- create, update -------------------------------------------------------------
    def create_payment_intent(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, PI_CREATE)
        for required in ("amount", "currency"):
            if params.get(required) in (None, ""):
                raise missing(required)
        currency = _currency(params["currency"])
        amount = _amount(params["amount"], currency)
        if "automatic_payment_methods" in params and "payment_method_types" in params:
            raise invalid("You may only specify one of these parameters: automatic_payment_methods, "
                          "payment_method_types.", "automatic_payment_methods")
        apm = _automatic_payment_methods(params)
        _payment_method_types(params)
        capture = params.get("capture_method", "automatic")
        if capture not in ("automatic", "automatic_async", "manual"):
            raise invalid("Invalid capture_method: must be one of automatic, automatic_async, or manual",
                          "capture_method", "parameter_invalid_string")
        if "payment_method" in params and "payment_method_data" in params:
            raise invalid("You may only specify one of these parameters: payment_method, payment_method_data.",
                          "payment_method_data")
        confirm = "confirm" in params and as_bool(params["confirm"], "confirm")
        if confirm:
            self._check_confirm(apm, params, ctx)
        elif "payment_method_data" in params:
            check_params(as_dict(params["payment_method_data"], "payment_method_data"), PM_DATA, "payment_method_data")
        meta = metadata(params.get("metadata"))
        pi = self._new_payment_intent(params, amount, currency, capture, apm, meta)
        if params.get("payment_method"):
            pi["payment_method"] = self.resolve_payment_method(params["payment_method"], ctx)["id"]
        elif "payment_method_data" in params:
            pi["payment_method"] = self.payment_method_from_data(params["payment_method_data"], ctx,
                                                                 "payment_method_data")["id"]
        if pi["payment_method"]:
            pi["status"] = "requires_confirmation"
        self.store.add(pi)
        self.emit("payment_intent.created", pi, ctx)
        if confirm:
            confirm_params = {k: v for k, v in params.items()
                              if k in PI_CONFIRM and k not in ("payment_method", "payment_method_data")}
            return self._confirm(pi, confirm_params, ctx)
        return pi

    def _new_payment_intent(self, params: dict[str, Any], amount: int, currency: str, capture: str,
                            apm: dict[str, Any] | None, meta: dict[str, str]) -> dict[str, Any]:
        pi_id = new_id("pi")
        text = {k: str_or_none(params, k) for k in ("customer", "description", "receipt_email", "statement_descriptor",
                                                    "statement_descriptor_suffix", "transfer_group",
                                                    "setup_future_usage")}
        return {
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_details": {"tip": {}}, "amount_received": 0, "application": None, "application_fee_amount": None,
            "automatic_payment_methods": apm, "canceled_at": None, "cancellation_reason": None,
            "capture_method": capture, "client_secret": f"{pi_id}_secret_{new_id('x', 25)[2:]}",
            "confirmation_method": "manual" if params.get("confirmation_method") == "manual" else "automatic",
            "created": now(), "currency": currency, "customer": text["customer"], "description": text["description"],
            "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": None,
            "livemode": False, "metadata": meta, "next_action": None, "on_behalf_of": None, "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                                "request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"], "processing": None, "receipt_email": text["receipt_email"],
            "review": None, "setup_future_usage": text["setup_future_usage"],
            "shipping": params.get("shipping") if isinstance(params.get("shipping"), dict) else None,
            "source": None, "statement_descriptor": text["statement_descriptor"],
            "statement_descriptor_suffix": text["statement_descriptor_suffix"],
            "status": "requires_payment_method", "transfer_data": None, "transfer_group": text["transfer_group"],
        }

    def update_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, PI_UPDATE)
        pi = self._get("payment_intent", pi_id)
        if pi["status"] in ("succeeded", "canceled", "processing"):
            changing = {k for k in params if k not in UPDATABLE_AFTER_SUCCESS}
            if changing:
                raise self._unexpected_state(pi, f"update {sorted(changing)[0]} of")
        currency = _currency(params["currency"]) if "currency" in params else pi["currency"]
        amount = _amount(params["amount"], currency) if "amount" in params else None
        meta = metadata(params["metadata"], pi["metadata"]) if "metadata" in params else None
        text = {k: str_or_none(params, k) for k in ("description", "receipt_email", "statement_descriptor",
                                                    "statement_descriptor_suffix", "setup_future_usage",
                                                    "transfer_group") if k in params}
        if "capture_method" in params and params["capture_method"] not in ("automatic", "automatic_async", "manual"):
            raise invalid("Invalid capture_method: must be one of automatic, automatic_async, or manual",
                          "capture_method", "parameter_invalid_string")
        if "payment_method_types" in params:
            _payment_method_types(params)
        pm = self.resolve_payment_method(params["payment_method"], ctx) if params.get("payment_method") else None
        pi["currency"] = currency
        pi.update(text)
        if amount is not None:
            pi["amount"] = amount
        if meta is not None:
            pi["metadata"] = meta
        if "shipping" in params:
            pi["shipping"] = params["shipping"] if isinstance(params["shipping"], dict) else None
        if "capture_method" in params:
            pi["capture_method"] = params["capture_method"]
        if pm is not None:
            pi["payment_method"] = pm["id"]
            if pi["status"] == "requires_payment_method":
                pi["status"] = "requires_confirmation"
        return self.store.save(pi)
