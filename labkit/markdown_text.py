"""Markdown that JupyterLab shows as written: no dollar sign is ever taken for TeX.

JupyterLab (4.6, as marked and its math extension do) treats ``$…$`` and ``$$…$$`` in Markdown
prose as maths, and since 4.6 also a backslash-escaped ``\\$``: "\\$0.30 … \\$125" renders as
italic maths with the spaces gone. Rule of this kit: **no ``$`` in Markdown prose** outside code
spans and fenced code blocks; an amount is written with the HTML entity ``&#36;`` (shown as $)
or in words ("USD 15M"). :func:`dollars_in_prose` finds the ones left (the notebooks' test), and
:func:`no_math` makes text from elsewhere (a student's page) safe to show as Markdown.
"""
from __future__ import annotations

import re

DOLLAR_ENTITY = "&#36;"
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[`~]*[ \t]*$", re.M | re.S)
_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)


def prose(markdown: str) -> str:
    """``markdown`` without its fenced code blocks and code spans (where ``$`` is literal)."""
    return _SPAN.sub("", _FENCE.sub("", markdown))


def dollars_in_prose(markdown: str) -> list[str]:
    """The prose lines of ``markdown`` that hold a ``$`` (escaped or not): each may start maths."""
    return [line.strip() for line in prose(markdown).splitlines() if "$" in line]


def no_math(text: str) -> str:
    """``text`` for a Markdown display: every ``$`` as ``&#36;``, so none starts maths."""
    return text.replace("\\$", "$").replace("$", DOLLAR_ENTITY)
