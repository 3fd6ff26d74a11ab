/* labkit fake Stripe: the card Element's iframe (served from the fake Stripe's origin).
 *
 * Holds the inputs cardnumber, exp-date, cvc and postal, validates them with Stripe.js's
 * messages, and, when the merchant page's stripe.js asks, sends the card straight to
 * <fake>/v1/payment_methods (same origin) with the publishable key. Only the PaymentMethod
 * id, brand, last4 and expiry go back to the page: never the number or the CVC.
 */
(function () {
  "use strict";
  var cfg = {};
  // Relative paths: this page is <fake>/elements/card, or the same under a Jupyter server's proxy path,
  // where only the Jupyter server's cookie lets a request through (the fake has the page's origin then).
  var CREDENTIALS = /^\/(elements|3ds)\//.test(location.pathname) ? "omit" : "same-origin";
  try { cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}"); } catch (e) { cfg = {}; }

  // Who embeds us? The browser's own answer wins over what the URL claims.
  var actualParent = null;
  if (location.ancestorOrigins && location.ancestorOrigins.length) actualParent = location.ancestorOrigins[0];
  else if (document.referrer) { try { actualParent = new URL(document.referrer).origin; } catch (e) { actualParent = null; } }
  var parentOrigin = cfg.parentOrigin;
  var trusted = window.parent !== window && typeof parentOrigin === "string" &&
                (actualParent === null || actualParent === parentOrigin);

  var form = document.getElementById("card-form");
  var brandEl = document.getElementById("brand");
  var inputs = {  // the card Element's names, or the Payment Element's (payment.html)
    number: form.querySelector('input[name="cardnumber"], input[name="number"]'),
    exp: form.querySelector('input[name="exp-date"], input[name="expiry"]'),
    cvc: form.querySelector('input[name="cvc"]'),
    postal: form.querySelector('input[name="postal"], input[name="postalCode"]')
  };
  var ORDER = ["number", "exp", "cvc", "postal"];
  var touched = { number: false, exp: false, cvc: false, postal: false };
  var hidePostal = !!cfg.hidePostalCode;
  var busy = false;

  if (!trusted) {
    ORDER.forEach(function (k) { inputs[k].disabled = true; });
    inputs.number.placeholder = "Card field: embed it with Stripe.js";
    return;
  }

  function send(msg) {
    msg.source = "labkit-stripe-frame";
    msg.frameId = cfg.frameId;
    window.parent.postMessage(msg, parentOrigin);  // only the embedding page's origin may read it
  }

  // ---------------------------------------------------------------- card rules
  function digits(s) { return String(s || "").replace(/\D+/g, ""); }

  function brandOf(n) {
    if (/^4/.test(n)) return "visa";
    if (/^(5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)/.test(n)) return "mastercard";
    if (/^3[47]/.test(n)) return "amex";
    if (/^(6011|65|64[4-9]|622)/.test(n)) return "discover";
    if (/^3(0[0-5]|[689])/.test(n)) return "diners";
    if (/^35/.test(n)) return "jcb";
    if (/^62/.test(n)) return "unionpay";
    return "unknown";
  }

  function numberLength(brand) { return brand === "amex" ? 15 : brand === "diners" ? 14 : 16; }
  function cvcLength(brand) { return brand === "amex" ? 4 : 3; }

  function luhn(n) {
    var sum = 0;
    for (var i = 0; i < n.length; i++) {
      var d = +n.charAt(n.length - 1 - i);
      if (i % 2) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return n.length > 0 && sum % 10 === 0;
  }

  function formatNumber(n, brand) {
    var groups = brand === "amex" ? [4, 6, 5] : brand === "diners" ? [4, 6, 4] : [4, 4, 4, 4, 3];
    var out = [], i = 0;
    groups.forEach(function (g) { if (i < n.length) { out.push(n.slice(i, i + g)); i += g; } });
    return out.join(" ");
  }

  function err(code, message) { return { type: "validation_error", code: code, message: message }; }

  // Each field: {value, complete, error (shown now), problem (if submitted now)}
  function check() {
    var n = digits(inputs.number.value);
    var brand = brandOf(n);
    var res = {};
    var want = numberLength(brand);
    if (!n) res.number = { empty: true, problem: err("incomplete_number", "Your card number is incomplete.") };
    else if (n.length < want) res.number = { problem: err("incomplete_number", "Your card number is incomplete."), soft: true };
    else if (!luhn(n)) res.number = { problem: err("invalid_number", "Your card number is invalid.") };
    else res.number = { complete: true };

    var e = digits(inputs.exp.value);
    var now = new Date(), year = now.getFullYear(), month = now.getMonth() + 1;
    if (!e) res.exp = { empty: true, problem: err("incomplete_expiry", "Your card's expiration date is incomplete.") };
    else if (e.length < 4) {
      var m0 = +e.slice(0, 2);
      res.exp = e.length >= 2 && (m0 < 1 || m0 > 12)
        ? { problem: err("invalid_expiry_month", "Your card's expiration date is invalid.") }
        : { problem: err("incomplete_expiry", "Your card's expiration date is incomplete."), soft: true };
    } else {
      var mm = +e.slice(0, 2), yy = 2000 + (+e.slice(2, 4));
      if (mm < 1 || mm > 12) res.exp = { problem: err("invalid_expiry_month", "Your card's expiration date is invalid.") };
      else if (yy < year) res.exp = { problem: err("invalid_expiry_year_past", "Your card's expiration year is in the past.") };
      else if (yy === year && mm < month) res.exp = { problem: err("invalid_expiry_month_past", "Your card's expiration date is in the past.") };
      else if (yy > year + 50) res.exp = { problem: err("invalid_expiry_year", "Your card's expiration year is invalid.") };
      else res.exp = { complete: true, month: mm, year: yy };
    }

    var c = digits(inputs.cvc.value);
    if (!c) res.cvc = { empty: true, problem: err("incomplete_cvc", "Your card's security code is incomplete.") };
    else if (c.length < cvcLength(brand)) res.cvc = { problem: err("incomplete_cvc", "Your card's security code is incomplete."), soft: true };
    else res.cvc = { complete: true };

    var p = inputs.postal.value.trim();
    if (hidePostal) res.postal = { complete: true, empty: true };
    else if (!p) res.postal = { empty: true, problem: err("incomplete_zip", "Your postal code is incomplete.") };
    else if ((/^\d+$/.test(p) && p.length < 5) || p.length < 3) res.postal = { problem: err("incomplete_zip", "Your postal code is incomplete."), soft: true };
    else res.postal = { complete: true };

    res.brand = brand;
    return res;
  }

  function shownError(res, all) {
    for (var i = 0; i < ORDER.length; i++) {
      var k = ORDER[i], r = res[k];
      if (r.complete) continue;
      if (all) return r.problem;
      if (r.empty) continue;
      if (!r.soft || touched[k]) return r.problem;  // invalid now, or incomplete after leaving the field
    }
    return null;
  }

  function paint(res, error) {
    brandEl.className = "brand brand-" + res.brand;
    ORDER.forEach(function (k) {
      var r = res[k];
      var bad = !r.complete && !r.empty && (!r.soft || touched[k] || (error && error === r.problem));
      inputs[k].classList.toggle("invalid", !!bad);
      inputs[k].setAttribute("aria-invalid", bad ? "true" : "false");
    });
  }

  var lastSent = "";
  function report(all) {
    var res = check();
    var error = shownError(res, all);
    paint(res, error);
    var event = {
      empty: ORDER.every(function (k) { return !inputs[k].value; }),
      complete: ORDER.every(function (k) { return res[k].complete; }),
      brand: res.brand,
      value: { postalCode: hidePostal ? "" : inputs.postal.value.trim() },
      error: error || undefined
    };
    var key = JSON.stringify(event);
    if (key !== lastSent) { lastSent = key; send({ type: "change", event: event }); }
    return { res: res, error: error, event: event };
  }

  // ---------------------------------------------------------------- input handling
  inputs.number.addEventListener("input", function () {
    var n = digits(inputs.number.value);
    var brand = brandOf(n);
    n = n.slice(0, numberLength(brand));
    inputs.number.value = formatNumber(n, brand);
    var r = report(false);
    if (r.res.number.complete) inputs.exp.focus();
  });

  inputs.exp.addEventListener("input", function (ev) {
    var d = digits(inputs.exp.value).slice(0, 4);
    if (d.length === 1 && +d > 1) d = "0" + d;
    var deleting = ev.inputType && ev.inputType.indexOf("delete") === 0;
    inputs.exp.value = d.length > 2 || (d.length === 2 && !deleting) ? d.slice(0, 2) + " / " + d.slice(2) : d;
    var r = report(false);
    if (r.res.exp.complete) inputs.cvc.focus();
  });

  inputs.cvc.addEventListener("input", function () {
    var brand = brandOf(digits(inputs.number.value));
    inputs.cvc.value = digits(inputs.cvc.value).slice(0, cvcLength(brand));
    var r = report(false);
    if (r.res.cvc.complete && !hidePostal && digits(inputs.cvc.value).length === cvcLength(brand)) inputs.postal.focus();
  });

  inputs.postal.addEventListener("input", function () {
    inputs.postal.value = inputs.postal.value.replace(/[^A-Za-z0-9 -]/g, "").slice(0, 10);
    report(false);
  });

  var focused = 0;
  ORDER.forEach(function (k) {
    inputs[k].addEventListener("focus", function () {
      if (focused++ === 0) send({ type: "focus" });
    });
    inputs[k].addEventListener("blur", function () {
      if (inputs[k].value) touched[k] = true;
      report(false);
      setTimeout(function () {
        if (--focused === 0 && !form.contains(document.activeElement)) send({ type: "blur" });
        if (focused < 0) focused = 0;
      });
    });
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); });

  function applyStyle(style) {
    style = style || {};
    var base = style.base || {};
    var body = document.body.style;
    if (base.color) body.color = base.color;
    if (base.fontSize) body.fontSize = base.fontSize;
    if (base.fontFamily) body.fontFamily = base.fontFamily;
    if (base.fontWeight) body.fontWeight = base.fontWeight;
    try {
      var sheet = document.styleSheets[0];
      if (base["::placeholder"] && base["::placeholder"].color) {
        sheet.insertRule(".f::placeholder { color: " + CSS.escape(base["::placeholder"].color).replace(/\\/g, "") + "; }", sheet.cssRules.length);
      }
      if (style.invalid && style.invalid.color) {
        sheet.insertRule(".f.invalid { color: " + CSS.escape(style.invalid.color).replace(/\\/g, "") + "; }", sheet.cssRules.length);
      }
    } catch (e) { /* styling is cosmetic */ }
  }

  function setPostalHidden(hidden) {
    hidePostal = hidden;
    inputs.postal.classList.toggle("hidden", hidden);
  }

  // ---------------------------------------------------------------- creating the PaymentMethod
  function encode(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      var name = prefix ? prefix + "[" + key + "]" : key;
      if (value === undefined || value === null || value === "") return;
      if (typeof value === "object") encode(value, name, out);
      else out.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(value)));
    });
    return out.join("&");
  }

  function cleanBilling(b) {
    b = b && typeof b === "object" ? b : {};
    var out = {};
    ["name", "email", "phone"].forEach(function (k) { if (typeof b[k] === "string") out[k] = b[k].slice(0, 200); });
    var a = b.address && typeof b.address === "object" ? b.address : {};
    var addr = {};
    ["city", "country", "line1", "line2", "postal_code", "state"].forEach(function (k) {
      if (typeof a[k] === "string") addr[k] = a[k].slice(0, 200);
    });
    if (!hidePostal && inputs.postal.value.trim()) addr.postal_code = inputs.postal.value.trim();
    if (Object.keys(addr).length) out.address = addr;
    return out;
  }

  function createPaymentMethod(msg) {
    var r = report(true);
    ORDER.forEach(function (k) { if (inputs[k].value) touched[k] = true; });
    if (r.error) return Promise.resolve({ error: r.error });
    if (typeof msg.key !== "string" || !/^pk_test_/.test(msg.key)) {
      return Promise.resolve({ error: { type: "invalid_request_error", message: "A test-mode publishable key is required." } });
    }
    var body = encode({
      type: "card",
      card: { number: digits(inputs.number.value), exp_month: r.res.exp.month, exp_year: r.res.exp.year,
              cvc: digits(inputs.cvc.value) },
      billing_details: cleanBilling(msg.billing_details),
      key: msg.key,
      payment_user_agent: typeof msg.payment_user_agent === "string" ? msg.payment_user_agent.slice(0, 100) : undefined
    });
    return fetch("../v1/payment_methods", {
      method: "POST", credentials: CREDENTIALS,
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: body
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) {
          var e = Object.assign({}, data.error || { type: "api_error", message: "HTTP " + resp.status });
          return { error: e };
        }
        var card = data.card || {};
        return { paymentMethod: {  // what the page may know: never the number or the CVC
          id: data.id, object: "payment_method", type: "card", created: data.created, livemode: false,
          billing_details: data.billing_details,
          card: { brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year,
                  funding: card.funding, country: card.country, checks: card.checks }
        } };
      });
    }, function (e) {
      return { error: { type: "api_connection_error", message: "Could not reach Stripe: " + (e && e.message || e) } };
    });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;  // only our embedding page
    var msg = event.data;
    if (!msg || msg.source !== "labkit-stripe-js" || msg.frameId !== cfg.frameId) return;
    switch (msg.type) {
      case "createPaymentMethod":
        if (busy) { send({ type: "result", requestId: msg.requestId, result: { error: {
          type: "invalid_request_error", message: "A payment is already being processed." } } }); return; }
        busy = true;
        createPaymentMethod(msg).then(function (result) {
          busy = false;
          send({ type: "result", requestId: msg.requestId, result: result });
        });
        break;
      case "validate":  // elements.submit(): the first problem, as Stripe.js words it, or none
        var checked = report(true);
        ORDER.forEach(function (k) { if (inputs[k].value) touched[k] = true; });
        send({ type: "result", requestId: msg.requestId, result: checked.error ? { error: checked.error } : {} });
        break;
      case "focus": inputs.number.focus(); break;
      case "blur": if (document.activeElement) document.activeElement.blur(); break;
      case "clear":
        ORDER.forEach(function (k) { inputs[k].value = ""; touched[k] = false; });
        report(false);
        break;
      case "update":
        var o = msg.options || {};
        applyStyle(o.style);
        setPostalHidden(!!o.hidePostalCode);
        ORDER.forEach(function (k) { inputs[k].disabled = !!o.disabled; });
        report(false);
        break;
    }
  });

  applyStyle(cfg.style);
  setPostalHidden(hidePostal);
  if (cfg.value && cfg.value.postalCode) inputs.postal.value = String(cfg.value.postalCode).slice(0, 10);
  if (cfg.disabled) ORDER.forEach(function (k) { inputs[k].disabled = true; });
  send({ type: "height", height: Math.ceil(document.documentElement.getBoundingClientRect().height) || 22 });
  send({ type: "ready" });
  report(false);
})();
