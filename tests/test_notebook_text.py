"""No notebook text renders as maths in JupyterLab (issue 31).

JupyterLab 4.6 takes ``$…$``, ``$$…$$`` and even a backslash-escaped ``\\$`` in Markdown prose for
TeX ("\\$0.30 … \\$125" showed as "0.30weighsfarmoreherethanona125"). The rule tested here is
stricter than JupyterLab's delimiters: no ``$`` at all in the prose of a Markdown cell (outside
code spans and fenced code blocks); amounts are written ``&#36;`` or in words."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from labkit.markdown_text import DOLLAR_ENTITY, dollars_in_prose, no_math, prose
from labkit.settings import project_root

NOTEBOOKS = sorted((project_root(Path(__file__).parent) / "notebooks").glob("0*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_markdown_cell_has_a_dollar_in_its_prose(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = [(i, line) for i, c in enumerate(cells) if c["cell_type"] == "markdown"
             for line in dollars_in_prose("".join(c["source"]))]
    assert not found, f"{path.name}: write amounts as &#36;15M or in words: {found[:3]}"


def test_the_notebooks_are_there():
    assert len(NOTEBOOKS) == 5


@pytest.mark.parametrize("text", ["fees of \\$0.30 and \\$125", "from $10M to $100M", "$$x^2$$", "only $5",
                                  "a `code` then $ alone"])
def test_dollars_in_prose_finds_every_delimiter_jupyterlab_takes_for_maths(text):
    assert dollars_in_prose(text)


@pytest.mark.parametrize("text", ["run `echo $HOME` first", "```bash\nexport K=$X\n```\nthen go",
                                  "amounts: &#36;0.30 and USD 125", "``a $ b``"])
def test_dollars_in_code_or_as_the_entity_are_not_maths(text):
    assert dollars_in_prose(text) == []


@given(st.text())
def test_no_math_leaves_no_dollar_in_prose_and_keeps_the_rest(text):
    safe = no_math(text)
    assert "$" not in safe
    assert safe.replace(DOLLAR_ENTITY, "$") == text.replace("\\$", "$")
    assert dollars_in_prose(safe) == [] and "$" not in prose(safe)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_cell_ends_by_showing_a_servers_address_as_its_value(path):
    """`links.show(...)` as a cell's last line also printed its return value, 'http://127.0.0.1:…/': an address
    that is dead in the saved notebook and the PDF (the link itself is shown, with what it is for)."""
    import ast

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        body = ast.parse("".join(cell["source"])).body
        last = body[-1] if body else None
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            assert ast.unparse(last.value.func) not in ("links.show", "show_link"), (path.name, i)


def test_notebook_02_says_how_to_reach_and_stop_the_servers_in_whole_sentences():
    cells = json.loads(NOTEBOOKS[1].read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "Stop the servers: On JupyterHub" not in text  # two instructions run together
    assert "On JupyterHub or Binder your browser cannot open `localhost`" in text and "Ctrl-C" in text


def test_empty_answers_say_where_the_handouts_pci_assessment_md_text_goes(tmp_path):
    """Following the handout, a student writes pci_assessment.md; the kit reads answers/: the hint says so."""
    from labkit.checks.run import writing_items
    from labkit.settings import Settings

    (tmp_path / "answers").mkdir()
    items = {i.check: i for i in writing_items(Settings(answers_dir=tmp_path / "answers", out_dir=tmp_path),
                                               {"D", "E"})}
    for check, where in (("altpay:words", "answers/part_e.md"), ("pci:answered", "answers/pci.json")):
        assert items[check].status == "missing"
        assert "pci_assessment.md" in items[check].hint and where in items[check].hint, items[check].hint
