"""The flows a logical switch port generates (``build_lswitch_*_op`` of ovn-northd
23.03): drops for a disabled port, MAC learning for ports with ``unknown`` and no port
security, the ARP/ND responder for its known addresses, and its L2 destinations.

Port security itself needs no per-port flow in 23.03: ``check_in_port_sec()`` /
``check_out_port_sec()`` let ovn-controller apply Port_Binding.port_security.
Supported types: "" (VIF), ``localport`` and ``localnet``; ports of other types get the
same flows, except that types with their own logic in ovn-northd (router, virtual,
external, vtep) get none from here.
"""

from __future__ import annotations

import re

from pyovn.northd.lflow import stages as stg
from pyovn.northd.lflow.flows import LflowConfig, LflowSink, json_key, smap_get_bool
from pyovn.northd.lflow.switch_flows import (
    DROP,
    REGBIT_PORT_SEC_DROP,
    SwitchFlags,
)
from pyovn.northd.model import SwitchPort

__all__ = ["build_port_flows", "scan_mac"]

REGBIT_LKUP_FDB = "reg0[11]"

#: Types ovn-northd handles with logic of their own that pyovn does not implement yet.
UNSUPPORTED_TYPES = frozenset({"router", "virtual", "external", "vtep", "l2gateway",
                               "remote", "chassisredirect"})

# ovs_scan(addr, ETH_ADDR_SCAN_FMT): six colon-separated hex bytes at the start of the
# string; whatever follows (IP addresses) is ignored.
_MAC_RE = re.compile(r"([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):"
                     r"([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})")


def scan_mac(text: str) -> str | None:
    """The Ethernet address an ``addresses`` entry starts with, in OVN's canonical form
    (``%02x:…``), or None."""
    m = _MAC_RE.match(text)
    if m is None:
        return None
    return ":".join(f"{int(b, 16):02x}" for b in m.groups())


def _is_dynamic(address: str) -> bool:
    # lib/ovn-util.c is_dynamic_lsp_address(): "dynamic", "dynamic IP", "MAC dynamic".
    if address == "dynamic" or address.startswith("dynamic "):
        return True
    parts = address.split()
    return len(parts) == 2 and parts[1] == "dynamic" and scan_mac(parts[0]) is not None


def build_port_flows(op: SwitchPort, flags: SwitchFlags, cfg: LflowConfig,
                     sink: LflowSink) -> None:
    """Every flow that port ``op`` (on a switch with ``flags``) generates."""
    if op.type in UNSUPPORTED_TYPES:
        return
    _port_sec(op, sink)
    _learn_fdb(op, sink)
    if op.is_localnet:
        # ARP/ND from the physical network is answered by its own hosts.
        sink.add(stg.LS_IN_ARP_ND_RSP, 100, f"inport == {json_key(op.name)}", "next;",
                 hint=op.uuid, io_port=op.name)
    _arp_nd_responder(op, flags, cfg, sink)
    _unicast_lookup(op, sink)


def _port_sec(op: SwitchPort, sink: LflowSink) -> None:
    if op.enabled:
        return
    key = json_key(op.name)
    # A disabled port can neither send nor receive.
    sink.add(stg.LS_IN_CHECK_PORT_SEC, 100, f"inport == {key}",
             f"{REGBIT_PORT_SEC_DROP} = 1; next;", hint=op.uuid, io_port=op.name)
    sink.add(stg.LS_IN_L2_UNKNOWN, 50, f"outport == {key}", DROP, hint=op.uuid,
             io_port=op.name)


def _learn_fdb(op: SwitchPort, sink: LflowSink) -> None:
    if op.ps_addrs or not op.has_unknown:
        return
    if not (op.type == "" or (op.is_localnet
                              and smap_get_bool(op.options, "localnet_learn_fdb", False))):
        return
    match = f"inport == {json_key(op.name)}"
    sink.add(stg.LS_IN_LOOKUP_FDB, 100, match,
             f"{REGBIT_LKUP_FDB} = lookup_fdb(inport, eth.src); next;",
             hint=op.uuid, io_port=op.name)
    sink.add(stg.LS_IN_PUT_FDB, 100, f"{match} && {REGBIT_LKUP_FDB} == 0",
             "put_fdb(inport, eth.src); next;", hint=op.uuid, io_port=op.name)


def _arp_nd_responder(op: SwitchPort, flags: SwitchFlags, cfg: LflowConfig,
                      sink: LflowSink) -> None:
    if cfg.check_lsp_is_up and not op.up and not op.is_localport:
        return
    if op.has_unknown or flags.vlan_passthru:
        return
    key = json_key(op.name)
    for addrs in op.lsp_addrs:
        ea = addrs.ea_s
        for ip4 in addrs.ipv4_addrs:
            ip = ip4.addr_s
            match = f"arp.tpa == {ip} && arp.op == 1"
            sink.add(stg.LS_IN_ARP_ND_RSP, 50, match,
                     f"eth.dst = eth.src; eth.src = {ea}; arp.op = 2; /* ARP reply */ "
                     f"arp.tha = arp.sha; arp.sha = {ea}; arp.tpa = arp.spa; "
                     f"arp.spa = {ip}; outport = inport; flags.loopback = 1; output;",
                     hint=op.uuid)
            # The owner's own ARP for its address (duplicate address detection) is
            # forwarded, not answered.
            sink.add(stg.LS_IN_ARP_ND_RSP, 100, f"{match} && inport == {key}", "next;",
                     hint=op.uuid, io_port=op.name)
        for ip6 in addrs.ipv6_addrs:
            ip = ip6.addr_s
            match = f"nd_ns && ip6.dst == {{{ip}, {ip6.sn_addr_s}}} && nd.target == {ip}"
            sink.add(stg.LS_IN_ARP_ND_RSP, 50, match,
                     f"nd_na {{ eth.src = {ea}; ip6.src = {ip}; nd.target = {ip}; "
                     f"nd.tll = {ea}; outport = inport; flags.loopback = 1; output; }};",
                     hint=op.uuid)
            sink.add(stg.LS_IN_ARP_ND_RSP, 100, f"{match} && inport == {key}", "next;",
                     hint=op.uuid, io_port=op.name)


def _unicast_lookup(op: SwitchPort, sink: LflowSink) -> None:
    action = f"outport = {json_key(op.name)}; output;" if op.enabled else DROP
    for address in op.addresses:
        mac = scan_mac(address)
        if mac is None and _is_dynamic(address) and op.dynamic_addresses:
            mac = scan_mac(op.dynamic_addresses)
        # Entries that are not addresses were reported when the port was read.
        if mac is not None:
            sink.add(stg.LS_IN_L2_LKUP, 50, f"eth.dst == {mac}", action, hint=op.uuid)
