"""``pyovn-northd`` command line: ovn-northd's options, pyovn's daemon."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyovn.daemon import (
    DaemonLoop,
    DaemonOptions,
    add_daemon_args,
    parse_daemon_args,
    run_daemon,
)
from pyovn.daemon.options import rundir_from_env

PROGRAM = "pyovn-northd"


def build_parser() -> argparse.ArgumentParser:
    """ovn-northd 23.03's command line (the options pyovn-northd supports)."""
    rundir = rundir_from_env()
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Compiles the OVN Northbound database into the "
                                  "Southbound database, incrementally.")
    parser.add_argument("--ovnnb-db", default=f"unix:{rundir}/ovnnb_db.sock",
                        help="Northbound database remote (default: %(default)s)")
    parser.add_argument("--ovnsb-db", default=f"unix:{rundir}/ovnsb_db.sock",
                        help="Southbound database remote (default: %(default)s)")
    add_daemon_args(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pyovn-northd``."""
    from pyovn.northd.daemon import Northd

    args = parse_daemon_args(build_parser(), argv)
    loop = DaemonLoop(DaemonOptions.from_args(args, PROGRAM))
    return run_daemon(loop, lambda lp: Northd(lp, args.ovnnb_db, args.ovnsb_db))


if __name__ == "__main__":
    sys.exit(main())
