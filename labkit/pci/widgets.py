"""The notebook's SAQ A checklist: Yes / No / N/A and a note for each item, the gaps and the
remediation plan, every change saved at once to ``answers/pci.json``.

>>> ui = Checklist(evidence)
>>> ui                     # the widget in JupyterLab; a readable table where widgets cannot render
>>> ui.table()             # the static fallback, redrawn from the saved answers
>>> ui.write()             # pci_assessment.md with these answers (Part E kept)

The widgets are pre-filled from the answers file on every run, so re-running the notebook never
loses an answer; what the evidence suggests is shown beside each item and taken only when the
student presses "Take the suggested answers" (or calls :meth:`Checklist.accept_suggestions`).
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from labkit.pci import student_answers as saved
from labkit.pci.report import prefill, write_assessment
from labkit.pci.requirements import ANSWERS, SAQ, load_saq
from labkit.pci.run import Evidence
from labkit.pci.student_answers import Answer
from labkit.settings import Settings, load_settings, shown_path

UNANSWERED = "—"


class Checklist:
    """The student's answers for every requirement and eligibility criterion, and the widgets that edit them."""

    def __init__(self, evidence: Evidence | None = None, saq: SAQ | None = None, path: str | Path | None = None,
                 date: str | None = None, settings: Settings | None = None) -> None:
        self.saq = saq or load_saq()
        self.evidence = evidence
        self.settings = settings or load_settings()
        self.suggested = prefill(self.saq, evidence)
        self.path = path
        self.date = date
        self._controls: dict[str, tuple[Any, Any]] = {}  # key -> (toggle, note) of the widget shown last
        self._syncing = False
        self.reload()

    def reload(self) -> None:
        """Read the answers file again (after editing it by hand, say)."""
        data = saved.load(self.settings)
        self.answers: dict[str, Answer] = data.answers
        self.gaps, self.remediation = data.gaps, data.remediation

    def set(self, key: str, value: str | None, note: str | None = None) -> None:
        """Answer one item (``value``: Yes / No / N/A, or None) and save it."""
        self.answers[key] = saved.save_answer(key, value, note, settings=self.settings)

    def set_text(self, name: str, text: str) -> None:
        """Write the ``"gaps"`` or the ``"remediation"`` plan and save it."""
        saved.save_text(name, text, self.settings)
        setattr(self, name, text)

    def accept_suggestions(self) -> list[str]:
        """Take what the evidence suggests for every item not answered yet; returns the items taken."""
        taken = saved.accept(self.suggested, self.settings)
        self.reload()
        return taken

    def write(self, path: str | Path | None = None) -> Path:
        return write_assessment(path or self.path, self.saq, self.evidence, settings=self.settings, date=self.date)

    # ------------------------------------------------------------------ static view
    def rows(self) -> list[dict[str, str]]:
        """One row per item: the saved answer and note, or what the evidence suggests."""
        items = [(f"eligibility:{c.id}", f"Eligibility: {c.plain}") for c in self.saq.eligibility]
        items += [(r.number, f"{r.number} {r.title}") for r in self.saq.requirements]
        out = []
        for key, label in items:
            a, s = self.answers.get(key, Answer()), self.suggested.get(key, Answer())
            out.append({"item": label, "answer": a.value or "not answered",
                        "note": a.note or (f"(suggested: {s.value})" if s.value else "")})
        return out

    def table(self) -> StaticChecklist:
        """The answers as they are saved: a table for the PDF, nbval and a closed kernel."""
        self.reload()
        return StaticChecklist(self.rows(), self.gaps, self.remediation)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = dict(self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {})
        static = self.table()
        bundle["text/plain"] = repr(static)
        bundle["text/html"] = static._repr_html_()
        return bundle

    # ------------------------------------------------------------------ widgets
    def _row(self, key: str, label: str, hint: str):
        import ipywidgets as w

        a, s = self.answers.get(key, Answer()), self.suggested.get(key, Answer())
        toggle = w.ToggleButtons(options=[*ANSWERS, UNANSWERED], value=a.value or UNANSWERED,
                                 layout=w.Layout(width="auto"), style={"button_width": "52px"})
        note = w.Text(value=a.note, placeholder="notes / evidence (for N/A: why)", continuous_update=False,
                      layout=w.Layout(width="auto", flex="1"))
        suggestion = f"<br><i>suggested: {html.escape(s.value)}</i>" if s.value else ""
        title = w.HTML(f"<b>{html.escape(label)}</b><br><span style='color:#555'>{html.escape(hint)}</span>"
                       + suggestion, layout=w.Layout(width="42%"))

        def changed(_change: Any = None) -> None:
            if not self._syncing:
                self.set(key, None if toggle.value == UNANSWERED else toggle.value, note.value)

        toggle.observe(changed, names="value")
        note.observe(changed, names="value")
        self._controls[key] = (toggle, note)
        return w.HBox([title, toggle, note], layout=w.Layout(align_items="center", border_bottom="1px solid #eee"))

    def _text_area(self, name: str, title: str):
        import ipywidgets as w

        area = w.Textarea(value=getattr(self, name), placeholder=saved.PLACEHOLDERS[name], continuous_update=False,
                          layout=w.Layout(width="100%", height="140px"))
        area.observe(lambda change: self.set_text(name, change["new"]), names="value")
        return w.VBox([w.HTML(f"<h4>{html.escape(title)}</h4>"), area])

    def _rows(self) -> list[Any]:
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
        return rows

    def _show_saved(self, keys: list[str]) -> None:
        """Put the saved answers of ``keys`` into the widgets on screen, without saving again."""
        self._syncing = True
        try:
            for key in keys:
                if key in self._controls:
                    toggle, note = self._controls[key]
                    a = self.answers.get(key, Answer())
                    toggle.value, note.value = a.value or UNANSWERED, a.note
        finally:
            self._syncing = False

    def widget(self):
        """The checklist (every change saved at once), the gaps and remediation boxes, and two buttons."""
        import ipywidgets as w

        where = shown_path(self.settings.answers_dir / saved.PCI_FILE)
        status = w.HTML(f"every change is saved in <code>{html.escape(where)}</code>")
        take = w.Button(description="Take the suggested answers", icon="check", layout=w.Layout(width="auto"))
        write = w.Button(description="Write pci_assessment.md", button_style="primary", icon="save",
                         layout=w.Layout(width="auto"))

        def on_take(_b: Any) -> None:
            taken = self.accept_suggestions()
            self._show_saved(taken)
            status.value = f"took {len(taken)} suggested answer(s): check them"

        def on_write(_b: Any) -> None:
            status.value = f"wrote <code>{html.escape(self.write().name)}</code>"

        take.on_click(on_take)
        write.on_click(on_write)
        texts = [self._text_area("gaps", "Gaps identified (your own words)"),
                 self._text_area("remediation", "Remediation plan (your own words)")]
        return w.VBox([*self._rows(), *texts, w.HBox([take, write, status])])


