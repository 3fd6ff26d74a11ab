"""A notebook as printable HTML: outputs cleaned for paper, narration and kit code folded away.

Cleaning (always): widgets are dropped (the static fallback cell after each one prints
instead), bare object reprs (``<Figure size …>``, ``VBox(children=…)``) are dropped, a pandas
Series printed as text becomes a small table (no ``Name: …, dtype: int64``), and a caption
followed by its screenshots becomes one figure that never splits over two pages.

Folding (unless ``full``): Markdown cells keep their headings only, code cells keep their
outputs only (the grader reads the student's own code in its own section); headings with
nothing under them go; the rubric self-check cell goes (page 1 holds the whole rubric); the
screenshots print once, in the evidence pages; cells tagged ``labkit-fold`` (kit data that
is the same for every student, or output the PDF prints elsewhere) go; tables longer than
``MAX_ROWS`` + 2 rows and text longer than ``MAX_LINES`` + 3 lines print their start and say
how much is left out.

Several notebooks print as one page (:func:`notebooks_html`), one after the other.
"""
from __future__ import annotations

import copy
import html
import logging
import re
from pathlib import Path
from typing import Sequence

from labkit.export.style import PRINT_CSS, with_style
from labkit.runproof import LINE

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Bare object reprs: <Figure size …>, [<matplotlib.lines.Line2D at 0x…>], Text(0.5, 1.0, '…'), VBox(children=…)
_REPR = re.compile(r"^\s*(\[?(<[^<>\n]*>,?\s*)+\]?|Text\(-?[\d.]+, -?[\d.]+, .*\)"
                   r"|[A-Z]\w*\((children|value|description|layout)=.*\))\s*$", re.S)
_DTYPE = re.compile(r"^(Name: (?P<name>.*), )?(Length: \d+, )?dtype: \w+$")
_SHOT = "<figure class='shot'>"
_BODY = re.compile(r"<body\b[^>]*>(.*)</body>", re.S | re.I)
FOLD_TAG = "labkit-fold"  # a cell so tagged prints only with --full: kit data (the same for every student)
# or what the PDF already prints elsewhere (the browser runs and the payments chart are in the evidence pages)
MAX_ROWS = 10  # folded: longer tables print their first rows only,
MAX_LINES = 24  # and longer printed text its first lines
_IMAGES = ("image/png", "image/jpeg", "image/svg+xml")
FOLDED_NOTE = ("<p class='folded'>Narration and the kit's code are folded away: only headings and "
               "outputs are printed (<code>labkit export --full</code> prints everything).</p>")


def notebook_title(nb, fallback: str) -> str:
    """The first Markdown heading of the notebook, else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if m:
                return re.sub(r"[*_`]", "", m.group(1)).strip() or fallback
    return fallback


# ------------------------------------------------------------------ outputs

def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def series_table(text: str) -> str | None:
    """A pandas Series' text repr as an HTML table, or None if ``text`` is not one."""
    lines = [ln for ln in text.rstrip("\n").splitlines() if ln.strip()]
    if len(lines) < 2 or not (m := _DTYPE.match(lines[-1].strip())):
        return None
    body, index_name = lines[:-1], ""
    if len(body[0].split()) == 1 and all(len(ln.split()) >= 2 for ln in body[1:]):
        index_name, body = body[0].strip(), body[1:]
    rows = [ln.rsplit(None, 1) for ln in body]
    if not rows or any(len(r) != 2 for r in rows):
        return None
    e = html.escape
    head = f"<tr><th>{e(index_name)}</th><th>{e(m.group('name') or '')}</th></tr>"
    cells = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return f"<table class='dataframe'><thead>{head}</thead><tbody>{cells}</tbody></table>"


def _clean_output(out) -> object | None:
    """The output as it should print, or None to drop it."""
    data = out.get("data")
    if not data:
        return out
    if _WIDGET_VIEW in data:
        return None  # the static fallback that follows prints instead
    if set(data) == {"text/plain"}:
        text = _text(data["text/plain"])
        if _REPR.match(text) or not text.strip():  # blank: a check's "re-run this cell" line, never needed
            return None
        table = series_table(text)
        if table:
            del data["text/plain"]
            data["text/html"] = table
    return out


def shorten_table(html_text: str, keep: int = MAX_ROWS) -> str:
    """A DataFrame's HTML with at most ``keep`` body rows, and a row saying how many were left out."""
    def cut(m: re.Match) -> str:
        rows = re.findall(r"<tr\b.*?</tr>", m.group(2), flags=re.S)
        if len(rows) <= keep + 2:
            return m.group(0)
        width = len(re.findall(r"<t[dh]\b", rows[0]))
        more = (f"<tr class='more'><td colspan='{width}'>… and {len(rows) - keep} more rows "
                "(<code>labkit export --full</code> prints them all)</td></tr>")
        return m.group(1) + "".join(rows[:keep]) + more + m.group(3)

    return re.sub(r"(<tbody>)(.*?)(</tbody>)", cut, html_text, flags=re.S)


def _caption_html(markdown: str) -> str:
    text = html.escape(markdown.strip())
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)


def _figures(outputs: list) -> list:
    """A Markdown caption and the images right after it become one unsplittable figure."""
    merged, i = [], 0
    while i < len(outputs):
        out = outputs[i]
        data = out.get("data") or {}
        images = []
        j = i + 1
        if "text/markdown" in data and not any(k in data for k in _IMAGES):
            while j < len(outputs) and "image/png" in (outputs[j].get("data") or {}):
                images.append(_text(outputs[j]["data"]["image/png"]).replace("\n", ""))
                j += 1
        if not images:
            merged.append(out)
            i += 1
            continue
        imgs = "".join(f"<img src='data:image/png;base64,{b}' alt='screenshot'>" for b in images)
        figure = (f"{_SHOT}<figcaption>{_caption_html(_text(data['text/markdown']))}</figcaption>"
                  f"{imgs}</figure>")
        merged.append({"output_type": "display_data", "metadata": {}, "data": {"text/html": figure}})
        i = j
    return merged


