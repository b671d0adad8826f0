"""OXM/NXM fields: the canonical normal form of a field set and its wire encoding.

:class:`~pyovn.openflow.match.Match` stores a tuple of ``(name, value, mask)``
entries; this module builds that tuple (folding aliases, registers, VLAN and
masks the way Open vSwitch stores a flow) and converts it to and from the
OpenFlow 1.5 ``ofp_match`` TLVs.  The canonical order is the order in which Open
vSwitch writes a match (``nx_put_raw()``), so encoding an entry tuple yields the
switch's own bytes.
"""

from __future__ import annotations

import struct
from typing import Any

from pyovn.openflow.constants import port_from_ofp10
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError
from pyovn.openflow.fields import FIELDS, Field, field_by_name, parse_header
from pyovn.openflow.values import parse_port, parse_value

Entry = tuple[str, int, "int | None"]
MatchValue = Any  # int | str | bytes | tuple[value, mask]

_ORDER = [
    "packet_type", "dp_hash", "recirc_id", "conj_id", "in_port_oxm",
    "eth_src", "eth_dst", "eth_type", "vlan_tci",
    "ip_src", "ip_dst", "ipv6_src", "ipv6_dst", "ip_frag", "ip_dscp", "nw_ecn", "nw_ttl",
    "ipv6_label", "nw_proto", "tcp_src", "tcp_dst", "tcp_flags", "udp_src", "udp_dst",
    "sctp_src", "sctp_dst", "icmp_type", "icmp_code", "icmpv6_type", "icmpv6_code",
    "nd_target", "nd_sll", "nd_tll",
    "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha",
    "tun_id", "tun_flags", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst",
    "tun_gbp_id", "tun_gbp_flags",
    *(f"tun_metadata{i}" for i in range(64)),
    *(f"reg{i}" for i in range(16)),
    "pkt_mark", "ct_state", "ct_zone", "ct_mark", "ct_label",
    "ct_nw_src", "ct_ipv6_src", "ct_nw_dst", "ct_ipv6_dst", "ct_nw_proto",
    "ct_tp_src", "ct_tp_dst", "metadata",
]
RANK: dict[str, int] = {name: i for i, name in enumerate(_ORDER)}
_PLAIN = frozenset(RANK) - {"packet_type"}
_REG_INDEX: dict[str, int] = {f"reg{i}": i for i in range(16)}
_XREGS = [FIELDS[f"xreg{i}"] for i in range(8)]

# ovs-ofctl protocol shorthands: name -> (eth_type, nw_proto or None).
SHORTHANDS: dict[str, tuple[int, int | None]] = {
    "ip": (0x0800, None), "ipv6": (0x86DD, None), "arp": (0x0806, None),
    "rarp": (0x8035, None), "icmp": (0x0800, 1), "icmp6": (0x86DD, 58),
    "tcp": (0x0800, 6), "tcp6": (0x86DD, 6), "udp": (0x0800, 17), "udp6": (0x86DD, 17),
    "sctp": (0x0800, 132), "sctp6": (0x86DD, 132), "igmp": (0x0800, 2),
}
_ETH_IP, _ETH_IPV6, _ETH_ARP, _ETH_RARP = 0x0800, 0x86DD, 0x0806, 0x8035


def merge(acc: dict[str, tuple[int, int]], name: str, value: int, mask: int) -> None:
    old = acc.get(name)
    if old is not None:
        ov, om = old
        if (ov ^ value) & om & mask:
            raise OpenFlowEncodeError(f"conflicting values for match field {name}")
        value, mask = ov | value, om | mask
    acc[name] = (value, mask)


