"""Execute the lab's notebooks headless (for ``labkit demo`` and to refresh stored outputs).

    python -m labkit.notebooks notebooks/01_setup.ipynb [...]   # re-execute in place

Outputs are stored without timing metadata so that diffs and nbval stay quiet.
"""
from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from labkit.nbformat_import import nbformat  # first: nbclient imports nbformat too
from labkit.settings import project_root
from nbclient import NotebookClient  # after labkit.nbformat_import
from nbclient.exceptions import CellExecutionError


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


KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]  # its start-up warnings (TCP on loopback) are noise here


class KernelsAhead:
    """Fresh kernels for notebooks run one after another (``labkit demo``): the next notebook's kernel starts
    while the current notebook runs, and a finished one shuts down in the background, so neither wait
    (about a second a notebook on a 2-core machine). Every kernel runs one notebook only."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None) -> None:
        self._folder, self._env = Path(folder), {**os.environ, **(env or {})}
        self._next: Any = None
        self._stopping: list[threading.Thread] = []

    def _start(self) -> Any:
        from jupyter_client.manager import KernelManager

        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(self._folder), env=self._env, extra_arguments=KERNEL_ARGUMENTS)
        return km

    def take(self, another: bool) -> Any:
        """A started kernel for the next notebook (in the folder given); ``another``: start the one after now."""
        km, self._next = self._next or self._start(), None
        if another:
            self._next = self._start()
        return km

    def done(self, km: Any) -> None:
        """Shut ``km`` down (as a finished notebook's kernel is: its exit handlers run) without waiting."""
        thread = threading.Thread(target=_shut_down, args=(km,), name="labkit-kernel-shutdown", daemon=True)
        thread.start()
        self._stopping.append(thread)

    def close(self, timeout: float = 30.0) -> None:
        if self._next is not None:
            self.done(self._next)
            self._next = None
        for thread in self._stopping:
            thread.join(timeout)


def _shut_down(km: Any) -> None:
    try:
        km.shutdown_kernel(now=False)
    except Exception:  # already gone
        pass


def execute(path: Path, env: dict[str, str] | None = None, write: bool = True, timeout: int = 300,
            km: Any = None) -> nbformat.NotebookNode:
    """Run every cell of ``path`` in a fresh kernel, its folder as the working directory.

    ``env`` is added to the kernel's environment (the demo passes its servers' URLs). ``km``: a kernel
    started for this notebook (:class:`KernelsAhead`), left running for its owner to shut down.
    Raises :class:`NotebookFailed` naming the cell and the error.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}}, extra_arguments=KERNEL_ARGUMENTS)
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
