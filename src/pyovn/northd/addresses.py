"""Parsing of Logical_Switch_Port ``addresses`` / ``port_security`` strings, as OVN does.

OVN's ``extract_lsp_addresses`` (lib/ovn-util.c) reads "MAC [IP[/PLEN] …]": the MAC is
required; then IPv4 and IPv6 addresses, each optionally with a prefix length or a
mask, separated by blanks. Parsing stops at the first token that is neither, and the
rest is ignored (OVN only logs it). These functions give the same results as
:class:`~pyovn.northd.model.LportAddresses`, with OVN's textual forms (``%02x`` MACs,
``inet_ntop`` IPv6).
"""

from __future__ import annotations

import ipaddress
import re

from pyovn.northd.model import Ipv4NetAddr, Ipv6NetAddr, LportAddresses

__all__ = [
    "extract_lsp_addresses",
    "ipv6_netaddr",
    "is_dynamic_lsp_address",
    "ntop6",
    "parse_mac",
    "split_addresses",
]

# scanf's %hhx: blanks, then hex digits whose value is taken modulo 256.
_MAC_RE = re.compile(r"\s*([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+):"
                     r"([0-9a-fA-F]+):([0-9a-fA-F]+)")
_IPV4_RE = re.compile(r"\s*(\d+)\.(\d+)\.(\d+)\.(\d+)(?:/(?:(\d+)\.(\d+)\.(\d+)\.(\d+)|(-?\d+)))?")
# After the address OVN tries "/%d" first, then "/MASK".
_IPV6_RE = re.compile(r"\s*([0-9a-fA-F:.]{1,46})(?:/(?:(-?\d+)(?![0-9a-fA-F:.])|"
                      r"([0-9a-fA-F:.]{1,46})))?")
_IPV4_ONLY = re.compile(r"\d+\.\d+\.\d+\.\d+\Z")


def parse_mac(text: str, pos: int = 0) -> tuple[str, int] | None:
    """The MAC at ``text[pos:]`` in OVN's canonical form and the offset after it."""
    m = _MAC_RE.match(text, pos)
    if m is None:
        return None
    return ":".join(f"{int(g, 16) & 0xff:02x}" for g in m.groups()), m.end()


def _ipv4_at(text: str, pos: int) -> tuple[Ipv4NetAddr, int] | None:
    m = _IPV4_RE.match(text, pos)
    if m is None:
        return None
    addr = int.from_bytes(bytes(int(g) & 0xff for g in m.group(1, 2, 3, 4)), "big")
    if m.group(5) is not None:
        mask = int.from_bytes(bytes(int(g) & 0xff for g in m.group(5, 6, 7, 8)), "big")
        inv = ~mask & 0xffffffff
        if inv & (inv + 1):          # not a CIDR mask
            return None
        plen = 32 - inv.bit_length()
    elif m.group(9) is not None:
        plen = int(m.group(9))
        if not 0 <= plen <= 32:
            return None
    else:
        plen = 32
    mask = (0xffffffff << (32 - plen)) & 0xffffffff
    net, bcast = addr & mask, addr | (~mask & 0xffffffff)
    return Ipv4NetAddr(str(ipaddress.IPv4Address(addr)), plen,
                       str(ipaddress.IPv4Address(mask)), str(ipaddress.IPv4Address(net)),
                       str(ipaddress.IPv4Address(bcast))), m.end()


def _ipv6_at(text: str, pos: int) -> tuple[Ipv6NetAddr, int] | None:
    m = _IPV6_RE.match(text, pos)
    if m is None:
        return None
    try:
        addr = ipaddress.IPv6Address(m.group(1))
    except ValueError:
        return None
    if m.group(2) is not None:
        plen = int(m.group(2))
        if not 0 <= plen <= 128:
            return None
    elif m.group(3) is not None:
        try:
            mask_int = int(ipaddress.IPv6Address(m.group(3)))
        except ValueError:
            return None
        inv = ~mask_int & ((1 << 128) - 1)
        if inv & (inv + 1):
            return None
        plen = 128 - inv.bit_length()
    else:
        plen = 128
    return ipv6_netaddr(addr, plen), m.end()


