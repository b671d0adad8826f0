"""What pyovn-northd and pyovn-controller share: command line, logging, control socket
and main loop, all behaving as OVN 23.03's daemons do.

- :mod:`~pyovn.daemon.options` -- ``--pidfile[=F] --log-file[=F] --unixctl=S --detach
  --no-chdir --monitor -v[SPEC] -V``; :class:`DaemonOptions`.
- :mod:`~pyovn.daemon.vlog`, :mod:`~pyovn.daemon.levels` -- stdlib logging in OVS's
  line format, ``-v`` specs, ``vlog/set`` / ``vlog/list``.
- :mod:`~pyovn.daemon.ratelimit` -- :class:`RateLimitedLogger` for repeated messages.
- :mod:`~pyovn.daemon.unixctl`, :mod:`~pyovn.daemon.commands` -- the control socket
  that ``ovn-appctl -t`` talks to; :class:`EngineLike` for ``inc-engine/*``.
- :mod:`~pyovn.daemon.process` -- the locked pidfile and ``--detach``.
- :mod:`~pyovn.daemon.loop` -- :class:`DaemonLoop` and :func:`run_daemon`.
- :mod:`~pyovn.daemon.example` -- a daemon built on all of it, for tests.

The rest of pyovn imports from here, never from ``ovs.daemon`` / ``ovs.unixctl`` /
``ovs.vlog`` directly.
"""

from pyovn.daemon.commands import EngineLike
from pyovn.daemon.errors import CommandError, DaemonError
from pyovn.daemon.loop import DaemonLoop, RunHook, ShutdownHook, WaitHook, run_daemon
from pyovn.daemon.options import (
    DaemonOptions,
    add_daemon_args,
    parse_daemon_args,
    version_text,
)
from pyovn.daemon.process import pidfile_owner
from pyovn.daemon.ratelimit import RateLimitedLogger
from pyovn.daemon.unixctl import CommandCallback, CommandTable, UnixctlServer
from pyovn.daemon.vlog import Vlog

__all__ = [
    "CommandCallback",
    "CommandError",
    "CommandTable",
    "DaemonError",
    "DaemonLoop",
    "DaemonOptions",
    "EngineLike",
    "RateLimitedLogger",
    "RunHook",
    "ShutdownHook",
    "UnixctlServer",
    "Vlog",
    "WaitHook",
    "add_daemon_args",
    "parse_daemon_args",
    "pidfile_owner",
    "run_daemon",
    "version_text",
]
