"""The outage instruments' parsers: ping output, ovs-vswitchd's vconn debug log,
dump-flows (all as Open vSwitch 3.1 and iputils print them)."""

from __future__ import annotations

import pytest

from pyovn.errors import SandboxError
from pyovn.sandbox.outage import batched, parse_ping
from pyovn.sandbox.vconn_log import flow_key, parse_dump_flows, parse_vswitchd_log


def _ping(replies: list[tuple[float, int]], transmitted: int, *, dup: int | None = None,
          time_ms: int = 1000) -> str:
    lines = ["PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data."]
    for ts, seq in replies:
        lines.append(f"[{ts:.6f}] 64 bytes from 10.0.0.2: icmp_seq={seq} ttl=64 time=0.2 ms")
        if seq == dup:
            lines.append(f"[{ts:.6f}] 64 bytes from 10.0.0.2: icmp_seq={seq} ttl=64 "
                         "time=0.3 ms (DUP!)")
    lines += ["", "--- 10.0.0.2 ping statistics ---",
              f"{transmitted} packets transmitted, {len(replies)} received, "
              f"0% packet loss, time {time_ms}ms"]
    return "\n".join(lines) + "\n"


def test_ping_without_loss_reports_the_interval_as_longest_gap() -> None:
    stats = parse_ping(_ping([(100 + i * 0.01, i + 1) for i in range(100)], 100), 0.01)
    assert (stats.transmitted, stats.received, stats.lost, stats.in_flight) == (100, 100, 0, 0)
    assert stats.max_gap_ms == pytest.approx(10, abs=0.01)
    assert stats.longest_loss_run == 0 and stats.missing == ()


def test_ping_loss_in_the_middle_is_counted_as_a_run_and_a_gap() -> None:
    replies = [(100 + i * 0.01, i + 1) for i in range(100) if not 40 <= i < 70]
    stats = parse_ping(_ping(replies, 100), 0.01)
    assert stats.lost == 30
    assert stats.missing == ((41, 70),)
    assert stats.longest_loss_run == 30
    assert stats.max_gap_ms == pytest.approx(310, abs=0.01)
    assert stats.gap_end == pytest.approx(100.70)  # the reply to request 71


def test_ping_with_fewer_than_two_replies_has_no_gap_end() -> None:
    assert parse_ping(_ping([(100.0, 1)], 1), 0.01).gap_end is None


def test_ping_requests_in_flight_at_stop_are_not_lost_but_a_dead_end_is() -> None:
    in_flight = parse_ping(_ping([(100 + i * 0.01, i + 1) for i in range(99)], 100), 0.01)
    assert (in_flight.lost, in_flight.in_flight) == (0, 1)
    dead = parse_ping(_ping([(100 + i * 0.01, i + 1) for i in range(50)], 100), 0.01)
    assert dead.in_flight == 20  # 0.2 s of grace at 10 ms
    assert dead.lost == 30


def test_ping_sequence_wraps_and_duplicates_are_ignored() -> None:
    replies = [(100 + i * 0.01, (65530 + i) % 65536) for i in range(12)]
    stats = parse_ping(_ping(replies, 65541, dup=65535), 0.01)
    assert stats.received == 12
    assert stats.max_gap_ms == pytest.approx(10, abs=0.01)


def test_ping_without_summary_is_an_error() -> None:
    with pytest.raises(SandboxError, match="no summary"):
        parse_ping("ping: connect: Network is unreachable\n", 0.01)


