"""Flows of the lookup tables ovn-controller fills from SB rows rather than lflows.

Port security (tables 73, 74 in, 75 out): a logical switch port with
``port_security`` may only send from, and receive at, the addresses listed there. The
logical flows only call ``check_in_port_sec()`` / ``check_out_port_sec()``; the checks
are flows ovn-controller builds from the Port_Binding for ports bound to its chassis
(23.03's ``consider_port_sec_flows`` in ``lflow.c``): they set the
``MLF_CHECK_PORT_SEC`` bit (reg10[12]) to 1 to fail a packet, 0 to pass it. Each entry
is ``MAC [IP[/PLEN]...]``. Kept from 23.03 as it is: the neighbour solicitation /
advertisement checks that do not look at ``eth.src`` match ``nw_ttl=225`` (a typo of
255 that later versions fix), so those packets fall through to the priority-80 rules.

MAC bindings (66, 67) and FDB (71, 72): ``get_arp``/``get_nd`` resubmit to 66 with the
IP in reg0 (IPv4) or xxreg0 (IPv6) and the outport in reg15; ``lookup_arp``/
``lookup_nd`` to 67 with the IP, the inport in reg14 and the MAC in eth.src;
``get_fdb``/``lookup_fdb`` to 71/72 with the MAC in eth.dst/eth.src. One set of flows
per row (23.03's ``consider_neighbor_flow``, ``consider_fdb_flows``): 66 sets eth.dst
and MLF_LOOKUP_MAC, 67 MLF_LOOKUP_MAC for ARP (IPv4) or ICMPv6 with code 0 (IPv6), at
priority 100 (a Static_MAC_Binding: 150 when it overrides dynamic bindings, else 50);
71 sets reg15 to the port key, 72 MLF_LOOKUP_FDB. Only rows of local datapaths get
flows, and a MAC binding only when its ``logical_port`` has a Port_Binding.

Parents: the Port_Binding, MAC_Binding, Static_MAC_Binding or FDB row.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pyovn.controller.physical import cookie_of, flag_load
from pyovn.lflow.tables import MFF_LOG_OUTPORT, Mlf, table
from pyovn.openflow import Action, Flow, Match, Resubmit, SetField
from pyovn.ovsdb import Row

__all__ = ["PortSecAddresses", "fdb_flows", "mac_binding_flows", "parse_port_security",
           "port_security_flows", "static_mac_binding_flows"]

T_IN = table("CHK_IN_PORT_SEC")
T_IN_ND = table("CHK_IN_PORT_SEC_ND")
T_OUT = table("CHK_OUT_PORT_SEC")

_ETH_IP, _ETH_ARP, _ETH_IPV6 = 0x0800, 0x0806, 0x86DD
_ICMPV6, _UDP = 58, 17
_ZERO_MAC = "00:00:00:00:00:00"
#: 23.03's TTL for the ND checks that do not match eth.src (see the module docstring).
_ND_TTL_2303 = 225

IPv4If = ipaddress.IPv4Interface
IPv6If = ipaddress.IPv6Interface


@dataclass(frozen=True)
class PortSecAddresses:
    """One ``port_security`` entry: a MAC and the IPv4/IPv6 addresses allowed with it."""

    mac: str
    ipv4: tuple[IPv4If, ...]
    ipv6: tuple[IPv6If, ...]

    @property
    def lla(self) -> str:
        """The IPv6 link-local address derived from the MAC (EUI-64)."""
        octets = [int(b, 16) for b in self.mac.split(":")]
        octets[0] ^= 0x02
        eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
        return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui)))


def _mac(text: str) -> str | None:
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) in (1, 2) for p in parts):
        return None
    try:
        return ":".join(f"{int(p, 16):02x}" for p in parts)
    except ValueError:
        return None


def parse_port_security(entry: str) -> PortSecAddresses | None:
    """Parse ``MAC [IP[/PLEN]...]``; None if it is not that (23.03 then skips it)."""
    tokens = entry.split()
    mac = _mac(tokens[0]) if tokens else None
    if mac is None:
        return None
    ipv4: list[IPv4If] = []
    ipv6: list[IPv6If] = []
    for token in tokens[1:]:
        try:
            addr = ipaddress.ip_interface(token)
        except ValueError:
            return None
        if isinstance(addr, IPv4If):
            ipv4.append(addr)
        else:
            ipv6.append(addr)
    return PortSecAddresses(mac, tuple(ipv4), tuple(ipv6))


def _host_or_net(addr: IPv4If | IPv6If) -> tuple[str, str] | str:
    """The address alone when it names a host (full length, or host bits set), else
    the network it names."""
    net = addr.network
    if addr.network.prefixlen == net.max_prefixlen or addr.ip != net.network_address:
        return str(addr.ip)
    return str(net.network_address), str(net.netmask)


class _Builder:
    """Collects one port's flows; every flow matches the datapath and the port."""

    def __init__(self, pb: Row, dp_key: int) -> None:
        self.flows: list[Flow] = []
        self.cookie = cookie_of(pb.uuid)
        self.dp_key, self.key = dp_key, pb["tunnel_key"]

    def add(self, table_id: int, priority: int, out: bool, actions: list[Action],
            **fields: Any) -> None:
        port = {"reg15" if out else "reg14": self.key}
        self.flows.append(Flow(table_id, priority,
                               Match(metadata=self.dp_key, **port, **fields),
                               actions, self.cookie))


