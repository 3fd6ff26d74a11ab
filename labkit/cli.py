"""The ``labkit`` command line.

Each subcommand lives in the module that owns its capability, as a pair of functions
``add_<name>_arguments(parser)`` and ``run_<name>(args) -> int``; this file lists them by name
(so a search for a function finds its caller here), and imports a module only when its
command runs.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from typing import Callable

from labkit import __version__
from labkit.console import setup_console
from labkit.settings import SettingsError


@dataclass(frozen=True)
class Command:
    """A subcommand: where its two functions live (imported only when the command runs), and its help."""

    module: str
    add_arguments: str  # add_<name>_arguments(parser)
    run: str            # run_<name>(args) -> int
    help: str

    def functions(self) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]:
        mod = importlib.import_module(self.module)
        return getattr(mod, self.add_arguments, lambda _p: None), getattr(mod, self.run)


COMMANDS: dict[str, Command] = {
    "status": Command("labkit.status", "add_status_arguments", "run_status",
                      "show the backend, the redacted keys, and whether the API answers"),
    "fakestripe": Command("labkit.fakestripe.cli", "add_fakestripe_arguments", "run_fakestripe",
                          "run the offline fake Stripe in the foreground"),
    "checkout": Command("labkit.checkout", "add_checkout_arguments", "run_checkout",
                        "serve your checkout_server.py (port 5000)"),
    "webhooks": Command("labkit.webhooks.standalone", "add_webhooks_arguments", "run_webhooks",
                        "serve your webhook_handler.py (port 5001)"),
    "trigger": Command("labkit.webhooks.trigger", "add_trigger_arguments", "run_trigger",
                       "produce a real event through the API, like `stripe trigger`"),
    "pci": Command("labkit.pci.cli", "add_pci_arguments", "run_pci",
                   "run the PCI SAQ A evidence checks and write pci_assessment.md"),
    "demo": Command("labkit.demo", "add_demo_arguments", "run_demo",
                    "run the whole lab offline with the model solution (out/demo/)"),
    "export": Command("labkit.export", "add_export_arguments", "run_export",
                      "make the submission PDF and deliverables from your executed notebooks"),
    "check": Command("labkit.checks.cli", "add_check_arguments", "run_check",
                     "check your own code and answers: each rubric item, with feedback"),
    "release": Command("labkit.release", "add_release_arguments", "run_release",
                       "build the student edition (solutions replaced by starters) into a folder"),
    "grade": Command("labkit.grading.cli", "add_grade_arguments", "run_grade",
                     "grade a class folder of submissions into one table (re-runs each student's code)"),
    "autograder": Command("labkit.autograder.bundle", "add_autograder_arguments", "run_autograder",
                          "write the autograder zip for a course platform (gradescope)"),
    "classroom-check": Command("labkit.autograder.classroom", "add_classroom_check_arguments", "run_classroom_check",
                               "GitHub Classroom: exit 0 only when one rubric check passes (runs its part once)"),
}


# The instructor's commands: the student edition neither lists nor runs them.
INSTRUCTOR_ONLY = ("demo", "release", "grade")


def _student_edition() -> bool:
    from labkit.release import edition

    return edition() == "student"


def commands() -> dict[str, Command]:
    """The subcommands of this edition."""
    if _student_edition():
        return {k: v for k, v in COMMANDS.items() if k not in INSTRUCTOR_ONLY}
    return COMMANDS


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="Stripe payments lab kit")
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in commands().items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        if only is None or name == only:
            command.functions()[0](p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    setup_console()  # a cp1252 pipe or log file must not stop the output at the first ✓
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in INSTRUCTOR_ONLY and _student_edition():
        print(f"labkit {command}: an instructor's command, not part of the student edition. Run the notebooks "
              "(python3 run.py lab), then `labkit check` and `labkit export` (see README.md).", file=sys.stderr)
        return 2
    if command not in COMMANDS:
        build_parser(only="").print_help() if command is None else build_parser(only="").parse_args(argv)
        return 2 if command is None else 0
    args = build_parser(only=command).parse_args(argv)
    run = COMMANDS[command].functions()[1]
    try:
        return int(run(args) or 0)
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
