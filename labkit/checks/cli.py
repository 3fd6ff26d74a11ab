"""``labkit check [--json FILE] [--part B] [--folder DIR]``: the checks of the student's own work.

Exit status: 0 when no item is missing, 1 when one is, 2 for a usage error.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from labkit.checks.items import MISSING
from labkit.settings import load_settings


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--part", action="append", choices=list("ABCDE"), help="only this part (repeatable)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--folder", type=Path, default=None,
                        help="where checkout_server.py and webhook_handler.py are (default: the kit's top)")


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not args.part or "B" in args.part:
        from labkit.browser import warm_up

        warm_up()  # Chromium starts while the checks are imported and the student's servers start
    from labkit.checks.report import format_items, write_json
    from labkit.checks.run import run_checks

    items = run_checks(args.folder, settings, parts=args.part,
                       screenshots=settings.check_screenshots_dir)
    print(format_items(items))
    if args.json:
        write_json(items, args.json)
        print(f"\nwrote {args.json}")
    return exit_code(items)


def exit_code(items: list) -> int:
    """0 when no item is missing (evidenced, partial or for the grader), 1 when one is: for CI and
    course autograders (argparse's 2 stays for a usage error)."""
    return 1 if any(i.status == MISSING for i in items) else 0
