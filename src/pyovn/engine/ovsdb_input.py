"""Engine leaf nodes fed by an OVSDB client: one :class:`TableInput` per monitored table.

The engine core knows nothing of OVSDB; this adapter is where the two meet. A daemon
creates one TableInput per table it monitors, and before each engine run calls
:func:`feed_changes`, which hands each node the table's change set since the previous
run (rows inserted, modified with their old values, deleted). Because the client diffs
a fresh snapshot against what it had after a reconnection, these change sets are exact
in every case, and handlers may rely on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pyovn.engine._node import InputNode
from pyovn.ovsdb import Client, Row, TableChanges

#: Leaf node names are OVN's: NB_logical_switch, SB_chassis, OVS_open_vswitch.
_PREFIXES = {"OVN_Northbound": "NB", "OVN_Southbound": "SB", "Open_vSwitch": "OVS"}


class TableInput(InputNode[TableChanges]):
    """The leaf node of one OVSDB table: its rows, and the changes of this run."""

    def __init__(self, client: Client, table: str, name: str | None = None) -> None:
        prefix = _PREFIXES.get(client.schema.name, client.schema.name)
        super().__init__(name or f"{prefix}_{table.lower()}")
        self.client = client
        self.table = table

    @property
    def rows(self) -> Mapping[str, Row]:
        """Every row of the table, by UUID (the client's current view)."""
        return self.client.tables[self.table].rows

    def only_row(self) -> Row | None:
        """The single row of a one-row table (NB_Global, SB_Global, Open_vSwitch)."""
        return next(iter(self.rows.values()), None)


def feed_changes(client: Client, inputs: Iterable[TableInput]) -> bool:
    """Take ``client``'s pending change sets and give each to its table's node.

    Returns whether any table changed.
    """
    nodes = {node.table: node for node in inputs}
    changed = False
    for table, changes in client.take_changes().items():
        node = nodes.get(table)
        if node is not None and changes:
            node.set_changes(changes)
            changed = True
    return changed
