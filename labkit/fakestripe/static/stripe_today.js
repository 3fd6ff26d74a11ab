/* labkit fake Stripe.js: the integrations Stripe recommends today, beside the handout's card Element.
 * Served at /v3/ right after stripe.js, in the same script, and built on what stripe.js exposes.
 *
 * stripe.elements({clientSecret} | {mode, amount, currency}) · elements.create('payment') · elements.submit()
 * stripe.confirmPayment({elements, clientSecret?, confirmParams: {return_url}, redirect})
 * stripe.createPaymentMethod({elements, params}) · stripe.handleNextAction({clientSecret})
 * stripe.initEmbeddedCheckout({fetchClientSecret | clientSecret, onComplete}) → mount/unmount/destroy
 *
 * The Payment Element is card only offline: an iframe from the fake's origin (/elements/payment) with the
 * real Payment Element's field names, the same test cards, Stripe.js's validation messages and 3D Secure.
 * After a successful confirmPayment the browser goes to return_url with payment_intent,
 * payment_intent_client_secret and redirect_status, as Stripe sends them (docs.stripe.com/js/payment_intents/
 * confirm_payment, 2026-12-04); with redirect: 'if_required' a card payment resolves without leaving the page.
 */
(function () {
  "use strict";
  var Stripe = window.Stripe;
  if (!Stripe || !Stripe._labkit || Stripe._labkit.today) return;
  var L = Stripe._labkit;
  L.today = true;
  var CardElement = L.CardElement, Elements = L.Elements;

  // ------------------------------------------------------------------ the Payment Element
  function PaymentElement(stripeInstance, options) {
    CardElement.call(this, stripeInstance, options);
    this._frameKind = "payment";
    this._frameTitle = "Secure payment input frame";
  }
  PaymentElement.prototype = Object.create(CardElement.prototype);
  PaymentElement.prototype.constructor = PaymentElement;
  PaymentElement.prototype._emit = function (name, payload) {
    var p = Object.assign({}, payload, { elementType: "payment" });
    if (name === "change") p = { elementType: "payment", empty: p.empty, complete: p.complete, collapsed: false,
                                 value: { type: "card" } };
    CardElement.prototype._emit.call(this, name, p);
  };
  PaymentElement.prototype.destroy = function () {
    this.unmount();
    this._destroyed = true;
    if (this._elements) this._elements._payment = null;
  };
  // Ask the iframe to check what was typed (elements.submit()): {} or {error}.
  PaymentElement.prototype._validate = function () {
    var self = this;
    if (!self._frame) return Promise.resolve({ error: { type: "validation_error", code: "incomplete_number",
                                                        message: "Your card number is incomplete." } });
    return self._whenReady().then(function () {
      return new Promise(function (resolve) {
        var id = "val" + (++self._requests);
        self._pending[id] = resolve;
        self._post({ type: "validate", requestId: id });
      });
    });
  };

  var create = Elements.prototype.create;
  Elements.prototype.create = function (type, options) {
    if (type !== "payment") return create.apply(this, arguments);
    if (this._payment) throw L.integrationError("Can only create one Element of type payment.");
    if (!this._options.clientSecret && !this._options.mode) {
      throw L.integrationError("In order to create a payment element, you must pass a clientSecret or mode when " +
        "creating the Elements group (stripe.elements({clientSecret}) or {mode: 'payment', amount, currency}).");
    }
    this._payment = new PaymentElement(this._stripe, options);
    this._payment._elements = this;
    return this._payment;
  };
  var getElement = Elements.prototype.getElement;
  Elements.prototype.getElement = function (type) {
    return type === "payment" ? (this._payment || null) : getElement.apply(this, arguments);
  };
  Elements.prototype.submit = function () {
    var self = this;
    if (!self._payment) {
      return Promise.reject(L.integrationError("elements.submit(): create and mount a Payment Element first."));
    }
    return self._payment._validate().then(function (res) {
      self._submitted = !res.error;
      return res.error ? { error: res.error } : {};
    });
  };
  Elements.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Elements.prototype.fetchUpdates = function () { return Promise.resolve({}); };

  // ------------------------------------------------------------------ confirmPayment
  function returnTo(url, pi, clientSecret) {
    var target = new URL(url, location.href);
    target.searchParams.set("payment_intent", pi.id);
    target.searchParams.set("payment_intent_client_secret", clientSecret);
    target.searchParams.set("redirect_status", pi.status === "processing" ? "processing" : "succeeded");
    return target.href;
  }

  function billingOf(confirmParams) {
    var pmd = (confirmParams && confirmParams.payment_method_data) || {};
    return pmd.billing_details || {};
  }

  Stripe.prototype.confirmPayment = function (options) {
    var self = this;
    options = options || {};
    var elements = options.elements;
    var confirmParams = options.confirmParams || {};
    var redirect = options.redirect || "always";
    if (!(elements instanceof Elements) || !elements._payment) {
      return Promise.reject(L.integrationError("Invalid value for confirmPayment: elements should be the Elements " +
        "group that holds your Payment Element (stripe.elements(), elements.create('payment'))."));
    }
    var clientSecret = options.clientSecret || elements._options.clientSecret;
    if (!clientSecret) {
      return Promise.reject(L.integrationError("stripe.confirmPayment(): pass clientSecret (from your server's " +
        "PaymentIntent) here or to stripe.elements({clientSecret})."));
    }
    if (redirect !== "always" && redirect !== "if_required") {
      return Promise.reject(L.integrationError("Invalid value for confirmPayment: redirect should be 'always' or 'if_required'."));
    }
    if (redirect === "always" && !confirmParams.return_url) {
      return Promise.reject(L.integrationError("stripe.confirmPayment(): the `confirmParams.return_url` argument is " +
        "required unless passing `redirect: 'if_required'`."));
    }
    if (elements._options.mode && !elements._submitted) {
      return Promise.reject(L.integrationError("elements.submit() must be called before stripe.confirmPayment() " +
        "when the Elements group is created without a clientSecret."));
    }
    var id;
    try { id = L.piIdFromSecret(clientSecret); } catch (err) { return Promise.reject(err); }
    return elements._payment._createPaymentMethod(self._key, billingOf(confirmParams)).then(function (pm) {
      if (pm.error) return { error: pm.error };
      var params = { client_secret: clientSecret, use_stripe_sdk: "true", payment_method: pm.paymentMethod.id };
      ["return_url", "receipt_email", "shipping", "setup_future_usage"].forEach(function (k) {
        if (confirmParams[k]) params[k] = confirmParams[k];
      });
      return L.request("POST", "/payment_intents/" + id + "/confirm", self._key, params).then(function (res) {
        if (res.error) return { error: res.error };
        return self._finish(clientSecret, L.clientView(res.body));
      }).then(function (outcome) {
        if (outcome.error || redirect === "if_required") return outcome;
        window.location.assign(returnTo(confirmParams.return_url, outcome.paymentIntent, clientSecret));
        return new Promise(function () {});  // the page is leaving
      });
    });
  };

  // {elements, params: {billing_details}}: a PaymentMethod from the Payment Element (the card stays in its iframe).
  var createPaymentMethod = Stripe.prototype.createPaymentMethod;
  Stripe.prototype.createPaymentMethod = function (a) {
    if (!a || typeof a !== "object" || !a.elements) return createPaymentMethod.apply(this, arguments);
    var elements = a.elements;
    if (!(elements instanceof Elements) || !elements._payment) {
      return Promise.reject(L.integrationError("createPaymentMethod: elements should hold a Payment Element."));
    }
    var billing = (a.params && a.params.billing_details) || {};
    return elements._payment._createPaymentMethod(this._key, billing).then(function (res) {
      return res.error ? { error: res.error } : { paymentMethod: res.paymentMethod };
    });
  };

  Stripe.prototype.handleNextAction = function (options) {
    var self = this;
    var clientSecret = options && options.clientSecret;
    return self.retrievePaymentIntent(clientSecret).then(function (res) {
      return res.error ? res : self._finish(clientSecret, res.paymentIntent);
    });
  };

  // ------------------------------------------------------------------ embedded Checkout
  var embedded = null;  // Stripe allows one embedded Checkout on a page at a time

  function EmbeddedCheckout(stripeInstance, clientSecret, onComplete) {
    this._stripe = stripeInstance;
    this._secret = clientSecret;
    this._onComplete = onComplete;
    this._frame = null;
    this._frameId = "__privateStripeFrame" + (6000 + L.nextFrameNumber());
    this._onMessage = this._onMessage.bind(this);
  }
  EmbeddedCheckout.prototype.mount = function (target) {
    var el = typeof target === "string" ? document.querySelector(target) : target;
    if (!el || !el.appendChild) {
      throw L.integrationError("The selector you specified (" + target + ") applies to no DOM elements that are " +
        "currently on the page. Make sure the element exists on the page before calling mount().");
    }
    var m = String(this._secret).match(/^(cs_test_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/);
    if (!m) throw L.integrationError("initEmbeddedCheckout: the client secret should be a Checkout Session's " +
      "client_secret (cs_test_…_secret_…), from a session created with ui_mode=embedded.");
    var frame = document.createElement("iframe");
    frame.name = this._frameId;
    frame.title = "Embedded Checkout";
    frame.setAttribute("frameborder", "0");
    frame.setAttribute("allow", "payment *");
    Object.assign(frame.style, { border: "none", width: "100%", height: "640px", display: "block", colorScheme: "light only" });
    frame.src = L.BASE + "/c/embedded/" + m[1] + "#" + encodeURIComponent(JSON.stringify({
      clientSecret: this._secret, parentOrigin: location.origin, frameId: this._frameId }));
    el.appendChild(frame);
    this._frame = frame;
    window.addEventListener("message", this._onMessage);
  };
  EmbeddedCheckout.prototype._onMessage = function (event) {
    if (!this._frame || event.source !== this._frame.contentWindow || event.origin !== L.STRIPE_ORIGIN) return;
    var msg = event.data;
    if (!msg || msg.source !== "labkit-checkout" || msg.frameId !== this._frameId) return;
    if (msg.type === "height" && typeof msg.height === "number" && msg.height > 100 && msg.height < 3000) {
      this._frame.style.height = msg.height + "px";
    } else if (msg.type === "complete") {
      if (typeof this._onComplete === "function") {
        try { this._onComplete(); } catch (err) { setTimeout(function () { throw err; }); }
      }
      if (msg.redirect !== "never" && typeof msg.url === "string" && /^https?:\/\//.test(msg.url)) {
        window.location.assign(msg.url);  // the session's return_url, {CHECKOUT_SESSION_ID} filled in
      }
    }
  };
  EmbeddedCheckout.prototype.unmount = function () {
    window.removeEventListener("message", this._onMessage);
    if (this._frame && this._frame.parentNode) this._frame.parentNode.removeChild(this._frame);
    this._frame = null;
  };
  EmbeddedCheckout.prototype.destroy = function () {
    this.unmount();
    if (embedded === this) embedded = null;
  };

  Stripe.prototype.initEmbeddedCheckout = function (options) {
    var self = this;
    options = options || {};
    if (embedded) {
      return Promise.reject(L.integrationError("You cannot have multiple embedded checkout items. Call destroy() " +
        "on the one you have first."));
    }
    var fetchSecret = typeof options.fetchClientSecret === "function" ? options.fetchClientSecret
      : function () { return Promise.resolve(options.clientSecret); };
    if (!options.fetchClientSecret && !options.clientSecret) {
      return Promise.reject(L.integrationError("initEmbeddedCheckout: pass fetchClientSecret (a function returning " +
        "a promise of the Checkout Session's client_secret)."));
    }
    return Promise.resolve(fetchSecret()).then(function (secret) {
      embedded = new EmbeddedCheckout(self, secret, options.onComplete);
      return embedded;
    });
  };
})();
