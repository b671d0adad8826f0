"""The ``nb_port_sync`` node: what ovn-northd writes back into Logical_Switch_Port.

- ``up``: true when the Port_Binding has a chassis and, if that chassis announces the
  ``port-up`` feature, the controller set ``Port_Binding.up``; false otherwise (only
  for ports that have a Port_Binding);
- ``tag``: the tag northd chose for a container port (``tag_request``: 0 allocates the
  lowest free tag under the parent, another value is copied).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.model import NorthdData
from pyovn.ovsdb import Client, Op, Row, Update

__all__ = ["NbPortSync", "lsp_up"]


def lsp_up(pb: Row, chassis: Row | None) -> bool:
    """ovn-northd 23.03's NB ``up`` for a port bound by ``pb``."""
    if pb["chassis"] is None:
        return False
    if chassis is not None and chassis["other_config"].get("port-up", "").lower() == "true":
        return bool(pb["up"])
    return True


class NbPortSync(Node[None]):
    """Writes LSP ``up`` and ``tag`` (NB transaction); no data of its own."""

    def __init__(self, nb: Client, sb: Client, northd: Node[NorthdData],
                 sb_port_binding: TableInput, sb_chassis: TableInput) -> None:
        super().__init__("nb_port_sync", None, needs_txn=lambda ctx: ctx.nb_ops)
        self.nb, self.sb, self.northd = nb, sb, northd
        self.port_binding = sb_port_binding
        self.add_input(northd, self.northd_handler)
        self.add_input(sb_port_binding, self.port_binding_handler)
        # No handler: a chassis feature change may flip every bound port; rare.
        self.add_input(sb_chassis)

    def _check(self, names: Iterable[str], ops: list[Op]) -> None:
        ports = self.northd.data.ports
        lsp_rows = self.nb.tables["Logical_Switch_Port"].rows
        for name in names:
            port = ports.get(name)
            if port is None:
                continue
            row = lsp_rows.get(port.uuid)
            if row is None:
                continue
            diff: dict[str, Any] = {}
            pbs = self.sb.index("Port_Binding", "logical_port").rows(name)
            for pb in pbs:
                chassis = self.sb.row("Chassis", pb["chassis"]) if pb["chassis"] else None
                up = lsp_up(pb, chassis)
                if row["up"] is not up:
                    diff["up"] = up
            if port.tag != row["tag"] and row["tag_request"] is not None:
                diff["tag"] = port.tag
            if diff:
                ops.append(Update("Logical_Switch_Port", row.uuid, diff))

    def run(self, ctx: Any) -> bool:
        """Check every port."""
        self._check(list(self.northd.data.ports), ctx.nb_ops)
        return False

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Check the ports northd added or changed."""
        tracked = self.northd.data.tracked
        if tracked is None:
            return HandlerResult.UNHANDLED
        self._check(tracked.ports_added | tracked.ports_updated, ctx.nb_ops)
        return HandlerResult.HANDLED_UNCHANGED

    def port_binding_handler(self, ctx: Any) -> HandlerResult:
        """Check the ports whose Port_Binding changed (bound, released, up)."""
        changes = self.port_binding.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        names = {r["logical_port"] for r in changes.inserted.values()}
        names.update(new["logical_port"] for _, new in changes.modified.values())
        self._check(names, ctx.nb_ops)
        return HandlerResult.HANDLED_UNCHANGED
