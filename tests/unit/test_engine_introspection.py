"""Engine introspection: inc-engine/show-stats text, clear-stats, node look-up, DOT dump."""

from __future__ import annotations

from typing import Any

import pytest

from pyovn.engine import Engine, EngineError, HandlerResult, InputNode, Node


class Counter(Node[int]):
    """Counts the changes of its inputs; handles NB_acl, recomputes for the rest."""

    def run(self, ctx: Any) -> bool:
        self.data = 0
        return True

    def handle_acl(self, ctx: Any) -> HandlerResult:
        self.data += 1
        return HandlerResult.HANDLED_UPDATED


def northd_like() -> tuple[InputNode[str], InputNode[str], Counter, Counter, Engine]:
    nb_switch: InputNode[str] = InputNode("NB_logical_switch")
    nb_acl: InputNode[str] = InputNode("NB_acl")
    northd = Counter("northd", 0)
    lflow = Counter("lflow", 0, needs_txn=lambda ctx: ctx)
    northd.add_input(nb_switch)
    northd.add_input(nb_acl, northd.handle_acl)
    lflow.add_input(northd, lflow.handle_acl)
    lflow.add_input(nb_acl, lflow.handle_acl)
    return nb_switch, nb_acl, northd, lflow, Engine(lflow, name="northd")


def test_show_stats_prints_ovn_23_03_format() -> None:
    nb_switch, nb_acl, northd, lflow, engine = northd_like()
    engine.run("txn")
    nb_acl.set_changes("acl1")
    engine.run("txn")
    nb_switch.set_changes("sw1")
    engine.run(None)
    assert engine.show_stats() == (
        "Node: NB_logical_switch\n"
        "- recompute:            3\n"
        "- compute:              0\n"
        "- abort:                0\n"
        "Node: NB_acl\n"
        "- recompute:            3\n"
        "- compute:              0\n"
        "- abort:                0\n"
        "Node: northd\n"
        "- recompute:            2\n"
        "- compute:              1\n"
        "- abort:                0\n"
        "Node: lflow\n"
        "- recompute:            1\n"
        "- compute:              1\n"
        "- abort:                1\n"
    )


def test_show_stats_of_one_node_and_one_counter() -> None:
    nb_switch, nb_acl, northd, lflow, engine = northd_like()
    engine.run(None)
    engine.run("txn")
    assert engine.show_stats("lflow") == (
        "Node: lflow\n"
        "- recompute:            1\n"
        "- compute:              0\n"
        "- abort:                1\n"
    )
    assert engine.show_stats("northd", "recompute") == "1\n"
    assert engine.show_stats("lflow", "abort") == "1\n"
    assert engine.show_stats("lflow", "cancel") == "1\n"
    assert engine.show_stats("lflow", "compute") == "0\n"


def test_show_stats_rejects_unknown_names() -> None:
    *_, engine = northd_like()
    with pytest.raises(EngineError, match="engine 'northd' has no node named 'NB_nat'"):
        engine.show_stats("NB_nat")
    with pytest.raises(EngineError, match="unknown engine counter 'bogus'"):
        engine.show_stats("northd", "bogus")
    with pytest.raises(EngineError, match="only be shown for one node"):
        engine.show_stats(None, "compute")


def test_clear_stats_resets_every_counter() -> None:
    *_, engine = northd_like()
    engine.run(None)
    engine.clear_stats()
    assert engine.show_stats().count("           0\n") == 12


def test_node_lookup_by_name() -> None:
    nb_switch, nb_acl, northd, lflow, engine = northd_like()
    assert engine.node("northd") is northd
    with pytest.raises(EngineError, match="no node named 'x'"):
        engine.node("x")


GOLDEN_DOT = """\
digraph "northd" {
    rankdir=LR;
    node [shape=box];
    "NB_logical_switch" [shape=ellipse];
    "NB_acl" [shape=ellipse];
    "northd";
    "lflow" [style=bold];
    "NB_logical_switch" -> "northd" [label="recompute"];
    "NB_acl" -> "northd" [label="handle_acl"];
    "northd" -> "lflow" [label="handle_acl"];
    "NB_acl" -> "lflow" [label="handle_acl"];
}
"""


def test_dot_dump_matches_golden() -> None:
    *_, engine = northd_like()
    assert engine.to_dot() == GOLDEN_DOT
    *_, again = northd_like()
    assert again.to_dot() == engine.to_dot()


def test_dot_dump_quotes_names() -> None:
    odd: InputNode[str] = InputNode('say "hi"\\')
    node = Counter("n", 0)
    node.add_input(odd)
    assert '"say \\"hi\\"\\\\" -> "n"' in Engine(node).to_dot()
