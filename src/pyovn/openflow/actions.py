"""Actions: the base class, the decoder registry and the standard OpenFlow actions.

Every action is a frozen dataclass whose fields are its canonical (Open vSwitch
"ofpact") form, so an action decoded from a flow dump equals the one that was
sent: ``load:0x1->NXM_NX_REG10[3]`` is ``SetField("reg10", 0x8, 0x8)`` whichever
way it travelled.  ``encode()`` returns the OpenFlow 1.5 bytes Open vSwitch itself
would send; ``str()`` the ``ovs-ofctl`` text.

Nicira actions live in :mod:`~pyovn.openflow.nx_actions`, :mod:`~pyovn.openflow.ct`
and :mod:`~pyovn.openflow.learn`; they register their decoders here.
"""
# Subfield helpers are re-exported: action modules import them from here.

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pyovn.openflow.constants import NX_VENDOR_ID, OFPP_CONTROLLER, OFPP_MAX
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError
from pyovn.openflow.fields import (
    Subfield,
    decode_subfield,
    field_by_name,
    nxm_header_4,
    parse_header,
    subfield,
)
from pyovn.openflow.values import Value, format_port, format_value, parse_value

Buf = bytes | memoryview
Decoder = Callable[[Buf, int, int], "Action"]

__all__ = [
    "Action", "Buf", "CopyField", "DecTtl", "GotoTable", "Group", "Meter", "Output", "PopVlan",
    "PushVlan", "SetField", "SetQueue", "Subfield", "UnknownAction", "decode_actions",
    "decode_subfield", "encode_actions", "format_actions", "load", "move", "nx_action",
    "nx_header", "nxm_header_4", "pad8", "register_nx", "register_ofpat", "subfield",
]

_OFPAT_DECODERS: dict[int, Decoder] = {}
_NX_DECODERS: dict[int, Decoder] = {}


class Action:
    """Base class of every action; subclasses are frozen dataclasses."""

    __slots__ = ()

    def encode(self) -> bytes:
        """The action's OpenFlow 1.5 wire form (a multiple of 8 bytes)."""
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - every subclass overrides
        return type(self).__name__


def register_ofpat(action_type: int) -> Callable[[Decoder], Decoder]:
    """Class decorator helper: register a decoder for standard action ``action_type``."""

    def wrap(decoder: Decoder) -> Decoder:
        _OFPAT_DECODERS[action_type] = decoder
        return decoder

    return wrap


def register_nx(subtype: int) -> Callable[[Decoder], Decoder]:
    """Register a decoder for Nicira action ``subtype``."""

    def wrap(decoder: Decoder) -> Decoder:
        _NX_DECODERS[subtype] = decoder
        return decoder

    return wrap


def pad8(body: bytes) -> bytes:
    """Pad ``body`` with zeros to a multiple of 8 bytes."""
    return body + bytes(-len(body) % 8)


def nx_action(subtype: int, body: bytes) -> bytes:
    """Wrap ``body`` in a Nicira action header, fixing the length and padding."""
    total = 10 + len(body)
    total += -total % 8
    return struct.pack("!HHIH", 0xFFFF, total, NX_VENDOR_ID, subtype) + body + bytes(
        total - 10 - len(body))


def nx_header(subtype: int, total_length: int) -> bytes:
    """The 10-byte Nicira action header for an action of ``total_length`` bytes."""
    return struct.pack("!HHIH", 0xFFFF, total_length, NX_VENDOR_ID, subtype)


