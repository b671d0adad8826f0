"""The command line every pyovn daemon shares, spelled as OVN 23.03 spells it.

Each daemon builds its own :class:`argparse.ArgumentParser`, adds its own options
(``--ovnnb-db`` …), calls :func:`add_daemon_args` for the shared ones, parses with
:func:`parse_daemon_args` and turns the result into :class:`DaemonOptions`.

Defaults are the ones ``ovn-northd`` 23.03.1 really uses (measured, not taken from its
``--help``, which names the Open vSwitch run directory): pidfile
``$OVN_RUNDIR/PROGRAM.pid``, control socket ``$OVN_RUNDIR/PROGRAM.PID.ctl``
(``OVN_RUNDIR`` defaults to ``/var/run/ovn``), and — an OVN quirk kept so that
``--log-file`` lands where an OVN operator looks — log file ``$OVS_LOGDIR/PROGRAM.log``
(``OVS_LOGDIR`` defaults to ``/var/log/openvswitch``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyovn import __version__

DEFAULT_RUNDIR = Path("/var/run/ovn")
DEFAULT_LOGDIR = Path("/var/log/openvswitch")

# OVS's getopt takes an optional value only when attached ("--pidfile=F"); argparse
# would take the next word, so "pyovn-controller --pidfile unix:db.sock" would eat the
# remote. These bare flags are rewritten to their "=" form (an empty value) first.
_BARE_OPTIONAL_FLAGS = {
    "--pidfile": "--pidfile=",
    "--log-file": "--log-file=",
    "--verbose": "--verbose=",
    "-v": "--verbose=",
}


def version_text(program: str) -> str:
    """The one-line version of ``program``, as ``-V`` and unixctl ``version`` print it."""
    return f"{program} (pyovn) {__version__}"


def rundir_from_env(env: Mapping[str, str] | None = None) -> Path:
    """The OVN run directory: ``$OVN_RUNDIR``, else ``/var/run/ovn``."""
    value = (os.environ if env is None else env).get("OVN_RUNDIR")
    return Path(value) if value else DEFAULT_RUNDIR


def logdir_from_env(env: Mapping[str, str] | None = None) -> Path:
    """The directory of default log files: ``$OVS_LOGDIR``, else ``/var/log/openvswitch``."""
    value = (os.environ if env is None else env).get("OVS_LOGDIR")
    return Path(value) if value else DEFAULT_LOGDIR


def add_daemon_args(parser: argparse.ArgumentParser, *, version: str | None = None) -> None:
    """Add the shared daemon and logging options to ``parser``.

    ``parser.prog`` is the program name used in defaults and in ``-V`` (pass
    ``prog=`` when building the parser); ``version`` overrides the ``-V`` text.
    """
    prog = parser.prog
    daemon = parser.add_argument_group("Daemon options")
    daemon.add_argument("--detach", action="store_true",
                        help="run in background as daemon")
    daemon.add_argument("--no-chdir", action="store_true",
                        help="do not chdir to '/' (only matters with --detach)")
    daemon.add_argument("--monitor", action="store_true",
                        help="accepted for compatibility; pyovn does not restart itself")
    daemon.add_argument("--pidfile", nargs="?", const="", default=None, metavar="FILE",
                        help=f"create pidfile (default: $OVN_RUNDIR/{prog}.pid)")
    daemon.add_argument("--overwrite-pidfile", action="store_true",
                        help="with --pidfile, start even if already running")
    daemon.add_argument("--unixctl", metavar="SOCKET", default=None,
                        help=f"override default control socket ($OVN_RUNDIR/{prog}.PID.ctl)")
    logging_ = parser.add_argument_group("Logging options")
    logging_.add_argument("-v", "--verbose", nargs="?", const="", action="append",
                          default=None, metavar="SPEC",
                          help="set logging levels (-vSPEC, --verbose=SPEC); "
                               "-v alone: maximum verbosity")
    logging_.add_argument("--log-file", nargs="?", const="", default=None, metavar="FILE",
                          help=f"enable logging to FILE (default: $OVS_LOGDIR/{prog}.log)")
    parser.add_argument("-V", "--version", action="version",
                        version=version or version_text(prog),
                        help="display version information")


def normalize_argv(argv: Sequence[str]) -> list[str]:
    """Rewrite bare ``--pidfile`` / ``--log-file`` / ``-v`` / ``--verbose`` to ``=`` form.

    After ``--`` nothing is touched.
    """
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            out.extend(argv[i:])
            break
        out.append(_BARE_OPTIONAL_FLAGS.get(arg, arg))
    return out


def parse_daemon_args(parser: argparse.ArgumentParser,
                      argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` (default ``sys.argv[1:]``) the way OVS's getopt would.

    Use this instead of ``parser.parse_args`` so that an optional value is only taken
    when attached with ``=``. Exits (status 2) on a bad command line, like argparse.
    """
    return parser.parse_args(normalize_argv(sys.argv[1:] if argv is None else argv))


@dataclass(frozen=True)
class DaemonOptions:
    """The shared daemon options, resolved to absolute paths.

    ``unixctl`` is None when the default (which contains the daemon's pid, known only
    after ``--detach`` forked) is wanted; :meth:`unixctl_path` resolves it.
    """

    program: str
    rundir: Path
    pidfile: Path | None = None
    log_file: Path | None = None
    unixctl: Path | None = None
    detach: bool = False
    no_chdir: bool = False
    monitor: bool = False
    overwrite_pidfile: bool = False
    verbose: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: argparse.Namespace, program: str,
                  env: Mapping[str, str] | None = None) -> DaemonOptions:
        """Build options from a namespace that :func:`add_daemon_args` prepared.

        Relative ``--pidfile`` and ``--unixctl`` are relative to the run directory (as
        in OVS); a relative ``--log-file`` is relative to the current directory.
        """
        rundir = rundir_from_env(env)
        pidfile: Path | None = None
        if args.pidfile is not None:
            pidfile = rundir / (args.pidfile or f"{program}.pid")
        log_file: Path | None = None
        if args.log_file is not None:
            log_file = (Path(args.log_file).absolute() if args.log_file
                        else logdir_from_env(env) / f"{program}.log")
        unixctl = rundir / args.unixctl if args.unixctl else None
        verbose = tuple(spec or "dbg" for spec in (args.verbose or ()))
        return cls(program=program, rundir=rundir, pidfile=pidfile, log_file=log_file,
                   unixctl=unixctl, detach=args.detach, no_chdir=args.no_chdir,
                   monitor=args.monitor, overwrite_pidfile=args.overwrite_pidfile,
                   verbose=verbose)

    def unixctl_path(self, pid: int) -> Path:
        """The control socket path for a daemon running as ``pid``."""
        return self.unixctl or self.rundir / f"{self.program}.{pid}.ctl"
