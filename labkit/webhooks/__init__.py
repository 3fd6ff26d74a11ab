"""Part C's harness around the student's ``webhook_handler.py``: ``labkit webhooks``
(``standalone``), ``labkit trigger`` (``trigger``), the attack drills notebook 03 runs
(``attacks``) and the tables it shows (``tables``). The handler itself is the student's file.

Nothing is imported here, so ``import labkit.webhooks`` starts nothing.
"""
