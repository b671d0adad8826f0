"""One OVSDB transaction in flight per database, and a back-off after failures.

Both daemons write what their engine computed in one transaction per database, and
compute the next writes only once the previous transaction is answered (the engine's
writer nodes are canceled meanwhile, as in OVN).  A failed transaction makes the
written state unknown, so the engine must recompute; but an ERROR (a constraint the
writes violate) would fail again at once, so the gate waits ``RETRY_MIN`` seconds,
doubling up to ``RETRY_MAX``, before it lets the daemon write again, instead of
spinning.  TRY_AGAIN (a verify lost a race) is retried at once.  A success resets the
back-off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import ovs.poller

from pyovn.daemon.ratelimit import RateLimitedLogger
from pyovn.ovsdb import Client, Op, Transaction, TxnStatus

__all__ = ["RETRY_MAX", "RETRY_MIN", "TxnGate"]

RETRY_MIN = 0.1
RETRY_MAX = 5.0


class TxnGate:
    """The transactions in flight on named databases (see the module docstring).

    ``on_failure`` is called once for every transaction that did not succeed (the
    daemon forces a recompute there).
    """

    def __init__(self, names: Iterable[str], log: logging.Logger,
                 on_failure: Callable[[], None]) -> None:
        self._txns: dict[str, Transaction | None] = dict.fromkeys(names)
        self._on_failure = on_failure
        self._rl = RateLimitedLogger(log)
        self.backoff = 0.0
        self.retry_at = 0.0

    def settle(self) -> None:
        """Forget finished transactions; count failures (call after the clients ran)."""
        for name, txn in self._txns.items():
            if txn is None or not txn.done:
                continue
            self._txns[name] = None
            if txn.status is TxnStatus.SUCCESS:
                self.backoff = 0.0
                continue
            if txn.status is TxnStatus.ERROR:
                self.backoff = min(max(RETRY_MIN, self.backoff * 2), RETRY_MAX)
                self.retry_at = time.monotonic() + self.backoff
            self._rl.warning(("txn", name, txn.status),
                             "%s transaction failed (%s): %s %s; recomputing in %.1f s",
                             name, txn.status.name, txn.error, txn.details or "",
                             self.retry_delay())
            self._on_failure()

    def in_flight(self, name: str) -> bool:
        """Whether a transaction on ``name`` awaits its reply."""
        return self._txns[name] is not None

    @property
    def idle(self) -> bool:
        """No transaction awaits a reply on any database."""
        return all(t is None for t in self._txns.values())

    def retry_delay(self) -> float:
        """Seconds until writing is allowed again after a failure (0: now)."""
        return max(0.0, self.retry_at - time.monotonic())

    def ops(self, name: str) -> list[Op] | None:
        """A list for the engine's writes to ``name``, or None while it cannot take one."""
        return [] if not self.in_flight(name) and not self.retry_delay() else None

    def commit(self, name: str, client: Client, ops: list[Op] | None) -> None:
        """Send the writes the engine made (nothing if there are none)."""
        if ops:
            self._txns[name] = client.transact(ops)

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Wake when writing is allowed again: at once, or when the back-off ends."""
        delay = self.retry_delay()
        if delay > 0:
            poller.timer_wait(int(delay * 1000) + 1)
        else:
            poller.immediate_wake()
