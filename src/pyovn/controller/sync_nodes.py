"""The engine nodes that write: chassis rows, port bindings, zones, patch ports.

Every writer is a leaf of the graph (so that waiting for a transaction never holds up
the flows), takes its ops list from the engine context (:class:`WriteContext`; a list
is None while its database cannot take a write, and the writer is then canceled and
recomputed later), and compares the desired state with the rows in every run, so
running it again before its earlier write is echoed only repeats the same values.

- ``chassis_sync`` (SB): Chassis, Encap, Chassis_Private
  (:func:`~pyovn.controller.chassis.chassis_ops`).
- ``binding_sync`` (SB): Port_Binding ``chassis``, ``encap``, ``up``
  (:func:`~pyovn.controller.binding.binding_sb_ops`).
- ``binding_ovs_sync`` (OVS): interfaces' ``ovn-installed``
  (:func:`~pyovn.controller.binding.installed_ovs_ops`).
- ``ct_zones_sync`` (OVS): br-int's ``ct-zone-*`` keys.
- ``localnet_sync`` (OVS): the patch ports of localnet ports.
- ``bridge_sync`` (OVS): creates the integration bridge when it does not exist
  (:func:`integration_bridge_ops`), as ovn-controller does at start-up and after
  someone deletes it.

None has change handlers: their inputs change together, and the comparison is what a
handler would do.
"""

from __future__ import annotations

from typing import Protocol

from pyovn.controller.binding import (
    binding_sb_ops,
    desired_patch_ports,
    installed_ovs_ops,
    parse_bridge_mappings,
    patch_port_ops,
)
from pyovn.controller.chassis import chassis_ops, chassis_settings
from pyovn.controller.chassis_config import ChassisConfig
from pyovn.controller.runtime_data import (
    CtZonesNode,
    IfStatusNode,
    RuntimeData,
    integration_bridge,
)
from pyovn.engine import Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.ovsdb import Insert, Mutate, NamedUuid, Op

__all__ = ["BindingOvsSyncNode", "BindingSbSyncNode", "BridgeSyncNode", "ChassisSyncNode",
           "CtZonesSyncNode", "LocalnetSyncNode", "WriteContext", "integration_bridge_ops"]


class WriteContext(Protocol):
    """What the writer nodes need from the engine context: the ops to commit after the
    run, per database, or None while that database cannot take a write."""

    sb_ops: list[Op] | None
    ovs_ops: list[Op] | None


class ChassisSyncNode(Node[None]):
    """Writes this chassis's Chassis, Encap and Chassis_Private rows (SB)."""

    def __init__(self, chassis_config: Node[ChassisConfig | None], open_vswitch: TableInput,
                 bridges: TableInput, sb_chassis: TableInput, sb_encap: TableInput,
                 sb_chassis_private: TableInput) -> None:
        super().__init__("chassis_sync", None, needs_txn=lambda ctx: ctx.sb_ops)
        self.config, self.open_vswitch, self.bridges = chassis_config, open_vswitch, bridges
        self.sb_chassis, self.sb_encap = sb_chassis, sb_encap
        self.sb_chassis_private = sb_chassis_private
        # No handlers: comparing a handful of rows is as cheap as any handler.
        for node in (chassis_config, open_vswitch, bridges, sb_chassis, sb_encap,
                     sb_chassis_private):
            self.add_input(node)

    def run(self, ctx: WriteContext) -> bool:
        """Append the ops that bring the rows in line with the configuration."""
        config = self.config.data
        ovs_row = self.open_vswitch.only_row()
        if config is None or ovs_row is None or ctx.sb_ops is None:
            return False
        bridge = integration_bridge(self.bridges, config)
        datapath_type = bridge["datapath_type"] if bridge is not None else ""
        settings = chassis_settings(config, ovs_row["external_ids"],
                                    ovs_row.get("iface_types", ()) or (), datapath_type)
        ctx.sb_ops.extend(chassis_ops(settings, self.sb_chassis.rows.values(),
                                      self.sb_encap.rows,
                                      self.sb_chassis_private.rows.values()))
        return False


class CtZonesSyncNode(Node[None]):
    """Persists the zones in br-int's ``external_ids`` (OVS)."""

    def __init__(self, ct_zones: CtZonesNode, runtime_data: Node[RuntimeData]) -> None:
        super().__init__("ct_zones_sync", None, needs_txn=lambda ctx: ctx.ovs_ops)
        self.ct_zones, self.runtime_data = ct_zones, runtime_data
        # No handlers: one comparison of the bridge's keys per run.
        self.add_input(ct_zones)
        self.add_input(runtime_data)

    def run(self, ctx: WriteContext) -> bool:
        """Append the bridge mutate, if the keys differ."""
        bridge = self.runtime_data.data.bridge
        if bridge is not None and ctx.ovs_ops is not None and self.ct_zones.restored:
            ctx.ovs_ops.extend(self.ct_zones.data.zones.ops(bridge))
        return False


