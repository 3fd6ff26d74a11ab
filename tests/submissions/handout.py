"""The handout's own code, taken from ../shared/lab09_handout.txt at test time (not copied here); found by
tests.helpers.handout_path(), None in a plain clone."""
from __future__ import annotations

import re

from tests.helpers import handout_path


def handout_text() -> str | None:
    path = handout_path()
    return path.read_text(encoding="utf-8") if path is not None else None


def handout_code(filename: str) -> str | None:
    """The code block that starts with ``# <filename>`` and ends before the prose after it."""
    text = handout_text()
    if text is None:
        return None
    start = text.index(f"# {filename}\n")
    rest = text[start:]
    end = re.search(r'\n\s*app\.run\(debug=True, port=500\d\)\n', rest)
    return rest[:end.end()] if end else None