# Entries as ovs-vswitchd 3.1 logs them; "@" stands for "<time>|<seq>|vconn|DBG|".
LOG = """\
@unix#20: received: OFPT_BUNDLE_CONTROL (OF1.5) (xid=0xb):
 bundle_id=0 type=OPEN_REQUEST flags=atomic ordered
@unix#20: received: OFPT_BUNDLE_ADD_MESSAGE (OF1.5) (xid=0x6):
 bundle_id=0 flags=atomic ordered
OFPT_FLOW_MOD (OF1.5) (xid=0x6): ADD table:99 priority=7,ip cookie:0x7079000100000001 actions=drop
@unix#20: received: OFPT_BUNDLE_ADD_MESSAGE (OF1.5) (xid=0x7):
 bundle_id=0 flags=atomic ordered
OFPT_FLOW_MOD (OF1.5) (xid=0x7): MOD_STRICT table:99 priority=8,ip,nw_dst=10.0.0.1 actions=drop
@unix#20: received: OFPT_BUNDLE_ADD_MESSAGE (OF1.5) (xid=0x9):
 bundle_id=0 flags=atomic ordered
OFPT_GROUP_MOD (OF1.5) (xid=0x9):
 ADD group_id=9,type=select,bucket=bucket_id:0,actions=drop
@unix#20: received: OFPT_BARRIER_REQUEST (OF1.5) (xid=0xc):
@unix#17: sent (Success): OFPST_FLOW_MONITOR reply (OF1.5) (xid=0x0):
 event=ADDED table=99 cookie=0 ip
2026-11-23T11:41:14.526Z|00388|connmgr|INFO|br-int<->unix#20: 3 flow_mods in the last 0 s (2 adds)
@unix#23: received: OFPT_FLOW_MOD (OF1.5) (xid=0x6): DEL_STRICT priority=9,in_port=1
@unix#23: sent (Success): OFPT_ERROR (OF1.5) (xid=0x6): OFPBFC_MSG_FAILED
OFPT_FLOW_MOD (OF1.5) (xid=0x6): ADD table:1 priority=1 actions=drop
""".replace("@", "2026-11-23T11:41:14.526Z|00376|vconn|DBG|")


def test_vswitchd_log_counts_bundled_and_plain_mods_it_received() -> None:
    mods = parse_vswitchd_log(LOG)
    assert (mods.flow_mods, mods.group_mods, mods.meter_mods) == (3, 1, 0)
    assert mods.commands() == {"ADD": 1, "MOD_STRICT": 1, "DEL_STRICT": 1}
    assert mods.commands("group") == {"ADD": 1}
    assert [m.bundled for m in mods.mods] == [True, True, True, False]
    assert [m.connection for m in mods.mods] == ["unix#20"] * 3 + ["unix#23"]
    assert mods.flow_keys() == [(99, "priority=7,ip"), (99, "priority=8,ip,nw_dst=10.0.0.1"),
                                (0, "priority=9,in_port=1")]
    assert "3 flow_mods (1 ADD, 1 DEL_STRICT, 1 MOD_STRICT), 1 group_mods" in mods.summary()


def test_vswitchd_log_without_vconn_debug_counts_nothing() -> None:
    assert parse_vswitchd_log(
        "2026-11-23T11:41:14.526Z|00388|connmgr|INFO|br-int<->unix#20: 3 flow_mods\n").total == 0


def test_dump_flows_keys_match_flow_mod_keys() -> None:
    dump = (
        "OFPST_FLOW reply (OF1.5) (xid=0x2):\n"
        " cookie=0x7079000100000001, table=99, priority=7,ip actions=drop\n"
        " cookie=0x70790001aeaf1f51, priority=100,in_port=1 actions=resubmit(,8)\n"
        " cookie=0x0, table=70, idle_timeout=30, priority=1,ip actions=drop\n")
    table = parse_dump_flows(dump)
    assert table == {(99, "priority=7,ip"): "cookie=0x7079000100000001 actions=drop",
                     (0, "priority=100,in_port=1"): "cookie=0x70790001aeaf1f51 "
                                                    "actions=resubmit(,8)"}
    assert flow_key("ADD table:99 priority=7,ip cookie:0x1 send_flow_rem actions=drop") in table


def test_batched_commands_are_joined_per_call_with_double_dashes() -> None:
    commands = [["ls-add", "a"], ["ls-add", "b"], ["add-port", "br-int", "p", "--", "set",
                                                   "Interface", "p", "type=dummy"]]
    assert list(batched(commands, 2)) == [
        ["ls-add", "a", "--", "ls-add", "b"],
        ["add-port", "br-int", "p", "--", "set", "Interface", "p", "type=dummy"]]
    assert list(batched([], 5)) == []
