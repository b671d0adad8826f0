"""The engine nodes that read: who this chassis is, what is local, which zones.

- ``chassis`` (:class:`ChassisNode`): this chassis's identity
  (:class:`~pyovn.controller.binding.ChassisIdentity`: name, hostname, SB Chassis UUID
  once the row exists, Encap UUIDs by IP).
- ``runtime_data`` (:class:`RuntimeDataNode`): what 23.03's node of the same name holds
  for the flows and zones: local interfaces and claimed ports, local datapaths with
  their localnet ports, br-int's patch ports (:class:`RuntimeData`). Each run says what
  changed in it (``changed_lports``, ``changed_datapaths``), found by comparing with
  the previous data, so consumers recompute only those. Port_Binding changes that
  cannot affect it (ports of other chassis in datapaths that are not local) are
  recognised and skipped; anything else recomputes, which costs one visit of the local
  interfaces and of the ports of the local datapaths.
- ``ct_zones`` (:class:`CtZonesNode`): the conntrack zone assignment, restored from
  br-int's ``external_ids`` on the first run (so a restart keeps every zone), then
  following the zone users; per run, the users whose zone changed.
- ``if_status`` (:class:`IfStatusNode`): the input through which ofctrl reports flows
  installed.

The writers that act on these live in :mod:`~pyovn.controller.sync_nodes`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyovn.controller.binding import (
    Bindings,
    ChassisIdentity,
    IfStatus,
    LocalDatapath,
    compute_bindings,
    compute_local_datapaths,
    local_interfaces,
    patch_ofports,
)
from pyovn.controller.chassis import external_id
from pyovn.controller.chassis_config import ChassisConfig
from pyovn.controller.ct_zones import CtZones, zone_users
from pyovn.engine import HandlerResult, InputNode, Node, noop_handler
from pyovn.engine.ovsdb_input import TableInput
from pyovn.ovsdb import Row

__all__ = ["ChassisNode", "CtZonesData", "CtZonesNode", "IfStatusNode", "RuntimeData",
           "RuntimeDataNode", "integration_bridge"]


def integration_bridge(bridges: TableInput, config: ChassisConfig | None) -> Row | None:
    """The integration bridge's row (``ovn-bridge``, default br-int), if it exists."""
    if config is None:
        return None
    return next((r for r in bridges.rows.values() if r["name"] == config.bridge), None)


class ChassisNode(Node[ChassisIdentity | None]):
    """This chassis's identity: name, hostname, SB Chassis UUID (None until the row
    exists) and Encap UUIDs by IP. None while the chassis configuration is unusable."""

    def __init__(self, chassis_config: Node[ChassisConfig | None], open_vswitch: TableInput,
                 sb_chassis: TableInput, sb_encap: TableInput) -> None:
        super().__init__("chassis", None)
        self.config, self.open_vswitch = chassis_config, open_vswitch
        self.sb_chassis, self.sb_encap = sb_chassis, sb_encap
        # No handlers: a few rows; run() is cheap and its data rarely changes, so the
        # consumers (which compare) are not disturbed by unrelated chassis rows.
        for node in (chassis_config, open_vswitch, sb_chassis, sb_encap):
            self.add_input(node)

    def run(self, ctx: Any) -> bool:
        """Find this chassis's rows."""
        config = self.config.data
        identity: ChassisIdentity | None = None
        if config is not None:
            ovs_row = self.open_vswitch.only_row()
            ids = ovs_row["external_ids"] if ovs_row is not None else {}
            hostname = external_id(ids, config.system_id, "hostname") or socket.gethostname()
            row = next((r for r in self.sb_chassis.rows.values()
                        if r["name"] == config.system_id), None)
            encaps: dict[str, str] = {}
            if row is not None:
                for uuid in row["encaps"]:
                    encap = self.sb_encap.rows.get(uuid)
                    if encap is not None:
                        encaps.setdefault(encap["ip"], uuid)
            identity = ChassisIdentity(row.uuid if row is not None else None,
                                       config.system_id, hostname, encaps)
        changed, self.data = identity != self.data, identity
        return changed


