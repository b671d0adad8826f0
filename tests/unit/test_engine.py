"""The engine's contract: order, handlers, propagation, cancel-and-retry, forced recompute."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from pyovn.engine import (
    Engine,
    EngineError,
    Handler,
    HandlerResult,
    InputNode,
    Node,
    NodeState,
    noop_handler,
)

UPDATED = HandlerResult.HANDLED_UPDATED
UNCHANGED = HandlerResult.HANDLED_UNCHANGED
UNHANDLED = HandlerResult.UNHANDLED


@dataclass
class Ctx:
    """A daemon context: the transaction is None while the previous commit is in flight."""

    txn: object | None = "txn"


def sb_txn(ctx: Any) -> object | None:
    """The transaction a writing node needs."""
    return ctx.txn  # type: ignore[no-any-return]


class Scripted(Node[int]):
    """A node whose run() and handlers record their calls and return scripted results."""

    def __init__(self, name: str, log: list[str], **kwargs: Any) -> None:
        super().__init__(name, 0, **kwargs)
        self.log = log
        self.run_result = True
        self.results: dict[str, HandlerResult] = {}
        self.failing: set[str] = set()
        self.cleared = 0

    def run(self, ctx: Any) -> bool:
        self.log.append(f"run {self.name}")
        self.data += 1
        return self.run_result

    def handler(self, input_name: str) -> Handler:
        def handle(ctx: Any) -> HandlerResult:
            self.log.append(f"handle {self.name}<-{input_name}")
            if input_name in self.failing:
                raise ValueError("boom")
            return self.results.get(input_name, UPDATED)

        handle.__name__ = f"{self.name}_{input_name}_handler"
        return handle

    def clear_tracked_data(self) -> None:
        self.cleared += 1


def current_changes(node: InputNode[str]) -> str | None:
    """Read through a call, so that mypy does not carry a narrowed type across runs."""
    return node.changes


def chain() -> tuple[list[str], InputNode[str], Scripted, Scripted, Engine]:
    """src -> a -> b, both edges handled."""
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a = Scripted("a", log)
    b = Scripted("b", log)
    a.add_input(src, a.handler("src"))
    b.add_input(a, b.handler("a"))
    engine = Engine(b)
    engine.run(Ctx())
    log.clear()
    engine.clear_stats()
    return log, src, a, b, engine


def test_nodes_run_in_topological_order_inputs_first() -> None:
    log: list[str] = []
    x: InputNode[str] = InputNode("x")
    y: InputNode[str] = InputNode("y")
    left, right, top = Scripted("left", log), Scripted("right", log), Scripted("top", log)
    left.add_input(x)
    right.add_input(x)
    right.add_input(y)
    top.add_input(left)
    top.add_input(right)
    engine = Engine(top)
    assert [n.name for n in engine.nodes] == ["x", "left", "y", "right", "top"]
    engine.run(Ctx())
    assert log == ["run left", "run right", "run top"]


def test_engine_takes_every_node_reachable_from_its_outputs() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a, b = Scripted("a", log), Scripted("b", log)
    a.add_input(src)
    b.add_input(src)
    assert [n.name for n in Engine(a, b).nodes] == ["src", "a", "b"]


def test_cycle_is_rejected_naming_its_nodes() -> None:
    log: list[str] = []
    a, b, c = Scripted("a", log), Scripted("b", log), Scripted("c", log)
    b.add_input(a)
    c.add_input(b)
    a.add_input(c)
    with pytest.raises(EngineError, match=r"cycle in engine graph: (\w -> ){3}\w"):
        Engine(c)
    with pytest.raises(EngineError, match="a -> b -> c -> a"):
        Engine(a)


def test_wiring_mistakes_are_rejected() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a, b = Scripted("a", log), Scripted("a", log)
    with pytest.raises(EngineError, match="own input"):
        a.add_input(a)
    a.add_input(src)
    with pytest.raises(EngineError, match="already an input"):
        a.add_input(src)
    with pytest.raises(EngineError, match="cannot have inputs"):
        src.add_input(a)
    b.add_input(a)
    with pytest.raises(EngineError, match="two nodes are named 'a'"):
        Engine(b)
    with pytest.raises(EngineError, match="at least one node"):
        Engine()


def test_wiring_after_the_engine_is_built_is_rejected() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a = Scripted("a", log)
    a.add_input(src)
    Engine(a)
    with pytest.raises(EngineError, match="already belongs to engine"):
        a.add_input(InputNode("other"))
    with pytest.raises(EngineError, match="already belongs to engine"):
        Engine(a)


def test_first_run_recomputes_every_node() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a = Scripted("a", log)
    a.add_input(src, a.handler("src"))
    engine = Engine(a)
    assert engine.need_run()
    assert engine.run(Ctx())
    assert log == ["run a"]
    assert a.state is NodeState.UPDATED
    assert not engine.need_run()


def test_handled_input_change_computes_without_recompute() -> None:
    log, src, a, b, engine = chain()
    src.set_changes("port added")
    engine.run(Ctx())
    assert log == ["handle a<-src", "handle b<-a"]
    assert (a.stats.recompute, a.stats.compute) == (0, 1)
    assert (b.stats.recompute, b.stats.compute) == (0, 1)
    assert a.changed and b.changed


def test_changed_input_without_handler_recomputes() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    other: InputNode[str] = InputNode("other")
    a = Scripted("a", log)
    a.add_input(src)
    a.add_input(other, a.handler("other"))
    engine = Engine(a)
    engine.run(Ctx())
    log.clear()
    other.set_changes("x")
    src.set_changes("y")
    engine.run(Ctx())
    assert log == ["run a"]  # no handler is called once a recompute is known to be needed
    assert (a.stats.recompute, a.stats.compute) == (2, 0)


def test_unhandled_change_recomputes_and_logs_node_and_input(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log, src, a, b, engine = chain()
    a.results["src"] = UNHANDLED
    src.set_changes("acl added")
    with caplog.at_level(logging.DEBUG, logger="pyovn.engine"):
        engine.run(Ctx())
    assert log == ["handle a<-src", "run a", "handle b<-a"]
    assert (a.stats.recompute, a.stats.compute) == (1, 0)
    assert [r.name for r in caplog.records] == ["pyovn.engine"]
    assert "node: a, recompute (failed handler for input src)" in caplog.text


def test_update_by_an_earlier_handler_survives_a_later_unhandled() -> None:
    log: list[str] = []
    x: InputNode[str] = InputNode("x")
    y: InputNode[str] = InputNode("y")
    a = Scripted("a", log)
    a.add_input(x, a.handler("x"))
    a.add_input(y, a.handler("y"))
    engine = Engine(a)
    engine.run(Ctx())
    a.results = {"x": UPDATED, "y": UNHANDLED}
    a.run_result = False  # run() sees the data the x handler already changed
    x.set_changes("1")
    y.set_changes("2")
    engine.run(Ctx())
    assert log[-3:] == ["handle a<-x", "handle a<-y", "run a"]
    assert a.state is NodeState.UPDATED


def test_handled_unchanged_does_not_propagate() -> None:
    log, src, a, b, engine = chain()
    a.results["src"] = UNCHANGED
    src.set_changes("irrelevant column")
    engine.run(Ctx())
    assert log == ["handle a<-src"]
    assert a.state is NodeState.UNCHANGED and b.state is NodeState.UNCHANGED
    assert (b.stats.recompute, b.stats.compute) == (0, 0)


def test_recompute_that_changes_nothing_does_not_propagate() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a, b = Scripted("a", log), Scripted("b", log)
    a.add_input(src)
    b.add_input(a)
    engine = Engine(b)
    engine.run(Ctx())
    log.clear()
    a.run_result = False
    src.set_changes("x")
    engine.run(Ctx())
    assert log == ["run a"]
    assert b.state is NodeState.UNCHANGED


def test_any_handled_updated_input_marks_node_updated() -> None:
    log: list[str] = []
    x: InputNode[str] = InputNode("x")
    y: InputNode[str] = InputNode("y")
    a = Scripted("a", log)
    a.add_input(x, a.handler("x"))
    a.add_input(y, a.handler("y"))
    engine = Engine(a)
    engine.run(Ctx())
    a.results = {"x": UPDATED, "y": UNCHANGED}
    x.set_changes("1")
    y.set_changes("2")
    engine.run(Ctx())
    assert a.state is NodeState.UPDATED
    assert a.stats.compute == 1  # one per iteration, not one per handler, as OVN counts


def test_untouched_inputs_leave_nodes_unchanged_and_uncalled() -> None:
    log, src, a, b, engine = chain()
    assert not engine.need_run()
    assert engine.run(Ctx())
    assert log == []
    assert not engine.has_updated()
    assert [n.state for n in engine.nodes] == [NodeState.UNCHANGED] * 3


def test_noop_handler_absorbs_changes() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a = Scripted("a", log)
    # The test node's data does not depend on src's content.
    a.add_input(src, noop_handler)
    engine = Engine(a)
    engine.run(Ctx())
    src.set_changes("x")
    engine.run(Ctx())
    assert a.state is NodeState.UNCHANGED and a.stats.compute == 1


def test_wrong_return_types_are_reported() -> None:
    log, src, a, b, engine = chain()
    a.results["src"] = True  # type: ignore[assignment]
    src.set_changes("x")
    with pytest.raises(EngineError, match="handler a_src_handler of node 'a' returned True"):
        engine.run(Ctx())
    a.run_result = None  # type: ignore[assignment]
    with pytest.raises(EngineError, match=r"run\(\) of node 'a' returned None"):
        engine.run(Ctx())


def test_failing_handler_forces_recompute_next_run() -> None:
    log, src, a, b, engine = chain()
    a.failing.add("src")
    src.set_changes("x")
    with pytest.raises(ValueError, match="boom"):
        engine.run(Ctx())
    assert engine.recompute_requested and engine.need_run()
    a.failing.clear()
    log.clear()
    engine.run(Ctx())
    assert log == ["run a", "run b"]


def test_input_changes_are_visible_for_one_iteration() -> None:
    seen: list[str | None] = []
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a = Scripted("a", log)

    def handle(ctx: Any) -> HandlerResult:
        seen.append(src.changes)
        return UPDATED

    a.add_input(src, handle)
    engine = Engine(a)
    engine.run(Ctx())
    src.set_changes("lsp1 inserted")
    assert (src.has_pending, engine.need_run()) == (True, True)
    engine.run(Ctx())
    assert seen == ["lsp1 inserted"]
    assert (src.changed, src.has_pending) == (True, False)
    assert current_changes(src) == "lsp1 inserted"  # still readable after the run
    engine.run(Ctx())
    assert (current_changes(src), src.state) == (None, NodeState.UNCHANGED)
    assert seen == ["lsp1 inserted"]


def test_input_changes_set_twice_are_merged_or_become_unknown() -> None:
    merged: InputNode[list[str]] = InputNode("merged", merge=lambda a, b: a + b)
    plain: InputNode[list[str]] = InputNode("plain")
    for node in (merged, plain):
        node.set_changes(["lsp1"])
        node.set_changes(["lsp2"])
        node.run(None)
    assert merged.changes == ["lsp1", "lsp2"]
    assert plain.changes is None
    merged.set_changes(None)
    merged.set_changes(["lsp3"])
    merged.run(None)
    assert merged.changes is None


def test_tracked_data_cleared_at_start_of_each_run_and_before_recompute() -> None:
    log, src, a, b, engine = chain()
    engine.run(Ctx())
    assert (a.cleared, b.cleared) == (3, 3)  # chain(): start + recompute; then one start
    a.results["src"] = UNHANDLED
    src.set_changes("x")
    engine.run(Ctx())
    assert (a.cleared, b.cleared) == (5, 4)


def test_cancel_without_txn_then_retry_recomputes() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    nb_only = Scripted("nb_only", log)
    writer = Scripted("writer", log, needs_txn=sb_txn)
    after = Scripted("after", log)
    nb_only.add_input(src, nb_only.handler("src"))
    writer.add_input(src, writer.handler("src"))
    after.add_input(writer, after.handler("writer"))
    engine = Engine(after, nb_only)
    engine.run(Ctx())
    engine.clear_stats()
    log.clear()

    src.set_changes("lsp1 inserted")
    assert engine.run(Ctx(txn=None)) is False
    assert engine.canceled() and engine.need_run()
    assert writer.state is NodeState.CANCELED and after.state is NodeState.CANCELED
    assert log == ["handle nb_only<-src"]  # the part that needs no txn went ahead
    assert (writer.stats.cancel, after.stats.cancel) == (1, 0)  # counted where it happened

    assert engine.run(Ctx(txn=None)) is False  # still no txn: still owed
    assert writer.stats.cancel == 2
    log.clear()
    assert engine.run(Ctx()) is True
    # src's changes are gone, so the canceled nodes recompute rather than handle.
    assert log == ["run writer", "run after"]
    assert not engine.canceled() and not engine.need_run()


def test_node_with_nothing_to_do_runs_without_txn() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    writer = Scripted("writer", log, needs_txn=sb_txn)
    writer.add_input(src, writer.handler("src"))
    engine = Engine(writer)
    engine.run(Ctx())
    assert engine.run(Ctx(txn=None)) and writer.stats.cancel == 0


def test_recompute_not_allowed_cancels_and_retries() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    handled, unhandled = Scripted("handled", log), Scripted("unhandled", log)
    handled.add_input(src, handled.handler("src"))
    unhandled.add_input(src)
    engine = Engine(handled, unhandled)
    assert engine.run(Ctx(), recompute_allowed=False) is False  # initial run needs recompute
    assert engine.run(Ctx()) is True
    engine.clear_stats()
    log.clear()
    src.set_changes("x")
    assert engine.run(Ctx(), recompute_allowed=False) is False
    assert log == ["handle handled<-src"]
    assert unhandled.state is NodeState.CANCELED and unhandled.stats.cancel == 1
    assert engine.run(Ctx(), recompute_allowed=False) is False
    assert engine.run(Ctx()) is True
    assert log == ["handle handled<-src", "run unhandled"]


def test_force_recompute_recomputes_every_node_once() -> None:
    log, src, a, b, engine = chain()
    engine.force_recompute()
    assert (engine.recompute_requested, engine.need_run()) == (True, True)
    src.set_changes("x")
    engine.run(Ctx())
    assert log == ["run a", "run b"]
    assert (engine.recompute_requested, engine.need_run()) == (False, False)
    log.clear()
    src.set_changes("y")
    engine.run(Ctx())
    assert log == ["handle a<-src", "handle b<-a"]


def test_force_recompute_can_be_withdrawn() -> None:
    log, src, a, b, engine = chain()
    engine.force_recompute()
    engine.force_recompute(False)
    assert not engine.need_run()
    engine.run(Ctx())
    assert log == []


def test_has_run_and_has_updated() -> None:
    log: list[str] = []
    src: InputNode[str] = InputNode("src")
    a = Scripted("a", log)
    a.add_input(src, a.handler("src"))
    engine = Engine(a)
    assert not engine.has_run() and not engine.has_updated()
    engine.run(Ctx())
    assert engine.has_run() and engine.has_updated()
    engine.run(Ctx())
    assert not engine.has_updated()
