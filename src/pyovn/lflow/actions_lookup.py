"""Actions that consult or fill OVN's tables: MAC bindings, FDB, checks.

``get_arp``/``put_arp``/``lookup_arp`` and their IPv6 ``nd`` twins work on the
MAC_Binding table, ``put_fdb``/``get_fdb``/``lookup_fdb`` on the FDB table; a
:class:`ResultAction` (``reg0[0] = check_in_port_sec();``) stores the outcome of
a check in a field.  See :mod:`pyovn.lflow.actions` for the common base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pyovn.lflow.actions import Action
from pyovn.lflow.expr import FieldRef
from pyovn.lflow.format import format_field

__all__ = [
    "CheckInPortSec",
    "CheckOutPortSec",
    "ChkEcmpNh",
    "ChkEcmpNhMac",
    "ChkLbAff",
    "ChkLbHairpin",
    "ChkLbHairpinReply",
    "DnsLookup",
    "GetArp",
    "GetFdb",
    "GetNd",
    "HandleSvcCheck",
    "LookupArp",
    "LookupArpIp",
    "LookupFdb",
    "LookupNd",
    "LookupNdIp",
    "PutArp",
    "PutFdb",
    "PutNd",
    "RESULT_ACTIONS",
    "ResultAction",
]


# --- MAC binding and FDB -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetArp(Action):
    """``get_arp(port, ip);``: look up ``ip`` in the MAC bindings into eth.dst."""

    port: FieldRef
    ip: FieldRef
    name: ClassVar[str] = "get_arp"

    def format(self) -> str:
        return f"{self.name}({format_field(self.port)}, {format_field(self.ip)});"


@dataclass(frozen=True, slots=True)
class GetNd(GetArp):
    """``get_nd(port, ip6);``."""

    name: ClassVar[str] = "get_nd"


@dataclass(frozen=True, slots=True)
class PutArp(Action):
    """``put_arp(port, ip, mac);``: learn a MAC binding."""

    port: FieldRef
    ip: FieldRef
    mac: FieldRef
    name: ClassVar[str] = "put_arp"

    def format(self) -> str:
        args = ", ".join(format_field(f) for f in (self.port, self.ip, self.mac))
        return f"{self.name}({args});"


@dataclass(frozen=True, slots=True)
class PutNd(PutArp):
    """``put_nd(port, ip6, mac);``."""

    name: ClassVar[str] = "put_nd"


@dataclass(frozen=True, slots=True)
class LookupArp(Action):
    """``dst = lookup_arp(port, ip, mac);``: 1 if the binding is known."""

    dst: FieldRef
    port: FieldRef
    ip: FieldRef
    mac: FieldRef
    name: ClassVar[str] = "lookup_arp"

    def format(self) -> str:
        args = ", ".join(format_field(f) for f in (self.port, self.ip, self.mac))
        return f"{format_field(self.dst)} = {self.name}({args});"


@dataclass(frozen=True, slots=True)
class LookupNd(LookupArp):
    """``dst = lookup_nd(port, ip6, mac);``."""

    name: ClassVar[str] = "lookup_nd"


@dataclass(frozen=True, slots=True)
class LookupArpIp(Action):
    """``dst = lookup_arp_ip(port, ip);``: 1 if ``ip`` has a binding."""

    dst: FieldRef
    port: FieldRef
    ip: FieldRef
    name: ClassVar[str] = "lookup_arp_ip"

    def format(self) -> str:
        return (f"{format_field(self.dst)} = {self.name}("
                f"{format_field(self.port)}, {format_field(self.ip)});")


@dataclass(frozen=True, slots=True)
class LookupNdIp(LookupArpIp):
    """``dst = lookup_nd_ip(port, ip6);``."""

    name: ClassVar[str] = "lookup_nd_ip"


@dataclass(frozen=True, slots=True)
class PutFdb(Action):
    """``put_fdb(port, mac);``: learn ``mac`` on ``port``."""

    port: FieldRef
    mac: FieldRef

    def format(self) -> str:
        return f"put_fdb({format_field(self.port)}, {format_field(self.mac)});"


@dataclass(frozen=True, slots=True)
class GetFdb(Action):
    """``dst = get_fdb(mac);``: port learned for ``mac`` (0 if none)."""

    dst: FieldRef
    mac: FieldRef

    def format(self) -> str:
        return f"{format_field(self.dst)} = get_fdb({format_field(self.mac)});"


@dataclass(frozen=True, slots=True)
class LookupFdb(Action):
    """``dst = lookup_fdb(port, mac);``: 1 if ``mac`` was learned on ``port``."""

    dst: FieldRef
    port: FieldRef
    mac: FieldRef

    def format(self) -> str:
        return (f"{format_field(self.dst)} = lookup_fdb("
                f"{format_field(self.port)}, {format_field(self.mac)});")


@dataclass(frozen=True, slots=True)
class HandleSvcCheck(Action):
    """``handle_svc_check(port);``: a service monitor reply from ``port``."""

    port: FieldRef

    def format(self) -> str:
        return f"handle_svc_check({format_field(self.port)});"


# --- result actions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultAction(Action):
    """``dst = name();``: a check whose outcome is stored in ``dst``."""

    dst: FieldRef
    name: ClassVar[str] = ""
    #: Width ``dst`` must have.
    n_bits: ClassVar[int] = 1
    #: Prerequisite added to the flow's match, if any.
    prereq: ClassVar[str | None] = None

    def format(self) -> str:
        return f"{format_field(self.dst)} = {self.name}();"


class ChkLbHairpin(ResultAction):
    """``R = chk_lb_hairpin();``: 1 if hairpinned to a load balancer VIP."""

    __slots__ = ()
    name = "chk_lb_hairpin"


class ChkLbHairpinReply(ResultAction):
    """``R = chk_lb_hairpin_reply();``: 1 for a hairpin reply."""

    __slots__ = ()
    name = "chk_lb_hairpin_reply"


class CheckInPortSec(ResultAction):
    """``R = check_in_port_sec();``: 1 if inport security fails."""

    __slots__ = ()
    name = "check_in_port_sec"


class CheckOutPortSec(ResultAction):
    """``R = check_out_port_sec();``: 1 if outport security fails."""

    __slots__ = ()
    name = "check_out_port_sec"


class ChkEcmpNhMac(ResultAction):
    """``R = chk_ecmp_nh_mac();``: ECMP next-hop MAC learned?"""

    __slots__ = ()
    name = "chk_ecmp_nh_mac"


class ChkEcmpNh(ResultAction):
    """``R = chk_ecmp_nh();``: ECMP next hop learned?"""

    __slots__ = ()
    name = "chk_ecmp_nh"


class ChkLbAff(ResultAction):
    """``R = chk_lb_aff();``: load balancer affinity learned?"""

    __slots__ = ()
    name = "chk_lb_aff"


class DnsLookup(ResultAction):
    """``R = dns_lookup();``: answer a DNS query (prerequisite udp)."""

    __slots__ = ()
    name = "dns_lookup"
    prereq = "udp"


#: Result actions by name, for the parser.
RESULT_ACTIONS: dict[str, type[ResultAction]] = {
    c.name: c for c in (ChkLbHairpin, ChkLbHairpinReply, CheckInPortSec,
                        CheckOutPortSec, ChkEcmpNhMac, ChkEcmpNh, ChkLbAff, DnsLookup)
}
