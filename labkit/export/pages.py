"""The PDF's own pages after the grader's: the student's code and text, then the evidence.

Everything here is built from files already read and leak-redacted in memory
(:mod:`labkit.export.deliverables`), except the images, which carry no text.
"""
from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Mapping

from labkit.answers import PART_E_FILE, PCI_FILE, strip_comments
from labkit.browser import thumbnail
from labkit.export.style import FRONT_CSS, with_style
from labkit.pci.requirements import load_saq
from labkit.runproof import ASSET_DIRS, SERVERS
from labkit.settings import Settings

STATUS_WORDS = {"yes": "Yes", "no": "No", "n/a": "N/A", "": "(not answered)"}


def _page(title: str, body: str) -> str:
    return with_style(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                      f"</head><body>{body}</body></html>", FRONT_CSS)


def markdown_html(text: str) -> str:
    """Markdown to HTML, raw HTML in it shown as text (a student's file is not trusted markup).

    Images are left out (their alt text stays): printing must not fetch anything from the network.
    """
    import mistune

    rendered = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])(text)
    rendered = re.sub(r"<img\b[^>]*\balt=\"([^\"]*)\"[^>]*>", r"[image: \1]", rendered)
    return re.sub(r"<img\b[^>]*>", "[image]", rendered)


def code_block(name: str, text: str) -> str:
    """The file with its line numbers, compact: a run of blank lines prints as a small gap (the numbers
    skip it), and a long line wraps under its own start, not under the numbers."""
    e = html.escape
    lines = text.splitlines()
    width = len(str(len(lines)))
    out, gap = [], False
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            gap = bool(out)
            continue
        out.append(f"<span class='l{' gap' if gap else ''}'><span class='ln'>{i:>{width}}</span>  {e(line)}</span>")
        gap = False
    body = "".join(out) or "(empty file)"
    return f"<h3>{e(name)}</h3><pre class='code' style='--ln: {width + 2}ch'>{body}</pre>"


def _requirement_titles() -> dict[str, str]:
    try:
        saq = load_saq()
        return {**{f"eligibility:{c.id}": c.plain for c in saq.eligibility},
                **{r.number: r.title for r in saq.requirements}}
    except Exception:  # the table still prints, with numbers only
        return {}


def _answer_row(number: str, answer: Mapping, title: str) -> str:
    e = html.escape
    status = str(answer.get("status", ""))
    title = f"<em class='req'>{e(title.rstrip('.'))}.</em> " if title else ""
    return (f"<tr><td>{e(number).replace(':', ':<wbr>').replace('_', '_<wbr>')}</td>"
            f"<td>{e(STATUS_WORDS.get(status.lower(), status))}</td>"
            f"<td>{title}{e(str(answer.get('note', '')))}</td></tr>")


def pci_answers_html(raw: str) -> str:
    """answers/pci.json as a table (requirement, answer, the requirement's title and the student's note),
    then the gaps and the plan."""
    try:
        data = json.loads(raw)
    except ValueError:
        return "<p class='missing'>answers/pci.json is not valid JSON: it is printed as it is.</p>" + \
               code_block("answers/pci.json", raw)
    titles = _requirement_titles()
    reqs = data.get("requirements") if isinstance(data, dict) else None
    reqs = reqs if isinstance(reqs, dict) else {}

    def key(n: str) -> tuple:
        return tuple(int(p) if p.isdigit() else 0 for p in n.split("."))

    rows = "".join(_answer_row(n, a, titles.get(n, ""))
                   for n, a in sorted(reqs.items(), key=lambda kv: key(kv[0])) if isinstance(a, dict))
    table = ("<table class='grid'><colgroup><col style='width:11%'><col style='width:7%'><col style='width:82%'>"
             "</colgroup><thead><tr><th>Req.</th><th>Answer</th><th>Requirement (in italics) and your note</th>"
             f"</tr></thead><tbody>{rows}</tbody></table>") if rows else \
        "<p class='missing'>No requirement answered yet.</p>"
    texts = "".join(f"<h3>{label}</h3><div class='answer'>{markdown_html(str(data.get(k) or '(empty)'))}</div>"
                    for k, label in (("gaps", "Gaps identified"), ("remediation", "Remediation plan")))
    return table + texts


def student_html(texts: Mapping[str, str]) -> str:
    """The student's own code and answers (``texts``: name in the submission → redacted text)."""
    parts = ["<h1>Your code and answers</h1>"]
    # the servers and the page's template and script; stylesheets stay in the folder, not in the PDF
    code = [n for n in texts if n in SERVERS or (n.split("/", 1)[0] in ASSET_DIRS and not n.endswith(".css"))]
    for name in sorted(code, key=lambda n: (n not in SERVERS, n)):
        parts.append(code_block(name, texts[name]))
    if not code:
        parts.append("<p class='missing'>Neither checkout_server.py nor webhook_handler.py was found.</p>")
    pci, part_e = texts.get(f"answers/{PCI_FILE}"), texts.get(f"answers/{PART_E_FILE}")
    parts.append("<h2>Part D: your PCI SAQ A answers (answers/pci.json)</h2>")
    parts.append(pci_answers_html(pci) if pci is not None else "<p class='missing'>answers/pci.json not found.</p>")
    parts.append("<h2>Part E: your analysis (answers/part_e.md)</h2>")
    essay = strip_comments(part_e) if part_e is not None else ""
    parts.append(f"<div class='answer'>{markdown_html(essay)}</div>" if essay.strip()
                 else "<p class='missing'>answers/part_e.md not found or empty.</p>")
    return _page("Your code and answers", "".join(parts))


