"""What the fake Stripe does, one module per Stripe resource, and the route table that maps
each ``METHOD /v1/path`` to the function answering it.

=========================  ============================================
module                     resource
=========================  ============================================
``account``                the account, the balance, balance transactions
``payment_methods``        PaymentMethods (card details in, ``pm_…`` out)
``payment_intents``        PaymentIntents: create, retrieve, update
``confirmation``           PaymentIntents: confirm, 3D Secure, capture, cancel
``charges``                Charges (made by confirming), partial capture
``refunds``                Refunds
``disputes``               Disputes (the 0259 card's chargeback)
``events``                 Events and the hand-off to webhook delivery
``webhook_endpoints``      Webhook endpoints
``listing``                retrieve, list, expand, search
``checkout_sessions``      Checkout Sessions, and their hosted/embedded payment page
``prices``                 Prices (the kit's catalog, and ``price_data``)
=========================  ============================================

The HTTP layer (:mod:`labkit.fakestripe.api`) authenticates, decodes and looks the route
up here; every handler runs under the store's lock inside one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from labkit.fakestripe import account as account_mod
from labkit.fakestripe.charges import ChargesMixin
from labkit.fakestripe.checkout_sessions import CheckoutSessionsMixin
from labkit.fakestripe.common import Ctx, check_params
from labkit.fakestripe.confirmation import ConfirmationMixin
from labkit.fakestripe.errors import no_such
from labkit.fakestripe.disputes import DisputesMixin
from labkit.fakestripe.events import EventsMixin
from labkit.fakestripe.listing import Reader
from labkit.fakestripe.payment_intents import PaymentIntentsMixin
from labkit.fakestripe.payment_methods import PaymentMethodsMixin
from labkit.fakestripe.prices import PricesMixin, seed_catalog
from labkit.fakestripe.refunds import RefundsMixin
from labkit.fakestripe.state import Store
from labkit.fakestripe.webhook_endpoints import WebhookEndpointsMixin


class Engine(CheckoutSessionsMixin, PricesMixin, EventsMixin, PaymentMethodsMixin, PaymentIntentsMixin, ConfirmationMixin, ChargesMixin,
             RefundsMixin, DisputesMixin, WebhookEndpointsMixin):
    def __init__(self, store: Store, allow_remote_webhooks: bool = False) -> None:
        self.store = store
        self.allow_remote_webhooks = allow_remote_webhooks
        self.reader = Reader(store)
        self.deliverer: Any = None  # the app's Deliverer (for /v1/labkit/webhook_queue)
        self.account = account_mod.account()
        self._init_events()
        with store.transaction():
            seed_catalog(store)


Handler = Callable[[Engine, dict[str, str], dict[str, Any], Ctx, list[str]], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str               # werkzeug rule: /v1/charges/<id>
    handler: Handler
    browser: bool = False   # Stripe.js calls it with the publishable key (CORS allowed)
    writes: bool = False    # changes state (POST/DELETE)


def _do(method: str) -> Handler:
    """A resource method ``f(params, ctx)`` or ``f(id, params, ctx)``, its answer expanded."""
    def handler(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
        fn = getattr(e, method)
        obj = fn(args["id"], params, ctx) if "id" in args else fn(params, ctx)
        return e.reader.expand(obj if method == "create_webhook_endpoint" else e.reader.shown(obj), expand)
    handler.__name__ = method
    return handler


def _get(typ: str) -> Handler:
    return lambda e, args, params, ctx, expand: e.reader.retrieve(typ, args["id"], params, expand)


def _list(typ: str) -> Handler:
    return lambda e, args, params, ctx, expand: e.reader.list(typ, params, expand)


def _account(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    check_params(params, set())
    if args.get("id") not in (None, e.account["id"]):
        raise no_such("account", args["id"], "account")
    return e.account


def _balance(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    check_params(params, set())
    return account_mod.balance(e.store)


def _events(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    types, success = e.list_events_filter(params)
    keep = None if types is None and success is None else (lambda ev: e.event_matches(ev, types, success))
    return e.reader.list("event", params, expand, keep=keep)


def _charge_refunds(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    check_params(params, {"limit", "starting_after", "ending_before"})
    return e.reader.charge_refunds(args["id"], params, expand)


def _search(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    return e.reader.search_payment_intents(params, expand)


def _deliveries(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    check_params(params, set())
    return {"object": "list", "data": list(reversed(e.deliveries)), "has_more": False, "url": "/v1/labkit/deliveries"}


def _webhook_queue(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    check_params(params, set())
    return {"object": "labkit.webhook_queue", "due_now": e.deliverer.due_now(), "pending": e.deliverer.pending()}


def _session(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    if "id" in args:
        check_params(params, set())
        session = e.expire_if_due(e._get("checkout.session", args["id"]), ctx)
    else:
        session = e.create_checkout_session(params, ctx)
    return e.expand_session(session, expand)


def _expire_session(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    return e.expand_session(e.expire_checkout_session(args["id"], params, ctx), expand)


def _session_line_items(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    return e.session_line_items(args["id"], params, expand)


def _prices(e: Engine, args: dict[str, str], params: dict[str, Any], ctx: Ctx, expand: list[str]) -> Any:
    return e.reader.list("price", params, expand, keep=e.list_prices_keep(params))


def _p(path: str, method: str, **kw: Any) -> Route:
    return Route("POST", path, _do(method), writes=True, **kw)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/account", _account),
    Route("GET", "/v1/accounts/<id>", _account),
    Route("GET", "/v1/balance", _balance),
    Route("GET", "/v1/balance_transactions", _list("balance_transaction")),
    Route("GET", "/v1/balance_transactions/<id>", _get("balance_transaction")),
    _p("/v1/payment_intents", "create_payment_intent"),
    Route("GET", "/v1/payment_intents", _list("payment_intent")),
    Route("GET", "/v1/payment_intents/search", _search),
    Route("GET", "/v1/payment_intents/<id>", _do("retrieve_payment_intent"), browser=True),
    _p("/v1/payment_intents/<id>", "update_payment_intent"),
    _p("/v1/payment_intents/<id>/confirm", "confirm_payment_intent", browser=True),
    _p("/v1/payment_intents/<id>/cancel", "cancel_payment_intent"),
    _p("/v1/payment_intents/<id>/capture", "capture_payment_intent"),
    _p("/v1/test_helpers/payment_intents/<id>/authenticate", "authenticate", browser=True),
    _p("/v1/payment_methods", "create_payment_method", browser=True),
    Route("GET", "/v1/payment_methods/<id>", _get("payment_method")),
    _p("/v1/payment_methods/<id>", "update_payment_method"),
    Route("GET", "/v1/charges", _list("charge")),
    Route("GET", "/v1/charges/<id>", _get("charge")),
    _p("/v1/charges/<id>", "update_charge"),
    Route("GET", "/v1/charges/<id>/refunds", _charge_refunds),
    _p("/v1/refunds", "create_refund"),
    Route("GET", "/v1/refunds", _list("refund")),
    Route("GET", "/v1/refunds/<id>", _get("refund")),
    _p("/v1/refunds/<id>", "update_refund"),
    Route("GET", "/v1/disputes", _list("dispute")),
    Route("GET", "/v1/disputes/<id>", _get("dispute")),
    _p("/v1/disputes/<id>", "update_dispute"),
    _p("/v1/disputes/<id>/close", "close_dispute"),
    Route("GET", "/v1/events", _events),
    Route("GET", "/v1/events/<id>", _get("event")),
    _p("/v1/webhook_endpoints", "create_webhook_endpoint"),
    Route("GET", "/v1/webhook_endpoints", _list("webhook_endpoint")),
    Route("GET", "/v1/webhook_endpoints/<id>", _get("webhook_endpoint")),
    _p("/v1/webhook_endpoints/<id>", "update_webhook_endpoint"),
    Route("DELETE", "/v1/webhook_endpoints/<id>", _do("delete_webhook_endpoint"), writes=True),
    Route("POST", "/v1/checkout/sessions", _session, writes=True),
    Route("GET", "/v1/checkout/sessions", _list("checkout.session")),
    Route("GET", "/v1/checkout/sessions/<id>", _session),
    Route("GET", "/v1/checkout/sessions/<id>/line_items", _session_line_items),
    Route("POST", "/v1/checkout/sessions/<id>/expire", _expire_session, writes=True),
    Route("GET", "/v1/payment_pages/<id>", _do("payment_page"), browser=True),
    _p("/v1/payment_pages/<id>/confirm", "payment_page_confirm", browser=True),
    Route("GET", "/v1/prices", _prices),
    Route("GET", "/v1/prices/<id>", _get("price")),
    Route("GET", "/v1/products/<id>", _get("product")),
    Route("GET", "/v1/labkit/deliveries", _deliveries),
    Route("GET", "/v1/labkit/webhook_queue", _webhook_queue),
)
