"""Part B checks that depend on the integration the student chose (see :mod:`labkit.checks.integrations`).

* The Payment Element: ``confirmPayment`` needs ``confirmParams.return_url`` (Stripe sends the customer
  there after any redirect, and after every success unless ``redirect: 'if_required'``), and the return
  page must read the payment's status, not trust that it was reached: it is opened with a declined
  PaymentIntent and ``redirect_status=failed``, as Stripe sends a failed redirect-based payment back.
* Hints name the calls of the integration in use, not the handout's ``confirmCardPayment``.
"""
from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl


from labkit.checks import integrations as ig
from labkit.checks.items import EVIDENCED, MISSING, PARTIAL, Feedback, Item, item

SESSION_ROUTE = "/create-checkout-session"
SESSION_ID = re.compile(r"cs_test_[A-Za-z0-9]+")
TAMPERED_AMOUNT = 51

HINTS = {
    ig.PAYMENT: {
        "success": "Mount elements.create('payment') with the PaymentIntent's client secret, call elements.submit() "
                   "then stripe.confirmPayment({elements, clientSecret, confirmParams: {return_url}}).",
        "failure": "When stripe.confirmPayment resolves with {error}, show error.message in #result as a failure; "
                   "on the return page, show success only when the PaymentIntent's status is succeeded.",
        "3ds": "Let confirmPayment run 3D Secure itself, then read the outcome (on the return page after a redirect).",
    },
    ig.HOSTED: {
        "success": "Create the Checkout Session on your server (mode=payment, line_items, success_url with "
                   "{CHECKOUT_SESSION_ID}) and send the browser to session.url; the success page reads the session.",
        "failure": "Stripe's page shows declines itself: never show success on your page unless the session is paid.",
        "3ds": "Stripe's Checkout page runs 3D Secure; your success page must read the session's payment_status.",
    },
}
HINTS[ig.EMBEDDED] = dict(HINTS[ig.HOSTED], success=(
    "Create the session with ui_mode=embedded and a return_url, answer its client_secret, and mount it with "
    "stripe.initEmbeddedCheckout({fetchClientSecret}); the return page reads the session."))


# ------------------------------------------------------------------------------ scenario review
def _hint(kind: str, key: str) -> str:
    hints = HINTS[kind]
    return hints["3ds"] if key.startswith("3ds") else hints["success" if key == "success" else "failure"]


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    return urlunsplit(parts._replace(query=urlencode(query + list(extra.items()))))


def review(found: Item, run: Any, pi: dict[str, Any] | None, read: Callable[[str], tuple[str, str]]) -> Item:
    """``found`` (the handout's judgement of one scenario) with what the integration adds."""
    kind = getattr(run, "integration", ig.CARD)
    if kind == ig.CARD:
        return found
    note = f" (integration: {ig.NAMES[kind]})"
    if found.status != EVIDENCED:
        errors = list(getattr(run, "browser_errors", ()))[:1]
        said = f" The page's console: {errors[0][:200]}" if errors and run.shown == "nothing" else ""
        return item(found.check, found.status, found.evidence + note + said, _hint(kind, run.scenario))
    if kind != ig.PAYMENT:
        return item(found.check, EVIDENCED, found.evidence + note)
    if run.scenario == "success" and not run.return_url:
        return item(found.check, PARTIAL, found.evidence + note + "; but confirmPayment was called without "
                    "confirmParams.return_url, which Stripe needs to bring the customer back after a redirect",
                    "Pass confirmParams: {return_url: …} to stripe.confirmPayment (a page of yours that reads the "
                    "payment's status).")
    if run.scenario == "generic_decline" and run.return_url and run.client_secret and pi and pi.get("id"):
        probe = _with_query(run.return_url, {"payment_intent": pi["id"], "payment_intent_client_secret":
                                             run.client_secret, "redirect_status": "failed"})
        shown, message = read(probe)
        if shown == "success":
            fb = Feedback(f"the return page {urlsplit(run.return_url).path or '/'} opened as Stripe sends back a "
                          "failed payment (redirect_status=failed, a declined PaymentIntent)",
                          "the page shows the failure", f"it showed success ({message[:80]!r})")
            return item(found.check, MISSING, fb.text() + " The return page shows success without reading the "
                        "payment's status.", "On the return page, retrieve the PaymentIntent (stripe."
                        "retrievePaymentIntent(payment_intent_client_secret), or on your server) and show success "
                        "only when its status is succeeded.")
    return item(found.check, EVIDENCED, found.evidence + note)
