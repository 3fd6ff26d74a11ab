"""Checkout Sessions (``/v1/checkout/sessions``): Stripe's prebuilt payment page, hosted or embedded.

``mode=payment`` only. A session is priced on the server that creates it (``line_items`` with a
``price`` or ``price_data``); the customer pays on the fake's own page (``/c/pay/<cs_…>``, or the
same page in an iframe for ``ui_mode=embedded_page``) with the Payment Element, the test cards
and 3D Secure. As on Stripe since API 2022-08-01, the PaymentIntent is made when the customer
pays, not when the session is created; when it succeeds the session becomes ``complete`` and
``checkout.session.completed`` follows the PaymentIntent's own events
(docs.stripe.com/api/checkout/sessions and /payments/checkout/fulfill-orders, 2026-12-04).

``ui_mode``: API 2026-03-25 renamed ``hosted``/``embedded``/``custom`` to ``hosted_page``/
``embedded_page``/``elements``; the fake takes both spellings and answers with the new ones.
"""
from __future__ import annotations

from typing import Any

from labkit.fakestripe.common import MIN_AMOUNT, Ctx, as_dict, as_int, as_str, check_params, metadata, now
from labkit.fakestripe.errors import StripeError, invalid, missing
from labkit.fakestripe.state import Store, new_id

SESSION_CREATE = {"mode", "line_items", "success_url", "cancel_url", "return_url", "ui_mode", "metadata",
                  "client_reference_id", "customer_email", "customer", "payment_intent_data", "payment_method_types",
                  "expires_at", "expand", "redirect_on_completion", "submit_type", "billing_address_collection",
                  "locale", "automatic_tax", "allow_promotion_codes", "customer_creation", "currency"}
LINE_ITEM = {"price", "price_data", "quantity", "adjustable_quantity", "tax_rates"}
PI_DATA = {"metadata", "description", "capture_method", "receipt_email", "setup_future_usage",
           "statement_descriptor", "statement_descriptor_suffix", "transfer_group"}
UI_MODES = {"hosted": "hosted_page", "hosted_page": "hosted_page", "embedded": "embedded_page",
            "embedded_page": "embedded_page"}
PAGE_CONFIRM = {"payment_method", "client_secret", "key", "payment_user_agent", "expand"}
MAX_QUANTITY = 999999
SESSION_ID = "{CHECKOUT_SESSION_ID}"
PI_DATA_TYPE = "labkit.payment_intent_data"  # what the session's PaymentIntent will carry (never shown by the API)


def _pi_data_id(cs_id: str) -> str:
    return f"labkitpid_{cs_id}"


def _url(params: dict[str, Any], key: str) -> str | None:
    if params.get(key) in (None, ""):
        return None
    value = as_str(params[key], key)
    if not value.startswith(("http://", "https://")) or len(value) > 5000:
        raise invalid(f"Not a valid URL: {key} must begin with http:// or https://", key, "url_invalid")
    return value


def with_session_id(url: str, cs_id: str) -> str:
    """``success_url``/``return_url`` with the template variable filled in, as Stripe does."""
    return url.replace(SESSION_ID, cs_id)


def _ui_mode(params: dict[str, Any]) -> str:
    raw = params.get("ui_mode", "hosted_page")
    if not isinstance(raw, str) or raw not in UI_MODES:
        raise invalid(f"Invalid ui_mode: {str(raw)[:30]}. The fake Stripe supports hosted_page (hosted) and "
                      "embedded_page (embedded).", "ui_mode", "parameter_invalid_string")
    return UI_MODES[raw]


