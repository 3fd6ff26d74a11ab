// The Payment Element flow: our server creates the PaymentIntent (priced from its catalog), the page
// mounts Stripe's Payment Element with its client secret, and stripe.confirmPayment pays. A decline comes
// back here as an error; a success goes to /complete (the return_url), which reads the status from Stripe.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("checkout-config").textContent);
  const form = document.getElementById("payment-form");
  const button = document.getElementById("submit-btn");
  const result = document.getElementById("result");
  const stripe = Stripe(cfg.publishableKey);
  let elements = null;
  let clientSecret = null;
  let busy = false;

  const money = (cents) => "$" + (cents / 100).toFixed(2);

  function cart() {
    const items = [];
    for (const [pid, product] of Object.entries(cfg.products)) {
      const input = document.getElementById("qty-" + pid);
      const q = Math.min(Math.max(parseInt(input.value, 10) || 0, 0), cfg.maxQuantity);
      input.closest("tr").querySelector(".line-total").textContent = money(product.price * q);
      if (q > 0) items.push({ product_id: pid, quantity: q });
    }
    const total = items.reduce((s, it) => s + cfg.products[it.product_id].price * it.quantity, 0);
    document.getElementById("order-total").textContent = money(total);
    return { items, total };
  }

  function show(kind, title, message, pi) {
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
    result.dataset.outcome = kind === "success" ? "succeeded" : "failed";
    result.dataset.paymentIntent = (pi && pi.id) || "";
    result.dataset.status = (pi && pi.status) || "";
  }

  // The Payment Element needs the PaymentIntent's client secret: make one for the cart (again when it changes).
  async function prepare() {
    const { items, total } = cart();
    button.disabled = true;
    if (!items.length) { button.textContent = "Add an item to pay"; return; }
    const resp = await fetch("create-payment-intent", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ items: items, checkout_id: crypto.randomUUID() }),
    });
    const body = await resp.json();
    if (!resp.ok || body.error) { show("error", "The server refused the order", body.error || "HTTP " + resp.status); return; }
    clientSecret = body.clientSecret;
    if (elements) elements.getElement("payment").destroy();
    elements = stripe.elements({ clientSecret });
    const paymentElement = elements.create("payment");
    paymentElement.on("ready", () => { button.disabled = false; button.textContent = "Pay " + money(total); });
    paymentElement.mount("#payment-element");
  }

  for (const pid of Object.keys(cfg.products)) {
    document.getElementById("qty-" + pid).addEventListener("change", prepare);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy || !elements) return;
    busy = true;
    button.disabled = true;
    result.hidden = true;
    try {
      // BEGIN SOLUTION
      const { error: invalid } = await elements.submit();
      if (invalid) { show("error", "Check your card", invalid.message); return; }
      const { error } = await stripe.confirmPayment({
        elements, clientSecret,
        confirmParams: { return_url: new URL("complete", location.href).href },
      });
      // Only reached on an error: a success has sent the browser to return_url.
      show("error", "Payment failed", error.message, error.payment_intent);
      // END SOLUTION
    } finally {
      busy = false;
      button.disabled = false;
    }
  });

  prepare();
})();