@dataclass
class RuntimeData:
    """The local state the flows depend on, and what changed in it in this run."""

    chassis: ChassisIdentity | None = None
    bridge: Row | None = None
    bindings: Bindings = field(default_factory=Bindings)
    local_datapaths: dict[str, LocalDatapath] = field(default_factory=dict)
    patch_ofports: dict[str, int] = field(default_factory=dict)
    changed_lports: set[str] = field(default_factory=set)
    changed_datapaths: set[str] = field(default_factory=set)


def _diff_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


class RuntimeDataNode(Node[RuntimeData]):
    """Computes :class:`RuntimeData` from the local OVS and the SB."""

    def __init__(self, chassis: Node[ChassisIdentity | None],
                 chassis_config: Node[ChassisConfig | None], bridges: TableInput,
                 ports: TableInput, interfaces: TableInput, sb_port_binding: TableInput,
                 sb_datapath_binding: TableInput) -> None:
        super().__init__("runtime_data", RuntimeData())
        self.chassis, self.config = chassis, chassis_config
        self.bridges, self.ports, self.interfaces = bridges, ports, interfaces
        self.sb_port_binding, self.sb_datapath_binding = sb_port_binding, sb_datapath_binding
        self.add_input(chassis)
        self.add_input(chassis_config)
        # Local OVS changes are few and all relevant: recompute.
        self.add_input(bridges)
        self.add_input(ports)
        self.add_input(interfaces)
        self.add_input(sb_port_binding, self._port_binding_handler)
        self.add_input(sb_datapath_binding, self._datapath_handler)

    def clear_tracked_data(self) -> None:
        """Nothing changed yet in this run."""
        self.data.changed_lports = set()
        self.data.changed_datapaths = set()

    def _pb_index(self, column: str, value: Any) -> Iterable[Row]:
        return self.sb_port_binding.client.index("Port_Binding", column).rows(value)

    def _pb_by_name(self, name: str) -> Row | None:
        return next(iter(self._pb_index("logical_port", name)), None)

    def run(self, ctx: Any) -> bool:
        """Recompute, and track what differs from the previous data."""
        old = self.data
        new = RuntimeData(chassis=self.chassis.data)
        if new.chassis is not None:
            bridge = integration_bridge(self.bridges, self.config.data)
            ports, ifaces = self.ports.rows, self.interfaces.rows
            new.bridge = bridge
            new.bindings = compute_bindings(
                local_interfaces(bridge, ports, ifaces), self._pb_by_name,
                lambda name: self._pb_index("parent_port", name), new.chassis)
            dps = self.sb_datapath_binding.rows

            def dp_key(uuid: str) -> int | None:
                row = dps.get(uuid)
                return row["tunnel_key"] if row is not None else None

            new.local_datapaths = compute_local_datapaths(
                {pb["datapath"] for pb in new.bindings.claimed.values()}, dp_key,
                lambda dp: self._pb_index("datapath", dp), self._pb_by_name)
            for dp in new.local_datapaths:
                # Every localnet port of a local datapath is local (it gets a zone).
                new.bindings.local_lports.update(
                    pb["logical_port"] for pb in self._pb_index("datapath", dp)
                    if pb["type"] == "localnet")
            new.patch_ofports = patch_ofports(bridge, ports, ifaces)
        ob, nb = old.bindings, new.bindings
        changed = _diff_keys(ob.claimed, nb.claimed) | _diff_keys(ob.ofports, nb.ofports)
        changed |= ob.local_lports ^ nb.local_lports
        changed |= _diff_keys(old.patch_ofports, new.patch_ofports)
        new.changed_lports = changed
        new.changed_datapaths = _diff_keys(old.local_datapaths, new.local_datapaths)
        moved = (old.chassis != new.chassis or old.bridge != new.bridge
                 or _diff_keys(ob.ifaces, nb.ifaces))
        self.data = new
        return bool(changed or new.changed_datapaths or moved)

    def _relevant(self, pb: Row) -> bool:
        data = self.data
        ifaces = data.bindings.ifaces
        return (pb["logical_port"] in ifaces or pb["parent_port"] in ifaces
                or pb["datapath"] in data.local_datapaths
                or (data.chassis is not None and pb["chassis"] == data.chassis.uuid))

    def _port_binding_handler(self, ctx: Any) -> HandlerResult:
        changes = self.sb_port_binding.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        rows = [*changes.inserted.values(), *changes.deleted.values()]
        for old, new in changes.modified.values():
            rows += (old, new)
        if any(self._relevant(pb) for pb in rows):
            return HandlerResult.UNHANDLED
        # Ports of other chassis in datapaths that are not local: nothing here changes.
        return HandlerResult.HANDLED_UNCHANGED

    def _datapath_handler(self, ctx: Any) -> HandlerResult:
        changes = self.sb_datapath_binding.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        local = self.data.local_datapaths
        if any(u in local for u in (*changes.modified, *changes.deleted)):
            return HandlerResult.UNHANDLED
        # A new datapath has no local port yet; other datapaths are not ours.
        return HandlerResult.HANDLED_UNCHANGED


