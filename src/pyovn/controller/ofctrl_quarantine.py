"""Flows, groups and meters the switch rejected, kept out of the bundles.

DESIGN.md 6.5: bad input never stops the world. When an error reply names a bundled
message, ofctrl quarantines exactly what that message carried: the desired state minus
the quarantined items is what gets installed (and acknowledged). An item leaves the
quarantine when what is desired there changes (a new version deserves a try), when a
group or meter it uses changes (it may have failed for want of it), or when the switch
reconnects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyovn.controller.desired_flows import FlowKey
from pyovn.controller.installed_flows import (
    Change,
    FlowChange,
    GroupChange,
    is_installed_as,
)
from pyovn.controller.ofctrl_meters import MeterEntry
from pyovn.openflow import Flow, Group, GroupEntry, Meter
from pyovn.openflow.actions import Action

Resource = tuple[str, int]
"""``("group", id)`` or ``("meter", id)``."""


def references(actions: tuple[Action, ...]) -> set[Resource]:
    """The groups and meters ``actions`` use, nested action lists (clone, ct exec) and
    controller meters included."""
    out: set[Resource] = set()
    for action in actions:
        if isinstance(action, Group):
            out.add(("group", action.group_id))
        elif isinstance(action, Meter):
            out.add(("meter", action.meter_id))
        meter_id = getattr(action, "meter_id", None)
        if isinstance(meter_id, int) and meter_id:
            out.add(("meter", meter_id))
        for attr in ("actions", "exec"):
            nested = getattr(action, attr, None)
            if isinstance(nested, tuple):
                out |= references(nested)
    return out


@dataclass
class Quarantine:
    """What the switch rejected, with the reason (the error in text)."""

    flows: dict[FlowKey, tuple[Flow, str]] = field(default_factory=dict)
    groups: dict[int, tuple[GroupEntry, str]] = field(default_factory=dict)
    meters: dict[int, tuple[MeterEntry, str]] = field(default_factory=dict)

    def add(self, change: Change, reason: str) -> bool:
        """Quarantine what ``change`` installs; False when there is nothing to hold
        back (the switch refused a delete)."""
        if isinstance(change, FlowChange):
            if change.new is None:
                return False
            self.flows[change.key] = (change.new, reason)
        elif isinstance(change, GroupChange):
            if change.new is None:
                return False
            self.groups[change.group_id] = (change.new, reason)
        else:
            if change.new is None:
                return False
            self.meters[change.meter_id] = (change.new, reason)
        return True

    def hides_flow(self, key: FlowKey, desired: Flow) -> bool:
        """Whether ``desired`` (at ``key``) is quarantined; forgets a quarantined flow
        that the desired one replaces."""
        held = self.flows.get(key)
        if held is None:
            return False
        if is_installed_as(held[0], desired):
            return True
        del self.flows[key]
        return False

    def hides_group(self, group: GroupEntry) -> bool:
        """Whether ``group`` is quarantined (as is)."""
        held = self.groups.get(group.group_id)
        return held is not None and held[0] == group

    def hides_meter(self, meter: MeterEntry) -> bool:
        """Whether ``meter`` is quarantined (as is)."""
        held = self.meters.get(meter.meter_id)
        return held is not None and held[0] == meter

    def release(self, changed: set[Resource]) -> list[FlowKey]:
        """Release the flows that use one of the ``changed`` groups or meters; return
        their keys."""
        keys = [key for key, (flow, _) in self.flows.items() if references(flow.actions) & changed]
        for key in keys:
            del self.flows[key]
        return keys

    def clear(self) -> None:
        """Forget everything (a new connection gives everything a new chance)."""
        self.flows.clear()
        self.groups.clear()
        self.meters.clear()

    def lines(self) -> list[str]:
        """One line per quarantined item, for ``ofctrl/audit``."""
        return [f"quarantined ({reason}): {item}" for item, reason in
                (*self.flows.values(), *self.groups.values(), *self.meters.values())]

    def __len__(self) -> int:
        return len(self.flows) + len(self.groups) + len(self.meters)
