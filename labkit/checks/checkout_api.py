"""Part B checks on the student's checkout server, with the request the student's own page sends.

What the page sends was recorded while the browser paid on it (:mod:`labkit.checks.cart`); each probe
sends that request again with one thing changed, and reads what the server answered and what Stripe
recorded (the PaymentIntents created since the request). A server may refuse a field it does not know
(a 4xx) or ignore it: both are right, as long as the amount and currency come from its catalog.

* ``checkout:cart_total``: a cart of several products (as the page writes one) is charged the catalog total;
* ``checkout:quantities``: quantity 0, -1, 2.5, "abc", 10**9 and 10**30, and an unknown product, get a 4xx
  and create nothing (a page that sends no quantity: a quantity sent anyway is refused or ignored);
* ``checkout:idempotency``: the same checkout attempt sent twice makes one PaymentIntent, a new one another;
* ``checkout:server_price``: no field the browser sends (those the page sends, and ``amount``, ``total``,
  ``total_cents``, ``items[].price``…) changes the amount, and no ``currency`` changes the currency;
* ``checkout:no_secret``: no secret key, in any form, in what the browser loads or the server answers.
"""
from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

from labkit.checks.cart import Order, Recorder, fresh_value, get_at, leaves, learn, set_at, _total
from labkit.checks.exposure import exposed
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Item, item, log_hint

TIMEOUT = 10  # seconds for one request to the student's server
TAMPER = 51  # cents: above Stripe's minimum, and no catalog price
MONEY_FIELDS = ("amount", "total", "total_cents", "amount_cents", "price", "unit_amount", "unit_price", "subtotal",
                "cost")
DOLLAR_FIELDS = ("amount", "total", "price")
ITEM_FIELDS = ("price", "unit_amount", "unit_price", "amount", "total")
OTHER_CURRENCY = "eur"
BAD_QUANTITIES = (0, -1, 2.5, "abc", 10**9, 10**30)
CHECKS = ("checkout:cart_total", "checkout:quantities", "checkout:idempotency", "checkout:server_price",
          "checkout:no_secret")


@dataclass
class Sent:
    status: int
    text: str
    made: list[dict[str, Any]]  # the PaymentIntents Stripe recorded while the request ran

    def seen(self) -> str:
        if self.status == 0:
            return self.text
        try:
            error = json.loads(self.text).get("error")
        except (ValueError, AttributeError):
            error = None
        said = f" {textwrap.shorten(error, 100, placeholder=' …')!r}" if isinstance(error, str) else ""
        made = ", ".join(f"{pi['id']} of {pi['amount']} {pi['currency']}" for pi in self.made[:2]) or "nothing made"
        return f"HTTP {self.status}{said}, {made}"

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500 and not self.made


@dataclass
class Probe:
    url: str
    client: Any
    order: Order
    catalog: dict[str, Any]
    new_payment_method: Callable[[], str]
    answers: list[str] = field(default_factory=list)
    hung: bool = False
    double_click: int | None = None  # PaymentIntents a double click on the page's Pay made (None: not tried)

    def fresh(self, value: Any) -> Any:
        return fresh_value(value, self.new_payment_method)

    def body(self, lines: list[tuple[str, Any]] | None = None) -> Any:
        """The page's request as a new checkout attempt, with ``lines`` as its cart (default: the page's)."""
        if self.order.shape == "none":
            return json.loads(json.dumps(self.order.body))
        return self.order.cart(lines or self.order.lines(), self.catalog, self.fresh)

    def send(self, body: Any) -> Sent:
        if self.hung:  # one timeout is enough: the probes after it would each wait as long
            return Sent(0, f"not sent: the server did not answer an earlier request within {TIMEOUT} s", [])
        newest = self.client.v1.payment_intents.list(params={"limit": 1}).data
        sessions = _session_ids(self.client)
        req = self.order.request
        headers = {"Content-Type": req.content_type or "application/json"}
        if req.cookie:
            headers["Cookie"] = req.cookie
        try:
            resp = requests.post(self.url + req.path, data=self.order.encode(body), headers=headers, timeout=TIMEOUT,
                                 allow_redirects=False)  # a 303 to Stripe's Checkout page is the server's answer
            status, text = resp.status_code, (resp.headers.get("Location", "") + " " + resp.text[:20000]).strip()
        except requests.Timeout:
            status, text = 0, f"no answer within {TIMEOUT} s (timed out)"
            self.hung = True
        except requests.RequestException as exc:
            status, text = 0, f"no answer ({type(exc).__name__})"
        params: dict[str, Any] = {"limit": 100}
        if newest:
            params["ending_before"] = newest[0].id
        made = [pi.to_dict() for pi in self.client.v1.payment_intents.list(params=params).data]
        made += _new_sessions(self.client, sessions)
        if 300 <= status < 400 and made:  # a redirect to Stripe's hosted page: the session is the answer
            status = 200
        self.answers.append(text)
        return Sent(status, text, made)

    @property
    def currency(self) -> str:
        pid = next(iter(self.catalog["products"]))
        return self.catalog["products"][pid]["currency"]


