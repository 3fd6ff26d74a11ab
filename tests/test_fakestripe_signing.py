"""labkit.webhook_signing: the one Stripe-Signature builder, checked against the stripe package's verifier."""
from __future__ import annotations

import json
import time

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.webhook_signing import compute_signature, parse_header, signature_header


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(max_size=2000), secret=st.text(min_size=1, max_size=40).map(lambda s: "whsec_" + s))
def test_a_header_carries_the_time_and_the_v1_signature(payload, secret):
    header = signature_header(payload, secret)
    t, sigs = parse_header(header)
    assert sigs == [compute_signature(payload, secret, t)] and abs(t - time.time()) < 300


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200), secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1,
                                                  max_size=32))
def test_the_stripe_package_verifies_every_header(text, secret):
    body, key = '{"text": %s}' % json.dumps(text), "whsec_" + secret
    assert stripe.WebhookSignature.verify_header(body, signature_header(body, key), key, tolerance=300)


def test_construct_event_accepts_the_header_and_rejects_a_changed_body():
    body = '{"id": "evt_1", "object": "event", "type": "charge.succeeded", "data": {"object": {}}}'
    header = signature_header(body, "whsec_test")
    assert stripe.Webhook.construct_event(body, header, "whsec_test").id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace("evt_1", "evt_2"), header, "whsec_test")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature_header(body, "whsec_test", timestamp=1), "whsec_test")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parse_header_never_raises(text):
    t, sigs = parse_header(text)
    assert t is None or isinstance(t, int)
    assert all(isinstance(s, str) and s for s in sigs)
