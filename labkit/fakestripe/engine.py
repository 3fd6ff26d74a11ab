"""What the fake Stripe does: resources, the payment state machine, and events.

The HTTP layer (:mod:`labkit.fakestripe.api`) parses and authenticates requests and calls
one method here per endpoint with already-decoded parameters. Every method runs under
the store's lock, so a request sees and leaves a consistent state.
"""
from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from labkit.fakestripe import cards as cardtable
from labkit.fakestripe.errors import StripeError, invalid, missing, no_such, unknown_param
from labkit.fakestripe.state import Store, new_id
from labkit.serving import is_loopback_url

API_VERSION = "2026-10-28.endive"  # the version stripe-python 16.1 pins
ACCOUNT_ID = "acct_1LabkitOfflineFake"

# Smallest amount per currency (in the currency's smallest unit), from Stripe's docs.
MIN_AMOUNT = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "jpy": 50, "chf": 50, "mxn": 1000}
MAX_AMOUNT = 99999999
ZERO_DECIMAL = {"jpy"}
CARD_FEE_PERCENT, CARD_FEE_FIXED = 2.9, 30  # Stripe US standard card pricing, stripe.com/pricing

AUTH_FAILURE_MESSAGE = ("We are unable to authenticate your payment method. "
                        "Please choose a different payment method and try again.")

EVENT_TYPES = {
    "payment_intent.created", "payment_intent.requires_action", "payment_intent.processing",
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
    "payment_intent.amount_capturable_updated",
    "charge.succeeded", "charge.failed", "charge.captured", "charge.updated", "charge.refunded",
    "charge.dispute.created", "refund.created", "payment_method.created",
}


@dataclass
class Ctx:
    """Per-request facts the engine needs."""

    request_id: str
    idempotency_key: str | None = None
    base_url: str = ""
    publishable: bool = False  # the caller used a publishable key (the browser)


def now() -> int:
    return int(time.time())


def _int(value: Any, param: str, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip().lstrip("-").isdigit()):
        raise invalid(f"Invalid integer: {value}", param, "parameter_invalid_integer")
    n = int(value)
    if lo is not None and n < lo:
        raise invalid(f"This value must be greater than or equal to {lo}.", param, "parameter_invalid_integer")
    if hi is not None and n > hi:
        raise invalid(f"This value must be less than or equal to {hi}.", param, "parameter_invalid_integer")
    return n


def _bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0", ""):
        return False
    raise invalid(f"Invalid boolean: {value}", param, "parameter_invalid_boolean")


def _check_params(params: dict[str, Any], allowed: set[str]) -> None:
    for key in params:
        if key not in allowed:
            raise unknown_param(key)


def _metadata(raw: Any, current: dict[str, str] | None = None) -> dict[str, str]:
    result = dict(current or {})
    if raw in ("", None):
        return {} if raw == "" else result
    if not isinstance(raw, dict):
        raise invalid("Invalid object", "metadata", "parameter_invalid_object")
    for key, value in raw.items():
        if len(key) > 40:
            raise invalid(f"Metadata keys can have up to 40 characters: {key}", f"metadata[{key}]")
        if value in ("", None):
            result.pop(key, None)
        else:
            value = str(value)
            if len(value) > 500:
                raise invalid("Metadata values can have up to 500 characters, but you passed in a value that is "
                              f"{len(value)} characters.", f"metadata[{key}]")
            result[key] = value
    if len(result) > 50:
        raise invalid("Metadata can have up to 50 keys.", "metadata")
    return result


