"""Errors of the OVSDB client layer.

::

    OvsdbError (pyovn.errors)
    ├── SchemaError            the caller named a table/column the schema lacks, or the
    │                          schema file is unreadable (caller's fault)
    ├── OvsdbValueError        a Python value does not fit a column's type (caller's fault)
    ├── ProtocolError          the server sent something that is not OVSDB JSON-RPC
    │                          (remote's fault; the client logs it and reconnects)
    ├── CommitError            Client.commit() gave up: ERROR, NOT_LOCKED or too many
    │                          TRY_AGAIN; carries the Transaction
    └── OvsdbTimeoutError      a blocking helper ran out of time (also a TimeoutError)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyovn.errors import OvsdbError

if TYPE_CHECKING:
    from pyovn.ovsdb.transaction import Transaction

__all__ = [
    "CommitError",
    "OvsdbError",
    "OvsdbTimeoutError",
    "OvsdbValueError",
    "ProtocolError",
    "SchemaError",
]


class SchemaError(OvsdbError):
    """Raised when a client is built for a table or column its schema does not have, or
    the schema cannot be read. Fix the caller (or install the right schema)."""


class OvsdbValueError(OvsdbError, ValueError):
    """Raised by the op builders when a Python value cannot be encoded for its column
    (wrong type, a non-UUID where a row reference is needed). Fix the caller's value."""


class ProtocolError(OvsdbError):
    """Raised by the JSON-RPC framing when the peer sends bytes that are not a stream of
    JSON objects. The client catches it, logs it once and reconnects; a direct user of
    the framer should drop the connection."""


class CommitError(OvsdbError):
    """Raised by :meth:`Client.commit` when a transaction ends in ERROR or NOT_LOCKED, or
    still needs TRY_AGAIN after the allowed number of tries. ``txn`` holds the last
    attempt (status, error, details, the failing op); the caller reports it or gives up
    this change."""

    def __init__(self, message: str, txn: Transaction | None) -> None:
        super().__init__(message)
        self.txn = txn


class OvsdbTimeoutError(OvsdbError, TimeoutError):
    """Raised by the blocking helpers (:meth:`Client.run_until`, :meth:`Client.commit`)
    when the condition did not come true in time, e.g. the server is unreachable."""
