"""Events: the record of what happened, and the hand-off to webhook delivery.

An event is stored in the call's transaction together with one delivery job per
endpoint that wants it; the jobs are queued for delivery only once the call is
committed (:attr:`Ctx.outbox`), so a webhook never announces a change that was lost.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from labkit.fakestripe.common import API_VERSION, Ctx, as_bool, now
from labkit.fakestripe.errors import invalid, no_such
from labkit.fakestripe.state import Store, new_id


class EventsMixin:
    store: Store

    def _init_events(self) -> None:
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=2000)

    def _get(self, typ: str, obj_id: Any, param: str = "id") -> dict[str, Any]:
        obj = self.store.get(obj_id, typ) if isinstance(obj_id, str) else None
        if obj is None:
            raise no_such(typ, str(obj_id)[:80], param)
        return obj

    def emit(self, type_: str, obj: dict[str, Any], ctx: Ctx, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        endpoints = [e for e in self.store.all("webhook_endpoint")
                     if e["status"] == "enabled" and ("*" in e["enabled_events"] or type_ in e["enabled_events"])]
        data: dict[str, Any] = {"object": Store.snapshot(self.public(obj))}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": now(),
            "data": data, "livemode": False, "pending_webhooks": len(endpoints),
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": type_,
        }
        self.store.add(event, [("event.type", type_)])
        for endpoint in endpoints:
            ctx.outbox.append((endpoint["id"], event["id"], self.store.add_job(endpoint["id"], event["id"])))
        return event

    def public(self, obj: dict[str, Any]) -> dict[str, Any]:
        """An object as the API shows it (overridden where a resource keeps private fields)."""
        return obj

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

    def list_events_filter(self, params: dict[str, Any]) -> tuple[set[str] | None, bool | None]:
        """``types[]`` (up to 20 types, Stripe's limit) and ``delivery_success`` of ``GET /v1/events``."""
        types = params.pop("types", None)
        if types is not None:
            if isinstance(types, str) or not isinstance(types, list) or not types or len(types) > 20:
                raise invalid("Invalid array: types must be a list of up to 20 event types", "types",
                              "parameter_invalid_array")
            if not all(isinstance(t, str) for t in types):
                raise invalid("Invalid array: types must be event types", "types", "parameter_invalid_array")
        success = params.pop("delivery_success", None)
        return (set(types) if types else None), (None if success is None else as_bool(success, "delivery_success"))

    def event_matches(self, event: dict[str, Any], types: set[str] | None, success: bool | None) -> bool:
        if types is not None and not any(_type_match(event["type"], t) for t in types):
            return False
        if success is not None and (event["pending_webhooks"] == 0) != success:
            return False
        return True


def _type_match(event_type: str, pattern: str) -> bool:
    return pattern == event_type or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))

