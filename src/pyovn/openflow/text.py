"""``ovs-ofctl`` text of a :class:`~pyovn.openflow.match.Match`.

Field order, names and number formats follow Open vSwitch's ``match_format()``, so
``str(flow)`` can be diffed line by line against ``ovs-ofctl --no-stats
dump-flows``.  Used for logs and for comparisons against the real switch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyovn.openflow.values import (
    format_flags,
    format_frag,
    format_ip_masked,
    format_mac,
    format_port,
)

if TYPE_CHECKING:
    from pyovn.openflow.match import Match

Fields = dict[str, tuple[int, "int | None"]]

_IP_SHORT = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 132: "sctp"}
_IPV6_SHORT = {58: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6"}


def _hex(value: int, mask: int | None) -> str:
    """``%#x`` with an optional ``/%#x`` mask (C's ``%#x`` prints 0 as ``0``)."""
    text = f"{value:#x}" if value else "0"
    if mask is not None:
        text += f"/{mask:#x}" if mask else "/0"
    return text


def _dec_or_hex(value: int, mask: int | None) -> str:
    """Decimal when exact, ``0x%x/0x%x`` when masked (format_be16_masked)."""
    return str(value) if mask is None else f"0x{value:x}/0x{mask:x}"


def _minimal_hex(value: int, mask: int | None) -> str:
    """Open vSwitch's ``ds_put_hex``: ``0x`` plus the value without leading zeros."""
    text = f"0x{value:x}"
    if mask is not None:
        text += f"/0x{mask:x}"
    return text


def _mac(value: int, mask: int | None) -> str:
    text = format_mac(value)
    return text if mask is None else f"{text}/{format_mac(mask)}"


def _put(out: list[str], fields: Fields, name: str, label: str, fmt: str) -> None:
    item = fields.get(name)
    if item is None:
        return
    value, mask = item
    if fmt == "hex":
        text = _hex(value, mask)
    elif fmt == "dec":
        text = _dec_or_hex(value, mask)
    elif fmt == "ipv4":
        text = format_ip_masked(value, mask, 4)
    elif fmt == "ipv6":
        text = format_ip_masked(value, mask, 6)
    elif fmt == "mac":
        text = _mac(value, mask)
    else:
        text = _minimal_hex(value, mask)
    out.append(f"{label}={text}")


def _vlan(out: list[str], fields: Fields) -> None:
    item = fields.get("vlan_tci")
    if item is None:
        return
    value, mask = item
    mask = 0xFFFF if mask is None else mask
    vid_mask, pcp_mask, cfi = mask & 0x0FFF, mask & 0xE000, mask & 0x1000
    if (cfi and value & 0x1000 and vid_mask in (0, 0x0FFF) and pcp_mask in (0, 0xE000)
            and (vid_mask or pcp_mask)):
        if vid_mask:
            out.append(f"dl_vlan={value & 0x0FFF}")
        if pcp_mask:
            out.append(f"dl_vlan_pcp={value >> 13}")
    elif mask == 0xFFFF:
        out.append(f"vlan_tci=0x{value:04x}")
    else:
        out.append(f"vlan_tci=0x{value:04x}/0x{mask:04x}")