class StaticChecklist:
    """The saved answers as a table (HTML in notebooks and the PDF, plain text elsewhere)."""

    def __init__(self, rows: list[dict[str, str]], gaps: str, remediation: str) -> None:
        self.rows, self.gaps, self.remediation = rows, gaps, remediation

    def counts(self) -> str:
        done = sum(r["answer"] != "not answered" for r in self.rows)
        return f"{done} of {len(self.rows)} items answered"

    def _repr_html_(self) -> str:
        e = html.escape
        body = "".join(f"<tr><td>{e(r['item'])}</td><td><b>{e(r['answer'])}</b></td><td>{e(r['note'])}</td></tr>"
                       for r in self.rows)
        texts = "".join(f"<p><b>{title}</b></p><p style='white-space:pre-wrap'>{e(text) or '<i>not written yet</i>'}</p>"
                        for title, text in (("Gaps identified", self.gaps), ("Remediation plan", self.remediation)))
        return (f"<p>SAQ A checklist: {e(self.counts())}</p><table class='labkit-checklist'><thead><tr>"
                f"<th>Item</th><th>Answer</th><th>Note</th></tr></thead><tbody>{body}</tbody></table>{texts}")

    def __repr__(self) -> str:
        lines = [f"SAQ A checklist: {self.counts()}"]
        lines += [f"  {r['answer']:<12} {r['item']}" + (f" — {r['note']}" if r["note"] else "") for r in self.rows]
        for title, text in (("Gaps identified", self.gaps), ("Remediation plan", self.remediation)):
            lines += ["", f"{title}:", "  " + (" ".join(text.split()) or "not written yet")]
        return "\n".join(lines)
