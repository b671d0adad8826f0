"""pyovn-controller: its command line, and the running daemon (local OVS database,
Southbound, engine).

The Southbound's address is itself configuration (``external_ids:ovn-remote`` of the
local Open_vSwitch row), so the Southbound client and the engine graph are created once
the local database has been read, and created anew if ``ovn-remote`` changes — as
ovn-controller re-points its Southbound connection. Everything is derived from the two
databases (crash-only): a restart rebuilds the same state.

Each iteration: ofctrl's I/O (an acknowledged put reports its ports installed to
``if_status``); read both databases; when both are synced, run the engine with a
context whose ops lists are None for a database that has a transaction of ours in
flight (its writers are canceled and run again later, flows are never held up); commit
the ops, one transaction per database at most; and hand the desired flow table to
ofctrl with SB_Global's ``nb_cfg``. Once the switch holds the flows of an ``nb_cfg``,
Chassis_Private.nb_cfg reports it (``ovn-nbctl --wait=hv``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

import ovs.poller

from pyovn.controller.chassis import nb_cfg_ops
from pyovn.controller.chassis_config import parse_chassis_config
from pyovn.controller.graph import (
    OVS_TABLES,
    SB_TABLES,
    ControllerContext,
    ControllerGraph,
    build_graph,
)
from pyovn.controller.ofctrl import Ofctrl
from pyovn.daemon import (
    DaemonLoop,
    DaemonOptions,
    RateLimitedLogger,
    add_daemon_args,
    parse_daemon_args,
    run_daemon,
)
from pyovn.daemon.txn_gate import TxnGate
from pyovn.engine import NodeState
from pyovn.engine.ovsdb_input import feed_changes
from pyovn.ovsdb import Client, Op
from pyovn.sandbox.procs import SB_SCHEMA, VSWITCH_SCHEMA

log = logging.getLogger("pyovn.controller")


class Controller:
    """pyovn-controller's state, plugged into a :class:`DaemonLoop` by its constructor."""

    def __init__(self, loop: DaemonLoop, ovs_remote: str) -> None:
        self.ovs = Client(ovs_remote, VSWITCH_SCHEMA, OVS_TABLES, name="Open_vSwitch")
        self.sb: Client | None = None
        self.sb_remote: str | None = None
        self.graph: ControllerGraph | None = None
        self.ofctrl = Ofctrl("br-int")
        self.txns = TxnGate(("sb", "ovs"), log, self._txn_failed)
        self._acked_seqno = 0
        self._rl = RateLimitedLogger(log)
        self._loop = loop
        self.ofctrl.register_commands(loop)
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
        self.txns = TxnGate(("sb", "ovs"), log, self._txn_failed)
        self.graph = build_graph(self.ovs, self.sb)
        # A new graph has a new desired table: the next put compares everything.
        self._acked_seqno = self.ofctrl.acked_seqno
        log.info("Southbound remote %s", remote)

    def run(self) -> None:
        """One iteration: switch I/O, read both databases, compute, write, put."""
        self.ofctrl.run()
        self.ovs.run()
        if self.ovs.synced:
            self._follow_sb_remote()
        if self.sb is None or self.graph is None:
            return
        self.sb.run()
        self.txns.settle()
        graph = self.graph
        if self.ofctrl.acked_seqno != self._acked_seqno:
            self._acked_seqno = self.ofctrl.acked_seqno
            graph.binding.if_status.flows_installed(self._acked_seqno)
        if not (self.ovs.synced and self.sb.synced):
            return
        feed_changes(self.ovs, graph.ovs_inputs)
        feed_changes(self.sb, graph.sb_inputs)
        ran = False
        # The flows are computed even while a write cannot be made (the writers wait).
        ctx = ControllerContext(sb_ops=self.txns.ops("sb"), ovs_ops=self.txns.ops("ovs"))
        if graph.engine.need_run():
            graph.engine.run(ctx)
            ran = graph.flow_output.state is not NodeState.CANCELED
        config = graph.chassis_config.data
        if config is not None and config.bridge != self.ofctrl.bridge:
            self.ofctrl.set_bridge(config.bridge)
        self.ofctrl.set_hold(self._flow_restore_wait())
        if graph.engine.has_run() and (ran or self.ofctrl.wants_put):
            seq = self.ofctrl.put(graph.flow_output.data, nb_cfg=self._sb_nb_cfg())
            graph.binding.if_status.flows_requested(seq)
        if ctx.sb_ops is not None:
            ctx.sb_ops.extend(self._nb_cfg_ops())
        self.txns.commit("sb", self.sb, ctx.sb_ops)
        self.txns.commit("ovs", self.ovs, ctx.ovs_ops)

    def _flow_restore_wait(self) -> bool:
        row = next(iter(self.ovs.tables["Open_vSwitch"].rows.values()), None)
        return row is not None and row["other_config"].get("flow-restore-wait") == "true"

    def _sb_nb_cfg(self) -> int | None:
        assert self.sb is not None
        row = next(iter(self.sb.tables["SB_Global"].rows.values()), None)
        return row["nb_cfg"] if row is not None else None

    def _nb_cfg_ops(self) -> list[Op]:
        """Report the nb_cfg whose flows the switch holds in Chassis_Private."""
        acked = self.ofctrl.acked_nb_cfg
        graph = self.graph
        if acked is None or self.sb is None or graph is None:
            return []
        chassis = graph.binding.chassis.data
        if chassis is None:
            return []
        private = next((r for r in self.sb.tables["Chassis_Private"].rows.values()
                        if r["name"] == chassis.name), None)
        if private is None:
            return []
        return nb_cfg_ops(private, acked, int(time.time() * 1000))

    def _txn_failed(self) -> None:
        if self.graph is not None:
            self.graph.engine.force_recompute()

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Wake on either database's socket, the switch, timers; at once if work is left."""
        self.ofctrl.wait(poller)
        self.ovs.wait(poller)
        if self.sb is None:
            return
        self.sb.wait(poller)
        graph = self.graph
        if graph is None or not (self.ovs.synced and self.sb.synced):
            return
        if self.ofctrl.wants_put:
            poller.immediate_wake()
        elif self.txns.idle and graph.engine.need_run():
            self.txns.wait(poller)

    def close(self) -> None:
        """Close the connections (shutdown hook); the switch keeps its flows."""
        self.ofctrl.close()
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
