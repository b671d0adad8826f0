"""Errors of the daemon scaffolding (both derive from :class:`pyovn.errors.PyovnError`).

::

    PyovnError
    ├── DaemonError     the daemon cannot start or run as asked (pidfile, socket, options)
    └── CommandError    a unixctl command was asked something it cannot do
"""

from pyovn.errors import PyovnError


class DaemonError(PyovnError):
    """Raised by :class:`pyovn.daemon.DaemonLoop` (and the option, pidfile and logging
    helpers it uses) when the daemon cannot start as asked: another instance holds the
    pidfile, the control socket or log file cannot be created, a ``-v`` spec is invalid.
    The message is complete; a daemon's ``main()`` prints it prefixed with the program
    name and exits with status 1 (:func:`pyovn.daemon.run_daemon` does this)."""


class CommandError(PyovnError):
    """Raised by a unixctl command callback to refuse a request (bad argument, unknown
    node, not possible now). The message becomes the error reply that ``ovn-appctl``
    prints before exiting with status 2; the daemon keeps running."""
