"""PaymentMethods (``/v1/payment_methods``): card details in, a ``pm_…`` out; the number is never kept."""
from __future__ import annotations

import time
from typing import Any

from labkit.fakestripe import cards as cardtable
from labkit.fakestripe.common import Ctx, as_dict, as_int, as_str, check_params, fingerprint, metadata, now
from labkit.fakestripe.errors import StripeError, invalid, missing
from labkit.fakestripe.state import Store, new_id

# What real Stripe.js sends along from the browser.
STRIPE_JS_EXTRAS = {"payment_user_agent", "time_on_page", "guid", "muid", "sid", "referrer",
                    "client_attribution_metadata", "key"}
PM_CREATE = {"type", "card", "billing_details", "metadata", "expand", *STRIPE_JS_EXTRAS}
PM_DATA = {"type", "card", "billing_details", "metadata", *STRIPE_JS_EXTRAS}
CARD_FIELDS = {"number", "exp_month", "exp_year", "cvc", "token", "networks"}
BILLING_FIELDS = {"address", "email", "name", "phone", "tax_id"}
ADDRESS_FIELDS = {"city", "country", "line1", "line2", "postal_code", "state"}


def _card_error(message: str, code: str, param: str | None = None, decline_code: str | None = None) -> StripeError:
    return StripeError(402, "card_error", message, code=code, param=param, decline_code=decline_code)


def billing_details(raw: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    result = current or {"address": {k: None for k in sorted(ADDRESS_FIELDS)},
                         "email": None, "name": None, "phone": None, "tax_id": None}
    if raw in (None, ""):
        return result
    check_params(as_dict(raw, "billing_details"), BILLING_FIELDS, "billing_details")
    for key in ("email", "name", "phone", "tax_id"):
        if key in raw:
            result[key] = as_str(raw[key], f"billing_details[{key}]", empty_ok=True) or None
    if raw.get("address") not in (None, ""):
        address = as_dict(raw["address"], "billing_details[address]")
        check_params(address, ADDRESS_FIELDS, "billing_details[address]")
        for key, value in address.items():
            result["address"][key] = as_str(value, f"billing_details[address][{key}]", empty_ok=True) or None
    return result


class PaymentMethodsMixin:
    store: Store

    def create_payment_method(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, PM_CREATE)
        return self.payment_method_from_data(params, ctx, "")

    def payment_method_from_data(self, data: dict[str, Any], ctx: Ctx, prefix: str) -> dict[str, Any]:
        """``type`` + ``card`` (+ ``billing_details``, ``metadata``): create or ``payment_method_data``."""
        name = (lambda p: f"{prefix}[{p}]") if prefix else (lambda p: p)
        if "type" not in data:
            raise missing(name("type"))
        if data["type"] != "card":
            raise invalid("Invalid type: the fake Stripe supports card only", name("type"), "parameter_invalid_string")
        if "card" not in data:
            raise missing(name("card"))
        card = as_dict(data["card"], name("card"))
        check_params(card, CARD_FIELDS, name("card"))
        if "token" in card:
            raise invalid("Tokens are not supported by the fake Stripe: use a pm_card_… test id.", name("card[token]"))
        if not ctx.publishable:
            raise invalid("Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you "
                          "use test tokens that map to the test card you are using, see "
                          "https://stripe.com/docs/testing. (In the lab: use a pm_card_… id, or Stripe.js in the "
                          "browser.)", name("card[number]"), "card_number_unsafe")
        test, month, year, cvc = self._card_fields(card)
        return self.new_payment_method(test, month, year, data, cvc_check="pass" if cvc else None)

    @staticmethod
    def _card_fields(card: dict[str, Any]) -> tuple[cardtable.TestCard, int, int, str]:
        number = "".join(ch for ch in as_str(card.get("number", ""), "card[number]", empty_ok=True)
                         if ch.isascii() and ch.isdigit())
        if not number:
            raise missing("card[number]")
        if not (12 <= len(number) <= 19) or not cardtable.luhn_valid(number):
            raise _card_error("Your card number is incorrect.", "incorrect_number", "number")
        test = cardtable.by_number(number)
        if test is None:
            raise _card_error("Your card was declined. Your request was in test mode, but used a non test (live) card. "
                              "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
                              "card_declined", decline_code="test_mode_live_card")
        for field in ("exp_month", "exp_year"):
            if card.get(field) in (None, ""):
                raise missing(f"card[{field}]")
        month = as_int(card["exp_month"], "card[exp_month]")
        year = as_int(card["exp_year"], "card[exp_year]")
        year += 2000 if 0 <= year < 100 else 0
        if not 1 <= month <= 12:
            raise _card_error("Your card's expiration month is invalid.", "invalid_expiry_month", "exp_month")
        today = time.gmtime()
        if (year, month) < (today.tm_year, today.tm_mon) or year > today.tm_year + 50:
            raise _card_error("Your card's expiration year is invalid.", "invalid_expiry_year", "exp_year")
        cvc = as_str(card.get("cvc", ""), "card[cvc]", empty_ok=True)
        if cvc and (not (cvc.isascii() and cvc.isdigit()) or len(cvc) != test.cvc_length):
            raise _card_error("Your card's security code is invalid.", "invalid_cvc", "cvc")
        return test, month, year, cvc

    def new_payment_method(self, test: cardtable.TestCard, month: int, year: int, params: dict[str, Any],
                           cvc_check: str | None = "pass") -> dict[str, Any]:
        billing = billing_details(params.get("billing_details"))
        pm = {
            "id": new_id("pm"), "object": "payment_method", "allow_redisplay": "unspecified",
            "billing_details": billing,
            "card": {
                "brand": test.brand, "checks": {"address_line1_check": None,
                                                "address_postal_code_check":
                                                    "pass" if billing["address"]["postal_code"] else None,
                                                "cvc_check": cvc_check},
                "country": "US", "display_brand": test.brand, "exp_month": month, "exp_year": year,
                "fingerprint": fingerprint(test.number), "funding": test.funding,
                "generated_from": None, "last4": test.last4,
                "networks": {"available": [test.brand], "preferred": None}, "regulated_status": "unregulated",
                "three_d_secure_usage": {"supported": True}, "wallet": None,
            },
            "created": now(), "customer": None, "livemode": False,
            "metadata": metadata(params.get("metadata")), "type": "card",
        }
        return self.store.add(pm)

    def resolve_payment_method(self, ref: Any, ctx: Ctx, param: str = "payment_method") -> dict[str, Any]:
        ref = as_str(ref, param)
        alias = cardtable.by_pm_alias(ref)
        if alias is not None:
            return self.new_payment_method(alias, 12, time.gmtime().tm_year + 3, {})
        return self._get("payment_method", ref, param)

    def update_payment_method(self, pm_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"billing_details", "metadata", "expand", "allow_redisplay"})
        pm = self._get("payment_method", pm_id)
        if "billing_details" in params:
            pm["billing_details"] = billing_details(params["billing_details"], pm["billing_details"])
        if "metadata" in params:
            pm["metadata"] = metadata(params["metadata"], pm["metadata"])
        if "allow_redisplay" in params:
            if params["allow_redisplay"] not in ("always", "limited", "unspecified"):
                raise invalid("Invalid allow_redisplay: must be one of always, limited, or unspecified",
                              "allow_redisplay", "parameter_invalid_string")
            pm["allow_redisplay"] = params["allow_redisplay"]
        self.store.save(pm)
        self.emit("payment_method.updated", pm, ctx)
        return pm
