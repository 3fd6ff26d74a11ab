"""The notebook's SAQ A checklist: Yes / No / N/A and a note for each item, pre-filled from the evidence.

>>> ui = Checklist(evidence)
>>> ui.widget()            # answer in the notebook
>>> ui.write()             # pci_assessment.md with these answers (Part E kept)

``ui.answers`` always holds the current answers, so the cells after the widget (and the
static fallback for the PDF) use them without the widget's JavaScript.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

from labkit.pci.run import Evidence
from labkit.pci.report import Answer, prefill, write_assessment
from labkit.pci.requirements import ANSWERS, SAQ, load_saq

UNANSWERED = "—"


class Checklist:
    """Answers for every requirement and eligibility criterion, and the widgets that edit them."""

    def __init__(self, evidence: Evidence | None = None, saq: SAQ | None = None,
                 answers: Mapping[str, Answer] | None = None, path: str | Path | None = None,
                 date: str | None = None) -> None:
        self.saq = saq or load_saq()
        self.evidence = evidence
        self.answers: dict[str, Answer] = {**prefill(self.saq, evidence), **(answers or {})}
        self.path = path
        self.date = date

    def set(self, key: str, value: str | None, note: str | None = None) -> None:
        old = self.answers.get(key, Answer())
        self.answers[key] = Answer(value, old.note if note is None else note, "student")

    def write(self, path: str | Path | None = None) -> Path:
        return write_assessment(path or self.path, self.saq, self.evidence, self.answers, date=self.date)

    # ------------------------------------------------------------------ widgets
    def _row(self, key: str, label: str, hint: str):
        import ipywidgets as w

        a = self.answers.get(key, Answer())
        toggle = w.ToggleButtons(options=[*ANSWERS, UNANSWERED], value=a.value or UNANSWERED,
                                 layout=w.Layout(width="auto"), style={"button_width": "52px"})
        note = w.Text(value=a.note, placeholder="notes / evidence", layout=w.Layout(width="auto", flex="1"))
        title = w.HTML(f"<b>{html.escape(label)}</b><br><span style='color:#555'>{html.escape(hint)}</span>",
                       layout=w.Layout(width="42%"))

        def changed(_change: Any = None) -> None:
            self.set(key, None if toggle.value == UNANSWERED else toggle.value, note.value)

        toggle.observe(changed, names="value")
        note.observe(changed, names="value")
        return w.HBox([title, toggle, note], layout=w.Layout(align_items="center", border_bottom="1px solid #eee"))

    def widget(self):
        """The checklist: eligibility first, then the requirements by group, and a button that writes the file."""
        import ipywidgets as w

        rows: list[Any] = [w.HTML("<h4>Eligibility for SAQ A</h4>")]
        for c in self.saq.eligibility:
            rows.append(self._row(f"eligibility:{c.id}", c.plain, c.question or "checked by the evidence"))
        group = None
        for r in self.saq.requirements:
            if r.group != group:
                group = r.group
                rows.append(w.HTML(f"<h4>Requirement {html.escape(group)}</h4>"))
            handout = f" (handout {r.handout})" if r.handout else ""
            rows.append(self._row(r.number, f"{r.number}{handout} {r.title}", r.question or r.plain))
        button = w.Button(description="Write pci_assessment.md", button_style="primary", icon="save",
                          layout=w.Layout(width="auto"))
        status = w.HTML()

        def write(_b: Any) -> None:
            path = self.write()
            status.value = f"wrote <code>{html.escape(path.name)}</code>"

        button.on_click(write)
        return w.VBox([*rows, w.HBox([button, status])])