def _session_ids(client: Any) -> set[str]:
    try:
        return {cs.id for cs in client.v1.checkout.sessions.list(params={"limit": 100}).data}
    except Exception:  # a backend without Checkout Sessions: PaymentIntents only
        return set()


def _new_sessions(client: Any, known: set[str]) -> list[dict[str, Any]]:
    """Checkout Sessions made since ``known``, as {id, amount, currency} (a session is charged its amount_total
    when the customer pays on Stripe's page), so each probe judges a Checkout integration as it does a
    PaymentIntent one."""
    try:
        found = client.v1.checkout.sessions.list(params={"limit": 20}).data
    except Exception:
        return []
    return [{"id": cs.id, "object": "checkout.session", "amount": cs.amount_total, "currency": cs.currency}
            for cs in found if cs.id not in known]


def _cart_text(lines: list[tuple[str, Any]]) -> str:
    return " + ".join(f"{pid}×{qty}" for pid, qty in lines)


def _charged(sent: Sent, amount: int | None, currency: str) -> bool:
    return 200 <= sent.status < 300 and len(sent.made) == 1 and sent.made[0]["currency"] == currency \
        and (amount is None or sent.made[0]["amount"] == amount)


def cart_total(p: Probe) -> Item:
    """``checkout:cart_total``."""
    o, ids = p.order, list(p.catalog["products"])
    if o.shape == "none":
        return item("checkout:cart_total", PARTIAL, "the page's request names no product (the server chose it); "
                    "no cart could be sent", "Send the cart (product ids and quantities) from the page to the server.")
    if o.multi:
        carts = [[(pid, i + 1 if (o.has_quantity and i == 1) else 1) for i, pid in enumerate(ids)]]
    elif o.has_quantity:
        carts = [[(ids[1], 3)], [(ids[2], 2)]]
    else:
        carts = [[(pid, 1)] for pid in ids[1:]]
    seen = []
    for lines in carts:
        want = _total(lines, p.catalog)
        sent = p.send(p.body(lines))
        seen.append(f"{_cart_text(lines)}: {sent.seen()} (catalog total {want} {p.currency})")
        if not _charged(sent, want, p.currency):
            only_first = sent.made and sent.made[0]["amount"] == _total(lines[:1], p.catalog) and len(lines) > 1
            hint = ("The server charged only the first product: price every line of the cart the page sends "
                    "(the sum of PRODUCTS[id]['price'] × quantity)." if only_first else
                    "Price the cart the page sends from the catalog: the sum of PRODUCTS[id]['price'] × quantity "
                    "over every line, in the catalog's currency.")
            return item("checkout:cart_total", MISSING, f"sent as the page sends it: {seen[-1]}", hint)
    shape = "carts" if o.multi else "orders of one product" + (" with a quantity" if o.has_quantity else "")
    return item("checkout:cart_total", EVIDENCED, f"{shape} sent as the page sends them were charged the catalog "
                f"total: " + "; ".join(seen))


def _quantity_cases(p: Probe) -> list[tuple[str, Any, int | None]]:
    """(label, body, amount that counts as 'ignored' or None) for each bad order."""
    o, ids = p.order, list(p.catalog["products"])
    cases: list[tuple[str, Any, int | None]] = []
    if o.has_quantity and o.shape != "ids":
        for bad in BAD_QUANTITIES:
            # a field per product (a form): 0 there means "not this one", so the bad value is the only line
            lines = [(ids[0], 1), (ids[1], bad)] if o.multi and o.shape != "named" else [(ids[0], bad)]
            cases.append((f"quantity {json.dumps(bad)}", p.body(lines), None))
    elif o.shape in ("single", "lines", "none"):  # the page sends no quantity: one sent anyway is refused or ignored
        for bad in BAD_QUANTITIES[:4]:
            body = p.body()
            holder = get_at(body, o.where + ((0,) if o.shape == "lines" else ())) if o.shape != "none" else body
            if isinstance(holder, dict):
                holder["quantity"] = bad
                cases.append((f"an added quantity {json.dumps(bad)}", body, _total(o.lines(), p.catalog)))
    if o.shape != "none":
        cases.append(("unknown product prod_999", p.body([("prod_999", 1)]), None))
    return cases


