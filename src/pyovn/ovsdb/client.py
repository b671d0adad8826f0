"""The OVSDB client: a monitored replica of chosen tables, transactions and a lock.

On every (re)connection the client asks for the server's schema (to monitor only
columns the server has), takes its lock if it has one, and monitors its tables with
``monitor_cond_since`` — falling back to ``monitor_cond``, then ``monitor``, on servers
that lack them. The replica keeps the previous contents while reconnecting; the new
snapshot is compared with them, so :meth:`Client.take_changes` reports exactly what
changed while the client was away.

Non-blocking: a main loop calls :meth:`Client.run` and :meth:`Client.wait`. CLIs and
tests use the blocking helpers :meth:`Client.run_until` and :meth:`Client.commit`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ovs.poller

from pyovn.ovsdb.errors import CommitError, OvsdbTimeoutError
from pyovn.ovsdb.index import Index
from pyovn.ovsdb.ops import Assert, Op, condition_json, op_to_json
from pyovn.ovsdb.replica import Replica, Table
from pyovn.ovsdb.rows import Row, TableChanges
from pyovn.ovsdb.schema import Schema
from pyovn.ovsdb.session import Session
from pyovn.ovsdb.stream import parse_remotes
from pyovn.ovsdb.transaction import Transaction, TxnStatus
from pyovn.ovsdb.values import ZERO_UUID

__all__ = ["Client"]

log = logging.getLogger("pyovn.ovsdb")

#: Monitor methods, best first; the client steps down when a server rejects one.
_MONITOR_METHODS = ("monitor_cond_since", "monitor_cond", "monitor")

#: A monitor condition clause: (column, function, value), or a constant True/False.
Clause = tuple[str, str, Any] | bool


class Client:
    """A client of one database on ``remote`` (``unix:PATH``, ``tcp:HOST:PORT``, or
    several comma-separated, tried in turn).

    ``tables`` maps each table to monitor to the columns wanted (None: all). With
    ``lock``, the client takes that OVSDB lock on every connection, guards each of its
    transactions with an ``assert`` of it, and refuses (NOT_LOCKED) when it does not
    hold it. ``probe_interval`` (seconds, 0 = off) defaults to 5 s for TCP and off for
    unix sockets; ``backoff`` is the (min, max) delay between connection attempts.
    With ``track_changes=False`` no change sets are kept (a read-only view).
    """

    def __init__(self, remote: str, schema: str | Path | Schema,
                 tables: Mapping[str, Sequence[str] | None], *, lock: str | None = None,
                 name: str = "", probe_interval: float | None = None,
                 backoff: tuple[float, float] = (0.1, 8.0),
                 track_changes: bool = True) -> None:
        self.schema = Schema.load(schema)
        self.name = name or self.schema.name
        self._replica = Replica(self.schema, tables, track_changes=track_changes)
        self._session = Session(parse_remotes(remote), self, name=self.name,
                                probe_interval=probe_interval, backoff=backoff)
        self._lock_name = lock
        self._has_lock = False
        self._synced = False
        self._pending: dict[Any, Callable[[Any, Any], None]] = {}
        self._txns: dict[int, Transaction] = {}
        self._method_idx = 0
        self._monitor_seq = 0
        self._monitor_id = ""
        self._last_txn_id: str | None = None
        self._resumed = False
        self._conditions: dict[str, list[Any]] = {}
        # Conditions changed since the server last got them (sent once synced).
        self._conditions_dirty = False
        # Conditions changed since the replica was complete: a resumed monitor would
        # miss rows that the new conditions add.
        self._conditions_changed_offline = False
        self._cond_changes_in_flight = 0
        self._server_columns: dict[str, set[str]] = {}

    # --- public state ----------------------------------------------------------------

    @property
    def tables(self) -> Mapping[str, Table]:
        """The monitored tables by name; ``tables[name].rows`` is UUID → Row."""
        return self._replica.tables

    @property
    def connected(self) -> bool:
        """Whether a connection to the server is established."""
        return self._session.established

    @property
    def synced(self) -> bool:
        """Whether the replica holds the server's contents of the current connection."""
        return self._synced

    @property
    def seqno(self) -> int:
        """A number that changes whenever rows, ``synced``, or ``has_lock`` change."""
        return self._replica.seqno

    @property
    def has_lock(self) -> bool:
        """Whether the client holds its lock now (False when it has none)."""
        return self._has_lock

    @property
    def lock_name(self) -> str | None:
        """The lock the client takes, or None."""
        return self._lock_name

    @property
    def monitor_method(self) -> str:
        """The monitor method in use (or to be tried next)."""
        return _MONITOR_METHODS[self._method_idx]

    @property
    def last_txn_id(self) -> str | None:
        """The last transaction id seen through ``monitor_cond_since`` (clustered
        servers), sent back on reconnection to receive only what changed since."""
        return self._last_txn_id

    @property
    def resumed(self) -> bool:
        """Whether the last sync received only what changed since :attr:`last_txn_id`
        (the server still had it in its history) instead of a full snapshot."""
        return self._resumed

    def fileno(self) -> int:
        """The socket's descriptor, or -1 while disconnected."""
        return self._session.fileno()

    def row(self, table: str, uuid: str) -> Row | None:
        """The current version of row ``uuid`` of ``table``, or None."""
        return self._replica.tables[table].rows.get(uuid)

    def index(self, table: str, column: str) -> Index:
        """The index of ``table`` by ``column`` (value → rows), kept up to date; built
        on first use. See :mod:`pyovn.ovsdb.index` for the keys of sets and maps."""
        return self._replica.index(table, column)

    def take_changes(self) -> dict[str, TableChanges]:
        """The changes since the last call, coalesced per row; tables without changes
        are left out."""
        return self._replica.changes.take()

    # --- conditional monitoring -------------------------------------------------------

    def set_condition(self, table: str, clauses: Sequence[Clause] | None) -> None:
        """Monitor only the rows of ``table`` matching any of ``clauses`` (None: all
        rows; an empty sequence: none). Rows that start or stop matching show up in the
        change sets as inserted or deleted. Takes effect at once when connected (see
        :attr:`condition_pending`), else at the next connection.
        """
        if table not in self._replica.tables:
            raise KeyError(f"table {table} is not monitored")
        if clauses is None:
            self._conditions.pop(table, None)
        else:
            ts = self.schema.table(table)
            where: list[Any] = [c if isinstance(c, bool) else condition_json(ts, *c)
                                for c in clauses]
            self._conditions[table] = where or [False]
        self._conditions_dirty = True
        self._conditions_changed_offline = True
        if self._synced:
            self._send_conditions()

    @property
    def condition_pending(self) -> bool:
        """Whether a condition change has not been confirmed by the server yet."""
        return self._conditions_dirty or self._cond_changes_in_flight > 0

    def _send_conditions(self) -> None:
        if self.monitor_method == "monitor":
            log.warning("%s: server cannot filter rows (no monitor_cond)", self.name)
            self._conditions_dirty = False
            return
        requests = {t: [{"where": self._conditions.get(t, [True])}]
                    for t in self._replica.tables if t in self._server_columns}
        self._conditions_dirty = False
        self._cond_changes_in_flight += 1
        self._request("monitor_cond_change", [self._monitor_id, self._monitor_id, requests],
                      self._got_cond_change_reply)

    def _got_cond_change_reply(self, _result: Any, error: Any) -> None:
        self._cond_changes_in_flight -= 1
        if error is not None:
            log.error("%s: monitor_cond_change refused: %s", self.name, error)
            self._session.drop("monitor_cond_change failed")
        elif not self.condition_pending:
            # The replica now reflects the conditions: resuming is safe again.
            self._conditions_changed_offline = False

    # --- main loop ------------------------------------------------------------------

    def run(self) -> None:
        """Process whatever the connection has; connect or reconnect when due."""
        self._session.run()

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Register the socket and timers with ``poller``."""
        self._session.wait(poller)

    def force_reconnect(self) -> None:
        """Drop the connection; the next :meth:`run` connects again."""
        self._session.force_reconnect()

    def close(self) -> None:
        """Disconnect for good; pending transactions end with TRY_AGAIN."""
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions -----------------------------------------------------------------

    def transact(self, ops: Sequence[Op]) -> Transaction:
        """Send ``ops`` as one transaction; watch the returned Transaction's status.

        Values are encoded by the schema now (OvsdbValueError / SchemaError for a bad
        op); Verify ops capture the client's current view now.
        """
        prefix: list[Op] = []
        if self._lock_name is not None:
            prefix.append(Assert(self._lock_name))
        txn = Transaction(ops, None, skip=len(prefix), seqno=self.seqno)
        params: list[Any] = [self.schema.name]
        lookup = self.row
        params += [op_to_json(op, self.schema, lookup) for op in [*prefix, *ops]]
        # Disconnected comes first: the lock is lost with the connection and is likely
        # back once it is, so "try again" is the more useful answer.
        if not self.connected:
            txn.finish(TxnStatus.TRY_AGAIN, "not connected", str(self._session.remote))
            return txn
        if self._lock_name is not None and not self._has_lock:
            txn.finish(TxnStatus.NOT_LOCKED, "not locked",
                       f"this client does not hold lock {self._lock_name!r}")
            return txn
        txn.id = self._session.request("transact", params)
        self._txns[txn.id] = txn
        return txn

    # --- blocking helpers -------------------------------------------------------------

    def run_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Run the client until ``predicate()`` is true; OvsdbTimeoutError after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self.run()
            if predicate():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OvsdbTimeoutError(f"{self.name}: condition not met within "
                                        f"{timeout:g} s (connected={self.connected}, "
                                        f"synced={self.synced})")
            poller = ovs.poller.Poller()
            self.wait(poller)
            poller.timer_wait(int(remaining * 1000) + 1)
            poller.block()

    def commit(self, build_ops: Callable[[], Sequence[Op]], *, max_tries: int = 5,
               timeout: float = 10.0) -> Transaction:
        """Build and run a transaction until it succeeds; return it.

        Waits until the client is synced (and holds its lock, if it has one), calls
        ``build_ops()`` against the current view, and on TRY_AGAIN waits for the view to
        catch up before rebuilding. Raises CommitError on ERROR / NOT_LOCKED or after
        ``max_tries`` attempts, OvsdbTimeoutError after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        def ready() -> bool:
            return self._synced and (self._lock_name is None or self._has_lock)

        txn: Transaction | None = None
        for _ in range(max_tries):
            self.run_until(ready, left())
            txn = self.transact(build_ops())
            self.run_until(_done(txn), left())
            if txn.status is TxnStatus.SUCCESS:
                return txn
            if txn.status is not TxnStatus.TRY_AGAIN:
                raise CommitError(f"{self.name}: transaction failed ({txn.status.name}): "
                                  f"{txn.error}: {txn.details}", txn)
            # Rebuild from a view that has seen what made this attempt fail; a wait op
            # that simply is not satisfied yet changes nothing, hence the bound.
            with contextlib.suppress(OvsdbTimeoutError):
                self.run_until(self._caught_up(txn.seqno_at_send), min(left(), 1.0))
        raise CommitError(f"{self.name}: transaction still needs TRY_AGAIN after "
                          f"{max_tries} tries: {txn and txn.error}", txn)

    def _caught_up(self, seqno: int) -> Callable[[], bool]:
        return lambda: self._synced and self.seqno != seqno

    # --- session events (SessionHandler) -------------------------------------------------

    def on_connected(self) -> None:
        """Ask for the schema; take the lock."""
        self._request("get_schema", [self.schema.name], self._got_schema)
        if self._lock_name is not None:
            self._request("lock", [self._lock_name], self._got_lock_reply)

    def on_disconnected(self, reason: str) -> None:
        """Mark the replica stale, drop the lock, fail transactions in flight."""
        self._synced = False
        self._has_lock = False
        self._pending.clear()
        self._cond_changes_in_flight = 0
        txns, self._txns = self._txns, {}
        for txn in txns.values():
            txn.finish(TxnStatus.TRY_AGAIN, "connection lost", reason)
        self._replica.seqno += 1

    def on_message(self, msg: dict[str, Any]) -> None:
        """Dispatch a reply or notification."""
        method = msg.get("method")
        if method is None:
            self._on_reply(msg)
        elif msg.get("id") is not None:
            self._session.send({"result": None, "error": "unknown method", "id": msg["id"]})
        else:
            self._on_notification(method, msg.get("params"))

    # --- protocol ---------------------------------------------------------------------

    def _request(self, method: str, params: Any,
                 on_reply: Callable[[Any, Any], None]) -> None:
        self._pending[self._session.request(method, params)] = on_reply

    def _on_reply(self, msg: dict[str, Any]) -> None:
        rid = msg.get("id")
        txn = self._txns.pop(rid, None) if isinstance(rid, int) else None
        if txn is not None:
            txn.handle_reply(msg.get("result"), msg.get("error"))
            if txn.status is not TxnStatus.SUCCESS:
                log.info("%s: transaction %s: %s: %s", self.name, txn.status.name,
                         txn.error, txn.details)
            return
        handler = self._pending.pop(rid, None)
        if handler is not None:
            handler(msg.get("result"), msg.get("error"))

    def _got_schema(self, result: Any, error: Any) -> None:
        if error is not None or not isinstance(result, dict):
            log.error("%s: server has no database %s: %s", self.name, self.schema.name,
                      error)
            self._session.drop("get_schema failed")
            return
        tables = result.get("tables", {})
        self._server_columns = {
            t: set(tables[t].get("columns", {})) for t in self._replica.tables if t in tables}
        for t in self._replica.tables:
            if t not in tables:
                log.warning("%s: server has no table %s; it stays empty", self.name, t)
        self._monitor()

    def _monitor(self) -> None:
        self._monitor_seq += 1
        self._monitor_id = f"{self.name}-{self._monitor_seq}"
        method = self.monitor_method
        requests: dict[str, Any] = {}
        for name, t in self._replica.tables.items():
            have = self._server_columns.get(name)
            if have is None:
                continue
            columns = [c for c in t.columns if c in have]
            if len(columns) < len(t.columns):
                log.warning("%s: server lacks %s columns %s; they keep default values",
                            self.name, name, sorted(set(t.columns) - have))
            request: dict[str, Any] = {"columns": columns}
            if name in self._conditions and method != "monitor":
                request["where"] = self._conditions[name]
            requests[name] = [request]
        params: list[Any] = [self.schema.name, self._monitor_id, requests]
        if method == "monitor_cond_since":
            resume = self._last_txn_id if not self._conditions_changed_offline else None
            params.append(resume or ZERO_UUID)
        self._conditions_dirty = False
        self._request(method, params, self._got_monitor_reply)

    def _got_monitor_reply(self, result: Any, error: Any) -> None:
        method = self.monitor_method
        if error is not None:
            unknown = (error.get("error") if isinstance(error, dict) else error
                       ) == "unknown method"
            if unknown and self._method_idx + 1 < len(_MONITOR_METHODS):
                log.info("%s: server rejected %s (%s); trying %s", self.name, method,
                         error, _MONITOR_METHODS[self._method_idx + 1])
                self._method_idx += 1
                self._monitor()
            else:
                log.error("%s: server rejected %s: %s", self.name, method, error)
                self._session.drop("monitor failed")
            return
        replica = self._replica
        if method == "monitor_cond_since":
            found, last_txn_id, updates = result
            self._resumed = bool(found)
            if found:
                replica.apply_updates2(updates)
            else:
                replica.load(updates)
            self._last_txn_id = last_txn_id if last_txn_id != ZERO_UUID else None
        elif method == "monitor_cond":
            self._resumed = False
            replica.load(result)
        else:
            self._resumed = False
            replica.load(result, updates2=False)
        self._synced = True
        self._conditions_changed_offline = False
        self._session.connection_good()
        log.info("%s: synced (%s, %d rows)", self.name, method,
                 sum(len(t.rows) for t in replica.tables.values()))
        if self._conditions_dirty:
            self._send_conditions()

    def _got_lock_reply(self, result: Any, error: Any) -> None:
        if error is None and isinstance(result, dict) and result.get("locked"):
            self._set_lock(True)

    def _set_lock(self, held: bool) -> None:
        if held != self._has_lock:
            self._has_lock = held
            self._replica.seqno += 1
            log.info("%s: lock %s %s", self.name, self._lock_name,
                     "acquired" if held else "lost")

    def _on_notification(self, method: str, params: Any) -> None:
        if method in ("update3", "update2", "update"):
            if not isinstance(params, list) or not params or params[0] != self._monitor_id:
                return
            if method == "update3":
                self._replica.apply_updates2(params[2])
                self._last_txn_id = params[1]
            elif method == "update2":
                self._replica.apply_updates2(params[1])
            else:
                self._replica.apply_updates(params[1])
        elif method == "locked":
            if params == [self._lock_name]:
                self._set_lock(True)
        elif method == "stolen":
            if params == [self._lock_name]:
                self._set_lock(False)
        elif method == "monitor_canceled":
            if params == [self._monitor_id]:
                self._synced = False
                self._replica.seqno += 1
                self._monitor()


def _done(txn: Transaction) -> Callable[[], bool]:
    return lambda: txn.done
