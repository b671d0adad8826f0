"""Actions with their own argument syntax: NAT, load balancing, logging, options.

These print exactly as OVN 23.03's ``format_*`` functions do, e.g.
``ct_lb_mark(backends=10.0.0.2:80,[fd00::2]:80; hash_fields="ip_src"; skip_snat);``
or ``log(name="acl1", verdict=drop, severity=info, meter="acl-meter");``.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import ClassVar

from pyovn.lflow.actions import Action
from pyovn.lflow.expr import ConstantSet, FieldRef
from pyovn.lflow.format import format_constant_set, format_field

__all__ = [
    "Backend",
    "BindVport",
    "CheckPktLarger",
    "CommitEcmpNh",
    "CommitLbAff",
    "CtCommitV1",
    "CtDnat",
    "CtDnatInCzone",
    "CtLb",
    "CtLbMark",
    "CtNat",
    "CtSnat",
    "CtSnatInCzone",
    "FwdGroup",
    "GenOption",
    "Log",
    "PutDhcpOpts",
    "PutDhcpv6Opts",
    "PutNdRaOpts",
    "PutOpts",
    "Sample",
    "Select",
    "SetMeter",
    "SetQueue",
    "TriggerEvent",
    "format_ip",
]


def format_ip(value: int, ipv6: bool) -> str:
    """Print an IPv4 or IPv6 address held as an int."""
    if ipv6:
        return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))
    return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))


def _hex(value: int) -> str:
    return f"0x{value:x}" if value else "0"


@dataclass(frozen=True, slots=True)
class CtNat(Action):
    """``ct_dnat``/``ct_snat`` (and ``_in_czone``) with optional IP and ports.

    Without an address the action un-NATs; with one it NATs and commits.
    ``port_lo``/``port_hi`` are None when no port (range) was given.
    """

    table: int
    ip: int | None = None
    ipv6: bool = False
    port_lo: int | None = None
    port_hi: int | None = None
    name: ClassVar[str] = ""

    def format(self) -> str:
        text = self.name
        if self.ip is not None:
            text += f"({format_ip(self.ip, self.ipv6)})"
        if self.port_lo is not None:
            text = text.removesuffix(")") + f",{self.port_lo}"
            if self.port_hi:
                text += f"-{self.port_hi}"
            text += ")"
        return text + ";"


@dataclass(frozen=True, slots=True)
class CtDnat(CtNat):
    """``ct_dnat;`` / ``ct_dnat(IP[, PORT[-PORT]]);`` in the DNAT zone."""

    name: ClassVar[str] = "ct_dnat"


@dataclass(frozen=True, slots=True)
class CtSnat(CtNat):
    """``ct_snat;`` / ``ct_snat(IP[, PORT[-PORT]]);`` in the SNAT zone."""

    name: ClassVar[str] = "ct_snat"


@dataclass(frozen=True, slots=True)
class CtDnatInCzone(CtNat):
    """``ct_dnat_in_czone``: DNAT in the router's common NAT zone."""

    name: ClassVar[str] = "ct_dnat_in_czone"


@dataclass(frozen=True, slots=True)
class CtSnatInCzone(CtNat):
    """``ct_snat_in_czone``: SNAT in the router's common NAT zone."""

    name: ClassVar[str] = "ct_snat_in_czone"


@dataclass(frozen=True, slots=True)
class CtCommitV1(Action):
    """Legacy ``ct_commit(ct_mark=V[/M], ct_label=V[/M]);`` (masks 0 = unset)."""

    ct_mark: int = 0
    ct_mark_mask: int = 0
    ct_label: int = 0
    ct_label_mask: int = 0

    def format(self) -> str:
        args = []
        if self.ct_mark_mask:
            mark = f"ct_mark={_hex(self.ct_mark)}"
            if self.ct_mark_mask != 0xFFFFFFFF:
                mark += f"/{_hex(self.ct_mark_mask)}"
            args.append(mark)
        if self.ct_label_mask:
            label = f"ct_label={_hex(self.ct_label)}"
            if self.ct_label_mask != (1 << 128) - 1:
                label += f"/{_hex(self.ct_label_mask)}"
            args.append(label)
        return f"ct_commit({', '.join(args)});" if args else "ct_commit;"


