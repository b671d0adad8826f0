"""Messages: wire layout, decoding of what Open vSwitch sends, readable errors."""

from __future__ import annotations

import struct

import pytest

from pyovn.openflow import (
    OFPTT_ALL,
    BarrierRequest,
    Bucket,
    BundleAddMessage,
    BundleControl,
    BundleCtrlType,
    Controller,
    EchoRequest,
    ErrorMsg,
    FeaturesReply,
    Flow,
    FlowMod,
    FlowModCommand,
    FlowMonitorReply,
    FlowMonitorRequest,
    FlowStats,
    FlowStatsReply,
    FlowStatsRequest,
    FlowUpdate,
    FlowUpdateEvent,
    GroupDescReply,
    GroupEntry,
    GroupMod,
    GroupModCommand,
    GroupType,
    Hello,
    Match,
    MeterBand,
    MeterBandType,
    MeterMod,
    OpenFlowDecodeError,
    OpenFlowEncodeError,
    Output,
    PacketIn,
    PacketOut,
    PortDesc,
    PortStatus,
    Resubmit,
    SetField,
    SetPacketInFormat,
    UnknownMessage,
    decode_message,
    load,
    move,
)
from pyovn.openflow.flow import encode_instructions

# An OpenFlow 1.5 flow-stats reply as Open vSwitch 3.1 sent it for
# "table=8,priority=100,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01 actions=
#  load:0x5->NXM_NX_REG15[],move:NXM_NX_REG14[0..15]->NXM_NX_REG13[0..15],
#  load:0x1->NXM_NX_REG10[3],resubmit(,9)".
OVS_FLOW_STATS_REPLY = (
    "061300e000000002000100000000000000d0000008000064000000000000000000000000000000000001002e"
    "8000080600000000000180010f100000000100000000ffffffff000000008000040800000000000000010000"
    "00000034800200080000000706cb808080020208000000070000000080020808000000000000000080020a08"
    "00000000000000000000000000040050000000000019001000011e040000000500000000001c001800100000"
    "0000000000011c0400011a040000000000190010000115080000000800000008ffff001000002320000efff8"
    "09000000")

SAMPLE_FLOW = Flow(8, 100, Match(reg14=1, metadata=1, dl_src="00:00:00:00:00:01"),
                   [load(5, "reg15[]"), move("reg14[0..15]", "reg13[0..15]"),
                    load(1, "reg10[3]"), Resubmit(table=9)])


def test_flow_stats_reply_from_ovs_decodes_to_the_canonical_flow() -> None:
    reply = decode_message(bytes.fromhex(OVS_FLOW_STATS_REPLY))
    assert isinstance(reply, FlowStatsReply)
    assert reply.xid == 2 and not reply.more
    assert reply.flows == (SAMPLE_FLOW,)
    assert reply.entries[0].duration_sec == 7


def test_flow_stats_entry_reencodes_to_the_same_bytes() -> None:
    reply = decode_message(bytes.fromhex(OVS_FLOW_STATS_REPLY))
    assert isinstance(reply, FlowStatsReply)
    assert reply.encode(2).hex() == OVS_FLOW_STATS_REPLY


def test_flow_mod_add_layout() -> None:
    data = FlowMod.add(SAMPLE_FLOW, idle_timeout=3, flags=1).encode(0x2A)
    version, msg_type, length, xid = struct.unpack_from("!BBHI", data)
    assert (version, msg_type, length, xid) == (6, 14, len(data), 0x2A)
    cookie, mask, table, command, idle, hard, prio = struct.unpack_from("!QQBBHHH", data, 8)
    assert (table, command, idle, prio) == (8, FlowModCommand.ADD, 3, 100)
    assert data[48:] == SAMPLE_FLOW.body()
    again = decode_message(data)
    assert isinstance(again, FlowMod)
    assert again.flow == SAMPLE_FLOW and again.idle_timeout == 3 and again.flags == 1


def test_flow_mod_delete_with_cookie_mask_sends_no_instructions() -> None:
    mod = FlowMod.delete(Match(metadata=1), cookie=0xAB00, cookie_mask=0xFF00)
    data = mod.encode(1)
    assert data[24] == OFPTT_ALL and data[25] == FlowModCommand.DELETE
    assert struct.unpack_from("!QQ", data, 8) == (0xAB00, 0xFF00)
    assert data[48:] == Match(metadata=1).encode()