class IfStatusNode(InputNode[set[str]]):
    """The engine input through which ofctrl reports that flows are in the switch.

    The daemon calls :meth:`flows_requested` after handing an engine run's desired
    flows to ofctrl (with the sequence number of that put) and :meth:`flows_installed`
    when the switch acknowledged a sequence number. Ports become installed only once
    their claim is in the SB (as 23.03 waits for the claim's transaction), so the
    flows that depend on the claim (multicast groups, port security) are in too.
    Its changes are the ports newly installed.
    """

    def __init__(self, runtime_data: RuntimeDataNode) -> None:
        super().__init__("if_status", merge=lambda a, b: a | b)
        self.status = IfStatus()
        self._runtime_data = runtime_data

    def flows_requested(self, seqno: int) -> None:
        """The current desired flows went out in put ``seqno``."""
        data = self._runtime_data.data
        uuid = data.chassis.uuid if data.chassis is not None else None
        committed = {name for name, pb in data.bindings.claimed.items()
                     if uuid is not None and pb["chassis"] == uuid}
        self.status.sync(committed)
        self.status.flows_requested(seqno)

    def flows_installed(self, seqno: int) -> None:
        """The switch acknowledged every put up to ``seqno``."""
        done = self.status.flows_installed(seqno)
        if done:
            self.set_changes(done)

    @property
    def installed(self) -> set[str]:
        """Ports whose flows are installed."""
        return self.status.installed


@dataclass
class CtZonesData:
    """The zone assignment and the users whose zone changed in this run."""

    zones: CtZones = field(default_factory=CtZones)
    changed: set[str] = field(default_factory=set)


class CtZonesNode(Node[CtZonesData]):
    """Assigns conntrack zones (see the module docstring)."""

    def __init__(self, runtime_data: Node[RuntimeData], bridges: TableInput) -> None:
        super().__init__("ct_zones", CtZonesData())
        self.runtime_data, self.bridges = runtime_data, bridges
        self._restored = False
        self.add_input(runtime_data, self._runtime_handler)
        # The bridge's ct-zone keys are read once, at start-up; afterwards this node is
        # their only writer, so their changes are its own echoes.
        self.add_input(bridges, noop_handler)

    @property
    def restored(self) -> bool:
        """Whether the saved assignment has been read (the bridge was found)."""
        return self._restored

    def clear_tracked_data(self) -> None:
        """No zone changed yet in this run."""
        self.data.changed = set()

    def _users(self) -> set[str]:
        data = self.runtime_data.data
        return zone_users(data.bindings.local_lports, data.local_datapaths)

    def run(self, ctx: Any) -> bool:
        """Restore once (when the bridge is known), then follow the users."""
        bridge = self.runtime_data.data.bridge
        if not self._restored and bridge is not None:
            self.data.zones = CtZones.restore(bridge["external_ids"])
            self._restored = True
            self.data.changed = set(self.data.zones.zones)
        self.data.changed |= self.data.zones.update(self._users())
        return bool(self.data.changed)

    def _runtime_handler(self, ctx: Any) -> HandlerResult:
        if not self._restored:
            return HandlerResult.UNHANDLED
        changed = self.data.zones.update(self._users())
        self.data.changed |= changed
        return HandlerResult.HANDLED_UPDATED if changed else HandlerResult.HANDLED_UNCHANGED
