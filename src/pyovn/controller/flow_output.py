"""The ``flow_output`` node: the desired flow table, fed by every flow producer.

Its data is one :class:`~pyovn.controller.flow_table.DesiredFlowTable` that lives as
long as the graph (ofctrl tracks its changes between puts). Each producer
(``physical_flows``, ``lflow_output``) has data of the same shape — flows (and, for
``lflow_output``, the groups and meters they use) by parent UUID and the parents whose
flows changed in this run — so a change handler replaces exactly the changed parents
(``remove_by_parent`` then ``add_flow``/``add_group``), and a recompute
clears the table and adds every parent's flows again (the table reports only the net
difference to ofctrl, so a recompute that finds the same flows sends nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from pyovn.controller.flow_table import DesiredFlowTable
from pyovn.controller.ofctrl_meters import MeterEntry
from pyovn.engine import HandlerResult, Node
from pyovn.openflow import Flow, GroupEntry

__all__ = ["FlowOutputNode", "FlowsByParent"]


class FlowsByParent(Protocol):
    """A producer's data: flows by parent, and the parents changed in this run."""

    @property
    def flows(self) -> dict[str, list[Flow]]:
        """Flows by parent UUID."""

    @property
    def changed(self) -> set[str]:
        """Parents whose flows changed in this run."""


class FlowOutputNode(Node[DesiredFlowTable]):
    """Gathers the producers' flows into the desired flow table."""

    def __init__(self, *producers: Node[Any]) -> None:
        super().__init__("flow_output", DesiredFlowTable())
        self.producers = producers
        for node in producers:
            self.add_input(node, self._handler(node))

    def run(self, ctx: Any) -> bool:
        """Clear the table and add every producer's flows and groups."""
        table = self.data
        table.clear()
        for node in self.producers:
            data: FlowsByParent = node.data
            for parent, flows in data.flows.items():
                for flow in flows:
                    table.add_flow(flow, parent)
            for parent, extras in _extras(data).items():
                _add_extras(table, extras, parent)
        return True

    def _handler(self, node: Node[Any]) -> Callable[[Any], HandlerResult]:
        def handle(ctx: Any) -> HandlerResult:
            data: FlowsByParent = node.data
            if not data.changed:
                return HandlerResult.HANDLED_UNCHANGED
            table = self.data
            extras = _extras(data)
            for parent in data.changed:
                table.remove_by_parent(parent)
                for flow in data.flows.get(parent, ()):
                    table.add_flow(flow, parent)
                _add_extras(table, extras.get(parent, ()), parent)
            return HandlerResult.HANDLED_UPDATED
        return handle


def _extras(data: FlowsByParent) -> dict[str, list[GroupEntry | MeterEntry]]:
    """A producer's groups and meters by parent (producers without them have none)."""
    extras: dict[str, list[GroupEntry | MeterEntry]] = getattr(data, "extras", {})
    return extras


def _add_extras(table: DesiredFlowTable, extras: Iterable[GroupEntry | MeterEntry],
                parent: str) -> None:
    for extra in extras:
        if isinstance(extra, GroupEntry):
            table.add_group(extra, parent)
        else:
            table.add_meter(extra, parent)
