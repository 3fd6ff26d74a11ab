"""Running the student's own code: each deliverable in its own process, on its own port.

:mod:`labkit.student.server_process` is the child (imports ``checkout_server.py`` or
``webhook_handler.py`` and serves its ``app``); :mod:`labkit.student.runner` starts, watches and
stops it from the notebook, ``labkit check`` or ``labkit grade``; :class:`labkit.lab.Lab` puts a
Stripe backend and both servers together.
"""