def ipv6_netaddr(addr: ipaddress.IPv6Address, plen: int) -> Ipv6NetAddr:
    """The :class:`Ipv6NetAddr` of ``addr/plen`` (OVN's ``add_ipv6_netaddr``)."""
    full = (1 << 128) - 1
    mask = (full << (128 - plen)) & full
    network = int(addr) & mask
    sn_addr = ipaddress.IPv6Address((0xff02 << 112) | (1 << 32) | (0xff << 24)
                                    | (int(addr) & 0xffffff))
    return Ipv6NetAddr(ntop6(addr), plen, ntop6(ipaddress.IPv6Address(mask)),
                       ntop6(ipaddress.IPv6Address(network)), ntop6(sn_addr),
                       addr in _LLA_NET)


def ntop6(addr: ipaddress.IPv6Address) -> str:
    """``addr`` as glibc's ``inet_ntop`` writes it: Python writes the same text except
    where glibc ends in a dotted quad (IPv4-mapped and -compatible addresses)."""
    value = int(addr)
    words = [(value >> (112 - 16 * i)) & 0xffff for i in range(8)]
    best_base, best_len, base, length = -1, 0, -1, 0
    for i, word in enumerate(words):
        if word == 0:
            if base < 0:
                base, length = i, 0
            length += 1
            if length > best_len:
                best_base, best_len = base, length
        else:
            base = -1
    if best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xffff)):
        head = "::ffff:" if best_len == 5 else "::"
        return head + str(ipaddress.IPv4Address(value & 0xffffffff))
    return str(addr)


_LLA_NET = ipaddress.IPv6Network("fe80::/10")


def extract_lsp_addresses(address: str) -> tuple[LportAddresses | None, bool]:
    """Parse one ``addresses``/``port_security`` entry.

    Returns (addresses, clean): addresses is None when no MAC starts the entry (OVN
    drops the entry); ``clean`` is False when text after the recognised part was
    ignored (OVN logs "invalid syntax" and keeps what it parsed).
    """
    mac = parse_mac(address)
    if mac is None:
        return None, False
    ea_s, pos = mac
    ipv4: list[Ipv4NetAddr] = []
    ipv6: list[Ipv6NetAddr] = []
    end = len(address)
    while pos < end:
        # An IPv4-looking token is never retried as IPv6 (OVN tries IPv4 first and the
        # IPv6 scan set would swallow the dots).
        got4 = _ipv4_at(address, pos)
        if got4 is not None:
            ipv4.append(got4[0])
            pos = got4[1]
            continue
        got6 = _ipv6_at(address, pos)
        if got6 is None or _IPV4_ONLY.match(address[pos:got6[1]].strip()):
            break
        ipv6.append(got6[0])
        pos = got6[1]
    clean = not address[pos:].strip() if pos < end else True
    return LportAddresses(ea_s, tuple(ipv4), tuple(ipv6)), clean


_DYN_RE = re.compile(r"dynamic(?: (?P<rest>.+))?\Z")


def is_dynamic_lsp_address(address: str) -> bool:
    """True for "dynamic", "dynamic IP", "dynamic IP IP6", "dynamic IP6", "MAC dynamic"."""
    if address == "dynamic":
        return True
    m = _DYN_RE.match(address)
    if m is not None:
        parts = (m.group("rest") or "").split(" ")
        if not 1 <= len(parts) <= 2:
            return False
        try:
            kinds = [ipaddress.ip_address(p).version for p in parts]
        except ValueError:
            return False
        return kinds in ([4], [6], [4, 6])
    if address.endswith(" dynamic"):
        mac = parse_mac(address)
        return mac is not None and address[mac[1]:] == " dynamic"
    return False


def split_addresses(address: str) -> tuple[list[str], list[str]]:
    """The IPv4 and IPv6 address strings of one entry (OVN's ``split_addresses``)."""
    parsed, _ = extract_lsp_addresses(address)
    if parsed is None:
        return [], []
    return [a.addr_s for a in parsed.ipv4_addrs], [a.addr_s for a in parsed.ipv6_addrs]
