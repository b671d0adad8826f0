"""The ``sb_global_sync`` and ``nb_cfg_report`` nodes: SB_Global and the sequence
numbers (see :mod:`pyovn.northd.nb_cfg`).

Both are O(1) or O(#chassis) to compute, so each of their handlers simply does the whole
computation: that keeps them off the recompute counters (OVN's tests expect a port
change to recompute nothing, though every ``--wait`` bumps ``NB_Global.nb_cfg``).
"""

from __future__ import annotations

from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd import nb_cfg
from pyovn.northd.global_config import sb_global_ops
from pyovn.northd.model import NorthdGlobals

__all__ = ["NbCfgReport", "SbGlobalSync"]


def _result(changed: bool) -> HandlerResult:
    return HandlerResult.HANDLED_UPDATED if changed else HandlerResult.HANDLED_UNCHANGED


class SbGlobalSync(Node[int]):
    """Keeps ``SB_Global`` (nb_cfg, options, ipsec) as the NB says; data: nb_cfg."""

    def __init__(self, nb_global: TableInput, sb_global: TableInput,
                 global_config: Node[NorthdGlobals]) -> None:
        super().__init__("sb_global_sync", -1, needs_txn=lambda ctx: ctx.sb_ops)
        self.nb_global, self.sb_global = nb_global, sb_global
        self.global_config = global_config
        for node in (nb_global, sb_global, global_config):
            self.add_input(node, self.sync_handler)

    def run(self, ctx: Any) -> bool:
        """Emit the SB_Global write, if any."""
        assert ctx.sb_ops is not None  # needs_txn guarantees it
        nb, sb = self.nb_global.only_row(), self.sb_global.only_row()
        ops = nb_cfg.sync_sb_global(nb, sb)
        if sb is not None:
            ops.extend(sb_global_ops(nb, sb, self.global_config.data))
        ctx.sb_ops.extend(ops)
        value = int(nb["nb_cfg"]) if nb is not None else -1
        changed, self.data = value != self.data, value
        return changed

    def sync_handler(self, ctx: Any) -> HandlerResult:
        """Any input: redo the O(1) comparison."""
        return _result(self.run(ctx))


class NbCfgReport(Node[tuple[int, int]]):
    """Reports ``sb_cfg`` / ``hv_cfg`` back to NB_Global; data: (sb_cfg, hv_cfg)."""

    def __init__(self, nb_global: TableInput, sb_global: TableInput,
                 chassis_private: TableInput, chassis: TableInput) -> None:
        super().__init__("nb_cfg_report", (-1, -1), needs_txn=lambda ctx: ctx.nb_ops)
        self.nb_global, self.sb_global = nb_global, sb_global
        self.chassis_private, self.chassis = chassis_private, chassis
        for node in (nb_global, sb_global, chassis_private, chassis):
            self.add_input(node, self.report_handler)

    def run(self, ctx: Any) -> bool:
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

    def report_handler(self, ctx: Any) -> HandlerResult:
        """Any input: redo the O(#chassis) comparison."""
        return _result(self.run(ctx))