def _shortened(out):
    if out.get("output_type") == "stream":
        lines = _text(out.get("text")).splitlines()
        if len(lines) > MAX_LINES + 3:
            keep = lines[:MAX_LINES] + [f"… and {len(lines) - MAX_LINES} more lines (labkit export --full prints them all)"]
            out["text"] = "\n".join(keep) + "\n"
        return out
    data = out.get("data") or {}
    if "text/html" in data and "<table" in _text(data["text/html"]):
        data["text/html"] = shorten_table(_text(data["text/html"]))
    return out


def _without_self_check(cells: list) -> list:
    """Drop the check cell (the one printing the run proof) and its heading:
    the grader's page holds the whole rubric."""
    def is_check(cell) -> bool:
        return cell.cell_type == "code" and any(
            LINE.search(_text(o.get("text")) or _text((o.get("data") or {}).get("text/plain")))
            for o in cell.get("outputs", []))

    drop = set()
    for i, cell in enumerate(cells):
        if is_check(cell):
            drop.add(i)
            if i and cells[i - 1].cell_type == "markdown" and \
                    cells[i - 1].source.lower().startswith(("## check", "## rubric self-check")):
                drop.add(i - 1)
    return [c for i, c in enumerate(cells) if i not in drop]


def printable(nb, full: bool = False):
    """A cleaned copy of ``nb`` for printing (see the module's docstring)."""
    from labkit.nbformat_import import nbformat

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells if full else _without_self_check(nb.cells):
        if not full and FOLD_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            outs = [o for o in (_clean_output(o) for o in cell.get("outputs", [])) if o is not None]
            outs = _figures(outs)
            if not full:  # the screenshots print once, with their captions, in the evidence pages
                outs = [_shortened(o) for o in outs
                        if not _text((o.get("data") or {}).get("text/html")).startswith(_SHOT)]
            cell.outputs = [nbformat.from_dict(o) for o in outs]
            if not full and not cell.outputs:
                continue
        elif cell.cell_type == "markdown" and not full:
            heads = [ln for ln in cell.source.splitlines() if re.match(r"^\s{0,3}#{1,6}\s", ln)]
            if not heads:
                continue
            cell.source = "\n\n".join(heads)
        elif cell.cell_type == "raw" and not full:
            continue
        cells.append(cell)
    nb.cells = cells if full else _without_empty_headings(cells)
    return nb


def _level(cell) -> int:
    m = re.match(r"^\s{0,3}(#{1,6})\s", cell.source) if cell.cell_type == "markdown" else None
    return len(m.group(1)) if m else 0


def _without_empty_headings(cells: list) -> list:
    """Folded: a heading with nothing printed under it (before the next heading of its level) goes."""
    kept: list = []
    for cell in reversed(cells):
        level = _level(cell)
        if level > 1:
            nxt = next((c for c in reversed(kept)), None)
            if nxt is None or 0 < _level(nxt) <= level:
                continue
        kept.append(cell)
    return kept[::-1]


# ------------------------------------------------------------------ HTML

def html_exporter(full: bool = True):
    """nbconvert's lab-template HTML exporter, images embedded; without ``full``, no code inputs."""
    from nbconvert import HTMLExporter

    quiet = logging.getLogger("labkit.export.nbconvert")  # not the "missing alt text" warning per image
    quiet.setLevel(logging.ERROR)
    return HTMLExporter(template_name="lab", embed_images=True, log=quiet, exclude_input=not full,
                        exclude_input_prompt=not full, exclude_output_prompt=not full)


def notebook_html(nb, base_dir: Path, exporter=None, full: bool = True) -> str:
    """Self-contained printable HTML: outputs cleaned, images embedded, scripts removed, print CSS added.

    ``base_dir`` is the notebook's folder, for Markdown images with relative paths.
    """
    return notebooks_html([(nb, base_dir)], exporter, full)


def notebooks_html(notebooks: Sequence[tuple[object, Path]], exporter=None, full: bool = True) -> str:
    """:func:`notebook_html` for several notebooks ``(nb, its folder)`` one after the other in one page:
    each starts under a rule, not on a new page (the PDF's bookmarks find their pages by their titles)."""
    exporter = exporter or html_exporter(full)
    docs = []
    for nb, base_dir in notebooks:
        doc, _ = exporter.from_notebook_node(printable(nb, full), resources={"metadata": {"path": str(base_dir)}})
        docs.append(re.sub(r"<script\b[^>]*>.*?</script>", "", doc, flags=re.S | re.I))
    if not docs:
        raise ValueError("no notebooks to print")
    # one page: the first notebook's head (nbconvert's styles, the same for all), every notebook's body
    bodies = [m.group(1) if (m := _BODY.search(d)) else d for d in docs]
    joined = "".join(f"<div class='labkit-notebook'>{b}</div>" for b in bodies)
    shell = _BODY.search(docs[0])
    page = docs[0][:shell.start(1)] + joined + docs[0][shell.end(1):] if shell else joined
    page = with_style(page, PRINT_CSS)
    if not full:  # said once, under the first title
        page = re.sub(r"(<h1\b.*?</h1>)", lambda m: m.group(1) + FOLDED_NOTE, page, count=1, flags=re.S)
    return page
