"""The engine graph of pyovn-controller: every node and every edge, in one place.

::

    OVS_open_vswitch ──► chassis_config ──► controller_output
    SB_sb_global ───────────────────────────┘

The translation of logical flows, the binding of ports and the desired flow table join
this graph in later steps; for now it reads the chassis configuration and follows the
Southbound's global row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pyovn.controller.chassis_config import ChassisConfig, parse_chassis_config
from pyovn.daemon import RateLimitedLogger
from pyovn.engine import Engine, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.ovsdb import Client

log = logging.getLogger("pyovn.controller")

OVS_TABLES: dict[str, list[str] | None] = {
    "Open_vSwitch": ["external_ids", "other_config"],
    "Bridge": ["name", "datapath_type", "fail_mode", "ports"],
}
SB_TABLES: dict[str, list[str] | None] = {"SB_Global": None}


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


def build_graph(ovs: Client, sb: Client) -> ControllerGraph:
    """Wire pyovn-controller's engine on the local OVS and the SB clients."""
    ovs_inputs = {t: TableInput(ovs, t) for t in OVS_TABLES}
    sb_inputs = {t: TableInput(sb, t) for t in SB_TABLES}
    config = ChassisConfigNode(ovs_inputs["Open_vSwitch"])
    engine = Engine(ControllerOutput(config, *ovs_inputs.values(), *sb_inputs.values()),
                    name="controller")
    return ControllerGraph(engine, config, list(ovs_inputs.values()),
                           list(sb_inputs.values()))
