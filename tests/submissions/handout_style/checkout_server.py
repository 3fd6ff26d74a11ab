# checkout_server.py -- written by the kit to behave like the handout's printed Part B code
# (a single product on the page; the server prices it from its own table; the page confirms
# the card with confirmCardPayment), without copying the handout's text.
import os

import stripe
from flask import Flask, jsonify, render_template, request

app = Flask(__name__)
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
PUBLISHABLE_KEY = os.environ["STRIPE_PUBLISHABLE_KEY"]

CATALOG = {
    "prod_001": {"name": "Safety Hard Hat", "price": 1800, "currency": "usd"},
    "prod_002": {"name": "Cut-5 Safety Gloves", "price": 900, "currency": "usd"},
    "prod_003": {"name": "Safety Glasses", "price": 450, "currency": "usd"},
}


@app.route("/")
def index():
    item_id = "prod_001"
    return render_template("page.html", item=CATALOG[item_id], item_id=item_id, pk=PUBLISHABLE_KEY)


@app.route("/create-payment-intent", methods=["POST"])
def create_payment_intent():
    body = request.get_json()
    item_id = body.get("product_id", "prod_001")
    item = CATALOG.get(item_id)
    if item is None:
        return jsonify({"error": "Unknown product"}), 404
    try:
        pi = stripe.PaymentIntent.create(
            amount=item["price"],
            currency=item["currency"],
            metadata={"product_id": item_id, "product_name": item["name"]},
            automatic_payment_methods={"enabled": True},
        )
    except stripe.error.StripeError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify({"clientSecret": pi.client_secret})


@app.route("/payment-success")
def payment_success():
    pi_id = request.args.get("payment_intent", "")
    if not pi_id:
        return jsonify({"error": "payment_intent is missing"}), 400
    pi = stripe.PaymentIntent.retrieve(pi_id)
    return jsonify({"status": pi.status, "amount": pi.amount / 100, "currency": pi.currency.upper()})


if __name__ == "__main__":
    app.run(debug=True, port=5000)
