"""Test support for pyovn-northd's logical flows: an NB → model adapter, and the
normalized form in which flows of real ovn-northd and of pyovn are compared.

The adapter is deliberately minimal and lives with the tests: it reads an NB database
into :class:`~pyovn.northd.model.NorthdData` so that flow generation can be tested (and
compared with real ovn-northd) independently of the NB side of pyovn-northd. It
supports what the oracle scenarios use: switches, ports of type ""/localport/localnet
with MAC / IPv4 / IPv6 addresses, ``unknown``, port security, ACLs, port groups,
address sets, meters and NB_Global options.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from pyovn.northd.lflow.table import LflowTable
from pyovn.northd.model import (
    AclInfo,
    AddressSetInfo,
    Ipv4NetAddr,
    Ipv6NetAddr,
    LportAddresses,
    McastSwitchInfo,
    MeterInfo,
    NorthdData,
    NorthdGlobals,
    PortGroupInfo,
    SwitchDatapath,
    SwitchPort,
)
from pyovn.ovsdb import Client, Row
from pyovn.sandbox.procs import NB_SCHEMA, SB_SCHEMA

NB_MODEL_TABLES: dict[str, list[str] | None] = {
    t: None for t in ("NB_Global", "Logical_Switch", "Logical_Switch_Port", "ACL",
                      "Port_Group", "Address_Set", "Meter")}
SB_FLOW_TABLES: dict[str, list[str] | None] = {
    t: None for t in ("Logical_Flow", "Logical_DP_Group", "Datapath_Binding")}



_MAC = re.compile(r"^([0-9a-fA-F]{1,2}:){5}[0-9a-fA-F]{1,2}$")


# --- addresses -------------------------------------------------------------------------


def _ipv4(text: str) -> Ipv4NetAddr | None:
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError:
        return None
    net = iface.network
    return Ipv4NetAddr(str(iface.ip), net.prefixlen, str(net.netmask),
                       str(net.network_address), str(net.broadcast_address))


def _ipv6(text: str) -> Ipv6NetAddr | None:
    try:
        iface = ipaddress.IPv6Interface(text)
    except ValueError:
        return None
    ip = iface.ip
    low24 = int(ip) & 0xFFFFFF
    sn = ipaddress.IPv6Address((0xFF02_0000_0000_0000_0000_0001_FF00_0000) | low24)
    return Ipv6NetAddr(str(ip), iface.network.prefixlen, str(iface.network.netmask),
                       str(iface.network.network_address), str(sn), ip.is_link_local)


def parse_lport_addresses(entry: str) -> LportAddresses | None:
    """``"MAC [IP...]"`` → :class:`LportAddresses` (None if it does not parse)."""
    words = entry.split()
    if not words or not _MAC.match(words[0]):
        return None
    mac = ":".join(f"{int(b, 16):02x}" for b in words[0].split(":"))
    v4: list[Ipv4NetAddr] = []
    v6: list[Ipv6NetAddr] = []
    for word in words[1:]:
        if ":" in word:
            a6 = _ipv6(word)
            if a6 is None:
                return None
            v6.append(a6)
        else:
            a4 = _ipv4(word)
            if a4 is None:
                return None
            v4.append(a4)
    return LportAddresses(mac, tuple(v4), tuple(v6))


# --- NB → model ------------------------------------------------------------------------


def _acl(row: Row, kind: str, owner: str) -> AclInfo:
    return AclInfo(uuid=row.uuid, direction=row["direction"], priority=row["priority"],
                   match=row["match"], action=row["action"], log=row["log"],
                   name=row["name"], severity=row["severity"], meter=row["meter"],
                   label=row["label"], options=dict(row["options"]), owner_kind=kind,
                   owner=owner)


def _port(row: Row, switch: str) -> SwitchPort:
    lsp_addrs = []
    for entry in row["addresses"]:
        if entry in ("unknown", "router", "dynamic"):
            continue
        parsed = parse_lport_addresses(entry)
        if parsed is not None:
            lsp_addrs.append(parsed)
    ps_addrs = [p for p in (parse_lport_addresses(e) for e in row["port_security"])
                if p is not None]
    enabled = row["enabled"]
    return SwitchPort(
        name=row["name"], uuid=row.uuid, datapath=switch, tunnel_key=0, type=row["type"],
        addresses=tuple(row["addresses"]), lsp_addrs=tuple(lsp_addrs),
        has_unknown="unknown" in row["addresses"],
        dynamic_addresses=row["dynamic_addresses"],
        port_security=tuple(row["port_security"]), ps_addrs=tuple(ps_addrs),
        enabled=enabled is None or bool(enabled), up=row["up"],
        options=dict(row["options"]), parent_name=row["parent_name"], tag=row["tag"],
        external_ids=dict(row["external_ids"]))


def nb_model(nb: Client, features: Mapping[str, bool] | None = None) -> NorthdData:
    """The :class:`NorthdData` of the NB replica in ``nb`` (monitoring
    :data:`NB_MODEL_TABLES`); ``features`` are the chassis features (default: all)."""
    t = nb.tables
    acl_rows = t["ACL"].rows
    lsp_rows = t["Logical_Switch_Port"].rows
    port_switch: dict[str, str] = {}
    switches_rows = sorted(t["Logical_Switch"].rows.values(), key=lambda r: r["name"])
    for ls in switches_rows:
        for lsp in ls["ports"]:
            port_switch[lsp] = ls["name"]
    ports_by_uuid = {u: _port(lsp_rows[u], sw) for u, sw in port_switch.items()}
    ports = {p.name: p for p in ports_by_uuid.values()}

    port_groups: dict[str, PortGroupInfo] = {}
    for pg in t["Port_Group"].rows.values():
        members = [ports_by_uuid[u] for u in pg["ports"] if u in ports_by_uuid]
        port_groups[pg["name"]] = PortGroupInfo(
            name=pg["name"], uuid=pg.uuid, ports=frozenset(p.name for p in members),
            acls=tuple(_acl(acl_rows[u], "port_group", pg["name"]) for u in pg["acls"]),
            switches=frozenset(p.datapath for p in members))

    switches: dict[str, SwitchDatapath] = {}
    for key, ls in enumerate(switches_rows, start=1):
        name = ls["name"]
        sw_ports = {ports_by_uuid[u].name: ports_by_uuid[u] for u in ls["ports"]}
        acls = tuple(_acl(acl_rows[u], "switch", name) for u in ls["acls"])
        pgs = frozenset(pg.name for pg in port_groups.values() if name in pg.switches)
        all_acls = [*acls, *(a for pg in pgs for a in port_groups[pg].acls)]
        switches[name] = SwitchDatapath(
            name=name, uuid=ls.uuid, tunnel_key=key, other_config=dict(ls["other_config"]),
            external_ids=dict(ls["external_ids"]), ports=sw_ports, acls=acls,
            port_groups=pgs,
            localnet_ports=tuple(sorted(p.name for p in sw_ports.values()
                                        if p.type == "localnet")),
            has_unknown=any(p.has_unknown for p in sw_ports.values()),
            has_acls=bool(all_acls),
            has_stateful_acl=any(a.action == "allow-related" for a in all_acls),
            has_lb_vip=False, has_vtep_lports=False, mcast_info=McastSwitchInfo())

    address_sets = {r["name"]: AddressSetInfo(r["name"], frozenset(r["addresses"]))
                    for r in t["Address_Set"].rows.values()}
    meters = {r["name"]: MeterInfo(r["name"], r["unit"], bool(r["fair"]))
              for r in t["Meter"].rows.values()}
    nbg = next(iter(t["NB_Global"].rows.values()), None)
    options = dict(nbg["options"]) if nbg is not None else {}
    feats = dict(features) if features is not None else {
        "ct_no_masked_label": True, "ct_lb_related": True}
    glob = NorthdGlobals(options=options, svc_monitor_mac="", mac_prefix="", features=feats)
    return NorthdData(switches=switches, ports=ports, port_groups=port_groups,
                      address_sets=address_sets, meters=meters, globals=glob, tracked=None)


def read_nb_model(nb_remote: str, features: Mapping[str, bool] | None = None
                  ) -> NorthdData:
    """Connect to ``nb_remote``, read it, and return its :class:`NorthdData`."""
    nb = Client(nb_remote, NB_SCHEMA, NB_MODEL_TABLES, track_changes=False)
    try:
        nb.run_until(lambda: nb.synced, timeout=10)
        return nb_model(nb, features)
    finally:
        nb.close()


# --- the compared form -----------------------------------------------------------------


_FAIR_METER = re.compile(r'meter="([^"]*)__([0-9a-f]{8})-[0-9a-f-]{27}"')


def _fair_meters(actions: str, hint: str | None) -> str:
    """A fair meter is named after its ACL's UUID, which differs between deployments:
    replace it with ``<acl>``, having checked it is the UUID of the flow's own ACL."""
    def sub(m: re.Match[str]) -> str:
        assert hint is None or m.group(2) == hint, f"meter of another ACL in {actions}"
        return f'meter="{m.group(1)}__<acl>"'
    return _FAIR_METER.sub(sub, actions)


