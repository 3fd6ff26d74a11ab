"""``labkit pci``: run the SAQ A evidence checks and write ``pci_assessment.md``.

Without URLs it starts the kit's own servers offline (a fake Stripe, the checkout and the
webhook handler) and checks those; with ``--checkout-url`` (and ``--webhook-url``) it checks
servers that are already running, a student's own for instance.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from labkit.pci import answers_summary
from labkit.settings import SettingsError, load_settings, shown_path


def add_pci_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkout-url", default=None, help="a running checkout (e.g. http://localhost:5000)")
    parser.add_argument("--webhook-url", default=None,
                        help="a running webhook handler (its base URL or its endpoint, e.g. http://localhost:5001)")
    parser.add_argument("--stripe-origin", default=None,
                        help="where Stripe.js comes from (default: read from the page; https://js.stripe.com)")
    parser.add_argument("--db", action="append", type=Path, default=None,
                        help="a SQLite database of the merchant to scan for card numbers (repeatable; "
                             "default with no URLs: the kit's LABKIT_DB)")
    parser.add_argument("--log", action="append", type=Path, default=[],
                        help="a server log file to scan for card numbers (repeatable)")
    parser.add_argument("--out", type=Path, default=None, help="the file to write (default out/pci_assessment.md)")
    parser.add_argument("--json", type=Path, default=None, help="also save the evidence as JSON")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless-Chromium run")
    parser.add_argument("--date", default=None, help="assessment date (default today)")


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _print(evidence) -> None:
    width = max(len(r.id) for r in evidence.results)
    for r in evidence.results:
        print(f"  {r.status:<5}  {r.id:<{width}}  {r.summary}")


def run_pci(args: argparse.Namespace) -> int:
    from labkit.pci import report, saq_checks

    try:
        config = load_settings()
    except SettingsError:
        raise
    out = args.out or config.out_dir / report.FILE_NAME
    for name, url in (("--checkout-url", args.checkout_url), ("--webhook-url", args.webhook_url)):
        if url and not _is_http_url(url):
            print(f"labkit pci: {name} must be an http(s) address such as http://localhost:5000, not {url!r}",
                  file=sys.stderr)
            return 2
    if args.checkout_url:
        target = saq_checks.Target(args.checkout_url.rstrip("/"), args.webhook_url, args.stripe_origin,
                                   db_paths=tuple(args.db or ()), log_paths=tuple(args.log), label="given servers")
        print(f"labkit pci: checking {target.checkout_url}" + (f" and {target.webhook_url}" if target.webhook_url else ""))
        evidence = saq_checks.run_checks(target, settings=config, browser=not args.no_browser)
    else:
        if args.webhook_url:
            print("labkit pci: --webhook-url needs --checkout-url too", file=sys.stderr)
            return 2
        from labkit.lab import Lab  # deferred: stripe and the servers, only for the offline lab

        offline = load_settings(overrides={"LABKIT_BACKEND": "fake"})
        print("labkit pci: starting the kit's own servers offline (fake Stripe, checkout, webhooks)")
        with Lab.start(offline) as lab:
            evidence = saq_checks.run_lab_checks(lab, browser=not args.no_browser, config=config,
                                                 extra_db=tuple(args.db or ()), log_paths=tuple(args.log))
    _print(evidence)
    path = report.write_assessment(out, evidence=evidence, date=args.date, settings=config)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(evidence.to_dict(), indent=2), encoding="utf-8")
    gaps = len(evidence.gaps)
    errors = sum(1 for r in evidence.results if r.status == "error")
    summary = answers_summary(config)
    print(f"labkit pci: {gaps} gap(s), {errors} check(s) could not run; wrote {path}")
    print(f"  answers from {shown_path(summary['path'])}: {summary['answered']} of {summary['total']} requirements; "
          "answer the rest in notebooks/04_pci.ipynb (or edit that file).")
    return 1 if errors else 0
