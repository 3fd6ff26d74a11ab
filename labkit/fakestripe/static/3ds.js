/* labkit fake Stripe: the test-mode 3D Secure challenge (served from the fake Stripe's origin).
 *
 * "Complete" / "Fail" call POST /v1/test_helpers/payment_intents/<pi>/authenticate with the
 * PaymentIntent's client secret and the publishable key, then tell the embedding page's
 * stripe.js (postMessage, to its origin only) that the challenge is over. Opened as a
 * full page (next_action.redirect_to_url), it goes on to /3ds/<pi>/return, which redirects to the
 * return_url the PaymentIntent was confirmed with (never one taken from this page's own link).
 */
(function () {
  "use strict";
  var cfg = {};
  // Relative paths: this page is <fake>/3ds/pi_…, or the same under a Jupyter server's proxy path,
  // where only the Jupyter server's cookie lets a request through (the fake has the page's origin then).
  var CREDENTIALS = /^\/(elements|3ds)\//.test(location.pathname) ? "omit" : "same-origin";
  try { cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}"); } catch (e) { cfg = {}; }
  var query = new URLSearchParams(location.search);
  var piId = (location.pathname.match(/\/3ds\/(pi_[A-Za-z0-9]+)/) || [])[1];
  var clientSecret = query.get("client_secret") || "";
  var key = cfg.key || query.get("key") || "";
  var framed = window.parent !== window;
  var actualParent = null;
  if (location.ancestorOrigins && location.ancestorOrigins.length) actualParent = location.ancestorOrigins[0];
  var parentOk = framed && typeof cfg.parentOrigin === "string" && (actualParent === null || actualParent === cfg.parentOrigin);

  var status = document.getElementById("status");
  var buttons = [document.getElementById("test-source-authorize-3ds"), document.getElementById("test-source-fail-3ds")];
  document.getElementById("payment").textContent = piId || "(unknown)";

  function form(params) {
    return Object.keys(params).filter(function (k) { return params[k]; }).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }

  if (!piId || !clientSecret || !/^pk_test_/.test(key) || (framed && !parentOk)) {
    buttons.forEach(function (b) { b.disabled = true; });
    status.textContent = "This challenge link is incomplete; start the payment again from the checkout page.";
    return;
  }

  fetch("../v1/payment_intents/" + piId + "?" + form({ client_secret: clientSecret, key: key }), { credentials: CREDENTIALS })
    .then(function (r) { return r.json(); })
    .then(function (pi) {
      if (pi && typeof pi.amount === "number") {
        var zero = pi.currency === "jpy";
        document.getElementById("amount").textContent =
          (zero ? pi.amount : (pi.amount / 100).toFixed(2)) + " " + String(pi.currency).toUpperCase();
      }
    }, function () {});

  function finish(result, body) {
    if (framed) {
      window.parent.postMessage({ source: "labkit-stripe-3ds", frameId: cfg.frameId, type: "done", result: result,
                                  error: body && body.error ? body.error.message : undefined }, cfg.parentOrigin);
    } else {
      // Full page: the fake sends the browser on to the return_url stored with the confirmation.
      location.assign(location.pathname.replace(/\/$/, "") + "/return?" + form({ client_secret: clientSecret }));  // under a proxy path too
    }
  }

  function authenticate(result) {
    buttons.forEach(function (b) { b.disabled = true; });
    status.textContent = result === "complete" ? "Authenticating…" : "Failing the authentication…";
    fetch("../v1/test_helpers/payment_intents/" + piId + "/authenticate", {
      method: "POST", credentials: CREDENTIALS,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form({ result: result, client_secret: clientSecret, key: key })
    }).then(function (r) { return r.json(); }).then(function (body) {
      status.textContent = body && body.error ? body.error.message : "Done.";
      finish(result, body);
    }, function (e) {
      status.textContent = "Could not reach the fake Stripe: " + (e && e.message || e);
      finish(result, { error: { message: status.textContent } });
    });
  }

  // The dialog opened and its page (stripe.js) focused this frame: the keyboard starts on the first choice
  // (WCAG 2.4.3). A cross-origin frame may not take the focus itself, so this waits for it to be given.
  function firstChoice() { if (document.activeElement === document.body && !buttons[0].disabled) buttons[0].focus(); }
  if (framed) { window.addEventListener("focus", firstChoice); if (document.hasFocus()) firstChoice(); }
  buttons[0].addEventListener("click", function () { authenticate("complete"); });
  buttons[1].addEventListener("click", function () { authenticate("fail"); });
})();
