"""Connection tracking actions: ``ct(...)`` and its ``nat(...)`` sub-action."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from pyovn.openflow.actions import (
    Action,
    Buf,
    Subfield,
    decode_actions,
    decode_subfield,
    encode_actions,
    format_actions,
    nx_action,
    nx_header,
    nxm_header_4,
    register_nx,
)
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError

NXAST_CT = 35
NXAST_NAT = 36

CT_COMMIT = 1
CT_FORCE = 2
NAT_SRC, NAT_DST, NAT_PERSISTENT, NAT_HASH, NAT_RANDOM = 1, 2, 4, 8, 16
_RANGE_IPV4_MIN, _RANGE_IPV4_MAX, _RANGE_IPV6_MIN, _RANGE_IPV6_MAX = 1, 2, 4, 8
_RANGE_PROTO_MIN, _RANGE_PROTO_MAX = 16, 32

ALG_NAMES = {21: "ftp", 69: "tftp"}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(value: IPAddress | str | None) -> IPAddress | None:
    if value is None or isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    try:
        return ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        raise OpenFlowEncodeError(f"invalid NAT address {value!r}") from None


@dataclass(frozen=True, slots=True, init=False)
class Nat(Action):
    """``nat``, ``nat(src=IP[-IP][:PORT[-PORT]],persistent,hash,random)`` or ``dst``.

    ``kind`` is ``"src"``, ``"dst"`` or None (plain ``nat``: undo/continue NAT).
    A range end equal to its start is dropped, as Open vSwitch does.
    """

    kind: str | None
    ip_min: IPAddress | None
    ip_max: IPAddress | None
    port_min: int | None
    port_max: int | None
    persistent: bool
    hash: bool
    random: bool

    def __init__(self, kind: str | None = None, ip_min: IPAddress | str | None = None,
                 ip_max: IPAddress | str | None = None, port_min: int | None = None,
                 port_max: int | None = None, persistent: bool = False, hash: bool = False,
                 random: bool = False) -> None:
        if kind not in (None, "src", "dst"):
            raise OpenFlowEncodeError(f"nat kind must be src or dst, not {kind!r}")
        low, high = _address(ip_min), _address(ip_max)
        if high is not None and (low is None or high.version != low.version):
            raise OpenFlowEncodeError("nat address range needs two addresses of one family")
        if kind is None and (low or port_min or persistent or hash or random):
            raise OpenFlowEncodeError("nat arguments need src or dst")
        if hash and random:
            raise OpenFlowEncodeError("nat: hash and random are exclusive")
        port_min = port_min or None
        setter = object.__setattr__
        setter(self, "kind", kind)
        setter(self, "ip_min", low)
        setter(self, "ip_max", None if high == low else high)
        setter(self, "port_min", port_min)
        setter(self, "port_max", None if port_max in (0, port_min) else port_max)
        setter(self, "persistent", persistent)
        setter(self, "hash", hash)
        setter(self, "random", random)

    def encode(self) -> bytes:
        """NXAST_NAT."""
        flags = {"src": NAT_SRC, "dst": NAT_DST, None: 0}[self.kind]
        flags |= (NAT_PERSISTENT * self.persistent | NAT_HASH * self.hash
                  | NAT_RANDOM * self.random)
        present = 0
        ranges = b""
        for addr, bit4, bit6 in ((self.ip_min, _RANGE_IPV4_MIN, _RANGE_IPV6_MIN),
                                 (self.ip_max, _RANGE_IPV4_MAX, _RANGE_IPV6_MAX)):
            if addr is not None:
                present |= bit4 if addr.version == 4 else bit6
                ranges += addr.packed
        for port, bit in ((self.port_min, _RANGE_PROTO_MIN), (self.port_max, _RANGE_PROTO_MAX)):
            if port:
                present |= bit
                ranges += struct.pack("!H", port)
        return nx_action(NXAST_NAT, struct.pack("!2xHH", flags, present) + ranges)

    def __str__(self) -> str:
        if self.kind is None:
            return "nat"
        text = f"nat({self.kind}"
        if self.ip_min is not None:
            bracket = self.ip_min.version == 6 and self.port_min
            text += "=" + (f"[{self.ip_min}]" if bracket else str(self.ip_min))
            if self.ip_max is not None:
                text += "-" + (f"[{self.ip_max}]" if bracket else str(self.ip_max))
            if self.port_min:
                text += f":{self.port_min}"
                if self.port_max:
                    text += f"-{self.port_max}"
        for flag in ("persistent", "hash", "random"):
            if getattr(self, flag):
                text += "," + flag
        return text + ")"


@register_nx(NXAST_NAT)
def _decode_nat(buf: Buf, pos: int, end: int) -> Action:
    flags, present = struct.unpack_from("!HH", buf, pos + 12)
    p = pos + 16
    values: list[IPAddress | None] = [None, None]
    for i, (bit4, bit6) in enumerate(((_RANGE_IPV4_MIN, _RANGE_IPV6_MIN),
                                      (_RANGE_IPV4_MAX, _RANGE_IPV6_MAX))):
        if present & bit4:
            values[i] = ipaddress.IPv4Address(bytes(buf[p:p + 4]))
            p += 4
        elif present & bit6:
            values[i] = ipaddress.IPv6Address(bytes(buf[p:p + 16]))
            p += 16
    ports: list[int | None] = [None, None]
    for i, bit in enumerate((_RANGE_PROTO_MIN, _RANGE_PROTO_MAX)):
        if present & bit:
            (ports[i],) = struct.unpack_from("!H", buf, p)
            p += 2
    if p > end:
        raise OpenFlowDecodeError("truncated NXAST_NAT")
    kind = "src" if flags & NAT_SRC else "dst" if flags & NAT_DST else None
    return Nat(kind, values[0], values[1], ports[0], ports[1], bool(flags & NAT_PERSISTENT),
               bool(flags & NAT_HASH), bool(flags & NAT_RANDOM))


@dataclass(frozen=True, slots=True, init=False)
class Ct(Action):
    """``ct(commit,force,table=N,zone=N|SUBFIELD,nat(...),exec(...),alg=N)``.

    ``zone`` is an immediate int or a 16-bit :class:`Subfield` (text accepted);
    ``table`` None means no recirculation; ``exec`` holds the set_field actions.
    """

    commit: bool
    force: bool
    table: int | None
    zone: int | Subfield
    nat: Nat | None
    exec: tuple[Action, ...]
    alg: int

    def __init__(self, commit: bool = False, force: bool = False, table: int | None = None,
                 zone: int | Subfield | str = 0, nat: Nat | None = None,
                 exec: Iterable[Action] = (), alg: int = 0) -> None:
        exec = tuple(exec)
        if isinstance(zone, str):
            zone = int(zone, 0) if zone[:1].isdigit() else Subfield.parse(zone)
        if isinstance(zone, Subfield) and zone.nbits != 16:
            raise OpenFlowEncodeError(f"ct zone subfield must be 16 bits, not {zone}")
        if isinstance(zone, int) and not 0 <= zone <= 0xFFFF:
            raise OpenFlowEncodeError(f"ct zone {zone} out of range")
        if table is not None and not 0 <= table <= 254:
            raise OpenFlowEncodeError(f"ct table {table} out of range")
        if (exec or nat is not None and nat.kind) and not commit:
            raise OpenFlowEncodeError("ct: exec(...) and nat with arguments need commit")
        setter = object.__setattr__
        setter(self, "commit", commit)
        setter(self, "force", force)
        setter(self, "table", table)
        setter(self, "zone", zone)
        setter(self, "nat", nat)
        setter(self, "exec", exec)
        setter(self, "alg", alg)

    def encode(self) -> bytes:
        """NXAST_CT followed by its nested actions (nat first)."""
        flags = CT_COMMIT * self.commit | CT_FORCE * self.force
        zone = self.zone
        if isinstance(zone, Subfield):
            zone_part = nxm_header_4(zone, "ct zone") + struct.pack("!H", zone.ofs_nbits)
        else:
            zone_part = struct.pack("!IH", 0, zone)
        nested = (self.nat.encode() if self.nat else b"") + encode_actions(self.exec)
        body = (struct.pack("!H", flags) + zone_part
                + struct.pack("!B3xH", 255 if self.table is None else self.table, self.alg))
        return nx_header(NXAST_CT, 24 + len(nested)) + body + nested

    def __str__(self) -> str:
        parts = []
        if self.commit:
            parts.append("commit")
        if self.force:
            parts.append("force")
        if self.table is not None:
            parts.append(f"table={self.table}")
        if isinstance(self.zone, Subfield) or self.zone:
            parts.append(f"zone={self.zone}")
        if self.nat is not None:
            parts.append(str(self.nat))
        if self.exec:
            parts.append(f"exec({format_actions(self.exec)})")
        if self.alg:
            parts.append(f"alg={ALG_NAMES.get(self.alg, self.alg)}")
        return f"ct({','.join(parts)})"


@register_nx(NXAST_CT)
def _decode_ct(buf: Buf, pos: int, end: int) -> Action:
    (flags,) = struct.unpack_from("!H", buf, pos + 10)
    (zone_header,) = struct.unpack_from("!I", buf, pos + 12)
    zone: int | Subfield
    if zone_header:
        (ofs_nbits,) = struct.unpack_from("!H", buf, pos + 16)
        zone, _ = decode_subfield(buf, pos + 12, ofs_nbits)
    else:
        (zone,) = struct.unpack_from("!H", buf, pos + 16)
    table, alg = struct.unpack_from("!B3xH", buf, pos + 18)
    nested = decode_actions(buf, pos + 24, end)
    nat = None
    if nested and isinstance(nested[0], Nat):
        nat, nested = nested[0], nested[1:]
    return Ct(bool(flags & CT_COMMIT), bool(flags & CT_FORCE), None if table == 255 else table,
              zone, nat, nested, alg)

