"""Desired vs installed: the changes ofctrl sends, ownership, groups, meters, audit."""

from __future__ import annotations

from pathlib import Path

from pyovn.controller.desired_flows import DesiredFlowTable
from pyovn.controller.installed_flows import (
    Diff,
    FlowChange,
    InstalledFlowTable,
    as_installed,
    diff_flows,
    diff_groups,
    diff_meters,
    format_table,
)
from pyovn.controller.ofctrl import Ofctrl
from pyovn.controller.ofctrl_audit import compare
from pyovn.controller.ofctrl_conn import SwitchConnection, SwitchState
from pyovn.controller.ofctrl_cookie import OWNER_MARK
from pyovn.controller.ofctrl_meters import MeterConfigReply, MeterConfigRequest, MeterEntry
from pyovn.controller.ofctrl_quarantine import references
from pyovn.openflow import (
    Bucket,
    Clone,
    Controller,
    Flow,
    FlowModCommand,
    Group,
    GroupEntry,
    GroupModCommand,
    GroupType,
    Match,
    Meter,
    MeterBand,
    MeterFlags,
    MeterModCommand,
    Output,
    Resubmit,
    decode_message,
)

P = "0000000a-0000-0000-0000-000000000000"


def flow(prio: int, to: int = 9, cookie: int = 0xA) -> Flow:
    return Flow(8, prio, Match(reg14=prio), [Resubmit(table=to)], cookie)


def installed_of(*flows: Flow) -> dict[tuple[int, int, Match], Flow]:
    return {f.key: f for f in flows}


def run_diff(desired: list[Flow], installed: list[Flow], *, delete_foreign: bool = False) -> Diff:
    want = {f.key: f for f in desired}
    have = installed_of(*installed)
    out = Diff()
    diff_flows(want.get, have, want.keys() | have.keys(), out, delete_foreign=delete_foreign)
    return out


def commands(out: Diff) -> dict[int, int]:
    return {c.key[1]: c.message().command for c in out.flows}


def test_equal_tables_need_no_change() -> None:
    flows = [flow(1), flow(2)]
    assert not run_diff(flows, [as_installed(f) for f in flows])


def test_add_modify_delete_and_cookie_change_pick_the_right_flow_mod() -> None:
    out = run_diff(
        desired=[flow(1), flow(2, to=10), flow(3, cookie=0xB)],
        installed=[as_installed(flow(2)), as_installed(flow(3)), as_installed(flow(4))])
    assert commands(out) == {1: FlowModCommand.ADD, 2: FlowModCommand.MODIFY_STRICT,
                             3: FlowModCommand.ADD, 4: FlowModCommand.DELETE_STRICT}
    sent = {c.key[1]: c.new for c in out.flows}
    assert sent[1] == as_installed(flow(1)) and sent[1].cookie == OWNER_MARK | 0xA


def test_foreign_flows_are_left_alone_unless_the_policy_deletes_them() -> None:
    foreign = flow(5, cookie=0x5)  # no ownership mark
    out = run_diff([], [foreign])
    assert not out.flows and out.foreign == [foreign]
    out = run_diff([], [foreign], delete_foreign=True)
    assert commands(out) == {5: FlowModCommand.DELETE_STRICT}


def test_a_foreign_flow_at_a_desired_key_is_replaced_with_an_add() -> None:
    out = run_diff([flow(5)], [flow(5)])  # same actions, cookie without the mark
    assert commands(out) == {5: FlowModCommand.ADD}


def test_groups_are_added_before_the_flows_and_deleted_after_them() -> None:
    g1 = GroupEntry(1, GroupType.ALL, (Bucket((Output(1),)),))
    g2 = GroupEntry(2, GroupType.ALL, (Bucket((Output(2),)),))
    g3 = GroupEntry(3, GroupType.ALL, (Bucket((Output(3),)),))
    out = run_diff([flow(1)], [])
    diff_groups({1: g1, 2: g2}, {2: GroupEntry(2, GroupType.ALL), 3: g3}, {1, 2, 3}, out)
    order = [(type(c).__name__, getattr(c, "group_id", None)) for c in out.bundle_changes()]
    assert order == [("GroupChange", 1), ("GroupChange", 2), ("FlowChange", None),
                     ("GroupChange", 3)]
    assert [c.message().command for c in out.groups_before] == [GroupModCommand.ADD,
                                                                 GroupModCommand.MODIFY]
    assert out.groups_after[0].message().command == GroupModCommand.DELETE


def test_meter_changes_and_deletes_are_kept_apart() -> None:
    m1 = MeterEntry(1, bands=(MeterBand(rate=10),))
    m2 = MeterEntry(2, bands=(MeterBand(rate=20),))
    out = Diff()
    diff_meters({1: m1}, {1: MeterEntry(1, bands=(MeterBand(rate=5),)), 2: m2}, {1, 2}, out)
    assert [c.message() for c in out.meters] == [m1.mod(MeterModCommand.MODIFY)]
    assert [c.message() for c in out.meter_deletes] == [m2.mod(MeterModCommand.DELETE)]


