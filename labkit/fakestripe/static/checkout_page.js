/* labkit fake Stripe: a Checkout Session's payment page (/c/pay/<cs> hosted, /c/embedded/<cs> in an iframe).
 *
 * Shows what the merchant's server priced (GET /v1/payment_pages/<cs>), takes the card in the Payment
 * Element, and pays with POST /v1/payment_pages/<cs>/confirm; 3D Secure runs in Stripe.js's modal
 * (handleNextAction). When the session is complete, the hosted page goes to success_url, and the embedded
 * one asks the merchant's page (postMessage, to its origin only) to go to return_url.
 */
(function () {
  "use strict";
  var m = location.pathname.match(/\/c\/(pay|embedded)\/(cs_test_[A-Za-z0-9]+)\/?$/);
  var cfg = {};
  try { cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}"); } catch (e) { cfg = {}; }
  var KEY = "pk_test_labkit_checkout";  // the page is Stripe's: it needs no key of the merchant's
  var CREDENTIALS = /^\/c\//.test(location.pathname) ? "omit" : "same-origin";
  var $ = function (id) { return document.getElementById(id); };
  var button = $("submit"), errorBox = $("error-message");
  var embeddedMode = m && m[1] === "embedded";
  var sessionId = m && m[2];
  var actualParent = location.ancestorOrigins && location.ancestorOrigins.length ? location.ancestorOrigins[0] : null;
  var parentOk = window.parent !== window && typeof cfg.parentOrigin === "string" &&
                 (actualParent === null || actualParent === cfg.parentOrigin);
  var page = null, busy = false;

  function fail(text) { errorBox.textContent = text; }
  if (!m || typeof Stripe !== "function") { fail("This payment page could not start."); return; }
  if (embeddedMode && !parentOk) { fail("Embedded Checkout: mount it with stripe.initEmbeddedCheckout()."); return; }

  function toParent(msg) {
    msg.source = "labkit-checkout";
    msg.frameId = cfg.frameId;
    window.parent.postMessage(msg, cfg.parentOrigin);
  }

  function money(cents, currency) {
    var zero = currency === "jpy";
    return (currency === "usd" ? "$" : "") + (zero ? cents : (cents / 100).toFixed(2)) + (currency === "usd" ? "" : " " + currency.toUpperCase());
  }

  function query(extra) {
    var q = new URLSearchParams(Object.assign({ key: KEY }, embeddedMode ? { client_secret: cfg.clientSecret || "" } : {}, extra || {}));
    return q.toString();
  }

  function load() {
    return fetch("../../v1/payment_pages/" + sessionId + "?" + query(), { credentials: CREDENTIALS })
      .then(function (r) { return r.json(); });
  }

  function finish(p) {
    page = p;
    $("payment-form").querySelectorAll("input, button").forEach(function (el) { el.disabled = true; });
    var done = $("done-message");
    done.hidden = false;
    done.textContent = "Thanks for your payment.";
    if (embeddedMode) {
      toParent({ type: "complete", url: p.redirect_url, redirect: p.redirect_on_completion });
    } else if (p.redirect_url) {
      location.assign(p.redirect_url);
    }
  }

  function show(p) {
    page = p;
    $("merchant").textContent = p.merchant || "";
    $("amount-total").textContent = money(p.amount_total, p.currency);
    var list = $("line-items");
    list.replaceChildren();
    p.line_items.forEach(function (li) {
      var row = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = li.description + " ";
      var qty = document.createElement("span");
      qty.className = "qty";
      qty.textContent = "Qty " + li.quantity;
      name.append(qty);
      var amount = document.createElement("span");
      amount.textContent = money(li.amount_total, p.currency);
      row.append(name, amount);
      list.append(row);
    });
    if (p.cancel_url && !embeddedMode) {
      var back = $("cancel-link");
      back.href = p.cancel_url;
      back.hidden = false;
    }
    if (p.customer_email) $("email").value = p.customer_email;
    button.textContent = "Pay " + money(p.amount_total, p.currency);
    if (p.status === "complete") return finish(p);
    if (p.status !== "open") { fail("This Checkout Session is no longer active (" + p.status + ")."); return; }
    mountPayment();
  }

  var stripe = Stripe(KEY);
  var elements = null;
  function mountPayment() {
    elements = stripe.elements({ mode: "payment", amount: page.amount_total, currency: page.currency });
    var pe = elements.create("payment");
    pe.on("ready", function () { button.disabled = false; });
    pe.on("change", function () { fail(""); });
    pe.mount("#payment-element");
    if (embeddedMode) setTimeout(function () { toParent({ type: "height", height: document.body.scrollHeight + 40 }); }, 300);
  }

  function confirm(paymentMethod) {
    return fetch("../../v1/payment_pages/" + sessionId + "/confirm", {
      method: "POST", credentials: CREDENTIALS,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: query({ payment_method: paymentMethod })
    }).then(function (r) { return r.json(); });
  }

  function pay() {
    var billing = {};
    if ($("email").value.trim()) billing.email = $("email").value.trim();
    if ($("billingName").value.trim()) billing.name = $("billingName").value.trim();
    return elements.submit().then(function (res) {
      if (res.error) throw res.error;
      return stripe.createPaymentMethod({ elements: elements, params: { billing_details: billing } });
    }).then(function (res) {
      if (res.error) throw res.error;
      return confirm(res.paymentMethod.id);
    }).then(function (body) {
      if (body.error) throw body.error;
      if (body.payment_intent.status === "requires_action") {
        return stripe.handleNextAction({ clientSecret: body.payment_intent.client_secret }).then(function (res) {
          if (res.error) throw res.error;
        });
      }
    }).then(load).then(function (p) {
      if (p.status === "complete") return finish(p);
      fail("The payment was not completed. Try again or use another card.");
    });
  }

  $("payment-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || !elements) return;
    busy = true;
    button.disabled = true;
    fail("");
    pay().catch(function (err) {
      fail((err && err.message) || "Something went wrong. Try again.");
    }).then(function () {
      busy = false;
      if (!page || page.status === "open") button.disabled = false;
    });
  });

  load().then(function (p) {
    if (p.error) { fail(p.error.message); return; }
    show(p);
  }, function () { fail("Could not reach the payment page's server."); });
})();
