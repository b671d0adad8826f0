"""The installed flow table (what the switch holds, as far as ofctrl knows) and the
difference between it and the desired table, as changes that become OpenFlow messages.

The installed table holds every flow of the bridge — pyovn's and anyone else's — keyed
like the desired table, with its cookie, plus the bridge's groups and meters. ofctrl
seeds it from a flow dump on every connection, applies a sent change only once the
switch confirmed it (barrier reply without error), and applies other clients' changes
as the flow monitor reports them. It is therefore the switch's state, never a guess.

:func:`diff` compares desired against installed, for every key (after a reconnect or a
recompute) or for a set of keys (tracked changes, monitor reports). A flow with no
desired counterpart is deleted when it is pyovn's (its cookie carries the ownership
mark, :mod:`~pyovn.controller.ofctrl_cookie`); a flow without the mark is *foreign*
and left alone unless the policy says to delete it. Groups and meters carry no
cookie: every group and meter on the integration bridge is pyovn's, as every one is
ovn-controller's (it deletes them all when it connects).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from pyovn.controller.desired_flows import FlowKey
from pyovn.controller.ofctrl_cookie import is_owned, owned_cookie
from pyovn.controller.ofctrl_meters import MeterEntry
from pyovn.openflow import (
    Flow,
    FlowMod,
    FlowUpdate,
    FlowUpdateEvent,
    GroupEntry,
    GroupMod,
    GroupModCommand,
    Message,
    MeterModCommand,
)


class ForeignFlowPolicy(Enum):
    """What to do with flows that lack pyovn's cookie mark and that nothing desires."""

    KEEP = "keep"
    """Leave them alone and report them (log, ``ofctrl/audit``). The default."""
    DELETE = "delete"
    """Delete them in the bundle that completes the desired state (for a bridge that
    another controller, e.g. ovn-controller, used to fill)."""


def as_installed(flow: Flow) -> Flow:
    """``flow`` (desired, with ovn-controller's cookie) as ofctrl installs it: with
    pyovn's ownership mark in its cookie."""
    cookie = owned_cookie(flow.cookie)
    if flow.cookie == cookie:
        return flow
    return Flow.from_switch(flow.table_id, flow.priority, flow.match, flow.actions, cookie)


def is_installed_as(installed: Flow | None, desired: Flow) -> bool:
    """Whether ``installed`` (from the switch) is ``desired`` as ofctrl installs it."""
    return (installed is not None and installed.cookie == owned_cookie(desired.cookie)
            and installed.actions == desired.actions)


@dataclass(frozen=True, slots=True)
class FlowChange:
    """Make the switch's flow at ``key`` go from ``old`` to ``new`` (None: absent);
    both as on the switch (``new`` carries the ownership mark)."""

    key: FlowKey
    old: Flow | None
    new: Flow | None

    def message(self) -> FlowMod:
        """delete_strict, add (also when only the cookie changes: OpenFlow 1.1+
        modify never changes a cookie) or modify_strict."""
        if self.new is None:
            assert self.old is not None
            return FlowMod.delete_strict(self.old)
        if self.old is None or self.old.cookie != self.new.cookie:
            return FlowMod.add(self.new)
        return FlowMod.modify_strict(self.new)

    def __str__(self) -> str:
        verb = ("delete" if self.new is None else
                "add" if self.old is None else "modify")
        return f"{verb} {self.new if self.new is not None else self.old}"


@dataclass(frozen=True, slots=True)
class GroupChange:
    """Make group ``group_id`` go from ``old`` to ``new``."""

    group_id: int
    old: GroupEntry | None
    new: GroupEntry | None

    def message(self) -> GroupMod:
        """group_mod ADD, MODIFY or DELETE."""
        if self.new is None:
            assert self.old is not None
            return GroupMod(GroupModCommand.DELETE, self.old)
        command = GroupModCommand.ADD if self.old is None else GroupModCommand.MODIFY
        return GroupMod(command, self.new)

    def __str__(self) -> str:
        return f"group {self.new if self.new is not None else self.old}"


@dataclass(frozen=True, slots=True)
class MeterChange:
    """Make meter ``meter_id`` go from ``old`` to ``new``."""

    meter_id: int
    old: MeterEntry | None
    new: MeterEntry | None

    def message(self) -> Message:
        """meter_mod ADD, MODIFY or DELETE."""
        if self.new is None:
            assert self.old is not None
            return self.old.mod(MeterModCommand.DELETE)
        return self.new.mod(MeterModCommand.ADD if self.old is None else MeterModCommand.MODIFY)

    def __str__(self) -> str:
        return str(self.new if self.new is not None else self.old)


Change = FlowChange | GroupChange | MeterChange