def fingerprint(number: str) -> str:
    return hashlib.sha256(("labkit:" + number).encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _cards_by_fingerprint() -> dict[str, cardtable.TestCard]:
    return {fingerprint(c.number): c for c in cardtable.all_cards()}


def card_of(pm: dict[str, Any]) -> cardtable.TestCard | None:
    """The test card behind a PaymentMethod (found by its fingerprint; the number is not kept)."""
    return _cards_by_fingerprint().get(pm["card"]["fingerprint"])


class Engine:
    def __init__(self, store: Store, deliver: Callable[[str, str], None]) -> None:
        self.store = store
        self._deliver = deliver  # (endpoint_id, event_id) -> queue a delivery
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=2000)
        self.account = self._account()

    # ------------------------------------------------------------------ helpers
    def _get(self, typ: str, obj_id: str, param: str = "id") -> dict[str, Any]:
        obj = self.store.get(obj_id, typ)
        if obj is None:
            raise no_such(typ, obj_id, param)
        return obj

    def emit(self, type_: str, obj: dict[str, Any], ctx: Ctx | None, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        endpoints = [e for e in self.store.all("webhook_endpoint")
                     if e["status"] == "enabled" and ("*" in e["enabled_events"] or type_ in e["enabled_events"])]
        data: dict[str, Any] = {"object": Store.snapshot(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": now(),
            "data": data, "livemode": False, "pending_webhooks": len(endpoints),
            "request": {"id": ctx.request_id if ctx else None,
                        "idempotency_key": ctx.idempotency_key if ctx else None},
            "type": type_,
        }
        self.store.add(event, [("event.type", type_)])
        for endpoint in endpoints:
            self._deliver(endpoint["id"], event["id"])
        return event

    def record_delivery(self, endpoint_id: str, event_id: str, attempt: int, status: int | None, outcome: str) -> None:
        with self.store.lock:
            event = self.store.get(event_id, "event")
            if event is not None and status is not None and 200 <= status < 300:
                event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)
                self.store.save(event)
            self.deliveries.append({
                "created": now(), "endpoint": endpoint_id, "event": event_id,
                "type": event["type"] if event else None, "attempt": attempt, "status": status, "outcome": outcome,
            })

    # ------------------------------------------------------------------ account
    def _account(self) -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID, "object": "account", "type": "standard", "country": "US", "default_currency": "usd",
            "email": "owner@fsu-safety-supply.test", "created": 1700000000,
            "business_profile": {"name": "FSU Safety Supply (offline fake Stripe)", "mcc": "5099",
                                 "product_description": "Safety equipment for the ITEC-442 payments lab",
                                 "support_email": None, "support_phone": None, "support_url": None, "url": None},
            "business_type": "company",
            "capabilities": {"card_payments": "active", "transfers": "active"},
            "charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
            "controller": {"type": "account"},
            "metadata": {},
            "requirements": {"alternatives": [], "current_deadline": None, "currently_due": [], "disabled_reason": None,
                             "errors": [], "eventually_due": [], "past_due": [], "pending_verification": []},
            "settings": {"dashboard": {"display_name": "FSU Safety Supply", "timezone": "Etc/UTC"},
                         "payments": {"statement_descriptor": "FSU SAFETY SUPPLY"},
                         "payouts": {"debit_negative_balances": True,
                                     "schedule": {"delay_days": 2, "interval": "daily"}, "statement_descriptor": None}},
        }

    def balance(self) -> dict[str, Any]:
        pending: dict[str, int] = {}
        for txn in self.store.all("balance_transaction"):
            pending[txn["currency"]] = pending.get(txn["currency"], 0) + txn["net"]
        rows = [{"amount": amount, "currency": cur, "source_types": {"card": amount}} for cur, amount in pending.items()]
        return {"object": "balance", "livemode": False,
                "available": [{"amount": 0, "currency": r["currency"], "source_types": {"card": 0}} for r in rows]
                or [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
                "pending": rows or [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]}

    # ------------------------------------------------------------------ payment methods
    PM_PARAMS = {"type", "card", "billing_details", "metadata", "expand", "key", "payment_user_agent", "time_on_page",
                 "guid", "muid", "sid", "referrer", "client_attribution_metadata"}

    def create_payment_method(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, self.PM_PARAMS)
        if params.get("type") != "card":
            raise missing("type") if "type" not in params else invalid(
                f"Invalid type: must be one of card (the fake supports card only)", "type")
        card = params.get("card")
        if not isinstance(card, dict):
            raise missing("card")
        return self._payment_method_from_card(card, params, ctx)

    def _payment_method_from_card(self, card: dict[str, Any], params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        if "token" in card:
            raise invalid("Tokens are not supported by the fake Stripe: use a pm_card_… test id.", "card[token]")
        if not ctx.publishable:
            raise invalid("Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you "
                          "use test tokens that map to the test card you are using, see "
                          "https://stripe.com/docs/testing. (In the lab: use a pm_card_… id, or Stripe.js in the browser.)",
                          "card[number]", "card_number_unsafe")
        number = "".join(ch for ch in str(card.get("number", "")) if ch.isdigit())
        if not number:
            raise missing("card[number]")
        if not (12 <= len(number) <= 19) or not cardtable.luhn_valid(number):
            raise StripeError(402, "card_error", "Your card number is incorrect.", code="incorrect_number", param="number")
        test = cardtable.by_number(number)
        if test is None:
            raise StripeError(402, "card_error", "Your card was declined. Your request was in test mode, but used a "
                              "non test (live) card. For a list of valid test cards, visit: "
                              "https://stripe.com/docs/testing.", code="card_declined",
                              decline_code="test_mode_live_card")
        month = _int(card.get("exp_month"), "card[exp_month]") if card.get("exp_month") not in (None, "") else None
        year = _int(card.get("exp_year"), "card[exp_year]") if card.get("exp_year") not in (None, "") else None
        if month is None:
            raise missing("card[exp_month]")
        if year is None:
            raise missing("card[exp_year]")
        if year < 100:
            year += 2000
        if not 1 <= month <= 12:
            raise StripeError(402, "card_error", "Your card's expiration month is invalid.", code="invalid_expiry_month",
                              param="exp_month")
        today = time.gmtime()
        if (year, month) < (today.tm_year, today.tm_mon) or year > today.tm_year + 50:
            raise StripeError(402, "card_error", "Your card's expiration year is invalid.", code="invalid_expiry_year",
                              param="exp_year")
        cvc = str(card.get("cvc", ""))
        if cvc and (not cvc.isdigit() or len(cvc) != test.cvc_length):
            raise StripeError(402, "card_error", "Your card's security code is invalid.", code="invalid_cvc", param="cvc")
        return self._new_payment_method(test, month, year, params, ctx, cvc_check="pass" if cvc else None)

    def _new_payment_method(self, test: cardtable.TestCard, month: int, year: int, params: dict[str, Any],
                            ctx: Ctx | None, cvc_check: str | None = "pass") -> dict[str, Any]:
        billing = params.get("billing_details") if isinstance(params.get("billing_details"), dict) else {}
        address = billing.get("address") if isinstance(billing.get("address"), dict) else {}
        pm = {
            "id": new_id("pm"), "object": "payment_method", "allow_redisplay": "unspecified",
            "billing_details": {
                "address": {k: address.get(k) for k in ("city", "country", "line1", "line2", "postal_code", "state")},
                "email": billing.get("email"), "name": billing.get("name"), "phone": billing.get("phone"),
                "tax_id": None,
            },
            "card": {
                "brand": test.brand, "checks": {"address_line1_check": None,
                                                "address_postal_code_check": "pass" if address.get("postal_code") else None,
                                                "cvc_check": cvc_check},
                "country": "US", "display_brand": test.brand, "exp_month": month, "exp_year": year,
                "fingerprint": fingerprint(test.number), "funding": test.funding,
                "generated_from": None, "last4": test.last4,
                "networks": {"available": [test.brand], "preferred": None}, "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True}, "wallet": None,
            },
            "created": now(), "customer": None, "livemode": False,
            "metadata": _metadata(params.get("metadata")), "type": "card",
        }
        return self.store.add(pm)

    def resolve_payment_method(self, ref: Any, ctx: Ctx, param: str = "payment_method") -> dict[str, Any]:
        if not isinstance(ref, str) or not ref:
            raise invalid("Invalid payment_method: must be a PaymentMethod id", param)
        alias = cardtable.by_pm_alias(ref)
        if alias is not None:
            year = time.gmtime().tm_year + 3
            return self._new_payment_method(alias, 12, year, {}, ctx)
        return self._get("payment_method", ref, param)

    # ------------------------------------------------------------------ payment intents
    PI_CREATE = {"amount", "currency", "automatic_payment_methods", "payment_method_types", "metadata", "description",
                 "receipt_email", "payment_method", "payment_method_data", "confirm", "capture_method",
                 "confirmation_method", "customer", "statement_descriptor", "statement_descriptor_suffix",
                 "setup_future_usage", "shipping", "return_url", "off_session", "payment_method_options", "expand",
                 "use_stripe_sdk", "error_on_requires_action", "mandate_data", "transfer_group"}
    PI_UPDATE = {"amount", "currency", "metadata", "description", "receipt_email", "payment_method",
                 "payment_method_types", "statement_descriptor", "statement_descriptor_suffix", "setup_future_usage",
                 "shipping", "capture_method", "expand", "payment_method_options", "transfer_group"}
    PI_CONFIRM = {"payment_method", "payment_method_data", "return_url", "receipt_email", "setup_future_usage",
                  "off_session", "use_stripe_sdk", "client_secret", "key", "expand", "mandate_data",
                  "error_on_requires_action", "payment_method_options", "shipping", "capture_method",
                  # what real Stripe.js sends along from the browser
                  "payment_user_agent", "time_on_page", "guid", "muid", "sid", "referrer",
                  "client_attribution_metadata"}

    def _amount(self, params: dict[str, Any], currency: str) -> int:
        amount = _int(params["amount"], "amount")
        minimum = MIN_AMOUNT.get(currency, 50)
        if amount < minimum:
            shown = f"${minimum / 100:.2f}" if currency == "usd" else f"{minimum} ({currency} smallest unit)"
            raise invalid(f"Amount must be at least {shown} {currency}", "amount", "amount_too_small")
        if amount > MAX_AMOUNT:
            raise invalid("Amount must be no more than $999,999.99" if currency == "usd"
                          else f"Amount must be no more than {MAX_AMOUNT}", "amount", "amount_too_large")
        return amount

    @staticmethod
    def _currency(value: Any) -> str:
        cur = str(value or "").lower()
        if cur not in MIN_AMOUNT:
            raise invalid(f"Invalid currency: {cur}. The fake Stripe supports: {', '.join(sorted(MIN_AMOUNT))}.",
                          "currency", "parameter_invalid_string")
        return cur

    def create_payment_intent(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, self.PI_CREATE)
        for required in ("amount", "currency"):
            if params.get(required) in (None, ""):
                raise missing(required)
        currency = self._currency(params["currency"])
        amount = self._amount(params, currency)
        if "automatic_payment_methods" in params and "payment_method_types" in params:
            raise invalid("You may only specify one of these parameters: automatic_payment_methods, "
                          "payment_method_types.", "automatic_payment_methods")
        apm = params.get("automatic_payment_methods")
        apm_enabled = isinstance(apm, dict) and _bool(apm.get("enabled", False), "automatic_payment_methods[enabled]")
        types = params.get("payment_method_types")
        if types is not None:
            if not isinstance(types, list) or not types:
                raise invalid("Invalid array", "payment_method_types")
            bad = [t for t in types if t != "card"]
            if bad:
                raise invalid(f"The payment method type \"{bad[0]}\" is invalid. The fake Stripe supports \"card\".",
                              "payment_method_types")
        capture = params.get("capture_method", "automatic")
        if capture not in ("automatic", "automatic_async", "manual"):
            raise invalid(f"Invalid capture_method: must be one of automatic, automatic_async, or manual",
                          "capture_method")
        pi_id = new_id("pi")
        pi = {
            "id": pi_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_details": {"tip": {}}, "amount_received": 0, "application": None, "application_fee_amount": None,
            "automatic_payment_methods": {"allow_redirects": "always", "enabled": True} if apm_enabled else None,
            "canceled_at": None, "cancellation_reason": None, "capture_method": capture,
            "client_secret": f"{pi_id}_secret_{new_id('x', 25)[2:]}",
            "confirmation_method": params.get("confirmation_method", "automatic"), "created": now(),
            "currency": currency, "customer": params.get("customer"), "description": params.get("description"),
            "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": None,
            "livemode": False, "metadata": _metadata(params.get("metadata")), "next_action": None,
            "on_behalf_of": None, "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                                "request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"], "processing": None, "receipt_email": params.get("receipt_email"),
            "review": None, "setup_future_usage": params.get("setup_future_usage"), "shipping": params.get("shipping"),
            "source": None, "statement_descriptor": params.get("statement_descriptor"),
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
            "status": "requires_payment_method", "transfer_data": None, "transfer_group": params.get("transfer_group"),
        }
        if params.get("payment_method"):
            pi["payment_method"] = self.resolve_payment_method(params["payment_method"], ctx)["id"]
            pi["status"] = "requires_confirmation"
        self.store.add(pi)
        self.emit("payment_intent.created", pi, ctx)
        if params.get("confirm") is not None and _bool(params["confirm"], "confirm"):
            confirm_params = {k: v for k, v in params.items() if k in self.PI_CONFIRM and k != "payment_method"}
            return self._confirm(pi, confirm_params, ctx)
        return pi

    def retrieve_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, {"client_secret", "expand", "key"})
        pi = self._get("payment_intent", pi_id)
        self._check_client_secret(pi, params, ctx)
        return pi

    def _check_client_secret(self, pi: dict[str, Any], params: dict[str, Any], ctx: Ctx) -> None:
        secret = params.get("client_secret")
        if ctx.publishable and not secret:
            raise missing("client_secret")
        if secret is not None and secret != pi["client_secret"]:
            raise invalid("The client_secret provided does not match any associated PaymentIntent on this account.",
                          "client_secret", "payment_intent_invalid_parameter")

    def update_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, self.PI_UPDATE)
        pi = self._get("payment_intent", pi_id)
        if pi["status"] in ("succeeded", "canceled", "processing"):
            changing = {k for k in params if k not in ("metadata", "description", "receipt_email", "expand", "shipping")}
            if changing:
                raise self._unexpected_state(pi, f"update {sorted(changing)[0]} of")
        if "currency" in params:
            pi["currency"] = self._currency(params["currency"])
        if "amount" in params:
            pi["amount"] = self._amount(params, pi["currency"])
        if "metadata" in params:
            pi["metadata"] = _metadata(params["metadata"], pi["metadata"])
        for key in ("description", "receipt_email", "statement_descriptor", "statement_descriptor_suffix",
                    "setup_future_usage", "shipping", "transfer_group", "capture_method"):
            if key in params:
                pi[key] = params[key] or None
        if params.get("payment_method"):
            pi["payment_method"] = self.resolve_payment_method(params["payment_method"], ctx)["id"]
            if pi["status"] == "requires_payment_method":
                pi["status"] = "requires_confirmation"
        return self.store.save(pi)

    def _unexpected_state(self, pi: dict[str, Any], verb: str) -> StripeError:
        return StripeError(400, "invalid_request_error",
                           f"You cannot {verb} this PaymentIntent because it has a status of {pi['status']}.",
                           code="payment_intent_unexpected_state", payment_intent=Store.snapshot(pi))

    def confirm_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, self.PI_CONFIRM)
        pi = self._get("payment_intent", pi_id)
        self._check_client_secret(pi, params, ctx)
        return self._confirm(pi, params, ctx)

    def _confirm(self, pi: dict[str, Any], params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        if pi["status"] == "requires_action" and not (params.get("payment_method") or params.get("payment_method_data")):
            return pi  # the challenge is still pending: confirming again changes nothing
        if pi["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise self._unexpected_state(pi, "confirm")
        if params.get("payment_method"):
            pm = self.resolve_payment_method(params["payment_method"], ctx)
        elif isinstance(params.get("payment_method_data"), dict):
            pmd = params["payment_method_data"]
            if pmd.get("type") != "card" or not isinstance(pmd.get("card"), dict):
                raise invalid("payment_method_data must describe a card", "payment_method_data[type]")
            pm = self._payment_method_from_card(pmd["card"], pmd, ctx)
        elif pi["payment_method"]:
            pm = self._get("payment_method", pi["payment_method"], "payment_method")
        else:
            raise StripeError(400, "invalid_request_error",
                              "You cannot confirm this PaymentIntent because it's missing a payment method. "
                              "Update the PaymentIntent with a payment method and then confirm it again.",
                              code="payment_intent_unexpected_state", payment_intent=Store.snapshot(pi))
        for key in ("receipt_email", "setup_future_usage", "shipping", "capture_method"):
            if key in params:
                pi[key] = params[key]
        pi["payment_method"] = pm["id"]
        pi["last_payment_error"] = None
        pi["next_action"] = None
        card = card_of(pm)
        off_session = params.get("off_session") is not None and _bool(params["off_session"], "off_session")
        if card is not None and card.requires_3ds:
            if off_session:
                return self._fail(pi, pm, ctx, code="authentication_required", decline_code="authentication_required",
                                  message="Your card was declined. This transaction requires authentication.")
            return self._require_action(pi, params, ctx)
        return self._charge(pi, pm, card, ctx)

    def _require_action(self, pi: dict[str, Any], params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        challenge = f"{ctx.base_url}/3ds/{pi['id']}?client_secret={pi['client_secret']}"
        if params.get("return_url"):
            pi["next_action"] = {"type": "redirect_to_url",
                                 "redirect_to_url": {"url": challenge + "&return_url=" + str(params["return_url"]),
                                                     "return_url": params["return_url"]}}
        else:
            pi["next_action"] = {"type": "use_stripe_sdk",
                                 "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": challenge,
                                                    "source": new_id("src")}}
        pi["status"] = "requires_action"
        self.store.save(pi)
        self.emit("payment_intent.requires_action", pi, ctx)
        return pi

    def authenticate(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """Finish a pending 3D Secure challenge: ``result=complete`` or ``fail`` (a test helper)."""
        _check_params(params, {"result", "client_secret", "key", "expand"})
        pi = self._get("payment_intent", pi_id)
        self._check_client_secret(pi, params, ctx)
        result = params.get("result")
        if result not in ("complete", "fail"):
            raise invalid("result must be 'complete' or 'fail'", "result")
        if pi["status"] != "requires_action":
            raise self._unexpected_state(pi, "authenticate")
        pm = self._get("payment_method", pi["payment_method"], "payment_method")
        pi["next_action"] = None
        if result == "fail":
            pi["status"] = "requires_payment_method"
            pi["last_payment_error"] = {
                "type": "invalid_request_error", "code": "payment_intent_authentication_failure",
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
                "message": AUTH_FAILURE_MESSAGE, "payment_method": Store.snapshot(pm),
            }
            self.store.save(pi)
            self.emit("payment_intent.payment_failed", pi, ctx)
            return pi
        card = card_of(pm)
        try:
            return self._charge(pi, pm, card, ctx, three_d_secure=True)
        except StripeError:
            return pi  # the decline is recorded on the PaymentIntent (last_payment_error)

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
            "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": ""},
            "review": None, "shipping": pi["shipping"], "source": None, "source_transfer": None,
            "statement_descriptor": pi["statement_descriptor"],
            "statement_descriptor_suffix": pi["statement_descriptor_suffix"], "status": status,
            "transfer_data": None, "transfer_group": pi["transfer_group"],
        }

    def _fail(self, pi: dict[str, Any], pm: dict[str, Any], ctx: Ctx, *, code: str, message: str,
              decline_code: str | None = None, three_d_secure: bool = False) -> dict[str, Any]:
        charge = self._new_charge(pi, pm, "failed", three_d_secure)
        charge["refunds"]["url"] = f"/v1/charges/{charge['id']}/refunds"
        charge.update(failure_code=code, failure_message=message, outcome={
            "advice_code": "try_again_later" if code == "processing_error" else "do_not_try_again",
            "network_advice_code": None, "network_decline_code": None,
            "network_status": "declined_by_network", "reason": decline_code or code, "risk_level": "normal",
            "risk_score": 20, "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined"})
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
        raise StripeError(402, "card_error", message, code=code, decline_code=decline_code, charge=charge["id"],
                          payment_intent=Store.snapshot(pi), payment_method=Store.snapshot(pm))

    def _charge(self, pi: dict[str, Any], pm: dict[str, Any], card: cardtable.TestCard | None, ctx: Ctx,
                three_d_secure: bool = False) -> dict[str, Any]:
        declines = card is not None and (card.outcome == "decline" or (three_d_secure and card.after_3ds == "decline"))
        if declines:
            return self._fail(pi, pm, ctx, code=card.code or "card_declined", message=card.message or "",
                              decline_code=card.decline_code, three_d_secure=three_d_secure)
        charge = self._new_charge(pi, pm, "succeeded", three_d_secure)
        charge["refunds"]["url"] = f"/v1/charges/{charge['id']}/refunds"
        manual = pi["capture_method"] == "manual"
        charge.update(paid=True, outcome={
            "advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": "approved_by_network", "reason": None, "risk_level": "normal", "risk_score": 20,
            "seller_message": "Payment complete.", "type": "authorized"})
        charge["payment_method_details"]["card"]["amount_authorized"] = pi["amount"]
        self.store.add(charge, [("charge.payment_intent", pi["id"])])
        pi.update(latest_charge=charge["id"], payment_method=pm["id"])
        if manual:
            pi.update(status="requires_capture", amount_capturable=pi["amount"])
            self.store.save(pi)
            self.emit("charge.succeeded", charge, ctx)
            self.emit("payment_intent.amount_capturable_updated", pi, ctx)
            return pi
        self._capture_charge(pi, charge, pi["amount"], ctx, first=True)
        if card is not None and card.outcome == "dispute":
            self._open_dispute(pi, charge, card.dispute_reason or "fraudulent", ctx)
        return pi

    def _capture_charge(self, pi: dict[str, Any], charge: dict[str, Any], amount: int, ctx: Ctx, first: bool) -> None:
        fee = round(amount * CARD_FEE_PERCENT / 100) + CARD_FEE_FIXED
        txn = {
            "id": new_id("txn"), "object": "balance_transaction", "amount": amount,
            "available_on": now() + 2 * 86400, "balance_type": "payments", "created": now(),
            "currency": pi["currency"], "description": pi["description"], "exchange_rate": None, "fee": fee,
            "fee_details": [{"amount": fee, "application": None, "currency": pi["currency"],
                             "description": "Stripe processing fees", "type": "stripe_fee"}],
            "net": amount - fee, "reporting_category": "charge", "source": charge["id"], "status": "pending",
            "type": "charge",
        }
        self.store.add(txn)
        charge.update(captured=True, amount_captured=amount, balance_transaction=txn["id"])
        if amount < pi["amount"]:
            charge["amount_refunded"] = pi["amount"] - amount
        self.store.save(charge)
        pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.store.save(pi)
        if first:
            self.emit("charge.succeeded", charge, ctx)
        else:
            self.emit("charge.captured", charge, ctx, previous={"captured": False, "amount_captured": 0})
        self.emit("payment_intent.succeeded", pi, ctx)
        self.emit("charge.updated", charge, ctx, previous={"balance_transaction": None})

    def _open_dispute(self, pi: dict[str, Any], charge: dict[str, Any], reason: str, ctx: Ctx) -> None:
        dispute = {
            "id": new_id("dp"), "object": "dispute", "amount": charge["amount"], "balance_transactions": [],
            "charge": charge["id"], "created": now(), "currency": charge["currency"],
            "enhanced_eligibility_types": [], "evidence": {"product_description": None, "uncategorized_text": None},
            "evidence_details": {"due_by": now() + 7 * 86400, "enhanced_eligibility": {}, "has_evidence": False,
                                 "past_due": False, "submission_count": 0},
            "is_charge_refundable": False, "livemode": False, "metadata": {}, "payment_intent": pi["id"],
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

    def capture_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, {"amount_to_capture", "expand", "metadata", "statement_descriptor"})
        pi = self._get("payment_intent", pi_id)
        if pi["status"] != "requires_capture":
            raise self._unexpected_state(pi, "capture")
        amount = pi["amount_capturable"]
        if "amount_to_capture" in params:
            amount = _int(params["amount_to_capture"], "amount_to_capture", 1, pi["amount_capturable"])
        charge = self._get("charge", pi["latest_charge"])
        self._capture_charge(pi, charge, amount, ctx, first=False)
        return pi

    def cancel_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, {"cancellation_reason", "expand"})
        pi = self._get("payment_intent", pi_id)
        if pi["status"] in ("succeeded", "canceled", "processing"):
            raise self._unexpected_state(pi, "cancel")
        reason = params.get("cancellation_reason")
        allowed = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
        if reason is not None and reason not in allowed:
            raise invalid(f"Invalid cancellation_reason: must be one of {', '.join(sorted(allowed))}",
                          "cancellation_reason")
        pi.update(status="canceled", canceled_at=now(), cancellation_reason=reason, next_action=None,
                  amount_capturable=0)
        self.store.save(pi)
        self.emit("payment_intent.canceled", pi, ctx)
        return pi

    # ------------------------------------------------------------------ refunds
    def create_refund(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        _check_params(params, {"charge", "payment_intent", "amount", "reason", "metadata", "expand"})
        if params.get("charge"):
            charge = self._get("charge", params["charge"], "charge")
        elif params.get("payment_intent"):
            pi = self._get("payment_intent", params["payment_intent"], "payment_intent")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                raise invalid(f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                              "payment_intent", "charge_not_refundable")
            charge = self._get("charge", pi["latest_charge"])
        else:
            raise missing("charge")
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(f"Charge {charge['id']} has not been captured or did not succeed, so it cannot be refunded.",
                          "charge", "charge_not_refundable")
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(f"Charge {charge['id']} has already been refunded.", "charge", "charge_already_refunded")
        amount = remaining if params.get("amount") in (None, "") else _int(params["amount"], "amount", 1)
        if amount > remaining:
            raise invalid(f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge "
                          f"(${remaining / 100:.2f})", "amount", "amount_too_large")
        reason = params.get("reason")
        if reason is not None and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
            raise invalid("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", "reason")
        refund = {
            "id": new_id("re"), "object": "refund", "amount": amount, "balance_transaction": None,
            "charge": charge["id"], "created": now(), "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": _metadata(params.get("metadata")), "payment_intent": charge["payment_intent"],
            "reason": reason, "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
            "transfer_reversal": None,
        }
        self.store.add(refund, [("refund.charge", charge["id"]), ("refund.payment_intent", charge["payment_intent"])])
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        charge["refunds"]["data"].insert(0, Store.snapshot(refund))
        charge["refunds"]["total_count"] = len(charge["refunds"]["data"])
        self.store.save(charge)
        self.emit("refund.created", refund, ctx)
        self.emit("charge.refunded", charge, ctx, previous=previous)
        return refund

    # ------------------------------------------------------------------ webhook endpoints
    WE_PARAMS = {"url", "enabled_events", "description", "metadata", "api_version", "connect", "expand", "disabled"}

    def create_webhook_endpoint(self, params: dict[str, Any], ctx: Ctx, allow_remote: bool) -> dict[str, Any]:
        _check_params(params, self.WE_PARAMS - {"disabled"})
        if not params.get("url"):
            raise missing("url")
        if not params.get("enabled_events"):
            raise missing("enabled_events")
        endpoint = {
            "id": new_id("we"), "object": "webhook_endpoint", "api_version": params.get("api_version"),
            "application": None, "created": now(), "description": params.get("description"),
            "enabled_events": [], "livemode": False, "metadata": _metadata(params.get("metadata")),
            "secret": "whsec_" + new_id("x", 32)[2:], "status": "enabled", "url": "",
        }
        self._endpoint_fields(endpoint, params, allow_remote)
        return self.store.add(endpoint)

    def _endpoint_fields(self, endpoint: dict[str, Any], params: dict[str, Any], allow_remote: bool) -> None:
        if "url" in params:
            url = str(params["url"])
            if not url.startswith(("http://", "https://")):
                raise invalid(f"Invalid URL: {url}. The URL must begin with http:// or https://", "url", "url_invalid")
            if not allow_remote and not is_loopback_url(url):
                raise invalid("The offline fake Stripe only delivers webhooks to this machine "
                              "(localhost or 127.0.0.1).", "url", "url_invalid")
            endpoint["url"] = url
        if "enabled_events" in params:
            events = params["enabled_events"]
            events = [events] if isinstance(events, str) else events
            if not isinstance(events, list) or not events:
                raise invalid("Invalid array", "enabled_events")
            for ev in events:
                if ev != "*" and ev not in EVENT_TYPES:
                    raise invalid(f"Invalid enabled_events: {ev} is not a known event type.", "enabled_events")
            endpoint["enabled_events"] = list(events)
        if "disabled" in params:
            endpoint["status"] = "disabled" if _bool(params["disabled"], "disabled") else "enabled"
        if "description" in params:
            endpoint["description"] = params["description"] or None

    def update_webhook_endpoint(self, we_id: str, params: dict[str, Any], ctx: Ctx, allow_remote: bool) -> dict[str, Any]:
        _check_params(params, self.WE_PARAMS - {"api_version", "connect"})
        endpoint = self._get("webhook_endpoint", we_id)
        self._endpoint_fields(endpoint, params, allow_remote)
        if "metadata" in params:
            endpoint["metadata"] = _metadata(params["metadata"], endpoint["metadata"])
        return self.store.save(endpoint)

    def delete_webhook_endpoint(self, we_id: str) -> dict[str, Any]:
        endpoint = self._get("webhook_endpoint", we_id)
        self.store.delete(endpoint)
        return {"id": we_id, "object": "webhook_endpoint", "deleted": True}
