"""``from labkit.nbformat_import import nbformat``: nbformat (and nbclient after it) without a second of waste.

nbformat imports jsonschema, and jsonschema registers every format checker whose package is installed.
JupyterLab installs ``rfc3987-syntax`` (for the ``iri`` formats), which builds about thirty Earley parsers
when imported: 1.2 s of CPU on the 2-core machine, in every process that reads a notebook (``labkit
export``, ``labkit demo``), measured with ``python -X importtime -c "import nbformat"``. The notebook
format's schema has no ``iri`` format, so the kit's processes leave that checker out: importing the
package is made to fail, which jsonschema takes as "not installed". A process that imported it before
keeps it.
"""
from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  (None: "import" raises ImportError)

import nbformat  # noqa: E402

__all__ = ["nbformat"]
