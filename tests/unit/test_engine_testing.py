"""The engine test helpers, on a small realistic graph: ports -> per-switch counts -> totals.

The helpers must pass on correct handlers and fail, readably, on wrong ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyovn.engine import Engine, EngineError, HandlerResult, InputNode, Node
from pyovn.engine.testing import (
    assert_engine_stats,
    assert_incremental_equals_recompute,
    expect_engine_stats,
)

SWITCHES = ("sw0", "sw1", "sw2", "sw3")


@dataclass(frozen=True)
class PortChange:
    """One row change of a Logical_Switch_Port-like table: old/new switch, None if absent."""

    port: str
    old: str | None
    new: str | None


class PortCount(Node[dict[str, int]]):
    """Ports per switch (switches without ports are absent). Tracks the old count of
    every switch it changed, for its consumers."""

    def __init__(self, world: dict[str, str], ports: InputNode[list[PortChange]],
                 buggy: bool = False) -> None:
        super().__init__("port_count", {})
        self.world = world
        self.ports = ports
        self.buggy = buggy
        self.tracked: dict[str, int] = {}
        self.tracked_valid = True

    def run(self, ctx: Any) -> bool:
        self.data.clear()  # in place, so a snapshot that keeps a reference sees the recompute
        for switch in self.world.values():
            self.data[switch] = self.data.get(switch, 0) + 1
        self.tracked_valid = False  # consumers cannot know what a recompute changed
        return True

    def handle_ports(self, ctx: Any) -> HandlerResult:
        changes = self.ports.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        for change in changes:
            if change.old is not None and not (self.buggy and change.new is not None):
                self._add(change.old, -1)
            if change.new is not None:
                self._add(change.new, +1)
        if all(self.data.get(s, 0) == old for s, old in self.tracked.items()):
            return HandlerResult.HANDLED_UNCHANGED
        return HandlerResult.HANDLED_UPDATED

    def _add(self, switch: str, delta: int) -> None:
        old = self.data.get(switch, 0)
        self.tracked.setdefault(switch, old)
        if old + delta:
            self.data[switch] = old + delta
        else:
            del self.data[switch]

    def clear_tracked_data(self) -> None:
        self.tracked = {}
        self.tracked_valid = True


@dataclass
class Totals:
    """What the totals node keeps."""

    ports: int = 0
    switches: int = 0
    largest: int = 0


class TotalsNode(Node[Totals]):
    """Totals over the per-switch counts; the largest count needs a rescan when the
    largest switch shrinks, so that case is UNHANDLED."""

    def __init__(self, port_count: PortCount, buggy: bool = False) -> None:
        super().__init__("totals", Totals())
        self.port_count = port_count
        self.buggy = buggy

    def run(self, ctx: Any) -> bool:
        counts = self.port_count.data.values()
        new = Totals(sum(counts), len(counts), max(counts, default=0))
        changed = new != self.data
        self.data = new
        return changed

    def handle_port_count(self, ctx: Any) -> HandlerResult:
        if not self.port_count.tracked_valid:
            return HandlerResult.UNHANDLED
        t = self.data
        tracked = self.port_count.tracked
        counts = self.port_count.data
        # Give up before touching data: run() could not tell what a half-applied handler did.
        if any(old == t.largest and counts.get(s, 0) < old for s, old in tracked.items()):
            return HandlerResult.UNHANDLED
        for switch, old in tracked.items():
            new = counts.get(switch, 0)
            t.ports += new - old
            if not self.buggy or new:
                t.switches += (new > 0) - (old > 0)
            t.largest = max(t.largest, new)
        return HandlerResult.HANDLED_UPDATED


class Summary(Node[str]):
    """A text line over the totals; it has no handler, so any totals change recomputes it."""

    def __init__(self, totals: TotalsNode) -> None:
        super().__init__("summary", "")
        self.totals = totals

    def run(self, ctx: Any) -> bool:
        t = self.totals.data
        new = f"{t.ports} ports on {t.switches} switches, largest {t.largest}"
        changed, self.data = new != self.data, new
        return changed


@dataclass
class PortsGraph:
    """What a daemon's graph.py would return: the nodes and the engine."""

    world: dict[str, str]
    ports: InputNode[list[PortChange]]
    port_count: PortCount
    totals: TotalsNode
    summary: Summary
    engine: Engine = field(repr=False)


def build_ports_graph(world: dict[str, str], buggy_port_count: bool = False,
                      buggy_totals: bool = False) -> PortsGraph:
    ports: InputNode[list[PortChange]] = InputNode("NB_logical_switch_port",
                                                   merge=lambda a, b: a + b)
    port_count = PortCount(world, ports, buggy_port_count)
    totals = TotalsNode(port_count, buggy_totals)
    summary = Summary(totals)
    port_count.add_input(ports, port_count.handle_ports)
    totals.add_input(port_count, totals.handle_port_count)
    summary.add_input(totals)
    return PortsGraph(world, ports, port_count, totals, summary, Engine(summary))


def apply(graph: PortsGraph, *changes: PortChange) -> None:
    """Apply row changes to the world and signal them, as the OVSDB layer will."""
    for c in changes:
        if c.new is None:
            del graph.world[c.port]
        else:
            graph.world[c.port] = c.new
    graph.ports.set_changes(list(changes))


