"""The symbol table of OVN logical flows: every field a match or action may name.

The table is data: :data:`OVS_FIELDS` describes the Open vSwitch fields that OVN
uses (width, maskability, writability, as OVS 3.1's meta-flow defines them), and
:data:`OVN_SYMBOLS` declares, in ovn-controller 23.03's order
(``lib/logical-fields.c``), each logical symbol as one of

- a *field* over an OVS field (``eth.src`` over ``eth_src``),
- a *string field* (``inport``/``outport``, logical port names kept in reg14/15),
- a *subfield* of an earlier symbol (``reg0`` = ``xxreg0[96..127]``,
  ``ct.est`` = ``ct_state[1]``, ``flags.loopback`` = ``flags[0]``),
- a *predicate*, a Boolean expression usable like a 1-bit field (``ip4``,
  ``tcp``, ``nd_ns``), or
- an *OVN field* that only OVN actions can set (``icmp4.frag_mtu``),

with its prerequisites (``tcp.dst`` requires ``tcp``) and ``must_crossproduct``.
:class:`SymbolTable` turns the declarations into :class:`Symbol` objects,
computing each symbol's level of measurement the way OVN does.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyovn.lflow.expr import Expr

__all__ = [
    "OVN_SYMBOLS",
    "OVS_FIELDS",
    "Decl",
    "Level",
    "OvsField",
    "Symbol",
    "SymbolTable",
    "WriteScope",
    "field",
    "format_symbol",
    "ovn_field",
    "ovn_symtab",
    "predicate",
    "string_field",
    "subfield",
]


class WriteScope(enum.Flag):
    """Where actions may write a symbol (OVN's ``enum expr_write_scope``)."""

    NONE = 0
    DEFAULT = 1  # top-level actions (and nested ones, except inside ct_commit)
    CT_COMMIT = 2  # inside ``ct_commit { ... }``: only ct_mark and ct_label
    ALL = DEFAULT | CT_COMMIT


class Level(enum.IntEnum):
    """Level of measurement: which comparisons a symbol supports."""

    NOMINAL = 0  # only == (positively); e.g. eth.type, inport, ip4
    BOOLEAN = 1  # == and != ; predicates over ordinal fields, e.g. vlan.present
    ORDINAL = 2  # all relational operators and bit ranges; maskable fields


@dataclass(frozen=True, slots=True)
class OvsField:
    """An Open vSwitch field (OVS meta-flow) as the compiler will emit it."""

    name: str
    n_bits: int
    maskable: bool
    writable: bool


def _regs(prefix: str, count: int, bits: int) -> list[OvsField]:
    return [OvsField(f"{prefix}{i}", bits, True, True) for i in range(count)]


_FIELD_LIST = [
    *_regs("reg", 16, 32),
    *_regs("xreg", 8, 64),
    *_regs("xxreg", 4, 128),
    OvsField("ct_state", 32, True, False),
    OvsField("ct_mark", 32, True, True),
    OvsField("ct_label", 128, True, True),
    OvsField("eth_src", 48, True, True),
    OvsField("eth_dst", 48, True, True),
    OvsField("eth_type", 16, False, False),
    OvsField("vlan_tci", 16, True, True),
    OvsField("nw_proto", 8, False, False),
    OvsField("ip_dscp", 6, False, True),
    OvsField("nw_ecn", 2, False, True),
    OvsField("nw_ttl", 8, False, True),
    OvsField("ip_src", 32, True, True),
    OvsField("ip_dst", 32, True, True),
    OvsField("icmp_type", 8, False, True),
    OvsField("icmp_code", 8, False, True),
    OvsField("ipv6_src", 128, True, True),
    OvsField("ipv6_dst", 128, True, True),
    OvsField("ipv6_label", 20, True, True),
    OvsField("icmpv6_type", 8, False, True),
    OvsField("icmpv6_code", 8, False, True),
    OvsField("ip_frag", 2, True, False),
    OvsField("arp_op", 16, False, True),
    OvsField("arp_spa", 32, True, True),
    OvsField("arp_tpa", 32, True, True),
    OvsField("arp_sha", 48, True, True),
    OvsField("arp_tha", 48, True, True),
    OvsField("nd_target", 128, True, True),
    OvsField("nd_sll", 48, True, True),
    OvsField("nd_tll", 48, True, True),
    OvsField("tcp_src", 16, True, True),
    OvsField("tcp_dst", 16, True, True),
    OvsField("tcp_flags", 12, True, False),
    OvsField("udp_src", 16, True, True),
    OvsField("udp_dst", 16, True, True),
    OvsField("sctp_src", 16, True, True),
    OvsField("sctp_dst", 16, True, True),
    OvsField("pkt_mark", 32, True, True),
]
#: OVS fields by name (checked against ``ovs-ofctl`` 3.1: widths, masks, writes).
OVS_FIELDS: Mapping[str, OvsField] = {f.name: f for f in _FIELD_LIST}


@dataclass(frozen=True, slots=True)
class Decl:
    """One declaration in a symbol table (see the constructors below)."""

    kind: str  # "field", "string", "subfield", "predicate", "ovn_field"
    name: str
    target: str  # OVS field, "sym[lo..hi]" subfield spec, expansion, or width
    prereqs: str | None = None
    must_crossproduct: bool = False
    scope: WriteScope = WriteScope.DEFAULT


def field(name: str, ovs: str, prereqs: str | None = None,
          must_crossproduct: bool = False,
          scope: WriteScope = WriteScope.DEFAULT) -> Decl:
    """Declare a symbol for a whole OVS field, writable (if OVS allows) in scope."""
    return Decl("field", name, ovs, prereqs, must_crossproduct, scope)


def string_field(name: str, ovs: str, prereqs: str | None = None) -> Decl:
    """Declare a string symbol (logical port name) kept in OVS field ``ovs``."""
    return Decl("string", name, ovs, prereqs)


def subfield(name: str, spec: str, prereqs: str | None = None,
             scope: WriteScope = WriteScope.DEFAULT) -> Decl:
    """Declare a symbol for bits of an earlier symbol, e.g. ``"flags[0]"``."""
    return Decl("subfield", name, spec, prereqs, scope=scope)


def predicate(name: str, expansion: str) -> Decl:
    """Declare a predicate, a name for a Boolean expression."""
    return Decl("predicate", name, expansion)


def ovn_field(name: str, n_bits: int) -> Decl:
    """Declare a field that only OVN (not OpenFlow) can set, in actions."""
    return Decl("ovn_field", name, str(n_bits))


_CT = WriteScope.CT_COMMIT  # ct_mark and ct_label are only written by ct_commit
_N_LOG_REGS = 10  # ovn-controller 23.03 gives logical flows reg0..reg9.
_CT_STATES = ("new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat")
_ND = "icmp6.code == 0 && ip.ttl == 255"


def _register_decls() -> list[Decl]:
    decls = [field(f"xxreg{i}", f"xxreg{i}") for i in range(_N_LOG_REGS // 4)]
    for xi in range(_N_LOG_REGS // 2):
        if xi // 2 < _N_LOG_REGS // 4:
            lo = 64 * (1 - xi % 2)
            decls.append(subfield(f"xreg{xi}", f"xxreg{xi // 2}[{lo}..{lo + 63}]"))
        else:
            decls.append(field(f"xreg{xi}", f"xreg{xi}"))
    for i in range(_N_LOG_REGS):
        if i // 4 < _N_LOG_REGS // 4:
            lo = 32 * (3 - i % 4)
            decls.append(subfield(f"reg{i}", f"xxreg{i // 4}[{lo}..{lo + 31}]"))
        else:
            lo = 32 * (1 - i % 2)
            decls.append(subfield(f"reg{i}", f"xreg{i // 2}[{lo}..{lo + 31}]"))
    return decls


#: ovn-controller 23.03's symbol table, in declaration order.
OVN_SYMBOLS: tuple[Decl, ...] = (
    string_field("inport", "reg14"),
    string_field("outport", "reg15"),
    *_register_decls(),
    field("flags", "reg10"),
    subfield("flags.loopback", "flags[0]"),
    subfield("flags.force_snat_for_dnat", "flags[2]"),
    subfield("flags.force_snat_for_lb", "flags[3]"),
    subfield("flags.skip_snat_for_lb", "flags[9]"),
    subfield("flags.use_snat_zone", "flags[11]"),
    field("ct_mark", "ct_mark", scope=_CT),
    subfield("ct_mark.blocked", "ct_mark[0]", scope=_CT),
    subfield("ct_mark.natted", "ct_mark[1]", scope=_CT),
    subfield("ct_mark.ecmp_reply_port", "ct_mark[16..31]", scope=_CT),
    subfield("ct_mark.skip_snat", "ct_mark[2]", scope=_CT),
    subfield("ct_mark.force_snat", "ct_mark[3]", scope=_CT),
    field("ct_label", "ct_label", scope=_CT),
    subfield("ct_label.blocked", "ct_label[0]", scope=_CT),
    subfield("ct_label.natted", "ct_label[1]", scope=_CT),
    subfield("ct_label.ecmp_reply_eth", "ct_label[32..79]", scope=_CT),
    subfield("ct_label.ecmp_reply_port", "ct_label[80..95]", scope=_CT),
    subfield("ct_label.label", "ct_label[96..127]", scope=_CT),
    subfield("ct_label.skip_snat", "ct_label[2]", scope=_CT),
    subfield("ct_label.force_snat", "ct_label[3]", scope=_CT),
    field("ct_state", "ct_state"),
    *(subfield(f"ct.{s}", f"ct_state[{bit}]", None if s == "trk" else "ct.trk")
      for bit, s in enumerate(_CT_STATES)),
    field("eth.src", "eth_src"),
    field("eth.dst", "eth_dst"),
    field("eth.type", "eth_type", must_crossproduct=True),
    predicate("eth.bcast", "eth.dst == ff:ff:ff:ff:ff:ff"),
    subfield("eth.mcast", "eth.dst[40]"),
    predicate("eth.mcastv6", "eth.dst[32..47] == 0x3333"),
    field("vlan.tci", "vlan_tci"),
    predicate("vlan.present", "vlan.tci[12]"),
    subfield("vlan.pcp", "vlan.tci[13..15]", "vlan.present"),
    subfield("vlan.vid", "vlan.tci[0..11]", "vlan.present"),
    predicate("ip4", "eth.type == 0x800"),
    predicate("ip6", "eth.type == 0x86dd"),
    predicate("ip", "ip4 || ip6"),
    field("ip.proto", "nw_proto", "ip", must_crossproduct=True),
    field("ip.dscp", "ip_dscp", "ip"),
    field("ip.ecn", "nw_ecn", "ip"),
    field("ip.ttl", "nw_ttl", "ip"),
    field("ip4.src", "ip_src", "ip4"),
    field("ip4.dst", "ip_dst", "ip4"),
    predicate("ip4.src_mcast", "ip4.src[28..31] == 0xe"),
    predicate("ip4.mcast", "eth.mcast && ip4.dst[28..31] == 0xe"),
    predicate("icmp4", "ip4 && ip.proto == 1"),
    field("icmp4.type", "icmp_type", "icmp4"),
    field("icmp4.code", "icmp_code", "icmp4"),
    predicate("igmp", "ip4 && ip.proto == 2"),
    field("ip6.src", "ipv6_src", "ip6"),
    field("ip6.dst", "ipv6_dst", "ip6"),
    field("ip6.label", "ipv6_label", "ip6"),
    predicate("ip6.mcast_rsvd", "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0"),
    predicate("ip6.mcast_all_nodes", "ip6.dst == ff01::1 || ip6.dst == ff02::1"),
    predicate("ip6.mcast_all_rtrs",
              "ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2"),
    predicate("ip6.mcast_sol_node", "ip6.dst == ff02::1:ff00:0000/104"),
    predicate("ip6.mcast_flood",
              "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || "
              "ip6.mcast_all_rtrs || ip6.mcast_sol_node)"),
    predicate("ip6.mcast", "eth.mcastv6 && ip6.dst[120..127] == 0xff"),
    predicate("icmp6", "ip6 && ip.proto == 58"),
    field("icmp6.type", "icmpv6_type", "icmp6", must_crossproduct=True),
    field("icmp6.code", "icmpv6_code", "icmp6", must_crossproduct=True),
    predicate("icmp", "icmp4 || icmp6"),
    field("ip.frag", "ip_frag", "ip"),
    predicate("ip.is_frag", "ip.frag[0]"),
    predicate("ip.later_frag", "ip.frag[1]"),
    predicate("ip.first_frag", "ip.is_frag && !ip.later_frag"),
    predicate("arp", "eth.type == 0x806"),
    *(field(f"arp.{f}", f"arp_{f}", "arp") for f in ("op", "spa", "sha", "tpa", "tha")),
    # RARP has ARP's layout, so it reuses the ARP fields.
    predicate("rarp", "eth.type == 0x8035"),
    *(field(f"rarp.{f}", f"arp_{f}", "rarp") for f in ("op", "spa", "sha", "tpa", "tha")),
    predicate("nd", f"icmp6.type == {{135, 136}} && {_ND}"),
    predicate("nd_ns", f"icmp6.type == 135 && {_ND}"),
    predicate("nd_na", f"icmp6.type == 136 && {_ND}"),
    predicate("nd_rs", f"icmp6.type == 133 && {_ND}"),
    predicate("nd_ra", f"icmp6.type == 134 && {_ND}"),
    field("nd.target", "nd_target", "nd"),
    field("nd.sll", "nd_sll", "nd_ns"),
    field("nd.tll", "nd_tll", "nd_na"),
    predicate("mldv1", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}"),
    predicate("mldv2", "ip6.dst == ff02::16 && icmp6.type == 143"),
    predicate("tcp", "ip.proto == 6"),
    field("tcp.src", "tcp_src", "tcp"),
    field("tcp.dst", "tcp_dst", "tcp"),
    field("tcp.flags", "tcp_flags", "tcp"),
    predicate("udp", "ip.proto == 17"),
    field("udp.src", "udp_src", "udp"),
    field("udp.dst", "udp_dst", "udp"),
    predicate("sctp", "ip.proto == 132"),
    field("sctp.src", "sctp_src", "sctp"),
    field("sctp.dst", "sctp_dst", "sctp"),
    field("pkt.mark", "pkt_mark"),
    ovn_field("icmp4.frag_mtu", 16),
    ovn_field("icmp6.frag_mtu", 32),
)


@dataclass(frozen=True, slots=True, eq=False)
class Symbol:
    """A name usable in matches and actions.

    Exactly one of ``field`` (fields and string fields), ``parent`` (subfields),
    ``predicate`` (predicates) is set, or none for OVN fields.  ``width`` is 0 for
    string fields.  ``rw`` says in which action scopes it may be written.  Symbols compare
    by identity, like OVN's pointers.
    """

    name: str
    width: int
    level: Level
    field: OvsField | None = None
    parent: Symbol | None = None
    parent_ofs: int = 0
    predicate: str | None = None
    prereqs: str | None = None
    must_crossproduct: bool = False
    rw: WriteScope = WriteScope.NONE
    is_ovn_field: bool = False

    def __repr__(self) -> str:
        return f"Symbol({self.name!r})"


_SUBFIELD = re.compile(r"^([A-Za-z_.][A-Za-z0-9_.]*)\[(\d+)(?:\.\.(\d+))?\]$")


class SymbolTable(Mapping[str, Symbol]):
    """Symbols by name, built from declarations (OVN's symtab ``shash``).

    It also caches annotated prerequisite and predicate expansions, which are
    pure functions of the table (see :mod:`pyovn.lflow.annotate`).
    """

    def __init__(self, decls: Iterable[Decl]) -> None:
        self._symbols: dict[str, Symbol] = {}
        self.decls = tuple(decls)
        # (symbol name, "prereqs" | "predicate") -> annotated expression.
        self.expansion_cache: dict[tuple[str, str], Expr] = {}
        for decl in self.decls:
            if decl.name in self._symbols:
                raise ValueError(f"symbol {decl.name} declared twice")
            self._symbols[decl.name] = self._build(decl)

    def _build(self, d: Decl) -> Symbol:
        if d.kind in ("field", "string"):
            f = OVS_FIELDS[d.target]
            level = Level.ORDINAL if f.maskable and d.kind == "field" else Level.NOMINAL
            width = f.n_bits if d.kind == "field" else 0
            return Symbol(d.name, width, level, field=f, prereqs=d.prereqs,
                          must_crossproduct=d.must_crossproduct,
                          rw=d.scope if f.writable else WriteScope.NONE)
        if d.kind == "subfield":
            m = _SUBFIELD.match(d.target)
            if not m or m.group(1) not in self._symbols:
                raise ValueError(f"{d.name}: bad subfield {d.target}")
            parent = self._symbols[m.group(1)]
            lo = int(m.group(2))
            hi = int(m.group(3) or lo)
            if parent.level is not Level.ORDINAL or not lo <= hi < parent.width:
                raise ValueError(f"{d.name}: bad subfield {d.target}")
            return Symbol(d.name, hi - lo + 1, parent.level, parent=parent,
                          parent_ofs=lo, prereqs=d.prereqs,
                          rw=d.scope if parent.rw else WriteScope.NONE)
        if d.kind == "predicate":
            return Symbol(d.name, 1, self._predicate_level(d.target),
                          predicate=d.target)
        if d.kind == "ovn_field":
            return Symbol(d.name, int(d.target), Level.NOMINAL, rw=WriteScope.ALL,
                          is_ovn_field=True)
        raise ValueError(f"{d.name}: unknown kind {d.kind}")

    def _predicate_level(self, expansion: str) -> Level:
        # A predicate is nominal if its expansion mentions any nominal symbol,
        # else Boolean (OVN's expr_get_level on the parsed expansion).
        from pyovn.lflow.expr import Cmp
        from pyovn.lflow.parser import parse_expr

        level = Level.BOOLEAN
        stack: list[object] = [parse_expr(expansion, self).expr]
        while stack:
            e = stack.pop()
            if isinstance(e, Cmp):
                if e.symbol.level is Level.NOMINAL:
                    level = Level.NOMINAL
            else:
                stack.extend(getattr(e, "terms", ()))
        return level

    def __getitem__(self, name: str) -> Symbol:
        return self._symbols[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._symbols)

    def __len__(self) -> int:
        return len(self._symbols)

    def extended(self, decls: Iterable[Decl]) -> SymbolTable:
        """Return a new table with ``decls`` declared after this table's."""
        return SymbolTable((*self.decls, *decls))


def format_symbol(symbol: Symbol) -> str:
    """Describe ``symbol`` as ``test-ovn dump-symtab`` does (OVS field by name)."""
    if symbol.parent is not None:
        hi = symbol.parent_ofs + symbol.width - 1
        bits = (f"[{symbol.parent_ofs}]" if symbol.width == 1
                else f"[{symbol.parent_ofs}..{hi}]")
        if symbol.parent_ofs == 0 and symbol.width == symbol.parent.width:
            bits = ""
        return f"{symbol.name} = {symbol.parent.name}{bits}"
    if symbol.predicate is not None:
        return f"{symbol.name} = {symbol.predicate}"
    if symbol.field is None:
        return f"{symbol.name} = {symbol.name}"
    return f"{symbol.name} = {symbol.field.name}"


@functools.cache
def ovn_symtab() -> SymbolTable:
    """Return the (shared, immutable) ovn-controller 23.03 symbol table."""
    return SymbolTable(OVN_SYMBOLS)
