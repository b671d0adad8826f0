"""The ``sync_port_bindings`` node: one SB Port_Binding per valid logical switch port.

Rows are matched by ``logical_port``. ``up`` is set to false when a row is created (or
found empty) and otherwise left to the controller, as ovn-northd 23.03 does.
Data: the Port_Binding UUID of each port (Multicast_Group rows refer to them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.model import NorthdData, SwitchPort
from pyovn.northd.ports import port_binding_row, requested_chassis
from pyovn.northd.sb_sync import RowSync
from pyovn.northd.seam import SbDatapaths
from pyovn.ovsdb import Row

__all__ = ["PB_COLUMNS", "SbPorts", "SyncPortBindings"]

#: The Port_Binding columns pyovn-northd owns for a logical switch port.
PB_COLUMNS = ("logical_port", "datapath", "tunnel_key", "type", "options", "parent_port",
              "tag", "mac", "port_security", "external_ids", "requested_chassis",
              "requested_additional_chassis", "nat_addresses")


@dataclass
class SbPorts:
    """Port name → Port_Binding UUID, and the names whose UUID changed in this run
    (None after a recompute)."""

    uuids: dict[str, str] = field(default_factory=dict)
    changed: set[str] | None = None


def _key(row: Row) -> str:
    name: str = row["logical_port"]
    return name


class SyncPortBindings(Node[SbPorts]):
    """Writes Port_Binding; data: port name → SB UUID."""

    def __init__(self, northd: Node[NorthdData], datapaths: Node[SbDatapaths],
                 sb_port_binding: TableInput, sb_chassis: TableInput) -> None:
        super().__init__("sync_port_bindings", SbPorts(), needs_txn=lambda ctx: ctx.sb_ops)
        self.northd, self.datapaths = northd, datapaths
        self.table, self.chassis = sb_port_binding, sb_chassis
        self.rows: RowSync[str] = RowSync("Port_Binding", PB_COLUMNS, _key,
                                          defaults={"up": False})
        self._wants_chassis: set[str] = set()   # ports with options:requested-chassis
        self.add_input(northd, self.northd_handler)
        self.add_input(datapaths, self.datapaths_handler)
        self.add_input(sb_port_binding, self.sb_handler)
        self.add_input(sb_chassis, self.chassis_handler)

    def clear_tracked_data(self) -> None:
        """No port changed yet in this run."""
        self.data.changed = set()

    # -- desired rows ----------------------------------------------------------------

    def _chassis_maps(self) -> tuple[dict[str, str], dict[str, str]]:
        by_name: dict[str, str] = {}
        by_host: dict[str, str] = {}
        for row in self.chassis.rows.values():
            by_name[row["name"]] = row.uuid
            if row["hostname"]:
                by_host.setdefault(row["hostname"], row.uuid)
        return by_name, by_host

    def _set_desired(self, names: Iterable[str],
                     maps: tuple[dict[str, str], dict[str, str]] | None = None) -> set[str]:
        data = self.northd.data
        dps = self.datapaths.data.uuids
        for name in names:
            port: SwitchPort | None = data.ports.get(name)
            dp_uuid = dps.get(port.datapath) if port is not None else None
            if port is None or dp_uuid is None:
                self.rows.desired.pop(name, None)
                self._wants_chassis.discard(name)
                continue
            option = port.options.get("requested-chassis")
            if option:
                self._wants_chassis.add(name)
                if maps is None:
                    maps = self._chassis_maps()
                chassis = requested_chassis(option, *maps)
            else:
                self._wants_chassis.discard(name)
                chassis = (None, ())
            self.rows.desired[name] = port_binding_row(
                port, data.switches[port.datapath], dp_uuid, chassis)
        return set(names)

    def _finish(self, names: set[str]) -> HandlerResult:
        changed = self.data.changed
        assert changed is not None
        for name in names:
            uuid = self.rows.uuid(name)
            if uuid != self.data.uuids.get(name):
                changed.add(name)
                if uuid is None:
                    self.data.uuids.pop(name, None)
                else:
                    self.data.uuids[name] = uuid
        return HandlerResult.HANDLED_UPDATED if changed else HandlerResult.HANDLED_UNCHANGED

    # -- engine ----------------------------------------------------------------------

    def run(self, ctx: Any) -> bool:
        """Sync every port."""
        self.rows.desired.clear()
        self._wants_chassis.clear()
        self._set_desired(self.northd.data.ports, self._chassis_maps())
        self.rows.load(self.table.rows.values())
        self.rows.sync_all(ctx.sb_ops)
        self.data = SbPorts({n: u for n in self.rows.desired
                             if (u := self.rows.uuid(n)) is not None}, None)
        return True

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Sync the ports northd added, changed or removed, and every port of a switch
        whose switch-level columns changed (``vlan-passthru`` is copied to ports)."""
        data = self.northd.data
        tracked = data.tracked
        if tracked is None:
            return HandlerResult.UNHANDLED
        names = set(tracked.ports_added) | tracked.ports_updated | set(tracked.ports_deleted)
        for sw_name in tracked.datapaths_updated:
            names.update(data.switches[sw_name].ports)
        self.rows.sync(self._set_desired(names), ctx.sb_ops)
        return self._finish(names)

    def datapaths_handler(self, ctx: Any) -> HandlerResult:
        """A switch's Datapath_Binding UUID changed: its ports refer to the new one."""
        changed = self.datapaths.data.changed
        if changed is None:
            return HandlerResult.UNHANDLED
        switches = self.northd.data.switches
        names: set[str] = set()
        for sw_name in changed:
            sw = switches.get(sw_name)
            if sw is not None:
                names.update(sw.ports)
        self.rows.sync(self._set_desired(names), ctx.sb_ops)
        return self._finish(names)

    def sb_handler(self, ctx: Any) -> HandlerResult:
        """Repair rows someone else changed or deleted (our own writes match, and the
        controller's columns — chassis, up, encap — are not ours)."""
        changes = self.table.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        return self._finish(self.rows.sb_changed(changes, ctx.sb_ops))

    def chassis_handler(self, ctx: Any) -> HandlerResult:
        """Chassis came or went: re-resolve ``requested-chassis`` of the ports that
        ask for one."""
        names = set(self._wants_chassis)
        if names:
            self.rows.sync(self._set_desired(names), ctx.sb_ops)
        return self._finish(names)
