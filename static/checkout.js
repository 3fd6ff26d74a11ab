// The checkout page's own script: the handout's flow (create a PaymentIntent on our server,
// confirm it with Stripe.js), plus a small cart. It never sees card data: the card field is
// Stripe's iframe, and confirmCardPayment talks to Stripe directly.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("checkout-config").textContent);
  const form = document.getElementById("payment-form");
  const button = document.getElementById("submit-btn");
  const cardErrors = document.getElementById("card-errors");
  const result = document.getElementById("result");
  const totalCell = document.getElementById("order-total");

  if (typeof Stripe !== "function") {
    showResult("error", "Stripe.js did not load", "The card field needs Stripe.js; check your connection (or that the fake Stripe is running) and reload.", {});
    return;
  }
  const stripe = Stripe(cfg.publishableKey);
  const elements = stripe.elements();
  const card = elements.create("card", {
    style: {
      base: { color: "#1f2937", fontSize: "16px", fontFamily: "-apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
              "::placeholder": { color: "#6b7280" } },  // 4.8:1 on white (WCAG 1.4.3)
      invalid: { color: "#c62828" },
    },
  });
  card.mount("#card-element");

  let cardReady = false;
  let busy = false;
  let checkoutId = newCheckoutId();  // one per checkout attempt: a double click replays, never pays twice

  card.on("ready", () => { cardReady = true; refresh(); });
  card.on("change", (event) => {
    cardErrors.textContent = event.error ? event.error.message : "";
  });

  function newCheckoutId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "co-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function money(cents) {
    return "$" + (cents / 100).toFixed(2);
  }

  function cart() {
    const items = [];
    for (const [pid, product] of Object.entries(cfg.products)) {
      const input = document.getElementById("qty-" + pid);
      let q = parseInt(input.value, 10);
      if (!Number.isFinite(q) || q < 0) q = 0;
      if (q > cfg.maxQuantity) q = cfg.maxQuantity;
      const row = input.closest("tr");
      row.querySelector(".line-total").textContent = money(product.price * q);
      row.classList.toggle("selected", q > 0);
      if (q > 0) items.push({ product_id: pid, quantity: q });
    }
    return items;
  }

  function total(items) {
    return items.reduce((sum, it) => sum + cfg.products[it.product_id].price * it.quantity, 0);
  }

  function refresh() {
    const items = cart();
    const amount = total(items);
    totalCell.textContent = money(amount);
    if (!busy) {
      button.disabled = !cardReady || items.length === 0;
      button.textContent = items.length ? "Pay " + money(amount) : "Add an item to pay";
    }
  }

  for (const pid of Object.keys(cfg.products)) {
    document.getElementById("qty-" + pid).addEventListener("input", refresh);
  }

  function showResult(kind, title, message, details) {
    result.hidden = false;
    result.className = "result " + (kind === "success" ? "success" : "error");
    result.replaceChildren();
    const t = document.createElement("div");
    t.className = "title";
    t.textContent = title;
    const m = document.createElement("div");
    m.className = "message";
    m.textContent = message;
    result.append(t, m);
    const dl = document.createElement("dl");
    for (const [label, value] of Object.entries(details.rows || {})) {
      if (value === undefined || value === null || value === "") continue;
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dl.append(dt, dd);
    }
    if (dl.children.length) result.append(dl);
    if (details.receipt) {
      const a = document.createElement("a");
      a.href = details.receipt;
      a.textContent = "Payment status from the server (/payment-success)";
      a.id = "receipt-link";
      const p = document.createElement("div");
      p.className = "receipt";
      p.append(a);
      result.append(p);
    }
    result.dataset.outcome = kind === "success" ? "succeeded" : "failed";
    result.dataset.paymentIntent = details.paymentIntent || "";
    result.dataset.status = details.status || "";
    result.dataset.code = details.code || "";
    result.dataset.declineCode = details.declineCode || "";
  }

  function setBusy(on) {
    busy = on;
    if (on) {  // aria-disabled, not disabled: a disabled button drops the keyboard user's focus (WCAG 2.4.3)
      button.setAttribute("aria-disabled", "true");
      button.textContent = "Processing…";
    } else {
      button.removeAttribute("aria-disabled");
      refresh();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const items = cart();
    if (!items.length) return;
    setBusy(true);
    result.hidden = true;
    delete result.dataset.outcome;
    try {
      // 1. Our server creates the PaymentIntent; it computes the amount from its catalog.
      let resp, body;
      try {
        resp = await fetch("create-payment-intent", {  // relative: also right under a Jupyter proxy path
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ items: items, checkout_id: checkoutId }),
        });
        body = await resp.json();
      } catch (err) {
        showResult("error", "Could not reach the shop's server", String(err && err.message || err), {});
        return;
      }
      if (!resp.ok || body.error) {
        showResult("error", "The server refused the order", body.error || ("HTTP " + resp.status), { code: body.code });
        return;
      }
      // 2. Confirm the payment with Stripe.js: the card comes from Stripe's iframe (`card`), the
      //    client secret from our server (`body.clientSecret`); Stripe.js runs 3D Secure if the bank asks.
      //    Then show the outcome with showResult(kind, title, message, details): "success" with the
      //    PaymentIntent id when its status is "succeeded", otherwise "error" with Stripe's message.
      // BEGIN SOLUTION
      const name = document.getElementById("cardholder-name").value.trim();
      const { paymentIntent, error } = await stripe.confirmCardPayment(body.clientSecret, {
        payment_method: { card: card, billing_details: name ? { name: name } : {} },
      });
      if (error) {
        const pi = error.payment_intent || {};
        showResult("error", "Payment failed", error.message, {
          paymentIntent: pi.id, status: pi.status, code: error.code, declineCode: error.decline_code,
          rows: { "PaymentIntent": pi.id, "Status": pi.status, "Code": error.code, "Decline code": error.decline_code },
        });
      } else if (paymentIntent && paymentIntent.status === "succeeded") {
        showResult("success", "✓ Payment succeeded!", "ID: " + paymentIntent.id, {
          paymentIntent: paymentIntent.id, status: paymentIntent.status,
          rows: { "Amount": body.display || (paymentIntent.amount + " " + paymentIntent.currency.toUpperCase()),
                  "Status": paymentIntent.status },  // body.display: the server's amount in the charge's currency
          receipt: "payment-success?payment_intent=" + encodeURIComponent(paymentIntent.id),
        });
        checkoutId = newCheckoutId();  // the next order is a new checkout attempt
        card.clear();
      } else {
        showResult("error", "Payment not completed", "Status: " + (paymentIntent && paymentIntent.status), {
          paymentIntent: paymentIntent && paymentIntent.id, status: paymentIntent && paymentIntent.status,
        });
      }
      // END SOLUTION
      // BEGIN STARTER
      // showResult("error", "Not done yet", "Part B: confirm the payment with stripe.confirmCardPayment in static/checkout.js.", {});
      // END STARTER
    } finally {
      setBusy(false);
    }
  });

  refresh();
})();
