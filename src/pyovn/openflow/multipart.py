"""Multipart requests and replies: flow stats (OFPMP_FLOW_DESC), group
descriptions, port descriptions and the flow monitor (OFPMP_FLOW_MONITOR).

Replies are decoded part by part; :class:`~pyovn.openflow.connection.OFConnection`
joins the parts (``more`` flag) into one reply.  In OpenFlow 1.5 Open vSwitch
serves the flow monitor as the standard OFPMP_FLOW_MONITOR (the Nicira
NXST_FLOW_MONITOR exists only for OpenFlow 1.0); the semantics are the same.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from pyovn.openflow.constants import (
    OFPG_ALL,
    OFPG_ANY,
    OFPMP,
    OFPP_ANY,
    OFPTT_ALL,
    FlowMonitorCommand,
    FlowMonitorFlags,
    FlowUpdateEvent,
)
from pyovn.openflow.errors import OpenFlowDecodeError
from pyovn.openflow.flow import Flow, decode_instructions, encode_instructions
from pyovn.openflow.match import Match
from pyovn.openflow.message import (
    Message,
    MultipartReply,
    MultipartRequest,
    multipart_more,
    register_multipart,
)
from pyovn.openflow.messages import PortDesc
from pyovn.openflow.mods import GroupEntry, decode_buckets, decode_group_properties

_FLOW_DESC = struct.Struct("!H2xBxHHHHHQ")
_OXS_DURATION, _OXS_IDLE, _OXS_PACKETS, _OXS_BYTES = 0, 1, 4, 5


@dataclass(frozen=True, slots=True)
class FlowStatsRequest(MultipartRequest):
    """Ask for the flows in ``table_id`` matching ``match`` / ``cookie`` under
    ``cookie_mask`` (everything by default)."""

    mp_type: ClassVar[int] = OFPMP.FLOW_DESC
    table_id: int = OFPTT_ALL
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    cookie: int = 0
    cookie_mask: int = 0
    match: Match = field(default_factory=Match)

    def request_body(self) -> bytes:
        """``ofp_flow_stats_request``."""
        return struct.pack("!B3xII4xQQ", self.table_id, self.out_port, self.out_group,
                           self.cookie, self.cookie_mask) + self.match.encode()


@dataclass(frozen=True, slots=True)
class FlowStats:
    """One flow-stats entry: the canonical :class:`Flow` plus its counters."""

    flow: Flow
    idle_timeout: int = 0
    hard_timeout: int = 0
    flags: int = 0
    importance: int = 0
    duration_sec: int = 0
    duration_nsec: int = 0
    idle_time: int = 0
    packet_count: int = 0
    byte_count: int = 0

    def encode(self) -> bytes:
        """An ``ofp15_flow_desc`` with duration and counters as OXS stats."""
        flow = self.flow
        stats = struct.pack("!HBBII", 0x8002, _OXS_DURATION << 1, 8, self.duration_sec,
                            self.duration_nsec)
        for number, value in ((_OXS_IDLE, self.idle_time), (_OXS_PACKETS, self.packet_count),
                              (_OXS_BYTES, self.byte_count)):
            stats += struct.pack("!HBBQ", 0x8002, number << 1, 8, value)
        stats = struct.pack("!HH", 0, 4 + len(stats)) + stats
        stats += bytes(-len(stats) % 8)
        tail = flow.match.encode() + stats + encode_instructions(flow.actions)
        return _FLOW_DESC.pack(24 + len(tail), flow.table_id, flow.priority, self.idle_timeout,
                               self.hard_timeout, self.flags, self.importance,
                               flow.cookie) + tail


# What Open vSwitch always sends: duration, idle time, packets, bytes.
_OXS_USUAL = struct.Struct("!HHIIIIQIQIQ")
_OXS_USUAL_HEADERS = (0x80020008, 0x80020208, 0x80020808, 0x80020A08)


def _decode_oxs(view: memoryview, pos: int) -> tuple[dict[int, int], int]:
    (length,) = struct.unpack_from("!H", view, pos + 2)
    if length == 52 and pos + 52 <= len(view):
        (_, _, h0, sec, nsec, h1, idle, h2, packets, h3, nbytes) = _OXS_USUAL.unpack_from(
            view, pos)
        if (h0, h1, h2, h3) == _OXS_USUAL_HEADERS:
            return {_OXS_DURATION: sec << 32 | nsec, _OXS_IDLE: idle, _OXS_PACKETS: packets,
                    _OXS_BYTES: nbytes}, pos + 56
    end = pos + length
    stats: dict[int, int] = {}
    p = pos + 4
    while p + 4 <= end:
        _, number, size = struct.unpack_from("!HBB", view, p)
        stats[number >> 1] = int.from_bytes(view[p + 4:p + 4 + size], "big")
        p += 4 + size
    return stats, pos + (length + 7) // 8 * 8


def decode_flow_stats(view: memoryview, pos: int, end: int) -> tuple[FlowStats, ...]:
    """Decode consecutive ``ofp15_flow_desc`` entries."""
    out = []
    while pos < end:
        (length, table_id, priority, idle, hard, flags, importance,
         cookie) = _FLOW_DESC.unpack_from(view, pos)
        if length < 24 or pos + length > end:
            raise OpenFlowDecodeError(f"bad flow stats entry length {length}")
        match, p = Match.decode(view, pos + 24)
        stats, p = _decode_oxs(view, p)
        actions = decode_instructions(view, p, pos + length)
        duration = stats.get(_OXS_DURATION, 0)
        flow = Flow.from_switch(table_id, priority, match, actions, cookie)
        out.append(FlowStats(flow, idle, hard,
                             flags, importance, duration >> 32, duration & 0xFFFFFFFF,
                             stats.get(_OXS_IDLE, 0), stats.get(_OXS_PACKETS, 0),
                             stats.get(_OXS_BYTES, 0)))
        pos += length
    return tuple(out)


@dataclass(frozen=True, slots=True)
class FlowStatsReply(MultipartReply):
    """Reply to :class:`FlowStatsRequest`; ``entries`` are :class:`FlowStats`."""

    mp_type: ClassVar[int] = OFPMP.FLOW_DESC
    entries: tuple[FlowStats, ...] = ()

    @property
    def flows(self) -> tuple[Flow, ...]:
        """The canonical flows, in the switch's order."""
        return tuple(e.flow for e in self.entries)

    def entry_bytes(self) -> bytes:
        """Encoded entries."""
        return b"".join(e.encode() for e in self.entries)


