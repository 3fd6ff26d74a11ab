"""Made-up Part B submissions: the solution or the handout's code with one targeted mistake each, and
correct alternatives. ``EXPECTED_B`` says how Part B's checks must grade each (checks not named may be
anything). Each mistake got full marks (35/35) from the checks before issue 22."""
from __future__ import annotations

from pathlib import Path

from .builder import _edit, handout_fixed, solution

CREATE = "    order = parse_order(read_json(request))\n"


def _replace_block(dest: Path, name: str, start: str, end: str, new: str) -> None:
    """Replace ``start`` … the first ``end`` after it (``end`` kept) in ``dest/name``."""
    path = dest / name
    text = path.read_text(encoding="utf-8")
    i = text.index(start)
    j = text.index(end, i)
    path.write_text(text[:i] + new + text[j:], encoding="utf-8")


# ---------------------------------------------------------------------- mistakes
def ignores_cart(dest: Path) -> None:
    """Reads only product_id, as the handout's server does, though the page sends a cart of items."""
    solution(dest)
    _edit(dest, "checkout_server.py", CREATE,
          "    data = read_json(request)\n"
          "    order = parse_order({\"product_id\": data.get(\"product_id\", \"prod_001\"),\n"
          "                         \"checkout_id\": data.get(\"checkout_id\")})\n")


def bad_quantities(dest: Path) -> None:
    """Takes any number up to the maximum as a quantity: 0, -1 and 2.5 (rounded down) are charged."""
    solution(dest)
    _edit(dest, "checkout_server.py",
          "        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:\n",
          "        if not isinstance(quantity, (int, float)) or quantity > MAX_QUANTITY:\n")
    _edit(dest, "checkout_server.py", '    amount = sum(PRODUCTS[p]["price"] * q for p, q in lines.items())\n',
          '    amount = int(sum(PRODUCTS[p]["price"] * q for p, q in lines.items()))\n')


def no_idempotency_key(dest: Path) -> None:
    solution(dest)
    _edit(dest, "checkout_server.py", "            idempotency_key=idempotency_key(order),\n", "")


def charges_total_cents(dest: Path) -> None:
    """The page sends the total it shows; the server charges it when present."""
    solution(dest)
    _edit(dest, "static/checkout.js", "body: JSON.stringify({ items: items, checkout_id: checkoutId }),",
          "body: JSON.stringify({ items: items, checkout_id: checkoutId, total_cents: total(items) }),")
    _edit(dest, "checkout_server.py", CREATE,
          "    data = read_json(request)\n"
          "    total_cents = data.pop(\"total_cents\", None)\n"
          "    order = parse_order(data)\n"
          "    order[\"amount\"] = int(total_cents or order[\"amount\"])\n")


def secret_in_config(dest: Path) -> None:
    """The secret key in the page's JSON config (next to the publishable key)."""
    solution(dest)
    _edit(dest, "checkout_server.py", '        "maxQuantity": MAX_QUANTITY,\n',
          '        "maxQuantity": MAX_QUANTITY,\n        "secretKey": stripe.api_key,\n')


def secret_in_script(dest: Path) -> None:
    """A key pasted into the page's script, cut in two so it does not look like one."""
    solution(dest)
    _edit(dest, "static/checkout.js", '  "use strict";\n',
          '  "use strict";\n  const serverKey = "sk_" + "test_" + "51PqLab09ExampleKeyZZ8a7Hq2";  // for later\n')


def currency_from_browser(dest: Path) -> None:
    solution(dest)
    _edit(dest, "checkout_server.py", CREATE,
          "    data = read_json(request)\n"
          "    currency = data.pop(\"currency\", None)\n"
          "    order = parse_order(data)\n"
          "    order[\"currency\"] = currency or order[\"currency\"]\n")


def hangs_on_zero(dest: Path) -> None:
    """The order route waits forever on a quantity of 0 (a loop that never ends, in the student's code)."""
    solution(dest)
    _edit(dest, "checkout_server.py", CREATE,
          "    data = read_json(request)\n"
          "    if any(isinstance(i, dict) and i.get(\"quantity\") == 0 for i in data.get(\"items\", [])):\n"
          "        import time\n"
          "        time.sleep(120)\n"
          "    order = parse_order(data)\n")


