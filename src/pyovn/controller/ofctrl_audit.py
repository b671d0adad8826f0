"""``ofctrl/audit``: compare what pyovn wants, what it believes is installed and what the
switch really holds, and say every difference in ``ovs-ofctl`` text.

Pure comparison (no I/O): :mod:`~pyovn.controller.ofctrl` reads the switch with
:func:`~pyovn.controller.ofctrl_conn.read_switch` and hands the dump here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyovn.controller.desired_flows import DesiredFlowTable, FlowKey
from pyovn.controller.installed_flows import (
    InstalledFlowTable,
    as_installed,
    format_table,
    is_installed_as,
    sort_key,
)
from pyovn.controller.ofctrl_conn import SwitchState, read_switch
from pyovn.controller.ofctrl_cookie import is_owned
from pyovn.controller.ofctrl_meters import MeterEntry
from pyovn.openflow import Flow, GroupEntry


@dataclass
class AuditReport:
    """Differences found by :func:`compare` (each a line of text)."""

    missing: list[str] = field(default_factory=list)
    residual: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    stale_installed: int = 0
    flows: int = 0

    @property
    def in_sync(self) -> bool:
        """No pyovn flow, group or meter differs from what is desired."""
        return not (self.missing or self.residual or self.differing)

    def text(self, notes: list[str]) -> str:
        """The report as ``ovn-appctl`` prints it."""
        lines = list(notes)
        for title, items in (("missing (desired, not on the switch)", self.missing),
                             ("residual (pyovn's, not desired)", self.residual),
                             ("different on the switch", self.differing),
                             ("foreign (no pyovn cookie mark, left alone)", self.foreign)):
            if items:
                lines.append(f"{title}: {len(items)}")
                lines.extend(f"  {item}" for item in items)
        if self.stale_installed:
            lines.append(f"installed table differs from the switch at {self.stale_installed} "
                         "keys (a repair is scheduled)")
        lines.append(f"audit: {'in sync' if self.in_sync else 'OUT OF SYNC'} "
                     f"({self.flows} flows on the switch)")
        return "\n".join(lines) + "\n"


def compare(want: Callable[[FlowKey], Flow | None], desired_keys: set[FlowKey],
            desired_groups: Mapping[int, GroupEntry], desired_meters: Mapping[int, MeterEntry],
            switch: SwitchState, installed: InstalledFlowTable) -> AuditReport:
    """Compare the desired state (``want(key)``: the flow wanted there, quarantined ones
    excluded, with ovn-controller's cookie) and ``installed`` against the ``switch``
    dump."""
    report = AuditReport(flows=len(switch.flows))
    on_switch = {(f.table_id, f.priority, f.match): f for f in switch.flows}
    differing: list[tuple[FlowKey, Flow | None, Flow | None]] = []
    for key in desired_keys | on_switch.keys():
        wanted, actual = want(key), on_switch.get(key)
        if wanted is None and actual is None or wanted is not None and is_installed_as(
                actual, wanted):
            continue
        differing.append((key, wanted, actual))
    # Only the differences are sorted: rendering every match as text is the slow part.
    differing.sort(key=lambda d: sort_key(d[2] or d[1] or Flow(0)))
    for _key, wanted, actual in differing:
        if wanted is None:
            assert actual is not None
            (report.residual if is_owned(actual.cookie) else report.foreign).append(str(actual))
        elif actual is None:
            report.missing.append(str(as_installed(wanted)))
        else:
            report.differing.append(f"{actual}  (desired: {as_installed(wanted)})")
    report.stale_installed = sum(1 for k in installed.flows.keys() | on_switch.keys()
                                 if installed.flows.get(k) != on_switch.get(k))
    groups = {g.group_id: g for g in switch.groups}
    for gid in sorted(desired_groups.keys() | groups.keys()):
        wanted_group, actual_group = desired_groups.get(gid), groups.get(gid)
        if wanted_group == actual_group:
            continue
        if wanted_group is None:
            report.residual.append(str(actual_group))
        elif actual_group is None:
            report.missing.append(str(wanted_group))
        else:
            report.differing.append(f"{actual_group}  (desired: {wanted_group})")
    meters = {m.meter_id: m for m in switch.meters}
    for mid in sorted(desired_meters.keys() | meters.keys()):
        wanted_meter, actual_meter = desired_meters.get(mid), meters.get(mid)
        if wanted_meter == actual_meter:
            continue
        if wanted_meter is None:
            report.residual.append(str(actual_meter))
        elif actual_meter is None:
            report.missing.append(str(wanted_meter))
        else:
            report.differing.append(f"{actual_meter}  (desired: {wanted_meter})")
    return report


def audit_switch(path: str, bridge: str, desired: DesiredFlowTable,
                 want: Callable[[FlowKey], Flow | None], installed: InstalledFlowTable,
                 notes: list[str], timeout: float) -> tuple[str, bool]:
    """Read the switch at ``path`` and compare; return the report and whether a repair
    (or an installed-table refresh) is needed."""
    try:
        switch = read_switch(path, timeout)
    except (OSError, TimeoutError) as exc:
        return f"audit: cannot read {path}: {exc}\n", False
    notes = [f"bridge {bridge}: read {len(switch.flows)} flows, {len(switch.groups)} groups, "
             f"{len(switch.meters)} meters in {switch.seconds:.3f} s", *notes]
    report = compare(want, set(desired.winners().keys()), desired.groups(), desired.meters(),
                     switch, installed)
    return report.text(notes), not report.in_sync or bool(report.stale_installed)


def format_desired(desired: DesiredFlowTable) -> str:
    """The desired table as ``ofctrl/dump-desired`` prints it: each winning flow as it
    is installed (with pyovn's cookie) and its parents, then groups and meters."""
    return format_table((as_installed(f) for f in desired), desired.groups().values(),
                        desired.meters().values(),
                        annotate=lambda f: ",".join(desired.parents_of(f.key)))
