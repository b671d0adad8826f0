"""The canonical :class:`Match`: a frozen, hashable set of (field, value, mask).

Canonical means: whatever order the fields were given in, whatever spelling
(``dl_src`` / ``eth_src``, ``xreg7`` / ``reg14`` + ``reg15``, ``vlan_vid`` /
``vlan_tci``), and whether it was built here or decoded from the switch's flow
dump, two matches on the same packets compare equal and hash alike.  To get there
the constructor normalises as Open vSwitch does when it stores a flow:

- exact masks are dropped (``mask is None`` means exact), zero masks drop the
  field, and ``value &= mask``;
- 32-bit registers are the unit (OpenFlow 1.5 dumps them as 64-bit ``xreg``);
- the VLAN is kept as ``vlan_tci`` reduced to what OXM ``vlan_vid``/``vlan_pcp``
  can say (so ``vlan_tci=0`` becomes ``0x0000/0x1fff``, as in ``ovs-ofctl``);
- ``nw_tos`` becomes ``ip_dscp``; ``in_port`` is the 32-bit OpenFlow 1.1+ number.

Construction validates (unknown field, mask on an unmaskable field, value wider
than the field, missing prerequisite) and raises :class:`OpenFlowEncodeError`;
decoding from the switch does not re-check prerequisites.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping

from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError
from pyovn.openflow.fields import FIELDS, field_by_name
from pyovn.openflow.oxm import (
    RANK,
    SHORTHANDS,
    Entry,
    MatchValue,
    add_field,
    decode_fast,
    decode_oxm_fields,
    encode_match,
    normalise,
    resolve_ambiguous,
)

__all__ = ["Match", "decode_oxm_fields"]

_NO_PREREQ = frozenset(name for name in RANK if FIELDS[name].prereq == "none")
_ETH_IP, _ETH_IPV6, _ETH_ARP, _ETH_RARP = 0x0800, 0x86DD, 0x0806, 0x8035
_CT_VALID_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80  # new est rel rpl snat dnat

_PREREQ_TEXT = {
    "ipv4": "ip (eth_type=0x0800)",
    "ipv6": "ipv6 (eth_type=0x86dd)",
    "ip": "ip or ipv6",
    "arp": "arp (eth_type=0x0806)",
    "tcp": "tcp",
    "udp": "udp",
    "sctp": "sctp",
    "icmpv4": "icmp",
    "icmpv6": "icmp6",
    "nd": "icmp6 with icmp_type=135 or 136 and icmp_code=0",
    "nd_solicit": "icmp6,icmp_type=135,icmp_code=0",
    "nd_advert": "icmp6,icmp_type=136,icmp_code=0",
    "ct": "ip or ipv6 and a valid ct_state (e.g. +trk+est or +trk-inv)",
    "ct_l4": "ip or ipv6, a valid ct_state and ct_nw_proto",
}


#: Prerequisites naming a transport header that later fragments do not have.
_L4_HEADER = frozenset({"tcp", "udp", "sctp"})


def _ct_valid(ct_state: tuple[int, int | None] | None) -> bool:
    """Open vSwitch's is_ct_valid(): a state bit that implies a valid entry, or
    +trk with an explicit -inv."""
    if ct_state is None:
        return False
    value, mask = ct_state
    mask = 0xFF if mask is None else mask
    return bool(value & _CT_VALID_BITS) or bool(value & 0x20 and mask & 0x10
                                                and not value & 0x10)


def _check_prereqs(entries: tuple[Entry, ...]) -> None:
    if all(e[0] in _NO_PREREQ for e in entries):
        return
    exact = {name: value for name, value, mask in entries if mask is None}
    ct_state = next(((v, m) for n, v, m in entries if n == "ct_state"), None)
    eth_type = exact.get("eth_type")
    proto = exact.get("nw_proto")
    is_ip = eth_type in (_ETH_IP, _ETH_IPV6)
    icmp6 = eth_type == _ETH_IPV6 and proto == 58
    nd_type = exact.get("icmpv6_type") if icmp6 and exact.get("icmpv6_code") == 0 else None
    satisfied = {
        "none": True,
        "vlan": True,
        "ipv4": eth_type == _ETH_IP,
        "ipv6": eth_type == _ETH_IPV6,
        "ip": is_ip,
        "arp": eth_type in (_ETH_ARP, _ETH_RARP),
        "tcp": is_ip and proto == 6,
        "udp": is_ip and proto == 17,
        "sctp": is_ip and proto == 132,
        "icmpv4": eth_type == _ETH_IP and proto == 1,
        "icmpv6": icmp6,
        "nd": nd_type in (135, 136),
        "nd_solicit": nd_type == 135,
        "nd_advert": nd_type == 136,
        "ct": is_ip and _ct_valid(ct_state),
        # Open vSwitch silently drops ct_tp_* from a match without ct_nw_proto.
        "ct_l4": is_ip and _ct_valid(ct_state) and "ct_nw_proto" in exact,
    }
    frag = next(((v, m) for n, v, m in entries if n == "ip_frag"), None)
    # Later fragments carry no TCP/UDP/SCTP header: Open vSwitch refuses those fields
    # there (OFPBMC_BAD_PREREQ); ICMP fields it accepts.
    later = frag is not None and bool(frag[0] & (0x3 if frag[1] is None else frag[1]) & 0x2)
    for name, _, _ in entries:
        prereq = FIELDS[name].prereq
        if later and prereq in _L4_HEADER:
            raise OpenFlowEncodeError(f"match field {name} cannot be matched on later "
                                      "fragments (nw_frag=later): they have no L4 header")
        if not satisfied[prereq]:
            raise OpenFlowEncodeError(f"match field {name} requires {_PREREQ_TEXT[prereq]}")


# A chassis's matches repeat the same few thousand (field, value, mask) entries
# (metadata=dp, reg15=port, eth_type…) tens of thousands of times; they are immutable,
# so equal ones are shared.  Bounded; a miss only costs sharing.
_ENTRIES: dict[Entry, Entry] = {}
_ENTRIES_LIMIT = 65536


def _intern_entries(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
    table = _ENTRIES
    if len(table) >= _ENTRIES_LIMIT:
        table.clear()
    return tuple([table.setdefault(e, e) for e in entries])


class Match:
    """A canonical OpenFlow match (immutable, hashable, cheap to compare).

    Build it from keyword arguments or a mapping, using meta-flow names or the
    ``ovs-ofctl`` aliases; a value is an int, bytes, text (``"10.0.0.0/8"``,
    ``"+trk-inv"``, ``"LOCAL"``) or a ``(value, mask)`` tuple::

        Match(metadata=1, reg14=5, eth_src="00:00:00:00:00:01", ip=True,
              ip_dst=("10.0.0.0", "255.0.0.0"))

    Iterating yields ``(name, value, mask)`` in canonical order (``mask`` is None for
    an exact match).
    """

    __slots__ = ("_entries", "_hash", "_wire")

    _entries: tuple[Entry, ...]
    _hash: int
    _wire: bytes | None

    def __init__(self, fields: Mapping[str, MatchValue] | Iterable[tuple[str, MatchValue]]
                 | None = None, /, **kwargs: MatchValue) -> None:
        acc: dict[str, tuple[int, int]] = {}
        items: Iterable[tuple[str, MatchValue]]
        if fields is None:
            items = ()
        elif isinstance(fields, Mapping):
            items = fields.items()
        else:
            items = fields
        for name, raw in (*items, *kwargs.items()):
            add_field(acc, name, raw)
        resolve_ambiguous(acc)
        entries = normalise(acc)
        _check_prereqs(entries)
        self._init(entries)

    def _init(self, entries: tuple[Entry, ...]) -> None:
        setter = object.__setattr__
        setter(self, "_entries", _intern_entries(entries))
        setter(self, "_hash", hash(entries))
        setter(self, "_wire", None)

    @classmethod
    def _trusted(cls, acc: dict[str, tuple[int, int]]) -> Match:
        """Build from already-canonical names without prerequisite checks."""
        match = cls.__new__(cls)
        match._init(normalise(acc))
        return match

    # -- value-object protocol ---------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return self._hash == other._hash and self._entries == other._entries

    def __hash__(self) -> int:
        return self._hash

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return any(e[0] == name for e in self._entries)

    def __repr__(self) -> str:
        return f"Match({self})"

    def __str__(self) -> str:
        from pyovn.openflow.text import format_match

        return format_match(self)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Match is immutable")

    def get(self, name: str) -> tuple[int, int | None] | None:
        """Return ``(value, mask)`` of field ``name`` (canonical name), or None."""
        for n, value, mask in self._entries:
            if n == name:
                return value, mask
        return None

    def as_dict(self) -> dict[str, tuple[int, int | None]]:
        """All fields as ``{name: (value, mask)}`` in canonical order."""
        return {n: (v, m) for n, v, m in self._entries}

    def replace(self, **kwargs: MatchValue) -> Match:
        """A new match with the given fields set, replacing fields of the same name."""
        replaced = set()
        for name in kwargs:
            if name == "in_port":
                replaced.add("in_port_oxm")
            elif name not in SHORTHANDS:
                replaced.add(field_by_name(name).name)
        base = [("in_port" if n == "in_port_oxm" else n, v if m is None else (v, m))
                for n, v, m in self._entries if n not in replaced]
        return Match([*base, *kwargs.items()])

    def without(self, *names: str) -> Match:
        """A copy without the fields with these canonical names."""
        match = Match.__new__(Match)
        match._init(tuple(e for e in self._entries if e[0] not in names))
        return match

    # -- wire ----------------------------------------------------------------------
    def encode(self) -> bytes:
        """The OpenFlow 1.5 ``ofp_match`` (OXM, padded to 8 bytes); cached."""
        wire = self._wire
        if wire is None:
            wire = encode_match(self._entries)
            object.__setattr__(self, "_wire", wire)
        return wire

    @classmethod
    def decode(cls, buf: bytes | memoryview, offset: int = 0) -> tuple[Match, int]:
        """Decode an ``ofp_match`` at ``offset``; return it and the offset after it."""
        if offset + 4 > len(buf):
            raise OpenFlowDecodeError("truncated ofp_match")
        mtype, length = struct.unpack_from("!HH", buf, offset)
        if mtype != 1:
            raise OpenFlowDecodeError(f"unsupported match type {mtype} (only OXM)")
        end = offset + length
        if length < 4 or end > len(buf):
            raise OpenFlowDecodeError("bad ofp_match length")
        entries = decode_fast(buf, offset + 4, end)
        if entries is None:
            match = cls._trusted(decode_oxm_fields(buf, offset + 4, end))
        else:
            match = cls.__new__(cls)
            match._init(entries)
        return match, offset + (length + 7) // 8 * 8