def quantities(p: Probe) -> Item:
    """``checkout:quantities``."""
    bad, seen, amounts = [], [], set()
    for label, body, ignored in _quantity_cases(p):
        sent = p.send(body)
        ok = sent.refused or (ignored is not None and _charged(sent, ignored, p.currency))
        amounts |= {pi["amount"] for pi in sent.made} if not ok else set()
        if ok:
            seen.append(f"{label} (HTTP {sent.status}{', ignored' if sent.made else ''})")
        else:
            bad.append(f"{label}: {sent.seen()}")
    if not seen and not bad:
        return item("checkout:quantities", EVIDENCED, "the page writes quantities by repeating product ids; "
                    "nothing else to check")
    if bad:
        crash = any("HTTP 5" in b for b in bad)
        hint = ("Check each quantity before pricing: a whole number (an int, not a bool or 2.5) from 1 to the maximum, "
                "and the product in the catalog; answer a 4xx with a message, and create no PaymentIntent.")
        if len(bad) > 2 and len(amounts) == 1:
            hint = ("The server charged the same amount whatever quantity was sent: it does not read the quantities "
                    "(or the cart) the page sends. Check each line's quantity and price every line.")
        elif crash:
            hint += " A 500 means the server crashed on it: refuse it with a 400 instead."
        return item("checkout:quantities", MISSING, "refused with a 4xx and nothing made, expected for each; saw "
                    + "; ".join(bad) + (f". As expected: {', '.join(seen)}" if seen else ""), hint)
    return item("checkout:quantities", EVIDENCED, "each bad order got a 4xx and made nothing (or the added field "
                "was ignored): " + ", ".join(seen))


def _double_click_seen(n: int | None) -> str:
    if n is None:
        return "A double click on Pay could pay twice. "
    return f"A double click on Pay made {n} PaymentIntents. " if n != 1 else ""


def idempotency(p: Probe) -> Item:
    """``checkout:idempotency``."""
    body = p.body()
    first, second = p.send(body), p.send(body)
    names = ", ".join(".".join(map(str, path)) for path in p.order.attempt) or "none"
    if not first.made:
        return item("checkout:idempotency", MISSING, f"the page's request made no PaymentIntent: {first.seen()}",
                    "Create the PaymentIntent in create_payment_intent().")
    if second.made and first.made[0].get("object") == "checkout.session":
        return item("checkout:idempotency", EVIDENCED,
                    f"each request made a Checkout Session ({first.made[0]['id']}, {second.made[0]['id']}): the "
                    "customer pays a session once, on Stripe's page, so a repeated request makes no second payment")
    if second.made:
        if not p.order.attempt and p.double_click == 1:
            return item("checkout:idempotency", EVIDENCED,
                        "a double click on Pay made one PaymentIntent: the page lets a checkout attempt be sent once "
                        f"(its request carries no attempt id, so the same request sent twice made two: "
                        f"{first.made[0]['id']}, {second.made[0]['id']})",
                        "Good as it is for this page. To be safe against a retried request too, send an id per "
                        "checkout attempt (crypto.randomUUID()) and pass idempotency_key=… built from it.")
        if not p.order.attempt:
            return item("checkout:idempotency", MISSING,
                        f"the page's request sent twice made two PaymentIntents ({first.made[0]['id']}, "
                        f"{second.made[0]['id']}); nothing in it changes from one checkout attempt to the next",
                        f"{_double_click_seen(p.double_click)}Have the page make one id per checkout attempt "
                        "(crypto.randomUUID()) and send it, and pass idempotency_key=… built from it (and the cart) "
                        "to PaymentIntent.create.")
        return item("checkout:idempotency", MISSING,
                    f"the same checkout attempt (the page's {names}) sent twice made two PaymentIntents "
                    f"({first.made[0]['id']}, {second.made[0]['id']})",
                    f"Pass idempotency_key=… to PaymentIntent.create, built from the page's {names} (and the cart), "
                    "so that Stripe answers a repeated request with the PaymentIntent it already made.")
    if not p.order.attempt:
        return item("checkout:idempotency", EVIDENCED, f"the page's request sent twice made one PaymentIntent "
                    f"({first.made[0]['id']})")
    third = p.send(p.body())
    if not third.made:
        return item("checkout:idempotency", PARTIAL,
                    f"the same attempt twice made one PaymentIntent, but a new attempt (a new {names}) made none: "
                    f"{third.seen()}", "Key idempotency on the checkout attempt (the page's id) and the cart, "
                    "not on the cart alone: the same cart bought again is a new payment.")
    return item("checkout:idempotency", EVIDENCED,
                f"the same checkout attempt (the page's {names}) sent twice made one PaymentIntent "
                f"({first.made[0]['id']}); a new attempt made another ({third.made[0]['id']})")


