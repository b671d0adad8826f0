"""pyovn's OVSDB client layer: monitored replicas, change sets, transactions, locks.

::

    client = Client("unix:/run/sb.sock", SB_SCHEMA, {"Logical_Flow": None,
                                                    "Port_Binding": ["logical_port"]})
    client.run_until(lambda: client.synced, timeout=10)
    for uuid, row in client.tables["Logical_Flow"].rows.items(): ...
    changes = client.take_changes()           # {"Logical_Flow": TableChanges(...), ...}
    txn = client.commit(lambda: [Insert("Logical_Flow", {...}, uuid=my_uuid)])

Rows are immutable snapshots with ``__slots__``; values take Python forms decided by the
column type (see :mod:`pyovn.ovsdb.values`). The wire protocol is RFC 7047 with
ovsdb-server's extensions (monitor_cond_since, update2/update3, lock/steal/unlock,
client-chosen UUIDs on insert).
"""

from pyovn.ovsdb.client import Client
from pyovn.ovsdb.errors import (
    CommitError,
    OvsdbError,
    OvsdbTimeoutError,
    OvsdbValueError,
    ProtocolError,
    SchemaError,
)
from pyovn.ovsdb.framing import Framer
from pyovn.ovsdb.index import Index
from pyovn.ovsdb.ops import Comment, Delete, Insert, Mutate, Op, Update, Verify, Wait
from pyovn.ovsdb.replica import Replica, Table
from pyovn.ovsdb.rows import Row, TableChanges, columns_getter
from pyovn.ovsdb.schema import ColumnType, Form, Schema, TableSchema
from pyovn.ovsdb.transaction import Transaction, TxnStatus
from pyovn.ovsdb.values import NamedUuid

__all__ = [
    "Client",
    "ColumnType",
    "Comment",
    "CommitError",
    "Delete",
    "Form",
    "Framer",
    "Index",
    "Insert",
    "Mutate",
    "NamedUuid",
    "Op",
    "OvsdbError",
    "OvsdbTimeoutError",
    "OvsdbValueError",
    "ProtocolError",
    "Replica",
    "Row",
    "Schema",
    "SchemaError",
    "Table",
    "TableChanges",
    "TableSchema",
    "Transaction",
    "TxnStatus",
    "Update",
    "Verify",
    "Wait",
    "columns_getter",
]
