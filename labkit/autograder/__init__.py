"""Grading beyond one machine: course platforms run each submission in their own container.

:mod:`labkit.autograder.gradescope` grades the one submission a Gradescope container holds and
always writes ``results.json``; :mod:`labkit.autograder.bundle` writes the zip Gradescope is given
(``labkit autograder gradescope OUT.zip``); :mod:`labkit.autograder.classroom` is GitHub Classroom's
workflow and the per-check command it runs. Canvas's gradebook CSV lives with the class table
(:mod:`labkit.grading.canvas`).
"""
