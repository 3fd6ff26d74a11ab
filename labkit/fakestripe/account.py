"""The account (``/v1/account``) and its balance (``/v1/balance``, ``/v1/balance_transactions``)."""
from __future__ import annotations

from typing import Any

from labkit.fakestripe.common import ACCOUNT_ID, CARD_FEE_FIXED, CARD_FEE_PERCENT, now
from labkit.fakestripe.state import Store, new_id

_NULL_FILE = None


def account() -> dict[str, Any]:
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
        "settings": {
            "branding": {"icon": _NULL_FILE, "logo": _NULL_FILE, "primary_color": None, "secondary_color": None},
            "card_payments": {"decline_on": {"avs_failure": False, "cvc_failure": False},
                              "statement_descriptor_prefix": "FSU SAFETY", "statement_descriptor_prefix_kana": None,
                              "statement_descriptor_prefix_kanji": None},
            "dashboard": {"display_name": "FSU Safety Supply", "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": "FSU SAFETY SUPPLY", "statement_descriptor_kana": None,
                         "statement_descriptor_kanji": None},
            "payouts": {"debit_negative_balances": True,
                        "schedule": {"delay_days": 2, "interval": "daily"}, "statement_descriptor": None}},
    }


def balance(store: Store) -> dict[str, Any]:
    """Everything is pending (card funds become available after two days in Stripe; the fake keeps none)."""
    pending: dict[str, int] = {}
    for txn in store.all("balance_transaction"):
        pending[txn["currency"]] = pending.get(txn["currency"], 0) + txn["net"]
    rows = [{"amount": amount, "currency": cur, "source_types": {"card": amount}} for cur, amount in pending.items()]
    zero = [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]
    return {"object": "balance", "livemode": False,
            "available": [{"amount": 0, "currency": r["currency"], "source_types": {"card": 0}} for r in rows] or zero,
            "pending": rows or zero}


def balance_transaction(store: Store, source: str, currency: str, amount: int, fee: int, *, kind: str,
                        description: str | None) -> dict[str, Any]:
    """Money moving: a charge (``kind="charge"``, fee = card pricing) or a dispute's withdrawal
    (``kind="adjustment"``, fee = the dispute fee)."""
    fee_label = "Stripe processing fees" if kind == "charge" else "Dispute fee"
    txn = {
        "id": new_id("txn"), "object": "balance_transaction", "amount": amount,
        "available_on": now() + 2 * 86400, "balance_type": "payments", "created": now(),
        "currency": currency, "description": description, "exchange_rate": None, "fee": fee,
        "fee_details": [{"amount": fee, "application": None, "currency": currency,
                         "description": fee_label, "type": "stripe_fee"}] if fee else [],
        "net": amount - fee, "reporting_category": "charge" if kind == "charge" else "dispute",
        "source": source, "status": "pending", "type": kind,
    }
    return store.add(txn)


def card_fee(amount: int) -> int:
    return round(amount * CARD_FEE_PERCENT / 100) + CARD_FEE_FIXED