def format_match(match: Match) -> str:
    """The ``ovs-ofctl`` text of ``match`` (no priority), e.g. ``ip,reg14=0x1``."""
    f: Fields = match.as_dict()
    out: list[str] = []
    for name in ("pkt_mark", "recirc_id", "dp_hash"):
        _put(out, f, name, name, "hex")
    if "conj_id" in f:
        out.append(f"conj_id={f['conj_id'][0]}")
    if "ct_state" in f:
        out.append("ct_state=" + format_flags("ct_state", *f["ct_state"]))
    _put(out, f, "ct_zone", "ct_zone", "dec")
    _put(out, f, "ct_mark", "ct_mark", "hex")
    _put(out, f, "ct_label", "ct_label", "minimal")
    _put(out, f, "ct_nw_src", "ct_nw_src", "ipv4")
    _put(out, f, "ct_ipv6_src", "ct_ipv6_src", "ipv6")
    _put(out, f, "ct_nw_dst", "ct_nw_dst", "ipv4")
    _put(out, f, "ct_ipv6_dst", "ct_ipv6_dst", "ipv6")
    if "ct_nw_proto" in f:
        out.append(f"ct_nw_proto={f['ct_nw_proto'][0]}")
        _put(out, f, "ct_tp_src", "ct_tp_src", "dec")
        _put(out, f, "ct_tp_dst", "ct_tp_dst", "dec")

    eth_type = f["eth_type"][0] if "eth_type" in f else None
    proto = f["nw_proto"][0] if "nw_proto" in f else None
    skip_type = skip_proto = False
    if eth_type in (0x0800, 0x86DD):
        table = _IP_SHORT if eth_type == 0x0800 else _IPV6_SHORT
        short = table.get(proto) if proto is not None else None
        skip_proto = short is not None
        out.append(short or ("ip" if eth_type == 0x0800 else "ipv6"))
        skip_type = True
    elif eth_type in (0x0806, 0x8035):
        out.append("arp" if eth_type == 0x0806 else "rarp")
        skip_type = True

    for i in range(16):
        _put(out, f, f"reg{i}", f"reg{i}", "hex")
    _put(out, f, "tun_id", "tun_id", "hex")
    _put(out, f, "tun_src", "tun_src", "ipv4")
    _put(out, f, "tun_dst", "tun_dst", "ipv4")
    _put(out, f, "tun_ipv6_src", "tun_ipv6_src", "ipv6")
    _put(out, f, "tun_ipv6_dst", "tun_ipv6_dst", "ipv6")
    _put(out, f, "tun_gbp_id", "tun_gbp_id", "dec")
    if "tun_gbp_flags" in f:
        out.append(f"tun_gbp_flags={_hex(f['tun_gbp_flags'][0], None)}")
    for i in range(64):
        _put(out, f, f"tun_metadata{i}", f"tun_metadata{i}", "minimal")
    _put(out, f, "metadata", "metadata", "hex")
    if "in_port_oxm" in f:
        out.append(f"in_port={format_port(f['in_port_oxm'][0])}")
    _vlan(out, f)
    _put(out, f, "eth_src", "dl_src", "mac")
    _put(out, f, "eth_dst", "dl_dst", "mac")
    if not skip_type and eth_type is not None:
        out.append(f"dl_type=0x{eth_type:04x}")
    if eth_type == 0x86DD:
        _put(out, f, "ipv6_src", "ipv6_src", "ipv6")
        _put(out, f, "ipv6_dst", "ipv6_dst", "ipv6")
        if "ipv6_label" in f:
            value, mask = f["ipv6_label"]
            text = f"0x{value:05x}" + ("" if mask is None else f"/0x{mask:05x}")
            out.append(f"ipv6_label={text}")
    elif eth_type in (0x0806, 0x8035):
        _put(out, f, "arp_spa", "arp_spa", "ipv4")
        _put(out, f, "arp_tpa", "arp_tpa", "ipv4")
        if "arp_op" in f:
            out.append(f"arp_op={f['arp_op'][0]}")
        _put(out, f, "arp_sha", "arp_sha", "mac")
        _put(out, f, "arp_tha", "arp_tha", "mac")
    else:
        _put(out, f, "ip_src", "nw_src", "ipv4")
        _put(out, f, "ip_dst", "nw_dst", "ipv4")
    if not skip_proto and proto is not None:
        out.append(f"nw_proto={proto}")
    if "ip_dscp" in f:
        out.append(f"nw_tos={f['ip_dscp'][0] << 2}")
    if "nw_ecn" in f:
        out.append(f"nw_ecn={f['nw_ecn'][0]}")
    if "nw_ttl" in f:
        out.append(f"nw_ttl={f['nw_ttl'][0]}")
    if "ip_frag" in f:
        out.append("nw_frag=" + format_frag(*f["ip_frag"]))
    if eth_type == 0x0800 and proto == 1:
        _put(out, f, "icmp_type", "icmp_type", "dec")
        _put(out, f, "icmp_code", "icmp_code", "dec")
    elif eth_type == 0x86DD and proto == 58:
        _put(out, f, "icmpv6_type", "icmp_type", "dec")
        _put(out, f, "icmpv6_code", "icmp_code", "dec")
        _put(out, f, "nd_target", "nd_target", "ipv6")
        _put(out, f, "nd_sll", "nd_sll", "mac")
        _put(out, f, "nd_tll", "nd_tll", "mac")
    else:
        for family in ("tcp", "udp", "sctp"):
            _put(out, f, f"{family}_src", "tp_src", "dec")
            _put(out, f, f"{family}_dst", "tp_dst", "dec")
    if "tcp_flags" in f:
        out.append("tcp_flags=" + format_flags("tcp_flags", *f["tcp_flags"]))
    return ",".join(out)
