"""pyovn's exception tree. Every exception pyovn raises on purpose derives from PyovnError.

::

    PyovnError
    ├── SandboxError        a sandbox could not be started, used or stopped
    ├── OvsdbError          the OVSDB layer (see pyovn.ovsdb.errors for its subclasses)
    └── EngineError         the incremental engine was wired or driven wrongly

Each class says who raises it and what the caller should do about it.
"""


class PyovnError(Exception):
    """Base of every error pyovn raises on purpose; catch it at a daemon's top level."""


class SandboxError(PyovnError):
    """Raised by :mod:`pyovn.sandbox` when a process, program, schema or directory is
    missing or misbehaves. The message names the program or Debian package to install,
    or the directory to look at; the caller reports it to the user and stops."""
