"""lflow_output and flow_output on in-memory databases: only local datapaths are
translated, lflow inserts and deletes are handled one by one, a bad lflow costs only
itself, and the desired flow table equals a recompute's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    graph = _build(world)
    graph.engine.run()
    p1 = next(r for r in world.sb.tables["Port_Binding"].rows.values()
              if r["logical_port"] == "p1")
    world.sb.update("Port_Binding", p1.uuid, up=True)
    world.sb.insert("Port_Binding", logical_port="q9", datapath=world.sw2, tunnel_key=9)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 1
    # A new port on a local datapath may be named by lflows: retranslate.
    world.sb.insert("Port_Binding", logical_port="p9", datapath=world.sw1, tunnel_key=10)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 2


def test_an_lflow_handled_before_a_recompute_in_the_same_run_reaches_the_table() -> None:
    world = World()
    world.lflow("ip4", dp=world.sw1)
    graph = _build(world)
    graph.engine.run()
    # The lflow handler runs first, then the new local port forces a recompute.
    added = world.lflow("arp", dp=world.sw1, table=3)
    world.sb.insert("Port_Binding", logical_port="p9", datapath=world.sw1, tunnel_key=10)
    graph.feed()
    graph.engine.run()
    assert graph.lflows.stats.recompute == 2
    assert graph.flows.data.flows_of(added) == graph.lflows.data.flows[added] != []