def test_flow_mod_rejects_table_all_for_add() -> None:
    with pytest.raises(OpenFlowEncodeError, match="table id 255"):
        FlowMod(SAMPLE_FLOW, FlowModCommand.ADD, table_id=255)


def test_flow_rejects_out_of_range_parts() -> None:
    with pytest.raises(OpenFlowEncodeError, match="table id 255"):
        Flow(255)
    with pytest.raises(OpenFlowEncodeError, match="priority"):
        Flow(0, 70000)
    with pytest.raises(OpenFlowEncodeError, match="cookie"):
        Flow(0, cookie=1 << 64)


def test_flow_body_reuses_the_match_encoding_and_keeps_no_bytes() -> None:
    flow = Flow(8, 100, Match(reg14=1), [Resubmit(table=9)])
    assert flow.match.encode() is flow.match.encode()
    assert flow.body() == flow.match.encode() + encode_instructions(flow.actions)
    assert FlowMod.add(flow).encode(1)[48:] == flow.body()
    assert not hasattr(flow, "_body")  # a flow is sent about once: no bytes kept


def test_equal_actions_and_match_entries_are_shared_between_flows() -> None:
    a = Flow(8, 100, Match(reg14=1, metadata=2), [Resubmit(table=9), SetField("reg15", 7)])
    b = Flow(9, 50, Match(reg14=1, metadata=2), [Resubmit(table=9), SetField("reg15", 7)])
    assert a.actions == b.actions and all(x is y for x, y in zip(a.actions, b.actions, strict=True))
    assert all(x is y for x, y in zip(a.match, b.match, strict=True))
    assert a.match == b.match and hash(a) != hash(b) and a != b


def test_flow_equality_covers_actions_and_cookie() -> None:
    base = Flow(1, 10, Match(reg0=1), [Output(1)], cookie=5)
    assert base == Flow(1, 10, Match(reg0=1), [Output(1)], cookie=5)
    assert base != base.replace(cookie=6)
    assert base != base.replace(actions=[Output(2)])
    assert base.key == base.replace(actions=()).key


def test_bundle_add_message_uses_the_outer_xid_inside() -> None:
    data = BundleAddMessage(7, FlowMod.add(SAMPLE_FLOW)).encode(99)
    assert struct.unpack_from("!I", data, 4)[0] == 99
    assert struct.unpack_from("!I", data, 16 + 4)[0] == 99
    decoded = decode_message(data)
    assert isinstance(decoded, BundleAddMessage)
    assert isinstance(decoded.message, FlowMod) and decoded.message.flow == SAMPLE_FLOW


def test_bundle_control_round_trip() -> None:
    msg = BundleControl(3, BundleCtrlType.COMMIT_REQUEST)
    assert decode_message(msg.encode(5)) == msg
    assert msg.encode(5)[8:].hex() == "0000000300040003"


def test_error_reports_names_and_the_failed_request() -> None:
    failed = FlowMod.add(SAMPLE_FLOW).encode(0x2A)[:64]
    error = decode_message(ErrorMsg(2, 4, failed).encode(0x2A))
    assert isinstance(error, ErrorMsg)
    assert error.failed_xid == 0x2A
    assert str(error) == "OFPBAC_BAD_OUT_PORT (BAD_ACTION) for FLOW_MOD xid=0x2a"


def test_experimenter_error_keeps_vendor_and_code() -> None:
    raw = bytes.fromhex("0601001800000002ffff0014000023200604001000000002")
    error = decode_message(raw)
    assert isinstance(error, ErrorMsg)
    assert error.type == 0xFFFF and error.code == 0x14 and error.experimenter == 0x2320
    assert error.failed_type == 4


def test_hello_bitmap_round_trip() -> None:
    hello = Hello(frozenset({1, 4, 6}))
    data = hello.encode(1)
    assert data.hex() == "0600001000000001" "00010008" "00000052"
    assert decode_message(data) == hello


def test_hello_without_bitmap_means_every_version_up_to_the_header() -> None:
    hello = decode_message(bytes.fromhex("0400000800000001"))
    assert isinstance(hello, Hello) and hello.versions == frozenset({1, 2, 3, 4})


def test_features_reply_decodes() -> None:
    msg = FeaturesReply(0xABCDEF, 0, 254, 0, 0x4F)
    assert decode_message(msg.encode(3)) == msg


