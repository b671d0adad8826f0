"""Physical flows of port bindings and the fixed flows, against ovn-controller 23.03's.

The expected texts are lines of ``ovs-ofctl dump-flows br-int`` taken from a sandbox
running real ovn-controller 23.03.1; the rows here carry the same keys, zones, OpenFlow
ports and (for the cookies) UUID prefixes.
"""

# ruff: noqa: E501  (expected flows are real ovs-ofctl dump lines, kept whole)
from __future__ import annotations

from typing import Any

from controller_rows import parse_dump, row, sb_db, texts
from pyovn.controller.binding import ChassisIdentity, LocalDatapath
from pyovn.controller.physical import (
    FIXED_PARENT,
    PhysicalContext,
    cookie_of,
    fixed_flows,
    port_binding_flows,
    zone_ids,
    zone_loads,
)
from pyovn.northd.fakedb import FakeDb
from pyovn.openflow import SetField
from pyovn.ovsdb import Row

CHASSIS = "aaaaaaaa-0000-4000-8000-000000000001"
DP0 = "1f83b2eb-c307-4488-b0b6-b338652d5d41"
DP1 = "2e68fda9-b645-4c59-8121-75ee88f5bf79"


def _uuid(prefix: str) -> str:
    return f"{prefix}-0000-4000-8000-000000000000"


def _pb(db: FakeDb, prefix: str, name: str, key: int, dp: str = DP0, **extra: Any) -> Row:
    return row(db, "Port_Binding", _uuid(prefix), logical_port=name, tunnel_key=key,
               datapath=dp, **extra)


def _ctx(db: FakeDb, *, ofports: dict[str, int], zones: dict[str, int],
         patch: dict[str, int] | None = None, localnet: Row | None = None) -> PhysicalContext:
    pbs = {r["logical_port"]: r for r in db.tables["Port_Binding"].rows.values()}
    lds = {DP0: LocalDatapath(DP0, 1), DP1: LocalDatapath(DP1, 2, localnet)}
    return PhysicalContext(ChassisIdentity(CHASSIS, "hv1", "host1"), lds, pbs, ofports,
                           patch or {}, zones, set(ofports), db.tables["Port_Binding"].rows)


ZONES0 = {f"{DP0}_dnat": 2, f"{DP0}_snat": 3}

VIF_P1 = """
cookie=0x39a9f6dd, priority=100,in_port=1 actions=set_field:0x1->reg13,set_field:0x2->reg11,set_field:0x3->reg12,set_field:0x1->metadata,set_field:0x1->reg14,resubmit(,8)
cookie=0x39a9f6dd, table=40, priority=100,reg15=0x1,metadata=0x1 actions=set_field:0x1->reg13,set_field:0x2->reg11,set_field:0x3->reg12,resubmit(,41)
cookie=0x39a9f6dd, table=41, priority=100,reg10=0/0x1,reg14=0x1,reg15=0x1,metadata=0x1 actions=drop
cookie=0x39a9f6dd, table=64, priority=100,reg10=0x1/0x1,reg15=0x1,metadata=0x1 actions=push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]
cookie=0x39a9f6dd, table=65, priority=100,reg15=0x1,metadata=0x1 actions=output:1
"""


def test_a_vif_gets_the_five_flows_of_23_03_with_its_zones_and_cookie() -> None:
    db = sb_db()
    pb = _pb(db, "39a9f6dd", "p1", 1)
    ctx = _ctx(db, ofports={"p1": 1}, zones={"p1": 1, **ZONES0})
    assert texts(port_binding_flows(pb, ctx)) == texts(parse_dump(VIF_P1))


CONTAINER = """
cookie=0x62d8b419, priority=150,in_port=1,dl_vlan=7 actions=set_field:0x20/0x20->reg10,pop_vlan,set_field:0x5->reg13,set_field:0x2->reg11,set_field:0x3->reg12,set_field:0x1->metadata,set_field:0x6->reg14,resubmit(,8)
cookie=0x62d8b419, table=40, priority=100,reg15=0x6,metadata=0x1 actions=set_field:0x5->reg13,set_field:0x2->reg11,set_field:0x3->reg12,resubmit(,41)
cookie=0x62d8b419, table=41, priority=100,reg10=0/0x1,reg14=0x6,reg15=0x6,metadata=0x1 actions=drop
cookie=0x62d8b419, table=64, priority=100,reg15=0x6,metadata=0x1 actions=push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]
table=64, priority=100,reg10=0x20/0x20,reg15=0x1,metadata=0x1 actions=push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]
cookie=0x62d8b419, table=65, priority=100,reg15=0x6,metadata=0x1 actions=push_vlan:0x8100,set_field:4103->vlan_vid,output:1,pop_vlan
"""


