"""Abstract syntax of OVN logical flow actions (OVN 23.03 ``include/ovn/actions.h``).

Each action is an immutable node; :meth:`Action.format` prints it as OVN's
``ovnacts_format`` does (e.g. ``next(pipeline=egress, table=5);``), so a parsed
action list prints back to the canonical text ovn-controller would log.  Field
operands are :class:`~pyovn.lflow.expr.FieldRef` (a symbol and bit range);
table numbers are logical (the compiler adds the OpenFlow table offsets).

Actions with nested actions (``clone { ... };``, ``arp { ... };``, ...) derive
from :class:`Nested`.  MAC binding, FDB and check actions (``reg0[0] =
check_in_port_sec();``) live in :mod:`pyovn.lflow.actions_lookup`; actions with
elaborate arguments (NAT, load balancing, ``log``...) in
:mod:`pyovn.lflow.actions_ext`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from pyovn.lflow.expr import Constant, FieldRef
from pyovn.lflow.format import format_constant, format_field
from pyovn.lflow.symtab import WriteScope

__all__ = [
    "Action",
    "Arp",
    "Clone",
    "CtClear",
    "CtCommit",
    "CtCommitNat",
    "CtNext",
    "CtSnatToVip",
    "DecTtl",
    "Exchange",
    "HandleBfdMsg",
    "HandleDhcpv6Reply",
    "Icmp4",
    "Icmp4Error",
    "Icmp6",
    "Icmp6Error",
    "Igmp",
    "Load",
    "Move",
    "NdNa",
    "NdNaRouter",
    "NdNs",
    "Nested",
    "Next",
    "NullAction",
    "Output",
    "OvnFieldLoad",
    "Pipeline",
    "Pop",
    "Push",
    "Reject",
    "SctpAbort",
    "TcpReset",
    "format_actions",
]


class Pipeline(enum.Enum):
    """Logical pipeline of a flow or a ``next`` target."""

    INGRESS = "ingress"
    EGRESS = "egress"


class Action:
    """Base of all action nodes."""

    __slots__ = ()

    def format(self) -> str:
        """Return OVN's text for this action, including the ``;``."""
        raise NotImplementedError


def format_actions(actions: Iterable[Action]) -> str:
    """Return OVN's text for an action list; an empty list is ``drop;``."""
    text = " ".join(a.format() for a in actions)
    return text or "drop;"


# --- actions without arguments ----------------------------------------------


