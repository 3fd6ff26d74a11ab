"""Part B checks on the student's running checkout: the price comes from the server, and the four
test cards (five runs: 3155 completed and failed) in a real browser, each compared with Stripe."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from labkit.browser import CheckoutBrowser, Scenario, in_worker_thread, load_scenarios
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Feedback, Item, item, log_hint
from labkit.checks.pages import PageRun, latest_payment_intent, pay_on_page, read_result
from labkit.checks.today import review

TAMPERED_AMOUNT = 51  # cents: above Stripe's 50-cent minimum, and no catalog price


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None, str]:
    try:
        resp = requests.post(url + "/create-payment-intent", json=body, timeout=10)
    except requests.RequestException as exc:
        return 0, None, f"no answer ({type(exc).__name__})"
    try:
        data = resp.json()
    except ValueError:
        data = None
    return resp.status_code, data if isinstance(data, dict) else None, resp.text[:120]


def _pi_amount(client: Any, answer: dict[str, Any] | None) -> int | None:
    secret = (answer or {}).get("clientSecret") or (answer or {}).get("client_secret")
    if not isinstance(secret, str) or "_secret_" not in secret:
        return None
    return client.v1.payment_intents.retrieve(secret.split("_secret_")[0]).amount


def server_price(url: str, client: Any, log_tail: str = "") -> Item:
    """``checkout:server_price``: an amount sent by the browser is refused or ignored."""
    status, answer, raw = _post(url, {"product_id": "prod_001"})
    if status in (404, 405):  # no PaymentIntent route: a Checkout Session integration?
        from labkit.checks.today import session_server_price

        return session_server_price(url, client)
    base = _pi_amount(client, answer) if status == 200 else None
    if base is None:
        seen = f"HTTP {status}" + (f" {answer.get('error')!r}" if answer and answer.get("error") else f" {raw!r}")
        fb = Feedback("POST /create-payment-intent {\"product_id\": \"prod_001\"}",
                      "200 with a clientSecret", seen, extra=log_hint(log_tail, "server"))
        return item("checkout:server_price", MISSING, fb.text(),
                    "Create the PaymentIntent in create_payment_intent() and answer {\"clientSecret\": …}.")
    tampered = {"product_id": "prod_001", "amount": TAMPERED_AMOUNT, "price": TAMPERED_AMOUNT}
    status2, answer2, _ = _post(url, tampered)
    if 400 <= status2 < 500:
        return item("checkout:server_price", EVIDENCED,
                    f"a body with \"amount\": {TAMPERED_AMOUNT} was refused (HTTP {status2}); the plain order made "
                    f"a PaymentIntent of {base} cents")
    amount2 = _pi_amount(client, answer2) if status2 == 200 else None
    if amount2 == base:
        return item("checkout:server_price", EVIDENCED,
                    f"a body with \"amount\": {TAMPERED_AMOUNT} was ignored: the PaymentIntent is {amount2} cents, "
                    "the catalog's price")
    fb = Feedback(f"POST /create-payment-intent with \"amount\": {TAMPERED_AMOUNT} from the browser",
                  f"a 4xx, or a PaymentIntent of the catalog's {base} cents",
                  f"HTTP {status2}, PaymentIntent amount {amount2}")
    return item("checkout:server_price", MISSING, fb.text(),
                "Look the price up in your own catalog (PRODUCTS / CATALOG); never read an amount from request JSON.")


EXPECT = {
    "success": ("success", "succeeded", None),
    "insufficient_funds": ("failure", "requires_payment_method", "insufficient_funds"),
    "3ds_complete": ("success", "succeeded", None),
    "3ds_fail": ("failure", "requires_payment_method", "payment_intent_authentication_failure"),
    "generic_decline": ("failure", "requires_payment_method", "generic_decline"),
}
HINTS = {
    "success": "Call stripe.confirmCardPayment(clientSecret, {payment_method: {card}}) and show the result in #result.",
    "insufficient_funds": "When confirmCardPayment returns an error, show error.message in #result as a failure.",
    "3ds_complete": "Let Stripe.js run 3D Secure (confirmCardPayment does it) and check paymentIntent.status.",
    "3ds_fail": "A failed 3D Secure comes back as an error from confirmCardPayment: show it as a failure.",
    "generic_decline": "Show Stripe's decline message in #result; never say 'succeeded' unless the status is succeeded.",
}


def judge(run: PageRun, pi: dict[str, Any] | None, scenario: Scenario) -> Item:
    check = f"scenario:{scenario.key}"
    want_shown, want_status, want_code = EXPECT[scenario.key]
    status = (pi or {}).get("status")
    err = (pi or {}).get("last_payment_error") or {}
    code = err.get("decline_code") or err.get("code")
    expected = f"the page shows {want_shown} and Stripe records {want_status}" + (f" ({want_code})" if want_code else "")
    seen = (f"the page showed {run.shown}" + (f" ({run.message[:90]!r})" if run.message else "")
            + f"; Stripe: {status or 'no PaymentIntent'}" + (f" ({code})" if code else ""))
    name = f"{scenario.title} ({scenario.number[:4]} … {scenario.number[-4:]})"
    if run.problem:
        return item(check, MISSING, Feedback(name, expected, run.problem).text(), HINTS[scenario.key])
    ok_stripe = status == want_status and (want_code is None or code == want_code)
    if scenario.challenge == "complete" and status == "requires_action":
        return item(check, MISSING, Feedback(name, expected, seen + "; 3D Secure was never run").text(),
                    HINTS["3ds_complete"])
    if run.shown == want_shown and ok_stripe:
        return item(check, EVIDENCED, f"{name}: {seen}")
    if run.shown == "success" and status != "succeeded":
        return item(check, MISSING, Feedback(name, expected, seen).text() + " The page shows a failed payment as a success.",
                    HINTS[scenario.key])
    status_ = PARTIAL if ok_stripe and run.shown != "nothing" else MISSING
    return item(check, status_, Feedback(name, expected, seen).text(), HINTS[scenario.key])


def _all_scenarios(url: str, client: Any, shots: Path | None, timeout: float,
                   keys: tuple[str, ...] | None = None) -> list[Item]:
    items: list[Item] = []
    scenarios = [s for s in load_scenarios() if keys is None or s.key in keys]
    with CheckoutBrowser(url, timeout=timeout) as browser:
        for sc in scenarios:
            since = time.time()
            run = pay_on_page(browser, url, sc, timeout=timeout,
                              screenshot=(shots / f"{sc.key}.png") if shots else None)
            pi = None
            if run.payment_intent:
                try:
                    pi = client.v1.payment_intents.retrieve(run.payment_intent).to_dict()
                except Exception:
                    pi = None
            pi = pi or latest_payment_intent(client, since)
            items.append(review(judge(run, pi, sc), run, pi, lambda u: read_result(browser, u, timeout=timeout)))
            if sc.key == "success" and (run.problem or run.shown == "nothing"):  # no payment possible: say it once
                why = run.problem or "the page showed no result in #result after Pay"
                rest = [s for s in scenarios if s.key != "success"]
                items += [item(f"scenario:{s.key}", MISSING, f"not tried: {why} (see scenario:success)",
                               HINTS["success"]) for s in rest]
                break
    return items


def scenarios(url: str, client: Any, *, screenshots: Path | None = None, timeout: float = 12.0,
              keys: tuple[str, ...] | None = None) -> list[Item]:
    """The five browser runs on the student's page (a worker thread: notebooks run an event loop);
    ``keys`` runs only those scenarios (``("success",)``)."""
    return in_worker_thread(_all_scenarios, url, client, screenshots, timeout, keys)
