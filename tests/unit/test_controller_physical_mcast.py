"""Multicast group flows and the MAC binding / FDB flows, against ovn-controller 23.03's.

Expected texts are lines of a real 23.03.1 ``dump-flows``; members are in the group's
UUID order, as 23.03 visits them.
"""

# ruff: noqa: E501  (expected flows are real ovs-ofctl dump lines, kept whole)
from __future__ import annotations

from typing import Any

from controller_rows import parse_dump, row, sb_db, texts
from pyovn.controller.binding import ChassisIdentity, LocalDatapath
from pyovn.controller.physical import PhysicalContext
from pyovn.controller.physical_lookups import (
    fdb_flows,
    mac_binding_flows,
    static_mac_binding_flows,
)
from pyovn.controller.physical_mcast import multicast_group_flows
from pyovn.northd.fakedb import FakeDb
from pyovn.ovsdb import Row

HV1 = "aaaaaaaa-0000-4000-8000-000000000001"
HV2 = "bbbbbbbb-0000-4000-8000-000000000002"
DP0 = "1f83b2eb-c307-4488-b0b6-b338652d5d41"
DP1 = "2e68fda9-b645-4c59-8121-75ee88f5bf79"


def _pb(db: FakeDb, prefix: str, name: str, key: int, dp: str = DP0, **extra: Any) -> Row:
    return row(db, "Port_Binding", f"{prefix}-0000-4000-8000-000000000000",
               logical_port=name, tunnel_key=key, datapath=dp, **extra)


def _ctx(db: FakeDb, zones: dict[str, int], local: set[str],
         patch: dict[str, int] | None = None, localnet: Row | None = None) -> PhysicalContext:
    pbs = {r["logical_port"]: r for r in db.tables["Port_Binding"].rows.values()}
    lds = {DP0: LocalDatapath(DP0, 1), DP1: LocalDatapath(DP1, 2, localnet)}
    return PhysicalContext(ChassisIdentity(HV1, "hv1"), lds, pbs, {}, patch or {}, zones,
                           local, db.tables["Port_Binding"].rows)


def _sw0(db: FakeDb) -> list[Row]:
    """sw0 of the reference sandbox (UUID prefixes are its Port_Bindings')."""
    return [
        _pb(db, "10fb73d2", "p3", 3, chassis=HV1),
        _pb(db, "3161d206", "p2", 2, chassis=HV1),
        _pb(db, "39a9f6dd", "p1", 1, chassis=HV1),
        _pb(db, "5c2decc7", "lp", 4, type="localport"),
        _pb(db, "62d8b419", "child1", 6, chassis=HV1, parent_port="p1", tag=7),
        _pb(db, "9da71818", "ps1", 5, chassis=HV1),
    ]


ZONES = {"p3": 7, "p2": 4, "p1": 1, "lp": 6, "child1": 5, "ps1": 8}
FLOOD = """
cookie=0x8715871, table=39, priority=100,reg15=0x8000,metadata=0x1 actions=set_field:0x4->reg15,resubmit(,41),set_field:0x8000->reg15,resubmit(,40)
cookie=0x8715871, table=40, priority=100,reg15=0x8000,metadata=0x1 actions=set_field:0x7->reg13,set_field:0x3->reg15,resubmit(,41),set_field:0x4->reg13,set_field:0x2->reg15,resubmit(,41),set_field:0x1->reg13,set_field:0x1->reg15,resubmit(,41),set_field:0x6->reg13,set_field:0x5->reg13,set_field:0x6->reg15,resubmit(,41),set_field:0x8->reg13,set_field:0x5->reg15,resubmit(,41),set_field:0x8000->reg15
"""


def test_flood_outputs_local_members_in_uuid_order_and_localports_in_table_39() -> None:
    db = sb_db()
    members = _sw0(db)
    mc = row(db, "Multicast_Group", "08715871-3f67-483a-b5ed-918e95bed272", datapath=DP0,
             name="_MC_flood", tunnel_key=0x8000,
             ports=tuple(sorted(pb.uuid for pb in reversed(members))))
    ctx = _ctx(db, ZONES, {"p1", "p2", "p3", "lp", "ps1", "child1"})
    assert texts(multicast_group_flows(mc, ctx)) == texts(parse_dump(FLOOD))


def test_members_not_bound_here_are_skipped_and_a_group_of_none_has_no_flow() -> None:
    db = sb_db()
    away = _pb(db, "10fb73d2", "p3", 3, chassis=HV2)
    unbound = _pb(db, "3161d206", "p2", 2)
    mc = row(db, "Multicast_Group", "dbebbd6c-0000-4000-8000-000000000000", datapath=DP0,
             name="_MC_unknown", tunnel_key=0x8001, ports=(away.uuid, unbound.uuid))
    # p3 is claimed by another chassis: no tunnels yet, so no copy for it either.
    assert multicast_group_flows(mc, _ctx(db, {}, {"p2"})) == []
    # A member's zone is loaded even when it is not delivered here (as 23.03 does).
    (flow,) = multicast_group_flows(mc, _ctx(db, {"p2": 4}, set()))
    assert str(flow).endswith("actions=set_field:0x4->reg13,set_field:0x8001->reg15")