@dataclass(frozen=True, slots=True)
class Backend:
    """One ``ct_lb`` backend: address (int), family and port (0: none)."""

    ip: int
    ipv6: bool
    port: int = 0

    def format(self) -> str:
        """Print as ``1.2.3.4[:80]`` or ``fd00::1`` / ``[fd00::1]:80``."""
        addr = format_ip(self.ip, self.ipv6)
        if not self.port:
            return addr
        return f"[{addr}]:{self.port}" if self.ipv6 else f"{addr}:{self.port}"


@dataclass(frozen=True, slots=True)
class CtLb(Action):
    """``ct_lb[(backends=...[; hash_fields="..."][; skip_snat|force_snat])];``."""

    table: int
    backends: tuple[Backend, ...] = ()
    hash_fields: str | None = None
    ct_flag: str | None = None  # "skip_snat" or "force_snat"
    name: ClassVar[str] = "ct_lb"

    def format(self) -> str:
        if not self.backends:
            return f"{self.name};"
        text = f"{self.name}(backends={','.join(b.format() for b in self.backends)}"
        if self.hash_fields is not None:
            text += f'; hash_fields="{self.hash_fields}"'
        if self.ct_flag is not None:
            text += f"; {self.ct_flag}"
        return text + ");"


@dataclass(frozen=True, slots=True)
class CtLbMark(CtLb):
    """``ct_lb_mark``: ``ct_lb`` keeping its NAT flag in ct_mark, not ct_label."""

    name: ClassVar[str] = "ct_lb_mark"


@dataclass(frozen=True, slots=True)
class Select(Action):
    """``dst = select(ID[=WEIGHT], ...);`` then logical table ``table``."""

    dst: FieldRef
    members: tuple[tuple[int, int], ...]  # (id, weight)
    table: int

    def format(self) -> str:
        members = ", ".join(f"{i}={w}" for i, w in self.members)
        return f"{format_field(self.dst)} = select({members});"


@dataclass(frozen=True, slots=True)
class Log(Action):
    """``log(name=..., verdict=..., severity=..., meter=...);``."""

    verdict: str  # "allow", "drop" or "reject"
    severity: str = "info"
    name: str | None = None
    meter: str | None = None

    def format(self) -> str:
        text = "log("
        if self.name is not None:
            text += f'name="{self.name}", '
        text += f"verdict={self.verdict}, severity={self.severity}"
        if self.meter is not None:
            text += f', meter="{self.meter}"'
        return text + ");"


@dataclass(frozen=True, slots=True)
class SetQueue(Action):
    """``set_queue(N);``."""

    queue_id: int

    def format(self) -> str:
        return f"set_queue({self.queue_id});"


@dataclass(frozen=True, slots=True)
class SetMeter(Action):
    """``set_meter(rate[, burst]);`` in kbps (burst 0: none)."""

    rate: int
    burst: int = 0

    def format(self) -> str:
        if self.burst:
            return f"set_meter({self.rate}, {self.burst});"
        return f"set_meter({self.rate});"


@dataclass(frozen=True, slots=True)
class CheckPktLarger(Action):
    """``dst = check_pkt_larger(L);``."""

    dst: FieldRef
    pkt_len: int

    def format(self) -> str:
        return f"{format_field(self.dst)} = check_pkt_larger({self.pkt_len});"


@dataclass(frozen=True, slots=True)
class GenOption:
    """One ``name = value`` of a DHCP, ND RA or controller event option list."""

    name: str
    code: int
    type: str
    value: ConstantSet

    def format(self) -> str:
        """Print as ``name = value``."""
        return f"{self.name} = {format_constant_set(self.value)}"