def decode_actions(buf: Buf, pos: int, end: int) -> tuple[Action, ...]:
    """Decode the action list in ``buf[pos:end]``.

    Unknown action types decode to :class:`UnknownAction` (kept verbatim) so that a
    dump with foreign flows never fails; malformed lengths raise
    :class:`OpenFlowDecodeError`.
    """
    out: list[Action] = []
    while pos < end:
        if pos + 8 > end:
            raise OpenFlowDecodeError("truncated action header")
        atype, alen = struct.unpack_from("!HH", buf, pos)
        if alen < 8 or alen % 8 or pos + alen > end:
            raise OpenFlowDecodeError(f"bad length {alen} for action type {atype}")
        decoder: Decoder | None
        if atype == 0xFFFF:
            vendor, subtype = struct.unpack_from("!IH", buf, pos + 4)
            decoder = _NX_DECODERS.get(subtype) if vendor == NX_VENDOR_ID else None
        else:
            decoder = _OFPAT_DECODERS.get(atype)
        if decoder is None:
            out.append(UnknownAction(bytes(buf[pos:pos + alen])))
        else:
            out.append(decoder(buf, pos, pos + alen))
        pos += alen
    return tuple(out)


def encode_actions(actions: Iterable[Action]) -> bytes:
    """Concatenate the wire forms of ``actions``."""
    return b"".join(a.encode() for a in actions)


def format_actions(actions: Iterable[Action]) -> str:
    """``ovs-ofctl`` text of an action list (``drop`` when empty)."""
    text = ",".join(str(a) for a in actions)
    return text or "drop"


# -- standard actions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Output(Action):
    """``output:PORT``.  Use :class:`~pyovn.openflow.nx_actions.Controller` for the
    controller port so that there is one canonical form."""

    port: int
    max_len: int = 0

    def __post_init__(self) -> None:
        if self.port == OFPP_CONTROLLER:
            raise OpenFlowEncodeError("output to CONTROLLER: use Controller(max_len=...)")
        if not 0 <= self.port <= 0xFFFFFFFF or not 0 <= self.max_len <= 0xFFFF:
            raise OpenFlowEncodeError(f"invalid output port {self.port}")

    def encode(self) -> bytes:
        """``OFPAT_OUTPUT``."""
        return struct.pack("!HHIH6x", 0, 16, self.port, self.max_len)

    def __str__(self) -> str:
        if self.port < OFPP_MAX:
            return f"output:{self.port}"
        return format_port(self.port)


@register_ofpat(0)
def _decode_output(buf: Buf, pos: int, end: int) -> Action:
    port, max_len = struct.unpack_from("!IH", buf, pos + 4)
    if port == OFPP_CONTROLLER:
        from pyovn.openflow.nx_actions import Controller

        return Controller(max_len=max_len)
    return Output(port, max_len)


@dataclass(frozen=True, slots=True)
class Group(Action):
    """``group:GROUP_ID``."""

    group_id: int

    def encode(self) -> bytes:
        """``OFPAT_GROUP``."""
        return struct.pack("!HHI", 22, 8, self.group_id)

    def __str__(self) -> str:
        return f"group:{self.group_id}"


register_ofpat(22)(lambda buf, pos, end: Group(struct.unpack_from("!I", buf, pos + 4)[0]))


@dataclass(frozen=True, slots=True, init=False)
class SetField(Action):
    """``set_field:VALUE[/MASK]->FIELD``; also the canonical form of ``load`` and of
    ``mod_dl_src``-style actions.  ``value`` may be given as ovs-ofctl text."""

    field: str
    value: int
    mask: int | None

    def __init__(self, field: str, value: Value, mask: int | None = None) -> None:
        fl = field_by_name(field)
        if not fl.writable:
            raise OpenFlowEncodeError(f"field {fl.name} is read-only")
        value, text_mask = (value, None) if type(value) is int else parse_value(fl, value)
        mask = mask if mask is not None else text_mask
        full = (1 << fl.nbytes * 8) - 1
        if value < 0 or value > fl.full_mask:
            raise OpenFlowEncodeError(
                f"value 0x{value:x} is wider than field {fl.name} ({fl.nbits} bits)")
        if mask is not None and mask in (full, fl.full_mask):
            mask = None
        if mask is not None:
            if not 0 < mask < full:
                raise OpenFlowEncodeError(f"invalid mask 0x{mask:x} for {fl.name}")
            value &= mask
        object.__setattr__(self, "field", fl.name)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "mask", mask)

    def encode(self) -> bytes:
        """``OFPAT_SET_FIELD`` (OpenFlow 1.5 allows a mask)."""
        fl = field_by_name(self.field)
        n = fl.nbytes
        if self.mask is None:
            body = fl.of15_header + self.value.to_bytes(n, "big")
        else:
            body = (fl.of15_header_masked + self.value.to_bytes(n, "big")
                    + self.mask.to_bytes(n, "big"))
        total = 4 + len(body)
        total += -total % 8
        return struct.pack("!HH", 25, total) + body + bytes(total - 4 - len(body))

    def __str__(self) -> str:
        fl = field_by_name(self.field)
        return f"set_field:{format_value(fl, self.value, self.mask)}->{fl.name}"