def test_meter_entry_is_canonical_like_the_switch_keeps_it() -> None:
    assert MeterEntry(1, MeterFlags.KBPS, (MeterBand(rate=10, burst_size=99),)) == MeterEntry(
        1, MeterFlags.KBPS, (MeterBand(rate=10),))
    assert str(MeterEntry(3, MeterFlags.KBPS | MeterFlags.STATS, (MeterBand(rate=1000),))) == (
        "meter=3 kbps stats bands=type=drop rate=1000")


def test_meter_config_reply_round_trips() -> None:
    meters = (MeterEntry(1, MeterFlags.PKTPS | MeterFlags.BURST,
                         (MeterBand(rate=10, burst_size=20),)), MeterEntry(2))
    reply = MeterConfigReply(meters)
    assert decode_message(reply.encode(9)) == reply
    assert decode_message(MeterConfigRequest(4).encode(1)) == MeterConfigRequest(4)


def test_installed_reset_reports_exactly_the_changed_keys() -> None:
    table = InstalledFlowTable()
    assert table.reset_flows([flow(1), flow(2)]) == {flow(1).key, flow(2).key}
    assert table.reset_flows([flow(1), flow(2, to=7), flow(3)]) == {flow(2).key, flow(3).key}
    assert table.reset_flows([flow(3)]) == {flow(1).key, flow(2).key}
    table.apply(FlowChange(flow(3).key, flow(3), None))
    assert len(table) == 0


def test_references_find_groups_and_meters_in_nested_actions() -> None:
    actions = (Group(4), Clone((Meter(7), Output(1))), Controller(meter_id=9))
    assert references(actions) == {("group", 4), ("meter", 7), ("meter", 9)}


def test_audit_lists_missing_residual_differing_and_foreign_flows() -> None:
    desired = DesiredFlowTable()
    for f in (flow(1), flow(2), flow(3)):
        desired.add_flow(f, P)
    on_switch = (as_installed(flow(1)), as_installed(flow(3, to=99)),
                 as_installed(flow(4)), flow(5, cookie=0x5))
    installed = InstalledFlowTable()
    installed.reset_flows(on_switch)
    report = compare(desired.lookup, set(desired.winners()), {}, {},
                     SwitchState(on_switch, (), (), 0.0), installed)
    assert not report.in_sync and report.stale_installed == 0
    assert report.missing == [str(as_installed(flow(2)))]
    assert report.residual == [str(as_installed(flow(4)))]
    assert report.differing == [
        f"{as_installed(flow(3, to=99))}  (desired: {as_installed(flow(3))})"]
    assert report.foreign == [str(flow(5, cookie=0x5))]
    assert "audit: OUT OF SYNC (4 flows on the switch)" in report.text([])


def test_format_table_sorts_like_ovs_ofctl_and_annotates() -> None:
    text = format_table([flow(1), flow(9)], annotate=lambda f: P)
    assert text.splitlines()[0].startswith(" cookie=0xa, table=8, priority=9,")
    assert text.splitlines()[1].endswith(f"actions=resubmit(,9)  # {P}")


def _retry_delays(conn: SwitchConnection, now: list[float]) -> list[float]:
    delays = []
    for step in range(200):
        now[0] = step * 0.01
        before = conn._retry_at
        conn.run()
        if conn._retry_at != before:
            delays.append(round(conn._retry_at - now[0], 3))
    return delays


def test_connection_retries_quickly_while_no_switch_listens(tmp_path: Path) -> None:
    # A restarting ovs-vswitchd creates its socket late: the sooner it is seen, the
    # shorter the outage; each try is one connect() on a path that does not exist.
    now = [0.0]
    conn = SwitchConnection(str(tmp_path / "br-int.mgmt"), clock=lambda: now[0],
                            min_backoff=0.05, max_backoff=0.4)
    assert set(_retry_delays(conn, now)) == {0.05}
    assert not conn.connected and conn.backlog == 0


def test_connection_backs_off_after_other_failures(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    now = [0.0]
    conn = SwitchConnection(str(tmp_path / "file" / "br-int.mgmt"), clock=lambda: now[0],
                            min_backoff=0.05, max_backoff=0.4)  # ENOTDIR: not absent
    assert _retry_delays(conn, now)[:6] == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]
    assert not conn.connected


def test_put_without_a_switch_sends_and_acknowledges_nothing(tmp_path: Path) -> None:
    acks: list[int] = []
    ofctrl = Ofctrl("br-int", tmp_path, on_ack=acks.append)
    desired = DesiredFlowTable()
    desired.add_flow(flow(1), P)
    ofctrl.run()
    assert ofctrl.put(desired, 3) == 1
    assert not ofctrl.synced and ofctrl.acked_nb_cfg is None and acks == []
    assert ofctrl.stats.puts_sent == 0
    assert "cannot read" in ofctrl.audit()
