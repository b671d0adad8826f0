"""Message base class, header framing and the decoder registry.

Every message is a frozen dataclass.  ``encode(xid)`` returns the complete wire
message; :func:`decode_message` turns one complete wire message back into an
object.  Decoders register themselves by OpenFlow type, multipart type or
Nicira subtype when their module is imported (``pyovn.openflow`` imports all).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from pyovn.openflow.constants import NX_VENDOR_ID, OFP_VERSION, OFPMPF_MORE, OFPT
from pyovn.openflow.errors import OpenFlowDecodeError

HEADER = struct.Struct("!BBHI")
MP_HEADER = struct.Struct("!HH4x")

Decoder = Callable[[memoryview, int], "Message"]
_BY_TYPE: dict[int, Decoder] = {}
_MP_REQUEST: dict[int, Decoder] = {}
_MP_REPLY: dict[int, Decoder] = {}
_NX: dict[int, Decoder] = {}


@dataclass(frozen=True, slots=True)
class Message:
    """Base of all messages.  ``xid`` is filled in by decoding and ignored by ``==``."""

    xid: int = field(default=0, compare=False, kw_only=True)

    msg_type: ClassVar[int] = -1

    def body(self) -> bytes:
        """The message body after the 8-byte header."""
        raise NotImplementedError

    def encode(self, xid: int | None = None) -> bytes:
        """The complete wire message with transaction id ``xid`` (default ``self.xid``)."""
        body = self.body()
        return HEADER.pack(OFP_VERSION, self.msg_type, 8 + len(body),
                           self.xid if xid is None else xid) + body


@dataclass(frozen=True, slots=True)
class UnknownMessage(Message):
    """A message this codec does not decode, kept as ``(type, body)``."""

    type: int = 0
    data: bytes = b""

    def body(self) -> bytes:
        """The original body."""
        return self.data

    def encode(self, xid: int | None = None) -> bytes:
        """Re-encode with the original type."""
        return HEADER.pack(OFP_VERSION, self.type, 8 + len(self.data),
                           self.xid if xid is None else xid) + self.data


@dataclass(frozen=True, slots=True)
class MultipartRequest(Message):
    """Base of multipart requests; subclasses set ``mp_type`` and ``request_body``."""

    msg_type: ClassVar[int] = OFPT.MULTIPART_REQUEST
    mp_type: ClassVar[int] = -1

    def request_body(self) -> bytes:
        """The body after the multipart header."""
        raise NotImplementedError

    def body(self) -> bytes:
        """Multipart header plus request body."""
        return MP_HEADER.pack(self.mp_type, 0) + self.request_body()


@dataclass(frozen=True, slots=True)
class MultipartReply(Message):
    """Base of multipart replies: ``entries`` plus the ``more`` flag.

    :class:`~pyovn.openflow.connection.OFConnection` joins the parts of one reply,
    so applications see a single reply with ``more=False``.
    """

    msg_type: ClassVar[int] = OFPT.MULTIPART_REPLY
    mp_type: ClassVar[int] = -1

    entries: tuple[object, ...] = ()
    more: bool = False

    def entry_bytes(self) -> bytes:
        """The encoded entries."""
        raise NotImplementedError

    def body(self) -> bytes:
        """Multipart header plus entries."""
        return MP_HEADER.pack(self.mp_type, OFPMPF_MORE if self.more else 0) + self.entry_bytes()


@dataclass(frozen=True, slots=True)
class NxMessage(Message):
    """Base of Nicira experimenter messages; subclasses set ``subtype``."""

    msg_type: ClassVar[int] = OFPT.EXPERIMENTER
    subtype: ClassVar[int] = -1

    def nx_body(self) -> bytes:
        """The body after the experimenter header."""
        raise NotImplementedError

    def body(self) -> bytes:
        """Experimenter header plus body."""
        return struct.pack("!II", NX_VENDOR_ID, self.subtype) + self.nx_body()


def register(msg_type: int) -> Callable[[Decoder], Decoder]:
    """Register the decoder of OpenFlow message type ``msg_type``."""

    def wrap(decoder: Decoder) -> Decoder:
        _BY_TYPE[msg_type] = decoder
        return decoder

    return wrap


def register_multipart(mp_type: int, reply: bool) -> Callable[[Decoder], Decoder]:
    """Register the decoder of a multipart request or reply body (after its header)."""

    def wrap(decoder: Decoder) -> Decoder:
        (_MP_REPLY if reply else _MP_REQUEST)[mp_type] = decoder
        return decoder

    return wrap


def register_nx(subtype: int) -> Callable[[Decoder], Decoder]:
    """Register the decoder of a Nicira experimenter message (body after the NX header)."""

    def wrap(decoder: Decoder) -> Decoder:
        _NX[subtype] = decoder
        return decoder

    return wrap


def decode_message(data: bytes | memoryview) -> Message:
    """Decode one complete OpenFlow 1.5 message.

    The decoders registered for the message get a memoryview of the whole message
    and the xid.  Unknown types decode to :class:`UnknownMessage`; malformed
    messages raise :class:`OpenFlowDecodeError`.
    """
    view = memoryview(data)
    if len(view) < 8:
        raise OpenFlowDecodeError("message shorter than an OpenFlow header")
    version, msg_type, length, xid = HEADER.unpack_from(view, 0)
    if length != len(view):
        raise OpenFlowDecodeError(f"header length {length} but {len(view)} bytes")
    if version != OFP_VERSION and msg_type not in (OFPT.HELLO, OFPT.ERROR):
        raise OpenFlowDecodeError(f"message of OpenFlow version 0x{version:02x}")
    decoder: Decoder | None
    if msg_type in (OFPT.MULTIPART_REQUEST, OFPT.MULTIPART_REPLY):
        if length < 16:
            raise OpenFlowDecodeError("truncated multipart message")
        (mp_type,) = struct.unpack_from("!H", view, 8)
        table = _MP_REPLY if msg_type == OFPT.MULTIPART_REPLY else _MP_REQUEST
        decoder = table.get(mp_type)
    elif msg_type == OFPT.EXPERIMENTER:
        if length < 16:
            raise OpenFlowDecodeError("truncated experimenter message")
        vendor, subtype = struct.unpack_from("!II", view, 8)
        decoder = _NX.get(subtype) if vendor == NX_VENDOR_ID else None
    else:
        decoder = _BY_TYPE.get(msg_type)
    if decoder is None:
        return UnknownMessage(type=msg_type, data=bytes(view[8:]), xid=xid)
    try:
        return decoder(view, xid)
    except (struct.error, IndexError, ValueError) as exc:
        if isinstance(exc, OpenFlowDecodeError):
            raise
        raise OpenFlowDecodeError(f"malformed message of type {msg_type}: {exc}") from exc


def multipart_more(view: memoryview) -> bool:
    """The MORE flag of a multipart message."""
    (flags,) = struct.unpack_from("!H", view, 10)
    return bool(flags & OFPMPF_MORE)
