"""pyovn-controller: its command line, and the running daemon (local OVS database,
Southbound, engine).

The Southbound's address is itself configuration (``external_ids:ovn-remote`` of the
local Open_vSwitch row), so the Southbound client and the engine graph are created once
the local database has been read, and created anew if ``ovn-remote`` changes — as
ovn-controller re-points its Southbound connection. Everything is derived from the two
databases (crash-only): a restart rebuilds the same state.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

import ovs.poller

from pyovn.controller.chassis_config import parse_chassis_config
from pyovn.controller.graph import OVS_TABLES, SB_TABLES, ControllerGraph, build_graph
from pyovn.daemon import (
    DaemonLoop,
    DaemonOptions,
    add_daemon_args,
    parse_daemon_args,
    run_daemon,
)
from pyovn.engine.ovsdb_input import feed_changes
from pyovn.ovsdb import Client
from pyovn.sandbox.procs import SB_SCHEMA, VSWITCH_SCHEMA

log = logging.getLogger("pyovn.controller")


class Controller:
    """pyovn-controller's state, plugged into a :class:`DaemonLoop` by its constructor."""

    def __init__(self, loop: DaemonLoop, ovs_remote: str) -> None:
        self.ovs = Client(ovs_remote, VSWITCH_SCHEMA, OVS_TABLES, name="Open_vSwitch")
        self.sb: Client | None = None
        self.sb_remote: str | None = None
        self.graph: ControllerGraph | None = None
        self._loop = loop
        loop.add_run_hook(self.run)
        loop.add_wait_hook(self.wait)
        loop.add_shutdown_hook(self.close)
        loop.register_engine(self)
        loop.set_connection_status(self.connection_status)

    # -- EngineLike ----------------------------------------------------------------------

    def show_stats(self, node: str | None) -> str:
        """``inc-engine/show-stats [NODE]`` (empty until the Southbound is known)."""
        return self.graph.engine.show_stats(node) if self.graph is not None else ""

    def clear_stats(self) -> None:
        """``inc-engine/clear-stats``."""
        if self.graph is not None:
            self.graph.engine.clear_stats()

    def request_recompute(self) -> None:
        """``inc-engine/recompute``."""
        if self.graph is not None:
            self.graph.engine.force_recompute()
        self._loop.wake()

    def connection_status(self) -> str:
        """``connection-status``: the Southbound connection, as ovn-controller reports it."""
        connected = self.sb is not None and self.sb.connected
        return "connected\n" if connected else "not connected\n"

    # -- main loop ------------------------------------------------------------------------

    def _sb_remote(self) -> str | None:
        row = next(iter(self.ovs.tables["Open_vSwitch"].rows.values()), None)
        if row is None:
            return None
        config, _why = parse_chassis_config(row["external_ids"])
        return config.remote if config is not None else None

    def _follow_sb_remote(self) -> None:
        remote = self._sb_remote()
        if remote is None or (self.sb is not None and self.sb_remote == remote):
            return
        if self.sb is not None:
            log.info("ovn-remote changed to %s: reconnecting the Southbound", remote)
            self.sb.close()
        self.sb_remote = remote
        self.sb = Client(remote, SB_SCHEMA, SB_TABLES, name="OVN_Southbound")
        self.graph = build_graph(self.ovs, self.sb)
        log.info("Southbound remote %s", remote)

    def run(self) -> None:
        """One iteration: read both databases, run the engine."""
        self.ovs.run()
        if self.ovs.synced:
            self._follow_sb_remote()
        if self.sb is None or self.graph is None:
            return
        self.sb.run()
        if not (self.ovs.synced and self.sb.synced):
            return
        feed_changes(self.ovs, self.graph.ovs_inputs)
        feed_changes(self.sb, self.graph.sb_inputs)
        if self.graph.engine.need_run():
            self.graph.engine.run(None)

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Wake on either database's socket or timers."""
        self.ovs.wait(poller)
        if self.sb is not None:
            self.sb.wait(poller)

    def close(self) -> None:
        """Close the connections (shutdown hook)."""
        self.ovs.close()
        if self.sb is not None:
            self.sb.close()


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
    args = parse_daemon_args(build_parser(), argv)
    loop = DaemonLoop(DaemonOptions.from_args(args, PROGRAM))
    return run_daemon(loop, lambda lp: Controller(lp, args.ovs_remote))


if __name__ == "__main__":
    sys.exit(main())
