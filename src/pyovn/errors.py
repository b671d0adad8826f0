"""pyovn's exception tree. Every exception pyovn raises on purpose derives from PyovnError.

::

    PyovnError
    ├── SandboxError        a sandbox could not be started, used or stopped
    ├── OvsdbError          the OVSDB layer (see pyovn.ovsdb.errors for its subclasses)
    └── EngineError         the incremental engine was wired or driven wrongly (pyovn.engine)

Each class says who raises it and what the caller should do about it.
"""


class PyovnError(Exception):
    """Base of every error pyovn raises on purpose; catch it at a daemon's top level."""


class SandboxError(PyovnError):
    """Raised by :mod:`pyovn.sandbox` when a process, program, schema or directory is
    missing or misbehaves. The message names the program or Debian package to install,
    or the directory to look at; the caller reports it to the user and stops."""


class OvsdbError(PyovnError):
    """Base of the errors raised by :mod:`pyovn.ovsdb` (subclasses live in
    :mod:`pyovn.ovsdb.errors`). Catch it where a daemon talks to a database."""


class EngineError(PyovnError):
    """Raised by :mod:`pyovn.engine` when the graph is wired or driven wrongly: a cycle,
    a duplicate node name or input, wiring after the engine was built, an unknown node
    or counter name, a handler or ``run()`` returning the wrong type. The fault is in the
    calling code (a daemon's ``graph.py`` or a node): fix it there rather than catch it."""
