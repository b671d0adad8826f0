"""The running pyovn-northd: database connections, the engine, the transactions.

Each main-loop iteration: run both clients; when both are synced, the Southbound lock
``ovn_northd`` is held (active; the standby keeps reading) and no transaction of ours is
in flight, feed the tables' change sets to the engine's leaf nodes, run the engine, and
commit the ops the nodes produced, one transaction per database. Waiting for the
answers before the next run means every node sees databases that include all our
earlier writes (the server sends its updates before its reply); changes meanwhile
accumulate, coalesced, in the clients. A failed transaction makes the next run a full
recompute, so nothing is lost. After a period as standby, the tunnel keys held in
memory are dropped: the other northd may have changed the Southbound.
"""

from __future__ import annotations

import logging

import ovs.poller

from pyovn.daemon import DaemonLoop, RateLimitedLogger
from pyovn.daemon.txn_gate import TxnGate
from pyovn.engine.ovsdb_input import feed_changes
from pyovn.northd.graph import NB_TABLES, SB_TABLES, NorthdContext, build_graph
from pyovn.ovsdb import Client
from pyovn.sandbox.procs import NB_SCHEMA, SB_SCHEMA

log = logging.getLogger("pyovn.northd")
LOCK_NAME = "ovn_northd"


class Northd:
    """pyovn-northd's state, plugged into a :class:`DaemonLoop` by its constructor."""

    def __init__(self, loop: DaemonLoop, nb_remote: str, sb_remote: str) -> None:
        self.nb = Client(nb_remote, NB_SCHEMA, NB_TABLES, name="OVN_Northbound")
        self.sb = Client(sb_remote, SB_SCHEMA, SB_TABLES, lock=LOCK_NAME,
                         name="OVN_Southbound")
        self.graph = build_graph(self.nb, self.sb)
        self.engine = self.graph.engine
        self.txns = TxnGate(("nb", "sb"), log, self.engine.force_recompute)
        self.rl = RateLimitedLogger(log)
        self._was_active: bool | None = None
        self._loop = loop
        loop.add_run_hook(self.run)
        loop.add_wait_hook(self.wait)
        loop.add_shutdown_hook(self.close)
        loop.register_engine(self)
        loop.set_connection_status(self.connection_status)
        loop.register_command("status", "", 0, 0, lambda _args: self.status())

    # -- EngineLike, for the inc-engine/* commands ----------------------------------------

    def show_stats(self, node: str | None) -> str:
        """``inc-engine/show-stats [NODE]``."""
        return self.engine.show_stats(node)

    def clear_stats(self) -> None:
        """``inc-engine/clear-stats``."""
        self.engine.clear_stats()

    def request_recompute(self) -> None:
        """``inc-engine/recompute``: the next run recomputes every node."""
        self.engine.force_recompute()
        self._loop.wake()

    # -- status ---------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether this northd holds the ``ovn_northd`` lock (and so writes)."""
        return self.sb.has_lock

    def status(self) -> str:
        """``status``: ``Status: active`` or ``Status: standby``, as ovn-northd says."""
        return f"Status: {'active' if self.active else 'standby'}\n"

    def connection_status(self) -> str:
        """``connection-status``: one line per database."""
        def one(client: Client) -> str:
            if not client.connected:
                return "not connected"
            return "connected" if client.synced else "connected (syncing)"
        return f"OVN_Northbound: {one(self.nb)}\nOVN_Southbound: {one(self.sb)}\n"

    # -- main loop ------------------------------------------------------------------------

    def run(self) -> None:
        """One iteration: read, compute, write."""
        self.nb.run()
        self.sb.run()
        self.txns.settle()
        self._log_role()
        if not (self.nb.synced and self.sb.synced and self.active):
            return
        # One transaction per database in flight, and none during a back-off.
        if not self.txns.idle or self.txns.retry_delay():
            return
        # Change sets are taken only when the engine is about to see them.
        feed_changes(self.nb, self.graph.nb_inputs)
        feed_changes(self.sb, self.graph.sb_inputs)
        if not self.engine.need_run():
            return
        ctx = NorthdContext(nb_ops=self.txns.ops("nb"), sb_ops=self.txns.ops("sb"))
        self.engine.run(ctx)
        self.txns.commit("nb", self.nb, ctx.nb_ops)
        self.txns.commit("sb", self.sb, ctx.sb_ops)

    def _log_role(self) -> None:
        if self.active != self._was_active:
            if self.active and self._was_active is False:
                self.graph.northd.reset_keys()
                self.engine.force_recompute()
            self._was_active = self.active
            log.info("%s: %s the %s lock", self.sb.name,
                     "acquired" if self.active else "does not hold", LOCK_NAME)

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Wake on either database's socket or timers; at once if work is left."""
        self.nb.wait(poller)
        self.sb.wait(poller)
        if self.active and self.nb.synced and self.sb.synced and self.engine.need_run() \
                and self.txns.idle:
            self.txns.wait(poller)

    def close(self) -> None:
        """Close both connections (shutdown hook)."""
        self.nb.close()
        self.sb.close()
