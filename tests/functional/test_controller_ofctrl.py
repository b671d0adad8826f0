"""ofctrl against a real ovs-vswitchd: exact installs, zero flow_mods when nothing
changed (also across an ofctrl restart), residual and foreign flows, repair of flows
someone else changed, quarantine of flows the switch rejects, nb_cfg acknowledged
only after the barrier.

One ``ovsdb-server`` + ``ovs-vswitchd --enable-dummy --disable-system`` per module, in a
temporary directory; bridge ``br-int`` (``datapath_type=dummy``, ``fail-mode=secure``)
is emptied before each test. The switch logs every OpenFlow message it receives
(``vconn:file:dbg``), so flow_mods are counted on the switch's side too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import ovs.poller
import pytest

from pyovn.controller.flow_table import OWNER_MARK, DesiredFlowTable, MeterEntry
from pyovn.controller.installed_flows import as_installed
from pyovn.controller.ofctrl import ForeignFlowPolicy, Ofctrl
from pyovn.openflow import (
    Bucket,
    Conjunction,
    Flow,
    Group,
    GroupEntry,
    GroupType,
    Match,
    Meter,
    MeterBand,
    MeterFlags,
    Output,
    Resubmit,
    load,
    parse_flows,
)
from pyovn.sandbox import procs

pytestmark = [pytest.mark.functional, pytest.mark.timeout(60)]


class Switch:
    """ovsdb-server + ovs-vswitchd with br-int, in ``rundir``."""

    def __init__(self, rundir: Path) -> None:
        self.rundir = rundir
        db = procs.start_ovsdb_server(rundir, "conf", procs.VSWITCH_SCHEMA)
        self.db = db.remote
        self.vswitchd = procs.start_vswitchd(rundir, db)
        self.vsctl("add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=dummy",
                   "fail-mode=secure", "other-config:disable-in-band=true")
        procs.wait_until(lambda: (rundir / "br-int.mgmt").exists(), what="br-int.mgmt")
        self.log_messages()
        self.marks = 0

    def log_messages(self) -> None:
        """Log every OpenFlow message received (vconn logs at most a few per second
        unless told otherwise)."""
        self.appctl("vlog/set", "vconn:file:dbg")
        self.appctl("vlog/disable-rate-limit", "vconn")

    def vsctl(self, *args: str) -> str:
        return procs.run(["ovs-vsctl", f"--db={self.db}", "--timeout=10", *args], self.rundir)

    def appctl(self, *args: str) -> str:
        return procs.run(["ovs-appctl", "-t", str(self.vswitchd.ctl), *args], self.rundir)

    def ofctl(self, *args: str) -> str:
        return procs.run(["ovs-ofctl", "-O", "OpenFlow15", *args], self.rundir)

    def flows(self) -> set[Flow]:
        return set(parse_flows(self.ofctl("--no-stats", "dump-flows", "br-int")))

    def flow_mods_received(self) -> int:
        """flow_mods the switch has received so far, bundled or not, from its log.

        ovs-vswitchd writes its log asynchronously: a dump request with a unique
        match marks "now", and the count stops at its line.
        """
        self.marks += 1
        marker = f"table=253 reg7=0x{self.marks:x}"
        self.ofctl("dump-flows", "br-int", marker.replace(" ", ","))
        lines: list[str] = []

        def marked() -> bool:
            nonlocal lines
            lines = self.vswitchd.logfile.read_text(errors="replace").splitlines()
            return any(line.endswith(marker) for line in lines)

        procs.wait_until(marked, what="the switch's log")
        return sum(1 for line in lines
                   if "received: OFPT_FLOW_MOD" in line
                   or "received: OFPT_BUNDLE_ADD_MESSAGE" in line)

    def clear(self) -> None:
        self.ofctl("del-flows", "br-int")
        self.ofctl("del-groups", "br-int")
        self.ofctl("del-meters", "br-int")


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switch]:
    rundir = tmp_path_factory.mktemp("ofctrl")
    try:
        yield Switch(rundir)
    finally:
        procs.stop_all_in(rundir)


@pytest.fixture
def new_ofctrl(switch: Switch) -> Iterator[Callable[..., Ofctrl]]:
    """Ofctrl instances on br-int (closed after the test); the bridge starts empty."""
    switch.clear()
    made: list[Ofctrl] = []

    def make(**kwargs: object) -> Ofctrl:
        kwargs.setdefault("audit_interval", 0.0)
        ofctrl = Ofctrl("br-int", switch.rundir, **kwargs)  # type: ignore[arg-type]
        made.append(ofctrl)
        return ofctrl

    try:
        yield make
    finally:
        for ofctrl in made:
            ofctrl.close()


def drive(ofctrl: Ofctrl, until: Callable[[], bool], desired: DesiredFlowTable | None = None,
          nb_cfg: int | None = None, timeout: float = 10.0) -> float:
    """Run ofctrl's loop as the daemon does (run, then put) until ``until()``; return the
    time it took."""
    start = time.monotonic()
    while True:
        ofctrl.run()
        if desired is not None:
            ofctrl.put(desired, nb_cfg)
        if until():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not reached within {timeout} s: {ofctrl.stats}")
        poller = ovs.poller.Poller()
        ofctrl.wait(poller)
        poller.timer_wait(20)
        poller.block()


def uuid(i: int) -> str:
    return f"{i:08x}-1111-2222-3333-444444444444"


GROUP = GroupEntry(7, GroupType.ALL, (Bucket((Resubmit(table=38),)),))
METER = MeterEntry(3, MeterFlags.KBPS | MeterFlags.STATS, (MeterBand(rate=1000),))


def desired_table(n: int = 200, *, extra: int = 0) -> DesiredFlowTable:
    """``n`` lflow-like flows, a conjunction merged from two parents, a group, a meter."""
    table = DesiredFlowTable()
    for i in range(n + extra):
        table.add_flow(Flow(8 + i % 10, 100 + i % 3, Match(reg14=i, metadata=1),
                            [load(i, "reg15[]"), Resubmit(table=37)], i), uuid(i))
    match = Match(ip=True, metadata=1, ip_src="10.0.0.1")
    table.add_flow(Flow(44, 2000, match, [Conjunction(10, 1, 2)]), uuid(1000))
    table.add_flow(Flow(44, 2000, match, [Conjunction(11, 1, 2)]), uuid(1001))
    table.add_flow(Flow(37, 100, Match(reg15=1), [Group(GROUP.group_id)]), uuid(1002))
    table.add_flow(Flow(38, 100, Match(reg15=2), [Meter(METER.meter_id), Output(1)]),
                   uuid(1003))
    table.add_group(GROUP, uuid(1002))
    table.add_meter(METER, uuid(1003))
    return table


def expected(table: DesiredFlowTable) -> set[Flow]:
    return {as_installed(f) for f in table}


def test_put_installs_exactly_the_desired_flows_groups_and_meters(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    ofctrl = new_ofctrl()
    table = desired_table()
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    installed = switch.flows()
    assert installed == expected(table)
    assert all(f.cookie & OWNER_MARK == OWNER_MARK for f in installed)
    merged = next(f for f in installed if f.table_id == 44)
    assert merged.actions == (Conjunction(10, 1, 2), Conjunction(11, 1, 2))
    assert str(GROUP) in switch.ofctl("dump-groups", "br-int")
    assert "meter=3 kbps stats bands=\ntype=drop rate=1000" in switch.ofctl(
        "dump-meters", "br-int")
    assert ofctrl.stats.puts_sent == 1  # groups, flows: one bundle (+ the meter before it)
    assert set(ofctrl.installed.flows.values()) == installed
    assert "audit: in sync" in ofctrl.audit()


def test_second_put_without_change_sends_no_flow_mods(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    ofctrl = new_ofctrl()
    table = desired_table()
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    sent, received = ofctrl.stats.flow_mods, switch.flow_mods_received()
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 2, table, 2)
    for _ in range(5):
        ofctrl.run()
        ofctrl.put(table, 2)
    assert ofctrl.stats.flow_mods == sent
    assert switch.flow_mods_received() == received


def test_ofctrl_restart_with_our_flows_on_the_switch_sends_no_flow_mods(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    first = new_ofctrl()
    drive(first, lambda: first.acked_nb_cfg == 1, desired_table(), 1)
    first.close()
    received = switch.flow_mods_received()
    second = new_ofctrl()
    table = desired_table()  # rebuilt from scratch, as after a process restart
    drive(second, lambda: second.acked_nb_cfg == 1, table, 1)
    assert second.stats.flow_mods == 0 and second.stats.meter_mods == 0
    assert second.stats.group_mods == 0 and second.stats.puts_sent == 0
    assert switch.flow_mods_received() == received
    assert switch.flows() == expected(table)


def test_restart_with_one_change_sends_exactly_that_change(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    first = new_ofctrl()
    drive(first, lambda: first.acked_nb_cfg == 1, desired_table(), 1)
    first.close()
    received = switch.flow_mods_received()
    second = new_ofctrl()
    table = desired_table(extra=1)
    drive(second, lambda: second.acked_nb_cfg == 1, table, 1)
    assert second.stats.flow_mods == 1
    assert switch.flow_mods_received() == received + 1
    assert switch.flows() == expected(table)


def test_residual_flows_go_in_the_completing_bundle_and_foreign_ones_stay(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    residual = f"cookie=0x{OWNER_MARK | 0xDEAD:x},table=9,priority=5,reg14=99 actions=drop"
    switch.ofctl("add-flow", "br-int", residual)
    switch.ofctl("add-flow", "br-int", "cookie=0x5,table=60,priority=1 actions=drop")
    ofctrl = new_ofctrl()
    table = desired_table(20)
    drive(ofctrl, lambda: ofctrl.synced)
    assert len(ofctrl.installed) == 2
    assert switch.flows() >= {f for f in switch.flows() if f.cookie == 0x5}
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    flows = switch.flows()
    assert {f.table_id for f in flows if f.cookie == 0x5} == {60}
    assert not [f for f in flows if f.cookie == OWNER_MARK | 0xDEAD]
    assert flows - {f for f in flows if f.cookie == 0x5} == expected(table)
    assert ofctrl.stats.puts_sent == 1
    assert "foreign (no pyovn cookie mark, left alone): 1" in ofctrl.audit()


def test_flows_deleted_or_modified_by_others_are_repaired_within_a_second(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl],
        caplog: pytest.LogCaptureFixture) -> None:
    ofctrl = new_ofctrl()
    table = desired_table()
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    want = expected(table)
    caplog.set_level(logging.INFO, logger="pyovn.controller.ofctrl")
    switch.ofctl("del-flows", "br-int", "table=8")
    assert drive(ofctrl, lambda: switch.flows() == want, table, 1) < 1.0
    switch.ofctl("mod-flows", "br-int", "table=9,reg14=1 actions=drop")
    assert drive(ofctrl, lambda: switch.flows() == want, table, 1) < 1.0
    assert ofctrl.stats.flow_mods == len(want) + 20 + 1  # the 20 of table 8, then 1
    assert "repairing 20 flows that another client changed" in caplog.text
    assert "another client removed" in caplog.text


def test_rejected_flow_is_quarantined_and_the_rest_installed(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pyovn.controller.ofctrl")
    ofctrl = new_ofctrl()
    table = desired_table(50)
    bad = [Flow(37, 200, Match(reg15=100 + i), [Group(4242 + i)]) for i in range(2)]
    for i, flow in enumerate(bad):
        table.add_flow(flow, uuid(0xBAD0 + i))
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    assert switch.flows() == expected(table) - {as_installed(f) for f in bad}
    assert set(ofctrl.quarantine.flows) == {f.key for f in bad}
    assert ofctrl.stats.connections == 1
    assert f"Parents: {uuid(0xBAD0)}" in caplog.text and "OFPBAC_BAD_OUT_GROUP" in caplog.text
    # Quarantined flows are not retried while nothing changes.
    mods = ofctrl.stats.flow_mods
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 2, table, 2)
    assert ofctrl.stats.flow_mods == mods


def test_nb_cfg_is_acked_only_after_the_barrier_and_puts_wait_for_it(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    acks: list[int] = []
    ofctrl = new_ofctrl(on_ack=acks.append)
    table = desired_table(2000)
    drive(ofctrl, lambda: ofctrl.synced)
    ofctrl.put(table, 5)
    assert ofctrl.backlogged and ofctrl.acked_nb_cfg is None
    table.add_flow(Flow(50, 1, Match(reg0=1), []), uuid(5000))
    ofctrl.put(table, 6)  # accumulates behind the bundle in flight
    assert ofctrl.stats.puts_sent == 1
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 5)
    assert switch.flows() == expected(table) - {as_installed(Flow(50, 1, Match(reg0=1), []))}
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 6, table, 6)
    assert acks == [5, 6]
    assert switch.flows() == expected(table)


def _restart_switch(switch: Switch, ofctrl: Ofctrl, table: DesiredFlowTable,
                    while_away: Callable[[], object] = lambda: None) -> None:
    procs.stop_daemon(switch.vswitchd)
    drive(ofctrl, lambda: not ofctrl.connected, table, 1)
    while_away()
    switch.vswitchd = procs.start_detached(
        switch.rundir, "ovs-vswitchd",
        ["ovs-vswitchd", switch.db, "--enable-dummy", "--disable-system", "-vconsole:off"],
        default_ctl=True)
    switch.log_messages()
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 2, table, 2)


def test_ovs_restart_gets_the_whole_table_prepared_in_one_bundle(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl],
        caplog: pytest.LogCaptureFixture) -> None:
    ofctrl = new_ofctrl()
    table = desired_table()
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    with caplog.at_level(logging.INFO, logger="pyovn.controller.ofctrl"):
        _restart_switch(switch, ofctrl, table)
    assert switch.flows() == expected(table)
    assert ofctrl.stats.connections == 2 and ofctrl.stats.puts_sent == 2
    # Compared and encoded while the switch was away, sent as soon as it was back.
    assert "203 flows, 1 groups prepared for a fresh one" in caplog.text
    assert "sending 203 flow_mods (203 add, 0 modify, 0 delete), 1 group_mods in one " \
           "bundle, 1 meter_mods (prepared while the switch was away)" in caplog.text


def test_a_change_while_the_switch_is_away_is_not_lost_to_the_prepared_install(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl],
        caplog: pytest.LogCaptureFixture) -> None:
    ofctrl = new_ofctrl()
    table = desired_table()
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    late = Flow(50, 1, Match(reg0=1), [Resubmit(table=51)])
    with caplog.at_level(logging.INFO, logger="pyovn.controller.ofctrl"):
        _restart_switch(switch, ofctrl, table, lambda: table.add_flow(late, uuid(5000)))
    assert as_installed(late) in switch.flows() and switch.flows() == expected(table)
    assert "prepared for a fresh one" in caplog.text
    assert "prepared while the switch was away" not in caplog.text


def test_delete_policy_removes_foreign_flows_but_not_learned_ones(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    switch.ofctl("add-flow", "br-int", "cookie=0x5,table=60,priority=1 actions=drop")
    switch.ofctl("add-flow", "br-int", "table=69,hard_timeout=300,priority=1,reg0=1 actions=drop")
    ofctrl = new_ofctrl(foreign_policy=ForeignFlowPolicy.DELETE)
    table = desired_table(20)
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    flows = switch.flows()
    assert {f.table_id for f in flows - expected(table)} == {69}


def test_audit_reports_what_differs_and_the_next_put_repairs_it(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    ofctrl = new_ofctrl()
    table = desired_table(20)
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    switch.ofctl("del-flows", "br-int", "table=8")
    switch.ofctl("add-flow", "br-int", f"cookie=0x{OWNER_MARK | 1:x},table=9,reg3=3 actions=drop")
    text = ofctrl.audit()
    assert "missing (desired, not on the switch): 2" in text
    assert "residual (pyovn's, not desired): 1" in text
    assert "audit: OUT OF SYNC" in text
    drive(ofctrl, lambda: switch.flows() == expected(table), table, 1)
    assert "audit: in sync" in ofctrl.audit()


def test_periodic_audit_catches_a_change_the_monitor_missed(
        switch: Switch, new_ofctrl: Callable[..., Ofctrl]) -> None:
    ofctrl = new_ofctrl(audit_interval=0.3)
    table = desired_table(20)
    drive(ofctrl, lambda: ofctrl.acked_nb_cfg == 1, table, 1)
    victim = next(f for f in switch.flows() if f.table_id == 8)
    switch.ofctl("del-flows", "br-int", "table=8")
    drive(ofctrl, lambda: victim.key not in ofctrl.installed.flows)  # the monitor's report
    ofctrl.installed.flows[victim.key] = victim  # ... as if it had been lost
    drive(ofctrl, lambda: switch.flows() == expected(table), table, 1, timeout=5)
    assert ofctrl.stats.audits >= 1 and ofctrl.stats.audit_differences >= 1
