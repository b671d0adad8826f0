"""Test helpers for engine graphs: which nodes recomputed, and incremental == recompute.

These are OVN's ``check_engine_stats`` and ``CHECK_NO_CHANGE_AFTER_RECOMPUTE`` for pyovn's
unit tests. They raise :class:`AssertionError` with a readable message.
"""

from __future__ import annotations

import copy
import difflib
import pprint
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from pyovn.engine._engine import Engine
from pyovn.engine._node import NodeState

StatsExpectation = Collection[str] | Mapping[str, int] | None
"""None: not checked. Node names: exactly these nodes have a non-zero counter. Names to
counts: exactly these counts, and zero for every other node."""

_MAX_DIFF_LINES = 80


def parse_show_stats(text: str) -> dict[str, dict[str, int]]:
    """``inc-engine/show-stats`` output (OVN 23.03's format, pyovn's or OVN's daemons) as
    ``{node: {"recompute": n, "compute": n, "abort": n}}``."""
    out: dict[str, dict[str, int]] = {}
    counters: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("Node: "):
            counters = out.setdefault(line[6:].strip(), {})
        elif line.startswith("- ") and ":" in line:
            name, _, value = line[2:].partition(":")
            counters[name.strip()] = int(value)
    return out


def recomputed_nodes(text: str) -> dict[str, int]:
    """Nodes of an ``inc-engine/show-stats`` output that recomputed, except the OVSDB
    leaves (``NB_``, ``SB_``, ``OVS_``: they count every run)."""
    return {node: c["recompute"] for node, c in parse_show_stats(text).items()
            if c.get("recompute") and not node.startswith(("NB_", "SB_", "OVS_"))}


def assert_engine_stats(
    engine: Engine,
    *,
    recompute: StatsExpectation = None,
    compute: StatsExpectation = None,
    cancel: StatsExpectation = None,
) -> None:
    """Assert the counters accumulated since the last ``engine.clear_stats()``.

    ``assert_engine_stats(engine, recompute=set())`` says "no node recomputed";
    ``compute={"port_count": 1}`` says "port_count computed incrementally once and no
    other node computed". Leaf nodes are left out unless named, because OVN counts
    every run of a leaf as a recompute.
    """
    problems = []
    for counter, expected in (("recompute", recompute), ("compute", compute),
                              ("cancel", cancel)):
        if expected is None:
            continue
        if isinstance(expected, str):
            raise TypeError(f"{counter}= takes a collection of node names, not a string")
        names = set(expected)
        for name in names:
            engine.node(name)  # an unknown name is a mistake in the test
        actual = {
            n.name: getattr(n.stats, counter)
            for n in engine.nodes
            if n.inputs or n.name in names
        }
        if isinstance(expected, Mapping):
            want = dict(expected)
            got = {k: v for k, v in actual.items() if v or k in want}
        else:
            want = dict.fromkeys(names, True)
            got = {k: True for k, v in actual.items() if v}
        if got != want:
            shown_want = want if isinstance(expected, Mapping) else sorted(names)
            shown_got = got if isinstance(expected, Mapping) else sorted(got)
            problems.append(f"  {counter}: expected {shown_want}, got {shown_got}")
    if problems:
        raise AssertionError(
            "engine stats since clear_stats() differ from the expectation:\n"
            + "\n".join(problems) + "\n" + engine.show_stats()
        )


@contextmanager
def expect_engine_stats(
    engine: Engine,
    *,
    recompute: StatsExpectation = None,
    compute: StatsExpectation = None,
    cancel: StatsExpectation = None,
) -> Iterator[None]:
    """Clear the stats, run the block, then :func:`assert_engine_stats` for it."""
    engine.clear_stats()
    yield
    assert_engine_stats(engine, recompute=recompute, compute=compute, cancel=cancel)


class HasEngine(Protocol):
    """A graph object as a daemon's ``graph.py`` builds it: its nodes plus the engine."""

    @property
    def engine(self) -> Engine:
        """The engine that runs the graph."""
        ...


G = TypeVar("G", bound=HasEngine)


def assert_incremental_equals_recompute(
    build: Callable[[], G],
    changes: Iterable[Callable[[G], object]],
    snapshot: Callable[[G], object],
    *,
    ctx: Any = None,
    fresh: bool = False,
    every_step: bool = True,
) -> G:
    """Drive a graph through ``changes`` incrementally and check, after each change (or
    only after the last one when ``every_step`` is False), that ``snapshot`` of it equals
    ``snapshot`` after a full recompute. Returns the incrementally driven graph.

    ``build()`` makes a graph over the test's world; each change mutates that world and
    signals it to the graph's input nodes. The recompute happens in the same engine
    (``force_recompute``, like OVN's CHECK_NO_CHANGE_AFTER_RECOMPUTE), or, with
    ``fresh``, in a newly built graph over the same world, which leaves the incremental
    graph untouched so that errors accumulate. Snapshots are deep-copied.
    """
    graph = build()
    _run(graph.engine, ctx, "initial run")
    step = -1
    change_list = list(changes)
    for step, change in enumerate(change_list):
        change(graph)
        _run(graph.engine, ctx, f"step {step}")
        if every_step or step == len(change_list) - 1:
            _compare(graph, build, snapshot, ctx, fresh, step)
    if step < 0:
        _compare(graph, build, snapshot, ctx, fresh, step)
    return graph


def _run(engine: Engine, ctx: Any, what: str) -> None:
    if not engine.run(ctx):
        canceled = [n.name for n in engine.nodes if n.state is NodeState.CANCELED]
        raise AssertionError(f"{what}: the engine run was canceled at {canceled}")


def _compare(
    graph: G,
    build: Callable[[], G],
    snapshot: Callable[[G], object],
    ctx: Any,
    fresh: bool,
    step: int,
) -> None:
    incremental = copy.deepcopy(snapshot(graph))
    if fresh:
        other = build()
        _run(other.engine, ctx, f"step {step}, fresh recompute")
        recomputed = copy.deepcopy(snapshot(other))
    else:
        graph.engine.force_recompute()
        _run(graph.engine, ctx, f"step {step}, forced recompute")
        recomputed = copy.deepcopy(snapshot(graph))
    if incremental != recomputed:
        where = "after the initial run" if step < 0 else f"after change {step}"
        raise AssertionError(
            f"incremental processing differs from a full recompute {where}:\n"
            + _diff(incremental, recomputed)
        )


def _diff(incremental: object, recomputed: object) -> str:
    lines = list(difflib.unified_diff(
        pprint.pformat(incremental, width=100).splitlines(),
        pprint.pformat(recomputed, width=100).splitlines(),
        "incremental", "recompute", lineterm="", n=2,
    ))
    if len(lines) > _MAX_DIFF_LINES:
        lines = [*lines[:_MAX_DIFF_LINES], f"... {len(lines) - _MAX_DIFF_LINES} more lines"]
    return "\n".join(lines)
