"""Fields and subfields: names, widths, maskability, NXM/OXM code points, bit ranges.

One :class:`Field` per Open vSwitch field that OVN uses (``ovs-fields(7)``).  Names
are Open vSwitch's meta-flow names (``eth_src``, ``reg14``, ``ct_state``); the
aliases ``ovs-ofctl`` accepts (``dl_src``, ``nw_src``, ``ip_proto`` …) map onto them.

A field has up to two code points.  OpenFlow 1.5 messages (matches, set_field,
copy_field) use the OXM one when it exists, as Open vSwitch does; the NXM-only
contexts (learn specs, NX actions' source/destination fields, subfield names in
text) prefer the NXM one.

A :class:`Subfield` is a bit range of a field (``NXM_NX_REG14[0..15]``), as used by
``move``, ``load``, ``output:REG``, ``ct(zone=...)``, ``learn`` and
``check_pkt_larger``.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass, field

from pyovn.openflow.constants import NX_VENDOR_ID
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError

# Classes of the 32-bit NXM/OXM headers.
NXM_OF = 0x0000
NXM_NX = 0x0001
OXM_OF = 0x8000
OXM_PKT_REG = 0x8001
OXM_EXPERIMENTER = 0xFFFF

_CLASS_PREFIX = {NXM_OF: "NXM_OF_", NXM_NX: "NXM_NX_", OXM_OF: "OXM_OF_", OXM_PKT_REG: "OXM_OF_"}

CodePoint = tuple[int, int, int]  # (class, field number, experimenter id or 0)


@dataclass(frozen=True, slots=True)
class Field:
    """One match/action field.

    ``nbits`` is how many low bits a value may use (``ip_dscp`` is a byte of which
    only 6 bits are valid); ``prereq`` names what a match must also contain for
    the field to be matched (see :mod:`pyovn.openflow.match`).
    """

    name: str
    nbytes: int
    nbits: int
    maskable: bool
    prereq: str
    fmt: str
    writable: bool
    oxm: CodePoint | None
    nxm: CodePoint | None
    wire_name: str
    of15_header: bytes = field(repr=False, compare=False)
    of15_header_masked: bytes = field(repr=False, compare=False)
    nxm_header: bytes = field(repr=False, compare=False)
    full_mask: int = field(repr=False, compare=False, default=0)
    """The all-ones mask of this field's valid bits."""


def _header(point: CodePoint, nbytes: int, masked: bool) -> bytes:
    cls, number, experimenter = point
    length = nbytes * (2 if masked else 1)
    if experimenter:
        length += 4
        return struct.pack("!HBBI", cls, number << 1 | masked, length, experimenter)
    return struct.pack("!HBB", cls, number << 1 | masked, length)


def _make(
    name: str,
    nbytes: int,
    maskable: bool,
    prereq: str,
    fmt: str,
    *,
    oxm: CodePoint | None = None,
    nxm: CodePoint | None = None,
    nbits: int | None = None,
    writable: bool = True,
    wire_name: str = "",
) -> Field:
    of15 = oxm or nxm
    nx = nxm or oxm
    assert of15 is not None and nx is not None
    if not wire_name:
        wire_name = _CLASS_PREFIX[nx[0]] + name.upper()
    nbits = nbytes * 8 if nbits is None else nbits
    return Field(
        name=name,
        nbytes=nbytes,
        nbits=nbits,
        maskable=maskable,
        prereq=prereq,
        fmt=fmt,
        writable=writable,
        oxm=oxm,
        nxm=nxm,
        wire_name=wire_name,
        of15_header=_header(of15, nbytes, False),
        of15_header_masked=_header(of15, nbytes, True),
        nxm_header=_header(nx, nbytes, False),
        full_mask=(1 << nbits) - 1,
    )


def _o(number: int) -> CodePoint:
    return (OXM_OF, number, 0)


def _nof(number: int) -> CodePoint:
    return (NXM_OF, number, 0)


def _nnx(number: int) -> CodePoint:
    return (NXM_NX, number, 0)


def _build() -> list[Field]:
    m, n = True, False
    f = [
        _make("dp_hash", 4, m, "none", "hex", writable=False, nxm=_nnx(35),
              oxm=(OXM_EXPERIMENTER, 0, NX_VENDOR_ID), wire_name="NXM_NX_DP_HASH"),
        _make("recirc_id", 4, n, "none", "dec", writable=False, nxm=_nnx(36)),
        _make("conj_id", 4, n, "none", "dec", writable=False, nxm=_nnx(37)),
        _make("packet_type", 4, n, "none", "hex", writable=False, oxm=_o(44)),
        _make("in_port", 2, n, "none", "port16", nxm=_nof(0)),
        _make("in_port_oxm", 4, n, "none", "port", oxm=_o(0), wire_name="OXM_OF_IN_PORT"),
        _make("tun_id", 8, m, "none", "hex", oxm=_o(38), nxm=_nnx(16),
              wire_name="NXM_NX_TUN_ID"),
        _make("tun_src", 4, m, "none", "ipv4", nxm=_nnx(31), wire_name="NXM_NX_TUN_IPV4_SRC"),
        _make("tun_dst", 4, m, "none", "ipv4", nxm=_nnx(32), wire_name="NXM_NX_TUN_IPV4_DST"),
        _make("tun_ipv6_src", 16, m, "none", "ipv6", nxm=_nnx(109)),
        _make("tun_ipv6_dst", 16, m, "none", "ipv6", nxm=_nnx(110)),
        _make("tun_flags", 2, m, "none", "hex", nxm=_nnx(104), nbits=1),
        _make("tun_gbp_id", 2, m, "none", "dec", nxm=_nnx(38)),
        _make("tun_gbp_flags", 1, m, "none", "hex", nxm=_nnx(39)),
        _make("pkt_mark", 4, m, "none", "hex", nxm=_nnx(33)),
        # Open vSwitch keeps ct_state in 8 bits and dumps an exact match with mask 0xff.
        _make("ct_state", 4, m, "none", "ct_state", writable=False, nxm=_nnx(105), nbits=8),
        _make("ct_zone", 2, n, "none", "dec", writable=False, nxm=_nnx(106)),
        _make("ct_mark", 4, m, "none", "hex", nxm=_nnx(107)),
        _make("ct_label", 16, m, "none", "hex", nxm=_nnx(108)),
        _make("ct_nw_proto", 1, n, "ct", "dec", writable=False, nxm=_nnx(119)),
        _make("ct_nw_src", 4, m, "ct", "ipv4", writable=False, nxm=_nnx(120)),
        _make("ct_nw_dst", 4, m, "ct", "ipv4", writable=False, nxm=_nnx(121)),
        _make("ct_ipv6_src", 16, m, "ct", "ipv6", writable=False, nxm=_nnx(122)),
        _make("ct_ipv6_dst", 16, m, "ct", "ipv6", writable=False, nxm=_nnx(123)),
        _make("ct_tp_src", 2, m, "ct_l4", "dec", writable=False, nxm=_nnx(124)),
        _make("ct_tp_dst", 2, m, "ct_l4", "dec", writable=False, nxm=_nnx(125)),
        _make("metadata", 8, m, "none", "hex", oxm=_o(2)),
        _make("eth_src", 6, m, "none", "mac", oxm=_o(4), nxm=_nof(2)),
        _make("eth_dst", 6, m, "none", "mac", oxm=_o(3), nxm=_nof(1)),
        _make("eth_type", 2, n, "none", "hex", writable=False, oxm=_o(5), nxm=_nof(3)),
        _make("vlan_tci", 2, m, "none", "hex", nxm=_nof(4)),
        _make("vlan_vid", 2, m, "none", "dec", oxm=_o(6), nbits=13),
        _make("vlan_pcp", 1, n, "vlan", "dec", oxm=_o(7), nbits=3),
        _make("ip_src", 4, m, "ipv4", "ipv4", oxm=_o(11), nxm=_nof(7)),
        _make("ip_dst", 4, m, "ipv4", "ipv4", oxm=_o(12), nxm=_nof(8)),
        _make("ipv6_src", 16, m, "ipv6", "ipv6", oxm=_o(26), nxm=_nnx(19)),
        _make("ipv6_dst", 16, m, "ipv6", "ipv6", oxm=_o(27), nxm=_nnx(20)),
        _make("ipv6_label", 4, m, "ipv6", "hex", oxm=_o(28), nxm=_nnx(27), nbits=20),
        _make("nw_proto", 1, n, "ip", "dec", writable=False, oxm=_o(10), nxm=_nof(6),
              wire_name="NXM_OF_IP_PROTO"),
        _make("nw_ttl", 1, n, "ip", "dec", nxm=_nnx(29), wire_name="NXM_NX_IP_TTL"),
        _make("ip_frag", 1, m, "ip", "frag", writable=False, nxm=_nnx(26), nbits=2),
        _make("nw_tos", 1, n, "ip", "dec", nxm=_nof(5), wire_name="NXM_OF_IP_TOS"),
        _make("ip_dscp", 1, n, "ip", "dec", oxm=_o(8), nbits=6),
        _make("nw_ecn", 1, n, "ip", "dec", oxm=_o(9), nxm=_nnx(28), nbits=2,
              wire_name="NXM_NX_IP_ECN"),
        _make("arp_op", 2, n, "arp", "dec", oxm=_o(21), nxm=_nof(15)),
        _make("arp_spa", 4, m, "arp", "ipv4", oxm=_o(22), nxm=_nof(16)),
        _make("arp_tpa", 4, m, "arp", "ipv4", oxm=_o(23), nxm=_nof(17)),
        _make("arp_sha", 6, m, "arp", "mac", oxm=_o(24), nxm=_nnx(17)),
        _make("arp_tha", 6, m, "arp", "mac", oxm=_o(25), nxm=_nnx(18)),
        _make("tcp_src", 2, m, "tcp", "dec", oxm=_o(13), nxm=_nof(9)),
        _make("tcp_dst", 2, m, "tcp", "dec", oxm=_o(14), nxm=_nof(10)),
        _make("tcp_flags", 2, m, "tcp", "tcp_flags", writable=False, oxm=_o(42),
              nxm=_nnx(34), nbits=12),
        _make("udp_src", 2, m, "udp", "dec", oxm=_o(15), nxm=_nof(11)),
        _make("udp_dst", 2, m, "udp", "dec", oxm=_o(16), nxm=_nof(12)),
        _make("sctp_src", 2, m, "sctp", "dec", oxm=_o(17)),
        _make("sctp_dst", 2, m, "sctp", "dec", oxm=_o(18)),
        _make("icmp_type", 1, n, "icmpv4", "dec", oxm=_o(19), nxm=_nof(13)),
        _make("icmp_code", 1, n, "icmpv4", "dec", oxm=_o(20), nxm=_nof(14)),
        _make("icmpv6_type", 1, n, "icmpv6", "dec", oxm=_o(29), nxm=_nnx(21)),
        _make("icmpv6_code", 1, n, "icmpv6", "dec", oxm=_o(30), nxm=_nnx(22)),
        _make("nd_target", 16, m, "nd", "ipv6", oxm=_o(31), nxm=_nnx(23)),
        _make("nd_sll", 6, m, "nd_solicit", "mac", oxm=_o(32), nxm=_nnx(24)),
        _make("nd_tll", 6, m, "nd_advert", "mac", oxm=_o(33), nxm=_nnx(25)),
    ]
    for i in range(16):
        f.append(_make(f"reg{i}", 4, m, "none", "hex", nxm=_nnx(i)))
    for i in range(8):
        f.append(_make(f"xreg{i}", 8, m, "none", "hex", oxm=(OXM_PKT_REG, i, 0),
                       wire_name=f"OXM_OF_PKT_REG{i}"))
    for i in range(4):
        f.append(_make(f"xxreg{i}", 16, m, "none", "hex", nxm=_nnx(111 + i)))
    for i in range(64):
        # Widths are configured per switch (TLV map); OVN maps 4-byte options.
        f.append(_make(f"tun_metadata{i}", 4, m, "none", "hex", nxm=_nnx(40 + i)))
    return f


FIELDS: dict[str, Field] = {fl.name: fl for fl in _build()}

ALIASES: dict[str, str] = {
    "dl_src": "eth_src",
    "dl_dst": "eth_dst",
    "dl_type": "eth_type",
    "nw_src": "ip_src",
    "nw_dst": "ip_dst",
    "ipv4_src": "ip_src",
    "ipv4_dst": "ip_dst",
    "ip_proto": "nw_proto",
    "ip_ttl": "nw_ttl",
    "ip_ecn": "nw_ecn",
    "nw_frag": "ip_frag",
    "tunnel_id": "tun_id",
    "icmpv4_type": "icmp_type",
    "icmpv4_code": "icmp_code",
    "nd_target_ip": "nd_target",
}

_BY_WIRE_NAME: dict[str, Field] = {fl.wire_name: fl for fl in FIELDS.values()}
_BY_CODE: dict[CodePoint, Field] = {}
for _fl in FIELDS.values():
    for _point in (_fl.oxm, _fl.nxm):
        if _point is not None:
            _BY_CODE[_point] = _fl


def field_by_name(name: str) -> Field:
    """Return the field called ``name`` (meta-flow name, alias or NXM/OXM name).

    Raises :class:`OpenFlowEncodeError` for an unknown name.
    """
    found = FIELDS.get(name) or FIELDS.get(ALIASES.get(name, "")) or _BY_WIRE_NAME.get(name)
    if found is None:
        raise OpenFlowEncodeError(f"unknown field {name!r}")
    return found


