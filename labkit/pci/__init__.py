"""Part D: a PCI DSS v4.0.1 SAQ A self-assessment backed by evidence from the running kit.

* :mod:`labkit.pci.requirements` loads the questionnaire (``labkit/data/saq_a_v401.json``);
* :mod:`labkit.pci.checks` gathers evidence from live servers and a browser run;
* :mod:`labkit.pci.report` turns answers and evidence into ``pci_assessment.md``;
* :mod:`labkit.pci.widgets` is the notebook's checklist; :mod:`labkit.pci.cli` is ``labkit pci``.

Nothing is imported here, so ``import labkit.pci`` starts nothing.
"""
