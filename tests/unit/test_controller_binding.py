"""Port binding: local interfaces, claims, releases, up and ovn-installed, as ops."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from controller_rows import ovs_db, row, sb_db
from pyovn.controller.binding import (
    Bindings,
    ChassisIdentity,
    IfStatus,
    LocalIface,
    binding_sb_ops,
    can_bind,
    compute_bindings,
    installed_ovs_ops,
    local_interfaces,
    patch_ofports,
)
from pyovn.northd.fakedb import FakeDb
from pyovn.ovsdb import Mutate, Row, Update

HV1 = "aaaaaaaa-0000-4000-8000-000000000001"
HV2 = "bbbbbbbb-0000-4000-8000-000000000002"
ENCAP = "eeeeeeee-0000-4000-8000-000000000001"
ME = ChassisIdentity(HV1, "hv1", "host1", {"192.0.2.1": ENCAP})


def _bridge(db: FakeDb, name: str, ifaces: list[dict[str, Any]],
            port_ids: list[dict[str, str]] | None = None) -> Row:
    ports = []
    for i, spec in enumerate(ifaces):
        iface = db.insert("Interface", **spec)
        ids = port_ids[i] if port_ids else {}
        ports.append(db.insert("Port", name=spec["name"], interfaces=(iface,),
                               external_ids=ids))
    me = db.insert("Interface", name=name, type="internal", ofport=65534)
    ports.append(db.insert("Port", name=name, interfaces=(me,)))
    return row(db, "Bridge", name=name, ports=tuple(sorted(ports)))


def _ifaces(db: FakeDb, bridge: Row) -> dict[str, LocalIface]:
    return local_interfaces(bridge, db.tables["Port"].rows, db.tables["Interface"].rows)


def test_local_interfaces_need_an_iface_id_and_an_openflow_port_on_the_bridge() -> None:
    db = ovs_db()
    br = _bridge(db, "br-int", [
        {"name": "vm1", "ofport": 3, "external_ids": {"iface-id": "p1"}},
        {"name": "vm2", "ofport": -1, "external_ids": {"iface-id": "p2"}},
        {"name": "vm3", "ofport": None, "external_ids": {"iface-id": "p3"}},
        {"name": "vm4", "ofport": 4, "external_ids": {}},
        {"name": "dup", "ofport": 2, "external_ids": {"iface-id": "p1"}},
    ])
    _bridge(db, "br-other", [{"name": "x", "ofport": 1, "external_ids": {"iface-id": "px"}}])
    ifaces = _ifaces(db, br)
    assert list(ifaces) == ["p1"]
    assert (ifaces["p1"].name, ifaces["p1"].ofport) == ("dup", 2)  # lower ofport wins


def test_patch_ofports_come_from_the_marked_ports() -> None:
    db = ovs_db()
    br = _bridge(db, "br-int",
                 [{"name": "patch-br-int-to-ln1", "type": "patch", "ofport": 7},
                  {"name": "plain", "ofport": 8}],
                 [{"ovn-localnet-port": "ln1"}, {}])
    assert patch_ofports(br, db.tables["Port"].rows, db.tables["Interface"].rows) == {"ln1": 7}


def test_can_bind_follows_requested_chassis_by_row_name_or_hostname() -> None:
    db = sb_db()
    assert can_bind(row(db, "Port_Binding"), ME)
    assert can_bind(row(db, "Port_Binding", options={"requested-chassis": "host1"}), ME)
    assert not can_bind(row(db, "Port_Binding", options={"requested-chassis": "hv2"}), ME)
    assert not can_bind(row(db, "Port_Binding", requested_chassis=HV2,
                            options={"requested-chassis": "hv1"}), ME)


def _bindings(db: FakeDb, ifaces: dict[str, LocalIface]) -> Bindings:
    by_name = {r["logical_port"]: r for r in db.tables["Port_Binding"].rows.values()}
    children: dict[str, list[Row]] = defaultdict(list)
    for r in by_name.values():
        if r["parent_port"]:
            children[r["parent_port"]].append(r)
    return compute_bindings(ifaces, by_name.get, lambda n: children.get(n, []), ME)


def _iface(name: str, ofport: int, **ids: str) -> LocalIface:
    return LocalIface(f"{ofport:08x}-0000-4000-8000-000000000000", name, name, ofport,
                      {"iface-id": name, **ids})


def test_vifs_and_their_containers_are_claimed_localports_and_foreign_ones_not() -> None:
    db = sb_db()
    for name, extra in (("p1", {}), ("lp", {"type": "localport"}),
                        ("rc", {"options": {"requested-chassis": "hv2"}}),
                        ("c1", {"parent_port": "p1", "tag": 7})):
        row(db, "Port_Binding", logical_port=name, **extra)
    ifaces = {n: _iface(n, i + 1) for i, n in enumerate(("p1", "lp", "rc", "ghost"))}
    b = _bindings(db, ifaces)
    assert sorted(b.claimed) == ["c1", "p1"]
    assert b.local_lports == {"p1", "lp", "rc", "ghost", "c1"}
    assert b.ofports == {"p1": 1, "lp": 2, "rc": 3, "ghost": 4}


def test_claim_sets_chassis_and_encap_and_up_waits_for_installation() -> None:
    db = sb_db()
    p1 = row(db, "Port_Binding", logical_port="p1", up=False)
    p2 = row(db, "Port_Binding", logical_port="p2", up=True, chassis=HV2)
    b = _bindings(db, {"p1": _iface("p1", 1, **{"encap-ip": "192.0.2.1"}),
                       "p2": _iface("p2", 2)})
    assert binding_sb_ops(b, [], ME, set()) == [
        Update("Port_Binding", p1.uuid, {"chassis": HV1, "encap": ENCAP}),
        # Moving here from another chassis: not up until its flows are in here.
        Update("Port_Binding", p2.uuid, {"chassis": HV1, "up": False})]
    assert binding_sb_ops(b, [], ME, {"p1"})[0] == Update(
        "Port_Binding", p1.uuid, {"chassis": HV1, "encap": ENCAP, "up": True})


def test_nothing_is_written_once_the_southbound_agrees_or_before_the_chassis_exists() -> None:
    db = sb_db()
    p1 = row(db, "Port_Binding", logical_port="p1", chassis=HV1, up=True)
    b = _bindings(db, {"p1": _iface("p1", 1)})
    assert binding_sb_ops(b, [p1], ME, {"p1"}) == []
    # A restart: not installed yet, but an up port is not lowered.
    assert binding_sb_ops(b, [p1], ME, set()) == []
    assert binding_sb_ops(b, [p1], ChassisIdentity(None, "hv1"), set()) == []


def test_ports_held_without_an_interface_are_released() -> None:
    db = sb_db()
    gone = row(db, "Port_Binding", logical_port="gone", chassis=HV1, up=True, encap=ENCAP)
    lp = row(db, "Port_Binding", logical_port="lp", type="localport", chassis=HV1)
    other = row(db, "Port_Binding", logical_port="gw", type="l3gateway", chassis=HV1)
    b = _bindings(db, {"lp": _iface("lp", 1)})
    assert binding_sb_ops(b, [gone, lp, other], ME, set()) == [
        Update("Port_Binding", gone.uuid, {"chassis": None, "encap": None, "up": False}),
        Update("Port_Binding", lp.uuid, {"chassis": None})]


def test_ovn_installed_is_set_on_installed_ports_and_removed_when_unclaimed() -> None:
    db = sb_db()
    row(db, "Port_Binding", logical_port="p1")
    ifaces = {"p1": _iface("p1", 1), "p2": _iface("p2", 2), "lp": _iface(
        "lp", 3, **{"ovn-installed": "true", "ovn-installed-ts": "1"})}
    b = _bindings(db, ifaces)
    ops = installed_ovs_ops(b, {"p1"}, now_ms=lambda: 1234)
    assert ops == [
        Mutate("Interface", ifaces["lp"].uuid, [
            ("external_ids", "delete", ["ovn-installed", "ovn-installed-ts"])]),
        Mutate("Interface", ifaces["p1"].uuid, [
            ("external_ids", "delete", ["ovn-installed", "ovn-installed-ts"]),
            ("external_ids", "insert", {"ovn-installed": "true",
                                        "ovn-installed-ts": "1234"})])]


def test_if_status_installs_a_port_when_the_put_after_its_claim_is_acknowledged() -> None:
    status = IfStatus()
    status.sync({"p1"})
    assert status.flows_installed(5) == set()  # nothing was sent for it yet
    status.flows_requested(6)
    status.sync({"p1", "p2"})
    assert status.flows_installed(5) == set()
    assert status.flows_installed(6) == {"p1"}
    assert status.waiting == {"p2"} and status.installed == {"p1"}
    status.sync({"p2"})
    assert status.installed == set()
