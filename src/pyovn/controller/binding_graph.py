"""Wiring of chassis registration, port binding, conntrack zones and physical flows.

:func:`build_binding_nodes` creates these nodes on the leaves of the controller's
graph and returns them; ``graph.py`` adds the returned ``outputs`` as inputs of the
graph's output node, gives ``physical_flows`` to the desired flow table, and the
daemon reports ofctrl progress to ``if_status``::

  chassis_config, OVS_open_vswitch, SB_chassis, SB_encap ─► chassis
  chassis, chassis_config, OVS_bridge/port/interface,
      SB_port_binding, SB_datapath_binding ───────────────► runtime_data
  runtime_data, OVS_bridge ─────────────────────────────────► ct_zones
  runtime_data, ct_zones, SB_port_binding, SB_multicast_group,
      SB_mac_binding, SB_static_mac_binding, SB_fdb ────────► physical_flows
  writers (leaves; SB or OVS transaction):
      chassis_sync (SB) ◄ chassis_config, OVS_open_vswitch, OVS_bridge,
                          SB_chassis, SB_encap, SB_chassis_private
      binding_sync (SB) ◄ runtime_data, if_status, SB_port_binding
      binding_ovs_sync (OVS) ◄ runtime_data, if_status
      ct_zones_sync (OVS) ◄ ct_zones, runtime_data
      localnet_sync (OVS) ◄ runtime_data, chassis_config, OVS_open_vswitch,
                            OVS_bridge, OVS_port, OVS_interface, SB_port_binding
  if_status: input node fed by the daemon (flows_requested / flows_installed)

The engine context must have ``sb_ops`` and ``ovs_ops`` (lists of ops to commit after
the run, None while that database cannot take a write), see
:class:`~pyovn.controller.sync_nodes.WriteContext`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyovn.controller.chassis_config import ChassisConfig
from pyovn.controller.physical_node import PhysicalFlowsNode
from pyovn.controller.runtime_data import ChassisNode, CtZonesNode, IfStatusNode, RuntimeDataNode
from pyovn.controller.sync_nodes import (
    BindingOvsSyncNode,
    BindingSbSyncNode,
    BridgeSyncNode,
    ChassisSyncNode,
    CtZonesSyncNode,
    LocalnetSyncNode,
)
from pyovn.engine import Node
from pyovn.engine.ovsdb_input import TableInput

__all__ = ["OVS_TABLES", "SB_TABLES", "BindingNodes", "build_binding_nodes"]

#: Local OVS tables and columns these nodes read (merge into the daemon's monitor).
#: Interface statistics and status are left out on purpose: they change all the time.
OVS_TABLES: dict[str, list[str] | None] = {
    "Open_vSwitch": ["external_ids", "iface_types"],
    "Bridge": ["name", "datapath_type", "ports", "external_ids"],
    "Port": ["name", "interfaces", "external_ids"],
    "Interface": ["name", "type", "ofport", "external_ids", "options"],
}
#: SB tables these nodes read (None: all columns).
SB_TABLES: dict[str, list[str] | None] = {
    "Chassis": None,
    "Encap": None,
    "Chassis_Private": None,
    "Datapath_Binding": ["tunnel_key", "external_ids"],
    "Port_Binding": None,
    "Multicast_Group": None,
    "MAC_Binding": ["logical_port", "ip", "mac", "datapath"],
    "Static_MAC_Binding": None,
    "FDB": None,
}


@dataclass
class BindingNodes:
    """The nodes :func:`build_binding_nodes` wired."""

    chassis: ChassisNode
    runtime_data: RuntimeDataNode
    if_status: IfStatusNode
    ct_zones: CtZonesNode
    physical_flows: PhysicalFlowsNode
    chassis_sync: ChassisSyncNode
    binding_sync: BindingSbSyncNode
    binding_ovs_sync: BindingOvsSyncNode
    ct_zones_sync: CtZonesSyncNode
    localnet_sync: LocalnetSyncNode
    bridge_sync: BridgeSyncNode

    @property
    def outputs(self) -> list[Node[Any]]:
        """The nodes no other node consumes: inputs of the graph's output node."""
        return [self.physical_flows, self.chassis_sync, self.binding_sync,
                self.binding_ovs_sync, self.ct_zones_sync, self.localnet_sync,
                self.bridge_sync]


def build_binding_nodes(chassis_config: Node[ChassisConfig | None],
                        ovs: Mapping[str, TableInput],
                        sb: Mapping[str, TableInput]) -> BindingNodes:
    """Wire the nodes on the given leaves (``ovs`` / ``sb``: table name → leaf, with at
    least :data:`OVS_TABLES` / :data:`SB_TABLES`)."""
    chassis = ChassisNode(chassis_config, ovs["Open_vSwitch"], sb["Chassis"], sb["Encap"])
    runtime = RuntimeDataNode(chassis, chassis_config, ovs["Bridge"], ovs["Port"],
                              ovs["Interface"], sb["Port_Binding"], sb["Datapath_Binding"])
    if_status = IfStatusNode(runtime)
    zones = CtZonesNode(runtime, ovs["Bridge"])
    physical = PhysicalFlowsNode(runtime, zones, sb["Port_Binding"], sb["Multicast_Group"],
                                 sb["MAC_Binding"], sb["Static_MAC_Binding"], sb["FDB"])
    return BindingNodes(
        chassis=chassis, runtime_data=runtime, if_status=if_status, ct_zones=zones,
        physical_flows=physical,
        chassis_sync=ChassisSyncNode(chassis_config, ovs["Open_vSwitch"], ovs["Bridge"],
                                     sb["Chassis"], sb["Encap"], sb["Chassis_Private"]),
        binding_sync=BindingSbSyncNode(runtime, if_status, sb["Port_Binding"]),
        binding_ovs_sync=BindingOvsSyncNode(runtime, if_status),
        ct_zones_sync=CtZonesSyncNode(zones, runtime),
        localnet_sync=LocalnetSyncNode(runtime, chassis_config, ovs["Open_vSwitch"],
                                       ovs["Bridge"], ovs["Port"], ovs["Interface"],
                                       sb["Port_Binding"]),
        bridge_sync=BridgeSyncNode(chassis_config, ovs["Open_vSwitch"], ovs["Bridge"]))