def load(value: int, dst: Subfield | str) -> SetField:
    """``load:VALUE->DST[ofs..end]`` as the SetField Open vSwitch turns it into."""
    sf = subfield(dst)
    if value < 0 or value >> sf.nbits:
        raise OpenFlowEncodeError(f"value 0x{value:x} does not fit in {sf}")
    return SetField(sf.field, value << sf.ofs, sf.mask)


@register_ofpat(25)
def _decode_set_field(buf: Buf, pos: int, end: int) -> Action:
    fl, has_mask, length, p = parse_header(buf, pos + 4)
    size = length // 2 if has_mask else length
    if size != fl.nbytes or p + length > end:
        raise OpenFlowDecodeError(f"bad set_field length for {fl.name}")
    value = int.from_bytes(buf[p:p + size], "big")
    mask = int.from_bytes(buf[p + size:p + length], "big") if has_mask else None
    if mask is not None and mask in (fl.full_mask, (1 << 8 * size) - 1):
        mask = None
    # The switch already validated the action; skip __post_init__'s checks.
    action = object.__new__(SetField)
    object.__setattr__(action, "field", fl.name)
    object.__setattr__(action, "value", value if mask is None else value & mask)
    object.__setattr__(action, "mask", mask)
    return action


@dataclass(frozen=True, slots=True, init=False)
class CopyField(Action):
    """``move:SRC->DST`` (OpenFlow 1.5 copy_field; NXAST_REG_MOVE decodes to it)."""

    src: Subfield
    dst: Subfield

    def __init__(self, src: Subfield | str, dst: Subfield | str) -> None:
        src, dst = subfield(src), subfield(dst)
        if src.nbits != dst.nbits:
            raise OpenFlowEncodeError(
                f"{src}->{dst}: source field is {src.nbits} bits wide but destination is "
                f"{dst.nbits} bits wide")
        if not dst.meta.writable:
            raise OpenFlowEncodeError(f"field {dst.field} is read-only")
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)

    def encode(self) -> bytes:
        """``OFPAT_COPY_FIELD`` (OpenFlow 1.5 drops NXAST_REG_MOVE)."""
        body = struct.pack("!HHH2x", self.dst.nbits, self.src.ofs, self.dst.ofs)
        body += self.src.meta.of15_header + self.dst.meta.of15_header
        return pad8(struct.pack("!HH", 28, pad_len(4 + len(body))) + body)

    def __str__(self) -> str:
        return f"move:{self.src}->{self.dst}"


def pad_len(length: int) -> int:
    """``length`` rounded up to a multiple of 8."""
    return length + (-length % 8)


def move(src: Subfield | str, dst: Subfield | str) -> CopyField:
    """``move:SRC->DST`` from text or subfields."""
    return CopyField(subfield(src), subfield(dst))


@register_ofpat(28)
def _decode_copy_field(buf: Buf, pos: int, end: int) -> Action:
    nbits, src_ofs, dst_ofs = struct.unpack_from("!HHH", buf, pos + 4)
    src_fl, _, _, p = parse_header(buf, pos + 12)
    dst_fl, _, _, _ = parse_header(buf, p)
    return CopyField(Subfield(src_fl.name, src_ofs, nbits), Subfield(dst_fl.name, dst_ofs, nbits))


