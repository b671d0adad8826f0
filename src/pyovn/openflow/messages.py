"""Basic OpenFlow 1.5 messages: hello, error, echo, features, barrier, config,
port status, packet-out and packet-in (OpenFlow and NXT_PACKET_IN2).

Flow/group/meter mods and bundles are in :mod:`~pyovn.openflow.mods`; multipart
messages in :mod:`~pyovn.openflow.multipart`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from pyovn.openflow.actions import Action, decode_actions, encode_actions
from pyovn.openflow.constants import (
    NX_VENDOR_ID,
    OFP_NO_BUFFER,
    OFP_VERSION,
    OFPP_CONTROLLER,
    OFPT,
    error_code_name,
    error_type_name,
)
from pyovn.openflow.errors import OpenFlowDecodeError
from pyovn.openflow.flow import Flow as _Flow  # noqa: F401  (registers action decoders)
from pyovn.openflow.match import Match
from pyovn.openflow.message import HEADER, Message, register
from pyovn.openflow.values import format_mac

OFPHET_VERSIONBITMAP = 1


@dataclass(frozen=True, slots=True)
class Hello(Message):
    """OFPT_HELLO with a version bitmap (OpenFlow 1.5 is version 6)."""

    msg_type: ClassVar[int] = OFPT.HELLO
    versions: frozenset[int] = frozenset({OFP_VERSION})

    def body(self) -> bytes:
        """One VERSIONBITMAP element."""
        bitmap = 0
        for version in self.versions:
            bitmap |= 1 << version
        words = []
        while bitmap:
            words.append(bitmap & 0xFFFFFFFF)
            bitmap >>= 32
        element = struct.pack(f"!HH{len(words)}I", OFPHET_VERSIONBITMAP, 4 + 4 * len(words),
                              *words)
        return element + bytes(-len(element) % 8)

    def encode(self, xid: int | None = None) -> bytes:
        """HELLO carries the highest version we support in its header."""
        body = self.body()
        return HEADER.pack(max(self.versions), self.msg_type, 8 + len(body),
                           self.xid if xid is None else xid) + body


@register(OFPT.HELLO)
def _decode_hello(view: memoryview, xid: int) -> Message:
    header_version = view[0]
    versions: set[int] = set()
    pos = 8
    while pos + 4 <= len(view):
        etype, elen = struct.unpack_from("!HH", view, pos)
        if elen < 4 or pos + elen > len(view):
            raise OpenFlowDecodeError("bad HELLO element")
        if etype == OFPHET_VERSIONBITMAP:
            for i, word in enumerate(struct.unpack_from(f"!{(elen - 4) // 4}I", view, pos + 4)):
                versions.update(32 * i + bit for bit in range(32) if word >> bit & 1)
        pos += elen + (-elen % 8)
    if not versions:
        # Without a bitmap the peer supports every version up to its header's.
        versions = set(range(1, header_version + 1))
    return Hello(frozenset(versions), xid=xid)


@dataclass(frozen=True, slots=True)
class ErrorMsg(Message):
    """OFPT_ERROR.  ``data`` holds (the start of) the message that failed.

    ``str(error)`` reads like ``OFPBAC_BAD_OUT_PORT (BAD_ACTION) for FLOW_MOD
    xid=0x2a``; :attr:`failed_xid` maps the error back to the request.
    """

    msg_type: ClassVar[int] = OFPT.ERROR
    type: int = 0
    code: int = 0
    data: bytes = b""
    experimenter: int = 0

    def body(self) -> bytes:
        """Type, code (or experimenter code and id) and data."""
        if self.type == 0xFFFF:
            return struct.pack("!HHI", self.type, self.code, self.experimenter) + self.data
        return struct.pack("!HH", self.type, self.code) + self.data

    @property
    def type_name(self) -> str:
        """E.g. ``BAD_ACTION``."""
        return error_type_name(self.type)

    @property
    def code_name(self) -> str:
        """E.g. ``OFPBAC_BAD_OUT_PORT``; ``NX_0x..`` for experimenter errors."""
        if self.type == 0xFFFF:
            vendor = "NX" if self.experimenter == NX_VENDOR_ID else f"0x{self.experimenter:08x}"
            return f"{vendor}_ERROR_{self.code}"
        return error_code_name(self.type, self.code)

    @property
    def failed_xid(self) -> int | None:
        """The xid of the message that caused the error, when the switch included it."""
        if len(self.data) < 8:
            return None
        return int(struct.unpack_from("!I", self.data, 4)[0])

    @property
    def failed_type(self) -> int | None:
        """The OpenFlow type of the message that caused the error."""
        return self.data[1] if len(self.data) >= 2 else None

    @property
    def reason(self) -> str:
        """One line a human can read."""
        text = f"{self.code_name} ({self.type_name})"
        if self.failed_type is not None:
            try:
                name = OFPT(self.failed_type).name
            except ValueError:
                name = f"type {self.failed_type}"
            text += f" for {name} xid=0x{self.failed_xid or 0:x}"
        if self.type == 0 and self.data and self.data.isascii():
            text += f": {self.data.decode(errors='replace')}"
        return text

    def __str__(self) -> str:
        return self.reason


@register(OFPT.ERROR)
def _decode_error(view: memoryview, xid: int) -> Message:
    etype, code = struct.unpack_from("!HH", view, 8)
    if etype == 0xFFFF:
        (experimenter,) = struct.unpack_from("!I", view, 12)
        return ErrorMsg(etype, code, bytes(view[16:]), experimenter, xid=xid)
    return ErrorMsg(etype, code, bytes(view[12:]), xid=xid)


@dataclass(frozen=True, slots=True)
class EchoRequest(Message):
    """OFPT_ECHO_REQUEST."""

    msg_type: ClassVar[int] = OFPT.ECHO_REQUEST
    data: bytes = b""

    def body(self) -> bytes:
        """The payload."""
        return self.data


@dataclass(frozen=True, slots=True)
class EchoReply(Message):
    """OFPT_ECHO_REPLY."""

    msg_type: ClassVar[int] = OFPT.ECHO_REPLY
    data: bytes = b""

    def body(self) -> bytes:
        """The payload."""
        return self.data


register(OFPT.ECHO_REQUEST)(lambda v, xid: EchoRequest(bytes(v[8:]), xid=xid))
register(OFPT.ECHO_REPLY)(lambda v, xid: EchoReply(bytes(v[8:]), xid=xid))


@dataclass(frozen=True, slots=True)
class FeaturesRequest(Message):
    """OFPT_FEATURES_REQUEST."""

    msg_type: ClassVar[int] = OFPT.FEATURES_REQUEST

    def body(self) -> bytes:
        """Empty."""
        return b""


@dataclass(frozen=True, slots=True)
class FeaturesReply(Message):
    """OFPT_FEATURES_REPLY."""

    msg_type: ClassVar[int] = OFPT.FEATURES_REPLY
    datapath_id: int = 0
    n_buffers: int = 0
    n_tables: int = 0
    auxiliary_id: int = 0
    capabilities: int = 0

    def body(self) -> bytes:
        """The fixed 24-byte body."""
        return struct.pack("!QIBB2xI4x", self.datapath_id, self.n_buffers, self.n_tables,
                           self.auxiliary_id, self.capabilities)


register(OFPT.FEATURES_REQUEST)(lambda v, xid: FeaturesRequest(xid=xid))
register(OFPT.FEATURES_REPLY)(
    lambda v, xid: FeaturesReply(*struct.unpack_from("!QIBB2xI", v, 8), xid=xid))


@dataclass(frozen=True, slots=True)
class BarrierRequest(Message):
    """OFPT_BARRIER_REQUEST."""

    msg_type: ClassVar[int] = OFPT.BARRIER_REQUEST

    def body(self) -> bytes:
        """Empty."""
        return b""


@dataclass(frozen=True, slots=True)
class BarrierReply(Message):
    """OFPT_BARRIER_REPLY."""

    msg_type: ClassVar[int] = OFPT.BARRIER_REPLY

    def body(self) -> bytes:
        """Empty."""
        return b""


register(OFPT.BARRIER_REQUEST)(lambda v, xid: BarrierRequest(xid=xid))
register(OFPT.BARRIER_REPLY)(lambda v, xid: BarrierReply(xid=xid))


@dataclass(frozen=True, slots=True)
class SetConfig(Message):
    """OFPT_SET_CONFIG (``miss_send_len`` for table-miss packet-ins)."""

    msg_type: ClassVar[int] = OFPT.SET_CONFIG
    flags: int = 0
    miss_send_len: int = 0xFFFF

    def body(self) -> bytes:
        """Flags and miss_send_len."""
        return struct.pack("!HH", self.flags, self.miss_send_len)


register(OFPT.SET_CONFIG)(lambda v, xid: SetConfig(*struct.unpack_from("!HH", v, 8), xid=xid))


@dataclass(frozen=True, slots=True)
class PortDesc:
    """An ``ofp14_port`` with its Ethernet property."""

    port_no: int
    hw_addr: int
    name: str
    config: int = 0
    state: int = 0
    curr: int = 0
    advertised: int = 0
    supported: int = 0
    peer: int = 0
    curr_speed: int = 0
    max_speed: int = 0

    def encode(self) -> bytes:
        """40-byte port plus a 32-byte Ethernet property."""
        prop = struct.pack("!HH4x6I", 0, 32, self.curr, self.advertised, self.supported,
                           self.peer, self.curr_speed, self.max_speed)
        return struct.pack("!IH2x6s2x16sII", self.port_no, 72, self.hw_addr.to_bytes(6, "big"),
                           self.name.encode()[:15], self.config, self.state) + prop

    @classmethod
    def decode(cls, view: memoryview, pos: int) -> tuple[PortDesc, int]:
        """Decode one port at ``pos``; return it and the offset after it."""
        port_no, length, hw, name, config, state = struct.unpack_from("!IH2x6s2x16sII", view, pos)
        eth = (0, 0, 0, 0, 0, 0)
        p = pos + 40
        while p + 4 <= pos + length:
            ptype, plen = struct.unpack_from("!HH", view, p)
            if plen < 4:
                raise OpenFlowDecodeError("bad port property")
            if ptype == 0 and plen >= 32:
                eth = struct.unpack_from("!6I", view, p + 8)
            p += plen + (-plen % 8)
        port = cls(port_no, int.from_bytes(hw, "big"), name.rstrip(b"\0").decode(errors="replace"),
                   config, state, *eth)
        return port, pos + length

    def __str__(self) -> str:
        return f"{self.port_no}({self.name}): addr:{format_mac(self.hw_addr)}"


@dataclass(frozen=True, slots=True)
class PortStatus(Message):
    """OFPT_PORT_STATUS: a port was added (0), deleted (1) or modified (2)."""

    msg_type: ClassVar[int] = OFPT.PORT_STATUS
    reason: int = 0
    port: PortDesc | None = None

    def body(self) -> bytes:
        """Reason and port."""
        assert self.port is not None
        return struct.pack("!B7x", self.reason) + self.port.encode()


register(OFPT.PORT_STATUS)(
    lambda v, xid: PortStatus(v[8], PortDesc.decode(v, 16)[0], xid=xid))


@dataclass(frozen=True, slots=True)
class PacketOut(Message):
    """OFPT_PACKET_OUT: run ``actions`` on ``data`` as if received on ``in_port``.

    ``pipeline`` carries other pipeline fields (metadata, registers, tun_id).
    """

    msg_type: ClassVar[int] = OFPT.PACKET_OUT
    data: bytes = b""
    actions: tuple[Action, ...] = ()
    in_port: int = OFPP_CONTROLLER
    pipeline: Match = field(default_factory=Match)
    buffer_id: int = OFP_NO_BUFFER

    def body(self) -> bytes:
        """Buffer id, actions length, match, actions, packet."""
        match = self.pipeline.replace(in_port=self.in_port)
        actions = encode_actions(self.actions)
        return (struct.pack("!IH2x", self.buffer_id, len(actions)) + match.encode() + actions
                + self.data)


@register(OFPT.PACKET_OUT)
def _decode_packet_out(view: memoryview, xid: int) -> Message:
    buffer_id, actions_len = struct.unpack_from("!IH", view, 8)
    match, pos = Match.decode(view, 16)
    actions = decode_actions(view, pos, pos + actions_len)
    in_port = match.get("in_port_oxm")
    return PacketOut(bytes(view[pos + actions_len:]), actions,
                     in_port[0] if in_port else OFPP_CONTROLLER, match.without("in_port_oxm"),
                     buffer_id, xid=xid)


@dataclass(frozen=True, slots=True)
class PacketIn(Message):
    """OFPT_PACKET_IN (OpenFlow 1.5 format); ``match`` holds the pipeline fields."""

    msg_type: ClassVar[int] = OFPT.PACKET_IN
    data: bytes = b""
    reason: int = 0
    table_id: int = 0
    cookie: int = 0
    match: Match = field(default_factory=Match)
    total_len: int = 0
    buffer_id: int = OFP_NO_BUFFER

    def body(self) -> bytes:
        """Fixed part, match, two pad bytes, packet."""
        return (struct.pack("!IHBBQ", self.buffer_id, self.total_len or len(self.data),
                            self.reason, self.table_id, self.cookie)
                + self.match.encode() + b"\0\0" + self.data)


@register(OFPT.PACKET_IN)
def _decode_packet_in(view: memoryview, xid: int) -> Message:
    buffer_id, total_len, reason, table_id, cookie = struct.unpack_from("!IHBBQ", view, 8)
    match, pos = Match.decode(view, 24)
    return PacketIn(bytes(view[pos + 2:]), reason, table_id, cookie, match, total_len,
                    buffer_id, xid=xid)