_DENY: list[Action] = [flag_load(Mlf.CHECK_PORT_SEC, 1)]
_ALLOW: list[Action] = [flag_load(Mlf.CHECK_PORT_SEC, 0)]
_ND_CHECK: list[Action] = [Resubmit(table=T_IN_ND)]


def _in_flows(b: _Builder, ps: PortSecAddresses) -> None:
    icmp6 = {"eth_type": _ETH_IPV6, "ip_proto": _ICMPV6}
    if not ps.ipv4 and not ps.ipv6:
        b.add(T_IN, 90, False, _ND_CHECK, eth_src=ps.mac)
    if ps.ipv4:
        for addr in ps.ipv4:
            b.add(T_IN, 90, False, _ALLOW, eth_src=ps.mac, eth_type=_ETH_IP,
                  ip_src=_host_or_net(addr))
        # DHCP requests, sent before the port has an address.
        b.add(T_IN, 90, False, _ALLOW, eth_src=ps.mac, eth_type=_ETH_IP, ip_proto=_UDP,
              ip_src="0.0.0.0", ip_dst="255.255.255.255", udp_src=68, udp_dst=67)
    if ps.ipv4 or not ps.ipv6:
        if not ps.ipv4:
            b.add(T_IN_ND, 90, False, _ALLOW, eth_src=ps.mac, eth_type=_ETH_ARP,
                  arp_sha=ps.mac)
        for addr in ps.ipv4:
            b.add(T_IN_ND, 90, False, _ALLOW, eth_src=ps.mac, eth_type=_ETH_ARP,
                  arp_sha=ps.mac, arp_spa=_host_or_net(addr))
    if ps.ipv6:
        for addr6 in ps.ipv6:
            b.add(T_IN, 90, False, _ND_CHECK, eth_src=ps.mac, eth_type=_ETH_IPV6,
                  ipv6_src=_host_or_net(addr6))
        b.add(T_IN, 90, False, _ND_CHECK, eth_src=ps.mac, eth_type=_ETH_IPV6,
              ipv6_src=ps.lla)
        # MLD reports and NS for duplicate address detection come from "::".
        dad = {"eth_src": ps.mac, **icmp6, "ipv6_src": "::",
               "ipv6_dst": ("ff02::", "ffff::"), "icmpv6_code": 0}
        b.add(T_IN, 90, False, _ALLOW, **dad, icmpv6_type=131)
        b.add(T_IN, 90, False, _ALLOW, **dad, icmpv6_type=143)
        b.add(T_IN, 90, False, _ND_CHECK, **dad, icmpv6_type=135)
    # Neighbour discovery: the link-layer addresses must be unset or the port's MAC.
    ns = {**icmp6, "nw_ttl": _ND_TTL_2303, "icmpv6_type": 135, "icmpv6_code": 0}
    for sll in (_ZERO_MAC, ps.mac):
        b.add(T_IN_ND, 90, False, _ALLOW, **ns, nd_sll=sll)
    na = {**icmp6, "nw_ttl": _ND_TTL_2303, "icmpv6_type": 136, "icmpv6_code": 0}
    if ps.ipv6:
        for tll in (_ZERO_MAC, ps.mac):
            b.add(T_IN_ND, 90, False, _ALLOW, **na, nd_tll=tll, nd_target=ps.lla)
        for addr6 in ps.ipv6:
            for tll in (_ZERO_MAC, ps.mac):
                b.add(T_IN_ND, 90, False, _ALLOW, eth_src=ps.mac, **icmp6,
                      icmpv6_type=136, icmpv6_code=0, nd_tll=tll,
                      nd_target=_host_or_net(addr6))
    else:
        for tll in (_ZERO_MAC, ps.mac):
            b.add(T_IN_ND, 90, False, _ALLOW, **na, nd_tll=tll)


