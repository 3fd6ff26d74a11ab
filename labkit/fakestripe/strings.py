"""The string parameters the lab sends, checked as Stripe checks them (a 400 before anything is written).

Sources (checked 2026-12-04):
- receipt_email: Stripe refuses a malformed address with code ``email_invalid`` (docs.stripe.com/error-codes,
  "email_invalid"). Stripe does not publish its exact rule; the fake takes one ``@`` with a local part and a
  domain with a dot, no spaces, up to 512 characters (the length is the fake's own bound, not verified).
- statement_descriptor and statement_descriptor_suffix: docs.stripe.com/get-started/account/statement-descriptors
  ("Statement descriptor requirements"): Latin characters only, at most 22 characters, at least one letter, none
  of ``< > \\ ' " *``; the complete descriptor has 5 to 22 characters (prefix, ``* ``, suffix; Stripe then cuts
  the suffix to fit, so the fake checks each parameter's own 22). The stripe package 16.1's docstrings say the
  same 22-character limit (stripe/params/_payment_intent_create_params.py). Error code ``invalid_characters``
  for a character outside the rules (docs.stripe.com/error-codes); a value too long gets Stripe's
  "Invalid string: …; must be at most N characters" with no code (its wording as seen in API answers; not
  verified against a live account from here).
- description: Stripe's OpenAPI description (github.com/stripe/openapi, spec3) gives PaymentIntent
  ``description`` a maxLength of 1000 (not verified: the spec file was not readable from here).
"""
from __future__ import annotations

import re

from labkit.fakestripe.errors import invalid

DESCRIPTOR_MAX = 22
DESCRIPTOR_FORBIDDEN = set("<>\\'\"*")
DESCRIPTION_MAX = 1000
EMAIL_MAX = 512
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_LATIN = re.compile(r"[\x20-\x7e\u00c0-\u024f]*")  # printable ASCII and the Latin-1 Supplement/Extended letters


def too_long(value: str, param: str, limit: int):
    return invalid(f"Invalid string: {value[:40]}{'...' if len(value) > 40 else ''}; must be at most {limit} "
                   "characters", param)


def _email(value: str, param: str) -> None:
    if len(value) > EMAIL_MAX:
        raise too_long(value, param, EMAIL_MAX)
    if not _EMAIL.fullmatch(value):
        raise invalid(f"Invalid email address: {value[:80]}", param, "email_invalid")


def _descriptor(value: str, param: str) -> None:
    if len(value) > DESCRIPTOR_MAX:
        raise too_long(value, param, DESCRIPTOR_MAX)
    bad = sorted(set(value) & DESCRIPTOR_FORBIDDEN) or ([] if _LATIN.fullmatch(value) else ["non-Latin"])
    if bad:
        raise invalid(f"The {param} contains characters a statement descriptor cannot have ({' '.join(bad)}): use "
                      f"Latin letters, digits and spaces, without < > \\ ' \" *", param, "invalid_characters")
    if not any(ch.isalpha() for ch in value):
        raise invalid(f"The {param} must contain at least one letter.", param, "invalid_characters")


def _description(value: str, param: str) -> None:
    if len(value) > DESCRIPTION_MAX:
        raise too_long(value, param, DESCRIPTION_MAX)


RULES = {"receipt_email": _email, "statement_descriptor": _descriptor, "statement_descriptor_suffix": _descriptor,
         "description": _description}


def check_text(param: str, value: str) -> str:
    """``value`` if Stripe would take it for ``param``; else the 400 Stripe answers."""
    rule = RULES.get(param)
    if rule is not None:
        rule(value, param)
    return value