register_multipart(OFPMP.FLOW_DESC, reply=True)(
    lambda v, xid: FlowStatsReply(decode_flow_stats(v, 16, len(v)), multipart_more(v), xid=xid))


@register_multipart(OFPMP.FLOW_DESC, reply=False)
def _decode_flow_stats_request(view: memoryview, xid: int) -> Message:
    table_id, out_port, out_group, cookie, cookie_mask = struct.unpack_from(
        "!B3xII4xQQ", view, 16)
    match, _ = Match.decode(view, 48)
    return FlowStatsRequest(table_id, out_port, out_group, cookie, cookie_mask, match, xid=xid)


@dataclass(frozen=True, slots=True)
class GroupDescRequest(MultipartRequest):
    """Ask for group descriptions (all groups by default)."""

    mp_type: ClassVar[int] = OFPMP.GROUP_DESC
    group_id: int = OFPG_ALL

    def request_body(self) -> bytes:
        """Group id and padding."""
        return struct.pack("!I4x", self.group_id)


@dataclass(frozen=True, slots=True)
class GroupDescReply(MultipartReply):
    """Reply to :class:`GroupDescRequest`; ``entries`` are canonical :class:`GroupEntry`."""

    mp_type: ClassVar[int] = OFPMP.GROUP_DESC
    entries: tuple[GroupEntry, ...] = ()

    def entry_bytes(self) -> bytes:
        """Encoded ``ofp15_group_desc_stats`` entries."""
        out = b""
        for group in self.entries:
            buckets = group.encode_buckets()
            props = group.encode_properties()
            out += struct.pack("!HBxIH6x", 16 + len(buckets) + len(props), group.type,
                               group.group_id, len(buckets)) + buckets + props
        return out


@register_multipart(OFPMP.GROUP_DESC, reply=True)
def _decode_group_desc(view: memoryview, xid: int) -> Message:
    groups = []
    pos = 16
    while pos < len(view):
        length, gtype, group_id, blen = struct.unpack_from("!HBxIH", view, pos)
        if length < 16 + blen or pos + length > len(view):
            raise OpenFlowDecodeError("bad group desc entry")
        buckets = decode_buckets(view, pos + 16, pos + 16 + blen)
        method, param = decode_group_properties(view, pos + 16 + blen, pos + length)
        groups.append(GroupEntry(group_id, gtype, buckets, method, param))
        pos += length
    return GroupDescReply(tuple(groups), multipart_more(view), xid=xid)


@dataclass(frozen=True, slots=True)
class PortDescRequest(MultipartRequest):
    """Ask for port descriptions (all ports by default)."""

    mp_type: ClassVar[int] = OFPMP.PORT_DESC
    port_no: int = OFPP_ANY

    def request_body(self) -> bytes:
        """Port number and padding."""
        return struct.pack("!I4x", self.port_no)