class NormFlow(NamedTuple):
    """A logical flow as the oracle compares it: its datapaths by name, and itself."""

    datapaths: tuple[str, ...]
    pipeline: str
    table_id: int
    priority: int
    match: str
    actions: str

    def line(self) -> str:
        """One readable line, as ``ovn-sbctl lflow-list`` would show the flow."""
        return (f"{','.join(self.datapaths)} {self.pipeline} table={self.table_id} "
                f"priority={self.priority} match=({self.match}) action=({self.actions})")


def normalize_sb(flows: Iterable[Row], groups: Mapping[str, Row],
                 datapaths: Mapping[str, Row]) -> set[NormFlow]:
    """SB Logical_Flow rows → :class:`NormFlow` (datapaths named by
    ``external_ids:name``)."""
    def dp_name(uuid: str) -> str:
        row = datapaths.get(uuid)
        return row["external_ids"].get("name", uuid) if row is not None else uuid

    out: set[NormFlow] = set()
    for f in flows:
        uuids: Iterable[str]
        if f["logical_dp_group"] is not None:
            group = groups.get(f["logical_dp_group"])
            uuids = group["datapaths"] if group is not None else ()
        else:
            uuids = [f["logical_datapath"]] if f["logical_datapath"] is not None else []
        actions = _fair_meters(f["actions"], f["external_ids"].get("stage-hint"))
        out.add(NormFlow(tuple(sorted(dp_name(u) for u in uuids)), f["pipeline"],
                         f["table_id"], f["priority"], f["match"], actions))
    return out


