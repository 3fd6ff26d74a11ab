"""The kit's own exceptions that cross modules (so that no module imports another just for one)."""
from __future__ import annotations


class LabClosedError(RuntimeError):
    """A cell used a lab that an earlier cell closed (``lab.close()``)."""

    one_line = True  # shown as one line in a notebook (labkit.backend.notebook_messages)

    def __init__(self) -> None:
        super().__init__("the lab was closed by the last cell: run Lab.start() again")
