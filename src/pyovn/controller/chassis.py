"""Chassis registration: the SB Chassis, Encap and Chassis_Private rows of this chassis.

What ovn-controller 23.03 writes (``controller/chassis.c``), read off a real 23.03 row:

- Chassis: ``name`` (``system-id``), ``hostname`` (``external_ids:hostname``, else the
  system's host name), ``encaps`` (one Encap per encapsulation type and IP, with
  ``options:csum`` from ``ovn-encap-csum``, default "true"), ``transport_zones``
  (``ovn-transport-zones``), and ``other_config``: ``datapath-type`` (br-int's),
  ``iface-types`` (the Open_vSwitch row's, comma-joined), ``is-interconn``,
  ``ovn-bridge-mappings``, ``ovn-chassis-mac-mappings``, ``ovn-cms-options``,
  ``ovn-enable-lflow-cache``, ``ovn-limit-lflow-cache``,
  ``ovn-memlimit-lflow-cache-kb``, ``ovn-monitor-all``, ``ovn-trim-limit-lflow-cache``,
  ``ovn-trim-timeout-ms``, ``ovn-trim-wmark-perc-lflow-cache`` (copied from the
  Open_vSwitch ``external_ids`` of the same name, with 23.03's defaults) and the
  features 23.03 announces: ``ct-no-masked-label``, ``mac-binding-timestamp``,
  ``ovn-ct-lb-related``, ``port-up-notif`` (all "true"). Keys others put in
  ``other_config`` are kept.
- Chassis_Private: ``name`` and ``chassis``; ``nb_cfg`` / ``nb_cfg_timestamp`` are
  written when flows are installed (:func:`nb_cfg_ops`), ``external_ids`` stay empty.

Every Open_vSwitch key may also be given per chassis as ``<key>-<system-id>``, which
wins (23.03's ``get_chassis_external_id_value``). :func:`chassis_ops` compares the
settings with the rows and returns only what differs: nothing when they agree.

Not written (as 23.03 on this setup): ``Chassis.external_ids``, ``nb_cfg`` (deprecated)
and ``vtep_logical_switches``. Not supported: ``ovn-encap-ip-default``, and taking over
a stale row of the same hostname under another name.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pyovn.controller.chassis_config import ChassisConfig
from pyovn.ovsdb import Delete, Insert, NamedUuid, Op, Row, Update

__all__ = ["FEATURES", "ChassisSettings", "chassis_cleanup_ops", "chassis_ops",
           "chassis_settings", "external_id", "nb_cfg_ops"]

#: The feature flags ovn-controller 23.03 announces in Chassis other_config.
FEATURES: Mapping[str, str] = {
    "ct-no-masked-label": "true",
    "mac-binding-timestamp": "true",
    "ovn-ct-lb-related": "true",
    "port-up-notif": "true",
}

#: other_config keys copied from the Open_vSwitch row's external_ids, with defaults.
_COPIED: Mapping[str, str] = {
    "ovn-bridge-mappings": "",
    "ovn-chassis-mac-mappings": "",
    "ovn-cms-options": "",
    "ovn-enable-lflow-cache": "true",
    "ovn-limit-lflow-cache": "",
    "ovn-memlimit-lflow-cache-kb": "",
    "ovn-monitor-all": "false",
    "ovn-trim-limit-lflow-cache": "",
    "ovn-trim-timeout-ms": "",
    "ovn-trim-wmark-perc-lflow-cache": "",
}


def external_id(external_ids: Mapping[str, str], chassis_id: str, key: str,
                default: str | None = None) -> str | None:
    """``key`` of the Open_vSwitch row, preferring its per-chassis form ``key-<id>``."""
    value = external_ids.get(f"{key}-{chassis_id}")
    if value is None:
        value = external_ids.get(key)
    return default if value is None else value


@dataclass(frozen=True)
class ChassisSettings:
    """What this chassis's SB rows must say."""

    name: str
    hostname: str
    encaps: tuple[tuple[str, str], ...]  # (type, ip)
    encap_csum: str
    other_config: tuple[tuple[str, str], ...]
    transport_zones: tuple[str, ...]

    @property
    def other_config_map(self) -> dict[str, str]:
        """``other_config`` as a dict."""
        return dict(self.other_config)


