"""ofctrl: keeps a bridge's OpenFlow tables equal to the desired flow table.

The protocol (DESIGN.md sections 5 and 6):

- **Connect** to ``unix:<OVS_RUNDIR>/<bridge>.mgmt`` (:class:`SwitchConnection`:
  non-blocking, back-off, echo). On every new connection: start a flow monitor, then
  read the switch's flows, groups and meters back and *seed* the installed table
  with them. Nothing is ever flushed.
- **Nothing is sent** until the caller has said the desired state is complete, by
  calling :meth:`Ofctrl.put` (after its first full computation). The first put after
  a (re)connection compares everything; later ones only the tracked changes of the
  desired table, plus what the flow monitor or an audit found changed.
- **One put, one bundle**: the difference — group adds/modifies, flow adds /
  modify_stricts / delete_stricts (residual pyovn flows included), group deletes — goes
  as one ordered, atomic OpenFlow 1.5 bundle followed by a barrier. Meter adds and
  modifies go just before it (Open vSwitch does not bundle meter_mods); meter deletes
  wait for a put that has no flow to change, so no flow can lose its meter.
- **At most one bundle in flight.** While it is (or while the socket still holds
  unsent bytes), puts only accumulate changes. The installed table is updated only
  when the barrier reply arrives without error; it then acknowledges the nb_cfg and
  the put sequence number given to that put (:attr:`Ofctrl.acked_nb_cfg`,
  :attr:`Ofctrl.acked_seqno`, ``on_ack``).
- **Errors**: a rejected bundle message is mapped by its xid to the change that
  caused it; that flow (group, meter) is *quarantined* — logged once with its parent
  UUIDs and left out until the desired flow changes, a group or meter it uses changes,
  or the switch reconnects — and the next put sends the rest. No reconnect loop; a failure
  that names no message is retried with a back-off.
- **Others' changes**: the flow monitor (own changes excluded) reports flows other
  clients added, modified or deleted; the installed table follows them and the keys
  are re-compared at the next put, once the switch has answered a barrier sent after
  the report (an exiting ``ovs-vswitchd`` reports every flow deleted and then answers
  nothing: repairing those would only load a dying switch). A periodic audit (dump and
  compare, every 5 minutes by default) catches what the monitor missed.
- **Flow restoration**: while Open_vSwitch ``other_config:flow-restore-wait`` is true
  (``ovs-ctl restart`` puts back the flows it saved), :meth:`Ofctrl.set_hold` keeps
  away from the switch altogether; when it is cleared, the switch is read back and only
  the difference is sent, so a restart that restored the flows costs no flow_mod.
- **Foreign flows** (no pyovn cookie mark, :mod:`~pyovn.controller.ofctrl_cookie`)
  at keys nothing desires are left alone and reported, unless the policy is
  :attr:`ForeignFlowPolicy.DELETE`. Flows with the mark that nothing desires are
  deleted in the same bundle that completes the desired state.

Call order in the daemon's loop: :meth:`Ofctrl.run` (I/O), the engine, then
:meth:`Ofctrl.put` whenever the desired table is consistent (every iteration in which
the engine did not stop half-way); :meth:`Ofctrl.wait` from the wait hook. Only
:meth:`~Ofctrl.put` sends flow_mods, so a half-updated desired table is never sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import ovs.poller

from pyovn.controller.desired_flows import DesiredFlowTable, FlowKey
from pyovn.controller.installed_flows import (
    Diff,
    ForeignFlowPolicy,
    InstalledFlowTable,
    diff_flows,
    diff_groups,
    diff_meters,
)
from pyovn.controller.ofctrl_conn import SwitchConnection, mgmt_path
from pyovn.controller.ofctrl_meters import MeterConfigRequest
from pyovn.controller.ofctrl_prepare import PreparedInstall
from pyovn.controller.ofctrl_quarantine import Quarantine
from pyovn.controller.ofctrl_reports import OfctrlReports
from pyovn.controller.ofctrl_state import Inflight, OfctrlStats, ReadBack
from pyovn.daemon import RateLimitedLogger
from pyovn.openflow import (
    BarrierReply,
    BarrierRequest,
    BundleControl,
    ErrorMsg,
    Flow,
    FlowMonitorFlags,
    FlowMonitorReply,
    FlowMonitorRequest,
    FlowStatsRequest,
    FlowUpdateEvent,
    GroupDescRequest,
    Message,
)

__all__ = ["ForeignFlowPolicy", "Ofctrl", "mgmt_path"]

log = logging.getLogger("pyovn.controller.ofctrl")

_MONITOR_FLAGS = (FlowMonitorFlags.ADD | FlowMonitorFlags.REMOVED | FlowMonitorFlags.MODIFY
                  | FlowMonitorFlags.INSTRUCTIONS)
_READBACK_TIMEOUT = 60.0


class Ofctrl(OfctrlReports):
    """The OpenFlow controller of one bridge (see the module docstring)."""

    def __init__(self, bridge: str = "br-int", rundir: str | Path | None = None, *,
                 foreign_policy: ForeignFlowPolicy = ForeignFlowPolicy.KEEP,
                 audit_interval: float = 300.0, probe_interval: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_ack: Callable[[int], None] | None = None) -> None:
        self.rundir = rundir
        self.bridge = bridge
        self.foreign_policy = foreign_policy
        self.audit_interval = audit_interval
        self.clock = clock
        self.on_ack = on_ack
        self.conn = SwitchConnection(mgmt_path(bridge, rundir), clock=clock,
                                     probe_interval=probe_interval)
        self.installed = InstalledFlowTable()
        self.stats = OfctrlStats()
        #: The nb_cfg of the last put the switch confirmed (None before the first).
        self.acked_nb_cfg: int | None = None
        #: The sequence number (returned by put) of the last put the switch confirmed.
        self.acked_seqno = 0
        self.quarantine = Quarantine()
        self._seqno = 0
        self._synced = False
        self._readback: ReadBack | None = None
        self._audit_requested = False
        self._next_audit = clock() + audit_interval
        self._monitor_xid = 0
        self._desired: DesiredFlowTable | None = None
        self._full = True
        self._dirty_flows: set[FlowKey] = set()
        self._dirty_groups: set[int] = set()
        self._dirty_meters: set[int] = set()
        self._changed_by_others: set[FlowKey] = set()
        self._reported_foreign: set[FlowKey] = set()
        self._inflight: Inflight | None = None
        self._put_seq = 0
        self._want_cfg: int | None = None
        self._retry_at = 0.0
        self._retry_backoff = 0.5
        self._hold = False
        #: Counts puts that changed the desired state (a prepared install is of one).
        self._generation = 0
        self._prepared: PreparedInstall | None = None
        #: A barrier asking whether the switch that reported others' changes is alive.
        self._alive_xid: int | None = None
        self._rl = RateLimitedLogger(log)

    # -- state ---------------------------------------------------------------------------
    @property
    def synced(self) -> bool:
        """Connected, and the installed table was read back from the switch."""
        return self._synced and self.conn.connected

    @property
    def backlogged(self) -> bool:
        """A bundle awaits its barrier or the socket holds unsent bytes: puts wait."""
        return self._inflight is not None or self.conn.backlog > 0

    @property
    def wants_put(self) -> bool:
        """Whether a put now would send something or acknowledge something."""
        return self._desired is not None and self.synced and not self.backlogged \
            and not self._hold and self._alive_xid is None and bool(
            self._full or self._dirty_flows or self._dirty_groups or self._dirty_meters
            or self.acked_seqno != self._put_seq)

    def set_hold(self, hold: bool) -> None:
        """Leave the switch alone while ``hold`` (flow-restore-wait): no connection, so
        no flow monitor update, read-back or flow_mod takes the switch's time while
        its flows are restored (a userspace switch forwards from the same thread).
        When it ends, connect, read the switch back and send only what differs."""
        if hold == self._hold:
            return
        self._hold = hold
        log.info("%s: flow-restore-wait %s", self.bridge,
                 "set: leaving the switch alone" if hold
                 else "cleared: reading the switch back")
        if hold:
            self.conn.disconnect("flow-restore-wait", backoff=False)
            self._on_disconnect()
            self._prepared = None  # the flows come back restored

    def set_bridge(self, bridge: str) -> None:
        """Manage ``bridge`` from now on (reconnects when it changed)."""
        self.bridge = bridge
        self.conn.set_path(mgmt_path(bridge, self.rundir))

    # -- main loop -----------------------------------------------------------------------
    def run(self) -> None:
        """Do the connection's I/O and process what the switch sent."""
        if self._hold:
            return
        messages = self.conn.run()
        if not self.conn.connected:
            if self._synced or self._readback is not None or self._inflight is not None:
                lost = self._synced  # the switch went away (restart, crash, upgrade)
                self._on_disconnect()
                if lost and self._desired is not None:
                    self._prepare(self._desired)
        elif self.conn.seqno != self._seqno:
            self._on_connect()
        for message in messages:
            self._handle(message)
        rb = self._readback
        if rb is not None and self.clock() - rb.started > _READBACK_TIMEOUT:
            log.error("%s: no complete %s read-back within %g s; reconnecting", self.bridge,
                      rb.purpose, _READBACK_TIMEOUT)
            self.conn.disconnect("read-back timed out")
            self._on_disconnect()
        if self.synced and self._readback is None and (
                self._audit_requested
                or (self.audit_interval > 0 and self.clock() >= self._next_audit)):
            self._start_readback("audit")

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Register the socket and the timers (retry after an error, audit)."""
        if self._hold:
            return
        self.conn.wait(poller)
        now = self.clock()
        if self._readback is not None:
            poller.timer_wait(max(0, int((self._readback.started + _READBACK_TIMEOUT - now)
                                         * 1000)) + 1)
        elif self.synced and self.audit_interval > 0:
            poller.timer_wait(max(0, int((self._next_audit - now) * 1000)) + 1)
        if self._retry_at > now:
            poller.timer_wait(int((self._retry_at - now) * 1000) + 1)

    def close(self) -> None:
        """Close the connection (the switch keeps its flows)."""
        self.conn.close()
        self._on_disconnect()

    # -- put -----------------------------------------------------------------------------
    def put(self, desired: DesiredFlowTable, nb_cfg: int | None = None) -> int:
        """Make the switch hold ``desired`` (complete, consistent) and acknowledge
        ``nb_cfg`` once it does. Returns this put's sequence number; it is acknowledged
        (:attr:`acked_seqno`) when the switch confirmed everything up to it.

        The first call says the desired state is complete; before it nothing is sent.
        """
        self._put_seq += 1
        if desired is not self._desired:
            self._desired = desired
            desired.take_tracked()
            self._full = True
            self._generation += 1
        else:
            changes = desired.take_tracked()
            if changes.full or changes.flows or changes.groups or changes.meters:
                self._generation += 1
            if changes.full:
                self._full = True
            else:
                self._dirty_flows.update(changes.flows)
                self._dirty_groups.update(changes.groups)
                self._dirty_meters.update(changes.meters)
        if nb_cfg is not None:
            self._want_cfg = nb_cfg
        self._flush()
        return self._put_seq

    def _flush(self) -> None:
        if (self._desired is None or not self.synced or self.backlogged or self._hold
                or self._alive_xid is not None or self.clock() < self._retry_at):
            return
        prepared = self._take_prepared()
        if prepared is not None:
            self._send(prepared.diff, prepared)
            return
        started = time.perf_counter()
        diff = self._diff(self._desired)
        if not diff:
            self._ack(self._put_seq, self._want_cfg)
            return
        self._send(diff, started)

    def _want(self, desired: DesiredFlowTable) -> Callable[[FlowKey], Flow | None]:
        winners = desired.winners()
        quarantine = self.quarantine

        def want(key: FlowKey) -> Flow | None:
            flow = winners.get(key)
            if flow is not None and quarantine.flows and quarantine.hides_flow(key, flow):
                return None
            return flow

        return want

    def _diff(self, desired: DesiredFlowTable) -> Diff:
        out = Diff()
        groups, meters = desired.groups(), desired.meters()
        if self._full:
            flow_keys: set[FlowKey] = desired.winners().keys() | self.installed.flows.keys()
            group_ids = groups.keys() | self.installed.groups.keys()
            meter_ids = meters.keys() | self.installed.meters.keys()
        else:
            flow_keys, group_ids, meter_ids = (self._dirty_flows, self._dirty_groups,
                                               self._dirty_meters)
        diff_flows(self._want(desired), self.installed.flows, flow_keys, out,
                   delete_foreign=self.foreign_policy is ForeignFlowPolicy.DELETE)
        diff_groups(groups, self.installed.groups, group_ids, out,
                    skip=self.quarantine.hides_group)
        diff_meters(meters, self.installed.meters, meter_ids, out,
                    skip=self.quarantine.hides_meter)
        self._full = False
        self._dirty_flows, self._dirty_groups, self._dirty_meters = set(), set(), set()
        if out.meter_deletes and (out.flows or out.groups_before or out.groups_after):
            self._dirty_meters.update(c.meter_id for c in out.meter_deletes)
            out.meter_deletes = []
        self._report_foreign(out.foreign)
        return out

    def _prepare(self, desired: DesiredFlowTable) -> None:
        prepared = PreparedInstall.build(desired, self._generation)
        self._prepared = prepared
        log.info("%s: the switch went away; %d flows, %d groups prepared for a fresh one in "
                 "%.3f s", self.bridge, prepared.n_flows, prepared.n_groups, prepared.seconds)

    def _take_prepared(self) -> PreparedInstall | None:
        """The prepared install, once, if it is exactly what this put must send: the
        switch was found empty and the desired state is the one it was prepared from."""
        prepared, self._prepared = self._prepared, None
        installed = self.installed
        if (prepared is None or not self._full or prepared.generation != self._generation
                or installed.flows or installed.groups or installed.meters):
            return None
        self._full = False
        self._dirty_flows, self._dirty_groups, self._dirty_meters = set(), set(), set()
        return prepared

    def _send(self, diff: Diff, how: float | PreparedInstall) -> None:
        """Send ``diff``: computed now (``how`` is when that started) or prepared."""
        diffed = time.perf_counter()
        encoded = ((how.meters, how.bundle) if isinstance(how, PreparedInstall) else None)
        data, inflight = Inflight.build(self.conn.of, diff, self._put_seq, self._want_cfg,
                                        self.clock(), encoded)
        built = time.perf_counter()
        self._inflight = inflight
        bundle_changes = diff.bundle_changes()
        n_add = sum(1 for c in diff.flows if c.old is None)
        n_del = sum(1 for c in diff.flows if c.new is None)
        self.stats.record_put(len(diff.flows), len(bundle_changes) - len(diff.flows),
                              len(diff.meters) + len(diff.meter_deletes))
        made = ("prepared while the switch was away" if isinstance(how, PreparedInstall)
                else f"compared in {diffed - how:.3f} s, encoded in {built - diffed:.3f} s")
        log.info("%s: sending %d flow_mods (%d add, %d modify, %d delete), %d group_mods in "
                 "one bundle, %d meter_mods (%s)", self.bridge, len(diff.flows), n_add,
                 len(diff.flows) - n_add - n_del, n_del, len(bundle_changes) - len(diff.flows),
                 len(diff.meters) + len(diff.meter_deletes), made)
        repaired = self._changed_by_others & {c.key for c in diff.flows}
        if repaired:
            log.info("%s: repairing %d flows that another client changed", self.bridge,
                     len(repaired))
        self._changed_by_others.clear()
        self.conn.send(data)

    def _ack(self, seq: int, nb_cfg: int | None) -> None:
        self.acked_seqno = max(self.acked_seqno, seq)
        if nb_cfg is not None and nb_cfg != self.acked_nb_cfg:
            self.acked_nb_cfg = nb_cfg
            if self.on_ack is not None:
                self.on_ack(nb_cfg)

    # -- connection events ----------------------------------------------------------------
    def _on_connect(self) -> None:
        self._seqno = self.conn.seqno
        self.stats.connections += 1
        self._synced = False
        self._inflight = None
        self._alive_xid = None
        self._changed_by_others.clear()  # a new connection: the read-back says what is there
        self._retry_at = 0.0
        self.quarantine.clear()
        self._monitor_xid = self.conn.send_message(FlowMonitorRequest(
            monitor_id=1, flags=_MONITOR_FLAGS))
        self._start_readback("seed")

    def _on_disconnect(self) -> None:
        self._synced = False
        self._readback = None
        self._inflight = None
        self._alive_xid = None

    def _start_readback(self, purpose: str) -> None:
        self._audit_requested = False
        self._readback = ReadBack(purpose, self.conn.send_message(FlowStatsRequest()),
                                  self.conn.send_message(GroupDescRequest()),
                                  self.conn.send_message(MeterConfigRequest()), self.clock())

    def request_audit(self) -> None:
        """Read the switch back through the main connection as soon as possible and
        repair what differs (at the next put)."""
        self._audit_requested = True

    # -- messages from the switch ------------------------------------------------------------
    def _handle(self, message: Message) -> None:
        if isinstance(message, FlowMonitorReply):
            self._on_monitor(message)
            return
        rb = self._readback
        if rb is not None and message.xid in rb.pending:
            self._on_readback(rb, message)
            return
        if isinstance(message, BarrierReply) and message.xid == self._alive_xid:
            self._alive_xid = None  # the repairs may go
            return
        inflight = self._inflight
        if inflight is not None:
            if isinstance(message, ErrorMsg) and (message.xid in inflight.by_xid
                                                  or message.xid in inflight.bundle_xids):
                inflight.errors.append(message)
                return
            if isinstance(message, BarrierReply) and message.xid == inflight.barrier_xid:
                self._on_barrier(inflight)
                return
            if isinstance(message, BundleControl) and message.xid in inflight.bundle_xids:
                return
        if isinstance(message, ErrorMsg):
            if message.xid == self._monitor_xid:
                self._rl.warning("monitor", "%s: the switch refused the flow monitor (%s); "
                                 "relying on audits", self.bridge, message.reason)
            else:
                self._rl.warning(("error", message.code_name), "%s: OpenFlow error %s",
                                 self.bridge, message.reason)
        else:
            log.debug("%s: ignored %s", self.bridge, type(message).__name__)

    def _on_readback(self, rb: ReadBack, message: Message) -> None:
        if isinstance(message, ErrorMsg):
            self._rl.warning(("readback", message.code_name), "%s: could not read back: %s",
                             self.bridge, message.reason)
        if not rb.accept(message, self.installed):
            return
        self._readback = None
        self._next_audit = self.clock() + self.audit_interval
        elapsed = self.clock() - rb.started
        if rb.purpose == "seed":
            self._synced = True
            self._full = True
            self._reported_foreign.clear()
            self.stats.last_seed_seconds = elapsed
            self.stats.last_seed_flows = len(self.installed)
            log.info("%s: read back %d flows (%d foreign), %d groups, %d meters in %.3f s",
                     self.bridge, len(self.installed), len(self.installed.foreign()),
                     len(self.installed.groups), len(self.installed.meters), elapsed)
            return
        self.stats.audits += 1
        n = len(rb.changed_flows) + len(rb.changed_groups) + len(rb.changed_meters)
        if n:
            self.stats.audit_differences += n
            log.warning("%s: audit found %d flows, %d groups, %d meters not as ofctrl knew "
                        "them; repairing", self.bridge, len(rb.changed_flows),
                        len(rb.changed_groups), len(rb.changed_meters))
            self._dirty_flows.update(rb.changed_flows)
            self._dirty_groups.update(rb.changed_groups)
            self._dirty_meters.update(rb.changed_meters)
            self._changed_by_others.update(rb.changed_flows)

    def _on_monitor(self, reply: FlowMonitorReply) -> None:
        rb = self._readback
        if not self._synced and (rb is None or not rb.flows_done):
            return  # the flow dump in progress already includes these changes
        for update in reply.entries:
            key = self.installed.apply_update(update)
            if key is None:
                if update.event == FlowUpdateEvent.RESUMED:
                    self.request_audit()  # updates were lost while the monitor paused
                continue
            self.stats.foreign_changes += 1
            self._dirty_flows.add(key)
            self._changed_by_others.add(key)
            self._reported_foreign.discard(key)
            if self._inflight is not None and key in self._inflight.flow_keys:
                self._inflight.contested = True
            if self._alive_xid is None:
                self._alive_xid = self.conn.send_message(BarrierRequest())
            self._rl.info(("monitor", update.event), "%s: another client %s %s", self.bridge,
                          FlowUpdateEvent(update.event).name.lower(), update.flow)
