"""Part C: the webhook handler (``app``), its SQLite order store (``store``), what each
event does to an order (``handlers``), ``labkit trigger`` (``trigger``), the attack drills
the notebook runs (``attacks``) and a handler in its own process for crash tests (``process``).

Nothing is imported here, so ``import labkit.webhooks`` starts nothing.
"""
