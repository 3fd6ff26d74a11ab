"""Prices (``/v1/prices``): the kit's catalog as Stripe Prices, and the one-off prices a Checkout
Session's ``line_items[][price_data]`` makes.

The catalog's products are Prices with ``lookup_key`` = the product id (``prod_001`` …), so a
server can find them with ``stripe.Price.list(lookup_keys=["prod_001"])`` as on a real account
where the instructor created them in the Dashboard (docs.stripe.com/api/prices, 2026-12-04).
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from labkit.fakestripe.common import as_dict, as_int, as_str, check_params, metadata, now
from labkit.fakestripe.errors import invalid, missing, no_such
from labkit.fakestripe.state import Store, new_id

SEEDED_AT = 1764547200  # 2025-12-01: when the kit's catalog prices were "created"
PRICE_DATA = {"currency", "unit_amount", "unit_amount_decimal", "product", "product_data", "tax_behavior"}
PRODUCT_DATA = {"name", "description", "images", "metadata", "tax_code", "unit_label"}


def catalog_price_id(product_id: str) -> str:
    return f"price_labkit_{product_id}"


def _price(price_id: str, product: str, currency: str, unit_amount: int, lookup_key: str | None,
           created: int, meta: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": price_id, "object": "price", "active": True, "billing_scheme": "per_unit", "created": created,
        "currency": currency, "custom_unit_amount": None, "livemode": False, "lookup_key": lookup_key,
        "metadata": meta or {}, "nickname": None, "product": product, "recurring": None,
        "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None, "type": "one_time",
        "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
    }


def _product(product_id: str, name: str, description: str | None, created: int,
             meta: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": product_id, "object": "product", "active": True, "created": created, "default_price": None,
            "description": description, "images": [], "livemode": False, "marketing_features": [],
            "metadata": meta or {}, "name": name, "package_dimensions": None, "shippable": None,
            "statement_descriptor": None, "tax_code": None, "type": "service", "unit_label": None,
            "updated": created, "url": None}


def seed_catalog(store: Store) -> None:
    """The catalog's products and prices, once (a store reloaded from disk has them already)."""
    catalog = json.loads(resources.files("labkit").joinpath("data", "catalog.json").read_text(encoding="utf-8"))
    for pid, p in catalog["products"].items():
        if store.get(pid, "product") is None:
            product = _product(pid, p["name"], p.get("description"), SEEDED_AT)
            product["default_price"] = catalog_price_id(pid)
            store.add(product)
        if store.get(catalog_price_id(pid), "price") is None:
            store.add(_price(catalog_price_id(pid), pid, p.get("currency", "usd"), int(p["price"]), pid, SEEDED_AT))


class PricesMixin:
    store: Store

    def price_from_data(self, data: Any, param: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A one-off Price (and its Product, from ``product_data``) for a line item's ``price_data``."""
        data = as_dict(data, param)
        check_params(data, PRICE_DATA, param)
        if not data.get("currency"):
            raise missing(f"{param}[currency]")
        currency = as_str(data["currency"], f"{param}[currency]").lower()
        if "unit_amount" not in data and "unit_amount_decimal" not in data:
            raise missing(f"{param}[unit_amount]")
        raw = data.get("unit_amount", data.get("unit_amount_decimal"))
        unit_amount = as_int(raw, f"{param}[unit_amount]", 0, 99999999)
        if data.get("product"):
            product = self._get("product", as_str(data["product"], f"{param}[product]"), f"{param}[product]")
        elif "product_data" in data:
            pd = as_dict(data["product_data"], f"{param}[product_data]")
            check_params(pd, PRODUCT_DATA, f"{param}[product_data]")
            if not pd.get("name"):
                raise missing(f"{param}[product_data][name]")
            product = _product(new_id("prod", 14), as_str(pd["name"], f"{param}[product_data][name]")[:250],
                               pd.get("description") if isinstance(pd.get("description"), str) else None, now(),
                               metadata(pd.get("metadata")))
            self.store.add(product)
        else:
            raise invalid(f"You must specify either `product` or `product_data` in {param}.", param)
        price = _price(new_id("price"), product["id"], currency, unit_amount, None, now())
        price["active"] = False  # a price_data price is single-use (Stripe archives it)
        self.store.add(price)
        return price, product

    def catalog_price(self, price_id: Any, param: str) -> tuple[dict[str, Any], dict[str, Any]]:
        price = self.store.get(as_str(price_id, param), "price")
        if price is None:
            raise no_such("price", str(price_id)[:80], param)
        return price, self._get("product", price["product"], param)

    def list_prices_keep(self, params: dict[str, Any]) -> Any:
        """The ``lookup_keys[]`` and ``active`` filters of ``GET /v1/prices`` (a test per price, or None)."""
        keys = params.pop("lookup_keys", None)
        active = params.pop("active", None)
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
            raise invalid("Invalid array: lookup_keys must be a list of strings", "lookup_keys", "parameter_invalid_array")
        if keys is None and active is None:
            return None
        want_active = None if active is None else str(active).lower() == "true"
        return lambda p: (keys is None or p["lookup_key"] in keys) and (want_active is None or p["active"] == want_active)