@dataclass(frozen=True, slots=True)
class PutOpts(Action):
    """``dst = put_dhcp_opts(...);`` and its DHCPv6 / ND RA siblings."""

    dst: FieldRef
    options: tuple[GenOption, ...]
    name: ClassVar[str] = ""

    def format(self) -> str:
        opts = ", ".join(o.format() for o in self.options)
        return f"{format_field(self.dst)} = {self.name}({opts});"


@dataclass(frozen=True, slots=True)
class PutDhcpOpts(PutOpts):
    """``R = put_dhcp_opts(offerip = ..., ...);``."""

    name: ClassVar[str] = "put_dhcp_opts"


@dataclass(frozen=True, slots=True)
class PutDhcpv6Opts(PutOpts):
    """``R = put_dhcpv6_opts(...);``."""

    name: ClassVar[str] = "put_dhcpv6_opts"


@dataclass(frozen=True, slots=True)
class PutNdRaOpts(PutOpts):
    """``R = put_nd_ra_opts(addr_mode = ..., slla = ..., ...);``."""

    name: ClassVar[str] = "put_nd_ra_opts"


@dataclass(frozen=True, slots=True)
class TriggerEvent(Action):
    """``trigger_event(event = "empty_lb_backends", vip = ..., ...);``."""

    event: str
    options: tuple[GenOption, ...]

    def format(self) -> str:
        opts = "".join(f", {o.format()}" for o in self.options)
        return f'trigger_event(event = "{self.event}"{opts});'


@dataclass(frozen=True, slots=True)
class BindVport(Action):
    """``bind_vport("vport", parent);``."""

    vport: str
    parent: FieldRef

    def format(self) -> str:
        return f'bind_vport("{self.vport}", {format_field(self.parent)});'


@dataclass(frozen=True, slots=True)
class FwdGroup(Action):
    """``fwd_group(liveness=bool, childports="p1", "p2");``."""

    table: int
    liveness: bool = False
    child_ports: tuple[str, ...] = ()

    def format(self) -> str:
        text = "fwd_group("
        if self.liveness:
            text += 'liveness="true", '
        if self.child_ports:
            text += "childports=" + ", ".join(f'"{p}"' for p in self.child_ports)
        return text + ");"


@dataclass(frozen=True, slots=True)
class CommitEcmpNh(Action):
    """``commit_ecmp_nh(ipv6 = bool, proto = tcp|udp|sctp);``."""

    ipv6: bool
    proto: str

    def format(self) -> str:
        return (f"commit_ecmp_nh(ipv6 = {'true' if self.ipv6 else 'false'}, "
                f"proto = {self.proto});")


@dataclass(frozen=True, slots=True)
class CommitLbAff(Action):
    """``commit_lb_aff(vip = "...", backend = "...", [proto = P, ]timeout = T);``."""

    ipv6: bool
    vip: int
    vip_port: int
    backend: int
    backend_port: int
    proto: str | None
    timeout: int

    def _endpoint(self, ip: int, port: int) -> str:
        addr = format_ip(ip, self.ipv6)
        text = f"[{addr}]" if self.ipv6 else addr
        return f"{text}:{port}" if port else text

    def format(self) -> str:
        text = (f'commit_lb_aff(vip = "{self._endpoint(self.vip, self.vip_port)}", '
                f'backend = "{self._endpoint(self.backend, self.backend_port)}"')
        if self.proto is not None:
            text += f", proto = {self.proto}"
        return text + f", timeout = {self.timeout});"


@dataclass(frozen=True, slots=True)
class Sample(Action):
    """``sample(probability=N, collector_set=, obs_domain=, obs_point=);``."""

    probability: int
    collector_set: int = 0
    obs_domain: int = 0
    obs_point: int = 0
    use_cookie: bool = False  # obs_point=$cookie: the lflow UUID's first 32 bits

    def format(self) -> str:
        point = "$cookie" if self.use_cookie else str(self.obs_point)
        return (f"sample(probability={self.probability},collector_set="
                f"{self.collector_set},obs_domain={self.obs_domain},"
                f"obs_point={point});")
