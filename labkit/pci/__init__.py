"""Part D: a PCI DSS v4.0.1 SAQ A self-assessment backed by evidence from the running kit.

* :mod:`labkit.pci.requirements` loads the questionnaire (``labkit/data/saq_a_v401.json``);
* :mod:`labkit.pci.saq_checks` gathers evidence from live servers and a browser run (the checks live
  in :mod:`~labkit.pci.page`, :mod:`~labkit.pci.http_checks`, :mod:`~labkit.pci.config_checks`,
  :mod:`~labkit.pci.at_rest`, :mod:`~labkit.pci.browser_evidence`, and :mod:`~labkit.pci.run` runs them);
* :mod:`labkit.pci.student_answers` reads and saves the student's answers (``answers/pci.json``);
* :mod:`labkit.pci.report` turns answers and evidence into ``pci_assessment.md``;
* :mod:`labkit.pci.widgets` is the notebook's checklist; :mod:`labkit.pci.cli` is ``labkit pci``.

Nothing is imported at import time, so ``import labkit.pci`` starts nothing; the two functions
below import what they need when called.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any


def answers_summary(settings: Any) -> dict[str, Any]:
    """What the student has answered in ``answers/pci.json``: ``answered`` of ``total`` requirements,
    the ids ``unanswered``, and whether the gaps and the remediation plan are written in the student's
    words (``gaps_written``, ``remediation_written``, with the reason in ``gaps_problem`` …)."""
    from labkit.pci.student_answers import answers_summary as summary

    return summary(settings)


def model_answers_path() -> Path | None:
    """The instructor's model answers (``labkit/data/model_answers/pci.json``); None in the student edition."""
    from labkit.pci.student_answers import model_answers_path as path

    return path()
