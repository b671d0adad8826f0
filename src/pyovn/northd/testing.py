"""What tests and benchmarks compare: the Southbound contents a northd owns.

:func:`sb_contents` reads the tables northd writes (Datapath_Binding, Port_Binding,
Multicast_Group, Address_Set, Port_Group, SB_Global options) and the NB columns it
writes back (Logical_Switch_Port up/tag, NB_Global options), Meter with its bands and
IP_Multicast. Two forms:

- ``normalize=False``: every row exactly, UUIDs included — for "a recompute / restart
  writes nothing" checks within one deployment;
- ``normalize=True``: comparable between two deployments fed the same NB (real
  ovn-northd vs pyovn-northd). Normalisations, each because the value is arbitrary in
  ovn-northd: row UUIDs and references are replaced by names (datapath name, port
  name, chassis name); datapath and port tunnel keys are replaced by the object's name
  after checking they are unique and in range (ovn-northd allocates them in hash
  order); the ``<tunnel key>_`` prefix of SB Port_Group names by the switch name;
  ``external_ids:logical-switch`` by "*" after checking it is that switch's NB UUID;
  the random ``mac_prefix`` / ``svc_monitor_mac`` (and the ``svc_monitor_mac``
  address set) by "*" after checking their format; tags northd allocates for
  ``tag_request=0`` by "*" after checking they are unique under their parent; the ACL
  UUID in per-ACL meter names (``<meter>__<ACL UUID>``) by the ACL's ``name``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pyovn.ovsdb import Client
from pyovn.sandbox.procs import NB_SCHEMA, SB_SCHEMA

__all__ = ["NB_READ", "SB_READ", "connect", "sb_contents"]

SB_READ: dict[str, list[str] | None] = {
    "Datapath_Binding": None, "Port_Binding": None, "Multicast_Group": None,
    "Address_Set": None, "Port_Group": None, "SB_Global": None, "Chassis": ["name"],
    "Meter": None, "Meter_Band": None, "IP_Multicast": None,
}
NB_READ: dict[str, list[str] | None] = {
    "Logical_Switch": ["name"],
    "Logical_Switch_Port": ["name", "up", "tag", "tag_request", "parent_name"],
    "ACL": ["name"],
    "NB_Global": ["options"],
}
_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
_PREFIX = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){2}\Z")


def connect(remote: str, *, nb: bool, timeout: float = 10.0) -> Client:
    """A synced read-only client of an NB (``nb``) or SB database for these checks."""
    client = Client(remote, NB_SCHEMA if nb else SB_SCHEMA, NB_READ if nb else SB_READ,
                    track_changes=False)
    client.run_until(lambda: client.synced, timeout)
    return client


def _js(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=list)


def sb_contents(sb: Client, nb: Client, *, normalize: bool) -> dict[str, list[Any]]:
    """The owned contents (see the module doc); call ``run()`` on both clients first."""
    t = sb.tables
    out: dict[str, list[Any]] = {}
    if not normalize:
        for table in SB_READ:
            if table == "Meter_Band":
                continue
            out[table] = sorted(_js({"_uuid": r.uuid, **r.as_dict()})
                                for r in t[table].rows.values() if table != "SB_Global")
        # nb_cfg moves with every --wait; the rest of SB_Global is northd's.
        out["SB_Global"] = [_js([r["options"], r["ipsec"]])
                            for r in t["SB_Global"].rows.values()]
        out["NB"] = sorted(_js({"_uuid": r.uuid, **r.as_dict()})
                           for r in nb.tables["Logical_Switch_Port"].rows.values())
        out["NB"].extend(_js(r.as_dict()) for r in nb.tables["NB_Global"].rows.values())
        return out
    ls_uuid = {r["name"]: r.uuid for r in nb.tables["Logical_Switch"].rows.values()}
    dps = t["Datapath_Binding"].rows
    dp_name = {u: r["external_ids"].get("name", "?") for u, r in dps.items()}
    dp_by_key = {r["tunnel_key"]: dp_name[u] for u, r in dps.items()}
    assert len(dp_by_key) == len(dps), "duplicate datapath tunnel keys"
    rows: list[Any] = []
    for r in dps.values():
        ids = dict(r["external_ids"])
        assert ids.get("logical-switch") == ls_uuid.get(ids.get("name", "")), ids
        assert 1 <= r["tunnel_key"] <= 16711680
        ids["logical-switch"] = "*"
        rows.append(_js(ids))
    out["Datapath_Binding"] = sorted(rows)
    pbs = t["Port_Binding"].rows
    pb_name = {u: r["logical_port"] for u, r in pbs.items()}
    chassis = {u: r["name"] for u, r in t["Chassis"].rows.items()}
    keys = {(r["datapath"], r["tunnel_key"]) for r in pbs.values()}
    assert len(keys) == len(pbs), "duplicate port tunnel keys"
    allocated = {r["name"] for r in nb.tables["Logical_Switch_Port"].rows.values()
                 if r["tag_request"] == 0}
    siblings: dict[str, set[int]] = {}
    rows = []
    for r in pbs.values():
        d = r.as_dict()
        if d["logical_port"] in allocated and d["tag"] is not None:
            # Tags northd allocates (tag_request=0): unique per parent, order arbitrary.
            tags = siblings.setdefault(d["parent_port"], set())
            assert 1 <= d["tag"] <= 4095 and d["tag"] not in tags, d
            tags.add(d["tag"])
            d["tag"] = "*"
        assert 1 <= d.pop("tunnel_key") <= 32767
        d["datapath"] = dp_name.get(d["datapath"], d["datapath"])
        for col in ("requested_chassis", "chassis"):
            d[col] = chassis.get(d[col], d[col]) if d[col] else d[col]
        d["requested_additional_chassis"] = sorted(
            chassis.get(c, c) for c in d["requested_additional_chassis"])
        d.pop("encap")
        rows.append(_js(d))
    out["Port_Binding"] = sorted(rows)
    out["Multicast_Group"] = sorted(
        _js([dp_name.get(r["datapath"]), r["name"], r["tunnel_key"],
             sorted(pb_name.get(p, p) for p in r["ports"])])
        for r in t["Multicast_Group"].rows.values())
    rows = []
    for r in t["Address_Set"].rows.values():
        addrs: Any = list(r["addresses"])
        if r["name"] == "svc_monitor_mac":
            assert len(addrs) == 1 and _MAC.match(addrs[0]), addrs
            addrs = "*"
        rows.append(_js([r["name"], addrs]))
    out["Address_Set"] = sorted(rows)
    rows = []
    for r in t["Port_Group"].rows.values():
        key, _, pg = r["name"].partition("_")
        rows.append(_js([f"{dp_by_key.get(int(key), key)}_{pg}", list(r["ports"])]))
    out["Port_Group"] = sorted(rows)
    out["IP_Multicast"] = sorted(
        _js({**r.as_dict(), "datapath": dp_name.get(r["datapath"], r["datapath"])})
        for r in t["IP_Multicast"].rows.values())
    bands = t["Meter_Band"].rows
    acl_uuid = {a: n for n, a in nb_acls.items()} if (nb_acls := _acl_names(nb)) else {}
    out["Meter"] = sorted(
        _js([_meter_name(r["name"], acl_uuid), r["unit"],
             sorted(bands[b].as_dict() for b in r["bands"] if b in bands)])
        for r in t["Meter"].rows.values())
    out["SB_Global"] = [_js(_masked(r["options"])) for r in t["SB_Global"].rows.values()]
    out["NB_Global"] = [_js(_masked(r["options"]))
                        for r in nb.tables["NB_Global"].rows.values()]
    out["NB_Logical_Switch_Port"] = sorted(
        _js([r["name"], r["up"], "*" if r["name"] in allocated and r["tag"] else r["tag"]])
        for r in nb.tables["Logical_Switch_Port"].rows.values())
    return out


def _acl_names(nb: Client) -> dict[str, str]:
    """ACL name → UUID (ACLs named in tests, so per-ACL meters compare by name)."""
    acls = nb.tables.get("ACL")
    return {r["name"]: r.uuid for r in acls.rows.values() if r["name"]} if acls else {}


def _meter_name(name: str, acl_names: dict[str, str]) -> str:
    meter, sep, uuid = name.partition("__")
    return f"{meter}__acl:{acl_names.get(uuid, uuid)}" if sep else name


def _masked(options: dict[str, str]) -> dict[str, str]:
    out = dict(options)
    if "mac_prefix" in out:
        assert _PREFIX.match(out["mac_prefix"]), out
        out["mac_prefix"] = "*"
    if "svc_monitor_mac" in out:
        out["svc_monitor_mac"] = "*"
    return out
