"""Made-up Part B submissions built with today's Stripe integrations, from the model variants in
``variants/`` (the Payment Element, a hosted Checkout Session) and the embedded Checkout form, each
mistake one targeted edit of a model file. ``EXPECTED`` says how each must be graded."""
from __future__ import annotations

import shutil
from pathlib import Path

from .builder import ROOT, _replace

VARIANTS = ROOT / "variants"


def _copy(name: str, dest: Path) -> Path:
    shutil.copytree(VARIANTS / name, dest, dirs_exist_ok=True)
    return dest


def payment_element(dest: Path) -> Path:
    return _copy("payment_element", dest)


def checkout_session(dest: Path) -> Path:
    return _copy("checkout_session", dest)


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(_replace(path.read_text(encoding="utf-8"), old, new), encoding="utf-8")


MODEL_CONFIRM = '''      const { error } = await stripe.confirmPayment({
        elements, clientSecret,
        confirmParams: { return_url: new URL("complete", location.href).href },
      });'''


def pe_no_return_url(dest: Path) -> Path:
    """confirmPayment without confirmParams.return_url (Stripe.js refuses it: nothing is paid)."""
    _copy("payment_element", dest)
    _edit(dest / "static" / "checkout.js", MODEL_CONFIRM,
          "      const { error } = await stripe.confirmPayment({ elements, clientSecret });")
    return dest


def pe_if_required_without_return_url(dest: Path) -> Path:
    """redirect: 'if_required' and no return_url: cards work, a redirect-based method could not come back."""
    _copy("payment_element", dest)
    _edit(dest / "static" / "checkout.js", MODEL_CONFIRM + '''
      // Only reached on an error: a success has sent the browser to return_url.
      show("error", "Payment failed", error.message, error.payment_intent);''', '''\
      const { error, paymentIntent } = await stripe.confirmPayment({
        elements, clientSecret, redirect: "if_required" });
      if (error) show("error", "Payment failed", error.message, error.payment_intent);
      else show("success", "✓ Payment succeeded!", "ID: " + paymentIntent.id, paymentIntent);''')
    return dest


def pe_success_before_status(dest: Path) -> Path:
    """The return page says "succeeded" because it was reached, without reading the payment."""
    _copy("payment_element", dest)
    _edit(dest / "checkout_server.py", '''    try:
        intent = stripe.PaymentIntent.retrieve(pi_id)
    except stripe.StripeError as exc:
        return render_template("complete.html", outcome="failed", title="Could not read the payment",
                               message=exc.user_message or "Stripe refused the request.", intent=None), 502
    if intent.status == "succeeded":''', '''    intent = {"id": pi_id, "status": "succeeded"}
    if True:  # Stripe sent the customer back here, so the payment went through''')
    _edit(dest / "checkout_server.py", 'f"ID: {intent.id}", "succeeded"', 'f"ID: {pi_id}", "succeeded"')
    return dest


def cs_priced_from_browser(dest: Path) -> Path:
    """The Checkout Session's unit_amount is taken from what the browser sent, when it sent one."""
    _copy("checkout_session", dest)
    _edit(dest / "checkout_server.py", '"unit_amount": line.unit_price,',
          '"unit_amount": int((request.get_json(silent=True) or request.form).get("price") or line.unit_price),')
    return dest


def checkout_embedded(dest: Path) -> Path:
    """The Checkout Session variant turned into Stripe's embedded form (ui_mode=embedded, return_url)."""
    _copy("checkout_session", dest)
    server = dest / "checkout_server.py"
    _edit(server, '''            success_url=base + "success?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=base + "?canceled=1",''', '''            ui_mode="embedded",
            return_url=base + "success?session_id={CHECKOUT_SESSION_ID}",''')
    _edit(server, '''    if request.is_json:
        return jsonify({"url": session.url, "id": session.id})
    return redirect(session.url, code=303)''', '''    return jsonify({"clientSecret": session.client_secret})''')
    _edit(server, '''@app.get("/")
def index():''', '''@app.get("/")
def index():
    return render_template("embedded.html", publishable_key=os.environ["STRIPE_PUBLISHABLE_KEY"])


def old_index():''')
    _edit(server, '''    "default-src 'self'", "script-src 'self'",''', '''\
    "default-src 'self'", "script-src 'self' https://js.stripe.com",
    "frame-src https://js.stripe.com https://checkout.stripe.com", "connect-src 'self' https://api.stripe.com",''')
    (dest / "templates" / "embedded.html").write_text('''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Checkout</title>
<script src="https://js.stripe.com/v3/"></script></head>
<body><h1>Checkout</h1><div id="checkout" data-key="{{ publishable_key }}"></div>
<script src="/static/embedded.js"></script></body></html>
''', encoding="utf-8")
    (dest / "static" / "embedded.js").write_text('''(async function () {
  const box = document.getElementById("checkout");
  const stripe = Stripe(box.dataset.key);
  const fetchClientSecret = () => fetch("create-checkout-session", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({items: [{product_id: "prod_001", quantity: 1}], checkout_id: crypto.randomUUID()}),
  }).then((r) => r.json()).then((b) => b.clientSecret);
  const checkout = await stripe.initEmbeddedCheckout({ fetchClientSecret });
  checkout.mount("#checkout");
})();
''', encoding="utf-8")
    return dest


# name -> (builder, {check: status}) for the checks that the mistake changes (the rest as the model)
EXPECTED = {
    "pe_no_return_url": (pe_no_return_url, {"scenario:success": "missing"}),
    "pe_if_required_without_return_url": (pe_if_required_without_return_url, {"scenario:success": "partial"}),
    "pe_success_before_status": (pe_success_before_status, {"scenario:generic_decline": "missing"}),
    "cs_priced_from_browser": (cs_priced_from_browser, {"checkout:server_price": "missing"}),
}
