"""``pyovn-controller`` command line: ovn-controller's, pyovn's daemon."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pyovn.daemon import (
    DaemonLoop,
    DaemonOptions,
    add_daemon_args,
    parse_daemon_args,
    run_daemon,
)

PROGRAM = "pyovn-controller"


def build_parser() -> argparse.ArgumentParser:
    """ovn-controller 23.03's command line (the options pyovn-controller supports)."""
    ovs_rundir = os.environ.get("OVS_RUNDIR", "/var/run/openvswitch")
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Keeps br-int's OpenFlow tables in sync with the OVN "
                                  "Southbound database, incrementally and hitlessly.")
    parser.add_argument("ovs_remote", nargs="?", default=f"unix:{ovs_rundir}/db.sock",
                        metavar="OVS_REMOTE",
                        help="local Open_vSwitch database (default: %(default)s)")
    add_daemon_args(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pyovn-controller``."""
    from pyovn.controller.daemon import Controller

    args = parse_daemon_args(build_parser(), argv)
    loop = DaemonLoop(DaemonOptions.from_args(args, PROGRAM))
    return run_daemon(loop, lambda lp: Controller(lp, args.ovs_remote))


if __name__ == "__main__":
    sys.exit(main())
