"""The kit's own exceptions that cross modules (so that no module imports another just for one)."""
from __future__ import annotations


class LabClosedError(RuntimeError):
    """A cell used a lab that an earlier cell closed (``lab.close()``)."""

    one_line = True  # shown as one line in a notebook (labkit.backend.notebook_messages)

    def __init__(self) -> None:
        super().__init__("the lab was closed by the last cell: run Lab.start() again")


class RunFromTheTop(RuntimeError):
    """A cell needs what the cells above it start, and this kernel has not run them (it was restarted)."""

    one_line = True

    def __init__(self, what: str = "this cell needs the lab that Lab.start() starts near the top of the "
                                   "notebook, and this kernel has none (it was restarted)") -> None:
        super().__init__(what)

    what_to_do = "run the notebook from the top (Kernel → Restart Kernel and Run All Cells)"