def _checked(fl: Field, raw: MatchValue) -> tuple[int, int]:
    if isinstance(raw, tuple):
        if len(raw) != 2:
            raise OpenFlowEncodeError(f"{fl.name}: expected (value, mask), got {raw!r}")
        value, _ = parse_value(fl, raw[0])
        mask, _ = parse_value(fl, raw[1])
    else:
        value, given = parse_value(fl, raw)
        mask = fl.full_mask if given is None else given
    full = fl.full_mask
    if value < 0 or value > full:
        raise OpenFlowEncodeError(
            f"value 0x{value:x} is wider than field {fl.name} ({fl.nbits} bits)")
    if mask < 0 or mask > full:
        raise OpenFlowEncodeError(f"mask 0x{mask:x} is wider than field {fl.name}")
    if mask != full and mask and not fl.maskable:
        raise OpenFlowEncodeError(f"field {fl.name} cannot be masked")
    return value & mask, mask


def add_field(acc: dict[str, tuple[int, int]], name: str, raw: MatchValue) -> None:
    """Fold one user-given field into ``acc`` (canonical name -> value, full mask)."""
    if type(raw) is int and name in _PLAIN:
        # The common case, kept short: a canonical field given an exact int.
        full = FIELDS[name].full_mask
        if not 0 <= raw <= full:
            raise OpenFlowEncodeError(
                f"value 0x{raw:x} is wider than field {name} ({FIELDS[name].nbits} bits)")
        if name in acc:
            merge(acc, name, raw, full)
        else:
            acc[name] = (raw, full)
        return
    if name in SHORTHANDS:
        if raw is False:
            return
        eth_type, proto = SHORTHANDS[name]
        merge(acc, "eth_type", eth_type, 0xFFFF)
        if proto is not None:
            merge(acc, "nw_proto", proto, 0xFF)
        return
    if name == "in_port":
        port = parse_port(raw) if isinstance(raw, str) else raw
        if not isinstance(port, int) or not 0 <= port <= 0xFFFFFFFF:
            raise OpenFlowEncodeError(f"invalid in_port {raw!r}")
        merge(acc, "in_port_oxm", port, 0xFFFFFFFF)
        return
    if name == "dl_vlan":
        vid, _ = _checked(FIELDS["vlan_vid"], raw)
        merge(acc, "vlan_tci", (vid & 0xFFF) | 0x1000, 0x1FFF)
        return
    if name in ("dl_vlan_pcp", "vlan_pcp"):
        pcp, _ = _checked(FIELDS["vlan_pcp"], raw)
        merge(acc, "vlan_tci", pcp << 13 | 0x1000, 0xF000)
        return
    if name in ("tp_src", "tp_dst", "tp_src_pending"):
        merge(acc, "_" + name, *_checked(FIELDS["tcp_" + name[3:6]], raw))
        return
    fl = field_by_name(name)
    value, mask = _checked(fl, raw)
    canonical = fl.name
    if canonical == "vlan_vid":
        merge(acc, "vlan_tci", value, mask)
    elif canonical == "nw_tos":
        if value & 3:
            raise OpenFlowEncodeError("nw_tos must have its two ECN bits clear")
        merge(acc, "ip_dscp", value >> 2, 0x3F)
    elif canonical == "in_port":
        merge(acc, "in_port_oxm", port_from_ofp10(value), 0xFFFFFFFF)
    elif canonical.startswith("xxreg"):
        base = int(canonical[5:]) * 4
        for i in range(4):
            shift = 96 - 32 * i
            merge(acc, f"reg{base + i}", value >> shift & 0xFFFFFFFF,
                   mask >> shift & 0xFFFFFFFF)
    elif canonical.startswith("xreg"):
        base = int(canonical[4:]) * 2
        merge(acc, f"reg{base}", value >> 32, mask >> 32)
        merge(acc, f"reg{base + 1}", value & 0xFFFFFFFF, mask & 0xFFFFFFFF)
    else:
        merge(acc, canonical, value, mask)