@dataclass
class InstalledFlowTable:
    """The bridge's flows by key, groups and meters by id."""

    flows: dict[FlowKey, Flow] = field(default_factory=dict)
    groups: dict[int, GroupEntry] = field(default_factory=dict)
    meters: dict[int, MeterEntry] = field(default_factory=dict)

    def reset_flows(self, flows: Iterable[Flow]) -> set[FlowKey]:
        """Replace the flows by ``flows`` (a dump); return the keys that changed."""
        new = {(f.table_id, f.priority, f.match): f for f in flows}
        old = self.flows
        changed = {k for k, f in new.items() if old.get(k) != f}
        changed.update(k for k in old if k not in new)
        self.flows = new
        return changed

    def reset_groups(self, groups: Iterable[GroupEntry]) -> set[int]:
        """Replace the groups by a dump; return the ids that changed."""
        new = {g.group_id: g for g in groups}
        changed = {i for i in new.keys() | self.groups.keys()
                   if new.get(i) != self.groups.get(i)}
        self.groups = new
        return changed

    def reset_meters(self, meters: Iterable[MeterEntry]) -> set[int]:
        """Replace the meters by a dump; return the ids that changed."""
        new = {m.meter_id: m for m in meters}
        changed = {i for i in new.keys() | self.meters.keys()
                   if new.get(i) != self.meters.get(i)}
        self.meters = new
        return changed

    def apply(self, change: Change) -> None:
        """Record a change the switch confirmed."""
        if isinstance(change, FlowChange):
            if change.new is None:
                self.flows.pop(change.key, None)
            else:
                self.flows[change.key] = change.new
        elif isinstance(change, GroupChange):
            if change.new is None:
                self.groups.pop(change.group_id, None)
            else:
                self.groups[change.group_id] = change.new
        elif change.new is None:
            self.meters.pop(change.meter_id, None)
        else:
            self.meters[change.meter_id] = change.new

    def apply_update(self, update: FlowUpdate) -> FlowKey | None:
        """Follow a flow monitor report of another client's change; return the key it
        changed (None for events that change nothing, and for flows with a timeout,
        which are the switch's own learned flows)."""
        flow = update.flow
        if flow is None or update.idle_timeout or update.hard_timeout:
            return None
        key = (flow.table_id, flow.priority, flow.match)
        if update.event in (FlowUpdateEvent.ADDED, FlowUpdateEvent.MODIFIED):
            self.flows[key] = flow
        elif update.event == FlowUpdateEvent.REMOVED:
            self.flows.pop(key, None)
        else:
            return None
        return key

    def foreign(self) -> list[Flow]:
        """Flows without pyovn's ownership mark."""
        return [f for f in self.flows.values() if not is_owned(f.cookie)]

    def __len__(self) -> int:
        return len(self.flows)


@dataclass
class Diff:
    """The changes that make the switch equal the desired state, in send order, and
    the foreign flows left alone."""

    flows: list[FlowChange] = field(default_factory=list)
    groups_before: list[GroupChange] = field(default_factory=list)
    groups_after: list[GroupChange] = field(default_factory=list)
    meters: list[MeterChange] = field(default_factory=list)
    meter_deletes: list[MeterChange] = field(default_factory=list)
    foreign: list[Flow] = field(default_factory=list)

    def bundle_changes(self) -> list[FlowChange | GroupChange]:
        """Group adds/modifies, then flows, then group deletes: what goes in the bundle
        (ordered, so flows find their groups and groups outlive their flows)."""
        return [*self.groups_before, *self.flows, *self.groups_after]

    def __bool__(self) -> bool:
        return bool(self.flows or self.groups_before or self.groups_after or self.meters
                    or self.meter_deletes)


def diff_flows(desired: Callable[[FlowKey], Flow | None], installed: Mapping[FlowKey, Flow],
               keys: Iterable[FlowKey], out: Diff, *, delete_foreign: bool) -> None:
    """Append to ``out`` the changes for ``keys``; ``desired(key)`` is the flow wanted
    there (None: nothing, or quarantined), with ovn-controller's cookie."""
    for key in keys:
        new = desired(key)
        old = installed.get(key)
        if new is None:
            if old is None:
                continue
            if not delete_foreign and not is_owned(old.cookie):
                out.foreign.append(old)
                continue
            out.flows.append(FlowChange(key, old, None))
        elif not is_installed_as(old, new):
            out.flows.append(FlowChange(key, old, as_installed(new)))


def diff_groups(desired: Mapping[int, GroupEntry], installed: Mapping[int, GroupEntry],
                ids: Iterable[int], out: Diff,
                skip: Callable[[GroupEntry], bool] = lambda g: False) -> None:
    """Append to ``out`` the group changes for ``ids``."""
    for group_id in sorted(ids):
        new = desired.get(group_id)
        if new is not None and skip(new):
            new = None
        old = installed.get(group_id)
        if new is None and old is not None:
            out.groups_after.append(GroupChange(group_id, old, None))
        elif new is not None and old != new:
            out.groups_before.append(GroupChange(group_id, old, new))


def diff_meters(desired: Mapping[int, MeterEntry], installed: Mapping[int, MeterEntry],
                ids: Iterable[int], out: Diff,
                skip: Callable[[MeterEntry], bool] = lambda m: False) -> None:
    """Append to ``out`` the meter changes for ``ids`` (deletes separately: they wait
    until no flow can still use the meter)."""
    for meter_id in sorted(ids):
        new = desired.get(meter_id)
        if new is not None and skip(new):
            new = None
        old = installed.get(meter_id)
        if new is None and old is not None:
            out.meter_deletes.append(MeterChange(meter_id, old, None))
        elif new is not None and old != new:
            out.meters.append(MeterChange(meter_id, old, new))


def sort_key(flow: Flow) -> tuple[int, int, str]:
    """``ovs-ofctl dump-flows --sort``-like order: table, then priority descending."""
    return flow.table_id, -flow.priority, str(flow.match)


def format_table(flows: Iterable[Flow], groups: Iterable[GroupEntry] = (),
                 meters: Iterable[MeterEntry] = (),
                 annotate: Callable[[Flow], str] | None = None) -> str:
    """Text of a flow table, one ``ovs-ofctl dump-flows --no-stats`` line per flow,
    then groups and meters; ``annotate(flow)`` is appended as a comment."""
    lines = []
    for flow in sorted(flows, key=sort_key):
        line = f" {flow}"
        if annotate is not None:
            note = annotate(flow)
            if note:
                line += f"  # {note}"
        lines.append(line)
    lines.extend(f" {g}" for g in sorted(groups, key=lambda g: g.group_id))
    lines.extend(f" {m}" for m in sorted(meters, key=lambda m: m.meter_id))
    return "\n".join(lines) + ("\n" if lines else "")
