"""The engine nodes of logical flow generation, and how they plug into the graph.

::

    northd ──(northd_handler)──► lflow ──(lflow_handler: dirty flows)──┐
    SB_logical_flow ──(sb_flow_handler: echo check)────────────────────┤
    SB_logical_dp_group ──(sb_group_handler: echo check)───────────────┼─► lflow_sync
    sync_datapaths ──(datapaths_handler: a switch's binding changed)───┘   (writes SB)

``lflow`` keeps the desired flow table. It needs no transaction, so it is never
canceled and keeps its incremental state through any SB trouble. ``lflow_sync`` writes
the difference to the SB. When it is canceled, or sees SB changes that are not the echo
of its own writes, it recomputes: it adopts the SB's contents and writes only what
differs from the table. :func:`build_lflow_nodes` is the seam function of
:mod:`pyovn.northd.seam`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.lflow.builder import LflowBuilder
from pyovn.northd.lflow.flows import LflowKey
from pyovn.northd.lflow.sb_sync import SbLflowSync
from pyovn.northd.model import NorthdData
from pyovn.northd.seam import LflowInputs, SbDatapaths

__all__ = ["LFLOW_SB_TABLES", "LflowNode", "LflowSyncNode", "build_lflow_nodes"]

log = logging.getLogger("pyovn.northd.lflow")

#: SB tables and columns the lflow nodes read (listed: every column they use).
LFLOW_SB_TABLES: dict[str, list[str] | None] = {
    "Logical_Flow": ["logical_datapath", "logical_dp_group", "pipeline", "table_id",
                     "priority", "match", "actions", "controller_meter", "tags",
                     "external_ids"],
    "Logical_DP_Group": ["datapaths"],
}

_UPDATED = HandlerResult.HANDLED_UPDATED
_UNCHANGED = HandlerResult.HANDLED_UNCHANGED
_UNHANDLED = HandlerResult.UNHANDLED


class LflowNode(Node[LflowBuilder]):
    """The desired logical flows of every switch; data: the :class:`LflowBuilder`.

    Tracked for consumers: the builder table's ``dirty`` flows, or ``full`` after a
    rebuild (every flow may have changed)."""

    def __init__(self, northd: Node[NorthdData]) -> None:
        super().__init__("lflow", LflowBuilder())
        self.northd = northd
        self.full = False
        self.add_input(northd, self.northd_handler)

    def clear_tracked_data(self) -> None:
        """Forget the flows touched in the previous iteration."""
        self.data.table.dirty.clear()
        self.full = False

    def run(self, ctx: Any) -> bool:
        """Generate every flow from scratch."""
        start = time.perf_counter()
        self.data.rebuild(self.northd.data)
        self.full = True
        log.debug("lflow: rebuilt %d flows in %.1f ms", len(self.data.table),
                  (time.perf_counter() - start) * 1000)
        return True

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Regenerate the resources whose model objects changed (all of them only when
        the global configuration changed: then recompute)."""
        if not self.data.update(self.northd.data):
            return _UNHANDLED
        return _UPDATED if self.data.table.dirty else _UNCHANGED


class LflowSyncNode(Node[SbLflowSync]):
    """Writes the desired flows to SB Logical_Flow / Logical_DP_Group; data: the
    :class:`SbLflowSync` state."""

    def __init__(self, lflow: LflowNode, sb_flows: TableInput, sb_groups: TableInput,
                 sb_datapaths: Node[SbDatapaths]) -> None:
        super().__init__("lflow_sync", SbLflowSync(), needs_txn=lambda ctx: ctx.sb_ops)
        self.lflow = lflow
        self.sb_flows, self.sb_groups, self.sb_datapaths = sb_flows, sb_groups, sb_datapaths
        # The SB inputs come first: their echo must be checked against what was written
        # before this iteration writes more.
        self.add_input(sb_flows, self.sb_flow_handler)
        self.add_input(sb_groups, self.sb_group_handler)
        self.add_input(sb_datapaths, self.datapaths_handler)
        self.add_input(lflow, self.lflow_handler)

    def resolve(self, nb_uuid: str) -> str | None:
        """The SB Datapath_Binding UUID of the switch with NB UUID ``nb_uuid``."""
        name = self.lflow.data.dp_names.get(nb_uuid)
        return self.sb_datapaths.data.uuids.get(name) if name is not None else None

    def run(self, ctx: Any) -> bool:
        """Adopt the SB's flows and write whatever differs from the desired table."""
        ops = self.data.resync(self.lflow.data.table, self.sb_flows.rows.values(),
                               self.sb_groups.rows, self.resolve)
        ctx.sb_ops.extend(ops)
        if ops:
            log.info("lflow_sync: resync wrote %s", self.data.last_ops)
        return bool(ops)

    def sb_flow_handler(self, ctx: Any) -> HandlerResult:
        """Our own writes coming back change nothing; anything else recomputes."""
        changes = self.sb_flows.changes
        why = "unknown changes" if changes is None else self.data.flow_inconsistency(changes)
        if why is not None:
            log.info("SB Logical_Flow changed behind pyovn-northd's back (%s); resyncing",
                     why)
            return _UNHANDLED
        return _UNCHANGED

    def sb_group_handler(self, ctx: Any) -> HandlerResult:
        """Like :meth:`sb_flow_handler`, for Logical_DP_Group."""
        changes = self.sb_groups.changes
        why = "unknown changes" if changes is None else self.data.group_inconsistency(changes)
        if why is not None:
            log.info("SB Logical_DP_Group changed behind pyovn-northd's back (%s); "
                     "resyncing", why)
            return _UNHANDLED
        return _UNCHANGED

    def datapaths_handler(self, ctx: Any) -> HandlerResult:
        """Rewrite the flows of the switches whose Datapath_Binding UUID changed."""
        changed = self.sb_datapaths.data.changed
        table = self.lflow.data.table
        if changed is None:
            return self._write(ctx, set(table.flows) | set(self.data.written))
        builder = self.lflow.data
        moved = {u for u in map(builder.dp_uuid, changed) if u is not None}
        if not moved:
            return _UNCHANGED
        return self._write(ctx, [k for k, e in table.flows.items()
                                 if not moved.isdisjoint(e.dps)])

    def lflow_handler(self, ctx: Any) -> HandlerResult:
        """Write the flows the ``lflow`` node touched in this run."""
        table = self.lflow.data.table
        keys = set(table.flows) | set(self.data.written) if self.lflow.full else table.dirty
        return self._write(ctx, keys)

    def _write(self, ctx: Any, keys: Iterable[LflowKey]) -> HandlerResult:
        ops = self.data.sync(self.lflow.data.table, keys, self.resolve)
        if not ops:
            return _UNCHANGED
        ctx.sb_ops.extend(ops)
        return _UPDATED


def build_lflow_nodes(inputs: LflowInputs) -> Node[Any]:
    """The seam of :mod:`pyovn.northd.seam`: wire ``lflow`` and ``lflow_sync`` and return
    ``lflow_sync`` (the node the graph's output gathers)."""
    lflow = LflowNode(inputs.northd)
    return LflowSyncNode(lflow, inputs.sb["Logical_Flow"], inputs.sb["Logical_DP_Group"],
                         inputs.sb_datapaths)
