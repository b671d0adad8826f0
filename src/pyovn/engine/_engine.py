"""The engine: runs a graph of nodes once per main-loop iteration, in topological order."""

from __future__ import annotations

import logging
import time
from typing import Any

from pyovn.engine._node import HandlerResult, InputNode, Node, NodeInput, NodeState
from pyovn.errors import EngineError

_log = logging.getLogger("pyovn.engine")

_UPDATED = NodeState.UPDATED
_UNCHANGED = NodeState.UNCHANGED
_CANCELED = NodeState.CANCELED
_HANDLED_UPDATED = HandlerResult.HANDLED_UPDATED
_HANDLED_UNCHANGED = HandlerResult.HANDLED_UNCHANGED
_UNHANDLED = HandlerResult.UNHANDLED

# ovn-appctl inc-engine/show-stats of OVN 23.03 labels the cancel counter "abort";
# later OVN calls it "cancel". Both names select it.
_COUNTERS = {"recompute": "recompute", "compute": "compute", "abort": "cancel",
             "cancel": "cancel"}


class Engine:
    """Runs the nodes reachable from ``outputs`` once per iteration; see the package
    docstring for the contract.

    The order is a depth-first post-order from the outputs, inputs in the order they were
    added (as OVN's, so show-stats lists nodes as ovn-northd / ovn-controller do).
    """

    def __init__(self, *outputs: Node[Any], name: str = "engine") -> None:
        if not outputs:
            raise EngineError("an engine needs at least one node")
        self.name = name
        self._nodes = _topo_sort(outputs)
        self._by_name: dict[str, Node[Any]] = {}
        for node in self._nodes:
            if node.name in self._by_name:
                raise EngineError(f"two nodes are named {node.name!r} in engine {name!r}")
            if node._engine_name is not None:
                raise EngineError(
                    f"node {node.name!r} already belongs to engine {node._engine_name!r}"
                )
            self._by_name[node.name] = node
        for node in self._nodes:
            node._engine_name = name
        self._input_nodes = tuple(n for n in self._nodes if isinstance(n, InputNode))
        self._force = False
        self._canceled = False
        self._has_run = False

    @property
    def nodes(self) -> tuple[Node[Any], ...]:
        """Every node, in the order the engine runs them."""
        return self._nodes

    def node(self, name: str) -> Node[Any]:
        """The node called ``name`` (for introspection: code should hold references)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise EngineError(f"engine {self.name!r} has no node named {name!r}") from None

    # -- running ---------------------------------------------------------------------

    def force_recompute(self, value: bool = True) -> None:
        """Make the next :meth:`run` recompute every node (``inc-engine/recompute``);
        ``value=False`` withdraws a request that has not run yet."""
        self._force = value

    @property
    def recompute_requested(self) -> bool:
        """True if :meth:`force_recompute` was called and the next run will honour it."""
        return self._force

    def need_run(self) -> bool:
        """True if a run has work to do: an input node has pending changes, a recompute
        was requested, or a node still owes a recompute (after a cancel or at start)."""
        if self._force:
            return True
        if any(n._has_pending for n in self._input_nodes):
            return True
        return any(n._recompute_reason is not None for n in self._nodes if n._inputs)

    def has_run(self) -> bool:
        """True once :meth:`run` has been called."""
        return self._has_run

    def has_updated(self) -> bool:
        """True if any node's data changed in the last run."""
        return any(n.state is _UPDATED for n in self._nodes)

    def canceled(self) -> bool:
        """True if the last run canceled a node; :meth:`need_run` stays True until a run
        has recomputed every canceled node."""
        return self._canceled

    def run(self, ctx: Any = None, recompute_allowed: bool = True) -> bool:
        """Run one iteration and return True if no node was canceled.

        ``ctx`` is handed to every ``run``, handler and ``needs_txn`` predicate. With
        ``recompute_allowed`` False, a node that needs a full recompute is canceled
        instead (OVN's mode for iterations in which ``run()`` cannot write).
        """
        nodes = self._nodes
        for node in nodes:
            node.state = NodeState.STALE
            node.clear_tracked_data()
        force = self._force
        self._force = False
        self._has_run = True
        canceled = False
        try:
            for node in nodes:
                if node._inputs:
                    self._run_node(node, ctx, recompute_allowed, force)
                    canceled = canceled or node.state is _CANCELED
                else:
                    node.state = _UPDATED if _changed(node, node.run(ctx)) else _UNCHANGED
                    node.stats.recompute += 1
        except BaseException:
            # Nodes after the failing one missed this iteration's tracked changes.
            self._force = True
            raise
        self._canceled = canceled
        return not canceled

    def _run_node(self, node: Node[Any], ctx: Any, allowed: bool, force: bool) -> None:
        updated: list[NodeInput] = []
        for inp in node._inputs:
            state = inp.node.state
            if state is _UPDATED:
                updated.append(inp)
            elif state is _CANCELED:
                # Its input is half-done; this node waits and recomputes later. The
                # cancel is counted on the node that caused it, as OVN counts it.
                node.state = _CANCELED
                if node._recompute_reason is None:
                    node._recompute_reason = "input canceled earlier"
                return
        if force:
            reason: str | None = "forced"
        else:
            reason = node._recompute_reason
            if reason is None and not updated:
                node.state = _UNCHANGED
                return
        if node.needs_txn is not None and node.needs_txn(ctx) is None:
            self._cancel(node, "no transaction", reason)
            return
        if reason is not None:
            self._recompute(node, ctx, allowed, reason, None, False)
            return
        for inp in updated:
            if inp.handler is None:
                self._recompute(node, ctx, allowed, "missing handler for input", inp.node.name,
                                False)
                return
        changed = False
        for inp in updated:
            result = inp.handler(ctx)  # type: ignore[misc]  # None ruled out above
            if result is _HANDLED_UPDATED:
                changed = True
            elif result is _UNHANDLED:
                self._recompute(node, ctx, allowed, "failed handler for input", inp.node.name,
                                changed)
                return
            elif result is not _HANDLED_UNCHANGED:
                raise EngineError(
                    f"handler {inp.label} of node {node.name!r} returned {result!r}, "
                    "not a HandlerResult"
                )
        node.stats.compute += 1
        node.state = _UPDATED if changed else _UNCHANGED

    def _recompute(
        self,
        node: Node[Any],
        ctx: Any,
        allowed: bool,
        reason: str,
        input_name: str | None,
        handled_updated: bool,
    ) -> None:
        if not allowed:
            self._cancel(node, "recompute not allowed", reason, input_name)
            return
        debug = _log.isEnabledFor(logging.DEBUG)
        start = time.perf_counter() if debug else 0.0
        # Handlers may have tracked part of this iteration's changes before giving up.
        node.clear_tracked_data()
        changed = _changed(node, node.run(ctx))
        node.stats.recompute += 1
        node._recompute_reason = None
        # run() compares with data that an earlier handler of this iteration may already
        # have changed; the consumers must still hear of that change.
        node.state = _UPDATED if changed or handled_updated else _UNCHANGED
        if debug:
            why = reason if input_name is None else f"{reason} {input_name}"
            _log.debug("node: %s, recompute (%s) took %.1fms",
                       node.name, why, (time.perf_counter() - start) * 1000)

    def _cancel(
        self, node: Node[Any], cause: str, reason: str | None, input_name: str | None = None
    ) -> None:
        node.state = _CANCELED
        node.stats.cancel += 1
        if node._recompute_reason is None:
            node._recompute_reason = "canceled earlier"
        if _log.isEnabledFor(logging.DEBUG):
            why = cause if reason is None else f"{cause}: {reason}"
            if input_name is not None:
                why = f"{why} {input_name}"
            _log.debug("node: %s, canceled (%s)", node.name, why)

    # -- introspection ---------------------------------------------------------------

    def show_stats(self, node_name: str | None = None, counter: str | None = None) -> str:
        """The counters as ``ovn-appctl inc-engine/show-stats [NODE [COUNTER]]`` of OVN
        23.03 prints them; with ``counter`` ("recompute", "compute", "abort" or
        "cancel"), only that number."""
        nodes = self._nodes if node_name is None else (self.node(node_name),)
        if counter is not None:
            if node_name is None:
                raise EngineError("a counter can only be shown for one node")
            try:
                attr = _COUNTERS[counter]
            except KeyError:
                raise EngineError(
                    f"unknown engine counter {counter!r} (expected one of "
                    f"{', '.join(_COUNTERS)})"
                ) from None
            return f"{getattr(nodes[0].stats, attr)}\n"
        return "".join(
            f"Node: {n.name}\n"
            f"- recompute: {n.stats.recompute:12d}\n"
            f"- compute:   {n.stats.compute:12d}\n"
            f"- abort:     {n.stats.cancel:12d}\n"
            for n in nodes
        )

    def clear_stats(self) -> None:
        """Reset every node's counters (``inc-engine/clear-stats``)."""
        for node in self._nodes:
            node.stats.recompute = node.stats.compute = node.stats.cancel = 0

    def to_dot(self) -> str:
        """The graph in Graphviz DOT, data flowing along the edges, each edge labelled
        with its handler's name or "recompute"; stable for a given wiring."""
        lines = [f"digraph {_quote(self.name)} {{", "    rankdir=LR;", "    node [shape=box];"]
        for node in self._nodes:
            attrs = []
            if not node._inputs:
                attrs.append("shape=ellipse")
            if node.needs_txn is not None:
                attrs.append("style=bold")
            suffix = f" [{', '.join(attrs)}]" if attrs else ""
            lines.append(f"    {_quote(node.name)}{suffix};")
        for node in self._nodes:
            for inp in node._inputs:
                lines.append(f"    {_quote(inp.node.name)} -> {_quote(node.name)}"
                             f" [label={_quote(inp.label)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _changed(node: Node[Any], value: object) -> bool:
    if value is True or value is False:
        return value
    raise EngineError(f"run() of node {node.name!r} returned {value!r}, not a bool")


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _topo_sort(outputs: tuple[Node[Any], ...]) -> tuple[Node[Any], ...]:
    order: list[Node[Any]] = []
    done: set[Node[Any]] = set()
    path: list[Node[Any]] = []
    on_path: set[Node[Any]] = set()

    def visit(node: Node[Any]) -> None:
        if node in done:
            return
        if node in on_path:
            cycle = [*path[path.index(node):], node]
            # Printed in the direction data flows, as the DOT dump draws edges.
            raise EngineError(
                "cycle in engine graph: " + " -> ".join(n.name for n in reversed(cycle))
            )
        path.append(node)
        on_path.add(node)
        for inp in node._inputs:
            visit(inp.node)
        path.pop()
        on_path.discard(node)
        done.add(node)
        order.append(node)

    for output in outputs:
        visit(output)
    return tuple(order)
