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
import time

import ovs.poller

from pyovn.daemon import DaemonLoop, RateLimitedLogger
from pyovn.engine.ovsdb_input import feed_changes
from pyovn.northd.graph import NB_TABLES, SB_TABLES, NorthdContext, build_graph
from pyovn.ovsdb import Client, Op, Transaction, TxnStatus
from pyovn.sandbox.procs import NB_SCHEMA, SB_SCHEMA

log = logging.getLogger("pyovn.northd")
LOCK_NAME = "ovn_northd"
RETRY_MIN = 0.1
RETRY_MAX = 5.0


class Northd:
    """pyovn-northd's state, plugged into a :class:`DaemonLoop` by its constructor."""

    def __init__(self, loop: DaemonLoop, nb_remote: str, sb_remote: str) -> None:
        self.nb = Client(nb_remote, NB_SCHEMA, NB_TABLES, name="OVN_Northbound")
        self.sb = Client(sb_remote, SB_SCHEMA, SB_TABLES, lock=LOCK_NAME,
                         name="OVN_Southbound")
        self.graph = build_graph(self.nb, self.sb)
        self.engine = self.graph.engine
        self.nb_txn: Transaction | None = None
        self.sb_txn: Transaction | None = None
        #: After a transaction ERROR the same ops would fail again at once: wait this
        #: long (doubling up to RETRY_MAX) before recomputing, instead of spinning.
        self._backoff = 0.0
        self._retry_at = 0.0
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
        self.nb_txn = self._settle(self.nb_txn)
        self.sb_txn = self._settle(self.sb_txn)
        self._log_role()
        if not (self.nb.synced and self.sb.synced and self.active):
            return
        if self.nb_txn is not None or self.sb_txn is not None:
            return
        if time.monotonic() < self._retry_at:
            return
        # Change sets are taken only when the engine is about to see them.
        feed_changes(self.nb, self.graph.nb_inputs)
        feed_changes(self.sb, self.graph.sb_inputs)
        if not self.engine.need_run():
            return
        ctx = NorthdContext(
            nb_ops=[] if self.nb_txn is None else None,
            sb_ops=[] if self.sb_txn is None else None,
        )
        self.engine.run(ctx)
        self.nb_txn = self._commit(self.nb, ctx.nb_ops)
        self.sb_txn = self._commit(self.sb, ctx.sb_ops)

    def _commit(self, client: Client, ops: list[Op] | None) -> Transaction | None:
        if not ops:
            return None
        return client.transact(ops)

    def _settle(self, txn: Transaction | None) -> Transaction | None:
        """Forget a finished transaction; a failed one costs a full recompute."""
        if txn is None or not txn.done:
            return txn
        if txn.status is TxnStatus.SUCCESS:
            self._backoff = 0.0
            return None
        if txn.status is TxnStatus.ERROR:
            self._backoff = min(max(RETRY_MIN, self._backoff * 2), RETRY_MAX)
            self._retry_at = time.monotonic() + self._backoff
        self.rl.warning(("txn", txn.status), "transaction failed (%s): %s %s; "
                        "recomputing in %.1f s", txn.status.name, txn.error,
                        txn.details or "", self._backoff)
        self.engine.force_recompute()
        return None

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
                and self.nb_txn is None and self.sb_txn is None:
            delay = self._retry_at - time.monotonic()
            if delay > 0:
                poller.timer_wait(int(delay * 1000) + 1)
            else:
                poller.immediate_wake()

    def close(self) -> None:
        """Close both connections (shutdown hook)."""
        self.nb.close()
        self.sb.close()