def resolve_ambiguous(acc: dict[str, tuple[int, int]]) -> None:
    """Give ``tp_src``-style and family-dependent names their real field."""
    if "eth_type" not in acc and "_tp_src" not in acc and "_tp_dst" not in acc:
        return
    eth_type = acc.get("eth_type", (None, 0))[0]
    proto = acc.get("nw_proto", (None, 0))[0]
    for generic in ("_tp_src", "_tp_dst"):
        if generic in acc:
            value, mask = acc.pop(generic)
            family = {6: "tcp", 17: "udp", 132: "sctp"}.get(proto or -1)
            if family is None:
                raise OpenFlowEncodeError(f"{generic[1:]} needs tcp, udp or sctp")
            merge(acc, family + generic[3:], value, mask)
    if eth_type == _ETH_IPV6:
        for old, new in (("icmp_type", "icmpv6_type"), ("icmp_code", "icmpv6_code")):
            if old in acc:
                merge(acc, new, *acc.pop(old))
    if eth_type in (_ETH_ARP, _ETH_RARP):
        for old, new in (("ip_src", "arp_spa"), ("ip_dst", "arp_tpa"), ("nw_proto", "arp_op")):
            if old in acc:
                merge(acc, new, *acc.pop(old))


def _normalise_vlan(value: int, mask: int) -> tuple[int, int]:
    vid_mask = mask & 0x1FFF
    vid = value & vid_mask
    if mask & 0xE000:
        if vid:
            return vid | (value & 0xE000) | 0x1000, vid_mask | 0xF000
        if value & 0xE000:
            raise OpenFlowEncodeError("vlan_tci: matching a PCP needs the VLAN present bit")
    return vid, vid_mask


def normalise(acc: dict[str, tuple[int, int]]) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for name, (raw_value, raw_mask) in acc.items():
        value, mask = (_normalise_vlan(raw_value, raw_mask) if name == "vlan_tci"
                       else (raw_value, raw_mask))
        if not mask:
            continue
        full = FIELDS[name].full_mask
        entries.append((name, value & mask, None if mask == full else mask))
    entries.sort(key=lambda e: RANK[e[0]])
    return tuple(entries)


def _header_table() -> dict[int, tuple[str, int, bool, int, int, int]]:
    """32-bit header -> (name, payload size, masked, full mask, rank, kind).

    ``kind`` 0 is a plain field, 1 an xreg (split into two registers); fields that
    need more work (VLAN, nw_tos, 16-bit in_port, xxreg, experimenter) are absent
    and take the general path.
    """
    table: dict[int, tuple[str, int, bool, int, int, int]] = {}
    for fl in FIELDS.values():
        kind = 1 if fl.name.startswith("xreg") else 0
        if fl.name not in RANK and not kind:
            continue
        for point in (fl.oxm, fl.nxm):
            if point is None or point[2]:
                continue
            for masked in (False, True):
                if masked and not fl.maskable:
                    continue
                length = fl.nbytes * (2 if masked else 1)
                header = point[0] << 16 | point[1] << 9 | masked << 8 | length
                rank = RANK["reg0"] if kind else RANK[fl.name]
                table[header] = (fl.name, fl.nbytes, masked, fl.full_mask, rank, kind)
    return table


_HEADERS = _header_table()
_UNPACK_HEADER = struct.Struct("!I").unpack_from
_XREG_SPLIT = [(f"reg{2 * i}", f"reg{2 * i + 1}") for i in range(8)]


def decode_fast(buf: bytes | memoryview, pos: int, end: int) -> tuple[Entry, ...] | None:
    """Decode the common case (known fields in canonical order) straight into
    entries; None sends the caller down the general path."""
    entries: list[Entry] = []
    last_rank = -1
    from_bytes = int.from_bytes
    headers = _HEADERS
    while pos < end:
        if pos + 4 > end:
            return None
        info = headers.get(_UNPACK_HEADER(buf, pos)[0])
        if info is None:
            return None
        name, size, masked, full, rank, kind = info
        pos += 4
        stop = pos + (2 * size if masked else size)
        if stop > end or rank < last_rank or (rank == last_rank and not kind):
            return None
        last_rank = rank
        value = from_bytes(buf[pos:pos + size], "big")
        mask = from_bytes(buf[pos + size:stop], "big") & full if masked else full
        pos = stop
        if kind:
            high, low = _XREG_SPLIT[int(name[4:])]
            for reg, shift in ((high, 32), (low, 0)):
                reg_mask = mask >> shift & 0xFFFFFFFF
                if reg_mask:
                    entries.append((reg, value >> shift & reg_mask,
                                    None if reg_mask == 0xFFFFFFFF else reg_mask))
            continue
        if mask == full:
            entries.append((name, value, None))
        elif mask:
            entries.append((name, value & mask, mask))
    return tuple(entries)


