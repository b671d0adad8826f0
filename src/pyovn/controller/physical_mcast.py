"""Physical flows of Multicast_Groups (tables 39 and 40), as ovn-controller 23.03's
``consider_mc_group`` installs them for one chassis; the per-port and fixed flows are
in :mod:`pyovn.controller.physical`."""

from __future__ import annotations

import functools

from pyovn.controller.physical import (
    _CACHE_SIZE,
    T_CHECK_LOOPBACK,
    T_LOCAL_OUTPUT,
    T_REMOTE_OUTPUT,
    PhysicalContext,
    _load,
    _outport_match_of,
    cookie_of,
)
from pyovn.lflow.tables import MFF_LOG_CT_ZONE, MFF_LOG_OUTPORT
from pyovn.openflow import Action, Flow, Resubmit, SetField
from pyovn.ovsdb import Row

__all__ = ["multicast_group_flows"]


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _output_to(port_key: int) -> tuple[Action, ...]:
    return SetField(MFF_LOG_OUTPORT, port_key), Resubmit(table=T_CHECK_LOOPBACK)


def multicast_group_flows(mc: Row, ctx: PhysicalContext) -> list[Flow]:
    """The flows of Multicast_Group ``mc`` (parent: ``mc.uuid``); empty unless its
    datapath is local. Members are looked up in ``ctx.port_bindings_by_uuid``.

    As 23.03's ``consider_mc_group``, up to two flows matching the datapath and
    ``reg15`` = the group's key: table 40 loads, member by member in UUID order, the
    member's zone (if it has one) and, for a member delivered here (a VIF or
    container bound to this chassis, a localnet port with its patch port), outputs to
    it through table 41, then restores reg15; it exists as soon as any action was
    added. Table 39 outputs to localports (present on every chassis), restores reg15,
    copies to the remote chassis (tunnels: the seam is ``_fanout``) and, if there
    were local copies too, resubmits to 40. 23.03 does not split long action lists.
    """
    ld = ctx.local_datapaths.get(mc["datapath"])
    if ld is None:
        return []
    rows = ctx.port_bindings_by_uuid
    members = [rows[u] for u in sorted(mc["ports"]) if u in rows]
    return _group_flows(mc, ctx, ld.tunnel_key, ld.localnet_port is not None, members)


def _group_flows(mc: Row, ctx: PhysicalContext, dp_key: int, has_localnet: bool,
                 members: list[Row]) -> list[Flow]:
    local: list[Action] = []
    remote: list[Action] = []
    remote_ports = False
    remote_chassis: set[str] = set()
    for pb in members:
        if pb["datapath"] != mc["datapath"]:
            continue  # 23.03 warns about such a group and skips the port
        kind, lport = pb["type"], pb["logical_port"]
        zone = ctx.ct_zones.get(lport, 0)
        if zone:
            local.append(_load(MFF_LOG_CT_ZONE, zone))
        bound_lport = pb["parent_port"] or lport
        if kind == "patch":
            # A router port: delivered once, by the chassis the packet entered on.
            remote_ports = True
            remote.extend(_output_to(pb["tunnel_key"]))
        elif kind == "remote":
            if pb["chassis"] is not None:
                remote_ports = True
                # Tunnel to the remote availability zone's gateway: the tunnels seam.
                remote.append(SetField(MFF_LOG_OUTPORT, pb["tunnel_key"]))
        elif kind == "localport":
            remote_ports = True
            remote.extend(_output_to(pb["tunnel_key"]))
        elif (ctx.chassis.uuid is not None and pb["chassis"] == ctx.chassis.uuid
              and (bound_lport in ctx.local_lports or kind == "l3gateway")
              ) or lport in ctx.patch_ofports:
            # Bound here (through its own interface or its parent's), or a localnet.
            local.extend(_output_to(pb["tunnel_key"]))
        elif kind == "chassisredirect":
            continue  # routers: out of scope
        elif not has_localnet and pb["chassis"] is not None:
            # Through the localnet port when there is one, else by tunnel.
            remote_chassis.add(pb["chassis"])

    key, cookie = mc["tunnel_key"], cookie_of(mc.uuid)
    match = _outport_match_of(dp_key, key)
    flows: list[Flow] = []
    if local:
        flows.append(Flow(T_LOCAL_OUTPUT, 100, match,
                          [*local, SetField(MFF_LOG_OUTPORT, key)], cookie))
    tunnel_actions = _fanout(remote_chassis, ctx)
    if remote_ports or tunnel_actions:
        actions = list(remote)
        actions.append(SetField(MFF_LOG_OUTPORT, key))
        actions.extend(tunnel_actions)
        if local:
            actions.append(Resubmit(table=T_LOCAL_OUTPUT))
        flows.append(Flow(T_REMOTE_OUTPUT, 100, match, actions, cookie))
    return flows


def _fanout(remote_chassis: set[str], ctx: PhysicalContext) -> list[Action]:
    """Encapsulate and output to each remote chassis: the tunnels seam (no tunnels yet,
    so no copies, as 23.03 without a tunnel to those chassis)."""
    return []
