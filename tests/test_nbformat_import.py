"""labkit.nbformat_import: the modules that read notebooks do without jsonschema's IRI checker (1.2 s of
CPU to import), and notebooks still read and validate."""
from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import labkit.notebooks, labkit.export.run, labkit.export.nbhtml  # (labkit.demo: the solution edition's)
from labkit.nbformat_import import nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
nbformat.validate(nb)
print(sys.modules.get("rfc3987_syntax", "absent"), "jsonschema" in sys.modules)
"""


def test_reading_notebooks_skips_the_iri_grammar_and_still_validates():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "True"]  # jsonschema in use, its IRI checker left out
