"""lflow_output and flow_output on in-memory databases: only local datapaths are
translated, lflow inserts and deletes are handled one by one, a bad lflow costs only
itself, and the desired flow table equals a recompute's."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from controller_rows import OVS_TABLES, SB_TABLES
from pyovn.controller.binding_graph import build_binding_nodes
from pyovn.controller.flow_output import FlowOutputNode
from pyovn.controller.graph import ChassisConfigNode, ControllerOutput
from pyovn.controller.lflow_node import LFLOW_SB_TABLES, LflowOutputNode
from pyovn.engine import Engine
from pyovn.engine.ovsdb_input import TableInput, feed_changes
from pyovn.engine.testing import assert_incremental_equals_recompute
from pyovn.northd.fakedb import FakeDb
from pyovn.sandbox.procs import SB_SCHEMA, VSWITCH_SCHEMA

HV1 = "aaaaaaaa-0000-4000-8000-000000000001"


class World:
    """One chassis with port p1 bound locally on sw1; sw2 has no local port."""

    def __init__(self) -> None:
        self.sb = FakeDb(SB_SCHEMA, {**SB_TABLES, **LFLOW_SB_TABLES}, seed=1)
        self.ovs = FakeDb(VSWITCH_SCHEMA, OVS_TABLES, seed=2)
        self.ovs.insert("Open_vSwitch", external_ids={
            "system-id": "hv1", "ovn-remote": "unix:sb", "ovn-encap-type": "geneve",
            "ovn-encap-ip": "127.0.0.1"})
        iface = self.ovs.insert("Interface", name="p1", ofport=1,
                                external_ids={"iface-id": "p1"})
        port = self.ovs.insert("Port", name="p1", interfaces=(iface,))
        self.ovs.insert("Bridge", name="br-int", ports=(port,))
        self.sb.insert("Chassis", HV1, name="hv1", hostname="host1")
        self.sw1 = self.sb.insert("Datapath_Binding", tunnel_key=1,
                                  external_ids={"logical-switch": "x", "name": "sw1"})
        self.sw2 = self.sb.insert("Datapath_Binding", tunnel_key=2,
                                  external_ids={"logical-switch": "y", "name": "sw2"})
        self.sb.insert("Port_Binding", logical_port="p1", datapath=self.sw1, tunnel_key=5,
                       chassis=HV1)
        self.sb.insert("Port_Binding", logical_port="q1", datapath=self.sw2, tunnel_key=6)
        self.both = self.sb.insert("Logical_DP_Group", datapaths=(self.sw1, self.sw2))

    def lflow(self, match: str, actions: str = "next;", *, dp: str | None = None,
              group: str | None = None, table: int = 0, priority: int = 100) -> str:
        return self.sb.insert("Logical_Flow", logical_datapath=dp, logical_dp_group=group,
                              pipeline="ingress", table_id=table, priority=priority,
                              match=match, actions=actions)


@dataclass
class Graph:
    engine: Engine
    lflows: LflowOutputNode
    flows: FlowOutputNode
    leaves: list[tuple[FakeDb, list[TableInput]]]

    def feed(self) -> None:
        for db, leaves in self.leaves:
            feed_changes(db, leaves)  # type: ignore[arg-type]


def _build(world: World) -> Graph:
    ovs_in = {t: TableInput(world.ovs, t) for t in world.ovs.tables}  # type: ignore[arg-type]
    sb_in = {t: TableInput(world.sb, t) for t in world.sb.tables}  # type: ignore[arg-type]
    nodes = build_binding_nodes(ChassisConfigNode(ovs_in["Open_vSwitch"]), ovs_in, sb_in)
    lflows = LflowOutputNode(nodes.runtime_data, sb_in)
    flows = FlowOutputNode(nodes.physical_flows, lflows)
    graph = Graph(Engine(ControllerOutput(flows), name="test"), lflows, flows,
                  [(world.ovs, list(ovs_in.values())), (world.sb, list(sb_in.values()))])
    graph.feed()
    return graph


def _desired(graph: Graph) -> list[str]:
    return sorted(map(str, graph.flows.data.winners().values()))


def test_only_lflows_of_local_datapaths_are_translated() -> None:
    world = World()
    local = world.lflow("inport == \"p1\"", dp=world.sw1)
    remote = world.lflow("inport == \"q1\"", dp=world.sw2)
    grouped = world.lflow("eth.dst == 00:00:00:00:00:01", group=world.both, priority=50)
    graph = _build(world)
    graph.engine.run()
    flows = graph.lflows.data.flows
    assert set(flows) == {local, grouped}
    assert [str(f) for f in flows[local]] == [
        f"cookie=0x{local[:8]}, table=8, priority=100,reg14=0x5,metadata=0x1 "
        "actions=resubmit(,9)"]
    # A datapath group yields flows only for its local member.
    assert all("metadata=0x1" in str(f) for f in flows[grouped])
    assert remote not in flows
    desired = _desired(graph)
    assert any(f"cookie=0x{local[:8]}" in text for text in desired)


def test_lflow_inserts_and_deletes_are_handled_without_recompute() -> None:
    world = World()
    world.lflow("ip4", dp=world.sw1)
    graph = _build(world)
    graph.engine.run()
    added = world.lflow("arp", dp=world.sw1, table=3, priority=7)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 1
    assert graph.flows.data.flows_of(added)
    world.sb.delete("Logical_Flow", added)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 1
    assert graph.flows.data.flows_of(added) == []
    assert added not in graph.lflows.data.flows


def test_an_lflow_that_does_not_parse_costs_only_itself() -> None:
    world = World()
    bad = world.lflow("ip4 &&& nonsense", dp=world.sw1)
    good = world.lflow("ip6", dp=world.sw1)
    graph = _build(world)
    graph.engine.run()
    assert bad not in graph.lflows.data.flows
    assert graph.lflows.data.flows[good]


def test_incremental_flow_table_equals_a_recompute() -> None:
    world = World()
    uuids: list[str] = []

    def add(match: str, **kw: Any) -> Any:
        def change(graph: Graph) -> None:
            uuids.append(world.lflow(match, **kw))
            graph.feed()
        return change

    def delete_first(graph: Graph) -> None:
        world.sb.delete("Logical_Flow", uuids.pop(0))
        graph.feed()

    def move_port(graph: Graph) -> None:
        pb = next(r for r in world.sb.tables["Port_Binding"].rows.values()
                  if r["logical_port"] == "q1")
        world.sb.update("Port_Binding", pb.uuid, logical_port="q2")
        graph.feed()

    def set_up(graph: Graph) -> None:
        for pb in list(world.sb.tables["Port_Binding"].rows.values()):
            world.sb.update("Port_Binding", pb.uuid, up=not pb["up"])
        graph.feed()

    changes = [add("ip4", dp=world.sw1), set_up, add("outport == \"q2\"", dp=world.sw2),
               add("ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}",
                   group=world.both, table=4),
               delete_first, move_port, set_up, add("outport == \"p1\"", dp=world.sw1, table=2),
               delete_first]
    assert_incremental_equals_recompute(lambda: _build(world), changes, _desired,
                                        fresh=True)


def test_port_changes_that_keep_names_and_keys_cost_no_retranslation() -> None:
    world = World()
    world.lflow("outport == \"p1\"", dp=world.sw1)
    names_p9 = world.lflow("outport == \"p9\"", dp=world.sw1, table=2)
    graph = _build(world)
    graph.engine.run()
    done = graph.lflows.translations
    assert names_p9 not in graph.lflows.data.flows  # p9 does not exist yet
    p1 = next(r for r in world.sb.tables["Port_Binding"].rows.values()
              if r["logical_port"] == "p1")
    world.sb.update("Port_Binding", p1.uuid, up=True)
    world.sb.insert("Port_Binding", logical_port="q9", datapath=world.sw2, tunnel_key=9)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.translations == done
    # A new port re-translates exactly the lflow that named it.
    world.sb.insert("Port_Binding", logical_port="p9", datapath=world.sw1, tunnel_key=10)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.translations == done + 1
    assert "reg15=0xa" in str(graph.lflows.data.flows[names_p9][0])
    assert graph.lflows.stats.recompute == 1


def test_an_lflow_handled_in_the_same_run_as_a_new_port_reaches_the_table() -> None:
    world = World()
    world.lflow("ip4", dp=world.sw1)
    graph = _build(world)
    graph.engine.run()
    added = world.lflow("outport == \"p9\"", dp=world.sw1, table=3)
    world.sb.insert("Port_Binding", logical_port="p9", datapath=world.sw1, tunnel_key=10)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 1
    assert graph.flows.data.flows_of(added) == graph.lflows.data.flows[added] != []


def _claim(world: World, name: str, ofport: int) -> None:
    """Bind logical port ``name`` to a new local interface."""
    iface = world.ovs.insert("Interface", name=name, ofport=ofport,
                             external_ids={"iface-id": name})
    port = world.ovs.insert("Port", name=name, interfaces=(iface,))
    bridge = next(iter(world.ovs.tables["Bridge"].rows.values()))
    world.ovs.update("Bridge", bridge.uuid, ports=(*bridge["ports"], port))


def _retranslated(graph: Graph, change: Any) -> int:
    """Run ``change``, then the engine; how many lflows were translated again."""
    before = graph.lflows.translations
    change()
    graph.feed()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 1, "the change recomputed lflow_output"
    return graph.lflows.translations - before


def test_address_set_and_port_group_changes_retranslate_only_their_readers() -> None:
    world = World()
    as1 = world.sb.insert("Address_Set", name="as1", addresses=("10.0.0.1",))
    pg = world.sb.insert("Port_Group", name="1_pg1", ports=("p1",))
    by_as = world.lflow("ip4.src == $as1", dp=world.sw1)
    by_pg = world.lflow("outport == @pg1", dp=world.sw1, table=2)
    by_missing = world.lflow("ip4.dst == $as2", dp=world.sw1, table=3)
    world.lflow("ip4", dp=world.sw1, table=4)
    graph = _build(world)
    graph.engine.run()
    assert by_missing not in graph.lflows.data.flows

    assert _retranslated(graph, lambda: world.sb.update(
        "Address_Set", as1, addresses=("10.0.0.1", "10.0.0.2"))) == 1
    assert len(graph.lflows.data.flows[by_as]) == 2
    assert _retranslated(graph, lambda: world.sb.update("Port_Group", pg, ports=())) == 1
    assert by_pg not in graph.lflows.data.flows
    # Creating the address set an lflow named re-translates that lflow.
    assert _retranslated(graph, lambda: world.sb.insert(
        "Address_Set", name="as2", addresses=("10.0.0.9",))) == 1
    assert "nw_dst=10.0.0.9" in str(graph.lflows.data.flows[by_missing][0])
    # An address set nobody reads costs nothing.
    assert _retranslated(graph, lambda: world.sb.insert(
        "Address_Set", name="other", addresses=("1.1.1.1",))) == 0


def test_a_datapath_that_becomes_local_translates_only_its_lflows() -> None:
    world = World()
    world.lflow("ip4", dp=world.sw1)
    on_sw2 = [world.lflow("ip4", dp=world.sw2, table=t) for t in range(3)]
    graph = _build(world)
    graph.engine.run()
    assert not any(u in graph.lflows.data.flows for u in on_sw2)
    # q1 on sw2 bound here: sw2 is local now; its three lflows are translated.
    assert _retranslated(graph, lambda: _claim(world, "q1", 2)) == 3
    assert all("metadata=0x2" in str(graph.lflows.data.flows[u][0]) for u in on_sw2)


def test_is_chassis_resident_follows_claims_and_dp_groups_follow_membership() -> None:
    world = World()
    world.sb.insert("Port_Binding", logical_port="p2", datapath=world.sw1, tunnel_key=7)
    resident = world.lflow('is_chassis_resident("p2") && ip4', dp=world.sw1)
    world.lflow("ip6", dp=world.sw1, table=2)
    only_sw2 = world.sb.insert("Logical_DP_Group", datapaths=(world.sw2,))
    grouped = world.lflow("arp", group=only_sw2, table=3)
    graph = _build(world)
    graph.engine.run()
    assert resident not in graph.lflows.data.flows
    assert _retranslated(graph, lambda: _claim(world, "p2", 3)) == 1
    assert graph.lflows.data.flows[resident]
    assert grouped not in graph.lflows.data.flows
    assert _retranslated(graph, lambda: world.sb.update(
        "Logical_DP_Group", only_sw2, datapaths=(world.sw1, world.sw2))) == 1
    assert "metadata=0x1" in str(graph.lflows.data.flows[grouped][0])


def test_a_forced_recompute_reuses_every_unchanged_translation() -> None:
    world = World()
    world.sb.insert("Address_Set", name="as1", addresses=("10.0.0.1",))
    for table in range(5):
        world.lflow(f"ip4.src == $as1 && ip.ttl == {table}", dp=world.sw1, table=table)
    graph = _build(world)
    graph.engine.run()
    before, flows = graph.lflows.translations, dict(graph.lflows.data.flows)
    graph.engine.force_recompute()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 2
    assert graph.lflows.translations == before
    assert graph.lflows.data.flows == flows


def test_dependency_tracking_equals_a_fresh_recompute_after_every_change() -> None:
    world = World()
    world.sb.insert("Port_Binding", logical_port="p2", datapath=world.sw1, tunnel_key=7)
    as1 = world.sb.insert("Address_Set", name="as1", addresses=("10.0.0.1",))
    pg = world.sb.insert("Port_Group", name="1_pg1", ports=("p1",))
    for match in ("ip4.src == $as1", "outport == @pg1", "outport == \"p9\"",
                  'inport == "p2" && ip4',
                  'is_chassis_resident("p2")', "ip4.dst == $as1 && tcp.dst == {80, 443}"):
        world.lflow(match, group=world.both, table=len(match) % 20)

    def step(fn: Any) -> Any:
        def change(graph: Graph) -> None:
            fn()
            graph.feed()
        return change

    changes = [
        step(lambda: world.sb.update("Address_Set", as1, addresses=("10.0.0.1", "10.0.0.7"))),
        step(lambda: world.sb.update("Port_Group", pg, ports=("p1", "p2"))),
        step(lambda: _claim(world, "p2", 3)),
        step(lambda: world.sb.insert("Port_Binding", logical_port="p9", datapath=world.sw1,
                                     tunnel_key=11)),
        step(lambda: _claim(world, "q1", 4)),
        step(lambda: world.sb.update("Address_Set", as1, name="as1-renamed")),
        step(lambda: world.sb.delete("Port_Group", pg)),
    ]
    # (Only lflow_output's flows: a fresh graph numbers the new ports' ct zones anew.)
    assert_incremental_equals_recompute(
        lambda: _build(world), changes,
        lambda g: {u: sorted(map(str, f)) for u, f in g.lflows.data.flows.items()}, fresh=True)


def test_an_lflow_on_a_datapath_group_is_parsed_once_for_all_its_datapaths() -> None:
    world = World()
    _claim(world, "q1", 2)
    grouped = world.lflow("ip4.dst == 10.0.0.0/8 && tcp", "ct_next;", group=world.both)
    graph = _build(world)
    graph.engine.run()
    cache = graph.lflows._recorder.lookups.parse_cache
    assert cache is not None and cache.hits >= 2  # the actions and the match, once more
    assert sorted("metadata=0x1" in str(f) for f in graph.lflows.data.flows[grouped]) == [
        False, True]


def test_matches_on_ports_unrelated_to_this_chassis_install_nothing_until_bound() -> None:
    world = World()
    world.sb.insert("Port_Binding", logical_port="p2", datapath=world.sw1, tunnel_key=7)
    world.sb.insert("Port_Binding", logical_port="ln", datapath=world.sw1, tunnel_key=8,
                    type="localnet")
    to_p2 = world.lflow('inport == "p2" && ip4', dp=world.sw1)  # ingress: inport
    tagged = world.sb.insert("Logical_Flow", logical_datapath=world.sw1, pipeline="ingress",
                             table_id=5, priority=90, match="arp", actions="next;",
                             tags={"in_out_port": "p2"})
    to_localnet = world.lflow('outport == "ln"', dp=world.sw1, table=2)
    graph = _build(world)
    graph.engine.run()
    flows = graph.lflows.data.flows
    assert to_p2 not in flows and tagged not in flows  # p2 is bound nowhere
    assert flows[to_localnet]  # localnet ports are related to every chassis
    assert _retranslated(graph, lambda: _claim(world, "p2", 3)) == 2
    assert graph.lflows.data.flows[to_p2] and graph.lflows.data.flows[tagged]


def test_load_balancer_groups_are_shared_installed_and_removed_with_their_lflows() -> None:
    world = World()
    lb = "reg0[1] = 0; ct_lb_mark(backends=10.0.0.2,10.0.0.3);"
    one = world.lflow("ip4.dst == 10.0.0.100", lb, dp=world.sw1, table=11)
    two = world.lflow("ip4.dst == 10.0.0.100 && tcp", lb, dp=world.sw1, table=11, priority=120)
    graph = _build(world)
    graph.engine.run()
    groups = graph.flows.data.groups()
    assert len(groups) == 1
    [(gid, group)] = groups.items()
    assert len(group.buckets) == 2
    assert f"group:{gid}" in str(graph.lflows.data.flows[one][0])
    world.sb.delete("Logical_Flow", one)
    graph.feed()
    graph.engine.run()
    assert list(graph.flows.data.groups()) == [gid]  # still used by the other lflow
    world.sb.delete("Logical_Flow", two)
    graph.feed()
    graph.engine.run()
    assert graph.flows.data.groups() == {} and len(graph.lflows.ids["group"]) == 0


def test_dhcp_option_definitions_arriving_later_retranslate_their_users() -> None:
    world = World()
    dhcp = world.lflow("udp.dst == 67", "reg0[3] = put_dhcp_opts(offerip = 10.0.0.5, "
                       "router = 10.0.0.1, lease_time = 3600); next;", dp=world.sw1)
    world.lflow("ip4", dp=world.sw1, table=2)
    graph = _build(world)
    graph.engine.run()
    assert dhcp not in graph.lflows.data.flows  # unknown options: the lflow fails
    for name, code, kind in (("offerip", 0, "ipv4"), ("router", 3, "ipv4"),
                             ("lease_time", 51, "uint32")):
        world.sb.insert("DHCP_Options", name=name, code=code, type=kind)
    assert _retranslated(graph, lambda: None) == 1
    assert "controller(" in str(graph.lflows.data.flows[dhcp][0])


def test_meters_come_from_sb_meter_rows_and_inline_descriptions() -> None:
    world = World()
    logged = world.lflow("ip4", 'log(name="a", verdict=allow, meter="acl_meter"); next;',
                         dp=world.sw1)
    limited = world.lflow("udp", "set_meter(100, 10); next;", dp=world.sw1, table=2)
    graph = _build(world)
    graph.engine.run()
    meters = graph.flows.data.meters()
    [(inline, meter)] = meters.items()
    assert str(meter) == f"meter={inline} kbps burst stats bands=type=drop rate=100 burst_size=10"
    assert f"meter:{inline}" in str(graph.lflows.data.flows[limited][0])
    # The named meter appears with its SB row: the lflow that uses it is translated again.
    band = world.sb.insert("Meter_Band", action="drop", rate=10, burst_size=0)
    assert _retranslated(graph, lambda: world.sb.insert(
        "Meter", name="acl_meter", unit="pktps", bands=(band,))) == 1
    named = graph.lflows.ids["meter"].id_of("acl_meter")
    assert named is not None
    assert "pktps stats bands=type=drop rate=10" in str(graph.flows.data.meters()[named])
    assert f"meter_id={named}" in str(graph.lflows.data.flows[logged][0])


def test_invalid_address_set_entries_are_reported_and_skipped(
        caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    world.sb.insert("Address_Set", name="as1", addresses=("10.0.0.1", "10.0.0.300", "junk"))
    uses = world.lflow("ip4.src == $as1", dp=world.sw1)
    graph = _build(world)
    with caplog.at_level(logging.WARNING, logger="pyovn.controller"):
        graph.engine.run()
    assert [str(f) for f in graph.lflows.data.flows[uses]] == [
        f"cookie=0x{uses[:8]}, table=8, priority=100,ip,metadata=0x1,nw_src=10.0.0.1 "
        "actions=resubmit(,9)"]
    reported = "\n".join(r.getMessage() for r in caplog.records)
    assert "invalid constant set entry: '10.0.0.300'" in reported
    assert "invalid constant set entry: 'junk'" in reported
