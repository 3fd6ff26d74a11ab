"""What a student sees in a notebook when their own code fails, or a cell runs without the cells
above it (issue 31): one line saying what, where (file and line) and what to do, the traceback
folded below it; a check cell after a kernel restart says to run the notebook from the top; a
second ``Lab.start()`` stops the first lab. Made-up notebooks, executed in a real kernel."""
from __future__ import annotations

import json
import os
import textwrap

import nbformat
import pytest

pytestmark = pytest.mark.slow

BROKEN_SERVER = '''\
from flask import Flask

def create_payment_intent(:
    pass

app = Flask(__name__)
'''
PLAIN_SERVER = '''\
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "shop"
'''

SETUP = """
    import json, os
    from pathlib import Path
    from labkit.lab import Lab
    from labkit.settings import Settings

    def settings(folder):
        return Settings(backend="fake", api_base=os.environ["TEST_FAKE_URL"], db_path=Path(os.environ["TEST_TMP"]) / "kit.db",
                        out_dir=Path(os.environ["TEST_TMP"]) / "out", root=Path(os.environ["TEST_TMP"]) / folder,
                        answers_dir=Path(os.environ["TEST_TMP"]) / "answers")
"""
CELLS = [
    ("setup", SETUP),
    ("broken", 'lab = Lab.start(settings("broken"), webhooks=False)'),
    ("first", 'first = Lab.start(settings("plain"), webhooks=False)\nfirst_server = first.checkout'),
    ("second", 'second = Lab.start(settings("plain"), webhooks=False)\n'
               'print("first closed:", first.closed, "| its server running:", first_server.running, '
               '"| second open:", not second.closed)'),
    ("close", "second.close()"),
    ("check_d", 'from labkit.checks.notebook import check_part\nitems = check_part("D", settings=settings("plain"))'),
    ("answer", 'from labkit import answers\nanswers.set_requirement("2.2", "yes", "no vendor defaults", '
               'settings=settings("plain"))'),
]
# a kernel that never ran the cells above the check: what Kernel → Restart, then running the last cell, gives
AFTER_RESTART = [("check", 'from labkit.checks.notebook import check_part\n\nitems = check_part("B")')]


def execute(cells, tmp, fake_url):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(src).strip(), metadata={"name": name})
                for name, src in cells]
    env = {"TEST_FAKE_URL": fake_url, "TEST_TMP": str(tmp), "LABKIT_CHECKOUT_URL": "", "LABKIT_WEBHOOK_URL": ""}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits them
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(tmp)}}).execute()
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return {c.metadata["name"]: c.outputs for c in nb.cells}


@pytest.fixture(scope="module")
def executed(fake, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nb")
    for folder, code in (("broken", BROKEN_SERVER), ("plain", PLAIN_SERVER)):
        (tmp / folder).mkdir()
        (tmp / folder / "checkout_server.py").write_text(code, encoding="utf-8")
    return execute(CELLS, tmp, fake.url)


def errors(outputs):
    return [o for o in outputs if o.output_type == "error"]


def test_a_syntax_error_in_the_students_server_is_one_line_with_the_traceback_folded(executed):
    outputs = executed["broken"]
    [error] = errors(outputs)
    assert error.ename == "StudentServerError"
    assert len(error.traceback) == 1 and "\n" not in error.traceback[0], error.traceback  # no kit frames
    line = error.evalue
    assert "checkout_server.py line 3" in line and "syntax" in line  # what and where
    assert "run the notebook again from the top" in line  # what to do
    folded = [o for o in outputs if o.output_type == "display_data" and "text/html" in o.data]
    assert len(folded) == 1
    page = folded[0].data["text/html"]
    assert page.startswith("<details>") and "create_payment_intent(:" in page and 'line 3' in page
    assert "labkit" not in page.replace("labkit-", "")  # the student's traceback, not the kit's frames


def test_starting_the_lab_again_stops_the_first(executed):
    assert not errors(executed["first"]) and not errors(executed["second"]), executed["second"]
    text = "".join(o.get("text", "") for o in executed["second"] if o.output_type == "stream")
    assert "first closed: True | its server running: False | second open: True" in text


def test_the_check_cell_after_a_kernel_restart_says_run_from_the_top(fake, tmp_path):
    outputs = execute(AFTER_RESTART, tmp_path, fake.url)["check"]
    [error] = errors(outputs)
    assert error.ename != "NameError" and len(error.traceback) == 1
    assert "run the notebook from the top" in error.evalue and "Lab.start()" in error.evalue


def test_the_lab_notebooks_check_cells_need_no_variable_of_an_earlier_cell():
    """A check cell that names `lab` or `settings` fails with NameError after a kernel restart."""
    from labkit.settings import project_root

    root = project_root()
    for path in sorted((root / "notebooks").glob("0*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        checks = ["".join(c["source"]) for c in cells if "check_part(" in "".join(c["source"])]
        assert len(checks) == 1, path.name
        call = checks[0][checks[0].index("check_part("):].split(")", 1)[0]
        assert call.count(",") == 0 and "lab" not in call and "settings" not in call, (path.name, call)


def test_the_pci_check_says_re_run_this_cell_when_an_answer_changes_after_it(executed):
    outputs = executed["check_d"]
    assert not errors(outputs) and not errors(executed["answer"])
    shown = [o.data.get("text/plain", "") for o in outputs if o.output_type == "display_data"]
    assert "answers/pci.json changed after this check ran: re-run this cell to check your answers again." in shown
