"""The ``sync_datapaths`` node: one SB Datapath_Binding per switch.

Rows are matched by ``external_ids:logical-switch`` (the NB UUID), so rows written by
ovn-northd or an earlier pyovn-northd are kept as they are when they agree. Data: the
SB UUID of each switch (:class:`~pyovn.northd.seam.SbDatapaths`), which Port_Binding,
Multicast_Group and Logical_Flow rows refer to.
"""

from __future__ import annotations

from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.datapaths import datapath_binding_row
from pyovn.northd.model import NorthdData, SwitchDatapath
from pyovn.northd.sb_sync import RowSync
from pyovn.northd.seam import SbDatapaths
from pyovn.ovsdb import Row

__all__ = ["SyncDatapaths"]


def _key(row: Row) -> str | None:
    key: str | None = row["external_ids"].get("logical-switch")
    return key


def desired_datapath(sw: SwitchDatapath) -> dict[str, Any]:
    """The Datapath_Binding columns of switch ``sw``."""
    return datapath_binding_row(sw.uuid, sw.name, sw.tunnel_key, sw.external_ids,
                                sw.other_config)


class SyncDatapaths(Node[SbDatapaths]):
    """Writes Datapath_Binding; data: switch name → SB UUID."""

    def __init__(self, northd: Node[NorthdData], sb_datapath_binding: TableInput) -> None:
        super().__init__("sync_datapaths", SbDatapaths(), needs_txn=lambda ctx: ctx.sb_ops)
        self.northd, self.table = northd, sb_datapath_binding
        self.rows: RowSync[str] = RowSync("Datapath_Binding", ("tunnel_key", "external_ids"),
                                          _key)
        self._ls_of: dict[str, str] = {}        # switch name → NB UUID
        self._name_of: dict[str, str] = {}      # NB UUID → switch name
        self.add_input(northd, self.northd_handler)
        self.add_input(sb_datapath_binding, self.sb_handler)

    def clear_tracked_data(self) -> None:
        """No datapath changed yet in this run."""
        self.data.changed = set()

    def run(self, ctx: Any) -> bool:
        """Sync every switch."""
        switches = self.northd.data.switches
        self.rows.desired = {sw.uuid: desired_datapath(sw) for sw in switches.values()}
        self._ls_of = {name: sw.uuid for name, sw in switches.items()}
        self._name_of = {ls: name for name, ls in self._ls_of.items()}
        self.rows.load(self.table.rows.values())
        self.rows.sync_all(ctx.sb_ops)
        self.data = SbDatapaths(self._uuids(), None)
        return True

    def _uuids(self) -> dict[str, str]:
        out = {}
        for name, ls in self._ls_of.items():
            uuid = self.rows.uuid(ls)
            if uuid is not None:
                out[name] = uuid
        return out

    def _finish(self, names: set[str]) -> HandlerResult:
        changed = self.data.changed
        assert changed is not None
        for name in names:
            ls = self._ls_of.get(name)
            uuid = self.rows.uuid(ls) if ls is not None else None
            if uuid != self.data.uuids.get(name):
                changed.add(name)
                if uuid is None:
                    self.data.uuids.pop(name, None)
                else:
                    self.data.uuids[name] = uuid
        return HandlerResult.HANDLED_UPDATED if changed else HandlerResult.HANDLED_UNCHANGED

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Sync the switches northd added, changed or removed."""
        tracked = self.northd.data.tracked
        if tracked is None:
            return HandlerResult.UNHANDLED
        switches = self.northd.data.switches
        keys: set[str] = set()
        names = set(tracked.datapaths_deleted)
        names.update(tracked.datapaths_added, tracked.datapaths_updated)
        # Forget first, then set: a renamed switch keeps its NB UUID (the row key).
        for name in names:
            old = self._ls_of.pop(name, None)
            if old is not None:
                self.rows.desired.pop(old, None)
                self._name_of.pop(old, None)
                keys.add(old)
        for name in names:
            sw = switches.get(name)
            if sw is not None:
                self._ls_of[name] = sw.uuid
                self._name_of[sw.uuid] = name
                self.rows.desired[sw.uuid] = desired_datapath(sw)
                keys.add(sw.uuid)
        self.rows.sync(keys, ctx.sb_ops)
        return self._finish(names)

    def sb_handler(self, ctx: Any) -> HandlerResult:
        """Repair rows someone else changed or deleted (our own writes match)."""
        changes = self.table.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        touched = self.rows.sb_changed(changes, ctx.sb_ops)
        names = {self._name_of[ls] for ls in touched if ls in self._name_of}
        return self._finish(names)
