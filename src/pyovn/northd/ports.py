"""Logical_Switch_Port rows → :class:`~pyovn.northd.model.SwitchPort`, as ovn-northd 23.03
reads them (``join_logical_ports``), and the Port_Binding content it writes for them
(``ovn_port_update_sbrec``).

Pure functions of NB/SB rows: the ``northd`` node decides when to call them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pyovn.northd.addresses import extract_lsp_addresses, is_dynamic_lsp_address
from pyovn.northd.datapaths import smap_get_bool
from pyovn.northd.model import LportAddresses, SwitchDatapath, SwitchPort
from pyovn.ovsdb import Row

__all__ = [
    "KNOWN_LSP_TYPES",
    "Warn",
    "build_switch_port",
    "lsp_is_enabled",
    "port_binding_row",
    "port_ips",
    "requested_chassis",
]

#: Called with (key, message) for a rate-limited warning about a bad row.
Warn = Callable[[tuple[Any, ...], str], None]

#: NB types ovn-northd copies to Port_Binding.type ("" is a VIF).
KNOWN_LSP_TYPES = frozenset({"", "l2gateway", "localnet", "localport", "router", "vtep",
                             "external", "virtual", "remote"})


def lsp_is_enabled(row: Row) -> bool:
    """OVN's ``lsp_is_enabled``: ``enabled`` unset counts as true."""
    return row["enabled"] is not False


def _parse_list(row: Row, column: str, entries: tuple[str, ...], warn: Warn,
                *, skip_special: bool) -> tuple[tuple[LportAddresses, ...], bool]:
    parsed: list[LportAddresses] = []
    has_unknown = False
    for entry in entries:
        if skip_special:
            if entry == "unknown":
                has_unknown = True
                continue
            if entry == "router" or is_dynamic_lsp_address(entry):
                continue
        addrs, clean = extract_lsp_addresses(entry)
        if addrs is None:
            warn(("lsp", row.uuid, column, entry),
                 f"Logical_Switch_Port {row['name']} ({row.uuid}): invalid syntax "
                 f"{entry!r} in {column}: no MAC address found; entry ignored")
            continue
        if not clean:
            warn(("lsp", row.uuid, column, entry),
                 f"Logical_Switch_Port {row['name']} ({row.uuid}): invalid syntax "
                 f"{entry!r} in {column}: text after the addresses ignored")
        parsed.append(addrs)
    return tuple(parsed), has_unknown


def build_switch_port(row: Row, datapath: str, tunnel_key: int, tag: int | None,
                      warn: Warn) -> SwitchPort:
    """The model of one valid LSP row on switch ``datapath``."""
    lsp_addrs, has_unknown = _parse_list(row, "addresses", row["addresses"], warn,
                                         skip_special=True)
    dynamic = row["dynamic_addresses"]
    if dynamic:
        dyn, _ = extract_lsp_addresses(dynamic)
        if dyn is not None:
            lsp_addrs = (*lsp_addrs, dyn)
        else:
            dynamic = None
    ps_addrs, _ = _parse_list(row, "port_security", row["port_security"], warn,
                              skip_special=False)
    return SwitchPort(
        name=row["name"], uuid=row.uuid, datapath=datapath, tunnel_key=tunnel_key,
        type=row["type"], addresses=row["addresses"], lsp_addrs=lsp_addrs,
        has_unknown=has_unknown, dynamic_addresses=dynamic,
        port_security=row["port_security"], ps_addrs=ps_addrs,
        enabled=lsp_is_enabled(row), up=row["up"], options=row["options"],
        parent_name=row["parent_name"] or None, tag=tag,
        external_ids=row["external_ids"])


def port_ips(row: Row) -> tuple[frozenset[str], frozenset[str]]:
    """IPv4 and IPv6 address strings of an LSP row, for the ``<pg>_ip4``/``_ip6``
    address sets (OVN: every non-dynamic ``addresses`` entry, then
    ``dynamic_addresses``)."""
    ip4: set[str] = set()
    ip6: set[str] = set()
    entries = [a for a in row["addresses"] if not is_dynamic_lsp_address(a)]
    if row["dynamic_addresses"]:
        entries.append(row["dynamic_addresses"])
    for entry in entries:
        addrs, _ = extract_lsp_addresses(entry)
        if addrs is not None:
            ip4.update(a.addr_s for a in addrs.ipv4_addrs)
            ip6.update(a.addr_s for a in addrs.ipv6_addrs)
    return frozenset(ip4), frozenset(ip6)


def requested_chassis(option: str | None, chassis_by_name: Mapping[str, str],
                      chassis_by_hostname: Mapping[str, str]) -> tuple[str | None,
                                                                       tuple[str, ...]]:
    """``options:requested-chassis`` ("NAME[,NAME…]", names or hostnames) → the Chassis
    UUID for ``requested_chassis`` and those for ``requested_additional_chassis``."""
    if not option:
        return None, ()
    found: list[str] = []
    for name in option.split(","):
        uuid = chassis_by_name.get(name) or chassis_by_hostname.get(name)
        if uuid is not None:
            found.append(uuid)
    if not found:
        return None, ()
    return found[0], tuple(sorted(set(found[1:])))


def port_binding_row(port: SwitchPort, switch: SwitchDatapath, dp_uuid: str,
                     chassis: tuple[str | None, tuple[str, ...]]) -> dict[str, Any]:
    """The Port_Binding columns ovn-northd 23.03 writes for an LSP (``up`` aside: it
    is set to false on creation and then belongs to the controller)."""
    options = dict(port.options)
    if smap_get_bool(switch.other_config, "vlan-passthru", False):
        options["vlan-passthru"] = "true"
    ids = dict(port.external_ids)
    name = ids.get("neutron:port_name")
    if name:
        ids["name"] = name
    return {
        "logical_port": port.name,
        "datapath": dp_uuid,
        "tunnel_key": port.tunnel_key,
        "type": port.type if port.type in KNOWN_LSP_TYPES else "",
        "options": options,
        "parent_port": port.parent_name,
        "tag": port.tag,
        "mac": tuple(sorted(port.addresses)),
        "port_security": tuple(sorted(port.port_security)),
        "external_ids": ids,
        "requested_chassis": chassis[0],
        "requested_additional_chassis": chassis[1],
        "nat_addresses": (),
    }
