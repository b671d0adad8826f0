"""Physical flows: the OpenFlow that joins br-int's ports to the logical pipelines.

ovn-controller 23.03 installs, besides the translated logical flows, flows of its own
(``controller/physical.c``); this module computes the same ones as pure functions of the
Southbound rows and the local state, one list of :class:`~pyovn.openflow.Flow` per
parent (the SB row whose change requires recomputing them), so that the desired flow
table can replace them by parent:

- :func:`port_binding_flows` (parent: the Port_Binding UUID): for a port reachable
  here through an OpenFlow port (a VIF, a container behind a VIF, a localnet patch
  port) table 0 (physical → logical: datapath, inport and conntrack zones, then the
  ingress pipeline), 40 (local output: zones, then the loopback check), 41 (drop
  inport == outport unless allowed), 64 (hair-pin by clearing ``in_port``) and 65
  (logical → physical: output); for a localport 39 (never tunnel its traffic); for a
  localnet port the 41 drops of localport and local-only traffic; for a port on
  another chassis of a datapath with a localnet port, 40 (send it to the localnet);
  for a patch port 40, 41, 64 and 65 (into the peer datapath's ingress pipeline).
- :func:`~pyovn.controller.physical_mcast.multicast_group_flows` (parent: the
  Multicast_Group UUID, in its own module): the fan-out of a
  group to its members, tables 40 and 39 (see that function).
- :func:`fixed_flows` (parent :data:`FIXED_PARENT`): the defaults of tables 0, 37 to
  41, 64 and 65.

Port security and the MAC binding / FDB tables live in
:mod:`~pyovn.controller.physical_lookups`.

Cookies are ovn-controller's: the first 32 bits of the parent row's UUID (0 for fixed
flows). The table layout, registers and flag bits are :mod:`pyovn.lflow.tables`'.

**Tunnels** are not implemented yet. Their seam is :attr:`PhysicalContext.tunnels` and
:func:`remote_port_flows`: a port bound to another chassis (no local OpenFlow port, no
localnet port) gets the table-39 flow that encapsulates and outputs to the tunnel
there, and table 0 gets one decapsulation flow per tunnel port. Until then such ports
get no flow, exactly as ovn-controller 23.03 installs none when it has no tunnel to
that chassis. Gateway ports (``l3gateway``, ``chassisredirect``) and VTEP ports are
out of scope as well and get no flows; ``patch`` ports (between a switch and a router)
get theirs from :func:`patch_port_flows`.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyovn.controller.binding import ChassisIdentity, LocalDatapath, can_bind
from pyovn.lflow.encode_nx import StackPop, StackPush
from pyovn.lflow.tables import (
    MFF_LOG_CT_ZONE,
    MFF_LOG_DATAPATH,
    MFF_LOG_DNAT_ZONE,
    MFF_LOG_FLAGS,
    MFF_LOG_INPORT,
    MFF_LOG_OUTPORT,
    MFF_LOG_SNAT_ZONE,
    Mlf,
    table,
)
from pyovn.openflow import Action, Flow, Match, Output, PopVlan, PushVlan, Resubmit, SetField
from pyovn.openflow.actions import load
from pyovn.openflow.nx_actions import Clone, CtClear
from pyovn.ovsdb import Row

__all__ = [
    "FIXED_PARENT",
    "LocalDatapath",
    "PhysicalContext",
    "Tunnel",
    "ZoneIds",
    "cookie_of",
    "fixed_flows",
    "flag_load",
    "patch_peer",
    "patch_port_flows",
    "port_binding_flows",
    "remote_port_flows",
    "zone_ids",
    "zone_loads",
]

#: The parent of flows that belong to no SB row (ovn-controller's ``hc_uuid``).
FIXED_PARENT = "physical-fixed"

T_PHY_TO_LOG = table("PHY_TO_LOG")
T_INGRESS = table("LOG_INGRESS_PIPELINE")
T_LARGE_PKT_DETECT = table("OUTPUT_LARGE_PKT_DETECT")
T_LARGE_PKT_PROCESS = table("OUTPUT_LARGE_PKT_PROCESS")
T_REMOTE_OUTPUT = table("REMOTE_OUTPUT")
T_LOCAL_OUTPUT = table("LOCAL_OUTPUT")
T_CHECK_LOOPBACK = table("CHECK_LOOPBACK")
T_EGRESS = table("LOG_EGRESS_PIPELINE")
T_SAVE_INPORT = table("SAVE_INPORT")
T_LOG_TO_PHY = table("LOG_TO_PHY")

#: Registers the loopback check clears before the egress pipeline (MFF_N_LOG_REGS).
N_LOG_REGS = 10
#: OFPP_NONE as the 16-bit NXM in_port (ovs-ofctl prints it as ANY).
OFPP_NONE_16 = 0xFFFF
#: 802.1Q's "a VLAN header is present" bit of vlan_tci (VLAN_CFI).
VLAN_CFI = 0x1000

#: Port_Binding types whose flows this module does not build (gateways, VTEP).
UNSUPPORTED_TYPES = frozenset({"l3gateway", "chassisredirect", "vtep"})


@dataclass(frozen=True, slots=True)
class Tunnel:
    """A tunnel port to another chassis (the seam for the tunnels issue)."""

    chassis_name: str
    ofport: int
    type: str  # geneve, vxlan or stt


@dataclass(frozen=True, slots=True)
class ZoneIds:
    """The conntrack zones of a port: its own, and its datapath's DNAT/SNAT zones."""

    ct: int = 0
    dnat: int = 0
    snat: int = 0