class CheckoutSessionsMixin:
    store: Store

    # -- create --------------------------------------------------------------------------
    def create_checkout_session(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, SESSION_CREATE)
        mode = params.get("mode")
        if not mode:
            raise missing("mode")
        if mode != "payment":
            raise invalid(f"The fake Stripe supports mode=payment only (asked for {str(mode)[:20]}).", "mode",
                          "parameter_invalid_string")
        ui_mode = _ui_mode(params)
        urls = {k: _url(params, k) for k in ("success_url", "cancel_url", "return_url")}
        self._check_urls(ui_mode, urls, params)
        pi_data = as_dict(params.get("payment_intent_data", {}), "payment_intent_data")
        check_params(pi_data, PI_DATA, "payment_intent_data")
        capture = pi_data.get("capture_method", "automatic")
        if capture not in ("automatic", "automatic_async", "manual"):
            raise invalid("Invalid payment_intent_data[capture_method]", "payment_intent_data[capture_method]")
        if "payment_method_types" in params and params["payment_method_types"] != ["card"]:
            raise invalid("The fake Stripe supports payment_method_types[]=card only.", "payment_method_types")
        pi_meta = metadata(pi_data.get("metadata"))
        meta = metadata(params.get("metadata"))
        lines = self._line_items(params.get("line_items"))
        currency = lines[0][0]["currency"]
        total = sum(price["unit_amount"] * qty for price, _, qty in lines)
        if total < MIN_AMOUNT.get(currency, 50):
            raise invalid(f"The Checkout Session's total amount due must add up to at least "
                          f"{MIN_AMOUNT.get(currency, 50)} ({currency} smallest unit).", "line_items",
                          "amount_too_small")
        created = now()
        expires_at = created + 24 * 3600
        if "expires_at" in params:
            expires_at = as_int(params["expires_at"], "expires_at", created + 30 * 60, created + 24 * 3600)
        cs_id = new_id("cs_test", 58)
        session = self._new_session(cs_id, params, ui_mode, urls, currency, total, created, expires_at, ctx)
        session["metadata"] = meta
        self.store.add(session)
        self.store.add({"id": _pi_data_id(cs_id), "object": PI_DATA_TYPE, "metadata": pi_meta, "capture_method": capture,
                        **{k: pi_data[k] for k in PI_DATA - {"metadata", "capture_method"}
                           if isinstance(pi_data.get(k), str)}})
        for price, product, qty in lines:
            amount = price["unit_amount"] * qty
            self.store.add({"id": new_id("li", 24), "object": "item", "amount_discount": 0,
                            "amount_subtotal": amount, "amount_tax": 0, "amount_total": amount,
                            "currency": currency, "description": product["name"], "metadata": {},
                            "price": Store.snapshot(price), "quantity": qty},
                           [("item.session", cs_id)])
        return session

    def _check_urls(self, ui_mode: str, urls: dict[str, str | None], params: dict[str, Any]) -> None:
        if ui_mode == "hosted_page":
            if urls["return_url"]:
                raise invalid("return_url can only be used with ui_mode=embedded_page (embedded) or elements; a "
                              "hosted page uses success_url and cancel_url.", "return_url")
            if "redirect_on_completion" in params:
                raise invalid("redirect_on_completion can only be used with ui_mode=embedded_page.",
                              "redirect_on_completion")
            return
        for key in ("success_url", "cancel_url"):
            if urls[key]:
                raise invalid(f"{key} can't be used with ui_mode=embedded_page: use return_url (the page the "
                              "customer comes back to, with {CHECKOUT_SESSION_ID}).", key)
        redirect = params.get("redirect_on_completion", "always")
        if redirect not in ("always", "if_required", "never"):
            raise invalid("Invalid redirect_on_completion: must be one of always, if_required, or never",
                          "redirect_on_completion", "parameter_invalid_string")
        if redirect != "never" and not urls["return_url"]:
            raise missing("return_url")

    def _line_items(self, raw: Any) -> list[tuple[dict[str, Any], dict[str, Any], int]]:
        if raw in (None, "", []):
            raise invalid("line_items is required in payment mode: pass at least one line item with a price or "
                          "price_data, and a quantity.", "line_items", "parameter_missing")
        if not isinstance(raw, list) or len(raw) > 100:
            raise invalid("Invalid array: line_items must be a list of up to 100 items", "line_items",
                          "parameter_invalid_array")
        lines = []
        for n, item in enumerate(raw):
            name = f"line_items[{n}]"
            item = as_dict(item, name)
            check_params(item, LINE_ITEM, name)
            if ("price" in item) == ("price_data" in item):
                raise invalid(f"You must specify either `price` or `price_data` in {name}.", name)
            if "quantity" not in item:
                raise missing(f"{name}[quantity]")
            qty = as_int(item["quantity"], f"{name}[quantity]", 1, MAX_QUANTITY)
            if "price" in item:
                price, product = self.catalog_price(item["price"], f"{name}[price]")
            else:
                price, product = self.price_from_data(item["price_data"], f"{name}[price_data]")
            if price["currency"] not in MIN_AMOUNT:
                raise invalid(f"Invalid currency: {price['currency'][:10]}", f"{name}[price_data][currency]")
            lines.append((price, product, qty))
        if len({p["currency"] for p, _, _ in lines}) > 1:
            raise invalid("All line items of a Checkout Session must use the same currency.", "line_items")
        return lines

    def _new_session(self, cs_id: str, params: dict[str, Any], ui_mode: str, urls: dict[str, str | None],
                     currency: str, total: int, created: int, expires_at: int, ctx: Ctx) -> dict[str, Any]:
        embedded = ui_mode == "embedded_page"
        text = {k: (as_str(params[k], k)[:200] if params.get(k) not in (None, "") else None)
                for k in ("client_reference_id", "customer_email", "customer", "locale", "submit_type")}
        return {
            "id": cs_id, "object": "checkout.session", "adaptive_pricing": None, "after_expiration": None,
            "allow_promotion_codes": None, "amount_subtotal": total, "amount_total": total,
            "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
            "billing_address_collection": None, "cancel_url": urls["cancel_url"],
            "client_reference_id": text["client_reference_id"],
            "client_secret": f"{cs_id}_secret_{new_id('x', 24)[2:]}" if embedded else None,
            "collected_information": None, "consent": None, "consent_collection": None, "created": created,
            "currency": currency, "currency_conversion": None, "custom_fields": [],
            "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                            "terms_of_service_acceptance": None},
            "customer": text["customer"], "customer_creation": "if_required", "customer_details": None,
            "customer_email": text["customer_email"], "discounts": [], "expires_at": expires_at, "invoice": None,
            "invoice_creation": None, "livemode": False, "locale": text["locale"], "metadata": {},
            "mode": "payment", "origin_context": None, "payment_intent": None, "payment_link": None,
            "payment_method_collection": "if_required", "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"], "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False}, "recovered_from": None,
            "redirect_on_completion": params.get("redirect_on_completion", "always") if embedded else None,
            "return_url": urls["return_url"], "saved_payment_method_options": None, "setup_intent": None,
            "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [], "status": "open",
            "submit_type": text["submit_type"], "subscription": None, "success_url": urls["success_url"],
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": ui_mode, "url": None if embedded else f"{ctx.base_url}/c/pay/{cs_id}",
            "wallet_options": None,
        }

    # -- read, expire ----------------------------------------------------------------------
    def session_line_items(self, cs_id: str, params: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        check_params(params, {"limit", "starting_after", "ending_before"})
        self._get("checkout.session", cs_id)
        page = self.reader.list("item", {**params, "session": cs_id}, list(expand))
        page["data"].reverse()  # in the order the session was created with, as Stripe lists them
        page["url"] = f"/v1/checkout/sessions/{cs_id}/line_items"
        return page

    def expand_session(self, session: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        """``expand[]=line_items`` (a list, as Stripe gives it) beside the ordinary expansions."""
        out = self.reader.expand(session, [p for p in expand if p != "line_items"])
        if "line_items" in expand:
            out = dict(out, line_items=self.session_line_items(session["id"], {}, []))
        return out

    def expire_if_due(self, session: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """A session past its ``expires_at`` expires when it is next read (Stripe expires it on time)."""
        if session["status"] == "open" and now() >= session["expires_at"]:
            self._expire(session, ctx)
        return session

    def expire_checkout_session(self, cs_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, {"expand"})
        session = self.expire_if_due(self._get("checkout.session", cs_id), ctx)
        if session["status"] != "open":
            raise invalid("Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session "
                          f"has a status of {session['status']}.", None, "checkout_session_not_open")
        return self._expire(session, ctx)

    def _expire(self, session: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        pi = self.store.get(session["payment_intent"], "payment_intent") if session["payment_intent"] else None
        if pi is not None and pi["status"] in ("requires_payment_method", "requires_confirmation", "requires_action"):
            pi.update(status="canceled", canceled_at=now(), cancellation_reason="abandoned", next_action=None)
            self.store.save(pi)
            self.emit("payment_intent.canceled", pi, ctx)
        session.update(status="expired", url=None)
        self.store.save(session)
        self.emit("checkout.session.expired", session, ctx)
        return session

    # -- paying: the hosted page's calls ---------------------------------------------------
    def _page_session(self, cs_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        session = self.expire_if_due(self._get("checkout.session", cs_id), ctx)
        if session["client_secret"] is not None and params.get("client_secret") != session["client_secret"]:
            raise invalid("The client_secret provided does not match this Checkout Session.", "client_secret",
                          "checkout_session_invalid_parameter")
        return session

    def payment_page(self, cs_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """What the payment page shows: the lines, the total, where to go next (never card data)."""
        check_params(params, {"client_secret", "key", "expand"})
        return self._page_view(self._page_session(cs_id, params, ctx))

    def _page_view(self, session: dict[str, Any]) -> dict[str, Any]:
        items = self.session_line_items(session["id"], {"limit": 100}, [])["data"]
        done = session["status"] == "complete"
        target = session["success_url"] or session["return_url"]
        return {"id": session["id"], "object": "labkit.payment_page", "status": session["status"],
                "payment_status": session["payment_status"], "ui_mode": session["ui_mode"],
                "amount_total": session["amount_total"], "currency": session["currency"],
                "customer_email": session["customer_email"],
                "merchant": ((self.account.get("settings") or {}).get("dashboard") or {}).get("display_name"),
                "line_items": [{"description": i["description"], "quantity": i["quantity"],
                                "amount_total": i["amount_total"]} for i in items],
                "cancel_url": session["cancel_url"] if session["status"] == "open" else None,
                "redirect_on_completion": session["redirect_on_completion"],
                "redirect_url": with_session_id(target, session["id"]) if done and target else None}

    def payment_page_confirm(self, cs_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        """Pay the session with a PaymentMethod the page's Payment Element made (``POST …/confirm``)."""
        check_params(params, PAGE_CONFIRM)
        session = self._page_session(cs_id, params, ctx)
        if session["status"] != "open":
            raise invalid(f"This Checkout Session is no longer active (status {session['status']}).", None,
                          "checkout_session_not_open")
        if not params.get("payment_method"):
            raise missing("payment_method")
        pi = self.store.get(session["payment_intent"], "payment_intent") if session["payment_intent"] else None
        if pi is None:
            pi = self._session_payment_intent(session, ctx)
        try:
            pi = self._confirm(pi, {"payment_method": params["payment_method"], "use_stripe_sdk": "true"}, ctx)
        except StripeError as exc:
            exc.extra["payment_page"] = self._page_view(session)
            raise
        return {"payment_intent": {k: pi[k] for k in ("id", "object", "amount", "currency", "status", "client_secret",
                                                      "next_action", "last_payment_error")},
                "payment_page": self._page_view(session)}

    def _session_payment_intent(self, session: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        data = self.store.get(_pi_data_id(session["id"]), PI_DATA_TYPE)
        pi = self._new_payment_intent(
            {k: data[k] for k in data if k not in ("id", "object", "metadata", "capture_method")},
            session["amount_total"], session["currency"], data["capture_method"], None, dict(data["metadata"]))
        if session["customer_email"] and not pi["receipt_email"]:
            pi["receipt_email"] = session["customer_email"]
        self.store.add(pi)
        self.emit("payment_intent.created", pi, ctx)
        session["payment_intent"] = pi["id"]
        self.store.add(session, [("checkout.session.payment_intent", pi["id"])])
        self.store.add({"id": f"labkitcs_{pi['id']}", "object": "labkit.checkout_link", "session": session["id"]})
        return pi

    # -- completion: after the PaymentIntent's own events -----------------------------------
    def emit(self, type_: str, obj: dict[str, Any], ctx: Ctx, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        event = super().emit(type_, obj, ctx, previous)  # type: ignore[misc]
        if type_ in ("payment_intent.succeeded", "payment_intent.amount_capturable_updated"):
            link = self.store.get(f"labkitcs_{obj['id']}", "labkit.checkout_link")
            session = self.store.get(link["session"], "checkout.session") if link else None
            if session is not None and session["status"] == "open":
                self._complete(session, obj, ctx)
        return event

    def _complete(self, session: dict[str, Any], pi: dict[str, Any], ctx: Ctx) -> None:
        pm = self.store.get(pi["payment_method"], "payment_method") if pi["payment_method"] else None
        billing = (pm or {}).get("billing_details") or {}
        session.update(status="complete", url=None,
                       payment_status="paid" if pi["status"] == "succeeded" else "unpaid",
                       customer_details={"address": billing.get("address"),
                                         "email": billing.get("email") or session["customer_email"],
                                         "name": billing.get("name"), "phone": billing.get("phone"),
                                         "tax_exempt": "none", "tax_ids": []})
        self.store.save(session)
        self.emit("checkout.session.completed", session, ctx)