@register_nx(6)
def _decode_reg_move(buf: Buf, pos: int, end: int) -> Action:
    nbits, src_ofs, dst_ofs = struct.unpack_from("!HHH", buf, pos + 10)
    src_fl, _, _, p = parse_header(buf, pos + 16)
    dst_fl, _, _, _ = parse_header(buf, p)
    return CopyField(Subfield(src_fl.name, src_ofs, nbits), Subfield(dst_fl.name, dst_ofs, nbits))


@register_nx(7)
def _decode_reg_load(buf: Buf, pos: int, end: int) -> Action:
    (ofs_nbits,) = struct.unpack_from("!H", buf, pos + 10)
    dst, _ = decode_subfield(buf, pos + 12, ofs_nbits)
    (value,) = struct.unpack_from("!Q", buf, pos + 16)
    return load(value, dst)


@dataclass(frozen=True, slots=True)
class PushVlan(Action):
    """``push_vlan:ETHERTYPE``."""

    ethertype: int = 0x8100

    def encode(self) -> bytes:
        """``OFPAT_PUSH_VLAN``."""
        return struct.pack("!HHH2x", 17, 8, self.ethertype)

    def __str__(self) -> str:
        return f"push_vlan:0x{self.ethertype:x}"


register_ofpat(17)(lambda buf, pos, end: PushVlan(struct.unpack_from("!H", buf, pos + 4)[0]))


@dataclass(frozen=True, slots=True)
class PopVlan(Action):
    """``pop_vlan`` (``strip_vlan``)."""

    def encode(self) -> bytes:
        """``OFPAT_POP_VLAN``."""
        return struct.pack("!HH4x", 18, 8)

    def __str__(self) -> str:
        return "pop_vlan"


register_ofpat(18)(lambda buf, pos, end: PopVlan())


@dataclass(frozen=True, slots=True)
class DecTtl(Action):
    """``dec_ttl``."""

    def encode(self) -> bytes:
        """``OFPAT_DEC_NW_TTL``."""
        return struct.pack("!HH4x", 24, 8)

    def __str__(self) -> str:
        return "dec_ttl"


register_ofpat(24)(lambda buf, pos, end: DecTtl())


@dataclass(frozen=True, slots=True)
class Meter(Action):
    """``meter:METER_ID`` (an action in OpenFlow 1.5)."""

    meter_id: int

    def encode(self) -> bytes:
        """``OFPAT_METER``."""
        return struct.pack("!HHI", 29, 8, self.meter_id)

    def __str__(self) -> str:
        return f"meter:{self.meter_id}"


register_ofpat(29)(lambda buf, pos, end: Meter(struct.unpack_from("!I", buf, pos + 4)[0]))


@dataclass(frozen=True, slots=True)
class SetQueue(Action):
    """``set_queue:QUEUE_ID``."""

    queue_id: int

    def encode(self) -> bytes:
        """``OFPAT_SET_QUEUE``."""
        return struct.pack("!HHI", 21, 8, self.queue_id)

    def __str__(self) -> str:
        return f"set_queue:{self.queue_id}"


register_ofpat(21)(lambda buf, pos, end: SetQueue(struct.unpack_from("!I", buf, pos + 4)[0]))


@dataclass(frozen=True, slots=True)
class GotoTable(Action):
    """``goto_table:N`` (carried as an instruction; kept last in the action list)."""

    table_id: int

    def encode(self) -> bytes:
        """The OFPIT_GOTO_TABLE instruction."""
        return struct.pack("!HHB3x", 1, 8, self.table_id)

    def __str__(self) -> str:
        return f"goto_table:{self.table_id}"


@dataclass(frozen=True, slots=True)
class UnknownAction(Action):
    """An action this codec does not know, kept byte for byte."""

    data: bytes

    def encode(self) -> bytes:
        """The original bytes."""
        return self.data

    def __str__(self) -> str:
        return f"unknown_action({self.data.hex()})"
