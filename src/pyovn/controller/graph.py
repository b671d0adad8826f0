"""The engine graph of pyovn-controller: every node and every edge, in one place.

::

    OVS_open_vswitch ──► chassis_config
    chassis_config + OVS/SB leaves ──► binding nodes (binding_graph.py): chassis,
        runtime_data, ct_zones, physical_flows, if_status and the writers
    runtime_data + SB_logical_flow, SB_logical_dp_group, SB_datapath_binding,
        SB_port_binding, SB_multicast_group, SB_address_set, SB_port_group
        ──► lflow_output (lflow_node.py)
    physical_flows, lflow_output ──► flow_output (the desired flow table)
    flow_output, writers, SB_sb_global ──► controller_output

The daemon hands ``flow_output``'s table to ofctrl after each run and reports ofctrl's
progress to ``if_status``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pyovn.controller import binding_graph
from pyovn.controller.binding_graph import BindingNodes, build_binding_nodes
from pyovn.controller.chassis_config import ChassisConfig, parse_chassis_config
from pyovn.controller.flow_output import FlowOutputNode
from pyovn.controller.lflow_node import LFLOW_SB_TABLES, LflowOutputNode
from pyovn.daemon import RateLimitedLogger
from pyovn.engine import Engine, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.ovsdb import Client, Op

log = logging.getLogger("pyovn.controller")


def _merge(*tables: dict[str, list[str] | None]) -> dict[str, list[str] | None]:
    """Union of monitored columns (None, all columns, wins)."""
    out: dict[str, list[str] | None] = {}
    for spec in tables:
        for table, columns in spec.items():
            if table in out and (out[table] is None or columns is None):
                out[table] = None
            elif table in out:
                out[table] = sorted({*(out[table] or []), *(columns or [])})
            else:
                out[table] = None if columns is None else list(columns)
    return out


OVS_TABLES: dict[str, list[str] | None] = _merge(
    {"Open_vSwitch": ["external_ids", "other_config"],
     "Bridge": ["name", "datapath_type", "fail_mode", "ports"]},
    binding_graph.OVS_TABLES)
SB_TABLES: dict[str, list[str] | None] = _merge(
    {"SB_Global": None}, binding_graph.SB_TABLES, LFLOW_SB_TABLES)


@dataclass
class ControllerContext:
    """The engine context: ops for each database, None while it cannot take a write."""

    sb_ops: list[Op] | None
    ovs_ops: list[Op] | None


class ChassisConfigNode(Node[ChassisConfig | None]):
    """The parsed chassis configuration (None while it is incomplete)."""

    def __init__(self, open_vswitch: TableInput) -> None:
        super().__init__("chassis_config", None)
        self.open_vswitch = open_vswitch
        self._rl = RateLimitedLogger(log)
        # No handler: one row, recomputing is O(1).
        self.add_input(open_vswitch)

    def run(self, ctx: Any) -> bool:
        """Parse the Open_vSwitch row's external_ids."""
        row = self.open_vswitch.only_row()
        config, why = parse_chassis_config(row["external_ids"] if row is not None else {})
        if config is None:
            self._rl.warning(why, "%s", why)
        changed, self.data = config != self.data, config
        return changed


class ControllerOutput(Node[None]):
    """The graph's single output, so that one Engine holds every node."""

    def __init__(self, *inputs: Node[Any]) -> None:
        super().__init__("controller_output", None)
        for node in inputs:
            # No handler needed: run() is free, this node only gathers the graph.
            self.add_input(node)

    def run(self, ctx: Any) -> bool:
        """Nothing to compute."""
        return False


@dataclass
class ControllerGraph:
    """The wired graph and its leaf nodes, by database."""

    engine: Engine
    chassis_config: ChassisConfigNode
    ovs_inputs: list[TableInput]
    sb_inputs: list[TableInput]
    binding: BindingNodes
    lflow_output: LflowOutputNode
    flow_output: FlowOutputNode


def build_graph(ovs: Client, sb: Client) -> ControllerGraph:
    """Wire pyovn-controller's engine on the local OVS and the SB clients."""
    ovs_inputs = {t: TableInput(ovs, t) for t in OVS_TABLES}
    sb_inputs = {t: TableInput(sb, t) for t in SB_TABLES}
    config = ChassisConfigNode(ovs_inputs["Open_vSwitch"])
    binding = build_binding_nodes(config, ovs_inputs, sb_inputs)
    lflows = LflowOutputNode(binding.runtime_data, sb_inputs)
    flows = FlowOutputNode(binding.physical_flows, lflows)
    writers = [n for n in binding.outputs if n is not binding.physical_flows]
    engine = Engine(ControllerOutput(config, flows, *writers, *ovs_inputs.values(),
                                     *sb_inputs.values()),
                    name="controller")
    return ControllerGraph(engine, config, list(ovs_inputs.values()),
                           list(sb_inputs.values()), binding, lflows, flows)
