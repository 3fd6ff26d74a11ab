"""The SAQ A evidence checks, in one namespace: ``from labkit.pci import saq_checks``.

Every check takes URLs (and, where it reads files, paths), never the kit's objects, so an
instructor can point it at any checkout and webhook server, a student's own included. Each
returns a :class:`CheckResult`: ``pass`` (the evidence supports "Yes"), ``gap`` (it found a
problem, with a remediation), ``n/a`` (nothing to check here) or ``error`` (the check could not
run, for example a route the server does not have).

The checks live in modules by what they read:

* :mod:`labkit.pci.page`: parsing a page (scripts, iframes, inputs, its CSP);
* :mod:`labkit.pci.http_checks`: HTTPS, debug mode, forged webhooks, secrets in pages, scripts and CSP;
* :mod:`labkit.pci.config_checks`: default or shared keys, ``.env``, the dependency pins;
* :mod:`labkit.pci.at_rest`: card numbers in SQLite databases and logs;
* :mod:`labkit.pci.browser_evidence`: headless Chromium pays and records every request;
* :mod:`labkit.pci.run`: :class:`Target`, :class:`Evidence`, :func:`run_checks`, :func:`run_lab_checks`.

This module only gathers their public names, so notebooks and scripts need one import.
"""
from __future__ import annotations

from labkit.pci.at_rest import LogCapture, capture_logs, card_findings, check_card_data_at_rest, describe_cards
from labkit.pci.browser_evidence import (BrowserEvidence, FrameInfo, RecordedRequest, check_card_fields_origin,
                                         check_requests_carry_no_card, collect_browser_evidence)
from labkit.pci.config_checks import check_default_credentials, check_dependencies
from labkit.pci.http_checks import (TIMEOUT, USER_AGENT, check_debug_mode, check_scripts_csp, check_secret_key_in_pages,
                                    check_transport, check_webhook_forgery)
from labkit.pci.page import origin_of, parse_csp, parse_page, webhook_endpoint
from labkit.pci.results import CHECKS, STATUSES, CheckResult
from labkit.pci.run import Evidence, Target, attach_requirements, run_checks, run_lab_checks

__all__ = [
    "CHECKS", "STATUSES", "TIMEOUT", "USER_AGENT", "BrowserEvidence", "CheckResult", "Evidence", "FrameInfo",
    "LogCapture", "RecordedRequest", "Target", "attach_requirements", "capture_logs", "card_findings",
    "check_card_data_at_rest", "check_card_fields_origin", "check_debug_mode", "check_default_credentials",
    "check_dependencies", "check_requests_carry_no_card", "check_scripts_csp", "check_secret_key_in_pages",
    "check_transport", "check_webhook_forgery", "collect_browser_evidence", "describe_cards", "origin_of",
    "parse_csp", "parse_page", "run_checks", "run_lab_checks", "webhook_endpoint",
]
