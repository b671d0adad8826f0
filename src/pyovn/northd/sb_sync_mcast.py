"""The ``sync_multicast_groups`` node: the Multicast_Group rows ovn-northd 23.03 makes
for a switch, from its enabled ports (a group with no port is not written):

=====================  =====  ===========================================
``_MC_flood``          32768  every enabled port
``_MC_unknown``        32769  enabled ports with "unknown" in ``addresses``
``_MC_mrouter_flood``  32770  enabled ports with ``options:mcast_flood_reports``
``_MC_static``         32771  enabled ports with ``options:mcast_flood``
``_MC_flood_l2``       32772  enabled ports that are not router ports
=====================  =====  ===========================================

IGMP/MLD groups learned by controllers (IGMP_Group) are not supported yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.datapaths import smap_get_bool
from pyovn.northd.model import NorthdData, SwitchDatapath, SwitchPort
from pyovn.northd.sb_sync import RowSync
from pyovn.northd.sb_sync_ports import SbPorts
from pyovn.northd.seam import SbDatapaths
from pyovn.northd.tunnel_keys import (
    MC_FLOOD_KEY,
    MC_FLOOD_L2_KEY,
    MC_MROUTER_FLOOD_KEY,
    MC_STATIC_KEY,
    MC_UNKNOWN_KEY,
)
from pyovn.ovsdb import Row

__all__ = ["MC_GROUPS", "SyncMulticastGroups", "switch_groups"]

#: (name, tunnel key) of the groups above.
MC_GROUPS = (("_MC_flood", MC_FLOOD_KEY), ("_MC_unknown", MC_UNKNOWN_KEY),
             ("_MC_mrouter_flood", MC_MROUTER_FLOOD_KEY), ("_MC_static", MC_STATIC_KEY),
             ("_MC_flood_l2", MC_FLOOD_L2_KEY))

Key = tuple[str, str]       # (Datapath_Binding UUID, group name)


def port_groups(port: SwitchPort) -> tuple[str, ...]:
    """The groups ``port`` belongs to on its switch."""
    if not port.enabled:
        return ()
    groups = ["_MC_flood"]
    if port.has_unknown:
        groups.append("_MC_unknown")
    if smap_get_bool(port.options, "mcast_flood_reports", False):
        groups.append("_MC_mrouter_flood")
    if smap_get_bool(port.options, "mcast_flood", False):
        groups.append("_MC_static")
    if port.type != "router":
        groups.append("_MC_flood_l2")
    return tuple(groups)


def switch_groups(sw: SwitchDatapath) -> dict[str, set[str]]:
    """Group name → member port names of switch ``sw`` (non-empty groups only)."""
    groups: dict[str, set[str]] = {}
    for port in sw.ports.values():
        for name in port_groups(port):
            groups.setdefault(name, set()).add(port.name)
    return groups


def _key(row: Row) -> Key:
    return row["datapath"], row["name"]


class SyncMulticastGroups(Node[None]):
    """Writes Multicast_Group; no data of its own."""

    def __init__(self, northd: Node[NorthdData], datapaths: Node[SbDatapaths],
                 ports: Node[SbPorts], sb_multicast_group: TableInput) -> None:
        super().__init__("sync_multicast_groups", None, needs_txn=lambda ctx: ctx.sb_ops)
        self.northd, self.datapaths, self.ports = northd, datapaths, ports
        self.table = sb_multicast_group
        self.rows: RowSync[Key] = RowSync(
            "Multicast_Group", ("datapath", "name", "tunnel_key", "ports"), _key)
        self._keys_of: dict[str, set[Key]] = {}     # switch name → its keys
        # Membership, kept port by port: switch name → group name → port names, and
        # port name → (switch, groups) as last grouped.
        self._members: dict[str, dict[str, set[str]]] = {}
        self._grouped: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.add_input(northd, self.northd_handler)
        self.add_input(datapaths, self.datapaths_handler)
        self.add_input(ports, self.ports_handler)
        self.add_input(sb_multicast_group, self.sb_handler)

    def _regroup_switch(self, sw_name: str) -> None:
        for name in [p for p, (s, _) in self._grouped.items() if s == sw_name]:
            del self._grouped[name]
        self._members.pop(sw_name, None)
        sw = self.northd.data.switches.get(sw_name)
        if sw is not None:
            self._members[sw_name] = switch_groups(sw)
            for port in sw.ports.values():
                self._grouped[port.name] = (sw_name, port_groups(port))

    def _regroup_port(self, name: str) -> set[str]:
        """Move port ``name`` to its current groups; returns the switches touched."""
        touched = set()
        was = self._grouped.pop(name, None)
        if was is not None:
            members = self._members.get(was[0], {})
            for group in was[1]:
                members.get(group, set()).discard(name)
            touched.add(was[0])
        port = self.northd.data.ports.get(name)
        if port is not None:
            groups = port_groups(port)
            members = self._members.setdefault(port.datapath, {})
            for group in groups:
                members.setdefault(group, set()).add(name)
            self._grouped[name] = (port.datapath, groups)
            touched.add(port.datapath)
        return touched

    def _set_desired(self, switches: Iterable[str]) -> set[Key]:
        dps = self.datapaths.data.uuids
        pbs = self.ports.data.uuids
        keys: set[Key] = set()
        switches = set(switches)
        # Forget first, then set: a renamed switch keeps its Datapath_Binding (the key).
        for sw_name in switches:
            for key in self._keys_of.pop(sw_name, ()):
                self.rows.desired.pop(key, None)
                keys.add(key)
        for sw_name in switches:
            dp = dps.get(sw_name)
            members = self._members.get(sw_name)
            if dp is None or members is None:
                continue
            mine = self._keys_of[sw_name] = set()
            for name, tunnel_key in MC_GROUPS:
                uuids = tuple(sorted(u for m in members.get(name, ()) if (u := pbs.get(m))))
                if not uuids:
                    continue
                key = (dp, name)
                self.rows.desired[key] = {"datapath": dp, "name": name,
                                          "tunnel_key": tunnel_key, "ports": uuids}
                mine.add(key)
                keys.add(key)
        return keys

    def run(self, ctx: Any) -> bool:
        """Sync every switch's groups."""
        self.rows.desired.clear()
        self._keys_of.clear()
        self._members.clear()
        self._grouped.clear()
        for sw_name in self.northd.data.switches:
            self._regroup_switch(sw_name)
        self._set_desired(self.northd.data.switches)
        self.rows.load(self.table.rows.values())
        self.rows.sync_all(ctx.sb_ops)
        return False

    def _sync(self, switches: Iterable[str], ctx: Any) -> HandlerResult:
        self.rows.sync(self._set_desired(switches), ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Regroup the ports that changed (a moved port leaves its old switch's groups)
        and the switches that came or went. Switch-level changes do not change groups."""
        data = self.northd.data
        tracked = data.tracked
        if tracked is None:
            return HandlerResult.UNHANDLED
        # Every port of a switch that came, went or changed hands is reported too.
        switches = set(tracked.datapaths_added) | set(tracked.datapaths_deleted)
        switches |= tracked.datapaths_updated
        for name in (*tracked.ports_added, *tracked.ports_updated, *tracked.ports_deleted):
            switches |= self._regroup_port(name)
        for sw_name in tracked.datapaths_deleted:
            if sw_name not in self.northd.data.switches:
                self._members.pop(sw_name, None)
        return self._sync(switches, ctx)

    def datapaths_handler(self, ctx: Any) -> HandlerResult:
        """A Datapath_Binding UUID changed: that switch's groups move to it."""
        changed = self.datapaths.data.changed
        if changed is None:
            return HandlerResult.UNHANDLED
        return self._sync(changed, ctx)

    def ports_handler(self, ctx: Any) -> HandlerResult:
        """A Port_Binding UUID changed: its switch's groups refer to the new one."""
        changed = self.ports.data.changed
        if changed is None:
            return HandlerResult.UNHANDLED
        ports = self.northd.data.ports
        return self._sync({ports[n].datapath for n in changed if n in ports}, ctx)

    def sb_handler(self, ctx: Any) -> HandlerResult:
        """Repair rows someone else changed or deleted."""
        changes = self.table.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        self.rows.sb_changed(changes, ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED
