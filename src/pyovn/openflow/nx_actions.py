"""Nicira extension actions (other than ct, nat and learn).

``resubmit``, ``conjunction``, ``controller`` (NXAST_CONTROLLER/CONTROLLER2, and the
plain ``OFPAT_OUTPUT`` to CONTROLLER, which decode to one canonical
:class:`Controller`), ``note``, ``output:REG``, ``fin_timeout``, ``sample``,
``exit``, ``ct_clear``, ``check_pkt_larger`` and ``clone``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from pyovn.openflow.actions import (
    Action,
    Buf,
    DecTtl,
    Subfield,
    decode_actions,
    decode_subfield,
    encode_actions,
    format_actions,
    nx_action,
    nx_header,
    nxm_header_4,
    register_nx,
    subfield,
)
from pyovn.openflow.constants import (
    OFPP_CONTROLLER,
    OFPP_IN_PORT,
    PACKET_IN_REASON_NAMES,
    PacketInReason,
    port_from_ofp10,
    port_to_ofp10,
)
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError
from pyovn.openflow.values import format_port

NXAST_RESUBMIT = 1
NXAST_NOTE = 8
NXAST_RESUBMIT_TABLE = 14
NXAST_OUTPUT_REG = 15
NXAST_EXIT = 17
NXAST_FIN_TIMEOUT = 19
NXAST_CONTROLLER = 20
NXAST_DEC_TTL_CNT_IDS = 21
NXAST_SAMPLE = 29
NXAST_CONJUNCTION = 34
NXAST_CONTROLLER2 = 37
NXAST_SAMPLE2 = 38
NXAST_SAMPLE3 = 41
NXAST_CLONE = 42
NXAST_CT_CLEAR = 43
NXAST_RESUBMIT_TABLE_CT = 44
NXAST_CHECK_PKT_LARGER = 49


@dataclass(frozen=True, slots=True)
class Resubmit(Action):
    """``resubmit([port],[table][,ct])``; ``port`` is a 32-bit port number."""

    port: int = OFPP_IN_PORT
    table: int = 255
    ct: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.table <= 255:
            raise OpenFlowEncodeError(f"resubmit table {self.table} out of range")

    def encode(self) -> bytes:
        """NXAST_RESUBMIT_TABLE or NXAST_RESUBMIT_TABLE_CT."""
        subtype = NXAST_RESUBMIT_TABLE_CT if self.ct else NXAST_RESUBMIT_TABLE
        return nx_action(subtype, struct.pack("!HB3x", port_to_ofp10(self.port), self.table))

    def __str__(self) -> str:
        if self.port != OFPP_IN_PORT and self.table == 255 and not self.ct:
            return f"resubmit:{format_port(self.port)}"
        port = format_port(self.port) if self.port != OFPP_IN_PORT else ""
        table = str(self.table) if self.table != 255 else ""
        return f"resubmit({port},{table}{',ct' if self.ct else ''})"


def _decode_resubmit(buf: Buf, pos: int, end: int, subtype: int) -> Action:
    port, table = struct.unpack_from("!HB", buf, pos + 10)
    if subtype == NXAST_RESUBMIT:
        table = 255
    return Resubmit(port_from_ofp10(port), table, subtype == NXAST_RESUBMIT_TABLE_CT)


for _subtype in (NXAST_RESUBMIT, NXAST_RESUBMIT_TABLE, NXAST_RESUBMIT_TABLE_CT):
    register_nx(_subtype)(partial(_decode_resubmit, subtype=_subtype))


@dataclass(frozen=True, slots=True)
class Conjunction(Action):
    """``conjunction(ID,CLAUSE/N_CLAUSES)`` with a 1-based ``clause`` as in the text."""

    id: int
    clause: int
    n_clauses: int

    def __post_init__(self) -> None:
        if not 2 <= self.n_clauses <= 64 or not 1 <= self.clause <= self.n_clauses:
            raise OpenFlowEncodeError(
                f"conjunction clause {self.clause}/{self.n_clauses} out of range")

    def encode(self) -> bytes:
        """NXAST_CONJUNCTION."""
        return nx_action(NXAST_CONJUNCTION,
                         struct.pack("!BBI", self.clause - 1, self.n_clauses, self.id))

    def __str__(self) -> str:
        return f"conjunction({self.id},{self.clause}/{self.n_clauses})"


@register_nx(NXAST_CONJUNCTION)
def _decode_conjunction(buf: Buf, pos: int, end: int) -> Action:
    clause, n_clauses, conj_id = struct.unpack_from("!BBI", buf, pos + 10)
    return Conjunction(conj_id, clause + 1, n_clauses)


@dataclass(frozen=True, slots=True)
class Note(Action):
    """``note:HEX``; the data is zero-padded as on the wire, so it round-trips."""

    data: bytes = b""

    def __post_init__(self) -> None:
        data = bytes(self.data)
        pad = max(6 - len(data), -(10 + len(data)) % 8)
        object.__setattr__(self, "data", data + bytes(pad))

    def encode(self) -> bytes:
        """NXAST_NOTE."""
        return nx_action(NXAST_NOTE, self.data)

    def __str__(self) -> str:
        return "note:" + ".".join(f"{b:02x}" for b in self.data)


register_nx(NXAST_NOTE)(lambda buf, pos, end: Note(bytes(buf[pos + 10:end])))


@dataclass(frozen=True, slots=True)
class Controller(Action):
    """Send to the controller: ``CONTROLLER:MAX_LEN`` or ``controller(...)``.

    ``reason`` is a :class:`~pyovn.openflow.constants.PacketInReason`; ``meter_id``
    0 means no controller meter.
    """

    max_len: int = 0xFFFF
    controller_id: int = 0
    reason: int = PacketInReason.ACTION
    userdata: bytes = b""
    pause: bool = False
    meter_id: int = 0

    def _is_plain(self) -> bool:
        return (self.reason == PacketInReason.ACTION and self.controller_id == 0
                and not self.userdata and not self.pause and not self.meter_id)

    def encode(self) -> bytes:
        """OFPAT_OUTPUT, NXAST_CONTROLLER or NXAST_CONTROLLER2, the simplest that fits."""
        if self._is_plain():
            return struct.pack("!HHIH6x", 0, 16, OFPP_CONTROLLER, self.max_len)
        if not self.userdata and not self.pause and not self.meter_id:
            return nx_action(NXAST_CONTROLLER, struct.pack(
                "!HHBx", self.max_len, self.controller_id, self.reason))
        props = b""
        if self.max_len != 0xFFFF:
            props += _prop(0, struct.pack("!H", self.max_len))
        if self.controller_id:
            props += _prop(1, struct.pack("!H", self.controller_id))
        if self.reason != PacketInReason.ACTION:
            props += _prop(2, bytes([self.reason]))
        if self.userdata:
            props += _prop(3, self.userdata)
        if self.pause:
            props += _prop(4, b"")
        if self.meter_id:
            props += _prop(5, struct.pack("!I", self.meter_id))
        return nx_action(NXAST_CONTROLLER2, bytes(6) + props)

    def __str__(self) -> str:
        if self._is_plain():
            return f"CONTROLLER:{self.max_len}"
        parts = []
        if self.reason != PacketInReason.ACTION:
            parts.append(f"reason={PACKET_IN_REASON_NAMES.get(self.reason, self.reason)}")
        if self.max_len != 0xFFFF:
            parts.append(f"max_len={self.max_len}")
        if self.controller_id:
            parts.append(f"id={self.controller_id}")
        if self.userdata:
            parts.append("userdata=" + ".".join(f"{b:02x}" for b in self.userdata))
        if self.pause:
            parts.append("pause")
        if self.meter_id:
            parts.append(f"meter_id={self.meter_id}")
        return f"controller({','.join(parts)})"


def _prop(ptype: int, value: bytes) -> bytes:
    length = 4 + len(value)
    return struct.pack("!HH", ptype, length) + value + bytes(-length % 8)


@register_nx(NXAST_CONTROLLER)
def _decode_controller(buf: Buf, pos: int, end: int) -> Action:
    max_len, controller_id, reason = struct.unpack_from("!HHB", buf, pos + 10)
    return Controller(max_len, controller_id, reason)


@register_nx(NXAST_CONTROLLER2)
def _decode_controller2(buf: Buf, pos: int, end: int) -> Action:
    values: dict[str, object] = {}
    p = pos + 16
    while p + 4 <= end:
        ptype, plen = struct.unpack_from("!HH", buf, p)
        if plen < 4 or p + plen > end:
            raise OpenFlowDecodeError("bad NXAST_CONTROLLER2 property")
        data = bytes(buf[p + 4:p + plen])
        if ptype == 0:
            values["max_len"] = struct.unpack("!H", data[:2])[0]
        elif ptype == 1:
            values["controller_id"] = struct.unpack("!H", data[:2])[0]
        elif ptype == 2:
            values["reason"] = data[0]
        elif ptype == 3:
            values["userdata"] = data
        elif ptype == 4:
            values["pause"] = True
        elif ptype == 5:
            values["meter_id"] = struct.unpack("!I", data[:4])[0]
        p += plen + (-plen % 8)
    return Controller(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, init=False)
class OutputReg(Action):
    """``output:SRC[ofs..end]`` — output to the port number held in a field."""

    src: Subfield
    max_len: int

    def __init__(self, src: Subfield | str, max_len: int = 0xFFFF) -> None:
        object.__setattr__(self, "src", subfield(src))
        object.__setattr__(self, "max_len", max_len)

    def encode(self) -> bytes:
        """NXAST_OUTPUT_REG."""
        return nx_action(NXAST_OUTPUT_REG, struct.pack("!H", self.src.ofs_nbits)
                         + nxm_header_4(self.src, "output") + struct.pack("!H6x", self.max_len))

    def __str__(self) -> str:
        return f"output:{self.src}"


@register_nx(NXAST_OUTPUT_REG)
def _decode_output_reg(buf: Buf, pos: int, end: int) -> Action:
    (ofs_nbits,) = struct.unpack_from("!H", buf, pos + 10)
    src, p = decode_subfield(buf, pos + 12, ofs_nbits)
    (max_len,) = struct.unpack_from("!H", buf, p)
    return OutputReg(src, max_len)


@dataclass(frozen=True, slots=True)
class FinTimeout(Action):
    """``fin_timeout(idle_timeout=N,hard_timeout=N)``."""

    idle_timeout: int = 0
    hard_timeout: int = 0

    def encode(self) -> bytes:
        """NXAST_FIN_TIMEOUT."""
        return nx_action(NXAST_FIN_TIMEOUT,
                         struct.pack("!HH2x", self.idle_timeout, self.hard_timeout))

    def __str__(self) -> str:
        parts = []
        if self.idle_timeout:
            parts.append(f"idle_timeout={self.idle_timeout}")
        if self.hard_timeout:
            parts.append(f"hard_timeout={self.hard_timeout}")
        return f"fin_timeout({','.join(parts)})"


register_nx(NXAST_FIN_TIMEOUT)(
    lambda buf, pos, end: FinTimeout(*struct.unpack_from("!HH", buf, pos + 10)))


@dataclass(frozen=True, slots=True)
class Sample(Action):
    """``sample(probability=...,collector_set_id=...,...)``; ``direction`` 0 is
    default, 1 ingress, 2 egress."""

    probability: int
    collector_set_id: int = 0
    obs_domain_id: int = 0
    obs_point_id: int = 0
    sampling_port: int | None = None
    direction: int = 0

    def encode(self) -> bytes:
        """NXAST_SAMPLE, or NXAST_SAMPLE3 with a sampling port or direction."""
        body = struct.pack("!HIII", self.probability, self.collector_set_id,
                           self.obs_domain_id, self.obs_point_id)
        if self.sampling_port is None and not self.direction:
            return nx_action(NXAST_SAMPLE, body)
        port = port_to_ofp10(self.sampling_port if self.sampling_port is not None else 0xFFFFFFFF)
        return nx_action(NXAST_SAMPLE3, body + struct.pack("!HB5x", port, self.direction))

    def __str__(self) -> str:
        text = (f"sample(probability={self.probability},collector_set_id="
                f"{self.collector_set_id},obs_domain_id={self.obs_domain_id},"
                f"obs_point_id={self.obs_point_id}")
        if self.sampling_port is not None:
            text += f",sampling_port={format_port(self.sampling_port)}"
        if self.direction:
            text += ",ingress" if self.direction == 1 else ",egress"
        return text + ")"


def _decode_sample(buf: Buf, pos: int, end: int, subtype: int) -> Action:
    prob, cset, domain, point = struct.unpack_from("!HIII", buf, pos + 10)
    if subtype == NXAST_SAMPLE:
        return Sample(prob, cset, domain, point)
    port, direction = struct.unpack_from("!HB", buf, pos + 24)
    return Sample(prob, cset, domain, point,
                  None if port == 0xFFFF else port_from_ofp10(port),
                  direction if subtype == NXAST_SAMPLE3 else 0)


for _subtype in (NXAST_SAMPLE, NXAST_SAMPLE2, NXAST_SAMPLE3):
    register_nx(_subtype)(partial(_decode_sample, subtype=_subtype))


@dataclass(frozen=True, slots=True)
class Exit(Action):
    """``exit``."""

    def encode(self) -> bytes:
        """NXAST_EXIT."""
        return nx_action(NXAST_EXIT, b"")

    def __str__(self) -> str:
        return "exit"


register_nx(NXAST_EXIT)(lambda buf, pos, end: Exit())


@dataclass(frozen=True, slots=True)
class CtClear(Action):
    """``ct_clear``."""

    def encode(self) -> bytes:
        """NXAST_CT_CLEAR."""
        return nx_action(NXAST_CT_CLEAR, b"")

    def __str__(self) -> str:
        return "ct_clear"


register_nx(NXAST_CT_CLEAR)(lambda buf, pos, end: CtClear())


@register_nx(NXAST_DEC_TTL_CNT_IDS)
def _decode_dec_ttl_cnt_ids(buf: Buf, pos: int, end: int) -> Action:
    # Only the plain form (one controller id, 0) has a canonical equivalent.
    (n_ids,) = struct.unpack_from("!H", buf, pos + 10)
    ids = struct.unpack_from(f"!{n_ids}H", buf, pos + 16)
    if ids != (0,):
        raise OpenFlowDecodeError(f"dec_ttl with controller ids {ids} is not supported")
    return DecTtl()


@dataclass(frozen=True, slots=True, init=False)
class CheckPktLarger(Action):
    """``check_pkt_larger(PKT_LEN)->DST``: sets a 1-bit ``dst``."""

    pkt_len: int
    dst: Subfield

    def __init__(self, pkt_len: int, dst: Subfield | str) -> None:
        dst = subfield(dst)
        if dst.nbits != 1:
            raise OpenFlowEncodeError(f"check_pkt_larger needs a 1-bit destination, not {dst}")
        object.__setattr__(self, "pkt_len", pkt_len)
        object.__setattr__(self, "dst", dst)

    def encode(self) -> bytes:
        """NXAST_CHECK_PKT_LARGER."""
        return nx_action(NXAST_CHECK_PKT_LARGER, struct.pack("!HH", self.pkt_len, self.dst.ofs)
                         + nxm_header_4(self.dst, "check_pkt_larger"))

    def __str__(self) -> str:
        return f"check_pkt_larger({self.pkt_len})->{self.dst}"


@register_nx(NXAST_CHECK_PKT_LARGER)
def _decode_check_pkt_larger(buf: Buf, pos: int, end: int) -> Action:
    pkt_len, ofs = struct.unpack_from("!HH", buf, pos + 10)
    dst, _ = decode_subfield(buf, pos + 14, ofs << 6)
    return CheckPktLarger(pkt_len, dst)


@dataclass(frozen=True, slots=True, init=False)
class Clone(Action):
    """``clone(ACTIONS)``."""

    actions: tuple[Action, ...]

    def __init__(self, actions: Iterable[Action]) -> None:
        object.__setattr__(self, "actions", tuple(actions))

    def encode(self) -> bytes:
        """NXAST_CLONE followed by the nested actions."""
        nested = encode_actions(self.actions)
        return nx_header(NXAST_CLONE, 16 + len(nested)) + bytes(6) + nested

    def __str__(self) -> str:
        return f"clone({format_actions(self.actions) if self.actions else ''})"


@register_nx(NXAST_CLONE)
def _decode_clone(buf: Buf, pos: int, end: int) -> Action:
    return Clone(decode_actions(buf, pos + 16, end))
