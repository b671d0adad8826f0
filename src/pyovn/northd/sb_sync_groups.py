"""The ``sync_address_sets`` and ``sync_port_groups`` nodes.

SB Address_Set: every NB address set, the derived ``<pg>_ip4`` / ``<pg>_ip6`` sets and
``svc_monitor_mac`` (rows matched by name). SB Port_Group: one row per port group and
switch holding one of its ports, named ``<datapath tunnel key>_<port group name>``, with
the names of the members on that switch — as ovn-northd 23.03 writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.model import NorthdData
from pyovn.northd.sb_sync import RowSync
from pyovn.ovsdb import Row

__all__ = ["SyncAddressSets", "SyncPortGroups", "sb_port_group_name"]


def _name(row: Row) -> str:
    name: str = row["name"]
    return name


def sb_port_group_name(tunnel_key: int, pg_name: str) -> str:
    """The SB Port_Group name of port group ``pg_name`` on a datapath."""
    return f"{tunnel_key}_{pg_name}"


class SyncAddressSets(Node[None]):
    """Writes SB Address_Set; no data of its own."""

    def __init__(self, northd: Node[NorthdData], sb_address_set: TableInput) -> None:
        super().__init__("sync_address_sets", None, needs_txn=lambda ctx: ctx.sb_ops)
        self.northd, self.table = northd, sb_address_set
        self.rows: RowSync[str] = RowSync("Address_Set", ("name", "addresses"), _name)
        self.add_input(northd, self.northd_handler)
        self.add_input(sb_address_set, self.sb_handler)

    def _set_desired(self, names: Iterable[str]) -> set[str]:
        sets = self.northd.data.address_sets
        for name in names:
            info = sets.get(name)
            if info is None:
                self.rows.desired.pop(name, None)
            else:
                self.rows.desired[name] = {"name": name,
                                           "addresses": tuple(sorted(info.addresses))}
        return set(names)

    def run(self, ctx: Any) -> bool:
        """Sync every address set."""
        self.rows.desired.clear()
        self._set_desired(self.northd.data.address_sets)
        self.rows.load(self.table.rows.values())
        self.rows.sync_all(ctx.sb_ops)
        return False

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Sync the address sets that changed."""
        tracked = self.northd.data.tracked
        if tracked is None:
            return HandlerResult.UNHANDLED
        self.rows.sync(self._set_desired(tracked.address_sets_changed), ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED

    def sb_handler(self, ctx: Any) -> HandlerResult:
        """Repair rows someone else changed or deleted."""
        changes = self.table.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        self.rows.sb_changed(changes, ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED


class SyncPortGroups(Node[None]):
    """Writes SB Port_Group; no data of its own."""

    def __init__(self, northd: Node[NorthdData], sb_port_group: TableInput) -> None:
        super().__init__("sync_port_groups", None, needs_txn=lambda ctx: ctx.sb_ops)
        self.northd, self.table = northd, sb_port_group
        self.rows: RowSync[str] = RowSync("Port_Group", ("name", "ports"), _name)
        self._keys_of: dict[str, set[str]] = {}         # PG name → SB names
        self._pgs_on: dict[str, set[str]] = {}          # switch name → PG names
        self._pgs_of: dict[str, set[str]] = {}          # port name → PG names
        self.add_input(northd, self.northd_handler)
        self.add_input(sb_port_group, self.sb_handler)

    def _set_desired(self, pg_names: Iterable[str]) -> set[str]:
        data = self.northd.data
        keys: set[str] = set()
        for pg_name in pg_names:
            for key in self._keys_of.pop(pg_name, ()):
                self.rows.desired.pop(key, None)
                keys.add(key)
            for on in self._pgs_on.values():
                on.discard(pg_name)
            pg = data.port_groups.get(pg_name)
            if pg is None:
                continue
            mine = self._keys_of[pg_name] = set()
            by_switch: dict[str, list[str]] = {}
            for port in pg.ports:
                by_switch.setdefault(data.ports[port].datapath, []).append(port)
                self._pgs_of.setdefault(port, set()).add(pg_name)
            for sw_name, ports in by_switch.items():
                key = sb_port_group_name(data.switches[sw_name].tunnel_key, pg_name)
                self.rows.desired[key] = {"name": key, "ports": tuple(sorted(ports))}
                mine.add(key)
                keys.add(key)
                self._pgs_on.setdefault(sw_name, set()).add(pg_name)
        return keys

    def run(self, ctx: Any) -> bool:
        """Sync every port group."""
        self.rows.desired.clear()
        self._keys_of.clear()
        self._pgs_on.clear()
        self._pgs_of.clear()
        self._set_desired(self.northd.data.port_groups)
        self.rows.load(self.table.rows.values())
        self.rows.sync_all(ctx.sb_ops)
        return False

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Sync the port groups that changed, those of ports that changed, and those on
        a switch that was replaced (its tunnel key is part of the SB name)."""
        tracked = self.northd.data.tracked
        if tracked is None:
            return HandlerResult.UNHANDLED
        names = set(tracked.port_groups_added) | tracked.port_groups_updated
        names.update(tracked.port_groups_deleted)
        # A member that moved to another switch moves between this group's SB rows
        # without changing the group itself.
        for port in tracked.ports_updated:
            names.update(self._pgs_of.get(port, ()))
        for port in tracked.ports_deleted:
            names.update(self._pgs_of.pop(port, ()))
        for sw_name in (*tracked.datapaths_added, *tracked.datapaths_updated,
                        *tracked.datapaths_deleted):
            names.update(self._pgs_on.get(sw_name, ()))
            sw = self.northd.data.switches.get(sw_name)
            if sw is not None:
                names.update(sw.port_groups)
        self.rows.sync(self._set_desired(names), ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED

    def sb_handler(self, ctx: Any) -> HandlerResult:
        """Repair rows someone else changed or deleted."""
        changes = self.table.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        self.rows.sb_changed(changes, ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED
