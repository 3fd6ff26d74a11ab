# webhook_handler.py -- written by the kit to behave like the handout's printed Part C code:
# the signature is checked only when a secret is set (without one, any JSON is taken as an
# event), orders live in memory, and the handlers read the event's object with .get() as if it
# were a dict (with stripe >= 15 a StripeObject is not, so a succeeded event gets a 500).
import json
import os

import stripe
from flask import Flask, jsonify, request

app = Flask(__name__)
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")

orders = {}


@app.route("/webhook", methods=["POST"])
def webhook():
    payload = request.get_data(as_text=True)
    signature = request.headers.get("Stripe-Signature")
    try:
        if WEBHOOK_SECRET:
            event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
        else:
            event = stripe.Event.construct_from(json.loads(payload), stripe.api_key)
    except (ValueError, stripe.error.SignatureVerificationError):
        return jsonify({"error": "Invalid payload"}), 400

    kind = event["type"]
    obj = event["data"]["object"]
    if kind == "payment_intent.succeeded":
        on_succeeded(obj)
    elif kind == "payment_intent.payment_failed":
        on_failed(obj)
    return jsonify({"received": True}), 200


def on_succeeded(pi):
    product = pi.get("metadata", {}).get("product_name", "Unknown")
    orders[pi["id"]] = {"status": "paid", "amount": pi["amount"] / 100, "product": product,
                        "fulfillment": "queued"}


def on_failed(pi):
    problem = pi.get("last_payment_error", {})
    print("payment failed:", pi["id"], problem.get("code"))


@app.route("/orders")
def list_orders():
    return jsonify(orders)


if __name__ == "__main__":
    app.run(debug=True, port=5001)