def test_group_mod_and_desc_canonicalise_bucket_ids_and_weights() -> None:
    group = GroupEntry(1, GroupType.SELECT, (Bucket((Output(1),), 100), Bucket((Output(2),))),
                       "dp_hash")
    assert [b.bucket_id for b in group.buckets] == [0, 1]
    decoded = decode_message(GroupMod(GroupModCommand.ADD, group).encode(1))
    assert isinstance(decoded, GroupMod) and decoded.group == group
    reply = decode_message(GroupDescReply((group,)).encode(2))
    assert isinstance(reply, GroupDescReply) and reply.entries == (group,)
    all_group = GroupEntry(2, GroupType.ALL, (Bucket((Output(1),), weight=7),))
    assert all_group.buckets[0].weight == 1
    assert str(group) == ("group_id=1,type=select,selection_method=dp_hash,"
                          "bucket=bucket_id:0,weight:100,actions=output:1,"
                          "bucket=bucket_id:1,actions=output:2")


def test_meter_mod_round_trip() -> None:
    msg = MeterMod(0, 3, 1, (MeterBand(MeterBandType.DROP, 1000, 10),
                             MeterBand(MeterBandType.DSCP_REMARK, 50, 0, 2)))
    assert decode_message(msg.encode(1)) == msg


def test_flow_stats_request_layout() -> None:
    msg = FlowStatsRequest(table_id=8, cookie=1, cookie_mask=0xFF, match=Match(metadata=1))
    data = msg.encode(4)
    assert struct.unpack_from("!HH", data, 8) == (1, 0)
    assert data[16] == 8
    assert decode_message(data) == msg


def test_flow_monitor_request_and_updates() -> None:
    req = FlowMonitorRequest(monitor_id=1, table_id=42)
    data = req.encode(6)
    assert data[16:32].hex() == "00000001ffffffffffffffff005e2a00"
    flow = Flow(42, 5, Match(reg0=1), [Resubmit(table=43)])
    reply = FlowMonitorReply((FlowUpdate(FlowUpdateEvent.ADDED, flow),
                              FlowUpdate(FlowUpdateEvent.ABBREV, xid=77),
                              FlowUpdate(FlowUpdateEvent.PAUSED)))
    assert decode_message(reply.encode(0)) == reply


def test_packet_out_carries_in_port_and_pipeline_fields() -> None:
    msg = PacketOut(b"\x01" * 20, (Resubmit(table=0),), in_port=3,
                    pipeline=Match(reg3=7, metadata=9))
    decoded = decode_message(msg.encode(1))
    assert decoded == msg


def test_packet_in_round_trip() -> None:
    msg = PacketIn(b"\xff" * 14, 1, 10, 0x55, Match(in_port=1, metadata=2), 14)
    assert decode_message(msg.encode(1)) == msg


def test_port_status_round_trip() -> None:
    port = PortDesc(5, 0x0A0000000001, "vif1", curr=0x800, curr_speed=10000000)
    msg = PortStatus(0, port)
    assert decode_message(msg.encode(1)) == msg


def test_unknown_messages_are_kept() -> None:
    msg = decode_message(bytes.fromhex("061f000c0000000101020304"))
    assert isinstance(msg, UnknownMessage) and msg.type == 31 and msg.data == b"\x01\x02\x03\x04"


def test_truncated_or_inconsistent_messages_raise_decode_errors() -> None:
    with pytest.raises(OpenFlowDecodeError):
        decode_message(b"\x06\x00")
    with pytest.raises(OpenFlowDecodeError, match="header length"):
        decode_message(bytes.fromhex("0602000900000001"))
    broken = bytearray.fromhex(OVS_FLOW_STATS_REPLY)
    broken[16:18] = b"\x00\x10"  # entry shorter than its fixed part + match
    with pytest.raises(OpenFlowDecodeError):
        decode_message(bytes(broken))


def test_simple_messages_round_trip() -> None:
    for msg in (EchoRequest(b"ping"), BarrierRequest(),
                FlowStatsReply((FlowStats(SAMPLE_FLOW, packet_count=3),))):
        assert decode_message(msg.encode(9)) == msg


def test_set_packet_in_format_layout() -> None:
    assert SetPacketInFormat().encode(1).hex() == (
        "0604001400000001" "00002320" "00000010" "00000002")


def test_controller_action_defaults_are_plain_output_to_controller() -> None:
    assert Controller().encode()[:8].hex() == "00000010fffffffd"
