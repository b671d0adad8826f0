"""The chassis configuration an OVN controller reads from the local Open_vSwitch table.

``external_ids`` of the single Open_vSwitch row carry it, exactly as for ovn-controller:
``system-id`` (the chassis name), ``ovn-remote`` (the Southbound database),
``ovn-encap-type`` and ``ovn-encap-ip`` (comma-separated lists), ``ovn-bridge`` (the
integration bridge, ``br-int`` by default). A missing or malformed value is reported by
name, never guessed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BRIDGE = "br-int"
ENCAP_TYPES = frozenset({"geneve", "vxlan", "stt"})


@dataclass(frozen=True)
class ChassisConfig:
    """What the controller needs to know to join the deployment."""

    system_id: str
    remote: str
    encap_types: tuple[str, ...]
    encap_ips: tuple[str, ...]
    bridge: str


def parse_chassis_config(external_ids: Mapping[str, str]) -> tuple[ChassisConfig | None, str]:
    """The chassis configuration from ``external_ids``, or None and the reason it is unusable.

    The reason names the key and what is wrong with it, for the log.
    """
    system_id = external_ids.get("system-id", "").strip()
    if not system_id:
        return None, "external_ids:system-id is not set in the Open_vSwitch table"
    remote = external_ids.get("ovn-remote", "").strip()
    if not remote:
        return None, "external_ids:ovn-remote is not set in the Open_vSwitch table"
    encap_types = tuple(t.strip() for t in external_ids.get("ovn-encap-type", "").split(",")
                        if t.strip())
    if not encap_types:
        return None, "external_ids:ovn-encap-type is not set in the Open_vSwitch table"
    bad = [t for t in encap_types if t not in ENCAP_TYPES]
    if bad:
        return None, (f"external_ids:ovn-encap-type: unknown encapsulation {bad[0]!r} "
                      f"(expected {', '.join(sorted(ENCAP_TYPES))})")
    encap_ips = tuple(ip.strip() for ip in external_ids.get("ovn-encap-ip", "").split(",")
                      if ip.strip())
    if not encap_ips:
        return None, "external_ids:ovn-encap-ip is not set in the Open_vSwitch table"
    for ip in encap_ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return None, f"external_ids:ovn-encap-ip: {ip!r} is not an IP address"
    bridge = external_ids.get("ovn-bridge", "").strip() or DEFAULT_BRIDGE
    return ChassisConfig(system_id, remote, encap_types, encap_ips, bridge), ""
