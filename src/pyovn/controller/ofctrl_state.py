"""ofctrl's bookkeeping records: the bundle in flight, a read-back in progress, and the
counters served by ``ofctrl/stats`` (and asserted by tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pyovn.controller.desired_flows import FlowKey
from pyovn.controller.installed_flows import Change, Diff, InstalledFlowTable, MeterChange
from pyovn.controller.ofctrl_meters import MeterConfigReply
from pyovn.openflow import (
    BarrierRequest,
    ErrorMsg,
    FlowStatsReply,
    GroupDescReply,
    Message,
    OFConnection,
)


@dataclass
class Inflight:
    """One put on its way: everything sent, up to the barrier that confirms it.

    ``by_xid`` maps the xid of every bundled message (and meter_mod) to the change it
    carries, which is how an error reply names its culprit. ``contested`` is set when
    another client changed one of ``flow_keys`` meanwhile (then the outcome is read
    back).
    """

    barrier_xid: int
    by_xid: dict[int, Change]
    bundle_xids: tuple[int, ...]
    seq: int
    nb_cfg: int | None
    started: float
    flow_keys: set[FlowKey]
    errors: list[ErrorMsg] = field(default_factory=list)
    contested: bool = False

    @classmethod
    def build(cls, of: OFConnection, diff: Diff, seq: int, nb_cfg: int | None,
              now: float, encoded: tuple[Sequence[Message], Sequence[Message]] | None = None,
              ) -> tuple[bytes, Inflight]:
        """The bytes of a put (meter adds and modifies, the bundle, meter deletes, the
        barrier) and its record. ``encoded``: the messages of ``diff.meters`` and of
        ``diff.bundle_changes()``, already encoded (a prepared install)."""
        by_xid: dict[int, Change] = {}
        parts = []
        bundle_changes = diff.bundle_changes()
        meter_messages, bundle_messages = encoded or (
            [c.message() for c in diff.meters], [c.message() for c in bundle_changes])
        for change, message in zip(diff.meters, meter_messages, strict=True):
            xid, data = of.send_with_xid(message)
            by_xid[xid] = change
            parts.append(data)
        bundle_xids: tuple[int, ...] = ()
        if bundle_changes:
            txn = of.bundle(bundle_messages)
            by_xid.update(zip(txn.message_xids, bundle_changes, strict=True))
            bundle_xids = (txn.open_xid, txn.commit_xid)
            parts.append(txn.data)
        for change in diff.meter_deletes:
            xid, data = of.send_with_xid(change.message())
            by_xid[xid] = change
            parts.append(data)
        barrier_xid, data = of.send_with_xid(BarrierRequest())
        parts.append(data)
        return b"".join(parts), cls(barrier_xid, by_xid, bundle_xids, seq, nb_cfg, now,
                                   {c.key for c in diff.flows})

    def judge(self) -> tuple[list[tuple[Change, ErrorMsg]], list[ErrorMsg]]:
        """The errors received: those naming a change (culprits) and, when none names a
        bundled message, the others (a failure ofctrl cannot pin on anything)."""
        culprits: list[tuple[Change, ErrorMsg]] = []
        others: list[ErrorMsg] = []
        for error in self.errors:
            change = self.by_xid.get(error.xid)
            if change is None and error.failed_xid is not None:
                change = self.by_xid.get(error.failed_xid)
            if change is not None:
                culprits.append((change, error))
            else:
                others.append(error)
        named = any(not isinstance(c, MeterChange) for c, _ in culprits)
        # The commit's own error (OFPBFC_MSG_FAILED) only echoes a named message's.
        return culprits, [] if named else others


@dataclass
class ReadBack:
    """A dump of flows, groups and meters in progress: ``seed`` on a new connection,
    ``audit`` later."""

    purpose: str
    flow_xid: int
    group_xid: int
    meter_xid: int
    started: float
    pending: set[int] = field(default_factory=set)
    flows_done: bool = False
    changed_flows: set[FlowKey] = field(default_factory=set)
    changed_groups: set[int] = field(default_factory=set)
    changed_meters: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.pending = {self.flow_xid, self.group_xid, self.meter_xid}

    def accept(self, message: Message, installed: InstalledFlowTable) -> bool:
        """Take one reply (or error) into ``installed``; return whether the read-back
        is complete.

        Flows with a timeout are left out: pyovn installs none, so they are the
        switch's own (``learn``), neither foreign nor residual.
        """
        self.pending.discard(message.xid)
        if isinstance(message, FlowStatsReply):
            self.flows_done = True
            self.changed_flows = installed.reset_flows(
                e.flow for e in message.entries if not (e.idle_timeout or e.hard_timeout))
        elif isinstance(message, GroupDescReply):
            self.changed_groups = installed.reset_groups(message.entries)
        elif isinstance(message, MeterConfigReply):
            self.changed_meters = installed.reset_meters(message.entries)
        return not self.pending


@dataclass
class OfctrlStats:
    """What ofctrl did since it started."""

    connections: int = 0
    puts_sent: int = 0
    flow_mods: int = 0
    group_mods: int = 0
    meter_mods: int = 0
    errors: int = 0
    quarantined: int = 0
    foreign_changes: int = 0
    audits: int = 0
    audit_differences: int = 0
    last_seed_seconds: float = 0.0
    last_seed_flows: int = 0
    last_put_seconds: float = 0.0

    def record_put(self, flow_mods: int, group_mods: int, meter_mods: int) -> None:
        """Count one flush sent to the switch."""
        self.puts_sent += 1
        self.flow_mods += flow_mods
        self.group_mods += group_mods
        self.meter_mods += meter_mods

    def text(self, connected: bool, synced: bool, installed: int, acked: int | None) -> str:
        """``ofctrl/stats`` output: one ``name: value`` per line."""
        lines = [f"connected: {str(connected).lower()}", f"synced: {str(synced).lower()}",
                 f"installed flows: {installed}", f"acked nb_cfg: {acked}"]
        lines += [f"{name.replace('_', ' ')}: {value}" for name, value in vars(self).items()]
        return "\n".join(lines) + "\n"