class BindingSbSyncNode(Node[None]):
    """Writes Port_Binding ``chassis``, ``encap`` and ``up``."""

    def __init__(self, runtime_data: Node[RuntimeData], if_status: IfStatusNode,
                 sb_port_binding: TableInput) -> None:
        super().__init__("binding_sync", None, needs_txn=lambda ctx: ctx.sb_ops)
        self.runtime_data, self.if_status = runtime_data, if_status
        self.sb_port_binding = sb_port_binding
        for node in (runtime_data, if_status, sb_port_binding):
            self.add_input(node)

    def run(self, ctx: WriteContext) -> bool:
        """Append the Port_Binding updates."""
        data = self.runtime_data.data
        if data.chassis is None or data.chassis.uuid is None or ctx.sb_ops is None:
            return False
        held = self.sb_port_binding.client.index("Port_Binding", "chassis").rows(
            data.chassis.uuid)
        ctx.sb_ops.extend(binding_sb_ops(data.bindings, held, data.chassis,
                                         self.if_status.installed))
        return False


class BindingOvsSyncNode(Node[None]):
    """Writes ``ovn-installed`` / ``ovn-installed-ts`` on local interfaces."""

    def __init__(self, runtime_data: Node[RuntimeData], if_status: IfStatusNode) -> None:
        super().__init__("binding_ovs_sync", None, needs_txn=lambda ctx: ctx.ovs_ops)
        self.runtime_data, self.if_status = runtime_data, if_status
        self.add_input(runtime_data)
        self.add_input(if_status)

    def run(self, ctx: WriteContext) -> bool:
        """Append the Interface mutates."""
        if ctx.ovs_ops is not None:
            ctx.ovs_ops.extend(installed_ovs_ops(self.runtime_data.data.bindings,
                                                 self.if_status.installed))
        return False


class LocalnetSyncNode(Node[None]):
    """Creates and removes the patch ports of localnet ports."""

    def __init__(self, runtime_data: Node[RuntimeData],
                 chassis_config: Node[ChassisConfig | None], open_vswitch: TableInput,
                 bridges: TableInput, ports: TableInput, interfaces: TableInput,
                 sb_port_binding: TableInput) -> None:
        super().__init__("localnet_sync", None, needs_txn=lambda ctx: ctx.ovs_ops)
        self.runtime_data, self.config = runtime_data, chassis_config
        self.open_vswitch, self.bridges = open_vswitch, bridges
        self.ports, self.interfaces = ports, interfaces
        self.sb_port_binding = sb_port_binding
        for node in (runtime_data, chassis_config, open_vswitch, bridges, ports, interfaces,
                     sb_port_binding):
            self.add_input(node)

    def run(self, ctx: WriteContext) -> bool:
        """Append the patch port ops."""
        config, ovs_row = self.config.data, self.open_vswitch.only_row()
        if config is None or ovs_row is None or ctx.ovs_ops is None:
            return False
        ids = ovs_row["external_ids"]
        mappings = parse_bridge_mappings(
            ids.get(f"ovn-bridge-mappings-{config.system_id}",
                    ids.get("ovn-bridge-mappings", "")))
        lds = self.runtime_data.data.local_datapaths.values()
        by_dp = self.sb_port_binding.client.index("Port_Binding", "datapath")
        # Every localnet port of a local datapath gets its pair, as in 23.03.
        localnets = {ld.uuid: [pb for pb in by_dp.rows(ld.uuid) if pb["type"] == "localnet"]
                     for ld in lds}
        bridges = list(self.bridges.rows.values())
        desired = desired_patch_ports(config.bridge, mappings, lds, localnets,
                                      [b["name"] for b in bridges])
        ctx.ovs_ops.extend(patch_port_ops(desired, bridges, self.ports.rows,
                                          self.interfaces.rows))
        return False


def integration_bridge_ops(name: str, open_vswitch_uuid: str,
                           external_ids: dict[str, str]) -> list[Op]:
    """Create bridge ``name`` as ovn-controller 23.03 does: fail_mode secure, in-band
    control off, an internal port of the same name, the datapath type from
    ``external_ids:ovn-bridge-datapath-type`` (if set)."""
    iface, port, bridge = NamedUuid("br_iface"), NamedUuid("br_port"), NamedUuid("br")
    row: dict[str, object] = {"name": name, "fail_mode": "secure",
                              "other_config": {"disable-in-band": "true"}, "ports": [port]}
    datapath_type = external_ids.get("ovn-bridge-datapath-type")
    if datapath_type:
        row["datapath_type"] = datapath_type
    return [Insert("Interface", {"name": name, "type": "internal"}, uuid_name=iface),
            Insert("Port", {"name": name, "interfaces": [iface]}, uuid_name=port),
            Insert("Bridge", row, uuid_name=bridge),
            Mutate("Open_vSwitch", open_vswitch_uuid, [("bridges", "insert", [bridge])])]


class BridgeSyncNode(Node[None]):
    """Creates the integration bridge (OVS) when it is missing."""

    def __init__(self, chassis_config: Node[ChassisConfig | None], open_vswitch: TableInput,
                 bridges: TableInput) -> None:
        super().__init__("bridge_sync", None, needs_txn=lambda ctx: ctx.ovs_ops)
        self.config, self.open_vswitch, self.bridges = chassis_config, open_vswitch, bridges
        # No handlers: one look-up by name per run.
        for node in (chassis_config, open_vswitch, bridges):
            self.add_input(node)

    def run(self, ctx: WriteContext) -> bool:
        """Append the ops that create the bridge, if it does not exist."""
        config = self.config.data
        ovs_row = self.open_vswitch.only_row()
        if config is None or ovs_row is None or ctx.ovs_ops is None \
                or integration_bridge(self.bridges, config) is not None:
            return False
        ctx.ovs_ops.extend(integration_bridge_ops(config.bridge, ovs_row.uuid,
                                                  ovs_row["external_ids"]))
        return False
