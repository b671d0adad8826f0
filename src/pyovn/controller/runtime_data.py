"""The engine nodes that read: who this chassis is, what is local, which zones.

- ``chassis`` (:class:`ChassisNode`): this chassis's identity
  (:class:`~pyovn.controller.binding.ChassisIdentity`: name, hostname, SB Chassis UUID
  once the row exists, Encap UUIDs by IP).
- ``runtime_data`` (:class:`RuntimeDataNode`): what 23.03's node of the same name holds
  for the flows and zones: local interfaces and claimed ports, local datapaths with
  their localnet ports, br-int's patch ports (:class:`RuntimeData`). Each run says what
  changed in it (``changed_lports``, ``changed_datapaths``), so consumers recompute
  only those. Changes of br-int's interfaces and ports and of Port_Bindings are
  handled row by row (a new interface costs a look at it, its port and its
  Port_Binding; :mod:`~pyovn.controller.binding_local`); the local datapaths are
  computed again only when the claimed datapaths, a patch or localnet port of a local
  datapath, or a patch peer changed. A change of identity or configuration recomputes.
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

from pyovn.controller.binding import Bindings, ChassisIdentity, IfStatus, LocalDatapath
from pyovn.controller.binding_local import (
    ClaimTable,
    DatapathClosure,
    IfaceView,
    claims_of,
    local_datapath_closure,
)
from pyovn.controller.chassis import external_id
from pyovn.controller.chassis_config import ChassisConfig
from pyovn.controller.ct_zones import CtZones, zone_users
from pyovn.engine import HandlerResult, InputNode, Node, NodeState, noop_handler
from pyovn.engine.ovsdb_input import TableInput
from pyovn.ovsdb import Row, TableChanges

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
    """The local state the flows depend on, and what changed in it in this run.

    ``changed_lports`` are the logical ports claimed or released (or claimed as
    another Port_Binding row), whose OpenFlow port or local presence changed, and the
    localnet ports whose patch port changed. A new version of a claimed Port_Binding
    (``up`` or ``chassis`` written back) is in ``bindings.claimed`` but not reported:
    the consumers that read its columns follow the Port_Binding table themselves.
    """

    chassis: ChassisIdentity | None = None
    bridge: Row | None = None
    bindings: Bindings = field(default_factory=Bindings)
    local_datapaths: dict[str, LocalDatapath] = field(default_factory=dict)
    patch_ofports: dict[str, int] = field(default_factory=dict)
    changed_lports: set[str] = field(default_factory=set)
    changed_datapaths: set[str] = field(default_factory=set)


def _diff_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    return {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


def _diff_some(old: dict[str, Any], new: dict[str, Any], keys: Iterable[str]) -> set[str]:
    return {k for k in keys if old.get(k) != new.get(k)}


def _claims_diff(old: dict[str, Row], new: dict[str, Row], keys: Iterable[str]) -> set[str]:
    """Ports claimed or released, or claimed as another row (see :class:`RuntimeData`)."""
    out = set()
    for k in keys:
        a, b = old.get(k), new.get(k)
        if (a.uuid if a is not None else None) != (b.uuid if b is not None else None):
            out.add(k)
    return out


#: Port_Binding types that shape the local datapaths (patch peers, localnet ports).
_DATAPATH_TYPES = frozenset({"patch", "localnet"})


class RuntimeDataNode(Node[RuntimeData]):
    """Computes :class:`RuntimeData` from the local OVS and the SB.

    ``run()`` builds everything from the bridge and the Port_Bindings; the handlers of
    the local OVS tables, Port_Binding and Datapath_Binding update the same structures
    (:mod:`~pyovn.controller.binding_local`) for the rows that changed, so a new
    interface costs a look at that interface and its port, not at all of them.
    """

    def __init__(self, chassis: Node[ChassisIdentity | None],
                 chassis_config: Node[ChassisConfig | None], bridges: TableInput,
                 ports: TableInput, interfaces: TableInput, sb_port_binding: TableInput,
                 sb_datapath_binding: TableInput) -> None:
        super().__init__("runtime_data", RuntimeData())
        self.chassis, self.config = chassis, chassis_config
        self.bridges, self.ports, self.interfaces = bridges, ports, interfaces
        self.sb_port_binding, self.sb_datapath_binding = sb_port_binding, sb_datapath_binding
        self._view = IfaceView()
        self._claims = ClaimTable()
        self._closure = DatapathClosure()
        self._handled = False
        # A change of identity or configuration changes everything: recompute.
        self.add_input(chassis)
        self.add_input(chassis_config)
        # One handler takes every table's changes at its first call in a run (the
        # tables change together: a new interface is a Bridge, Port and Interface
        # change), after checking all of them, so none gives up after another handled.
        self.add_input(bridges, self._changes_handler)
        self.add_input(ports, self._changes_handler)
        self.add_input(interfaces, self._changes_handler)
        self.add_input(sb_port_binding, self._changes_handler)
        self.add_input(sb_datapath_binding, self._changes_handler)

    def clear_tracked_data(self) -> None:
        """Nothing changed yet in this run."""
        self.data.changed_lports = set()
        self.data.changed_datapaths = set()
        self._handled = False

    def _pb_index(self, column: str, value: Any) -> Iterable[Row]:
        return self.sb_port_binding.client.index("Port_Binding", column).rows(value)

    def _pb_by_name(self, name: str) -> Row | None:
        return next(iter(self._pb_index("logical_port", name)), None)

    def _claims_of(self, name: str, chassis: ChassisIdentity) -> dict[str, Row]:
        return claims_of(name, self._pb_by_name,
                         lambda parent: self._pb_index("parent_port", parent), chassis)

    def _local_datapaths(self) -> DatapathClosure:
        dps = self.sb_datapath_binding.rows

        def dp_key(uuid: str) -> int | None:
            row = dps.get(uuid)
            return row["tunnel_key"] if row is not None else None

        return local_datapath_closure(self._claims.datapaths, dp_key,
                                      lambda dp: self._pb_index("datapath", dp),
                                      self._pb_by_name)

    def _assemble(self, chassis: ChassisIdentity | None, bridge: Row | None,
                  ofports: dict[str, int]) -> RuntimeData:
        view, closure = self._view, self._closure
        local_lports = set(view.ifaces)
        local_lports.update(self._claims.claimed)
        local_lports |= closure.localnet_lports
        bindings = Bindings(dict(view.ifaces), dict(self._claims.claimed), local_lports,
                            ofports)
        return RuntimeData(chassis, bridge, bindings, dict(closure.datapaths),
                           dict(view.patch_ofports))

    def run(self, ctx: Any) -> bool:
        """Recompute, and track what differs from the previous data."""
        old = self.data
        chassis = self.chassis.data
        self._view = IfaceView()
        self._claims = ClaimTable()
        self._closure = DatapathClosure()
        bridge: Row | None = None
        if chassis is not None:
            bridge = integration_bridge(self.bridges, self.config.data)
            self._view.rebuild(bridge, self.ports.rows, self.interfaces.rows)
            for name in self._view.ifaces:
                self._claims.set_seed(name, self._claims_of(name, chassis))
            self._closure = self._local_datapaths()
        new = self._assemble(chassis, bridge,
                             {n: i.ofport for n, i in self._view.ifaces.items()})
        ob, nb = old.bindings, new.bindings
        changed = _claims_diff(ob.claimed, nb.claimed, ob.claimed.keys() | nb.claimed.keys())
        changed |= _diff_keys(ob.ofports, nb.ofports)
        changed |= ob.local_lports ^ nb.local_lports
        changed |= _diff_keys(old.patch_ofports, new.patch_ofports)
        new.changed_lports = changed
        new.changed_datapaths = _diff_keys(old.local_datapaths, new.local_datapaths)
        moved = (old.chassis != new.chassis or old.bridge != new.bridge
                 or _diff_keys(ob.ifaces, nb.ifaces))
        self.data = new
        return bool(changed or new.changed_datapaths or moved)

    # -- incremental processing ---------------------------------------------------------

    def _updated(self, table: TableInput) -> TableChanges | None:
        """``table``'s changes in this run (None: it did not change)."""
        return table.changes if table.state is NodeState.UPDATED else None

    def _unknown(self) -> bool:
        """Whether some changed table gives no details or changes what the handlers do
        not follow (another bridge, a local datapath's row): recompute then."""
        tables = (self.bridges, self.ports, self.interfaces, self.sb_port_binding,
                  self.sb_datapath_binding)
        if any(t.state is NodeState.UPDATED and t.changes is None for t in tables):
            return True
        data = self.data
        if data.chassis is None:
            return False
        dp_changes = self._updated(self.sb_datapath_binding)
        if dp_changes is not None and any(
                u in data.local_datapaths for u in (*dp_changes.modified, *dp_changes.deleted)):
            return True
        if any(self._updated(t) is not None for t in (self.bridges, self.ports,
                                                      self.interfaces)):
            bridge = integration_bridge(self.bridges, self.config.data)
            old = data.bridge
            if bridge is None or old is None or bridge.uuid != old.uuid \
                    or bridge["name"] != old["name"]:
                return True
        return False

    def _changes_handler(self, ctx: Any) -> HandlerResult:
        if self._handled:
            return HandlerResult.HANDLED_UNCHANGED
        if self._unknown():
            return HandlerResult.UNHANDLED
        self._handled = True
        old = self.data
        chassis = old.chassis
        if chassis is None:
            return HandlerResult.HANDLED_UNCHANGED  # nothing is local without a chassis
        bridge = old.bridge
        ids: set[str] = set()
        lports: set[str] = set()
        if any(self._updated(t) is not None for t in (self.bridges, self.ports,
                                                      self.interfaces)):
            bridge = integration_bridge(self.bridges, self.config.data)
            assert bridge is not None and old.bridge is not None  # see _unknown()
            by_iface = self.ports.client.index("Port", "interfaces")
            ids, lports = self._view.update(bridge, by_iface.rows, self.interfaces.rows,
                                            self._ovs_ifaces(old.bridge, bridge))
        view = self._view
        # Seeds to claim again: interfaces that came or went, and the iface-ids (and
        # parents) of the Port_Bindings that changed.
        seeds = {i for i in ids if (i in view.ifaces) != (i in old.bindings.ifaces)}
        recheck = False
        pb_changes = self._updated(self.sb_port_binding)
        if pb_changes is not None:
            seeds_pb, recheck = self._pb_seeds(pb_changes)
            seeds |= seeds_pb
        dp_changes = self._updated(self.sb_datapath_binding)
        if dp_changes is not None and dp_changes.inserted:
            recheck = True  # it may be the datapath of a claimed port or of a peer
        claimed_dps = set(self._claims.datapaths)
        touched: set[str] = set()
        for name in seeds:
            claims = self._claims_of(name, chassis) if name in view.ifaces else {}
            touched |= self._claims.set_seed(name, claims)
        old_dps = old.local_datapaths
        if recheck or claimed_dps != self._claims.datapaths.keys():
            self._closure = self._local_datapaths()
        ofports = old.bindings.ofports
        if ids:
            ofports = dict(ofports)
            for name in ids:
                iface = view.ifaces.get(name)
                if iface is None:
                    ofports.pop(name, None)
                else:
                    ofports[name] = iface.ofport
        new = self._assemble(chassis, bridge, ofports)
        ob, nb = old.bindings, new.bindings
        changed = _claims_diff(ob.claimed, nb.claimed, touched)
        changed |= _diff_some(ob.ofports, nb.ofports, ids)
        changed |= ob.local_lports ^ nb.local_lports
        changed |= _diff_some(old.patch_ofports, new.patch_ofports, lports)
        new.changed_lports = changed
        new.changed_datapaths = (_diff_keys(old_dps, new.local_datapaths)
                                 if new.local_datapaths != old_dps else set())
        moved = old.bridge != new.bridge or _diff_some(ob.ifaces, nb.ifaces, ids)
        if changed or new.changed_datapaths or moved:
            self.data = new
            return HandlerResult.HANDLED_UPDATED
        if any(ob.claimed.get(k) is not nb.claimed.get(k) for k in touched):
            # Only newer versions of claimed rows: kept, not reported.
            self.data = new
        # Otherwise the data is equal: keep the object, so that readers may tell by
        # identity.
        return HandlerResult.HANDLED_UNCHANGED

    def _ovs_ifaces(self, old_bridge: Row, bridge: Row) -> set[str]:
        """The interfaces whose local role the OVS changes of this run may change."""
        out: set[str] = set()
        ic = self._updated(self.interfaces)
        if ic is not None:
            out.update(ic.inserted, ic.modified, ic.deleted)
        pc = self._updated(self.ports)
        if pc is not None:
            for row in (*pc.inserted.values(), *pc.deleted.values()):
                out.update(row["interfaces"])
            for before, after in pc.modified.values():
                out.update(before["interfaces"])
                out.update(after["interfaces"])
        if bridge is not old_bridge and bridge["ports"] != old_bridge["ports"]:
            ports = self.ports.rows
            # A port that left and was deleted brought its interfaces with the Port
            # changes above; one that left or came and still exists has them here.
            for port_uuid in set(bridge["ports"]).symmetric_difference(old_bridge["ports"]):
                port = ports.get(port_uuid)
                if port is not None:
                    out.update(port["interfaces"])
        return out

    def _pb_seeds(self, changes: TableChanges) -> tuple[set[str], bool]:
        """The local iface-ids to claim again for these Port_Binding changes, and
        whether the local datapaths must be computed again."""
        ifaces = self._view.ifaces
        closure = self._closure
        rows = [*changes.inserted.values(), *changes.deleted.values()]
        for before, after in changes.modified.values():
            rows += (before, after)
        seeds: set[str] = set()
        recheck = False
        for pb in rows:
            lport, parent = pb["logical_port"], pb["parent_port"]
            if lport in ifaces:
                seeds.add(lport)
            if parent and parent in ifaces:
                seeds.add(parent)
            if not recheck and (lport in closure.peer_names or (
                    pb["type"] in _DATAPATH_TYPES and pb["datapath"] in closure.datapaths)):
                recheck = True
        return seeds, recheck


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
        # The claims already in the SB, for the runtime data they were computed from
        # (every put asks; the data changes far less often).
        self._committed: tuple[RuntimeData, set[str]] | None = None

    def flows_requested(self, seqno: int) -> None:
        """The current desired flows went out in put ``seqno``."""
        data = self._runtime_data.data
        if self._committed is None or self._committed[0] is not data:
            uuid = data.chassis.uuid if data.chassis is not None else None
            self._committed = (data, {name for name, pb in data.bindings.claimed.items()
                                      if uuid is not None and pb["chassis"] == uuid})
        self.status.sync(self._committed[1])
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