# ---------------------------------------------------------------------- correct alternatives
MANUAL_SERVER = '''    data = read_json(request)
    payment_method = data.pop("payment_method_id", None)
    order = parse_order(data)
    if not isinstance(payment_method, str) or not payment_method.startswith("pm_"):
        return jsonify({"error": "Send payment_method_id (from stripe.createPaymentMethod)."}), 400
    try:
        intent = stripe.PaymentIntent.create(
            amount=order["amount"], currency=order["currency"], payment_method=payment_method,
            payment_method_types=["card"], confirmation_method="manual", confirm=True,
            metadata={"product_id": ",".join(order["lines"]), "integration": INTEGRATION},
            idempotency_key=idempotency_key(order) + "-" + payment_method,
        )
    except stripe.CardError as exc:
        return jsonify({"error": exc.user_message}), 402
    except stripe.StripeError as exc:
        return stripe_error(exc)
    return intent_answer(intent)
'''
MANUAL_ROUTES = '''

def intent_answer(intent):
    if intent.status == "requires_action":
        return jsonify({"requires_action": True, "clientSecret": intent.client_secret})
    if intent.status == "succeeded":
        return jsonify({"success": True, "payment_intent": intent.id, "display": format_money(intent.amount, intent.currency)})
    return jsonify({"error": f"Payment not completed ({intent.status})."}), 402


@app.post("/confirm-payment")
def confirm_payment():
    """After 3D Secure (stripe.handleCardAction) the server confirms the PaymentIntent again."""
    pi_id = read_json(request).get("payment_intent_id")
    if not isinstance(pi_id, str) or not pi_id.startswith("pi_"):
        return jsonify({"error": "Send payment_intent_id."}), 400
    try:
        intent = stripe.PaymentIntent.confirm(pi_id)
    except stripe.CardError as exc:
        return jsonify({"error": exc.user_message}), 402
    except stripe.StripeError as exc:
        return stripe_error(exc)
    return intent_answer(intent)
'''
MANUAL_PAGE = '''      const { paymentMethod, error: pmError } = await stripe.createPaymentMethod({ type: "card", card: card });
      if (pmError) { showResult("error", "Payment failed", pmError.message, {}); return; }
      const post = async (path, data) => {
        const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                      body: JSON.stringify(data) });
        return r.json();
      };
      let body = await post("create-payment-intent", { items: items, checkout_id: checkoutId,
                                                       payment_method_id: paymentMethod.id });
      if (body.requires_action) {
        const { paymentIntent, error } = await stripe.handleCardAction(body.clientSecret);
        if (error) { showResult("error", "Payment failed", error.message, {}); return; }
        body = await post("confirm-payment", { payment_intent_id: paymentIntent.id });
      }
      if (body.error || !body.success) {
        showResult("error", "Payment failed", body.error || "The payment did not go through.", {});
        return;
      }
      showResult("success", "✓ Payment succeeded!", "ID: " + body.payment_intent,
                 { paymentIntent: body.payment_intent, status: "succeeded", rows: { "Amount": body.display } });
      checkoutId = newCheckoutId();
      card.clear();
'''


def manual_confirmation(dest: Path) -> None:
    """Stripe's server-confirmation flow: createPaymentMethod, the server confirms (confirmation_method
    manual), handleCardAction for 3D Secure, then the server confirms again."""
    solution(dest)
    _replace_block(dest, "checkout_server.py", CREATE, "    # END SOLUTION", MANUAL_SERVER)
    _edit(dest, "checkout_server.py", "\n\n@app.get(\"/payment-success\")", MANUAL_ROUTES + "\n\n@app.get(\"/payment-success\")")
    _replace_block(dest, "static/checkout.js", "      // 1. Our server creates the PaymentIntent", "      // END SOLUTION",
                   MANUAL_PAGE)


