"""``labkit grade CLASS_DIR``: every student's submission re-run and checked, into one table.

:mod:`labkit.grading.collect` finds the submissions (a folder or a .zip per student),
:mod:`labkit.grading.one` grades one in its own process (``python -m labkit.grading.one``),
:mod:`labkit.grading.table` writes the CSV, the HTML page and the JSON, and
:mod:`labkit.grading.cli` runs the class, students in parallel, with a progress bar.
"""