def read_sb_flows(sb_remote: str) -> set[NormFlow]:
    """Every Logical_Flow of the SB at ``sb_remote``, normalized."""
    sb = Client(sb_remote, SB_SCHEMA, SB_FLOW_TABLES, track_changes=False)
    try:
        sb.run_until(lambda: sb.synced, timeout=10)
        t = sb.tables
        return normalize_sb(t["Logical_Flow"].rows.values(), t["Logical_DP_Group"].rows,
                            t["Datapath_Binding"].rows)
    finally:
        sb.close()


def _hint_names(nb_remote: str) -> dict[str, str]:
    nb = Client(nb_remote, NB_SCHEMA, {"ACL": None, "Logical_Switch_Port": ["name"]},
                track_changes=False)
    try:
        nb.run_until(lambda: nb.synced, timeout=10)
        names = {u[:8]: f"lsp {r['name']}"
                 for u, r in nb.tables["Logical_Switch_Port"].rows.items()}
        for u, r in nb.tables["ACL"].rows.items():
            names[u[:8]] = (f"acl {r['direction']} {r['priority']} {r['action']} "
                            f"{r['match']}")
        return names
    finally:
        nb.close()


def read_sb_flow_attrs(sb_remote: str, nb_remote: str
                       ) -> dict[NormFlow, tuple[str | None, str | None]]:
    """Each flow's (``tags:in_out_port``, NB row its ``stage-hint`` names), the row
    named by kind and content so that two deployments compare."""
    hints = _hint_names(nb_remote)
    sb = Client(sb_remote, SB_SCHEMA, SB_FLOW_TABLES, track_changes=False)
    try:
        sb.run_until(lambda: sb.synced, timeout=10)
        t = sb.tables
        out = {}
        for row in t["Logical_Flow"].rows.values():
            (flow,) = normalize_sb([row], t["Logical_DP_Group"].rows,
                                   t["Datapath_Binding"].rows)
            hint = row["external_ids"].get("stage-hint")
            out[flow] = (row["tags"].get("in_out_port"),
                         None if hint is None else hints.get(hint, f"? {hint}"))
        return out
    finally:
        sb.close()


def normalize_table(table: LflowTable, dp_names: Mapping[str, str]) -> set[NormFlow]:
    """pyovn's desired flows, normalized (``dp_names``: NB switch UUID → name)."""
    return {NormFlow(tuple(sorted(dp_names.get(d, d) for d in entry.dps)), key.pipeline,
                     key.table_id, key.priority, key.match,
                     _fair_meters(key.actions, entry.effective_attrs().stage_hint))
            for key, entry in table.flows.items()}


def flow_diff(expected: set[NormFlow], actual: set[NormFlow], limit: int = 60) -> str:
    """A readable diff: ``-`` flows only real ovn-northd wrote, ``+`` only pyovn's."""
    lines = [f"- {f.line()}" for f in sorted(expected - actual)]
    lines += [f"+ {f.line()}" for f in sorted(actual - expected)]
    more = len(lines) - limit
    return "\n".join(lines[:limit] + ([f"... and {more} more"] if more > 0 else []))

