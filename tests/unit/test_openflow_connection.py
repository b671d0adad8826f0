"""OFConnection: framing, version negotiation, xids, multipart joining, bundles."""

from __future__ import annotations

import struct

import pytest

from pyovn.openflow import (
    BarrierReply,
    BarrierRequest,
    BundleAddMessage,
    BundleControl,
    BundleCtrlType,
    EchoReply,
    EchoRequest,
    ErrorMsg,
    Flow,
    FlowMod,
    FlowStats,
    FlowStatsReply,
    Hello,
    LocalProtocolError,
    Match,
    Message,
    OFConnection,
    OpenFlowDecodeError,
    RemoteProtocolError,
    State,
    decode_message,
)

SWITCH_HELLO = Hello(frozenset({1, 4, 6})).encode(100)


def established() -> OFConnection:
    conn = OFConnection()
    conn.hello()
    conn.receive_data(SWITCH_HELLO)
    assert isinstance(conn.next_event(), Hello)
    return conn


def test_negotiates_openflow_15_from_the_peer_bitmap() -> None:
    conn = OFConnection()
    initial_state = conn.state
    assert initial_state is State.AWAITING_HELLO
    hello = decode_message(conn.hello())
    assert isinstance(hello, Hello) and hello.versions == frozenset({6})
    conn.receive_data(SWITCH_HELLO)
    assert list(conn.events()) == [Hello(frozenset({1, 4, 6}))]
    assert conn.state is State.ESTABLISHED and conn.version == 6


def test_peer_without_openflow_15_fails_with_an_error_to_send() -> None:
    conn = OFConnection()
    conn.hello()
    conn.receive_data(Hello(frozenset({1, 4})).encode(7))
    with pytest.raises(RemoteProtocolError, match="no common OpenFlow version") as info:
        conn.next_event()
    error = decode_message(info.value.data_to_send)
    assert isinstance(error, ErrorMsg) and (error.type, error.code) == (0, 0)
    assert conn.state is State.FAILED
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    with pytest.raises(LocalProtocolError):
        conn.send(BarrierRequest())


def test_message_before_hello_is_a_remote_error() -> None:
    conn = OFConnection()
    conn.hello()
    conn.receive_data(BarrierReply().encode(1))
    with pytest.raises(RemoteProtocolError, match="before HELLO"):
        conn.next_event()


def test_sending_before_our_hello_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError, match="HELLO"):
        OFConnection().send(BarrierRequest())


def test_messages_split_at_any_byte_are_reassembled() -> None:
    conn = established()
    stream = EchoRequest(b"abc").encode(5) + BarrierReply().encode(6)
    seen: list[Message] = []
    for i in range(len(stream)):
        conn.receive_data(stream[i:i + 1])
        seen.extend(conn.events())
    assert seen == [EchoRequest(b"abc"), BarrierReply()]
    assert [m.xid for m in seen] == [5, 6]


def test_many_messages_in_one_read() -> None:
    conn = established()
    conn.receive_data(b"".join(BarrierReply().encode(i) for i in range(1, 1001)))
    assert [m.xid for m in conn.events()] == list(range(1, 1001))


def test_echo_reply_mirrors_xid_and_payload() -> None:
    conn = established()
    conn.receive_data(EchoRequest(b"hi").encode(0x77))
    request = conn.next_event()
    assert isinstance(request, EchoRequest)
    reply = decode_message(conn.echo_reply(request))
    assert reply == EchoReply(b"hi") and reply.xid == 0x77


def test_xids_are_fresh_and_never_zero() -> None:
    conn = OFConnection(first_xid=0xFFFFFFFF)
    assert conn.next_xid() == 0xFFFFFFFF
    assert conn.next_xid() == 1
    conn = established()
    xid1, data1 = conn.send_with_xid(BarrierRequest())
    xid2, _ = conn.send_with_xid(BarrierRequest())
    assert xid2 == xid1 + 1 and struct.unpack_from("!I", data1, 4)[0] == xid1
    assert struct.unpack_from("!I", conn.send(BarrierRequest(), xid=42), 4)[0] == 42


def test_multipart_parts_are_joined_into_one_reply() -> None:
    conn = established()
    flows = [Flow(1, p, Match(reg0=p)) for p in range(5)]
    conn.receive_data(FlowStatsReply(tuple(FlowStats(f) for f in flows[:2]), more=True).encode(9))
    conn.receive_data(BarrierReply().encode(10))
    conn.receive_data(FlowStatsReply(tuple(FlowStats(f) for f in flows[2:4]), more=True).encode(9))
    assert [type(m) for m in conn.events()] == [BarrierReply]
    conn.receive_data(FlowStatsReply((FlowStats(flows[4]),)).encode(9))
    (reply,) = list(conn.events())
    assert isinstance(reply, FlowStatsReply)
    assert reply.flows == tuple(flows) and not reply.more and reply.xid == 9


def test_undecodable_message_is_skipped_and_the_stream_continues() -> None:
    conn = established()
    broken = bytearray(FlowStatsReply((FlowStats(Flow(1)),)).encode(3))
    broken[16:18] = b"\x00\x08"
    conn.receive_data(bytes(broken) + BarrierReply().encode(4))
    with pytest.raises(OpenFlowDecodeError):
        conn.next_event()
    assert conn.next_event() == BarrierReply()


def test_bad_frame_length_fails_the_connection() -> None:
    conn = established()
    conn.receive_data(bytes.fromhex("0614000400000001"))
    with pytest.raises(RemoteProtocolError, match="bad message length"):
        conn.next_event()
    assert conn.state is State.FAILED


def test_eof_closes() -> None:
    conn = established()
    conn.receive_data(b"")
    assert conn.state is State.CLOSED


def test_bundle_transaction_lists_the_xid_of_every_message() -> None:
    conn = established()
    mods = [FlowMod.add(Flow(1, p, Match(reg0=p))) for p in range(3)]
    txn = conn.bundle(mods)
    messages = []
    data = txn.data
    while data:
        length = struct.unpack_from("!H", data, 2)[0]
        messages.append(decode_message(data[:length]))
        data = data[length:]
    assert isinstance(messages[0], BundleControl)
    assert messages[0].type == BundleCtrlType.OPEN_REQUEST
    assert messages[0].xid == txn.open_xid
    adds = messages[1:-1]
    assert all(isinstance(m, BundleAddMessage) for m in adds)
    assert tuple(m.xid for m in adds) == txn.message_xids
    assert [m.message for m in adds if isinstance(m, BundleAddMessage)] == mods
    assert isinstance(messages[-1], BundleControl)
    assert messages[-1].type == BundleCtrlType.COMMIT_REQUEST
    assert messages[-1].xid == txn.commit_xid
    assert {m.bundle_id for m in messages if isinstance(m, BundleControl)} == {txn.bundle_id}
