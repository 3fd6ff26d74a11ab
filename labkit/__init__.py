"""labkit: the Stripe payments lab kit (ITEC-442 Lab 09).

Import submodules directly (``from labkit.settings import load_settings``); importing
``labkit`` itself starts nothing and reads nothing.
"""
import logging

__version__ = "0.1.0"

# The library convention (Python's logging HOWTO): the kit's loggers stay silent unless the
# application configures logging. Without this, Python's last-resort handler would print every
# rejected webhook into notebook cells; the standalone commands configure logging themselves.
logging.getLogger("labkit").addHandler(logging.NullHandler())