def _tampered(p: Probe) -> list[tuple[str, Any]]:
    """(what was changed, body) for every field the browser could use to set the amount or the currency."""
    o, out = p.order, []
    cart_paths = {path for path, _ in leaves(p.body()) if path[:len(o.where)] == o.where} if o.multi else set()
    skip = set(o.attempt) | cart_paths | ({o.where + (o.product_key,), o.where + (o.qty_key,)} if o.shape == "single"
                                          else set())
    for path, value in leaves(p.body()):
        if path in skip or not path:
            continue
        name = ".".join(map(str, path))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((f"the page's {name}: {TAMPER}", path, TAMPER))
        elif isinstance(value, str) and value.lower() == p.currency:
            out.append((f"the page's {name}: {OTHER_CURRENCY!r}", path, OTHER_CURRENCY))
    if isinstance(p.body(), dict):
        out += [(f"{k}: {TAMPER}", (k,), TAMPER) for k in MONEY_FIELDS]
        out += [(f"{k}: {TAMPER / 100}", (k,), TAMPER / 100) for k in DOLLAR_FIELDS]
        out.append((f"currency: {OTHER_CURRENCY!r}", ("currency",), OTHER_CURRENCY))
    if o.shape == "lines":
        out += [(f"{'.'.join(map(str, o.where))}[].{k}: {TAMPER}", o.where + ("*", k), TAMPER) for k in ITEM_FIELDS]
        out.append((f"{'.'.join(map(str, o.where))}[].currency: {OTHER_CURRENCY!r}", o.where + ("*", "currency"),
                    OTHER_CURRENCY))
    bodies, seen = [], set()
    for label, path, value in out:
        if label in seen:
            continue
        seen.add(label)
        body = p.body()
        if "*" in path:
            for it in get_at(body, path[:path.index("*")]):
                if isinstance(it, dict):
                    it[path[-1]] = value
        elif len(path) == 1 or isinstance(get_at(body, path[:-1]), (dict, list)):
            set_at(body, path, value)
        bodies.append((label, body))
    return bodies


def server_price(p: Probe, amount: int) -> Item:
    """``checkout:server_price``: amount and currency from the server, whatever the browser sends."""
    bad, crashed, n = [], [], 0
    for label, body in _tampered(p):
        sent = p.send(body)
        n += 1
        if sent.refused or _charged(sent, amount, p.currency):
            continue
        if sent.status >= 500 and not sent.made:
            crashed.append(label)
            continue
        bad.append(f"{label} → {sent.seen()}")
    if bad:
        money = any("currency" not in b.split("→")[0] for b in bad)
        hint = ("Look the price up in your own catalog (PRODUCTS) from the product id and quantity only; never read "
                "an amount from the request." if money else
                "Take the currency from the catalog (PRODUCTS[id]['currency']), never from the request.")
        return item("checkout:server_price", MISSING, f"the catalog charges {amount} {p.currency} for the page's "
                    f"order; with a changed field: " + "; ".join(bad[:4]), hint)
    if crashed:
        return item("checkout:server_price", PARTIAL, f"{n} tampered requests: none changed the amount, but the "
                    f"server crashed (5xx) on {', '.join(crashed[:3])}",
                    "Refuse a field you do not expect with a 400 (or ignore it); never answer 500.")
    return item("checkout:server_price", EVIDENCED, f"{n} requests with a price, total or currency from the browser "
                f"(e.g. total_cents: {TAMPER}, currency: {OTHER_CURRENCY!r}) were refused or charged the catalog's "
                f"{amount} {p.currency}")


def _fetch(url: str) -> str:
    """The answer's headers and body (a secret in a header reaches the browser too)."""
    try:
        resp = requests.get(url, timeout=10)
    except requests.RequestException:
        return ""
    headers = "\n".join(f"{k}: {v}" for k, v in resp.headers.items())
    return headers + "\n\n" + resp.text[:2_000_000]