# ------------------------------------------------------------------ evidence

def _img(data: bytes, alt: str) -> str:
    return f"<img src='data:image/png;base64,{base64.b64encode(data).decode()}' alt='{html.escape(alt)}'>"


def _thumb(path: Path, width: int = 760) -> bytes | None:
    try:
        return thumbnail(path, width)
    except Exception:
        return None


def screenshots_html(settings: Settings) -> str:
    path = settings.browser_runs_path
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "<p class='missing'>No browser runs recorded (run notebooks/02_checkout.ipynb).</p>"
    out = []
    for run in runs if isinstance(runs, list) else []:
        shots = [Path(p) for p in (run.get("challenge_screenshot"), run.get("screenshot")) if p]
        imgs = "".join(_img(d, run.get("scenario", "")) for d in (_thumb(p) for p in shots if p.is_file()) if d)
        caption = (f"<strong>{html.escape(str(run.get('title', '')))}</strong>: "
                   f"{html.escape(str(run.get('message', '')))}")
        out.append(f"<figure class='shot'><figcaption>{caption}</figcaption>"
                   f"{imgs or '<p class=missing>(screenshot missing)</p>'}</figure>")
    return "".join(out)


def _chart(path: Path, caption: str) -> str:
    data = _thumb(path, 900)
    if data is None:
        return f"<p class='missing'>{html.escape(path.name)} not found.</p>"
    return f"<figure class='shot chart'><figcaption>{html.escape(caption)}</figcaption>{_img(data, path.stem)}</figure>"


def assessment_excerpt(text: str, checklist: bool = True, part_e: bool = True) -> str:
    """From pci_assessment.md: the checklist table with the gaps and plan, and Part E (as asked)."""
    lines = text.splitlines()
    keep: list[str] = []
    start = next((i for i, ln in enumerate(lines) if ln.startswith("## SAQ A Requirements Checklist")), None)
    if checklist and start is not None:
        keep.append("### SAQ A requirements checklist")
        for ln in lines[start + 1:]:
            if ln.startswith("## ") or (keep[-1].startswith("|") and not ln.startswith("|")):
                break
            keep.append(ln)
        keep.append("")
    gaps = re.search(r"\*\*Gaps identified:\*\*.*?(?=\n## |\n<!-- labkit:part-d:end|\Z)", text, re.S)
    if checklist and gaps:
        keep += ["### Gaps and remediation", gaps.group(0), ""]
    essay = re.search(r"<!-- labkit:part-e:start -->(.*?)<!-- labkit:part-e:end -->", text, re.S)
    if part_e and essay and essay.group(1).strip():
        keep += [re.sub(r"^## ", "### ", essay.group(1).strip(), flags=re.M)]
    return "\n".join(keep)


def _assessment_html(texts: Mapping[str, str]) -> str:
    """What pci_assessment.md adds to the student's answer files (nothing printed twice)."""
    assessment = texts.get("pci_assessment.md")
    checklist = f"answers/{PCI_FILE}" not in texts
    part_e = not strip_comments(texts.get(f"answers/{PART_E_FILE}", "")).strip()
    if not (checklist or part_e):
        return ""
    heading = "<h2>From pci_assessment.md (the whole file is beside this PDF)</h2>"
    if not assessment:
        return heading + "<p class='missing'>pci_assessment.md not found (run notebooks/04_pci.ipynb).</p>"
    return heading + markdown_html(assessment_excerpt(assessment, checklist, part_e))


def evidence_html(settings: Settings, texts: Mapping[str, str]) -> str:
    charts = settings.charts_dir
    parts = ["<h1>Evidence</h1><h2>Part B: the test cards in a real browser</h2>",
             f"<div class='shots'>{screenshots_html(settings)}</div>",
             "<h2>Part B: the payments, read through the API</h2>",
             _chart(charts / "payments.png", "The lab's payments by outcome (stands in for the Dashboard's Payments page)")]
    parts.append(_assessment_html(texts))
    others = sorted(p for p in charts.glob("*.png") if p.name != "payments.png") if charts.is_dir() else []
    if others:
        parts.append("<h2>Part E: charts</h2>")
        parts += [_chart(p, p.stem.replace("_", " ")) for p in others]
    return _page("Evidence", "".join(parts))
