"""The desired flow table: what pyovn-controller wants in br-int, and why.

Every flow the translation produces is *contributed* by a parent, the UUID of the
Southbound row it came from (a logical flow, a port binding, a multicast group …).
The table is a multimap keyed by OpenFlow's own identity of a flow,
``(table_id, priority, match)``; the links between flows and parents are
many-to-many, and a flow dies when its last parent goes (:meth:`remove_by_parent`).

**One winner per key.** OpenFlow holds one flow per key, so when parents contribute
different flows for one key, exactly one is installed. The choice is a total order
over the contributions, so it never depends on the order of adds and removes:

1. the flow's kind (:func:`flow_kind`): ``ALLOW`` before ``DROP`` before
   ``CONJUNCTION`` — the least restrictive wins, as in ovn-controller;
2. then the smallest parent UUID (as a lowercase string);
3. then, for one parent contributing two different flows, the smaller encoded
   match+instructions.

When the winner's parent goes, the next contribution becomes the winner and the
switch gets a modify of that key (an ADD when only the cookie changes: OpenFlow 1.1+
cannot modify a cookie).

**Conjunctions merge.** All ``CONJUNCTION`` contributions of one key form one flow
whose actions are the union of their ``conjunction()`` actions, sorted by (id,
clause, n_clauses) and without duplicates; its cookie is that of the smallest
parent. Unlike ovn-controller (which appends and never un-appends), the merged flow
is recomputed from the remaining parents, so removing an ACL removes exactly its
clauses.

**Cookies.** A contributed flow carries ovn-controller's 32-bit cookie (the first
32 bits of its parent's UUID, :func:`~pyovn.controller.ofctrl_cookie.parent_prefix`,
or 0 where OVN uses 0); ofctrl puts pyovn's ownership mark above it when it installs
the flow (:func:`~pyovn.controller.ofctrl_cookie.owned_cookie`), so adding a flow
never copies it. Identical flows (same key and actions) from several parents are one
flow with several parents; the cookie then comes from the smallest parent.

**Change tracking.** Winners are computed lazily: adds and removes only mark keys,
and the next read settles them. :meth:`take_tracked` returns the keys whose winner
really changed since the previous call (add-then-remove, or a recompute that
rebuilds the same flows, yields nothing), which is what ofctrl sends. Groups and
meters, keyed by id, follow the same rules (winner: smallest parent).
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Generic, TypeVar

from pyovn.controller.ofctrl_meters import MeterEntry
from pyovn.openflow import Conjunction, Flow, GroupEntry, Match
from pyovn.openflow.actions import Action

FlowKey = tuple[int, int, Match]
"""``(table_id, priority, match)``: how OpenFlow identifies a flow."""

T = TypeVar("T")


class FlowKind(IntEnum):
    """What a flow does, for choosing among flows with the same key (lower wins)."""

    ALLOW = 0
    """Has at least one action and no ``conjunction`` action."""
    DROP = 1
    """Has no action at all."""
    CONJUNCTION = 2
    """Has a ``conjunction`` action (Open vSwitch allows nothing else beside it)."""


def flow_kind(actions: tuple[Action, ...]) -> FlowKind:
    """The :class:`FlowKind` of a flow with ``actions``."""
    if not actions:
        return FlowKind.DROP
    for action in actions:
        if type(action) is Conjunction:
            return FlowKind.CONJUNCTION
    return FlowKind.ALLOW


def _conj_order(action: Action) -> tuple[int, int, int, str]:
    if isinstance(action, Conjunction):
        return 0, action.id, action.clause * 256 + action.n_clauses, ""
    return 1, 0, 0, str(action)


def _merge_conjunctions(flows: list[tuple[str, Flow]]) -> Flow:
    """One flow with the union of ``flows``' actions (sorted) and the cookie of the
    smallest parent. ``flows`` are the CONJUNCTION contributions of one key."""
    parent, first = min(flows, key=lambda pf: pf[0])
    union: set[Action] = set()
    for _, flow in flows:
        union.update(flow.actions)
    actions = tuple(sorted(union, key=_conj_order))
    if len(flows) == 1 and actions == first.actions:
        return first
    return Flow.from_switch(first.table_id, first.priority, first.match, actions, first.cookie)


def choose_winner(contributions: list[tuple[str, Flow]]) -> Flow:
    """The flow installed for one key, given its ``(parent, flow)`` contributions
    (non-empty): the total order of the module docstring."""
    if len(contributions) == 1:
        flow = contributions[0][1]
        if flow_kind(flow.actions) is not FlowKind.CONJUNCTION:
            return flow
        return _merge_conjunctions(contributions)
    ranked = [(flow_kind(flow.actions), parent, flow) for parent, flow in contributions]
    best_kind, best_parent, _ = min(ranked, key=lambda r: (r[0], r[1]))
    if best_kind is FlowKind.CONJUNCTION:
        return _merge_conjunctions([(p, f) for k, p, f in ranked if k is FlowKind.CONJUNCTION])
    tied = [f for k, p, f in ranked if k is best_kind and p == best_parent]
    if len(tied) == 1:
        return tied[0]
    return min(tied, key=lambda f: f.body())


_Entry = tuple[str, Flow]
"""A contribution: ``(parent, flow)``."""


def _entries(slot: _Entry | list[_Entry] | None) -> list[_Entry]:
    if slot is None:
        return []
    return slot if isinstance(slot, list) else [slot]


@dataclass(frozen=True, slots=True)
class TrackedChanges:
    """What changed in a desired table since the previous :meth:`~DesiredFlowTable.
    take_tracked`: flow keys, group ids and meter ids whose winner was added, changed or
    removed. ``full`` means "compare everything" (the table is new to its consumer)."""

    full: bool
    flows: frozenset[FlowKey] = frozenset()
    groups: frozenset[int] = frozenset()
    meters: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return self.full or bool(self.flows or self.groups or self.meters)


class _ById(Generic[T]):
    """Groups or meters: contributions by id, the winner (smallest parent) per id."""

    __slots__ = ("by_parent", "contribs", "tracked", "unsettled", "winners")

    def __init__(self) -> None:
        self.contribs: dict[int, list[tuple[str, T]]] = {}
        self.by_parent: dict[str, list[tuple[int, T]]] = {}
        self.winners: dict[int, T] = {}
        self.unsettled: set[int] = set()
        self.tracked: set[int] = set()

    def add(self, obj_id: int, obj: T, parent: str) -> None:
        """Contribute ``obj`` as ``obj_id`` for ``parent``."""
        slot = self.contribs.setdefault(obj_id, [])
        if (parent, obj) in slot:
            return
        slot.append((parent, obj))
        self.by_parent.setdefault(parent, []).append((obj_id, obj))
        self.unsettled.add(obj_id)

    def remove_parent(self, parent: str) -> None:
        """Withdraw ``parent``'s contributions."""
        for obj_id, obj in self.by_parent.pop(parent, ()):
            slot = self.contribs[obj_id]
            slot.remove((parent, obj))
            if not slot:
                del self.contribs[obj_id]
            self.unsettled.add(obj_id)

    def clear(self) -> None:
        """Withdraw every contribution, keeping the winners until the next settle."""
        self.unsettled.update(self.winners)
        self.contribs.clear()
        self.by_parent.clear()

    def settle(self) -> None:
        """Recompute the winners of the ids touched since the last settle."""
        for obj_id in self.unsettled:
            slot = self.contribs.get(obj_id)
            new = None if not slot else min(slot, key=lambda po: (po[0], str(po[1])))[1]
            old = self.winners.get(obj_id)
            if new is None:
                if old is not None:
                    del self.winners[obj_id]
                    self.tracked.add(obj_id)
            elif old is None or old != new:
                self.winners[obj_id] = new
                self.tracked.add(obj_id)
        self.unsettled.clear()

    def take(self) -> frozenset[int]:
        """The ids whose winner changed since the previous take."""
        taken = frozenset(self.tracked)
        self.tracked.clear()
        return taken


