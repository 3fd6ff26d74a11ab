"""``labkit check [--json FILE] [--part B] [--folder DIR] [--watch]``: the checks of the student's own work.

Exit status: 0 when no item is missing, 1 when one is, 2 for a usage error. ``--watch``
(:mod:`labkit.checks.recheck`) checks again at each save until Ctrl-C; its status is the latest check's.
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
    parser.add_argument("--watch", action="store_true",
                        help="stay up and check again each time you save a file, only the parts that read it "
                             "(Ctrl-C to stop)")


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not args.part or "B" in args.part:
        from labkit.browser import warm_up

        warm_up()  # Chromium starts while the checks are imported and the student's servers start
    from labkit.checks.report import format_items, write_json
    from labkit.checks.run import run_checks

    if getattr(args, "watch", False):
        return watch(args, settings)
    items = run_checks(args.folder, settings, parts=args.part,
                       screenshots=settings.check_screenshots_dir)
    print(format_items(items))
    if args.json:
        write_json(items, args.json)
        print(f"\nwrote {args.json}")
    return exit_code(items)


def watch(args: argparse.Namespace, settings) -> int:
    """``--watch``: each check reads the settings again (a saved ``.env`` counts) and starts the servers anew."""
    from labkit.checks.report import write_json
    from labkit.checks.run import run_checks
    from labkit.checks.recheck import PARTS, Watch, servers_reach, watched
    from labkit.kit_server import serve_in_foreground

    folder = Path(args.folder) if args.folder else Path(settings.root)

    def check(parts: set[str]) -> list:
        now = load_settings()
        return run_checks(args.folder, now, parts=parts, screenshots=now.check_screenshots_dir)

    after = (lambda items: write_json(items, args.json)) if args.json else None
    watching = Watch(check, watched(folder, settings.answers_dir), args.part or PARTS, after=after,
                     reach=lambda: servers_reach(folder))
    serve_in_foreground((), watching.forever, close=lambda: None, stopped="stopped watching")
    return exit_code(watching.items())


def exit_code(items: list) -> int:
    """0 when no item is missing (evidenced, partial or for the grader), 1 when one is: for CI and
    course autograders (argparse's 2 stays for a usage error)."""
    return 1 if any(i.status == MISSING for i in items) else 0
