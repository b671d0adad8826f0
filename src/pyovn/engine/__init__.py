"""The incremental processing engine: OVN's inc-proc-eng contract, in Python.

Contract
--------
Every daemon is a directed acyclic graph of nodes. A node is a *materialized view* of
its inputs: its ``data`` must always equal what a full recompute (``run(ctx)``) would
produce from the inputs' data. For each input the node may register a change handler
that folds the input's changes into ``data`` and returns a :class:`HandlerResult`:
``HANDLED_UPDATED`` (data changed), ``HANDLED_UNCHANGED`` (data did not change) or
``UNHANDLED``. **Every input change must be handled or force a recompute**: a changed
input without a handler, or a handler returning ``UNHANDLED``, makes the engine call
``run()`` instead. A node whose data did not change (no changed input, or only
``HANDLED_UNCHANGED``) is UNCHANGED and its consumers are not called at all.

Leaves are :class:`InputNode`: their changes (an OVSDB table's inserted / modified /
deleted rows) are pushed in from outside with ``set_changes`` and read by consumers'
handlers from ``changes`` during the next run. Nodes may keep "tracked changes" for
their consumers; they live until the start of the next run, when the engine calls
``clear_tracked_data()`` (and before each ``run()`` of that node).

A node that writes (e.g. to the Southbound) declares ``needs_txn``: a function of the
context returning the transaction, or None. If it has work to do and no transaction is
available, or it needs a recompute while ``recompute_allowed`` is False, it is CANCELED
(and so is everything that consumes it); the cancel is counted, ``need_run()`` stays True
and the next run recomputes the canceled nodes. Nodes outside the canceled part of the
graph still run.

There is no global state: data, state and counters live on the node and engine objects.
One wiring function per daemon (``graph.py``) calls ``add_input`` for every edge and
builds the :class:`Engine`; code holds references to its input nodes, never looks them up
by name. Introspection: per-node counters (:meth:`Engine.show_stats`, OVN's
``inc-engine/show-stats`` format), :meth:`Engine.force_recompute` and
:meth:`Engine.to_dot`. :mod:`pyovn.engine.testing` holds the test helpers.
"""

from pyovn.engine._engine import Engine
from pyovn.engine._node import (
    Handler,
    HandlerResult,
    InputNode,
    Node,
    NodeInput,
    NodeState,
    NodeStats,
    noop_handler,
)
from pyovn.errors import EngineError

__all__ = [
    "Engine",
    "EngineError",
    "Handler",
    "HandlerResult",
    "InputNode",
    "Node",
    "NodeInput",
    "NodeState",
    "NodeStats",
    "noop_handler",
]
