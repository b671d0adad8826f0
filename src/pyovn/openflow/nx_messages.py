"""Nicira (Open vSwitch) experimenter messages: NXT_PACKET_IN2, NXT_RESUME,
NXT_SET_PACKET_IN_FORMAT and NXT_TLV_TABLE_MOD (Geneve option -> tun_metadata)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from pyovn.openflow.constants import NXPIF, NXT, OFP_NO_BUFFER
from pyovn.openflow.errors import OpenFlowDecodeError
from pyovn.openflow.match import Match, decode_oxm_fields
from pyovn.openflow.message import Message, NxMessage, register_nx

NXPINT_PACKET, NXPINT_FULL_LEN, NXPINT_BUFFER_ID, NXPINT_TABLE_ID = 0, 1, 2, 3
NXPINT_COOKIE, NXPINT_REASON, NXPINT_METADATA, NXPINT_USERDATA = 4, 5, 6, 7
NXPINT_CONTINUATION = 8


@dataclass(frozen=True, slots=True)
class PacketIn2(NxMessage):
    """NXT_PACKET_IN2, the packet-in OVN asks for (``controller(userdata=...)``).

    ``metadata`` holds the pipeline fields; ``continuation`` is set for ``pause``;
    ``properties`` keeps the raw properties so :class:`Resume` can send them back.
    """

    subtype: ClassVar[int] = NXT.PACKET_IN2
    data: bytes = b""
    full_len: int = 0
    buffer_id: int = OFP_NO_BUFFER
    table_id: int = 0
    cookie: int = 0
    reason: int = 0
    metadata: Match = field(default_factory=Match)
    userdata: bytes = b""
    continuation: bytes = b""
    properties: bytes = field(default=b"", compare=False)

    def nx_body(self) -> bytes:
        """The original properties (decoded packet-ins are only ever resumed)."""
        return self.properties


def _props(view: memoryview, pos: int, end: int) -> dict[int, memoryview]:
    props: dict[int, memoryview] = {}
    while pos + 4 <= end:
        ptype, plen = struct.unpack_from("!HH", view, pos)
        if plen < 4 or pos + plen > end:
            raise OpenFlowDecodeError("bad NXT_PACKET_IN2 property")
        props[ptype] = view[pos + 4:pos + plen]
        pos += plen + (-plen % 8)
    return props


def _u64(value: memoryview) -> int:
    return int(struct.unpack_from("!Q", value, len(value) - 8)[0])


@register_nx(NXT.PACKET_IN2)
def _decode_packet_in2(view: memoryview, xid: int) -> Message:
    props = _props(view, 16, len(view))
    metadata = Match()
    if NXPINT_METADATA in props:
        meta = props[NXPINT_METADATA]
        metadata = Match._trusted(decode_oxm_fields(meta, 0, len(meta)))

    def u32(ptype: int, default: int) -> int:
        return int(struct.unpack_from("!I", props[ptype])[0]) if ptype in props else default

    return PacketIn2(
        data=bytes(props.get(NXPINT_PACKET, b"")),
        full_len=u32(NXPINT_FULL_LEN, 0),
        buffer_id=u32(NXPINT_BUFFER_ID, OFP_NO_BUFFER),
        table_id=props[NXPINT_TABLE_ID][0] if NXPINT_TABLE_ID in props else 0,
        cookie=_u64(props[NXPINT_COOKIE]) if NXPINT_COOKIE in props else 0,
        reason=props[NXPINT_REASON][0] if NXPINT_REASON in props else 0,
        metadata=metadata,
        userdata=bytes(props.get(NXPINT_USERDATA, b"")),
        continuation=bytes(props.get(NXPINT_CONTINUATION, b"")),
        properties=bytes(view[16:]),
        xid=xid,
    )


@dataclass(frozen=True, slots=True)
class Resume(NxMessage):
    """NXT_RESUME: continue a paused pipeline with a (possibly modified) packet."""

    subtype: ClassVar[int] = NXT.RESUME
    properties: bytes = b""

    @classmethod
    def from_packet_in(cls, packet_in: PacketIn2) -> Resume:
        """Resume exactly where ``packet_in`` paused."""
        return cls(packet_in.properties)

    def nx_body(self) -> bytes:
        """The packet-in properties."""
        return self.properties


@dataclass(frozen=True, slots=True)
class SetPacketInFormat(NxMessage):
    """NXT_SET_PACKET_IN_FORMAT (OVN uses ``NXPIF.NXT_PACKET_IN2``)."""

    subtype: ClassVar[int] = NXT.SET_PACKET_IN_FORMAT
    format: int = NXPIF.NXT_PACKET_IN2

    def nx_body(self) -> bytes:
        """The format."""
        return struct.pack("!I", self.format)


@dataclass(frozen=True, slots=True)
class TlvMap:
    """One Geneve option to ``tun_metadata<index>`` mapping."""

    option_class: int
    option_type: int
    option_len: int
    index: int


@dataclass(frozen=True, slots=True)
class TlvTableMod(NxMessage):
    """NXT_TLV_TABLE_MOD: add (0), delete (1) or clear (2) tun_metadata mappings."""

    subtype: ClassVar[int] = NXT.TLV_TABLE_MOD
    command: int = 0
    mappings: tuple[TlvMap, ...] = ()

    def nx_body(self) -> bytes:
        """Command and mappings."""
        return struct.pack("!H6x", self.command) + b"".join(
            struct.pack("!HBBH2x", m.option_class, m.option_type, m.option_len, m.index)
            for m in self.mappings)