@dataclass
class PhysicalContext:
    """Everything the physical flows of one chassis depend on besides the row itself.

    ``ofports`` maps a logical port to the OpenFlow port of the local interface whose
    ``external_ids:iface-id`` names it; ``patch_ofports`` a localnet port to br-int's
    end of its patch port. ``local_lports`` are the logical ports with a local
    interface (VIFs, localports, and containers through their parent).
    ``port_bindings_by_uuid`` is the Port_Binding table (multicast group members).
    """

    chassis: ChassisIdentity
    local_datapaths: Mapping[str, LocalDatapath]
    port_bindings: Mapping[str, Row]  # by logical_port
    ofports: Mapping[str, int]
    patch_ofports: Mapping[str, int]
    ct_zones: Mapping[str, int]
    local_lports: Collection[str] = ()
    port_bindings_by_uuid: Mapping[str, Row] = field(default_factory=dict)
    tunnels: Mapping[str, Tunnel] = field(default_factory=dict)


def cookie_of(uuid: str) -> int:
    """ovn-controller's cookie for flows of row ``uuid``: its first 32 bits."""
    try:
        return int(uuid[:8], 16)
    except ValueError:
        return 0


def nat_zone_key(datapath_uuid: str, kind: str) -> str:
    """The ct-zone user name of a datapath's NAT zone (``kind``: dnat or snat)."""
    return f"{datapath_uuid}_{kind}"


def zone_ids(pb: Row, ct_zones: Mapping[str, int]) -> ZoneIds:
    """The zones ovn-controller loads for ``pb`` (0 where none is assigned)."""
    dp = pb["datapath"]
    return ZoneIds(ct_zones.get(pb["logical_port"], 0),
                   ct_zones.get(nat_zone_key(dp, "dnat"), 0),
                   ct_zones.get(nat_zone_key(dp, "snat"), 0))


# The same matches and register loads come back every time a port or group is
# computed again (a group's fan-out has two actions per member); they are immutable,
# so the common ones are built once and shared. Bounded: about one entry per port.
_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _load(field: str, value: int) -> SetField:
    return SetField(field, value)


def zone_loads(zones: ZoneIds) -> list[Action]:
    """Load the nonzero zones into reg13 (ct), reg11 (dnat), reg12 (snat)."""
    out: list[Action] = []
    if zones.ct:
        out.append(_load(MFF_LOG_CT_ZONE, zones.ct))
    if zones.dnat:
        out.append(_load(MFF_LOG_DNAT_ZONE, zones.dnat))
    if zones.snat:
        out.append(_load(MFF_LOG_SNAT_ZONE, zones.snat))
    return out


def flag_load(bit: Mlf, value: int = 1) -> SetField:
    """Set or clear one MLF_* bit of the logical flags register."""
    return load(value, f"{MFF_LOG_FLAGS}[{int(bit)}]")


def _bit(flag: Mlf) -> int:
    return 1 << int(flag)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _outport_match_of(dp_key: int, port_key: int) -> Match:
    return Match(metadata=dp_key, reg15=port_key)