def decode_oxm_fields(buf: bytes | memoryview, pos: int, end: int) -> dict[str, tuple[int, int]]:
    """Decode OXM/NXM TLVs in ``buf[pos:end]`` into canonical ``{name: (value, mask)}``."""
    acc: dict[str, tuple[int, int]] = {}
    while pos < end:
        fl, has_mask, length, pos = parse_header(buf, pos)
        size = length // 2 if has_mask else length
        if pos + length > end or size == 0:
            raise OpenFlowDecodeError(f"bad length for field {fl.name}")
        value = int.from_bytes(buf[pos:pos + size], "big")
        mask = int.from_bytes(buf[pos + size:pos + length], "big") if has_mask else (
            (1 << (size * 8)) - 1)
        pos += length
        name = fl.name
        if name == "packet_type" and value == 0:
            continue  # Ethernet, the default Open vSwitch adds on its own
        if name == "vlan_pcp":
            merge(acc, "vlan_tci", (value & 7) << 13 | 0x1000, 0xF000)
            continue
        if name in ("vlan_vid", "nw_tos", "in_port") or name.startswith(("xreg", "xxreg")):
            add_field(acc, name, (value, mask & fl.full_mask))
            continue
        merge(acc, name, value, mask & fl.full_mask)
    return acc


def encode_match(entries: tuple[Entry, ...]) -> bytes:
    parts: list[bytes] = []
    regs: dict[int, list[int]] = {}
    reg_slot = -1
    for name, value, mask in entries:
        index = _REG_INDEX.get(name)
        if index is not None:
            if reg_slot < 0:
                reg_slot = len(parts)
                parts.append(b"")
            pair = regs.setdefault(index >> 1, [0, 0])
            shift = 0 if index & 1 else 32
            pair[0] |= value << shift
            pair[1] |= (0xFFFFFFFF if mask is None else mask) << shift
            continue
        fl = FIELDS[name]
        if name == "vlan_tci":
            parts.append(_encode_vlan(value, mask))
            continue
        n = fl.nbytes
        if mask is None:
            parts.append(fl.of15_header + value.to_bytes(n, "big"))
        else:
            parts.append(fl.of15_header_masked + value.to_bytes(n, "big")
                         + mask.to_bytes(n, "big"))
    if reg_slot >= 0:
        xparts = []
        for x in sorted(regs):
            value, mask = regs[x]
            fl = _XREGS[x]
            if mask == 0xFFFFFFFFFFFFFFFF:
                xparts.append(fl.of15_header + value.to_bytes(8, "big"))
            else:
                xparts.append(fl.of15_header_masked + value.to_bytes(8, "big")
                              + mask.to_bytes(8, "big"))
        parts[reg_slot] = b"".join(xparts)
    body = b"".join(parts)
    length = 4 + len(body)
    return struct.pack("!HH", 1, length) + body + bytes(-length % 8)


def _encode_vlan(value: int, mask: int | None) -> bytes:
    mask = 0xFFFF if mask is None else mask
    vid_field, pcp_field = FIELDS["vlan_vid"], FIELDS["vlan_pcp"]
    vid_mask = mask & 0x1FFF
    out = b""
    if vid_mask == 0x1FFF:
        out += vid_field.of15_header + (value & 0x1FFF).to_bytes(2, "big")
    elif vid_mask:
        out += vid_field.of15_header_masked + struct.pack("!HH", value & 0x1FFF, vid_mask)
    if value & 0x1FFF and mask & 0xE000:
        out += pcp_field.of15_header + bytes([value >> 13 & 7])
    return out
