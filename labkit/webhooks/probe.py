"""Sending events at a webhook handler and reading its orders: the one probe of the kit.

The Part C checks (:mod:`labkit.checks.webhook_probes`), the PCI forgery check
(:mod:`labkit.pci.http_checks`) and the notebook's drills (:mod:`labkit.webhooks.attacks`) all
post events through :func:`post_event` and read ``GET /orders`` through :func:`orders_by_pi`:

- one HTTP client (``requests``, never through a proxy from the environment: the handler is on
  this machine);
- one API version for the events the kit makes up (the one the fake Stripe's events carry);
- Stripe's body format: JSON indented by two spaces, as Stripe and the fake send it, so a handler
  that verifies a re-serialised body instead of the bytes it received fails here as it would there;
- every request with its own time limit, and an answer that says what happened: ``HTTP 400``,
  ``timed out after 5 s`` or ``no answer (connection refused)``, never a timeout called a 5xx.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests

API_VERSION = "2026-10-28.endive"  # the version the fake's events carry (labkit/fakestripe/common.py)
PROBE_TIMEOUT = 5.0  # seconds for one request; the fake Stripe gives a delivery as long
USER_AGENT = "labkit-webhook-probe/1"
PAID = {"paid", "succeeded", "success", "complete", "completed", "fulfilled", "queued", "fulfillment_queued"}


@dataclass(frozen=True)
class Answer:
    """What one request got: an HTTP status, or why there was none."""

    status: int | None
    timed_out: bool = False
    error: str = ""
    body: Any = None
    timeout: float = PROBE_TIMEOUT

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def client_error(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    @property
    def server_error(self) -> bool:
        return self.status is not None and self.status >= 500

    @property
    def text(self) -> str:
        if self.timed_out:
            return f"timed out after {self.timeout:g} s"
        if self.status is None:
            return f"no answer ({self.error})" if self.error else "no answer"
        return f"HTTP {self.status}"


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxy, no .netrc: the handler is on this machine
    s.headers["User-Agent"] = USER_AGENT
    return s


def _request(method: str, url: str, timeout: float, **kwargs: Any) -> Answer:
    try:
        with session() as http:
            resp = http.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout:
        return Answer(None, timed_out=True, timeout=timeout)
    except requests.ConnectionError as exc:
        text = str(exc)
        why = "connection refused" if "refused" in text.lower() else "the connection was closed"
        return Answer(None, error=why, timeout=timeout)
    except requests.RequestException as exc:
        return Answer(None, error=type(exc).__name__, timeout=timeout)
    try:
        body = resp.json()
    except ValueError:
        body = None
    return Answer(resp.status_code, body=body, timeout=timeout)


def post_event(url: str, body: bytes, signature: str | None, *, timeout: float = PROBE_TIMEOUT) -> Answer:
    """POST ``body`` to the webhook ``url`` (``…/webhook``) with ``Stripe-Signature: signature``
    (no header when None)."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return _request("POST", url, timeout, data=body, headers=headers)


def get(url: str, *, timeout: float = PROBE_TIMEOUT) -> Answer:
    return _request("GET", url, timeout)


def stripe_body(event: Any) -> bytes:
    """The bytes Stripe would send for ``event`` (a ``stripe.Event`` or a dict)."""
    data = event.to_dict() if hasattr(event, "to_dict") else event
    return json.dumps(data, indent=2).encode()


def made_up_event(type_: str, obj: dict[str, Any], tag: str = "labkitprobe") -> dict[str, Any]:
    """An event of ``type_`` about ``obj`` that Stripe never sent (the kit signs it or not)."""
    return {"id": f"evt_{tag}{secrets.token_hex(6)}", "object": "event", "api_version": API_VERSION,
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1, "type": type_,
            "data": {"object": obj}}


def forged_payment(pi_id: str | None = None, tag: str = "labkitforged", amount: int = 1800) -> dict[str, Any]:
    """A well-formed ``payment_intent.succeeded`` for a PaymentIntent Stripe never made."""
    pi_id = pi_id or f"pi_{tag}{secrets.token_hex(6)}"
    obj = {"id": pi_id, "object": "payment_intent", "amount": amount, "amount_received": amount, "currency": "usd",
           "status": "succeeded", "metadata": {"product_id": "prod_001", "product_name": "Forged"}}
    return made_up_event("payment_intent.succeeded", obj, tag)


def parse_orders(data: Any) -> tuple[dict[str, list[dict[str, Any]]] | None, str]:
    """``{pi: [orders naming it]}`` from what ``GET /orders`` answered, or ``(None, why)``.

    The handout's shape is JSON keyed by PaymentIntent id; a list of orders each naming its
    ``payment_intent`` (or ``payment_intent_id``, ``id``), or ``{"orders": …}`` around either, is read too."""
    if isinstance(data, dict) and isinstance(data.get("orders"), (list, dict)):
        data = data["orders"]
    found: dict[str, list[dict[str, Any]]] = {}
    if isinstance(data, dict):
        for key, order in data.items():
            order = order if isinstance(order, dict) else {"value": order}
            pi = key if str(key).startswith("pi_") else order.get("payment_intent") or order.get("id")
            found.setdefault(str(pi), []).append(order)
    elif isinstance(data, list):
        for order in data:
            if isinstance(order, dict):
                pi = order.get("payment_intent") or order.get("payment_intent_id") or order.get("id")
                found.setdefault(str(pi), []).append(order)
    else:
        return None, f"GET /orders answered {type(data).__name__}, not JSON keyed by PaymentIntent id"
    return found, ""


def orders_by_pi(base_url: str, *, timeout: float = PROBE_TIMEOUT) -> tuple[dict[str, list[dict[str, Any]]] | None, str]:
    """The handler's ``GET /orders``, read by :func:`parse_orders`; ``(None, why)`` when it cannot be."""
    answer = get(base_url.rstrip("/") + "/orders", timeout=timeout)
    if answer.status is None:
        return None, f"GET /orders {answer.text}"
    if not answer.ok:
        return None, f"GET /orders answered {answer.text}"
    if answer.body is None:
        return None, "GET /orders gave no JSON"
    return parse_orders(answer.body)


def is_paid(order: dict[str, Any]) -> bool:
    return str(order.get("status", "")).lower() in PAID


def wait_for_orders(base_url: str, ready: Any, limit: float, poll: float = 0.25
                    ) -> tuple[dict[str, list[dict[str, Any]]] | None, str, float]:
    """Read ``GET /orders`` until ``ready(orders)`` is true or ``limit`` seconds pass (a handler may
    acknowledge an event first and apply it a moment later, as Stripe advises). Returns the last
    orders read, why they could not be read (or ""), and the seconds waited."""
    start = time.monotonic()
    while True:
        orders, why = orders_by_pi(base_url)
        waited = time.monotonic() - start
        if (orders is not None and ready(orders)) or waited >= limit or "timed out" in why:
            return orders, why, waited
        time.sleep(poll)