def _outport_match(dp_key: int, port_key: int, **extra: Any) -> Match:
    if not extra:
        return _outport_match_of(dp_key, port_key)
    return Match(metadata=dp_key, reg15=port_key, **extra)


# Hair-pinning needs in_port cleared, or OpenFlow drops output to the input port.
_SAVE_INPORT_ACTIONS: tuple[Action, ...] = (
    StackPush("in_port"), SetField("in_port", OFPP_NONE_16), Resubmit(table=T_LOG_TO_PHY),
    StackPop("in_port"))


def _save_inport_actions() -> tuple[Action, ...]:
    return _SAVE_INPORT_ACTIONS


def _local_common_flows(pb: Row, dp_key: int, zones: ZoneIds,
                        parent_pb: Row | None) -> list[Flow]:
    """Tables 40, 41, 64 of a port delivered on this chassis."""
    key, cookie = pb["tunnel_key"], cookie_of(pb.uuid)
    flows = [
        Flow(T_LOCAL_OUTPUT, 100, _outport_match(dp_key, key),
             [*zone_loads(zones), Resubmit(table=T_CHECK_LOOPBACK)], cookie),
        Flow(T_CHECK_LOOPBACK, 100,
             Match(metadata=dp_key, reg14=key, reg15=key,
                   reg10=(0, _bit(Mlf.ALLOW_LOOPBACK))), (), cookie),
    ]
    if parent_pb is None:
        save = _outport_match(dp_key, key, reg10=(_bit(Mlf.ALLOW_LOOPBACK),
                                                             _bit(Mlf.ALLOW_LOOPBACK)))
        flows.append(Flow(T_SAVE_INPORT, 100, save, _save_inport_actions(), cookie))
    else:
        # A container's traffic may hair-pin to its siblings and to the parent VIF.
        flows.append(Flow(T_SAVE_INPORT, 100, _outport_match(dp_key, key),
                          _save_inport_actions(), cookie))
        nested = _bit(Mlf.NESTED_CONTAINER)
        # ovn-controller 23.03 adds this one with cookie 0, under the child's parent.
        flows.append(Flow(T_SAVE_INPORT, 100,
                          _outport_match(dp_key, parent_pb["tunnel_key"],
                                         reg10=(nested, nested)),
                          _save_inport_actions(), 0))
    return flows


def _ingress_loads(pb: Row, dp_key: int, zones: ZoneIds) -> list[Action]:
    return [*zone_loads(zones), SetField(MFF_LOG_DATAPATH, dp_key),
            SetField(MFF_LOG_INPORT, pb["tunnel_key"])]


def _local_port_flows(pb: Row, ctx: PhysicalContext, ld: LocalDatapath, ofport: int,
                      tag: int, nested: bool, parent_pb: Row | None) -> list[Flow]:
    """The flows of a port reached through OpenFlow port ``ofport`` of br-int
    (``nested``: a container behind the VIF of its parent port ``parent_pb``)."""
    kind = pb["type"]
    dp_key, key, cookie = ld.tunnel_key, pb["tunnel_key"], cookie_of(pb.uuid)
    zones = zone_ids(pb, ctx.ct_zones)
    flows = _local_common_flows(pb, dp_key, zones, parent_pb)

    # Table 0: tagged traffic (containers, VLAN networks) at 150, the rest at 100.
    match = Match(in_port=ofport)
    prefix: list[Action] = []
    bridged = kind in ("localnet", "l2gateway")
    if tag or bridged:
        if nested:
            prefix.append(flag_load(Mlf.NESTED_CONTAINER))
        passthru = (pb["options"] or {}).get("vlan-passthru") == "true"
        if not passthru or tag:
            match = Match(in_port=ofport, dl_vlan=tag)
            prefix.append(PopVlan())
    body = _ingress_loads(pb, dp_key, zones)
    if kind == "localport":
        body.append(flag_load(Mlf.LOCALPORT))
    body.append(Resubmit(table=T_INGRESS))
    flows.append(Flow(T_PHY_TO_LOG, 150 if tag else 100, match, [*prefix, *body], cookie))
    if not tag and bridged:
        # Frames without any 802.1Q header: the same without stripping.
        flows.append(Flow(T_PHY_TO_LOG, 100,
                          Match(in_port=ofport, vlan_tci=(0, VLAN_CFI)), body, cookie))

    # Table 65: deliver, tagging for containers and VLAN networks.
    out: list[Action] = [Output(ofport)]
    if tag:
        ethertype = _vlan_ethertype(ld.localnet_port)
        out = [PushVlan(ethertype), SetField("vlan_vid", VLAN_CFI | tag), Output(ofport),
               PopVlan()]
    flows.append(Flow(T_LOG_TO_PHY, 100, _outport_match(dp_key, key), out, cookie))

    if kind == "localnet":
        # Never forward a localport's traffic, or local-only traffic, to the network.
        for bit in (Mlf.LOCALPORT, Mlf.LOCAL_ONLY):
            flows.append(Flow(T_CHECK_LOOPBACK, 160,
                              _outport_match(dp_key, key,
                                             reg10=(_bit(bit), _bit(bit))),
                              (), cookie))
    if kind == "localport":
        # A localport exists on every chassis: its traffic never leaves this one.
        flows.append(Flow(T_REMOTE_OUTPUT, 150, Match(metadata=dp_key, reg14=key),
                          [Resubmit(table=T_LOCAL_OUTPUT)], cookie))
    return flows


