/* labkit fake Stripe.js (v3 subset) for the offline fake Stripe.
 *
 * Stripe(pk) · stripe.elements() · elements.create('card') · card.mount/on/off/update/focus/blur/clear/unmount/destroy
 * stripe.confirmCardPayment (and its old name handleCardPayment) · stripe.retrievePaymentIntent ·
 * stripe.createPaymentMethod · stripe.paymentRequest (canMakePayment() → null: no wallet offline) and the
 * 'paymentRequestButton' Element (shows nothing). Anything else says so in one console line.
 *
 * Like the real one, this script runs in the merchant's page but never touches card data:
 * the card inputs live in a cross-origin iframe served by the fake Stripe
 * (<fake>/elements/card). To pay, this script asks the iframe (postMessage) to create a
 * PaymentMethod; the iframe sends the number straight to the fake Stripe and answers with
 * the PaymentMethod id and non-sensitive card details only. Messages are accepted only
 * from the expected window and origin, on both sides.
 */
(function () {
  "use strict";
  if (window.Stripe && window.Stripe.__labkit) return;

  var script = document.currentScript;
  var STRIPE_ORIGIN = new URL(script ? script.src : location.href).origin;
  // The fake's base is where this script came from, less "/v3/": its origin on this machine, or a
  // path under a Jupyter server (jupyter-server-proxy's <jupyter>/proxy/PORT) on a JupyterHub or Binder.
  var BASE = (script ? script.src : STRIPE_ORIGIN + "/v3/").split(/[?#]/)[0].replace(/\/v3\/?$/, "");
  var API = BASE + "/v1";
  // Behind the proxy the fake has the page's origin and only the Jupyter server's cookie lets a request
  // through; on its own port it is another origin and gets no credentials.
  var CREDENTIALS = STRIPE_ORIGIN === location.origin ? "same-origin" : "omit";
  var USER_AGENT = "labkit-fake-stripe.js/v3";
  var frameCounter = 0;

  // Fields of a PaymentIntent a publishable key may see (Stripe.js returns this client-side view).
  var PI_CLIENT_FIELDS = ["id", "object", "amount", "amount_details", "automatic_payment_methods", "canceled_at",
    "cancellation_reason", "capture_method", "client_secret", "confirmation_method", "created", "currency",
    "description", "last_payment_error", "livemode", "next_action", "payment_method", "payment_method_types",
    "processing", "receipt_email", "setup_future_usage", "shipping", "status"];

  function clientView(pi) {
    if (!pi || typeof pi !== "object") return pi;
    var out = {};
    PI_CLIENT_FIELDS.forEach(function (k) { if (k in pi) out[k] = pi[k]; });
    if (out.payment_method && typeof out.payment_method === "object") out.payment_method = out.payment_method.id;
    if (out.last_payment_error && out.last_payment_error.payment_method &&
        typeof out.last_payment_error.payment_method === "object") {
      var pm = out.last_payment_error.payment_method;
      out.last_payment_error = Object.assign({}, out.last_payment_error, { payment_method: pmView(pm) });
    }
    return out;
  }

  function pmView(pm) {
    if (!pm || typeof pm !== "object") return pm;
    var card = pm.card || {};
    return {
      id: pm.id, object: "payment_method", type: pm.type, created: pm.created, livemode: false,
      billing_details: pm.billing_details,
      card: { brand: card.brand, country: card.country, exp_month: card.exp_month, exp_year: card.exp_year,
              funding: card.funding, last4: card.last4, three_d_secure_usage: card.three_d_secure_usage,
              wallet: null, checks: card.checks }
    };
  }

  function encode(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      var name = prefix ? prefix + "[" + key + "]" : key;
      if (value === undefined || value === null) return;
      if (typeof value === "object") encode(value, name, out);
      else out.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(value)));
    });
    return out.join("&");
  }

  function apiError(body, status) {
    var err = (body && body.error) || {};
    var e = Object.assign({}, err);
    if (!e.type) e.type = status >= 500 ? "api_error" : "invalid_request_error";
    if (!e.message) e.message = "An unexpected error occurred.";
    if (e.payment_intent) e.payment_intent = clientView(e.payment_intent);
    if (e.payment_method) e.payment_method = pmView(e.payment_method);
    return e;
  }

  function request(method, path, key, params) {
    var query = encode(Object.assign({ key: key }, params || {}));
    var url = API + path;
    var init = { method: method, headers: {}, credentials: CREDENTIALS, mode: "cors" };
    if (method === "GET") {
      url += "?" + query;
    } else {
      init.headers["Content-Type"] = "application/x-www-form-urlencoded";
      init.body = query;
    }
    return fetch(url, init).then(function (resp) {
      return resp.json().then(function (body) {
        return resp.ok ? { body: body } : { error: apiError(body, resp.status) };
      }, function () {
        return { error: { type: "api_error", message: "The fake Stripe returned an unreadable answer (HTTP " + resp.status + ")." } };
      });
    }, function (err) {
      return { error: { type: "api_connection_error",
                        message: "Could not reach Stripe (" + STRIPE_ORIGIN + "): " + (err && err.message || err) } };
    });
  }

  function integrationError(message) {
    var e = new Error(message);
    e.name = "IntegrationError";
    return e;
  }

  function piIdFromSecret(clientSecret) {
    var m = typeof clientSecret === "string" && clientSecret.match(/^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/);
    if (!m) {
      throw integrationError("Invalid value for confirmCardPayment: clientSecret should be a client secret of the " +
        "form ${id}_secret_${secret}. You specified: " + String(clientSecret).slice(0, 40) + ".");
    }
    return m[1];
  }

  // ------------------------------------------------------------------ the card Element
  function CardElement(stripeInstance, options) {
    this._stripe = stripeInstance;
    this._options = options || {};
    this._handlers = {};
    this._frame = null;
    this._container = null;
    this._ready = false;
    this._pending = {};
    this._requests = 0;
    this._destroyed = false;
    this._frameId = "__privateStripeFrame" + (5000 + (++frameCounter));
    this._onMessage = this._onMessage.bind(this);
  }

  CardElement.prototype.mount = function (target) {
    if (this._destroyed) throw integrationError("This Element has already been destroyed. Please create a new one.");
    var el = typeof target === "string" ? document.querySelector(target) : target;
    if (!el || !el.appendChild) {
      throw integrationError("The selector you specified (" + target + ") applies to no DOM elements that are " +
        "currently on the page. Make sure the element exists on the page before calling mount().");
    }
    if (this._frame) this.unmount();
    this._container = el;
    el.classList.add("StripeElement", "StripeElement--empty");
    var wrap = document.createElement("div");
    wrap.className = "__PrivateStripeElement";
    Object.assign(wrap.style, { margin: "0", padding: "0", border: "none", display: "block",
                                background: "transparent", position: "relative", opacity: "1" });
    var frame = document.createElement("iframe");
    var config = {
      frameId: this._frameId, parentOrigin: location.origin, style: this._options.style || {},
      hidePostalCode: !!this._options.hidePostalCode, value: this._options.value || {},
      disabled: !!this._options.disabled
    };
    frame.name = this._frameId;
    frame.title = this._frameTitle || "Secure card payment input frame";
    frame.setAttribute("frameborder", "0");
    frame.setAttribute("allowtransparency", "true");
    frame.setAttribute("scrolling", "no");
    frame.setAttribute("role", "presentation");
    frame.setAttribute("allow", "payment *");
    Object.assign(frame.style, { border: "none", margin: "0", padding: "0", width: "100%", minWidth: "100%",
                                 height: "22px", display: "block", overflow: "hidden", colorScheme: "light only" });
    frame.src = BASE + "/elements/" + (this._frameKind || "card") + "#" + encodeURIComponent(JSON.stringify(config));
    wrap.appendChild(frame);
    el.appendChild(wrap);
    this._frame = frame;
    this._wrap = wrap;
    window.addEventListener("message", this._onMessage);
  };

  CardElement.prototype._post = function (msg) {
    if (!this._frame || !this._frame.contentWindow) return;
    msg.source = "labkit-stripe-js";
    msg.frameId = this._frameId;
    this._frame.contentWindow.postMessage(msg, STRIPE_ORIGIN);  // only the fake Stripe's origin may read it
  };

  CardElement.prototype._onMessage = function (event) {
    if (!this._frame || event.source !== this._frame.contentWindow || event.origin !== STRIPE_ORIGIN) return;
    var msg = event.data;
    if (!msg || msg.source !== "labkit-stripe-frame" || msg.frameId !== this._frameId) return;
    var c = this._container;
    switch (msg.type) {
      case "ready":
        this._ready = true;
        this._emit("ready", { elementType: "card" });
        break;
      case "height":
        if (typeof msg.height === "number" && msg.height > 0 && msg.height < 400) this._frame.style.height = msg.height + "px";
        break;
      case "focus":
        c && c.classList.add("StripeElement--focus");
        this._emit("focus", { elementType: "card" });
        break;
      case "blur":
        c && c.classList.remove("StripeElement--focus");
        this._emit("blur", { elementType: "card" });
        break;
      case "change":
        var e = msg.event || {};
        if (c) {
          c.classList.toggle("StripeElement--empty", !!e.empty);
          c.classList.toggle("StripeElement--complete", !!e.complete);
          c.classList.toggle("StripeElement--invalid", !!e.error);
        }
        this._emit("change", {
          elementType: "card", empty: !!e.empty, complete: !!e.complete, brand: e.brand || "unknown",
          value: { postalCode: (e.value && e.value.postalCode) || "" }, error: e.error || undefined
        });
        break;
      case "result":
        var resolve = this._pending[msg.requestId];
        if (resolve) {
          delete this._pending[msg.requestId];
          resolve(msg.result || { error: { type: "api_error", message: "The card field gave no answer." } });
        }
        break;
    }
  };

  CardElement.prototype._emit = function (name, payload) {
    (this._handlers[name] || []).slice().forEach(function (h) {
      try { h(payload); } catch (err) { setTimeout(function () { throw err; }); }
    });
  };

  CardElement.prototype._whenReady = function () {
    var self = this;
    if (self._ready) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var waited = 0;
      (function poll() {
        if (self._ready) return resolve();
        if ((waited += 50) > 15000) return reject(integrationError("The card Element did not load."));
        setTimeout(poll, 50);
      })();
    });
  };

  // Ask the iframe to create a PaymentMethod from what was typed in it (only the id comes back).
  CardElement.prototype._createPaymentMethod = function (key, billingDetails) {
    var self = this;
    if (!self._frame) {
      return Promise.resolve({ error: { type: "validation_error", code: "incomplete_number",
                                        message: "Your card number is incomplete." } });
    }
    return self._whenReady().then(function () {
      return new Promise(function (resolve) {
        var id = "req" + (++self._requests);
        self._pending[id] = resolve;
        self._post({ type: "createPaymentMethod", requestId: id, key: key, billing_details: billingDetails || {},
                     payment_user_agent: USER_AGENT });
      });
    });
  };

  CardElement.prototype.on = function (name, handler) {
    (this._handlers[name] = this._handlers[name] || []).push(handler);
    if (name === "ready" && this._ready) setTimeout(function () { handler({ elementType: "card" }); });
    return this;
  };
  CardElement.prototype.addEventListener = CardElement.prototype.on;
  CardElement.prototype.once = function (name, handler) {
    var self = this;
    function once(e) { self.off(name, once); handler(e); }
    return this.on(name, once);
  };
  CardElement.prototype.off = function (name, handler) {
    if (!handler) delete this._handlers[name];
    else this._handlers[name] = (this._handlers[name] || []).filter(function (h) { return h !== handler; });
    return this;
  };
  CardElement.prototype.removeEventListener = CardElement.prototype.off;
  CardElement.prototype.update = function (options) {
    Object.assign(this._options, options || {});
    this._post({ type: "update", options: { style: this._options.style, disabled: !!this._options.disabled,
                                            hidePostalCode: !!this._options.hidePostalCode } });
  };
  CardElement.prototype.focus = function () { this._post({ type: "focus" }); };
  CardElement.prototype.blur = function () { this._post({ type: "blur" }); };
  CardElement.prototype.clear = function () { this._post({ type: "clear" }); };
  CardElement.prototype.unmount = function () {
    window.removeEventListener("message", this._onMessage);
    if (this._wrap && this._wrap.parentNode) this._wrap.parentNode.removeChild(this._wrap);
    if (this._container) this._container.classList.remove("StripeElement", "StripeElement--empty",
      "StripeElement--complete", "StripeElement--invalid", "StripeElement--focus");
    this._frame = this._wrap = this._container = null;
    this._ready = false;
  };
  CardElement.prototype.destroy = function () {
    this.unmount();
    this._destroyed = true;
    if (this._elements) this._elements._card = null;
  };

  function Elements(stripeInstance, options) {
    this._stripe = stripeInstance;
    this._options = options || {};
    this._card = null;
  }
  Elements.prototype.create = function (type, options) {
    if (type !== "card") {
      throw integrationError("The offline fake Stripe.js supports the 'card' Element only (asked for '" + type + "').");
    }
    if (this._card) {
      throw integrationError("Can only create one Element of type card.");
    }
    this._card = new CardElement(this._stripe, options);
    this._card._elements = this;
    return this._card;
  };
  Elements.prototype.getElement = function (type) { return type === "card" ? this._card : null; };

  // ------------------------------------------------------------------ 3D Secure modal
  function runChallenge(url, key) {
    return new Promise(function (resolve) {
      var overlay = document.createElement("div");
      overlay.className = "__labkitStripe3dsOverlay";
      // A modal dialog (WCAG 4.1.2, 2.4.3): named, announced, focus moved into it and given back after.
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-label", "3D Secure authentication");
      var returnFocus = document.activeElement;
      var s = overlay.style;
      s.position = "fixed"; s.left = "0"; s.top = "0"; s.right = "0"; s.bottom = "0"; s.zIndex = "2147483647";
      s.background = "rgba(0, 0, 0, 0.45)"; s.display = "flex"; s.alignItems = "center"; s.justifyContent = "center";
      var frame = document.createElement("iframe");
      frame.name = "__privateStripeFrame" + (7000 + (++frameCounter));
      frame.title = "3D Secure authentication (test)";
      frame.setAttribute("frameborder", "0");
      frame.setAttribute("allowtransparency", "true");
      var f = frame.style;
      f.width = "min(500px, 94vw)"; f.height = "min(560px, 90vh)"; f.border = "none"; f.borderRadius = "8px";
      f.background = "#fff"; f.boxShadow = "0 12px 40px rgba(0,0,0,.35)"; f.colorScheme = "light only";
      var conf = encodeURIComponent(JSON.stringify({ key: key, parentOrigin: location.origin, frameId: frame.name }));
      frame.src = url + "#" + conf;
      overlay.appendChild(frame);
      function onMessage(event) {
        if (event.source !== frame.contentWindow || event.origin !== STRIPE_ORIGIN) return;
        var msg = event.data;
        if (!msg || msg.source !== "labkit-stripe-3ds" || msg.frameId !== frame.name || msg.type !== "done") return;
        window.removeEventListener("message", onMessage);
        if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
        if (returnFocus && returnFocus.focus && document.contains(returnFocus)) returnFocus.focus();
        resolve(msg);
      }
      window.addEventListener("message", onMessage);
      frame.addEventListener("load", function () { frame.focus(); });
      document.body.appendChild(overlay);
    });
  }

  // ------------------------------------------------------------------ Stripe()
  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== "string" || !key) {
      throw integrationError("Please call Stripe() with your publishable key. You used an empty string.");
    }
    if (/^(sk|rk)_/.test(key)) {
      throw integrationError("You should not use your secret key with Stripe.js. Please pass a publishable key instead.");
    }
    if (!/^pk_test_/.test(key)) {
      throw integrationError("Invalid value for Stripe(): apiKey should be a test-mode publishable key (pk_test_…) " +
        "with the offline fake Stripe. You specified: " + key.slice(0, 8) + "….");
    }
    this._key = key;
    this._options = options || {};
  }
  Stripe.__labkit = true;
  Stripe.version = 3;

  Stripe.prototype.elements = function (options) { return new Elements(this, options); };

  // {type: 'card', card: element, billing_details}  or the older ('card', element, {billing_details}).
  Stripe.prototype.createPaymentMethod = function (a, b, c) {
    var data = typeof a === "string" ? Object.assign({ type: a, card: b }, c || {}) : (a || {});
    if (data.type !== "card") {
      return Promise.resolve({ error: { type: "invalid_request_error",
        message: "The offline fake Stripe.js creates card PaymentMethods only." } });
    }
    var element = data.card || data.element;
    if (!(element instanceof CardElement)) {
      return Promise.reject(integrationError("Invalid value for createPaymentMethod: card should be a card Element."));
    }
    return element._createPaymentMethod(this._key, data.billing_details).then(function (res) {
      return res.error ? { error: res.error } : { paymentMethod: res.paymentMethod };
    });
  };

  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    var id;
    try { id = piIdFromSecret(clientSecret); } catch (err) { return Promise.reject(err); }
    return request("GET", "/payment_intents/" + id, this._key, { client_secret: clientSecret }).then(function (res) {
      return res.error ? { error: res.error } : { paymentIntent: clientView(res.body) };
    });
  };

  Stripe.prototype._finish = function (clientSecret, pi) {
    var self = this;
    if (pi.status === "requires_action" && pi.next_action) {
      var na = pi.next_action;
      if (na.type === "redirect_to_url" && na.redirect_to_url) {
        window.location.assign(na.redirect_to_url.url);
        return new Promise(function () {});  // the page is leaving
      }
      if (na.type === "use_stripe_sdk" && na.use_stripe_sdk && na.use_stripe_sdk.stripe_js) {
        // The challenge page is always taken from this fake's own base (the API names it by the address
        // it was called at, which behind a proxy lacks the proxy's path).
        var m = String(na.use_stripe_sdk.stripe_js).match(/\/3ds\/(pi_[A-Za-z0-9]+)(\?[^#]*)?$/);
        if (!m) {
          return Promise.resolve({ error: { type: "api_error", message: "Refusing a 3D Secure page that is not the fake Stripe's." } });
        }
        var url = BASE + "/3ds/" + m[1] + (m[2] || "");
        return runChallenge(url, self._key).then(function () {
          return self.retrievePaymentIntent(clientSecret);
        }).then(function (res) {
          if (res.error) return res;
          return self._outcome(res.paymentIntent);
        });
      }
    }
    return Promise.resolve(self._outcome(pi));
  };

  // Never a silent success: anything but succeeded/processing/requires_capture is an error.
  Stripe.prototype._outcome = function (pi) {
    if (pi.status === "succeeded" || pi.status === "processing" || pi.status === "requires_capture") {
      return { paymentIntent: pi };
    }
    var err = Object.assign({}, pi.last_payment_error || {
      type: "invalid_request_error", code: "payment_intent_unexpected_state",
      message: "The PaymentIntent is in status " + pi.status + "; the payment was not completed."
    });
    if (!err.type) err.type = "card_error";
    if (err.code === "payment_intent_authentication_failure") {
      // Stripe.js words a failed challenge for the customer; the API's own message is for the developer.
      err.message = "We are unable to authenticate your payment method. Please choose a different payment method " +
        "and try again.";
    }
    err.payment_intent = pi;
    return { error: err };
  };

  Stripe.prototype.confirmCardPayment = function (clientSecret, data, options) {
    var self = this;
    var id;
    try { id = piIdFromSecret(clientSecret); } catch (err) { return Promise.reject(err); }
    data = data || {};
    var pmPromise;
    var pmArg = data.payment_method;
    if (pmArg && typeof pmArg === "object") {
      var element = pmArg.card;
      if (!(element instanceof CardElement)) {
        return Promise.reject(integrationError("Invalid value for confirmCardPayment: payment_method.card should be " +
          "a card Element (elements.create('card')) or use payment_method: 'pm_…'."));
      }
      pmPromise = element._createPaymentMethod(self._key, pmArg.billing_details);
    } else if (typeof pmArg === "string") {
      pmPromise = Promise.resolve({ paymentMethod: { id: pmArg } });
    } else {
      pmPromise = Promise.resolve({});  // confirm with the PaymentMethod already attached
    }
    return pmPromise.then(function (pmResult) {
      if (pmResult.error) return { error: pmResult.error };
      var params = { client_secret: clientSecret, use_stripe_sdk: "true" };
      if (pmResult.paymentMethod) params.payment_method = pmResult.paymentMethod.id;
      if (data.return_url) params.return_url = data.return_url;
      if (data.receipt_email) params.receipt_email = data.receipt_email;
      if (data.setup_future_usage) params.setup_future_usage = data.setup_future_usage;
      if (data.shipping) params.shipping = data.shipping;
      return request("POST", "/payment_intents/" + id + "/confirm", self._key, params).then(function (res) {
        if (res.error) return { error: res.error };
        var pi = clientView(res.body);
        if (options && options.handleActions === false) return { paymentIntent: pi };
        return self._finish(clientSecret, pi);
      });
    });
  };

  // Manual confirmation: after a completed challenge the PaymentIntent is requires_confirmation until the
  // server confirms it again, and handleCardAction resolves with it (not as an error).
  Stripe.prototype.handleCardAction = function (clientSecret) {
    var self = this;
    return self.retrievePaymentIntent(clientSecret).then(function (res) {
      if (res.error) return res;
      return self._finish(clientSecret, res.paymentIntent).then(function (out) {
        var pi = out.error && out.error.payment_intent;
        return pi && pi.status === "requires_confirmation" && !pi.last_payment_error ? { paymentIntent: pi } : out;
      });
    });
  };

  // What stripe_today.js (the Payment Element, confirmPayment, Checkout; served right after this file) builds on.
  Stripe._labkit = { BASE: BASE, STRIPE_ORIGIN: STRIPE_ORIGIN, request: request, clientView: clientView,
                     integrationError: integrationError, piIdFromSecret: piIdFromSecret, CardElement: CardElement,
                     Elements: Elements, nextFrameNumber: function () { return ++frameCounter; } };

  // ------------------------------------------------------------------ what copied pages also call
  // Stripe's docs and samples put a wallet button (Payment Request) beside the card field and may call
  // older or other methods. Offline there is no wallet: canMakePayment() resolves to null, as Stripe.js
  // does in a browser without Apple Pay, Google Pay or Link, and the button never shows. Anything else
  // this fake does not implement says so in ONE console line (which the kit's checks quote) and answers
  // as Stripe would with an error, instead of stopping the page's script with a TypeError.
  var noticed = {};
  function notImplemented(what, hint) {
    if (!noticed[what]) {
      noticed[what] = true;
      console.error("labkit fake Stripe.js: " + what + " is not implemented offline" + (hint ? " (" + hint + ")" : "") +
        "; it answers with an error. The checks need the card Element, the Payment Element or a Checkout Session.");
    }
    return { error: { type: "invalid_request_error", code: "labkit_not_implemented",
                      message: what + " is not available with the offline fake Stripe." } };
  }

  function Emitter() { this._handlers = {}; }
  Emitter.prototype.on = function (name, handler) {
    (this._handlers[name] = this._handlers[name] || []).push(handler);
    return this;
  };
  Emitter.prototype.addEventListener = Emitter.prototype.on;
  Emitter.prototype.once = Emitter.prototype.on;  // none of these events ever fires offline
  Emitter.prototype.off = function (name, handler) {
    if (!handler) delete this._handlers[name];
    else this._handlers[name] = (this._handlers[name] || []).filter(function (h) { return h !== handler; });
    return this;
  };
  Emitter.prototype.removeEventListener = Emitter.prototype.off;

  function PaymentRequest(options) {
    Emitter.call(this);
    if (!options || !options.country || !options.currency || !options.total) {
      throw integrationError("Missing value for paymentRequest(): country, currency and total are required.");
    }
    this._options = options;
  }
  PaymentRequest.prototype = Object.create(Emitter.prototype);
  PaymentRequest.prototype.canMakePayment = function () { return Promise.resolve(null); };  // no wallet offline
  PaymentRequest.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  PaymentRequest.prototype.isShowing = function () { return false; };
  PaymentRequest.prototype.abort = function () {};
  PaymentRequest.prototype.show = function () {
    throw integrationError("paymentRequest.show(): no wallet is available (canMakePayment() resolved to null).");
  };

  Stripe.prototype.paymentRequest = function (options) { return new PaymentRequest(options); };

  // The wallet button: mounted, it shows nothing (no wallet offline), as Stripe's does when none is available.
  function StubElement(type, options) {
    Emitter.call(this);
    this._type = type;
    this._options = options || {};
    this._box = null;
  }
  StubElement.prototype = Object.create(Emitter.prototype);
  StubElement.prototype.mount = function (target) {
    var el = typeof target === "string" ? document.querySelector(target) : target;
    if (!el || !el.appendChild) {
      throw integrationError("The selector you specified (" + target + ") applies to no DOM elements that are " +
        "currently on the page. Make sure the element exists on the page before calling mount().");
    }
    this._box = document.createElement("div");
    this._box.className = "__PrivateStripeElement";
    this._box.style.display = "none";
    el.appendChild(this._box);
  };
  StubElement.prototype.unmount = function () {
    if (this._box && this._box.parentNode) this._box.parentNode.removeChild(this._box);
    this._box = null;
  };
  StubElement.prototype.destroy = StubElement.prototype.unmount;
  StubElement.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  StubElement.prototype.focus = StubElement.prototype.blur = StubElement.prototype.clear = function () {};

  // Element types of Stripe.js v3 that a page may create; a type Stripe does not have stays an IntegrationError.
  var STRIPE_ELEMENTS = ["card", "cardNumber", "cardExpiry", "cardCvc", "paymentRequestButton", "payment", "address",
    "linkAuthentication", "expressCheckout", "iban", "idealBank", "auBankAccount", "fpxBank", "epsBank", "p24Bank",
    "affirmMessage", "afterpayClearpayMessage", "paymentMethodMessaging", "issuingCardNumberDisplay"];
  var baseCreate = Elements.prototype.create;
  Elements.prototype.create = function (type, options) {
    if (type === "paymentRequestButton") {
      if (!options || !(options.paymentRequest instanceof PaymentRequest)) {
        throw integrationError("Missing value for create('paymentRequestButton'): paymentRequest should be a " +
          "stripe.paymentRequest() object.");
      }
      return new StubElement(type, options);
    }
    try {
      return baseCreate.call(this, type, options);
    } catch (err) {
      if (STRIPE_ELEMENTS.indexOf(type) < 0 || /only one Element/i.test(err.message)) throw err;
      notImplemented("elements.create('" + type + "')", "use elements.create('card')");
      return new StubElement(type, options);
    }
  };

  // The older name of confirmCardPayment (Stripe.js before 2019), still in many tutorials.
  Stripe.prototype.handleCardPayment = function (clientSecret, element, data) {
    if (element instanceof CardElement) {
      var pmData = (data && data.payment_method_data) || {};
      return this.confirmCardPayment(clientSecret, { payment_method: { card: element,
        billing_details: pmData.billing_details } });
    }
    return this.confirmCardPayment(clientSecret, element);
  };

  // Everything else a page may call on stripe, elements or an Element: one console line, then an error answer.
  var NOT_HERE = { createToken: "the Charges API is not part of this lab", createSource: "Sources are retired",
    redirectToCheckout: "removed from Stripe.js: send the browser to the Checkout Session's url", confirmCardSetup: "no SetupIntents offline" };
  var NOT_METHODS = /^(then|catch|finally|toJSON|toString|valueOf|constructor|nodeType|nodeName|length|inspect|asymmetricMatch)$/;
  function withNotices(target, label) {
    if (typeof Proxy !== "function") return target;
    return new Proxy(target, {
      get: function (obj, prop, receiver) {
        // only names that look like Stripe.js methods; probes by frameworks and tools (then, toJSON, $$typeof,
        // nodeType…) get undefined as from any object
        if (typeof prop !== "string" || prop in obj || !/^[a-z][A-Za-z0-9]+$/.test(prop) || NOT_METHODS.test(prop)) {
          return Reflect.get(obj, prop, receiver);
        }
        return function () {
          return Promise.resolve(notImplemented(label + "." + prop + "()", NOT_HERE[prop]));
        };
      }
    });
  }
  var baseElements = Stripe.prototype.elements;
  Stripe.prototype.elements = function (options) {
    return withNotices(baseElements.call(this, options), "elements");
  };
  var elementsCreate = Elements.prototype.create;
  Elements.prototype.create = function (type, options) {
    return withNotices(elementsCreate.call(this, type, options), "element");
  };
  function PublicStripe(key, options) {
    return withNotices(new Stripe(key, options), "stripe");
  }
  PublicStripe.prototype = Stripe.prototype;
  PublicStripe.__labkit = true;
  PublicStripe.version = 3;
  PublicStripe._labkit = Stripe._labkit;  // stripe_today.js builds on these

  window.Stripe = PublicStripe;
})();
