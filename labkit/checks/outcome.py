"""What the page the customer ends on says about the payment: succeeded, failed, or nothing clear.

A careful grader pays, then reads the page in front of them (wherever the checkout put it: the
handout's ``#result``, another element, a receipt page it navigated to, an ``alert()``) and compares
it with what Stripe recorded. :func:`classify` does the reading, in this order; the first rule that
decides wins:

1. **The page's own machine-readable word**: ``data-outcome`` on the outcome element
   (``succeeded``/``success`` or anything else, e.g. ``failed``).
2. **Stripe's own message**: a text that shows the decline message Stripe recorded for this
   PaymentIntent (``last_payment_error.message``) or the one Stripe.js gives the customer, is a
   failure, whatever else it says.
3. **What the words say, sentence by sentence**, with negation: "Payment failed", "Your card was
   declined", "could not be processed", "was not successful", "unable to authenticate" say failure;
   "Payment succeeded", "Thank you for your order", "Payment received", "order confirmed", "✓"
   say success, unless negated ("not successful", "no payment received"). A "not" alone says
   nothing: "Do not pay again" or "not refresh" are instructions on a success page, not a failure.
   The first sentence that decides is taken (the headline), as a reader would.
4. **The look of the outcome element**: a class meaning success (``success``, ``succeeded``,
   ``paid``, ``alert-success``…) or failure (``error``, ``failed``, ``declined``, ``danger``…).
5. **Where the page went**: a page the checkout navigated to whose address names success
   (``/success``, ``/thank-you``, ``/receipt``, ``/confirmation``) or failure (``/failed``, ``/error``).

Otherwise the page said nothing clear (``unclear``). Keywords are never counted against each
other: one decisive rule, in order of how directly the page states the outcome.
"""
from __future__ import annotations

import re
from typing import Iterable

SUCCESS, FAILURE, UNCLEAR = "success", "failure", "unclear"

_NEG = r"(?:\bnot\b|n't\b|\bnever\b|\bno\b|\bwithout\b)(?:\W+\w+){0,2}?\W+"
FAIL_PHRASES = re.compile(
    r"\bdeclin\w*|\bfail(?:ed|s|ure)?\b|\binsufficient\b|\bunsuccessful\b|\bdenied\b|\brefused\b|\brejected\b"
    r"|\b(?:could\s*not|couldn't|cannot|can't|can\s+not|unable\s+to|did\s*not|didn't|was\s*not|wasn't|has\s+not|"
    r"hasn't|were\s+not|weren't)\s+(?:be\s+|been\s+)?(?:process|complet|charg|authenticat|confirm|accept|approv|"
    r"verif|succeed|successful|go\s+through|finish|paid|pay\b)\w*"
    r"|\bnot\s+(?:been\s+)?(?:successful|completed|processed|approved|authorized|authorised|confirmed|paid)\b"
    r"|\b(?:error|problem)\b|\binvalid\b|\bincomplete\b|\b(?:does\s*not|doesn't)\s+support\b|\bnot\s+supported\b|\bexpired\b|\bincorrect\b|\bauthentication\s+(?:failed|required)\b"
    r"|\bchoose\s+a\s+different\s+payment\s+method\b|\btry\s+(?:again|another|a\s+different)\b|[✗✘❌⚠]", re.I)
SUCCESS_PHRASES = re.compile(
    r"\bsucce(?:ss|eded|ssful|ssfully)\b|\bthank(?:s|\s+you)\b|\bpaid\b|\ball\s+set\b|\bwent\s+through\b"
    r"|\b(?:payment|order|purchase|transaction|charge)\s+(?:\S+\s+){0,3}?(?:received|complete|completed|confirmed|"
    r"accepted|approved|processed|placed|successful|done)\b|\b(?:received|confirmed)\s+your\s+(?:payment|order)\b"
    r"|[✓✔✅🎉]", re.I)
NOT_A_FAILURE = re.compile(r"\b(?:no|without|any)\s+(?:errors?|problems?)\b", re.I)
NEGATED_SUCCESS = re.compile(_NEG + r"(?:" + SUCCESS_PHRASES.pattern + r")", re.I)

SUCCESS_CLASS = re.compile(r"(?:^|[\s_-])(?:success\w*|succeeded|paid|ok|complete|approved|confirmed|positive|"
                           r"valid)(?:$|[\s_-])", re.I)
FAILURE_CLASS = re.compile(r"(?:^|[\s_-])(?:error\w*|fail\w*|declin\w*|danger|invalid|negative|warning)(?:$|[\s_-])",
                           re.I)
SUCCESS_URL = re.compile(r"succe|thank|receipt|confirm|complete|paid|order[-_/]?placed", re.I)
FAILURE_URL = re.compile(r"fail|error|declin|cancel", re.I)


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()


def sentences(text: str) -> list[str]:
    """The text's sentences and lines, in reading order (a headline without a full stop is one too)."""
    parts = re.split(r"(?<=[.!?])\s+|\n+|\s+[—–|]\s+", text.replace("’", "'"))
    return [p.strip() for p in parts if p and p.strip()]


def sentence_verdict(sentence: str) -> str:
    """One sentence: success, failure, or unclear (both or neither)."""
    cleaned = NOT_A_FAILURE.sub(" ", sentence)
    negated = bool(NEGATED_SUCCESS.search(cleaned))
    failure = bool(FAIL_PHRASES.search(cleaned)) or negated
    # a success word inside a failure phrase ("payment could not be processed") is part of the failure
    success = bool(SUCCESS_PHRASES.search(FAIL_PHRASES.sub(" ", NEGATED_SUCCESS.sub(" ", cleaned))))
    if failure and not success:
        return FAILURE
    if success and not failure:
        return SUCCESS
    return UNCLEAR


def text_verdict(text: str) -> str:
    for sentence in sentences(text):
        verdict = sentence_verdict(sentence)
        if verdict != UNCLEAR:
            return verdict
    return UNCLEAR


def classify(text: str, *, outcome_attr: str = "", classes: str = "", url: str = "", navigated: bool = False,
             stripe_messages: Iterable[str] = ()) -> tuple[str, str]:
    """(verdict, the rule that decided) for what the customer sees; see the module's doc for the rules."""
    attr = outcome_attr.strip().lower()
    if attr:
        return (SUCCESS if attr in ("succeeded", "success", "paid", "complete") else FAILURE), "data-outcome"
    shown = _norm(text)
    for message in stripe_messages:
        msg = _norm(message or "").rstrip(".")
        if len(msg) >= 12 and msg in shown:
            return FAILURE, "Stripe's decline message"
    verdict = text_verdict(text)
    if verdict != UNCLEAR:
        return verdict, "its words"
    if classes:
        if SUCCESS_CLASS.search(classes) and not FAILURE_CLASS.search(classes):
            return SUCCESS, "its class"
        if FAILURE_CLASS.search(classes) and not SUCCESS_CLASS.search(classes):
            return FAILURE, "its class"
    if navigated and url:
        path = re.sub(r"^[a-z]+://[^/]+", "", url)
        if SUCCESS_URL.search(path) and not FAILURE_URL.search(path):
            return SUCCESS, "the page it went to"
        if FAILURE_URL.search(path) and not SUCCESS_URL.search(path):
            return FAILURE, "the page it went to"
    return UNCLEAR, ""
