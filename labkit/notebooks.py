"""Execute the lab's notebooks headless (for ``labkit demo`` and to refresh stored outputs).

    python -m labkit.notebooks notebooks/01_setup.ipynb [...]   # re-execute in place

Outputs are stored without timing metadata so that diffs and nbval stay quiet.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from labkit.settings import project_root


class NotebookFailed(RuntimeError):
    """Which notebook and cell failed, and why (``cell_index`` counts every cell from 0; -1: unknown)."""

    def __init__(self, path: Path, cell_index: int, source: str, reason: str) -> None:
        where = f"{path.name} failed at cell {cell_index + 1}" if cell_index >= 0 else f"{path.name} failed"
        first_line = source.strip().splitlines()[0] if source.strip() else ""
        message = f"{where}: {reason}" + (f"\n    the cell starts: {first_line}" if first_line else "")
        super().__init__(message)
        self.path, self.cell_index, self.reason = path, cell_index, reason


def notebook_paths(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("0*.ipynb"))


@contextmanager
def _environ(extra: dict[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(extra or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def execute(path: Path, env: dict[str, str] | None = None, write: bool = True, timeout: int = 300) -> nbformat.NotebookNode:
    """Run every cell of ``path`` in a fresh kernel, its folder as the working directory.

    ``env`` is added to the kernel's environment (the demo passes its servers' URLs).
    Raises :class:`NotebookFailed` naming the cell and the error.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}},
                            # The kernel's own start-up warnings (TCP transport on loopback) are noise here.
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    with _environ(env):
        try:
            client.execute()
        except CellExecutionError as exc:
            index = next((i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
                          and any(o.get("output_type") == "error" for o in c.get("outputs", []))), -1)
            source = nb.cells[index].source if index >= 0 else ""
            reason = f"{exc.ename}: {exc.evalue}" if getattr(exc, "ename", None) else str(exc).splitlines()[0]
            raise NotebookFailed(path, index, source, reason) from None
        except Exception as exc:  # the kernel died, a timeout, …: still say which notebook
            raise NotebookFailed(path, -1, "", f"{type(exc).__name__}: {exc}") from exc
    # No stored widget state: offline it prints as a blank box in the PDF (the text form
    # prints instead), and its random model ids can look like card numbers to the leak scan.
    # (Dropped after the run: nbclient's Output-widget hook needs the state while it runs.)
    nb.metadata.pop("widgets", None)
    if write:
        nbformat.write(nb, path)
    return nb


if __name__ == "__main__":
    for arg in sys.argv[1:] or [str(p) for p in notebook_paths(project_root() / "notebooks")]:
        print(f"executing {arg}", flush=True)
        execute(Path(arg))
