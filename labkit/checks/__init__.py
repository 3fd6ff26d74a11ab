"""Checks of the student's own work, with feedback a student can act on.

Each check has an id (``checkout:server_price``, ``scenario:success``, ``webhook:signature``…),
runs against the student's own servers (started by :mod:`labkit.student`) or reads the student's
answers (:mod:`labkit.answers`), and gives an :class:`Item`: a status (``evidenced``,
``missing``, ``partial``, ``for the grader``) and the evidence. When something fails, the
evidence says the scenario, what was expected, what was seen, and a hint: never a traceback.

>>> from labkit.checks import run_checks
>>> items = run_checks(folder, settings)  # everything, for `labkit check` and `labkit grade`
"""
from labkit.checks.items import EVIDENCED, GRADER, MISSING, PARTIAL, STATUSES, Item
from labkit.checks.run import run_checks

__all__ = ["EVIDENCED", "GRADER", "MISSING", "PARTIAL", "STATUSES", "Item", "run_checks"]
