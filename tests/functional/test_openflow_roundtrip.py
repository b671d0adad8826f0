"""The OpenFlow codec against a real ovs-vswitchd: what we send is what we read back.

One ``ovsdb-server`` + ``ovs-vswitchd --enable-dummy`` in a temporary directory
(nothing touches /var/run); bridge ``br0`` (netdev datapath, fail-mode secure) is
reached through ``<rundir>/br0.mgmt`` with a plain Python unix socket driven by
:class:`~pyovn.openflow.OFConnection`.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.openflow import (
    OFPP_LOCAL,
    BarrierRequest,
    Bucket,
    BundleControl,
    BundleCtrlType,
    CheckPktLarger,
    Clone,
    Conjunction,
    Controller,
    Ct,
    CtClear,
    DecTtl,
    ErrorMsg,
    Exit,
    FinTimeout,
    Flow,
    FlowMod,
    FlowMonitorReply,
    FlowMonitorRequest,
    FlowStatsReply,
    FlowStatsRequest,
    FlowUpdateEvent,
    Group,
    GroupDescReply,
    GroupDescRequest,
    GroupEntry,
    GroupMod,
    GroupModCommand,
    GroupType,
    Learn,
    LearnSpec,
    Match,
    Message,
    Meter,
    MeterBand,
    MeterBandType,
    MeterFlags,
    MeterMod,
    MeterModCommand,
    Nat,
    Note,
    OFConnection,
    Output,
    OutputReg,
    PacketIn2,
    PacketOut,
    PopVlan,
    PushVlan,
    Resubmit,
    Sample,
    SetConfig,
    SetField,
    SetPacketInFormat,
    TlvMap,
    TlvTableMod,
    decode_message,
    load,
    move,
    parse_flows,
)

pytestmark = [pytest.mark.functional, pytest.mark.timeout(60)]

VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"

M = Match
# Every match field and action the codec supports, in flows OVS accepts.
FLOWS = [
    Flow(8, 100, M(reg14=1, metadata=1, dl_src="00:00:00:00:00:01"),
         [load(5, "reg15[]"), move("reg14[0..15]", "reg13[0..15]"), load(1, "reg10[3]"),
          Resubmit(table=9)], cookie=0x1234),
    Flow(9, 50, M(ip=True, ct_state="+trk+est"),
         [Ct(commit=True, zone="NXM_NX_REG13[0..15]", table=10,
             exec=(SetField("ct_mark", 1, 1), load(2, "NXM_NX_CT_LABEL[0..31]")))]),
    Flow(9, 51, M(tcp=True),
         [Ct(commit=True, zone=5, nat=Nat("src", "10.0.0.1", "10.0.0.5", 1000, 2000,
                                         random=True), alg=21)]),
    Flow(9, 52, M(ipv6=True), [Ct(commit=True, nat=Nat("dst", "fd00::1", port_min=80)),
                               CtClear()]),
    Flow(9, 53, M(ip=True), [Ct(table=10, zone="NXM_NX_REG11[0..15]", nat=Nat())]),
    Flow(10, 1, M(), [Conjunction(1234, 2, 3)]),
    Flow(10, 2, M(tcp=True), [Learn(69, (
        LearnSpec("match", "OXM_OF_METADATA[]"), LearnSpec("match", "eth_type", value=0x800),
        LearnSpec("match", "NXM_OF_IP_SRC[]"), LearnSpec("match", "ip_dst", value=0x0A000001),
        LearnSpec("match", "nw_proto", value=6),
        LearnSpec("match", "NXM_OF_TCP_SRC[]", src="NXM_OF_TCP_DST[]"),
        LearnSpec("load", "NXM_NX_REG10[7]", value=1), LearnSpec("output", src="reg14[]")),
        cookie=0x1234, delete_learned=True)]),
    Flow(10, 3, M(), [Controller(userdata=bytes([0, 0, 0, 1, 0, 0, 0, 0]), pause=True,
                                 meter_id=5),
                      Controller(max_len=128, controller_id=3, reason=0), Controller()]),
    Flow(10, 4, M(ip=True), [Note(b"\x01\x02\x03"), DecTtl(),
                             Clone((SetField("reg0", 1), Resubmit(table=3))),
                             CheckPktLarger(1500, "NXM_NX_REG9[1]")]),
    Flow(10, 5, M(tcp=True, vlan_tci=(0x1000, 0x1000)),
         [Meter(3), PopVlan(), PushVlan(), SetField("vlan_vid", 4097),
          SetField("eth_src", "00:00:00:00:00:01"), OutputReg("NXM_NX_REG15[0..15]"),
          FinTimeout(10, 20), Sample(100, 1, 2, 3), Exit()]),
    Flow(10, 6, M(ct_state="+trk+est", ip=True),
         [Resubmit(1, 3), Resubmit(7), Resubmit(table=3, ct=True), Output(1),
          Output(OFPP_LOCAL), Controller(max_len=100), Group(1), SetField("ip_src", "10.0.0.1"),
          move("NXM_NX_XXREG0[]", "NXM_NX_XXREG1[]"),
          move("OXM_OF_PKT_REG0[0..31]", "NXM_NX_REG0[]")]),
    Flow(11, 11, M(tun_metadata0=5, ct_state="+trk+est-inv", ct_zone=5, ct_mark=(1, 1),
                   ct_label=(1, 1), pkt_mark=3, tun_id=5, conj_id=7, recirc_id=0)),
    Flow(11, 12, M(tcp=True, tcp_flags="+syn-ack", ip_frag="no", nw_tos=8, nw_ecn=1, nw_ttl=3,
                   tcp_dst=(80, 0xFFF0), tcp_src=22)),
    Flow(11, 13, M(ip=True, ct_state="+trk+est", ct_nw_proto=6, ct_tp_dst=80,
                   ct_tp_src=(1024, 0xFC00), ct_nw_dst="10.0.0.1", ct_nw_src="10.0.0.0/8")),
    Flow(11, 14, M(icmp6=True, icmpv6_type=135, icmpv6_code=0, nd_target="fe80::1",
                   nd_sll="00:00:00:00:00:01")),
    Flow(11, 15, M(arp=True, arp_op=1, arp_spa="10.0.0.0/8", arp_tpa="10.0.0.1",
                   arp_sha="00:00:00:00:00:01", arp_tha=(0, 1 << 40))),
    Flow(11, 16, M(vlan_tci=0)),
    Flow(11, 17, M(dl_vlan=5, dl_vlan_pcp=3)),
    Flow(11, 18, M(in_port=OFPP_LOCAL, eth_dst=(1 << 40, 1 << 40))),
    Flow(11, 19, M(ipv6=True, ipv6_src="fd00::/64", ipv6_dst="fd00::1", ipv6_label=5)),
    Flow(11, 20, M(xxreg0=(5, 0xFF), xreg3=1, reg15=0x10000)),
    Flow(11, 21, M(udp=True, ip_src="10.0.0.0/255.0.0.255", udp_src=53, ip_dscp=3)),
    Flow(11, 22, M(icmp=True, icmp_type=8, icmp_code=0)),
    Flow(11, 23, M(sctp6=True, sctp_dst=(80, 0xFF00), sctp_src=9)),
    Flow(11, 24, M(icmp6=True, icmpv6_type=136, icmpv6_code=0, nd_tll="00:00:00:00:00:02",
                   nd_target=("fe80::", "ffff::"))),
    Flow(11, 25, M(ipv6=True, ct_state="+trk-inv", ct_ipv6_src="fd00::/16",
                   ct_ipv6_dst="fd00::1", ip_frag="later")),
    Flow(11, 26, M(tun_src="192.168.0.1", tun_dst="192.168.0.0/16", tun_id=(0x10, 0xF0))),
    Flow(12, 0, M(), [], cookie=0xFFFF_0000_0000_0001),
]
GROUP = GroupEntry(1, GroupType.SELECT, (Bucket((Output(1),), 100), Bucket((Output(2),), 50)),
                   "dp_hash")
GROUP_ALL = GroupEntry(2, GroupType.ALL, (Bucket((Output(1),)), Bucket((Resubmit(table=9),))))


def _run(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True,
                          timeout=20).stdout


class Switch:
    """A running ovsdb-server + ovs-vswitchd with bridge br0."""

    def __init__(self, rundir: Path) -> None:
        self.rundir = rundir
        self.env = {**os.environ, "OVS_RUNDIR": str(rundir), "OVS_DBDIR": str(rundir),
                    "OVS_LOGDIR": str(rundir), "OVS_SYSCONFDIR": str(rundir)}
        self.db = f"unix:{rundir}/db.sock"

    def start(self) -> None:
        r = self.rundir
        _run("ovsdb-tool", "create", f"{r}/conf.db", VSWITCH_SCHEMA, env=self.env)
        _run("ovsdb-server", f"{r}/conf.db", f"--remote=punix:{r}/db.sock",
             f"--unixctl={r}/ovsdb.ctl", f"--pidfile={r}/ovsdb.pid", "--detach",
             f"--log-file={r}/ovsdb.log", env=self.env)
        _run("ovs-vsctl", f"--db={self.db}", "--no-wait", "init", env=self.env)
        _run("ovs-vswitchd", "--enable-dummy", "--disable-system", self.db,
             f"--pidfile={r}/vswitchd.pid", "--detach", f"--log-file={r}/vswitchd.log",
             f"--unixctl={r}/vswitchd.ctl", env=self.env)
        _run("ovs-vsctl", f"--db={self.db}", "--timeout=10", "add-br", "br0", "--", "set",
             "bridge", "br0", "datapath_type=netdev", "fail-mode=secure",
             "protocols=OpenFlow15", env=self.env)
        deadline = time.monotonic() + 10
        while not (r / "br0.mgmt").exists():
            if time.monotonic() > deadline:
                log = (r / "vswitchd.log").read_text(errors="replace")
                errors = [line for line in log.splitlines() if "|ERR|" in line or "|WARN|" in line]
                raise RuntimeError("br0 did not come up (a leftover 'ovs-netdev' tap or another "
                                   "netdev-datapath ovs-vswitchd?): " + " / ".join(errors[-3:]))
            time.sleep(0.05)

    def stop(self) -> None:
        for ctl in ("vswitchd.ctl", "ovsdb.ctl"):
            # --cleanup removes the datapath, including its "ovs-netdev" tap device,
            # which would otherwise stop the next netdev-datapath switch from starting.
            args = ["exit", "--cleanup"] if ctl == "vswitchd.ctl" else ["exit"]
            subprocess.run(["ovs-appctl", "-t", str(self.rundir / ctl), *args],
                           env=self.env, capture_output=True, timeout=10, check=False)
        for pidfile in ("vswitchd.pid", "ovsdb.pid"):
            path = self.rundir / pidfile
            try:
                pid = int(path.read_text().strip())
            except (OSError, ValueError):
                continue
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def ofctl(self, *args: str) -> str:
        """Run ovs-ofctl -O OpenFlow15 against br0."""
        return _run("ovs-ofctl", "-O", "OpenFlow15", *args, env=self.env)


class Client:
    """A unix-socket OpenFlow client driven by OFConnection."""

    def __init__(self, switch: Switch) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(5)
        self.sock.connect(str(switch.rundir / "br0.mgmt"))
        self.conn = OFConnection()
        self.sock.sendall(self.conn.hello())
        self.pending: list[Message] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self, until: int | None = None, count: int | None = None,
                timeout: float = 5.0) -> list[Message]:
        """Messages up to the reply with xid ``until`` (or ``count`` messages)."""
        out: list[Message] = []
        deadline = time.monotonic() + timeout
        while True:
            for message in self.conn.events():
                out.append(message)
                if (until is not None and message.xid == until
                        and not isinstance(message, ErrorMsg)):
                    return out
                if count is not None and len(out) >= count:
                    return out
            if time.monotonic() > deadline:
                return out
            try:
                self.conn.receive_data(self.sock.recv(1 << 16))
            except TimeoutError:
                return out

    def request(self, message: Message) -> list[Message]:
        """Send ``message`` plus a barrier and return everything up to the barrier."""
        xid, data = self.conn.send_with_xid(message)
        bxid, bdata = self.conn.send_with_xid(BarrierRequest())
        self.send(data + bdata)
        return self.receive(until=bxid)

    def dump_flows(self, table_id: int = 255) -> tuple[Flow, ...]:
        xid, data = self.conn.send_with_xid(FlowStatsRequest(table_id=table_id))
        self.send(data)
        reply = self.receive(until=xid)[-1]
        assert isinstance(reply, FlowStatsReply)
        return reply.flows


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Switch]:
    sw = Switch(tmp_path_factory.mktemp("ovs"))
    try:
        sw.start()
        yield sw
    finally:
        sw.stop()


@pytest.fixture(scope="module")
def installed(switch: Switch) -> Iterator[Client]:
    """A client that configured br0 and installed FLOWS, GROUP and meter 3."""
    client = Client(switch)
    try:
        setup = [TlvTableMod(0, (TlvMap(0x102, 0x80, 4, 0),)),
                 MeterMod(MeterModCommand.ADD, 3, MeterFlags.KBPS,
                          (MeterBand(MeterBandType.DROP, 1000),)),
                 GroupMod(GroupModCommand.ADD, GROUP), GroupMod(GroupModCommand.ADD, GROUP_ALL)]
        for message in setup:
            replies = client.request(message)
            assert not [m for m in replies if isinstance(m, ErrorMsg)], replies
        txn = client.conn.bundle(FlowMod.add(f) for f in FLOWS)
        bxid, barrier = client.conn.send_with_xid(BarrierRequest())
        client.send(txn.data + barrier)
        replies = client.receive(until=bxid)
        assert [str(m) for m in replies if isinstance(m, ErrorMsg)] == []
        commit = [m for m in replies if isinstance(m, BundleControl)]
        assert [m.type for m in commit] == [BundleCtrlType.OPEN_REPLY, BundleCtrlType.COMMIT_REPLY]
        yield client
    finally:
        client.close()


def test_every_flow_decodes_back_equal_to_what_was_sent(installed: Client) -> None:
    dumped = installed.dump_flows()
    assert len(dumped) == len(FLOWS)
    assert set(dumped) == set(FLOWS)


def test_flow_text_equals_ovs_ofctl_dump_flows(installed: Client, switch: Switch) -> None:
    lines = {line.strip() for line in
             switch.ofctl("--no-stats", "dump-flows", "br0").splitlines()
             if "actions=" in line}
    assert {str(flow) for flow in FLOWS} == lines


def test_ovs_ofctl_dump_with_stats_parses_to_the_same_flows(installed: Client,
                                                            switch: Switch) -> None:
    assert set(parse_flows(switch.ofctl("dump-flows", "br0"))) == set(FLOWS)


def test_our_bytes_for_dumped_flows_equal_the_switch_bytes(installed: Client) -> None:
    xid, data = installed.conn.send_with_xid(FlowStatsRequest())
    installed.send(data)
    raw = b""
    while True:  # read the raw reply parts, bypassing OFConnection's joining
        raw += installed.sock.recv(1 << 16)
        parts = []
        pos = 0
        while pos + 8 <= len(raw) and pos + int.from_bytes(raw[pos + 2:pos + 4], "big") <= len(
                raw):
            length = int.from_bytes(raw[pos + 2:pos + 4], "big")
            parts.append(raw[pos:pos + length])
            pos += length
        if parts and parts[-1][10:12] == b"\0\0" and pos == len(raw):
            break
    for part in parts:
        reply = decode_message(part)
        assert isinstance(reply, FlowStatsReply)
        assert reply.encode(xid) == part


def test_group_desc_decodes_back_equal(installed: Client, switch: Switch) -> None:
    xid, data = installed.conn.send_with_xid(GroupDescRequest())
    installed.send(data)
    reply = installed.receive(until=xid)[-1]
    assert isinstance(reply, GroupDescReply)
    assert set(reply.entries) == {GROUP, GROUP_ALL}
    text = switch.ofctl("dump-groups", "br0")
    assert str(GROUP) in text and str(GROUP_ALL) in text


def test_rejected_flow_in_a_bundle_is_reported_with_its_xid(installed: Client) -> None:
    good = Flow(20, 1, M(reg0=1), [Resubmit(table=21)])
    bad = Flow(20, 2, M(reg0=2), [Group(4242)])  # no such group
    txn = installed.conn.bundle([FlowMod.add(good), FlowMod.add(bad)])
    bxid, barrier = installed.conn.send_with_xid(BarrierRequest())
    installed.send(txn.data + barrier)
    replies = installed.receive(until=bxid)
    errors = [m for m in replies if isinstance(m, ErrorMsg)]
    assert errors, replies
    assert errors[0].failed_xid == txn.message_xids[1]
    assert "OFPBAC_BAD_OUT_GROUP" in str(errors[0])
    assert installed.dump_flows(20) == ()  # atomic: the good flow did not go in either


def test_delete_by_cookie_mask_removes_only_matching_flows(switch: Switch) -> None:
    client = Client(switch)
    try:
        flows = [Flow(30, p, M(reg1=p), [Resubmit(table=31)], cookie=0xAA00 | p)
                 for p in range(1, 4)]
        flows.append(Flow(30, 9, M(reg1=9), [], cookie=0xBB00))
        client.send(b"".join(client.conn.send(FlowMod.add(f)) for f in flows))
        client.request(FlowMod.delete(table_id=30, cookie=0xAA00, cookie_mask=0xFF00))
        assert client.dump_flows(30) == (flows[-1],)
        client.request(FlowMod.delete_strict(flows[-1]))
        assert client.dump_flows(30) == ()
    finally:
        client.close()


def test_flow_monitor_reports_foreign_and_own_changes(switch: Switch) -> None:
    client = Client(switch)
    try:
        xid, data = client.conn.send_with_xid(FlowMonitorRequest(monitor_id=7, table_id=42))
        client.send(data)
        first = client.receive(until=xid)
        assert isinstance(first[-1], FlowMonitorReply), first
        switch.ofctl("add-flow", "br0", "table=42,priority=5,reg0=1 actions=resubmit(,43)")
        (update,) = (m for m in client.receive(count=1) if isinstance(m, FlowMonitorReply))
        assert update.entries[0].event == FlowUpdateEvent.ADDED
        assert update.entries[0].flow == Flow(42, 5, M(reg0=1), [Resubmit(table=43)])
        own = Flow(42, 6, M(reg1=2), [Resubmit(table=44)])
        client.send(client.conn.send(FlowMod.add(own)))
        (update,) = (m for m in client.receive(count=1) if isinstance(m, FlowMonitorReply))
        assert update.entries[0].flow == own
        switch.ofctl("del-flows", "br0", "table=42")
        (update,) = (m for m in client.receive(count=1) if isinstance(m, FlowMonitorReply))
        assert {u.event for u in update.entries} == {FlowUpdateEvent.REMOVED}
        assert {u.flow for u in update.entries} == {own, Flow(42, 5, M(reg0=1),
                                                               [Resubmit(table=43)])}
    finally:
        client.close()


def test_packet_out_reaches_controller_as_packet_in2(switch: Switch) -> None:
    client = Client(switch)
    try:
        client.request(SetConfig(miss_send_len=0xFFFF))
        client.request(SetPacketInFormat())
        client.request(FlowMod.add(Flow(0, 1, M(reg3=7), [Controller(userdata=b"\x01\x02\x03")])))
        packet = bytes.fromhex("ffffffffffff000000000001" "0806") + bytes(28)
        client.send(client.conn.send(PacketOut(packet, (Resubmit(table=0),),
                                               pipeline=M(reg3=7, metadata=9))))
        (pin,) = (m for m in client.receive(count=1) if isinstance(m, PacketIn2))
        assert pin.userdata == b"\x01\x02\x03"
        assert pin.data == packet
        assert pin.metadata.get("reg3") == (7, None)
        assert pin.metadata.get("metadata") == (9, None)
    finally:
        client.request(FlowMod.delete(table_id=0))
        client.close()


def test_our_encoding_of_dumped_flows_matches_ovs_text_for_cookies(switch: Switch) -> None:
    text = switch.ofctl("--no-stats", "dump-flows", "br0", "table=12")
    assert re.search(r"cookie=0xffff000000000001, table=12, priority=0 actions=drop", text)