def random_changes(seed: int, steps: int) -> list[Callable[[PortsGraph], None]]:
    """A seeded sequence of batches of port inserts, deletes and moves."""
    rng = random.Random(seed)
    serial = iter(range(10**6))

    def one_batch(graph: PortsGraph) -> None:
        batch: list[PortChange] = []
        shadow = dict(graph.world)
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.45 or not shadow:
                port, new = f"lsp{next(serial)}", rng.choice(SWITCHES)
                batch.append(PortChange(port, None, new))
                shadow[port] = new
            elif kind < 0.75:
                port = rng.choice(sorted(shadow))
                batch.append(PortChange(port, shadow.pop(port), None))
            else:
                port = rng.choice(sorted(shadow))
                new = rng.choice(SWITCHES)
                batch.append(PortChange(port, shadow[port], new))
                shadow[port] = new
        apply(graph, *batch)

    return [one_batch] * steps


def snapshot(graph: PortsGraph) -> dict[str, object]:
    return {"counts": graph.port_count.data, "totals": graph.totals.data,
            "summary": graph.summary.data}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("fresh", [False, True])
def test_correct_handlers_pass_incremental_equals_recompute(seed: int, fresh: bool) -> None:
    world: dict[str, str] = {}
    graph = assert_incremental_equals_recompute(
        lambda: build_ports_graph(world), random_changes(seed, 60), snapshot, fresh=fresh
    )
    # The sequence exercised the incremental paths, not only recomputes.
    assert graph.port_count.stats.compute > 0 and graph.totals.stats.compute > 0
    assert graph.summary.data.startswith(f"{len(world)} ports")


@pytest.mark.parametrize("fresh", [False, True])
@pytest.mark.parametrize("bug", ["port_count", "totals"])
def test_wrong_handler_is_caught_with_a_readable_diff(bug: str, fresh: bool) -> None:
    world: dict[str, str] = {}

    def build() -> PortsGraph:
        return build_ports_graph(world, buggy_port_count=bug == "port_count",
                                 buggy_totals=bug == "totals")

    with pytest.raises(AssertionError, match="differs from a full recompute after change") as e:
        assert_incremental_equals_recompute(build, random_changes(7, 200), snapshot,
                                            fresh=fresh)
    text = str(e.value)
    assert "--- incremental" in text and "+++ recompute" in text
    if bug == "port_count":
        assert "\n-{'counts': " in text and "\n+{'counts': " in text
    else:  # the counts agree; the diff points at the totals
        assert "\n {'counts': " in text and "\n- 'totals': Totals(" in text


def test_live_snapshots_are_copied_so_bugs_still_show() -> None:
    world: dict[str, str] = {}
    with pytest.raises(AssertionError, match="differs"):
        assert_incremental_equals_recompute(
            lambda: build_ports_graph(world, buggy_port_count=True),
            random_changes(3, 100),
            lambda g: g.port_count.data,  # a live view, which the recompute rewrites
        )


def test_canceled_run_fails_the_check() -> None:
    class NeedsTxn(Node[int]):
        def run(self, ctx: Any) -> bool:
            return True

    @dataclass
    class G:
        engine: Engine

    def build() -> G:
        node = NeedsTxn("writer", 0, needs_txn=lambda ctx: ctx)
        node.add_input(InputNode("src"))
        return G(Engine(node))

    canceled = r"initial run: the engine run was canceled at \['writer'\]"
    with pytest.raises(AssertionError, match=canceled):
        assert_incremental_equals_recompute(build, [], lambda g: 0, ctx=None)


def test_adding_a_port_recomputes_no_node() -> None:
    world = {"lsp0": "sw0", "lsp1": "sw1"}
    graph = build_ports_graph(world)
    graph.engine.run()
    graph.engine.clear_stats()
    apply(graph, PortChange("lsp2", None, "sw1"))
    graph.engine.run()
    # summary has no handler: it recomputes whenever totals change.
    assert_engine_stats(graph.engine, recompute={"summary"},
                        compute={"port_count", "totals"}, cancel=set())
    assert_engine_stats(graph.engine, compute={"port_count": 1, "totals": 1})
    with expect_engine_stats(graph.engine, recompute=set(), compute={"port_count"}):
        apply(graph, PortChange("lsp2", "sw1", "sw1"))  # a column that counts ignore
        graph.engine.run()


def test_engine_stats_mismatch_is_reported() -> None:
    graph = build_ports_graph({"lsp0": "sw0"})
    graph.engine.run()
    graph.engine.clear_stats()
    apply(graph, PortChange("lsp0", "sw0", None))  # shrinks the largest switch
    graph.engine.run()
    with pytest.raises(AssertionError) as e:
        assert_engine_stats(graph.engine, recompute=set())
    assert "recompute: expected [], got ['summary', 'totals']" in str(e.value)
    assert "Node: totals\n- recompute:            1\n" in str(e.value)
    with pytest.raises(AssertionError, match=r"compute: expected \{'totals': 1\}"):
        assert_engine_stats(graph.engine, compute={"totals": 1})
    with pytest.raises(EngineError, match="no node named 'lflow'"):
        assert_engine_stats(graph.engine, recompute={"lflow"})
    with pytest.raises(TypeError, match="not a string"):
        assert_engine_stats(graph.engine, recompute="totals")


def test_leaf_nodes_are_checked_only_when_named() -> None:
    graph = build_ports_graph({})
    graph.engine.run()
    graph.engine.clear_stats()
    graph.engine.run()
    assert_engine_stats(graph.engine, recompute=set())
    assert_engine_stats(graph.engine, recompute={"NB_logical_switch_port": 1})
