"""Engine nodes: the materialized views that the engine keeps up to date.

A :class:`Node` owns its data and knows how to rebuild it from its inputs (``run``) and,
for some inputs, how to fold their changes into it (a change handler). An
:class:`InputNode` is a leaf whose changes are pushed in from outside (an OVSDB table's
change set, a timer, a connection state).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pyovn.errors import EngineError

D = TypeVar("D")
T = TypeVar("T")


class HandlerResult(enum.Enum):
    """What a change handler did with its input's changes."""

    HANDLED_UPDATED = "handled-updated"
    """The changes were folded in and this node's data changed."""
    HANDLED_UNCHANGED = "handled-unchanged"
    """The changes were folded in (or are irrelevant) and this node's data did not change."""
    UNHANDLED = "unhandled"
    """The handler cannot process these changes; the engine recomputes the node. Decide
    this before touching the node's data: ``run()`` reports whether data changed, and
    it cannot see a change that a handler made and then gave up on."""


class NodeState(enum.Enum):
    """A node's state in the current (or last) iteration, as OVN's ``engine_node_state``."""

    STALE = "Stale"
    """Not processed yet in this iteration."""
    UPDATED = "Updated"
    """Processed; its data changed, so consumers must look at it."""
    UNCHANGED = "Unchanged"
    """Processed; its data did not change."""
    CANCELED = "Canceled"
    """Not processed: it needed a transaction or a recompute it could not have. It will
    be recomputed in a later iteration (OVN 23.03 calls this state "Aborted")."""


Handler = Callable[[Any], HandlerResult]
"""A change handler: called with the iteration's context when its input is UPDATED."""


def noop_handler(ctx: Any) -> HandlerResult:
    """A handler for an input whose changes never change this node's data. Every use
    must carry a comment at the wiring saying why ignoring the input is correct."""
    return HandlerResult.HANDLED_UNCHANGED


@dataclass(slots=True)
class NodeStats:
    """A node's counters, with OVN's meaning: ``recompute`` counts runs of ``run()``
    (for a leaf, every iteration), ``compute`` counts iterations in which every changed
    input was handled incrementally, ``cancel`` counts iterations this node canceled."""

    recompute: int = 0
    compute: int = 0
    cancel: int = 0


@dataclass(frozen=True, slots=True)
class NodeInput:
    """One edge of the graph: an input node and the handler for its changes (or None,
    meaning any change of the input recomputes the consumer)."""

    node: Node[Any]
    handler: Handler | None

    @property
    def label(self) -> str:
        """The handler's name, or "recompute" when the input has no handler."""
        if self.handler is None:
            return "recompute"
        return str(getattr(self.handler, "__name__", type(self.handler).__name__))


class Node(ABC, Generic[D]):
    """A materialized view of its inputs; subclass it and implement :meth:`run`.

    ``data`` holds the view. ``run(ctx)`` rebuilds it from the inputs' data and returns
    whether it changed. A change handler registered with :meth:`add_input` folds one
    input's changes into ``data`` and says what happened (:class:`HandlerResult`). Nodes
    that keep per-iteration "tracked changes" for their consumers reset them in
    :meth:`clear_tracked_data`.

    ``needs_txn``, when given, declares that the node writes through a transaction: it
    is called with the context and returns that transaction, or None when none is
    available, in which case the node is canceled instead of run or handled.
    """

    def __init__(
        self, name: str, data: D, *, needs_txn: Callable[[Any], object] | None = None
    ) -> None:
        self.name = name
        self.data = data
        self.needs_txn = needs_txn
        self.state = NodeState.STALE
        self.stats = NodeStats()
        self._inputs: list[NodeInput] = []
        # Why the next run must recompute this node (None: it may compute incrementally).
        # A node starts with a full computation: it has never seen its inputs.
        self._recompute_reason: str | None = "initial run"
        self._engine_name: str | None = None

    @property
    def inputs(self) -> tuple[NodeInput, ...]:
        """The node's inputs, in the order they were added."""
        return tuple(self._inputs)

    @property
    def changed(self) -> bool:
        """True if the node's data changed in the last iteration (state UPDATED)."""
        return self.state is NodeState.UPDATED

    def add_input(self, node: Node[Any], handler: Handler | None = None) -> None:
        """Make ``node`` an input of this node, its changes processed by ``handler``
        (None: any change of ``node`` recomputes this node). Wire before building the
        :class:`~pyovn.engine.Engine`."""
        if self._engine_name is not None:
            raise EngineError(
                f"cannot add input {node.name!r} to node {self.name!r}: it already "
                f"belongs to engine {self._engine_name!r}; wire the graph first"
            )
        if node is self:
            raise EngineError(f"node {self.name!r} cannot be its own input")
        if any(i.node is node for i in self._inputs):
            raise EngineError(f"node {node.name!r} is already an input of {self.name!r}")
        self._inputs.append(NodeInput(node, handler))

    @abstractmethod
    def run(self, ctx: Any) -> bool:
        """Rebuild ``data`` from the inputs' data; return True if it changed since the
        last iteration. Returning True when unsure is always correct, only slower for
        the consumers."""

    def clear_tracked_data(self) -> None:
        """Forget the changes tracked for consumers. The engine calls it at the start of
        every iteration and before every :meth:`run`; the default does nothing."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.state.value}>"


class InputNode(Node[None], Generic[T]):
    """A leaf whose changes are signalled from outside with :meth:`set_changes`.

    Changes set between iterations become :attr:`changes` during the next engine run:
    the node is UPDATED and its consumers' handlers read :attr:`changes`. A change of
    None means "changed, details unknown": handlers must then return UNHANDLED.

    ``merge`` combines two change sets given before one run (older first). Without it,
    a second :meth:`set_changes` before a run turns the pending changes into "unknown",
    which is safe because consumers then recompute.
    """

    def __init__(self, name: str, *, merge: Callable[[T, T], T] | None = None) -> None:
        super().__init__(name, None)
        self.merge = merge
        self.changes: T | None = None
        self._pending: T | None = None
        self._has_pending = False

    @property
    def has_pending(self) -> bool:
        """True if changes were set and not yet consumed by an engine run."""
        return self._has_pending

    def set_changes(self, changes: T | None = None) -> None:
        """Signal that this input changed; the next engine run exposes ``changes``."""
        if not self._has_pending:
            self._pending = changes
            self._has_pending = True
        elif self._pending is None or changes is None or self.merge is None:
            self._pending = None
        else:
            self._pending = self.merge(self._pending, changes)

    def add_input(self, node: Node[Any], handler: Handler | None = None) -> None:
        """Refused: an input node's changes come from outside the graph."""
        raise EngineError(f"input node {self.name!r} cannot have inputs (got {node.name!r})")

    def run(self, ctx: Any) -> bool:
        """Expose the pending changes, if any, as :attr:`changes`."""
        if not self._has_pending:
            return False
        self.changes = self._pending
        self._pending = None
        self._has_pending = False
        return True

    def clear_tracked_data(self) -> None:
        """Drop the changes of the last iteration."""
        self.changes = None
