"""The engine graph of pyovn-northd: every node and every edge, in one place.

::

    NB_nb_global ─┬─────────────► sb_global_sync ─┐
    SB_sb_global ─┴─┬───────────► nb_cfg_report ──┤   (no handlers: each node is
    SB_chassis_private ──────────┘      ▲          │    O(1) or O(#chassis) to run)
    SB_chassis ─────────────────────────┘          ▼
                                             northd_output

Nodes that write declare which database's transaction they need; the daemon gives the
engine a context whose op lists are None while that database cannot take a write (not
connected, lock not held, a transaction still in flight), and the engine cancels them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyovn.engine import Engine, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd import nb_cfg
from pyovn.ovsdb import Client, Op

#: Tables and columns pyovn-northd monitors (None: all columns).
NB_TABLES: dict[str, list[str] | None] = {"NB_Global": None}
SB_TABLES: dict[str, list[str] | None] = {
    "SB_Global": None,
    "Chassis": ["name", "other_config"],
    "Chassis_Private": ["name", "chassis", "nb_cfg", "nb_cfg_timestamp"],
}


@dataclass
class NorthdContext:
    """What one engine run may write: ops appended here are committed after the run."""

    nb_ops: list[Op] | None = field(default_factory=list)
    sb_ops: list[Op] | None = field(default_factory=list)


class SbGlobalSync(Node[int]):
    """Keeps ``SB_Global.nb_cfg`` equal to ``NB_Global.nb_cfg``; data: the nb_cfg written."""

    def __init__(self, nb_global: TableInput, sb_global: TableInput) -> None:
        super().__init__("sb_global_sync", -1, needs_txn=lambda ctx: ctx.sb_ops)
        self.nb_global, self.sb_global = nb_global, sb_global
        # No handlers: recomputing is O(1) (one row of each table).
        self.add_input(nb_global)
        self.add_input(sb_global)

    def run(self, ctx: NorthdContext) -> bool:
        """Emit the SB_Global write, if any."""
        assert ctx.sb_ops is not None  # needs_txn guarantees it
        nb = self.nb_global.only_row()
        ctx.sb_ops.extend(nb_cfg.sync_sb_global(nb, self.sb_global.only_row()))
        value = int(nb["nb_cfg"]) if nb is not None else -1
        changed, self.data = value != self.data, value
        return changed


class NbCfgReport(Node[tuple[int, int]]):
    """Reports ``sb_cfg`` / ``hv_cfg`` back to NB_Global; data: (sb_cfg, hv_cfg)."""

    def __init__(self, nb_global: TableInput, sb_global: TableInput,
                 chassis_private: TableInput, chassis: TableInput) -> None:
        super().__init__("nb_cfg_report", (-1, -1), needs_txn=lambda ctx: ctx.nb_ops)
        self.nb_global, self.sb_global = nb_global, sb_global
        self.chassis_private, self.chassis = chassis_private, chassis
        # No handlers: recomputing is O(#chassis), far below anything else northd does.
        for node in (nb_global, sb_global, chassis_private, chassis):
            self.add_input(node)

    def run(self, ctx: NorthdContext) -> bool:
        """Emit the NB_Global write, if any."""
        assert ctx.nb_ops is not None
        sb = self.sb_global.only_row()
        ctx.nb_ops.extend(nb_cfg.report_to_nb(
            self.nb_global.only_row(), sb, self.chassis_private.rows.values(),
            self.chassis.rows))
        sb_cfg = int(sb["nb_cfg"]) if sb is not None else -1
        value = (sb_cfg, nb_cfg.hv_cfg_of(sb_cfg, self.chassis_private.rows.values(),
                                          self.chassis.rows)[0])
        changed, self.data = value != self.data, value
        return changed


class NorthdOutput(Node[None]):
    """The graph's single output, so that one Engine holds every node."""

    def __init__(self, *inputs: Node[Any]) -> None:
        super().__init__("northd_output", None)
        for node in inputs:
            # No handler needed: run() is free, this node only gathers the graph.
            self.add_input(node)

    def run(self, ctx: NorthdContext) -> bool:
        """Nothing to compute."""
        return False


@dataclass
class NorthdGraph:
    """The wired graph and its leaf nodes, by database."""

    engine: Engine
    nb_inputs: list[TableInput]
    sb_inputs: list[TableInput]


def build_graph(nb: Client, sb: Client) -> NorthdGraph:
    """Wire pyovn-northd's engine on the NB and SB clients."""
    nb_inputs = {t: TableInput(nb, t) for t in NB_TABLES}
    sb_inputs = {t: TableInput(sb, t) for t in SB_TABLES}
    sync = SbGlobalSync(nb_inputs["NB_Global"], sb_inputs["SB_Global"])
    report = NbCfgReport(nb_inputs["NB_Global"], sb_inputs["SB_Global"],
                         sb_inputs["Chassis_Private"], sb_inputs["Chassis"])
    engine = Engine(NorthdOutput(sync, report), name="northd")
    return NorthdGraph(engine, list(nb_inputs.values()), list(sb_inputs.values()))