class NullAction(Action):
    """An action that is just its name (``output;``, ``ct_clear;``...)."""

    __slots__ = ()
    text: ClassVar[str] = ""

    def format(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Output(NullAction):
    """``output;``: run the egress pipeline, or deliver to ``outport``."""

    __slots__ = ()
    text = "output;"


class DecTtl(NullAction):
    """``ip.ttl--;`` (prerequisite ``ip``)."""

    __slots__ = ()
    text = "ip.ttl--;"


class CtClear(NullAction):
    """``ct_clear;``: forget connection tracking state."""

    __slots__ = ()
    text = "ct_clear;"


class CtCommitNat(NullAction):
    """``ct_commit_nat;``: apply NAT to a related connection and commit."""

    __slots__ = ()
    text = "ct_commit_nat;"


class CtSnatToVip(NullAction):
    """``ct_snat_to_vip;``: SNAT hairpinned load-balancer traffic to the VIP."""

    __slots__ = ()
    text = "ct_snat_to_vip;"


class Igmp(NullAction):
    """``igmp;``: send the packet to ovn-controller for multicast snooping."""

    __slots__ = ()
    text = "igmp;"


class HandleDhcpv6Reply(NullAction):
    """``handle_dhcpv6_reply;``: DHCPv6 prefix delegation reply."""

    __slots__ = ()
    text = "handle_dhcpv6_reply;"


class HandleBfdMsg(NullAction):
    """``handle_bfd_msg();``: BFD message to ovn-controller."""

    __slots__ = ()
    text = "handle_bfd_msg();"


# --- control flow and connection tracking ----------------------------------------


@dataclass(frozen=True, slots=True)
class Next(Action):
    """``next;`` / ``next(N);`` / ``next(pipeline=P, table=N);``.

    ``src_pipeline`` and ``src_table`` are where the flow itself is, which
    decides how the action prints.
    """

    pipeline: Pipeline
    table: int
    src_pipeline: Pipeline
    src_table: int

    def format(self) -> str:
        if self.pipeline is not self.src_pipeline:
            return f"next(pipeline={self.pipeline.value}, table={self.table});"
        if self.table != self.src_table + 1:
            return f"next({self.table});"
        return "next;"


@dataclass(frozen=True, slots=True)
class CtNext(Action):
    """``ct_next;``: connection tracking, then logical table ``table``."""

    table: int

    def format(self) -> str:
        return "ct_next;"


# --- assignments -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load(Action):
    """``field = constant;`` (a masked constant sets only the masked bits)."""

    dst: FieldRef
    value: Constant

    def format(self) -> str:
        return f"{format_field(self.dst)} = {format_constant(self.value)};"


@dataclass(frozen=True, slots=True)
class OvnFieldLoad(Action):
    """``icmp4.frag_mtu = N;`` and other fields only OVN itself can set."""

    dst: FieldRef
    value: int

    def format(self) -> str:
        return f"{self.dst.symbol.name} = {self.value & 0xFFFF};"


@dataclass(frozen=True, slots=True)
class Move(Action):
    """``dst = src;`` between fields of equal width (or two string fields)."""

    dst: FieldRef
    src: FieldRef

    def format(self) -> str:
        return f"{format_field(self.dst)} = {format_field(self.src)};"


@dataclass(frozen=True, slots=True)
class Exchange(Action):
    """``a <-> b;``: swap two modifiable fields."""

    a: FieldRef
    b: FieldRef

    def format(self) -> str:
        return f"{format_field(self.a)} <-> {format_field(self.b)};"


@dataclass(frozen=True, slots=True)
class Push(Action):
    """``push(field);``."""

    field: FieldRef

    def format(self) -> str:
        return f"push({format_field(self.field)});"


@dataclass(frozen=True, slots=True)
class Pop(Action):
    """``pop(field);``."""

    field: FieldRef

    def format(self) -> str:
        return f"pop({format_field(self.field)});"


# --- nested actions ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Nested(Action):
    """An action that runs ``actions`` on a derived packet: ``name { ... };``."""

    actions: tuple[Action, ...]
    name: ClassVar[str] = ""
    #: Prerequisite the action adds to the flow's match (None: the nested
    #: actions' own prerequisites are added instead, as for ``clone``).
    prereq: ClassVar[str | None] = None
    #: Write scope of the nested actions (None: the enclosing one).
    scope: ClassVar[WriteScope | None] = None

    def format(self) -> str:
        return f"{self.name} {{ {format_actions(self.actions)} }};"


class Clone(Nested):
    """``clone { ... };``: run the actions on a copy of the packet."""

    __slots__ = ()
    name = "clone"
    scope = WriteScope.DEFAULT


class Arp(Nested):
    """``arp { ... };``: replace an IPv4 packet by an ARP request."""

    __slots__ = ()
    name = "arp"
    prereq = "ip"


class Icmp4(Nested):
    """``icmp4 { ... };``: replace an IPv4 packet by an ICMPv4 one."""

    __slots__ = ()
    name = "icmp4"
    prereq = "ip4"


class Icmp4Error(Nested):
    """``icmp4_error { ... };``: ICMPv4 error quoting the packet."""

    __slots__ = ()
    name = "icmp4_error"
    prereq = "ip4"


class Icmp6(Nested):
    """``icmp6 { ... };``: replace an IPv6 packet by an ICMPv6 one."""

    __slots__ = ()
    name = "icmp6"
    prereq = "ip6"


class Icmp6Error(Nested):
    """``icmp6_error { ... };``: ICMPv6 error quoting the packet."""

    __slots__ = ()
    name = "icmp6_error"
    prereq = "ip6"


class TcpReset(Nested):
    """``tcp_reset { ... };``: replace a TCP packet by a RST."""

    __slots__ = ()
    name = "tcp_reset"
    prereq = "tcp"


class SctpAbort(Nested):
    """``sctp_abort { ... };``: replace an SCTP packet by ABORT."""

    __slots__ = ()
    name = "sctp_abort"
    prereq = "sctp"


class Reject(Nested):
    """``reject { ... };``: TCP RST or ICMP unreachable, as fits."""

    __slots__ = ()
    name = "reject"


class NdNa(Nested):
    """``nd_na { ... };``: answer a solicitation with an advertisement."""

    __slots__ = ()
    name = "nd_na"
    prereq = "nd_ns"


class NdNaRouter(Nested):
    """``nd_na_router { ... };``: NA with the router flag."""

    __slots__ = ()
    name = "nd_na_router"
    prereq = "nd_ns"


class NdNs(Nested):
    """``nd_ns { ... };``: send a neighbor solicitation."""

    __slots__ = ()
    name = "nd_ns"
    prereq = "ip"


@dataclass(frozen=True, slots=True)
class CtCommit(Nested):
    """``ct_commit;`` or ``ct_commit { ct_mark = ...; ct_label = ...; };``."""

    name: ClassVar[str] = "ct_commit"
    prereq: ClassVar[str | None] = "ip"
    scope: ClassVar[WriteScope | None] = WriteScope.CT_COMMIT

    def format(self) -> str:
        if not self.actions:
            return "ct_commit;"
        return Nested.format(self)


#: Nested actions by name, for the parser.
NESTED_ACTIONS: dict[str, type[Nested]] = {
    c.name: c for c in (Clone, Arp, Icmp4, Icmp4Error, Icmp6, Icmp6Error, TcpReset,
                        SctpAbort, Reject, NdNa, NdNaRouter, NdNs)
}
#: Argument-less actions by name, for the parser.
NULL_ACTIONS: dict[str, type[NullAction]] = {
    "output": Output, "ct_clear": CtClear, "ct_commit_nat": CtCommitNat,
    "ct_snat_to_vip": CtSnatToVip, "igmp": Igmp,
    "handle_dhcpv6_reply": HandleDhcpv6Reply,
}
