"""Logical_Switch rows → switch-level parts of :class:`~pyovn.northd.model.SwitchDatapath`
(ACLs, multicast configuration, derived flags), and the Datapath_Binding content
ovn-northd 23.03 writes for a switch.

Pure functions of NB rows and model objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pyovn.northd.model import AclInfo, McastSwitchInfo, SwitchPort
from pyovn.ovsdb import Row

__all__ = [
    "acl_flags",
    "acl_info",
    "datapath_binding_row",
    "mcast_switch_info",
    "port_flags",
    "smap_get_bool",
]


def acl_info(row: Row, owner_kind: str, owner: str) -> AclInfo:
    """The model of one ACL row as applied by switch or port group ``owner``."""
    return AclInfo(
        uuid=row.uuid, direction=row["direction"], priority=int(row["priority"]),
        match=row["match"], action=row["action"], log=bool(row["log"]),
        name=row["name"], severity=row["severity"], meter=row["meter"],
        label=int(row["label"]), options=row["options"], owner_kind=owner_kind,
        owner=owner)


def acl_flags(acl_groups: Iterable[Iterable[AclInfo]]) -> tuple[bool, bool]:
    """(has_acls, has_stateful_acl) over a switch's own ACLs and those of its port
    groups: stateful means some ``allow-related`` ACL (ovn-northd's ``ls_get_acl_flags``)."""
    has_acls = has_stateful = False
    for group in acl_groups:
        for acl in group:
            has_acls = True
            if acl.action == "allow-related":
                return True, True
    return has_acls, has_stateful


def port_flags(ports: Iterable[SwitchPort]) -> tuple[bool, tuple[str, ...], bool]:
    """(has_unknown, localnet_ports, has_vtep_lports) of a switch's ports.

    ``has_unknown`` counts only enabled ports, as ovn-northd sets it while adding
    ports to ``_MC_unknown``.
    """
    has_unknown = has_vtep = False
    localnet: list[str] = []
    for port in ports:
        if port.has_unknown and port.enabled:
            has_unknown = True
        if port.type == "localnet":
            localnet.append(port.name)
        elif port.type == "vtep":
            has_vtep = True
    return has_unknown, tuple(sorted(localnet)), has_vtep


_ULL_RE = re.compile(r"\s*[+-]?[0-9]+\Z")


def _ullong(config: Mapping[str, str], key: str, default: int) -> int:
    """OVS's ``smap_get_ullong`` (strtoull: a leading "-" wraps around), as a signed
    64-bit value."""
    value = config.get(key)
    if value is None or not _ULL_RE.match(value):
        return default
    n = int(value) & 0xffffffffffffffff
    return n - (1 << 64) if n >> 63 else n


def _u32_clamped(config: Mapping[str, str], key: str, default: int, lo: int,
                 hi: int) -> int:
    return min(max(_ullong(config, key, default) & 0xffffffff, lo), hi)


def smap_get_bool(config: Mapping[str, str], key: str, default: bool) -> bool:
    """OVS's ``smap_get_bool``: with default true anything but "false" is true, with
    default false only "true" is (case-insensitive)."""
    value = config.get(key, "").lower()
    return value != "false" if default else value == "true"




def mcast_switch_info(other_config: Mapping[str, str]) -> McastSwitchInfo:
    """IGMP/MLD snooping settings from ``other_config``, with ovn-northd's defaults and
    bounds (idle timeout 15..3600 s, query interval 1..3600 s)."""
    idle = _u32_clamped(other_config, "mcast_idle_timeout", 300, 15, 3600)
    return McastSwitchInfo(
        enabled=smap_get_bool(other_config, "mcast_snoop", False),
        querier=smap_get_bool(other_config, "mcast_querier", True),
        flood_unregistered=smap_get_bool(other_config, "mcast_flood_unregistered", False),
        table_size=_ullong(other_config, "mcast_table_size", 2048),
        idle_timeout=idle,
        query_interval=_u32_clamped(other_config, "mcast_query_interval", idle // 2, 1,
                                    3600),
        query_max_response=_ullong(other_config, "mcast_query_max_response", 1)
        & 0xffffffff,
        eth_src=other_config.get("mcast_eth_src", ""),
        ipv4_src=other_config.get("mcast_ip4_src", ""),
        ipv6_src=other_config.get("mcast_ip6_src", ""),
    )


def datapath_binding_row(uuid: str, name: str, tunnel_key: int,
                         external_ids: Mapping[str, str],
                         other_config: Mapping[str, str]) -> dict[str, Any]:
    """Datapath_Binding columns for a switch: ``external_ids`` logical-switch, name,
    name2 (from ``neutron:network_name``) and interconn-ts, as ovn-northd 23.03."""
    ids = {"logical-switch": uuid, "name": name}
    name2 = external_ids.get("neutron:network_name")
    if name2:
        ids["name2"] = name2
    ts = other_config.get("interconn-ts")
    if ts is not None:
        ids["interconn-ts"] = ts
    return {"tunnel_key": tunnel_key, "external_ids": ids}