def test_a_container_is_tagged_nested_and_may_hairpin_to_its_parent() -> None:
    db = sb_db()
    _pb(db, "39a9f6dd", "p1", 1)
    child = _pb(db, "62d8b419", "c1", 6, parent_port="p1", tag=7)
    ctx = _ctx(db, ofports={"p1": 1}, zones={"c1": 5, "p1": 1, **ZONES0})
    assert texts(port_binding_flows(child, ctx)) == texts(parse_dump(CONTAINER))


def test_a_container_without_a_tag_or_a_local_parent_has_no_flows() -> None:
    db = sb_db()
    _pb(db, "39a9f6dd", "p1", 1)
    untagged = _pb(db, "62d8b419", "c1", 6, parent_port="p1")
    orphan = _pb(db, "62d8b41a", "c2", 7, parent_port="p9", tag=8)
    ctx = _ctx(db, ofports={"p1": 1}, zones={})
    assert port_binding_flows(untagged, ctx) == []
    assert port_binding_flows(orphan, ctx) == []


LOCALPORT = """
cookie=0x5c2decc7, priority=100,in_port=3 actions=set_field:0x6->reg13,set_field:0x2->reg11,set_field:0x3->reg12,set_field:0x1->metadata,set_field:0x4->reg14,set_field:0x400/0x400->reg10,resubmit(,8)
cookie=0x5c2decc7, table=39, priority=150,reg14=0x4,metadata=0x1 actions=resubmit(,40)
cookie=0x5c2decc7, table=40, priority=100,reg15=0x4,metadata=0x1 actions=set_field:0x6->reg13,set_field:0x2->reg11,set_field:0x3->reg12,resubmit(,41)
cookie=0x5c2decc7, table=41, priority=100,reg10=0/0x1,reg14=0x4,reg15=0x4,metadata=0x1 actions=drop
cookie=0x5c2decc7, table=64, priority=100,reg10=0x1/0x1,reg15=0x4,metadata=0x1 actions=push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]
cookie=0x5c2decc7, table=65, priority=100,reg15=0x4,metadata=0x1 actions=output:3
"""


def test_a_localport_is_flagged_and_never_tunnelled() -> None:
    db = sb_db()
    pb = _pb(db, "5c2decc7", "lp", 4, type="localport")
    ctx = _ctx(db, ofports={"lp": 3}, zones={"lp": 6, **ZONES0})
    assert texts(port_binding_flows(pb, ctx)) == texts(parse_dump(LOCALPORT))


LOCALNET = """
cookie=0x33a35ade, priority=100,in_port=7,dl_vlan=0 actions=pop_vlan,set_field:0xc->reg13,set_field:0xb->reg11,set_field:0xa->reg12,set_field:0x2->metadata,set_field:0x1->reg14,resubmit(,8)
cookie=0x33a35ade, priority=100,in_port=7,vlan_tci=0x0000/0x1000 actions=set_field:0xc->reg13,set_field:0xb->reg11,set_field:0xa->reg12,set_field:0x2->metadata,set_field:0x1->reg14,resubmit(,8)
cookie=0x33a35ade, table=40, priority=100,reg15=0x1,metadata=0x2 actions=set_field:0xc->reg13,set_field:0xb->reg11,set_field:0xa->reg12,resubmit(,41)
cookie=0x33a35ade, table=41, priority=160,reg10=0x400/0x400,reg15=0x1,metadata=0x2 actions=drop
cookie=0x33a35ade, table=41, priority=160,reg10=0x10/0x10,reg15=0x1,metadata=0x2 actions=drop
cookie=0x33a35ade, table=41, priority=100,reg10=0/0x1,reg14=0x1,reg15=0x1,metadata=0x2 actions=drop
cookie=0x33a35ade, table=64, priority=100,reg10=0x1/0x1,reg15=0x1,metadata=0x2 actions=push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]
cookie=0x33a35ade, table=65, priority=100,reg15=0x1,metadata=0x2 actions=output:7
"""
ZONES1 = {"ln1": 12, f"{DP1}_dnat": 11, f"{DP1}_snat": 10}


def _localnet(db: FakeDb, **extra: Any) -> Row:
    return _pb(db, "33a35ade", "ln1", 1, dp=DP1, type="localnet",
               options={"network_name": "physnet1"}, **extra)


def test_a_localnet_port_takes_untagged_and_priority_tagged_frames() -> None:
    db = sb_db()
    ln = _localnet(db)
    ctx = _ctx(db, ofports={}, zones=ZONES1, patch={"ln1": 7}, localnet=ln)
    assert texts(port_binding_flows(ln, ctx)) == texts(parse_dump(LOCALNET))


def test_a_vlan_localnet_port_strips_and_pushes_its_tag() -> None:
    db = sb_db()
    ln = _localnet(db, tag=100)
    flows = port_binding_flows(ln, _ctx(db, ofports={}, zones=ZONES1, patch={"ln1": 7},
                                        localnet=ln))
    table0 = [str(f) for f in flows if f.table_id == 0]
    assert table0 == ["cookie=0x33a35ade, priority=150,in_port=7,dl_vlan=100 actions="
                      "pop_vlan,set_field:0xc->reg13,set_field:0xb->reg11,"
                      "set_field:0xa->reg12,set_field:0x2->metadata,set_field:0x1->reg14,"
                      "resubmit(,8)"]
    (out,) = (str(f) for f in flows if f.table_id == 65)
    assert out.endswith("actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:7,pop_vlan")


def test_a_vlan_passthru_localnet_keeps_tags_and_still_takes_untagged_frames() -> None:
    db = sb_db()
    ln = _pb(db, "33a35ade", "ln1", 1, dp=DP1, type="localnet",
             options={"network_name": "physnet1", "vlan-passthru": "true"})
    flows = port_binding_flows(ln, _ctx(db, ofports={}, zones={}, patch={"ln1": 7},
                                        localnet=ln))
    table0 = sorted(str(f.match) for f in flows if f.table_id == 0)
    assert table0 == ["in_port=7", "in_port=7,vlan_tci=0x0000/0x1000"]
    assert all("pop_vlan" not in str(f) for f in flows if f.table_id == 0)


REMOTE_VIA_LOCALNET = """
cookie=0x37b5ff10, table=40, priority=100,reg15=0x3,metadata=0x2 actions=set_field:0x1->reg15,resubmit(,40)
"""


def test_a_port_elsewhere_is_reached_through_the_localnet_port() -> None:
    db = sb_db()
    ln = _localnet(db)
    q2 = _pb(db, "37b5ff10", "q2", 3, dp=DP1)
    ctx = _ctx(db, ofports={}, zones=ZONES1, patch={"ln1": 7}, localnet=ln)
    assert texts(port_binding_flows(q2, ctx)) == texts(parse_dump(REMOTE_VIA_LOCALNET))
    # Without br-int's patch port to the network there is no way there.
    assert port_binding_flows(q2, _ctx(db, ofports={}, zones={}, localnet=ln)) == []


def test_ports_of_other_datapaths_routers_and_remote_ports_get_no_flows() -> None:
    db = sb_db()
    elsewhere = _pb(db, "11111111", "x", 1, dp="99999999-0000-4000-8000-000000000000")
    patch = _pb(db, "22222222", "rp", 9, type="patch", options={"peer": "lrp"})
    remote = _pb(db, "33333333", "r", 3, chassis="bbbbbbbb-0000-4000-8000-000000000002")
    ctx = _ctx(db, ofports={"x": 5, "rp": 6}, zones={})
    assert [port_binding_flows(pb, ctx) for pb in (elsewhere, patch, remote)] == [[], [], []]


def test_a_vif_requested_on_another_chassis_is_not_delivered_here() -> None:
    db = sb_db()
    by_option = _pb(db, "44444444", "rc", 5, options={"requested-chassis": "hv9"})
    by_column = _pb(db, "44444445", "rc2", 6,
                    requested_chassis="bbbbbbbb-0000-4000-8000-000000000002")
    by_hostname = _pb(db, "44444446", "rc3", 7, options={"requested-chassis": "host1"})
    ctx = _ctx(db, ofports={"rc": 5, "rc2": 6, "rc3": 7}, zones={})
    assert port_binding_flows(by_option, ctx) == []
    assert port_binding_flows(by_column, ctx) == []
    assert port_binding_flows(by_hostname, ctx) != []


def test_zones_are_loaded_only_when_assigned() -> None:
    db = sb_db()
    pb = _pb(db, "39a9f6dd", "p1", 1)
    assert zone_loads(zone_ids(pb, {})) == []
    assert zone_loads(zone_ids(pb, {f"{DP0}_snat": 9})) == [SetField("reg12", 9)]


FIXED = """
priority=0 actions=drop
table=37, priority=0 actions=resubmit(,39)
table=38, priority=10,reg10=0x1/0x1 actions=resubmit(,40)
table=38, priority=0 actions=resubmit(,39)
table=39, priority=150,reg10=0x10/0x10 actions=resubmit(,40)
table=39, priority=150,reg10=0x2/0x3 actions=resubmit(,40)
table=39, priority=0 actions=resubmit(,40)
table=40, priority=0 actions=drop
table=41, priority=0 actions=set_field:0->reg0,set_field:0->reg1,set_field:0->reg2,set_field:0->reg3,set_field:0->reg4,set_field:0->reg5,set_field:0->reg6,set_field:0->reg7,set_field:0->reg8,set_field:0->reg9,resubmit(,42)
table=64, priority=0 actions=resubmit(,65)
table=65, priority=0 actions=drop
"""


def test_fixed_flows_are_23_03s_defaults_with_cookie_zero() -> None:
    assert texts(fixed_flows()) == texts(parse_dump(FIXED))
    assert FIXED_PARENT and all(f.cookie == 0 for f in fixed_flows())


def test_cookie_is_the_uuid_prefix() -> None:
    assert cookie_of("39a9f6dd-0b0b-4613-8e2d-704ab02c4e46") == 0x39A9F6DD
    assert cookie_of("physical-fixed") == 0
