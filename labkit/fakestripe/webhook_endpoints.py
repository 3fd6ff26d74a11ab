"""Webhook endpoints (``/v1/webhook_endpoints``): where events are delivered, and their signing secrets.

The fake delivers only to this machine (localhost, 127.0.0.1) unless started with
``allow_remote_webhooks``; Stripe allows 16 endpoints per account and so does the fake.
"""
from __future__ import annotations

from typing import Any

from labkit.fakestripe.common import EVENT_TYPES, Ctx, as_bool, as_str, check_params, metadata, now, str_or_none
from labkit.fakestripe.errors import invalid, missing
from labkit.fakestripe.state import Store, new_id
from labkit.kit_server import is_loopback_url

MAX_ENDPOINTS = 16  # docs.stripe.com/webhooks: "up to 16 webhook endpoints" per account (2026-11-26)
WE_CREATE = {"url", "enabled_events", "description", "metadata", "api_version", "connect", "expand"}
WE_UPDATE = {"url", "enabled_events", "description", "metadata", "expand", "disabled"}


class WebhookEndpointsMixin:
    store: Store
    allow_remote_webhooks: bool

    def create_webhook_endpoint(self, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, WE_CREATE)
        if not params.get("url"):
            raise missing("url")
        if not params.get("enabled_events"):
            raise missing("enabled_events")
        if "connect" in params and as_bool(params["connect"], "connect"):
            raise invalid("The fake Stripe has no connected accounts: leave connect out.", "connect")
        if len(self.store.ids("webhook_endpoint")) >= MAX_ENDPOINTS:
            raise invalid(f"You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints on this account.",
                          "url")
        endpoint = {
            "id": new_id("we"), "object": "webhook_endpoint", "api_version": str_or_none(params, "api_version"),
            "application": None, "created": now(), "description": None,
            "enabled_events": [], "livemode": False, "metadata": {},
            "secret": "whsec_" + new_id("x", 32)[2:], "status": "enabled", "url": "",
        }
        self._endpoint_fields(endpoint, params)
        return self.store.add(endpoint)

    def _endpoint_fields(self, endpoint: dict[str, Any], params: dict[str, Any]) -> None:
        """Checks every parameter first, then changes the endpoint."""
        changes: dict[str, Any] = {}
        if "url" in params:
            url = as_str(params["url"], "url")
            if not url.startswith(("http://", "https://")):
                raise invalid(f"Invalid URL: {url[:200]}. The URL must begin with http:// or https://", "url",
                              "url_invalid")
            if not self.allow_remote_webhooks and not is_loopback_url(url):
                raise invalid("The offline fake Stripe only delivers webhooks to this machine "
                              "(localhost or 127.0.0.1).", "url", "url_invalid")
            changes["url"] = url
        if "enabled_events" in params:
            events = params["enabled_events"]
            if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
                raise invalid("Invalid array", "enabled_events", "parameter_invalid_array")
            for ev in events:
                if ev != "*" and ev not in EVENT_TYPES:
                    raise invalid(f"Invalid enabled_events: {ev[:80]} is not a known event type.", "enabled_events",
                                  "parameter_invalid_string")
            changes["enabled_events"] = list(dict.fromkeys(events))
        if "disabled" in params:
            changes["status"] = "disabled" if as_bool(params["disabled"], "disabled") else "enabled"
        if "description" in params:
            changes["description"] = str_or_none(params, "description")
        if "metadata" in params:
            changes["metadata"] = metadata(params["metadata"], endpoint["metadata"])
        endpoint.update(changes)

    def update_webhook_endpoint(self, we_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, WE_UPDATE)
        endpoint = self._get("webhook_endpoint", we_id)
        self._endpoint_fields(endpoint, params)
        return self.store.save(endpoint)

    def delete_webhook_endpoint(self, we_id: str, params: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
        check_params(params, set())
        endpoint = self._get("webhook_endpoint", we_id)
        self.store.delete(endpoint)
        return {"id": we_id, "object": "webhook_endpoint", "deleted": True}
