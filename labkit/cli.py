"""The ``labkit`` command line.

Each subcommand lives in the module that owns its capability, as a pair of functions
``add_arguments(parser)`` and ``run(args) -> int``; this file only lists them, so
modules are imported only when their command runs.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from labkit import __version__
from labkit.console import setup_console
from labkit.settings import SettingsError

# name -> (module exposing add_<name>_arguments/run_<name>, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "status": ("labkit.backend", "show the backend, the redacted keys, and whether the API answers"),
    "fakestripe": ("labkit.fakestripe.server", "run the offline fake Stripe in the foreground"),
    "checkout": ("labkit.checkout", "run the checkout server (port 5000)"),
    "webhooks": ("labkit.webhooks.standalone", "run the webhook handler (port 5001)"),
    "trigger": ("labkit.webhooks.trigger", "produce a real event through the API, like `stripe trigger`"),
    "pci": ("labkit.pci.cli", "run the PCI SAQ A evidence checks and write pci_assessment.md"),
    "demo": ("labkit.demo", "run the whole lab offline, ending in the submission folder"),
    "export": ("labkit.export", "make the submission PDF and deliverables from executed notebooks"),
    "release": ("labkit.release", "build the student edition (solutions replaced by starters) into a folder"),
    "grade": ("labkit.grading.cli", "grade a class folder of submissions into one table (re-runs each student's code)"),
    "check": ("labkit.checks.cli", "check your own code and answers: each rubric item, with feedback"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="Stripe payments lab kit")
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if only is None or name == only:
            mod = importlib.import_module(module)
            getattr(mod, f"add_{name}_arguments", lambda _p: None)(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    setup_console()  # a cp1252 pipe or log file must not stop the output at the first ✓
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        build_parser(only="").print_help() if command is None else build_parser(only="").parse_args(argv)
        return 2 if command is None else 0
    args = build_parser(only=command).parse_args(argv)
    module = importlib.import_module(COMMANDS[command][0])
    try:
        return int(getattr(module, f"run_{command}")(args) or 0)
    except SettingsError as exc:
        print(f"labkit {command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # no network, no browser…: one line that says what to do, not a traceback
        from labkit.backend import problem_line

        line = problem_line(exc)
        if line is None:
            raise
        print(f"labkit {command}: {line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
