"""ofctrl's reports: the switch's answer to a put (installed, or refused: quarantine,
retries), the foreign flows it holds, and the ``ofctrl/*`` commands of the control
socket.

A mixin of :class:`~pyovn.controller.ofctrl.Ofctrl` (which owns the state named below),
kept apart so that the protocol in ``ofctrl.py`` reads on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pyovn.controller.desired_flows import DesiredFlowTable, FlowKey
from pyovn.controller.installed_flows import (
    Change,
    FlowChange,
    GroupChange,
    InstalledFlowTable,
    MeterChange,
    format_table,
)
from pyovn.controller.ofctrl_audit import audit_switch, format_desired
from pyovn.controller.ofctrl_conn import SwitchConnection
from pyovn.controller.ofctrl_quarantine import Quarantine
from pyovn.controller.ofctrl_state import Inflight, OfctrlStats
from pyovn.daemon import DaemonLoop, RateLimitedLogger
from pyovn.openflow import ErrorMsg, Flow

__all__ = ["MAX_RETRY_BACKOFF", "OfctrlReports"]

log = logging.getLogger("pyovn.controller.ofctrl")  # ofctrl's own voice

#: The longest wait before a refused change is tried again.
MAX_RETRY_BACKOFF = 30.0


class OfctrlReports:
    """Error handling and introspection of an :class:`~pyovn.controller.ofctrl.Ofctrl`."""

    bridge: str
    conn: SwitchConnection
    installed: InstalledFlowTable
    quarantine: Quarantine
    stats: OfctrlStats
    acked_nb_cfg: int | None
    _desired: DesiredFlowTable | None
    _inflight: Inflight | None
    _dirty_flows: set[FlowKey]
    _dirty_groups: set[int]
    _dirty_meters: set[int]
    _reported_foreign: set[FlowKey]
    _retry_at: float
    _retry_backoff: float
    _rl: RateLimitedLogger
    _full: bool
    _changed_by_others: set[FlowKey]
    _put_seq: int
    _want_cfg: int | None
    clock: Callable[[], float]

    @property
    def connected(self) -> bool:
        """Whether the OpenFlow connection is up."""
        return self.conn.connected

    @property
    def synced(self) -> bool:
        """Connected, and the installed table was read back from the switch."""
        raise NotImplementedError

    def request_audit(self) -> None:
        """Read the switch back as soon as possible (the owner's)."""
        raise NotImplementedError

    def _want(self, desired: DesiredFlowTable) -> Callable[[FlowKey], Flow | None]:
        raise NotImplementedError

    def _ack(self, seq: int, nb_cfg: int | None) -> None:
        raise NotImplementedError

    # -- the switch's answer to a put ------------------------------------------------------

    def _on_barrier(self, inflight: Inflight) -> None:
        self._inflight = None
        culprits, unmapped = inflight.judge()
        failed = {id(c) for c, _ in culprits}
        bundle_failed = bool(unmapped) or any(not isinstance(c, MeterChange) for c, _ in culprits)
        changed_resources: set[tuple[str, int]] = set()
        for change in inflight.by_xid.values():
            if id(change) in failed:
                continue
            if isinstance(change, MeterChange) or not bundle_failed:
                self.installed.apply(change)
                if isinstance(change, GroupChange):
                    changed_resources.add(("group", change.group_id))
                elif isinstance(change, MeterChange):
                    changed_resources.add(("meter", change.meter_id))
            else:
                self._mark_dirty(change)
        for change, error in culprits:
            self._quarantine(change, error)
        if unmapped:
            self.stats.errors += len(unmapped)
            log.error("%s: the switch rejected a bundle without naming a message (%s); "
                      "retrying in %.1f s", self.bridge,
                      "; ".join(e.reason for e in unmapped), self._retry_backoff)
            self._retry_at = self.clock() + self._retry_backoff
            self._retry_backoff = min(self._retry_backoff * 2, MAX_RETRY_BACKOFF)
        elif not bundle_failed:
            self._retry_backoff = 0.5
            self._ack(inflight.seq, inflight.nb_cfg)
            self.stats.last_put_seconds = self.clock() - inflight.started
            if not (self._full or self._dirty_flows or self._dirty_groups
                    or self._dirty_meters or self._changed_by_others):
                # The puts made meanwhile changed nothing: they are installed too.
                self._ack(self._put_seq, self._want_cfg)
        if changed_resources and self.quarantine.flows:
            self._dirty_flows.update(self.quarantine.release(changed_resources))
        if inflight.contested:
            self.request_audit()

    def _mark_dirty(self, change: Change) -> None:
        if isinstance(change, FlowChange):
            self._dirty_flows.add(change.key)
        elif isinstance(change, GroupChange):
            self._dirty_groups.add(change.group_id)
        else:
            self._dirty_meters.add(change.meter_id)

    def _quarantine(self, change: Change, error: ErrorMsg) -> None:
        self.stats.errors += 1
        self._mark_dirty(change)
        if not self.quarantine.add(change, error.reason):
            # A refused delete cannot be held back: retry it later, not in a loop.
            self._rl.error(("refused", error.code_name), "%s: the switch refused to %s (%s); "
                           "retrying in %.1f s", self.bridge, change, error.reason,
                           self._retry_backoff)
            self._retry_at = self.clock() + self._retry_backoff
            self._retry_backoff = min(self._retry_backoff * 2, MAX_RETRY_BACKOFF)
            self.request_audit()
            return
        self.stats.quarantined += 1
        parents = self._parents(change)
        self._rl.error(("quarantine", tuple(parents), error.code_name),
                       "%s: %s rejected by the switch (%s); quarantined. Parents: %s",
                       self.bridge, change, error.reason, ", ".join(parents) or "(none)")

    def _parents(self, change: Change) -> list[str]:
        desired = self._desired
        if desired is None:
            return []
        if isinstance(change, FlowChange):
            return desired.parents_of(change.key)
        if isinstance(change, GroupChange):
            return desired.parents_of_group(change.group_id)
        return desired.parents_of_meter(change.meter_id)

    def _report_foreign(self, foreign: list[Flow]) -> None:
        new = [f for f in foreign if f.key not in self._reported_foreign]
        if not new:
            return
        self._reported_foreign.update(f.key for f in new)
        self._rl.warning("foreign", "%s: leaving %d flows without pyovn's cookie mark alone "
                         "(foreign flow policy 'keep'), e.g. %s", self.bridge, len(new), new[0])

    # -- introspection ---------------------------------------------------------------------
    def dump_desired(self) -> str:
        """``ofctrl/dump-desired``: the winning desired flows (as they are installed, each
        with its parents), groups and meters."""
        return format_desired(self._desired) if self._desired is not None else ""

    def dump_installed(self) -> str:
        """``ofctrl/dump-installed``: what ofctrl believes the switch holds."""
        return format_table(self.installed.flows.values(), self.installed.groups.values(),
                            self.installed.meters.values())

    def audit(self, timeout: float = 10.0) -> str:
        """``ofctrl/audit``: dump the switch now (second connection), compare it with the
        desired and installed tables, and schedule a repair of what differs."""
        notes = self.quarantine.lines()
        if self._inflight is not None:
            notes.append("a bundle is in flight: its changes may be missing")
        desired = self._desired
        if desired is None:
            notes.append("no desired state yet (nothing was put)")
            desired = DesiredFlowTable()
        text, repair = audit_switch(self.conn.path, self.bridge, desired, self._want(desired),
                                    self.installed, notes, timeout)
        if repair:
            self.request_audit()
        return text

    def register_commands(self, loop: DaemonLoop) -> None:
        """Serve ``ofctrl/dump-desired``, ``ofctrl/dump-installed``, ``ofctrl/audit`` and
        ``ofctrl/stats`` on the daemon's control socket."""
        loop.register_command("ofctrl/dump-desired", "", 0, 0, lambda _a: self.dump_desired())
        loop.register_command("ofctrl/dump-installed", "", 0, 0,
                              lambda _a: self.dump_installed())
        loop.register_command("ofctrl/audit", "", 0, 0, lambda _a: self.audit())
        loop.register_command("ofctrl/stats", "", 0, 0, lambda _a: self.stats.text(
            self.connected, self.synced, len(self.installed), self.acked_nb_cfg))