def _vlan_ethertype(localnet_port: Row | None) -> int:
    option = ((localnet_port["options"] or {}).get("ethtype", "")
              if localnet_port is not None else "").lower()
    return 0x88A8 if option in ("802.11ad", "802.1ad") else 0x8100


def port_binding_flows(pb: Row, ctx: PhysicalContext) -> list[Flow]:
    """The physical flows of Port_Binding ``pb`` on this chassis (parent: ``pb.uuid``).

    Empty unless ``pb``'s datapath is local. Mirrors 23.03's ``consider_port_binding``:
    the port is reached through a local OpenFlow port (VIF, container behind its
    parent VIF, localnet patch port), else through the datapath's localnet port, else
    through a tunnel (:func:`remote_port_flows`).
    """
    ld = ctx.local_datapaths.get(pb["datapath"])
    if ld is None or pb["type"] in UNSUPPORTED_TYPES:
        return []
    lport, kind = pb["logical_port"], pb["type"]
    if kind == "patch":
        return patch_port_flows(pb, ctx, ld)
    tag = 0
    parent_pb: Row | None = None
    parent = pb["parent_port"]
    if parent:
        if pb["tag"] is None:
            return []
        ofport = ctx.ofports.get(parent, 0)
        if ofport:
            tag = pb["tag"]
            parent_pb = ctx.port_bindings.get(parent)
            if parent_pb is not None and not can_bind(parent_pb, ctx.chassis):
                ofport = 0
    elif kind in ("localnet", "l2gateway"):
        ofport = ctx.patch_ofports.get(lport, 0)
        if ofport and pb["tag"] is not None:
            tag = pb["tag"]
    else:
        ofport = ctx.ofports.get(lport, 0)
        if ofport and not can_bind(pb, ctx.chassis):
            ofport = 0

    if ofport:
        return _local_port_flows(pb, ctx, ld, ofport, tag, bool(parent), parent_pb)
    localnet = ld.localnet_port
    if localnet is not None and not pb.get("additional_chassis"):
        if not ctx.patch_ofports.get(localnet["logical_port"], 0):
            return []
        # On another chassis, reached through the physical network.
        return [Flow(T_LOCAL_OUTPUT, 100, _outport_match(ld.tunnel_key, pb["tunnel_key"]),
                     [SetField(MFF_LOG_OUTPORT, localnet["tunnel_key"]),
                      Resubmit(table=T_LOCAL_OUTPUT)], cookie_of(pb.uuid))]
    return remote_port_flows(pb, ctx, ld)


def patch_peer(pb: Row, ctx: PhysicalContext) -> Row | None:
    """The other end of patch port ``pb``: the port its ``options:peer`` names, if that
    one is a patch port naming ``pb`` back (23.03 ignores a one-sided pair)."""
    peer = ctx.port_bindings.get((pb["options"] or {}).get("peer", ""))
    if peer is None or peer["type"] != pb["type"] \
            or (peer["options"] or {}).get("peer") != pb["logical_port"]:
        return None
    return peer