def _out_flows(b: _Builder, ps: PortSecAddresses) -> None:
    b.add(T_OUT, 85, True, _ALLOW, eth_dst=ps.mac)
    if not ps.ipv4 and not ps.ipv6:
        return
    b.add(T_OUT, 90, True, _DENY, eth_dst=ps.mac, eth_type=_ETH_IP)
    if ps.ipv4:
        for addr in ps.ipv4:
            dst = _host_or_net(addr)
            if isinstance(dst, str) and addr.network.prefixlen != 32:
                b.add(T_OUT, 95, True, _ALLOW, eth_dst=ps.mac, eth_type=_ETH_IP,
                      ip_dst=str(addr.network.broadcast_address))
            b.add(T_OUT, 95, True, _ALLOW, eth_dst=ps.mac, eth_type=_ETH_IP, ip_dst=dst)
        for dst in ("255.255.255.255", ("224.0.0.0", "240.0.0.0")):
            b.add(T_OUT, 95, True, _ALLOW, eth_dst=ps.mac, eth_type=_ETH_IP, ip_dst=dst)
    b.add(T_OUT, 90, True, _DENY, eth_dst=ps.mac, eth_type=_ETH_IPV6)
    if ps.ipv6:
        for addr6 in ps.ipv6:
            b.add(T_OUT, 95, True, _ALLOW, eth_dst=ps.mac, eth_type=_ETH_IPV6,
                  ipv6_dst=_host_or_net(addr6))
        for dst6 in (ps.lla, ("ff00::", "ff00::")):
            b.add(T_OUT, 95, True, _ALLOW, eth_dst=ps.mac, eth_type=_ETH_IPV6,
                  ipv6_dst=dst6)


def port_security_flows(pb: Row, dp_key: int) -> list[Flow]:
    """The port security flows of ``pb`` (parent: ``pb.uuid``) in datapath ``dp_key``.

    Only for ports bound to this chassis (``pb.chassis`` is ours); empty when no
    ``port_security`` entry parses.
    """
    entries = [ps for ps in map(parse_port_security, pb["port_security"]) if ps]
    if not entries:
        return []
    b = _Builder(pb, dp_key)
    b.add(T_IN, 80, False, _DENY)
    b.add(T_IN, 95, False, _ND_CHECK, eth_type=_ETH_ARP)
    b.add(T_IN_ND, 80, False, _DENY, eth_type=_ETH_ARP)
    icmp6 = {"eth_type": _ETH_IPV6, "ip_proto": _ICMPV6, "nw_ttl": 255}
    b.add(T_IN_ND, 80, False, _DENY, **icmp6, icmpv6_type=136)
    # 23.03 lets every NS through at 80 (a workaround for an ovs-vswitchd issue).
    b.add(T_IN_ND, 80, False, _ALLOW, **icmp6, icmpv6_type=135)
    for ps in entries:
        _in_flows(b, ps)
    b.add(T_OUT, 80, True, _DENY)
    for ps in entries:
        _out_flows(b, ps)
    return b.flows