def test_a_localnet_member_is_delivered_through_its_patch_port() -> None:
    db = sb_db()
    ln = _pb(db, "11111111", "ln1", 1, dp=DP1, type="localnet")
    q1 = _pb(db, "22222222", "q1", 2, dp=DP1, chassis=HV1)
    mc = row(db, "Multicast_Group", "9ff1fb93-0000-4000-8000-000000000000", datapath=DP1,
             name="_MC_flood", tunnel_key=0x8000, ports=(ln.uuid, q1.uuid))
    flows = multicast_group_flows(mc, _ctx(db, {"ln1": 12, "q1": 9}, {"q1"},
                                           {"ln1": 7}, ln))
    assert texts(flows) == texts(parse_dump(
        "cookie=0x9ff1fb93, table=40, priority=100,reg15=0x8000,metadata=0x2 actions="
        "set_field:0xc->reg13,set_field:0x1->reg15,resubmit(,41),set_field:0x9->reg13,"
        "set_field:0x2->reg15,resubmit(,41),set_field:0x8000->reg15"))


def test_groups_of_datapaths_that_are_not_local_have_no_flows() -> None:
    db = sb_db()
    mc = row(db, "Multicast_Group", datapath="99999999-0000-4000-8000-000000000000",
             name="_MC_flood", tunnel_key=0x8000, ports=())
    assert multicast_group_flows(mc, _ctx(db, {}, set())) == []


NEIGHBORS = """
cookie=0x944e89af, table=66, priority=100,reg0=0xa000063,reg15=0x1,metadata=0x1 actions=set_field:00:00:00:00:99:99->eth_dst,set_field:0x40/0x40->reg10
cookie=0x944e89af, table=67, priority=100,arp,reg0=0xa000063,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:99:99 actions=set_field:0x40/0x40->reg10
cookie=0x4179efbf, table=66, priority=100,reg0=0xfd000000,reg1=0,reg2=0,reg3=0x99,reg15=0x2,metadata=0x1 actions=set_field:00:00:00:00:99:98->eth_dst,set_field:0x40/0x40->reg10
cookie=0x4179efbf, table=67, priority=100,icmp6,reg0=0xfd000000,reg1=0,reg2=0,reg3=0x99,reg14=0x2,metadata=0x1,dl_src=00:00:00:00:99:98,icmp_code=0 actions=set_field:0x40/0x40->reg10
cookie=0x7efb44a, table=71, priority=100,metadata=0x2,dl_dst=00:00:00:00:77:77 actions=set_field:0x2->reg15
cookie=0x7efb44a, table=72, priority=100,reg14=0x2,metadata=0x2,dl_src=00:00:00:00:77:77 actions=set_field:0x100/0x100->reg10
"""


def test_mac_bindings_and_fdb_entries_fill_their_lookup_tables() -> None:
    db = sb_db()
    pbs = {pb["logical_port"]: pb for pb in (_pb(db, "1", "p1", 1), _pb(db, "2", "p2", 2))}
    keys = {DP0: 1, DP1: 2}
    v4 = row(db, "MAC_Binding", "944e89af-0000-4000-8000-000000000000", logical_port="p1",
             ip="10.0.0.99", mac="00:00:00:00:99:99", datapath=DP0)
    v6 = row(db, "MAC_Binding", "4179efbf-0000-4000-8000-000000000000", logical_port="p2",
             ip="fd00::99", mac="00:00:00:00:99:98", datapath=DP0)
    fdb = row(db, "FDB", "07efb44a-0000-4000-8000-000000000000", dp_key=2, port_key=2,
              mac="00:00:00:00:77:77")
    flows = [*mac_binding_flows(v4, pbs, keys), *mac_binding_flows(v6, pbs, keys),
             *fdb_flows(fdb, {1, 2})]
    assert texts(flows) == texts(parse_dump(NEIGHBORS))


def test_neighbors_outside_local_datapaths_or_malformed_are_skipped() -> None:
    db = sb_db()
    pbs = {"p1": _pb(db, "1", "p1", 1)}
    unknown_port = row(db, "MAC_Binding", logical_port="px", ip="10.0.0.1",
                       mac="00:00:00:00:00:01", datapath=DP0)
    bad_ip = row(db, "MAC_Binding", logical_port="p1", ip="nope", mac="00:00:00:00:00:01",
                 datapath=DP0)
    bad_mac = row(db, "MAC_Binding", logical_port="p1", ip="10.0.0.1", mac="zz",
                  datapath=DP0)
    assert [mac_binding_flows(r, pbs, {DP0: 1}) for r in (unknown_port, bad_ip, bad_mac)
            ] == [[], [], []]
    assert mac_binding_flows(unknown_port, pbs, {}) == []
    remote_fdb = row(db, "FDB", dp_key=7, port_key=1, mac="00:00:00:00:00:01")
    assert fdb_flows(remote_fdb, {1, 2}) == []


def test_a_static_mac_binding_sits_above_or_below_the_dynamic_ones() -> None:
    db = sb_db()
    pbs = {"p1": _pb(db, "1", "p1", 1)}
    high = row(db, "Static_MAC_Binding", logical_port="p1", ip="10.0.0.7",
               mac="00:00:00:00:00:07", datapath=DP0, override_dynamic_mac=True)
    low = row(db, "Static_MAC_Binding", logical_port="p1", ip="10.0.0.8",
              mac="00:00:00:00:00:08", datapath=DP0, override_dynamic_mac=False)
    assert {f.priority for f in static_mac_binding_flows(high, pbs, {DP0: 1})} == {150}
    assert {f.priority for f in static_mac_binding_flows(low, pbs, {DP0: 1})} == {50}