class DesiredFlowTable:
    """Desired flows, groups and meters with their parents (see the module docstring).

    Not thread-safe; ofctrl is the only consumer of :meth:`take_tracked`.
    """

    def __init__(self) -> None:
        # A key's contributions: one ``(parent, flow)`` as it is (nearly every key has
        # just one), several in a list.
        self._slots: dict[FlowKey, _Entry | list[_Entry]] = {}
        self._by_parent: dict[str, list[Flow]] = {}
        self._winners: dict[FlowKey, Flow] = {}
        self._unsettled: set[FlowKey] = set()
        self._tracked: set[FlowKey] = set()
        self._groups: _ById[GroupEntry] = _ById()
        self._meters: _ById[MeterEntry] = _ById()
        self._taken = False

    # -- flows -----------------------------------------------------------------------
    def add_flow(self, flow: Flow, parent: str) -> None:
        """Contribute ``flow`` on behalf of ``parent`` (a Southbound row UUID).

        ``flow.cookie`` is ovn-controller's cookie for it (the first 32 bits of the SB
        row's UUID: :func:`~pyovn.controller.ofctrl_cookie.parent_prefix`); ofctrl adds
        the ownership mark. Adding the same flow for the same parent twice is one
        contribution.
        """
        key = (flow.table_id, flow.priority, flow.match)
        entry = (parent, flow)
        slot = self._slots.get(key)
        if slot is None:
            self._slots[key] = entry
        elif isinstance(slot, list):
            if entry in slot:
                return
            slot.append(entry)
        elif slot == entry:
            return
        else:
            self._slots[key] = [slot, entry]
        self._unsettled.add(key)
        flows = self._by_parent.get(parent)
        if flows is None:
            self._by_parent[parent] = [flow]
        else:
            flows.append(flow)

    def remove_by_parent(self, parent: str) -> None:
        """Withdraw everything ``parent`` contributed: flows, groups and meters. A flow
        whose last parent this was goes; a flow it was winning is taken over."""
        slots = self._slots
        for flow in self._by_parent.pop(parent, ()):
            key = (flow.table_id, flow.priority, flow.match)
            slot = slots[key]
            if isinstance(slot, list):
                slot.remove((parent, flow))
                if len(slot) == 1:
                    slots[key] = slot[0]
            else:
                del slots[key]
            self._unsettled.add(key)
        self._groups.remove_parent(parent)
        self._meters.remove_parent(parent)

    def flows_of(self, parent: str) -> list[Flow]:
        """The flows ``parent`` contributed, whether they won or not."""
        return list(self._by_parent.get(parent, ()))

    def parents_of(self, key: FlowKey) -> list[str]:
        """The parents contributing to ``key``, sorted (for logs and dumps)."""
        return sorted({parent for parent, _ in _entries(self._slots.get(key))})

    def parents_of_group(self, group_id: int) -> list[str]:
        """The parents contributing group ``group_id``, sorted."""
        return sorted({parent for parent, _ in self._groups.contribs.get(group_id, ())})

    def parents_of_meter(self, meter_id: int) -> list[str]:
        """The parents contributing meter ``meter_id``, sorted."""
        return sorted({parent for parent, _ in self._meters.contribs.get(meter_id, ())})

    def has_parent(self, parent: str) -> bool:
        """Whether ``parent`` contributes anything."""
        return (parent in self._by_parent or parent in self._groups.by_parent
                or parent in self._meters.by_parent)

    def lookup(self, key: FlowKey) -> Flow | None:
        """The winning flow for ``key``, if any."""
        self._settle()
        return self._winners.get(key)

    def winners(self) -> Mapping[FlowKey, Flow]:
        """A read-only view of every winning flow by key (do not change the table while
        iterating it)."""
        self._settle()
        return types.MappingProxyType(self._winners)

    def __len__(self) -> int:
        self._settle()
        return len(self._winners)

    def __iter__(self) -> Iterator[Flow]:
        self._settle()
        return iter(self._winners.values())

    def __contains__(self, flow: object) -> bool:
        if not isinstance(flow, Flow):
            return False
        return self.lookup(flow.key) == flow

    # -- groups and meters -------------------------------------------------------------
    def add_group(self, group: GroupEntry, parent: str) -> None:
        """Contribute ``group`` (keyed by its group_id) on behalf of ``parent``."""
        self._groups.add(group.group_id, group, parent)

    def add_meter(self, meter: MeterEntry, parent: str) -> None:
        """Contribute ``meter`` (keyed by its meter_id) on behalf of ``parent``."""
        self._meters.add(meter.meter_id, meter, parent)

    def group(self, group_id: int) -> GroupEntry | None:
        """The winning group with ``group_id``."""
        self._settle()
        return self._groups.winners.get(group_id)

    def meter(self, meter_id: int) -> MeterEntry | None:
        """The winning meter with ``meter_id``."""
        self._settle()
        return self._meters.winners.get(meter_id)

    def groups(self) -> Mapping[int, GroupEntry]:
        """Read-only view of the winning groups by id."""
        self._settle()
        return types.MappingProxyType(self._groups.winners)

    def meters(self) -> Mapping[int, MeterEntry]:
        """Read-only view of the winning meters by id."""
        self._settle()
        return types.MappingProxyType(self._meters.winners)

    # -- recompute and tracking ----------------------------------------------------------
    def clear(self) -> None:
        """Withdraw every contribution (before a full recompute re-adds them). The
        previous winners are remembered until the next read, so a recompute that
        produces the same flows reports no change."""
        self._unsettled.update(self._winners)
        self._slots.clear()
        self._by_parent.clear()
        self._groups.clear()
        self._meters.clear()

    def take_tracked(self) -> TrackedChanges:
        """The changes since the previous call (``full`` on the first call)."""
        self._settle()
        changes = TrackedChanges(not self._taken, frozenset(self._tracked),
                                 self._groups.take(), self._meters.take())
        self._tracked.clear()
        self._taken = True
        return changes

    def _settle(self) -> None:
        if self._groups.unsettled:
            self._groups.settle()
        if self._meters.unsettled:
            self._meters.settle()
        if not self._unsettled:
            return
        winners, slots, tracked = self._winners, self._slots, self._tracked
        for key in self._unsettled:
            slot = slots.get(key)
            old = winners.get(key)
            if slot is None:
                if old is not None:
                    del winners[key]
                    tracked.add(key)
                continue
            new = choose_winner(_entries(slot))
            if old is None or old != new:
                winners[key] = new
                tracked.add(key)
        self._unsettled.clear()

