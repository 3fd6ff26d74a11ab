"""labkit: the Stripe payments lab kit (ITEC-442 Lab 09).

Import submodules directly (``from labkit.settings import load_settings``); importing
``labkit`` itself starts nothing and reads nothing.
"""
__version__ = "0.1.0"