def parse_header(buf: bytes | memoryview, offset: int) -> tuple[Field, bool, int, int]:
    """Decode one NXM/OXM header at ``offset``.

    Returns ``(field, has_mask, payload_length, offset_after_header)``; the payload
    length excludes an experimenter id.  Raises :class:`OpenFlowDecodeError` for a
    truncated header or a field this codec does not know.
    """
    if offset + 4 > len(buf):
        raise OpenFlowDecodeError("truncated NXM/OXM header")
    cls, number_hm, length = struct.unpack_from("!HBB", buf, offset)
    offset += 4
    experimenter = 0
    if cls == OXM_EXPERIMENTER:
        if offset + 4 > len(buf) or length < 4:
            raise OpenFlowDecodeError("truncated experimenter OXM header")
        (experimenter,) = struct.unpack_from("!I", buf, offset)
        offset += 4
        length -= 4
    point = (cls, number_hm >> 1, experimenter)
    fl = _BY_CODE.get(point)
    if fl is None:
        raise OpenFlowDecodeError(
            f"unknown NXM/OXM field class=0x{cls:04x} field={number_hm >> 1}"
            + (f" experimenter=0x{experimenter:08x}" if experimenter else "")
        )
    return fl, bool(number_hm & 1), length, offset


# -- subfields: bit ranges of fields, as in NXM_NX_REG14[0..15] --------------------------

Buf = bytes | memoryview
_SUBFIELD_RE = re.compile(r"^([A-Za-z0-9_]+)(?:\[(\d*)(?:\.\.(\d+))?\])?$")


@dataclass(frozen=True, slots=True)
class Subfield:
    """A bit range of a field, as in ``NXM_NX_REG14[0..15]`` (``ofs``, ``nbits``)."""

    field: str
    ofs: int = 0
    nbits: int = 0  # 0 means "to the end of the field"

    def __post_init__(self) -> None:
        fl = field_by_name(self.field)
        nbits = self.nbits or fl.nbytes * 8 - self.ofs
        if self.ofs < 0 or nbits <= 0 or self.ofs + nbits > fl.nbytes * 8:
            raise OpenFlowEncodeError(
                f"bits {self.ofs}..{self.ofs + nbits - 1} are outside field {fl.name}")
        object.__setattr__(self, "field", fl.name)
        object.__setattr__(self, "nbits", nbits)

    @classmethod
    def parse(cls, text: str) -> Subfield:
        """Parse ``NXM_NX_REG14[0..15]``, ``reg14[3]``, ``reg14[]`` or ``reg14``."""
        return _parse_subfield(text)

    @classmethod
    def _parse_uncached(cls, text: str) -> Subfield:
        m = _SUBFIELD_RE.match(text.strip())
        if m is None:
            raise OpenFlowEncodeError(f"invalid subfield {text!r}")
        name, start, stop = m.groups()
        if not start:
            return cls(name)
        ofs = int(start)
        last = int(stop) if stop is not None else ofs
        if last < ofs:
            raise OpenFlowEncodeError(f"invalid bit range in {text!r}")
        return cls(name, ofs, last - ofs + 1)

    @property
    def meta(self) -> Field:
        """The :class:`Field` this subfield is part of."""
        return field_by_name(self.field)

    @property
    def ofs_nbits(self) -> int:
        """The packed ``ofs << 6 | (nbits - 1)`` form NX actions carry."""
        return self.ofs << 6 | (self.nbits - 1)

    @property
    def mask(self) -> int:
        """The mask of this bit range within the field."""
        return ((1 << self.nbits) - 1) << self.ofs

    def __str__(self) -> str:
        fl = self.meta
        if self.ofs == 0 and self.nbits == fl.nbytes * 8:
            return f"{fl.wire_name}[]"
        if self.nbits == 1:
            return f"{fl.wire_name}[{self.ofs}]"
        return f"{fl.wire_name}[{self.ofs}..{self.ofs + self.nbits - 1}]"


@functools.lru_cache(maxsize=4096)
def _parse_subfield(text: str) -> Subfield:
    # Subfields are immutable, and lflow translation parses the same few texts
    # (NXM_NX_REG13[0..15], ...) over and over.
    return Subfield._parse_uncached(text)


def subfield(value: Subfield | str) -> Subfield:
    """Accept a :class:`Subfield` or its text."""
    return value if isinstance(value, Subfield) else Subfield.parse(value)


def decode_subfield(buf: Buf, pos: int, ofs_nbits: int) -> tuple[Subfield, int]:
    """Decode an NXM header at ``pos`` plus a packed ``ofs_nbits``."""
    fl, _, _, pos = parse_header(buf, pos)
    return Subfield(fl.name, ofs_nbits >> 6, (ofs_nbits & 0x3F) + 1), pos


def nxm_header_4(sf: Subfield, what: str) -> bytes:
    """The 4-byte NXM header of ``sf`` (NX actions have no room for 8-byte ones)."""
    header = sf.meta.nxm_header
    if len(header) != 4:
        raise OpenFlowEncodeError(f"{what} cannot use experimenter field {sf.field}")
    return header
