"""Checks of the student's own work, with feedback a student can act on.

Each check has an id (``checkout:server_price``, ``scenario:success``, ``webhook:signature``…),
runs against the student's own servers (started by :mod:`labkit.student`) or reads the student's
answers (:mod:`labkit.answers`), and gives an :class:`Item`: a status (``evidenced``,
``missing``, ``partial``, ``for the grader``) and the evidence. When something fails, the
evidence says the scenario, what was expected, what was seen, and a hint: never a traceback.

>>> from labkit.checks import run_checks
>>> items = run_checks(folder, settings)  # everything, for `labkit check` and `labkit grade`
"""
from typing import Any

from labkit.checks.items import EVIDENCED, GRADER, MISSING, PARTIAL, STATUSES, Item

__all__ = ["EVIDENCED", "GRADER", "MISSING", "PARTIAL", "STATUSES", "Item", "run_checks"]


def __getattr__(name: str) -> Any:
    """``run_checks``, imported when first asked for: the checks' modules take a quarter of a second to
    import (the ``stripe`` package among them), which ``labkit check`` spends while Chromium starts."""
    if name == "run_checks":
        from labkit.checks.run import run_checks

        return run_checks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