@dataclass(frozen=True, slots=True)
class PortDescReply(MultipartReply):
    """Reply to :class:`PortDescRequest`; ``entries`` are :class:`PortDesc`."""

    mp_type: ClassVar[int] = OFPMP.PORT_DESC
    entries: tuple[PortDesc, ...] = ()

    def entry_bytes(self) -> bytes:
        """Encoded ports."""
        return b"".join(p.encode() for p in self.entries)


@register_multipart(OFPMP.PORT_DESC, reply=True)
def _decode_port_desc(view: memoryview, xid: int) -> Message:
    ports = []
    pos = 16
    while pos < len(view):
        port, pos = PortDesc.decode(view, pos)
        ports.append(port)
    return PortDescReply(tuple(ports), multipart_more(view), xid=xid)


@dataclass(frozen=True, slots=True)
class FlowMonitorRequest(MultipartRequest):
    """Start (or modify/cancel) flow monitor ``monitor_id`` on flows matching ``match``.

    The default flags ask for additions, removals and modifications with their
    actions, including our own changes in full (``OWN``).  Updates arrive as
    :class:`FlowMonitorReply` messages with xid 0.
    """

    mp_type: ClassVar[int] = OFPMP.FLOW_MONITOR
    monitor_id: int = 0
    flags: int = (FlowMonitorFlags.ADD | FlowMonitorFlags.REMOVED | FlowMonitorFlags.MODIFY
                  | FlowMonitorFlags.INSTRUCTIONS | FlowMonitorFlags.OWN)
    table_id: int = OFPTT_ALL
    command: int = FlowMonitorCommand.ADD
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    match: Match = field(default_factory=Match)

    def request_body(self) -> bytes:
        """``ofp14_flow_monitor_request``."""
        return struct.pack("!IIIHBB", self.monitor_id, self.out_port, self.out_group,
                           self.flags, self.table_id, self.command) + self.match.encode()


@dataclass(frozen=True, slots=True)
class FlowUpdate:
    """One flow monitor update.

    For INITIAL/ADDED/REMOVED/MODIFIED ``flow`` is set (its actions are empty unless
    the monitor asked for INSTRUCTIONS); ABBREV carries only the ``xid`` of our own
    change; PAUSED/RESUMED carry nothing.
    """

    event: int
    flow: Flow | None = None
    reason: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    xid: int = 0

    def encode(self) -> bytes:
        """An ``ofp_flow_update_*`` entry."""
        if self.flow is None:
            return struct.pack("!HHI", 8, self.event, self.xid)
        flow = self.flow
        tail = flow.match.encode() + encode_instructions(flow.actions)
        return struct.pack("!HHBBHHH4xQ", 24 + len(tail), self.event, flow.table_id,
                           self.reason, self.idle_timeout, self.hard_timeout, flow.priority,
                           flow.cookie) + tail


@dataclass(frozen=True, slots=True)
class FlowMonitorReply(MultipartReply):
    """Flow monitor updates (also the reply to the request, with INITIAL flows)."""

    mp_type: ClassVar[int] = OFPMP.FLOW_MONITOR
    entries: tuple[FlowUpdate, ...] = ()

    def entry_bytes(self) -> bytes:
        """Encoded updates."""
        return b"".join(u.encode() for u in self.entries)


@register_multipart(OFPMP.FLOW_MONITOR, reply=True)
def _decode_flow_monitor_reply(view: memoryview, xid: int) -> Message:
    updates = []
    pos = 16
    while pos + 4 <= len(view):
        length, event = struct.unpack_from("!HH", view, pos)
        if length < 8 or pos + length > len(view):
            raise OpenFlowDecodeError(f"bad flow update length {length}")
        if event <= FlowUpdateEvent.MODIFIED:
            table_id, reason, idle, hard, priority, cookie = struct.unpack_from(
                "!BBHHH4xQ", view, pos + 4)
            match, p = Match.decode(view, pos + 24)
            actions = decode_instructions(view, p, pos + length)
            updates.append(FlowUpdate(event, Flow.from_switch(table_id, priority, match,
                                                              actions, cookie),
                                      reason, idle, hard))
        elif event == FlowUpdateEvent.ABBREV:
            updates.append(FlowUpdate(event, xid=struct.unpack_from("!I", view, pos + 4)[0]))
        else:
            updates.append(FlowUpdate(event))
        pos += length
    return FlowMonitorReply(tuple(updates), multipart_more(view), xid=xid)
