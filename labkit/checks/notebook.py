"""The check cell at the end of each notebook: the checks of one part, with feedback."""
from __future__ import annotations

from typing import Any

from pathlib import Path

from labkit.checks.report import format_items, write_json
from labkit.checks.run import run_checks
from labkit.runproof import stamp


NEEDS_LAB = ("B", "C")  # the parts checked against the servers the notebook's Lab.start() runs


def check_part(part: str, lab: Any = None, settings: Any = None) -> list:
    """Run the checks of ``part`` (A–E) against this notebook's running lab and print the feedback.

    ``lab`` defaults to the one the notebook's ``Lab.start()`` started (:func:`labkit.lab.current`); after
    a kernel restart there is none, and the check says, in one line, to run the notebook from the top."""
    from labkit.backend import notebook_messages
    from labkit.lab import RunFromTheTop, current
    from labkit.settings import load_settings

    notebook_messages()
    part = part.upper()
    if lab is None and part in NEEDS_LAB:
        lab = current()
        if lab is None:
            raise RunFromTheTop(f"the check of Part {part} runs against the servers that Lab.start() started "
                                "near the top of this notebook, and this kernel has none (was it restarted?)")
    if lab is not None and hasattr(lab, "check_open"):
        lab.check_open()
    settings = settings or (lab.settings if lab is not None else load_settings())
    shots = settings.check_screenshots_dir if settings is not None else None
    items = run_checks(None, settings, parts=[part], lab=lab, screenshots=shots)
    print(format_items(items))
    write_json(items, saved_checks_path(settings, part))  # for the grader's page of the PDF
    stamp(part, settings)  # the run proof `labkit export` checks
    _say_when_answers_change(part)
    return items


ANSWER_FILES = {"D": "pci.json", "E": "part_e.md"}  # the answers a part's check reads (labkit.answers)


def stale_line(name: str) -> str:
    return f"answers/{name} changed after this check ran: re-run this cell to check your answers again."


def _say_when_answers_change(part: str) -> None:
    """In a notebook: under the check of a part that reads answers, a line that appears when an answer is
    saved afterwards (notebook 04's widgets save at once), so a 0/2 shown above is not taken as final."""
    from labkit import answers
    from labkit.lab import _in_notebook

    if part not in ANSWER_FILES or not _in_notebook():
        return
    from IPython.display import display

    handle = display({"text/plain": ""}, raw=True, display_id=True)

    def changed(name: str) -> None:
        if name == ANSWER_FILES[part]:
            line = stale_line(name)
            handle.update({"text/plain": line, "text/html": f"<p><b>{line}</b></p>"}, raw=True)

    answers.on_save(f"check:{part}", changed)


def saved_checks_path(settings: Any, part: str) -> Path:
    return settings.checks_dir / f"part_{part.upper()}.json"


def saved_checks(settings: Any, part: str, since: float = 0.0) -> list | None:
    """The items ``part``'s check cell saved (:func:`check_part`), or None when there are none saved at or
    after ``since`` (epoch seconds) or the file cannot be read."""
    import json

    from labkit.checks.items import Item

    path = saved_checks_path(settings, part)
    try:
        if path.stat().st_mtime < since:
            return None
        return [Item(**row) for row in json.loads(path.read_text(encoding="utf-8"))["items"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
