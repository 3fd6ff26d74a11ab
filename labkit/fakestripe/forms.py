"""Stripe's form encoding (``metadata[k]=v``, ``expand[0]=x``, ``items[][price]=y``), decoded
within limits so that no request can make the fake allocate without bound or crash.

Limits (Stripe publishes few; where it does, the fake uses the same): a body of 256 KiB,
1,000 parameters, nesting five levels deep (``a[b][c][d][e]``, enough for
``payment_method_data[billing_details][address][line1]``), array indexes
counting 0, 1, 2, … (``expand[0]``, ``expand[1]``). Anything else is a 400
``invalid_request_error`` naming the parameter.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from labkit.fakestripe.errors import invalid

MAX_BODY = 256 * 1024
MAX_PARAMS = 1000
MAX_DEPTH = 5
MAX_NAME = 200
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` → pairs, refusing more than :data:`MAX_PARAMS` of them."""
    if text.count("&") + text.count(";") >= MAX_PARAMS * 2:
        raise invalid(f"Too many parameters: a request may carry up to {MAX_PARAMS}.", None, "parameter_invalid")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_PARAMS, separator="&")
    except ValueError:
        raise invalid(f"Too many parameters: a request may carry up to {MAX_PARAMS}.", None, "parameter_invalid")
    return pairs


def split_name(key: str) -> list[str]:
    """``"a[b][0][]"`` → ``["a", "b", "0", ""]``; a malformed name is a 400."""
    if not key or len(key) > MAX_NAME:
        raise _bad_name(key)
    head, _, rest = key.partition("[")
    rest = "[" + rest if rest or key.endswith("[") else ""
    parts = [head]
    pos = 0
    while pos < len(rest):
        m = _PART.match(rest, pos)
        if m is None:
            raise _bad_name(key)
        parts.append(m.group(1))
        pos = m.end()
    if not head or "]" in head:
        raise _bad_name(key)
    if len(parts) > MAX_DEPTH:
        raise invalid(f"Parameters can be nested at most {MAX_DEPTH} levels deep: {key[:80]}", key[:80],
                      "parameter_invalid")
    return parts


def _bad_name(key: str) -> Exception:
    return invalid(f"Invalid parameter name: {key[:80]}", key[:80] or None, "parameter_invalid")


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``[("a[b][0]", "x")]`` → ``{"a": {"b": ["x"]}}``. Indexes are kept as hash keys while
    decoding (so ``a[30000000]`` costs nothing) and a hash whose keys are exactly 0, 1, 2, …
    becomes an array afterwards (except metadata, whose keys are the caller's). A name used
    both as a value and as a hash is a 400."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_name(key)
        node: dict[str, Any] = root
        for depth, part in enumerate(parts):
            if part == "":
                if depth and parts[depth - 1] == "metadata":  # Stripe's metadata is a hash with named keys
                    raise invalid(f"Invalid hash: {key[:80]}: metadata takes named keys (metadata[order_id]=42), "
                                  "not a list", key[:80], "parameter_invalid_object")
                part = str(sum(1 for k in node if k.isdigit()))  # "a[]": the next index
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise _conflict(key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise _conflict(key)
                node = child
    return {k: (v if k == "metadata" else _arrays(v)) for k, v in root.items()}


def _arrays(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: (v if k == "metadata" else _arrays(v)) for k, v in node.items()}
    if items and all(k.isascii() and k.isdigit() for k in items):
        if sorted(int(k) for k in items) == list(range(len(items))):
            return [items[str(i)] for i in range(len(items))]
    return items


def _conflict(key: str) -> Exception:
    return invalid(f"Invalid parameter {key[:80]}: the same name is used as a value and as a hash or an array",
                   key[:80], "parameter_invalid")
