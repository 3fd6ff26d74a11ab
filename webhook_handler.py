"""Part C webhook handler: `python webhook_handler.py` serves it on http://localhost:5001/webhook.

The handout's version keeps orders in a dict and accepts unsigned events when no secret
is set. This one is built from labkit's pieces (labkit/webhooks/):

* POST /webhook   verifies Stripe-Signature on the raw body (300 s tolerance) before
                  parsing; forged, tampered, stale or unsigned deliveries get a 400;
* each event is applied exactly once: its id is stored in SQLite in the same
                  transaction as the order change, and the 200 goes out after the commit;
* GET /orders     the orders by PaymentIntent id, each with the events that changed it;
* GET /deliveries every delivery, accepted or not, and what became of it.

The signing secret comes from STRIPE_WEBHOOK_SECRET; offline, the handler registers
itself with the fake Stripe and uses the secret it returns; in Stripe test mode run
`stripe listen --forward-to localhost:5001/webhook` and use the secret it prints.
Options: --port, --db, --insecure-demo (see --help).
"""
import sys

from labkit.webhooks.app import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