def chassis_settings(config: ChassisConfig, external_ids: Mapping[str, str],
                     iface_types: Sequence[str], datapath_type: str,
                     hostname: str | None = None) -> ChassisSettings:
    """The settings for ``config`` and the rest of the Open_vSwitch row.

    ``datapath_type`` is the integration bridge's; ``hostname`` overrides the system
    host name (for tests).
    """
    cid = config.system_id

    def get(key: str, default: str) -> str:
        return external_id(external_ids, cid, key, default) or default

    host = external_id(external_ids, cid, "hostname") or hostname or socket.gethostname()
    other = {key: get(key, default) for key, default in _COPIED.items()}
    other["datapath-type"] = datapath_type
    other["iface-types"] = ",".join(iface_types)
    interconn = get("ovn-is-interconn", "false").lower() == "true"
    other["is-interconn"] = "true" if interconn else "false"
    other.update(FEATURES)
    zones = tuple(sorted({z.strip() for z in get("ovn-transport-zones", "").split(",")
                          if z.strip()}))
    encaps = tuple(sorted({(t, ip) for t in config.encap_types for ip in config.encap_ips}))
    return ChassisSettings(cid, host, encaps, get("ovn-encap-csum", "true"),
                           tuple(sorted(other.items())), zones)


def _encap_key(row: Row) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    return (row["type"], row["ip"], row["chassis_name"], tuple(sorted(row["options"].items())))


def chassis_ops(settings: ChassisSettings, chassis_rows: Iterable[Row],
                encap_rows: Mapping[str, Row], private_rows: Iterable[Row]) -> list[Op]:
    """The ops that make the SB rows of ``settings.name`` agree with ``settings``
    (none when they do). ``encap_rows`` is the Encap table by UUID."""
    name = settings.name
    chassis = next((r for r in chassis_rows if r["name"] == name), None)
    private = next((r for r in private_rows if r["name"] == name), None)
    options = {"csum": settings.encap_csum}
    ops: list[Op] = []

    def new_encaps() -> list[NamedUuid]:
        refs = []
        for i, (kind, ip) in enumerate(settings.encaps):
            ref = NamedUuid(f"encap{i}")
            ops.append(Insert("Encap", {"type": kind, "ip": ip, "chassis_name": name,
                                        "options": options}, uuid_name=ref))
            refs.append(ref)
        return refs

    chassis_ref: str
    if chassis is None:
        chassis_ref = NamedUuid("chassis")
        encaps = new_encaps()
        ops.append(Insert("Chassis", {
            "name": name, "hostname": settings.hostname, "encaps": encaps,
            "other_config": settings.other_config_map,
            "transport_zones": list(settings.transport_zones)}, uuid_name=chassis_ref))
    else:
        chassis_ref = chassis.uuid
        row: dict[str, object] = {}
        if chassis["hostname"] != settings.hostname:
            row["hostname"] = settings.hostname
        merged = {**chassis["other_config"], **settings.other_config_map}
        if merged != chassis["other_config"]:
            row["other_config"] = merged
        have = sorted(_encap_key(encap_rows[u]) for u in chassis["encaps"] if u in encap_rows)
        want = sorted((t, ip, name, (("csum", settings.encap_csum),))
                      for t, ip in settings.encaps)
        if have != want or len(chassis["encaps"]) != len(want):
            row["encaps"] = new_encaps()
        if tuple(chassis["transport_zones"]) != settings.transport_zones:
            row["transport_zones"] = list(settings.transport_zones)
        if row:
            ops.append(Update("Chassis", chassis.uuid, row))
    if private is None:
        ops.append(Insert("Chassis_Private", {"name": name, "chassis": chassis_ref}))
    elif private["chassis"] != chassis_ref:
        ops.append(Update("Chassis_Private", private.uuid, {"chassis": chassis_ref}))
    return ops


def nb_cfg_ops(private: Row, nb_cfg: int, timestamp_ms: int) -> list[Op]:
    """Report ``nb_cfg`` (the SB_Global value whose flows are now in the switch) in
    Chassis_Private; none if it is already reported."""
    if private["nb_cfg"] == nb_cfg:
        return []
    return [Update("Chassis_Private", private.uuid,
                   {"nb_cfg": nb_cfg, "nb_cfg_timestamp": timestamp_ms})]


def chassis_cleanup_ops(name: str, chassis_rows: Iterable[Row],
                        private_rows: Iterable[Row]) -> list[Op]:
    """Delete this chassis's rows (``exit`` without ``--restart``; Encap rows go with
    the Chassis that references them)."""
    ops: list[Op] = [Delete("Chassis_Private", r.uuid) for r in private_rows
                     if r["name"] == name]
    ops += [Delete("Chassis", r.uuid) for r in chassis_rows if r["name"] == name]
    return ops