# -- MAC bindings and FDB ---------------------------------------------------------

T_MAC_BINDING = table("MAC_BINDING")
T_MAC_LOOKUP = table("MAC_LOOKUP")
T_GET_FDB = table("GET_FDB")
T_LOOKUP_FDB = table("LOOKUP_FDB")

PRIO_DYNAMIC = 100
PRIO_STATIC_LOW = 50
PRIO_STATIC_HIGH = 150


def _ip_fields(text: str) -> dict[str, int] | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 4:
        return {"reg0": int(ip)}
    value = int(ip)
    return {f"reg{i}": (value >> (96 - 32 * i)) & 0xFFFFFFFF for i in range(4)}


def _neighbor_flows(row: Row, pb: Row | None, dp_key: int | None,
                    priority: int) -> list[Flow]:
    if pb is None or dp_key is None:
        return []
    regs, mac = _ip_fields(row["ip"]), _mac(row["mac"])
    if regs is None or mac is None:
        return []
    cookie = cookie_of(row.uuid)
    lookup_mac = [flag_load(Mlf.LOOKUP_MAC)]
    key = pb["tunnel_key"]
    get = Flow(T_MAC_BINDING, priority, Match(metadata=dp_key, reg15=key, **regs),
               [SetField("eth_dst", mac), *lookup_mac], cookie)
    if "reg1" in regs:
        proto = {"eth_type": 0x86DD, "ip_proto": 58, "icmpv6_code": 0}
    else:
        proto = {"eth_type": 0x0806}
    lookup = Flow(T_MAC_LOOKUP, priority,
                  Match(metadata=dp_key, reg14=key, eth_src=mac, **regs, **proto),
                  lookup_mac, cookie)
    return [get, lookup]


def mac_binding_flows(mb: Row, port_bindings: Mapping[str, Row],
                      local_keys: Mapping[str, int]) -> list[Flow]:
    """The flows of MAC_Binding ``mb``. ``port_bindings``: by logical_port;
    ``local_keys``: tunnel key of each local datapath, by datapath UUID."""
    pb = port_bindings.get(mb["logical_port"])
    dp_key = local_keys.get(pb["datapath"]) if pb is not None else None
    return _neighbor_flows(mb, pb, dp_key, PRIO_DYNAMIC)


def static_mac_binding_flows(smb: Row, port_bindings: Mapping[str, Row],
                             local_keys: Mapping[str, int]) -> list[Flow]:
    """The flows of Static_MAC_Binding ``smb`` (above dynamic bindings when
    ``override_dynamic_mac``, else below)."""
    pb = port_bindings.get(smb["logical_port"])
    dp_key = local_keys.get(pb["datapath"]) if pb is not None else None
    priority = PRIO_STATIC_HIGH if smb["override_dynamic_mac"] else PRIO_STATIC_LOW
    return _neighbor_flows(smb, pb, dp_key, priority)


def fdb_flows(fdb: Row, local_dp_keys: Collection[int]) -> list[Flow]:
    """The flows of FDB row ``fdb`` if its datapath (by tunnel key) is local."""
    dp_key = fdb["dp_key"]
    mac = _mac(fdb["mac"])
    if dp_key not in local_dp_keys or mac is None:
        return []
    cookie = cookie_of(fdb.uuid)
    return [
        Flow(T_GET_FDB, 100, Match(metadata=dp_key, eth_dst=mac),
             [SetField(MFF_LOG_OUTPORT, fdb["port_key"])], cookie),
        Flow(T_LOOKUP_FDB, 100, Match(metadata=dp_key, reg14=fdb["port_key"], eth_src=mac),
             [flag_load(Mlf.LOOKUP_FDB)], cookie),
    ]
