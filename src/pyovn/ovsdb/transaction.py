"""A transaction sent by the client, and how its reply maps to a status.

Status, as in OVS's IDL: INCOMPLETE while waiting for the reply; SUCCESS; TRY_AGAIN
when the transaction may succeed if rebuilt from a fresher view (a verify/wait failed,
the connection went away before the reply, the server is not the cluster leader);
NOT_LOCKED when the client does not hold its lock (refused locally, or the server's
lock assertion failed); ERROR otherwise, with the server's error, details and the
index of the op that failed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from pyovn.ovsdb.ops import Insert, Op, describe

__all__ = ["Transaction", "TxnStatus"]

#: Server error strings that mean "rebuild from a fresher view and retry".
_RETRY_ERRORS = frozenset({"timed out", "not leader", "canceled"})


class TxnStatus(enum.Enum):
    """The outcome of a :class:`Transaction` (INCOMPLETE until it is known)."""

    INCOMPLETE = "incomplete"
    SUCCESS = "success"
    TRY_AGAIN = "try again"
    ERROR = "error"
    NOT_LOCKED = "not locked"


class Transaction:
    """One ``transact`` request: its ops, and once answered its status and results.

    ``results[i]`` is the server's result object for ``ops[i]`` (e.g. ``{"uuid": …}``
    for an insert, ``{"count": n}`` for update/delete/mutate). ``inserted_uuids`` maps
    each insert's ``uuid_name`` to the UUID the row got. On ERROR, ``error`` and
    ``details`` are the server's and ``failed_op`` is the index of the op that failed
    (None for a failure of the whole commit, e.g. a constraint or reference violation).
    """

    __slots__ = ("_skip", "details", "error", "failed_op", "id", "inserted_uuids", "ops",
                 "results", "seqno_at_send", "status")

    # The statuses under the names OVS's IDL gives them (Transaction.SUCCESS, ...).
    INCOMPLETE = TxnStatus.INCOMPLETE
    SUCCESS = TxnStatus.SUCCESS
    TRY_AGAIN = TxnStatus.TRY_AGAIN
    ERROR = TxnStatus.ERROR
    NOT_LOCKED = TxnStatus.NOT_LOCKED

    def __init__(self, ops: Sequence[Op], txn_id: int | None, *, skip: int = 0,
                 seqno: int = 0) -> None:
        self.ops: tuple[Op, ...] = tuple(ops)
        self.id = txn_id
        self.status = TxnStatus.INCOMPLETE
        self.results: list[Any] = []
        self.inserted_uuids: dict[str, str] = {}
        self.error: str | None = None
        self.details: str | None = None
        self.failed_op: int | None = None
        #: The client's seqno when the transaction was sent (commit() waits past it).
        self.seqno_at_send = seqno
        # Ops the client prepended (the lock assertion) that the caller did not give.
        self._skip = skip

    @property
    def done(self) -> bool:
        """Whether the outcome is known."""
        return self.status is not TxnStatus.INCOMPLETE

    def finish(self, status: TxnStatus, error: str | None = None,
               details: str | None = None) -> None:
        """Settle the outcome without a server reply (refused locally, connection lost)."""
        self.status = status
        self.error = error
        self.details = details

    def handle_reply(self, result: Any, error: Any) -> None:
        """Settle the outcome from the JSON-RPC reply (``result``, ``error``)."""
        if error is not None:
            text = _error_text(error)
            status = TxnStatus.TRY_AGAIN if text in _RETRY_ERRORS else TxnStatus.ERROR
            self.finish(status, text, _details_text(error))
            return
        if not isinstance(result, list):
            self.finish(TxnStatus.ERROR, "bad reply", f"transact reply is {result!r}")
            return
        skip = self._skip
        user = result[skip:skip + len(self.ops)]
        self.results = list(user)
        for i, r in enumerate(result):
            if isinstance(r, dict) and "error" in r:
                self._set_error(i - skip, r)
                return
        for op, r in zip(self.ops, user, strict=False):
            if isinstance(op, Insert) and op.uuid_name and isinstance(r, dict):
                u = r.get("uuid")
                if isinstance(u, list) and len(u) == 2:
                    self.inserted_uuids[op.uuid_name] = u[1]
        self.status = TxnStatus.SUCCESS

    def _set_error(self, index: int, r: dict[str, Any]) -> None:
        err = str(r.get("error"))
        details = r.get("details")
        details_text = None if details is None else str(details)
        if index < 0:
            # The lock assertion the client prepended.
            if err == "not owner":
                self.finish(TxnStatus.NOT_LOCKED, err, details_text)
            else:
                self.finish(TxnStatus.ERROR, err, details_text)
            return
        if err in _RETRY_ERRORS:
            self.finish(TxnStatus.TRY_AGAIN, err, details_text)
            return
        if index < len(self.ops):
            self.failed_op = index
            where = f"op {index} ({describe(self.ops[index])})"
        else:
            where = "commit"
        self.finish(TxnStatus.ERROR, f"{where}: {err}", details_text)

    def __repr__(self) -> str:
        extra = f" {self.error}: {self.details}" if self.error else ""
        return f"<Transaction {self.id} {self.status.name}{extra}>"


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("error", error))
    return str(error)


def _details_text(error: Any) -> str | None:
    if isinstance(error, dict) and error.get("details") is not None:
        return str(error["details"])
    return None