def patch_port_flows(pb: Row, ctx: PhysicalContext, ld: LocalDatapath) -> list[Flow]:
    """The flows of patch port ``pb`` (a switch's port to a router, or the router's
    port to the switch): the local delivery flows of tables 40, 41 and 64, and table
    65 crossing to the peer's datapath, as 23.03's ``consider_port_binding``.

    Crossing runs in a ``clone`` so that the packet comes back unchanged, with
    conntrack state and zones cleared, the peer's zones, datapath and inport loaded,
    and flags, outport and the logical registers zeroed for the peer's ingress
    pipeline. The flows also depend on the peer's row and zones
    (:class:`~pyovn.controller.physical_node.PhysicalFlowsNode` recomputes both ends).
    """
    peer = patch_peer(pb, ctx)
    if peer is None:
        return []
    peer_ld = ctx.local_datapaths.get(peer["datapath"])
    if peer_ld is None:
        return []
    dp_key, key = ld.tunnel_key, pb["tunnel_key"]
    flows = _local_common_flows(pb, dp_key, zone_ids(pb, ctx.ct_zones), None)
    cross: list[Action] = [CtClear(), SetField(MFF_LOG_DNAT_ZONE, 0),
                           SetField(MFF_LOG_SNAT_ZONE, 0), SetField(MFF_LOG_CT_ZONE, 0),
                           *_ingress_loads(peer, peer_ld.tunnel_key,
                                           zone_ids(peer, ctx.ct_zones)),
                           SetField(MFF_LOG_FLAGS, 0), SetField(MFF_LOG_OUTPORT, 0),
                           *(SetField(f"reg{i}", 0) for i in range(N_LOG_REGS)),
                           Resubmit(table=T_INGRESS)]
    flows.append(Flow(T_LOG_TO_PHY, 100, _outport_match(dp_key, key), [Clone(cross)],
                      cookie_of(pb.uuid)))
    return flows


def remote_port_flows(pb: Row, ctx: PhysicalContext, ld: LocalDatapath) -> list[Flow]:
    """Flows that tunnel traffic for ``pb`` to the chassis it is bound to.

    The tunnels seam: empty while :attr:`PhysicalContext.tunnels` has no tunnel to
    that chassis, which is what ovn-controller 23.03 installs in that case too.
    """
    # Tunnels are the next issue: encapsulation (geneve: tun_id = datapath key,
    # tun_metadata0 = inport << 16 | outport) and output to the tunnel's ofport at
    # table 39 priority 100, then resubmit to 40.
    return []


def fixed_flows() -> list[Flow]:
    """The flows ovn-controller 23.03 always installs (parent :data:`FIXED_PARENT`)."""
    loopback = _bit(Mlf.ALLOW_LOOPBACK)
    ramp = _bit(Mlf.RCV_FROM_RAMP)
    local_only = _bit(Mlf.LOCAL_ONLY)
    to_remote = [Resubmit(table=T_REMOTE_OUTPUT)]
    to_local = [Resubmit(table=T_LOCAL_OUTPUT)]
    clear_regs: list[Action] = [SetField(f"reg{i}", 0) for i in range(N_LOG_REGS)]
    return [
        Flow(T_PHY_TO_LOG, 0, Match(), ()),
        Flow(T_LARGE_PKT_DETECT, 0, Match(), to_remote),
        Flow(T_LARGE_PKT_PROCESS, 10, Match(reg10=(loopback, loopback)), to_local),
        Flow(T_LARGE_PKT_PROCESS, 0, Match(), to_remote),
        # Received from a VTEP ramp switch: only local delivery, unless looping back.
        Flow(T_REMOTE_OUTPUT, 150, Match(reg10=(ramp, ramp | loopback)), to_local),
        Flow(T_REMOTE_OUTPUT, 150, Match(reg10=(local_only, local_only)), to_local),
        Flow(T_REMOTE_OUTPUT, 0, Match(), to_local),
        Flow(T_LOCAL_OUTPUT, 0, Match(), ()),
        Flow(T_CHECK_LOOPBACK, 0, Match(), [*clear_regs, Resubmit(table=T_EGRESS)]),
        Flow(T_SAVE_INPORT, 0, Match(), [Resubmit(table=T_LOG_TO_PHY)]),
        Flow(T_LOG_TO_PHY, 0, Match(), ()),
    ]


# -- multicast groups --------------------------------------------------------------