def no_secret(url: str, recorder: Recorder | None, secrets: list[str], answers: list[str], works: bool) -> Item:
    """``checkout:no_secret``: the page, what the browser loaded from the server, and the server's answers."""
    import re

    page = _fetch(url + "/")
    addresses = [url + "/"] + [u for u in (recorder.loaded if recorder else []) if u.rstrip("/") != url]
    addresses += [url + "/" + s.lstrip("/") for s in re.findall(r'<script[^>]+src="(/?[^":]+)"', page)]
    texts = {url + "/": page}
    for address in dict.fromkeys(addresses[:40]):
        texts.setdefault(address, _fetch(address))
    found = [f"{a.removeprefix(url) or '/'} ({how})" for a, t in texts.items() if (how := exposed(t, secrets))]
    found += [f"an answer to the page's request ({how})" for t in dict.fromkeys(answers)
              if (how := exposed(t, secrets))][:1]
    if found:
        return item("checkout:no_secret", MISSING, "a secret key reaches the browser: " + "; ".join(found[:4]),
                    "Only the publishable key (pk_test_…) may reach the browser. Keep STRIPE_SECRET_KEY on the "
                    "server: never put it in the page, its scripts, a config endpoint or an answer.")
    shown = ", ".join(a.removeprefix(url) or "/" for a in texts)
    if not works:
        return item("checkout:no_secret", MISSING, f"not judged: the checkout does not work yet (see "
                    f"checkout:cart_total); no secret key in {shown}", "Make the checkout work first.")
    return item("checkout:no_secret", EVIDENCED, f"no secret key in any form in {shown} or the server's answers")


def _guarded(check: str, probe: Callable[[Probe], Item], p: Probe) -> Item:
    """One probe; an error of the kit's own (a request shape it cannot rewrite…) costs that item only."""
    try:
        return probe(p)
    except Exception as exc:  # never let one probe zero the others
        return item(check, MISSING, f"the check could not run on this server's request ({type(exc).__name__}: "
                    f"{textwrap.shorten(str(exc), 120, placeholder=' …')})", "Tell the course staff: the grader "
                    "should judge this item by hand.")


def server_items(url: str, client: Any, recorder: Recorder | None, catalog: dict[str, Any], secrets: list[str],
                 new_payment_method: Callable[[], str], log_tail: str = "") -> list[Item]:
    """The five server checks, with the request the page sent (the handout's when none was recorded)."""
    try:
        order = learn(recorder.posts if recorder else [], catalog)
    except Exception:  # a request the kit cannot read: the handout's is sent instead
        order = learn([], catalog)
    p = Probe(url.rstrip("/"), client, order, catalog, new_payment_method,
              double_click=getattr(recorder, "double_click", None))
    start = "" if order.recorded else ("the page sent no request the checks could read (see scenario:success), so "
                                       "the handout's {\"product_id\": \"prod_001\"} was sent; ")
    base = p.send(p.body())
    want = _total(order.lines(), catalog)
    if not (200 <= base.status < 300 and base.made):
        why = f"{start}the page's order request sent again ({order.request.path}): {base.seen()}"
        extra = " ".join(log_hint(log_tail, "server"))
        hint = "Create the PaymentIntent in create_payment_intent() and answer {\"clientSecret\": …}."
        items = [item(c, MISSING, f"{why}. {extra}".strip(), hint) for c in CHECKS[:4]]
        return items + [no_secret(p.url, recorder, secrets, p.answers, works=False)]
    amount = want if want is not None else base.made[0]["amount"]
    items: list[Item] = []
    for check, probe in zip(CHECKS, (cart_total, quantities, idempotency, lambda q: server_price(q, amount))):
        if p.hung:  # a hung route: say so once, do not wait again for each probe
            first = next((i.check for i in items if "no answer within" in i.evidence), "the items above")
            items.append(item(check, MISSING, f"not tried: the server did not answer a request within {TIMEOUT} s "
                              f"(see {first})", "Find what makes the route hang (its log shows where "
                              "it waits) and answer every request, a bad one with a 4xx."))
        else:
            items.append(_guarded(check, probe, p))
    if start:
        for it in items:
            it.evidence = start + it.evidence
    return items + [no_secret(p.url, recorder, secrets, p.answers, works=True)]


def payment_method_maker(api_base: str, publishable_key: str, client: Any) -> Callable[[], str]:
    """New test-card PaymentMethods (4242), made as Stripe.js makes them (the publishable key), for a page
    whose request carries a ``pm_…`` per attempt (a server that confirms the payment itself)."""
    import time

    def make() -> str:
        try:
            resp = requests.post(api_base.rstrip("/") + "/v1/payment_methods", auth=(publishable_key, ""), timeout=10,
                                 data={"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
                                       "card[exp_year]": str(time.gmtime().tm_year + 3), "card[cvc]": "123"})
            return resp.json()["id"]
        except (requests.RequestException, ValueError, KeyError):
            return "pm_card_visa"
    return make