def stripe_client(dest: Path) -> None:
    """StripeClient (stripe-python's newer interface) instead of the module-level stripe.PaymentIntent."""
    solution(dest)
    _edit(dest, "checkout_server.py", "        intent = stripe.PaymentIntent.create(\n",
          "        client = stripe.StripeClient(stripe.api_key)\n"
          "        intent = client.v1.payment_intents.create(params=dict(\n")
    _edit(dest, "checkout_server.py", "            idempotency_key=idempotency_key(order),\n        )\n",
          "        ), options={\"idempotency_key\": idempotency_key(order)})\n")


def ignores_unknown_fields(dest: Path) -> None:
    """Reads only the fields it knows and ignores the rest (the solution refuses them with a 400)."""
    solution(dest)
    _edit(dest, "checkout_server.py",
          '    extra = sorted(str(k) for k in data if k not in ("items", "product_id", "quantity", "checkout_id"))\n',
          "    extra = []\n"
          "    data = {k: v for k, v in data.items() if k in (\"items\", \"product_id\", \"quantity\", \"checkout_id\")}\n")
    _edit(dest, "checkout_server.py", '        if not isinstance(item, dict) or set(item) - {"product_id", "quantity"}:\n',
          "        if not isinstance(item, dict):\n")


def handout_with_attempt_id(dest: Path) -> None:
    """The handout's code (one product, no quantity), with an id per checkout attempt as idempotency key."""
    handout_fixed(dest)
    _edit(dest, "checkout_server.py", "body: JSON.stringify({product_id: \"{{ product_id }}\"})",
          "body: JSON.stringify({product_id: \"{{ product_id }}\", attempt: attemptId})")
    _edit(dest, "checkout_server.py", "        const card = elements.create(\"card\");\n",
          "        const card = elements.create(\"card\");\n        const attemptId = crypto.randomUUID();\n")
    _edit(dest, "checkout_server.py", "            automatic_payment_methods={\"enabled\": True}\n",
          "            automatic_payment_methods={\"enabled\": True},\n"
          "            idempotency_key=f\"{str(data.get('attempt'))[:64]}-{product_id}\"\n")


SERVER_OK = {c: "evidenced" for c in ("checkout:cart_total", "checkout:quantities", "checkout:idempotency",
                                      "checkout:server_price", "checkout:no_secret")}
SCENARIOS_OK = {f"scenario:{s}": "evidenced" for s in ("success", "insufficient_funds", "3ds_complete", "3ds_fail",
                                                        "generic_decline")}
# kind -> (builder, the statuses Part B must get; checks not named may be anything)
EXPECTED_B = {
    "ignores_cart": (ignores_cart, {**SERVER_OK, "checkout:cart_total": "missing", "checkout:quantities": "missing"}),
    "bad_quantities": (bad_quantities, {**SERVER_OK, "checkout:quantities": "missing"}),
    "no_idempotency_key": (no_idempotency_key, {**SERVER_OK, "checkout:idempotency": "missing"}),
    "charges_total_cents": (charges_total_cents, {**SERVER_OK, "checkout:server_price": "missing"}),
    "secret_in_config": (secret_in_config, {**SERVER_OK, "checkout:no_secret": "missing"}),
    "secret_in_script": (secret_in_script, {**SERVER_OK, "checkout:no_secret": "missing"}),
    "hangs_on_zero": (hangs_on_zero, {"checkout:cart_total": "evidenced", "checkout:quantities": "missing",
                                      "checkout:idempotency": "missing", "checkout:server_price": "missing"}),
    "currency_from_browser": (currency_from_browser, {**SERVER_OK, "checkout:server_price": "missing"}),
    "manual_confirmation": (manual_confirmation, {**SERVER_OK, **SCENARIOS_OK}),
    "stripe_client": (stripe_client, SERVER_OK),
    "ignores_unknown_fields": (ignores_unknown_fields, SERVER_OK),
    "handout_with_attempt_id": (handout_with_attempt_id, {**SERVER_OK, "scenario:success": "evidenced"}),
}
