"""The binding/physical nodes on in-memory databases: incremental equals recompute.

Random sequences of the changes a chassis sees (ports and interfaces coming and going,
claims echoed by the Southbound, port security, containers, localports, a localnet
network, neighbours, multicast membership) drive the nodes of
:mod:`pyovn.controller.binding_graph`; after every change the physical flows and the
zones must equal those of a graph built afresh on the same databases, and the
physical flows must never have needed a full recompute.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from controller_rows import ovs_db, sb_db
from pyovn.controller.binding_graph import BindingNodes, build_binding_nodes
from pyovn.controller.graph import ChassisConfigNode, ControllerOutput
from pyovn.engine import Engine
from pyovn.engine.ovsdb_input import TableInput, feed_changes
from pyovn.engine.testing import assert_incremental_equals_recompute
from pyovn.northd.fakedb import FakeDb

HV1 = "aaaaaaaa-0000-4000-8000-000000000001"
HV2 = "bbbbbbbb-0000-4000-8000-000000000002"


class World:
    """A chassis's two databases, and the bookkeeping northd and OVS would do."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sb, self.ovs = sb_db(seed), ovs_db(seed + 1)
        self.ovs.insert("Open_vSwitch", external_ids={
            "system-id": "hv1", "ovn-remote": "unix:sb", "ovn-encap-type": "geneve",
            "ovn-encap-ip": "127.0.0.1"})
        self.bridge = self.ovs.insert("Bridge", name="br-int")
        self.sb.insert("Chassis", HV1, name="hv1", hostname="host1")
        self.sb.insert("Chassis", HV2, name="hv2")
        self.dps = [self.sb.insert("Datapath_Binding", tunnel_key=k,
                                   external_ids={"name": f"sw{k}"}) for k in (1, 2)]
        self.floods = [self.sb.insert("Multicast_Group", datapath=dp, name="_MC_flood",
                                      tunnel_key=0x8000) for dp in self.dps]
        self.keys = 0
        self.ofports = 0
        self.ifaces: dict[str, tuple[str, str]] = {}  # lport → (Port, Interface)
        self.neighbors: list[tuple[str, str]] = []
        ln = self._pb(self.dps[1], "ln1", type="localnet",
                      options={"network_name": "physnet1"})
        self._iface("patch-br-int-to-ln1", None, {"ovn-localnet-port": "ln1"})
        assert ln

    def _pb(self, dp: str, name: str, **values: Any) -> str:
        self.keys += 1
        uuid = self.sb.insert("Port_Binding", logical_port=name, datapath=dp,
                              tunnel_key=self.keys, **values)
        flood = self.floods[self.dps.index(dp)]
        ports = self.sb.tables["Multicast_Group"].rows[flood]["ports"]
        self.sb.update("Multicast_Group", flood, ports=tuple(sorted({*ports, uuid})))
        return uuid

    def _iface(self, name: str, iface_id: str | None,
               port_ids: dict[str, str] | None = None) -> None:
        self.ofports += 1
        ids = {"iface-id": iface_id} if iface_id else {}
        iface = self.ovs.insert("Interface", name=name, ofport=self.ofports,
                                external_ids=ids)
        port = self.ovs.insert("Port", name=name, interfaces=(iface,),
                               external_ids=port_ids or {})
        ports = self.ovs.tables["Bridge"].rows[self.bridge]["ports"]
        self.ovs.update("Bridge", self.bridge, ports=tuple(sorted({*ports, port})))
        self.ifaces[iface_id or name] = (port, iface)

    def pbs(self) -> list[Any]:
        return sorted(self.sb.tables["Port_Binding"].rows.values(),
                      key=lambda r: r["logical_port"])

    # -- random changes -------------------------------------------------------------

    def add_port(self) -> None:
        name = f"p{self.keys + 1}"
        extra: dict[str, Any] = {}
        vifs = [pb["logical_port"] for pb in self.pbs() if pb["type"] == ""
                and not pb["parent_port"]]
        roll = self.rng.random()
        if roll < 0.15 and vifs:
            extra = {"parent_port": self.rng.choice(vifs), "tag": self.rng.randint(1, 99)}
        elif roll < 0.25:
            extra = {"type": "localport"}
        elif roll < 0.5:
            extra = {"port_security": (f"00:00:00:00:00:{self.keys % 256:02x} "
                                       f"10.0.0.{self.keys % 250}",)}
        self._pb(self.rng.choice(self.dps), name, **extra)
        if self.rng.random() < 0.7 and "parent_port" not in extra:
            self._iface(name, name)

    def delete_port(self) -> None:
        pbs = [pb for pb in self.pbs() if pb["type"] != "localnet"]
        if pbs:
            pb = self.rng.choice(pbs)
            for flood in self.floods:
                ports = self.sb.tables["Multicast_Group"].rows[flood]["ports"]
                self.sb.update("Multicast_Group", flood,
                               ports=tuple(u for u in ports if u != pb.uuid))
            self.sb.delete("Port_Binding", pb.uuid)

    def toggle_iface(self) -> None:
        pbs = [pb["logical_port"] for pb in self.pbs() if pb["type"] != "localnet"]
        if not pbs:
            return
        name = self.rng.choice(pbs)
        if name in self.ifaces:
            port, iface = self.ifaces.pop(name)
            ports = self.ovs.tables["Bridge"].rows[self.bridge]["ports"]
            self.ovs.update("Bridge", self.bridge, ports=tuple(p for p in ports if p != port))
            self.ovs.delete("Port", port)
            self.ovs.delete("Interface", iface)
        else:
            self._iface(name, name)

    def echo_claims(self) -> None:
        for pb in self.pbs():
            name = pb["parent_port"] or pb["logical_port"]
            want = HV1 if name in self.ifaces and pb["type"] == "" else None
            if pb["chassis"] != want and self.rng.random() < 0.8:
                self.sb.update("Port_Binding", pb.uuid, chassis=want)

    def steal(self) -> None:
        pbs = [pb for pb in self.pbs() if pb["chassis"] == HV1]
        if pbs:
            self.sb.update("Port_Binding", self.rng.choice(pbs).uuid, chassis=HV2)

    def change_security(self) -> None:
        pbs = self.pbs()
        if pbs:
            pb = self.rng.choice(pbs)
            sec = () if pb["port_security"] else ("00:00:00:00:00:99 10.0.0.99/24",)
            self.sb.update("Port_Binding", pb.uuid, port_security=sec)

    def neighbor(self) -> None:
        if self.neighbors and self.rng.random() < 0.4:
            self.sb.delete(*self.neighbors.pop(self.rng.randrange(len(self.neighbors))))
            return
        pbs = self.pbs()
        if not pbs:
            return
        pb = self.rng.choice(pbs)
        n = len(self.neighbors)
        if self.rng.random() < 0.5:
            uuid = self.sb.insert("MAC_Binding", logical_port=pb["logical_port"],
                                  ip=f"10.9.0.{n}", mac=f"00:00:00:00:09:{n:02x}",
                                  datapath=pb["datapath"])
            self.neighbors.append(("MAC_Binding", uuid))
        else:
            key = 1 + self.dps.index(pb["datapath"])
            uuid = self.sb.insert("FDB", dp_key=key, port_key=pb["tunnel_key"],
                                  mac=f"00:00:00:00:08:{n:02x}")
            self.neighbors.append(("FDB", uuid))

    def toggle_patch(self) -> None:
        if "patch-br-int-to-ln1" in self.ifaces:
            port, _iface = self.ifaces.pop("patch-br-int-to-ln1")
            ports = self.ovs.tables["Bridge"].rows[self.bridge]["ports"]
            self.ovs.update("Bridge", self.bridge, ports=tuple(p for p in ports if p != port))
        else:
            self._iface("patch-br-int-to-ln1", None, {"ovn-localnet-port": "ln1"})

    def move_iface(self) -> None:
        names = [n for n in self.ifaces if not n.startswith("patch-")]
        pbs = [pb["logical_port"] for pb in self.pbs() if pb["logical_port"] not in self.ifaces]
        if names and pbs:
            old, new = self.rng.choice(names), self.rng.choice(pbs)
            port, iface = self.ifaces.pop(old)
            self.ovs.update("Interface", iface, external_ids={"iface-id": new})
            self.ifaces[new] = (port, iface)

    def leave_group(self) -> None:
        flood = self.rng.choice(self.floods)
        ports = self.sb.tables["Multicast_Group"].rows[flood]["ports"]
        if ports:
            self.sb.update("Multicast_Group", flood, ports=ports[1:])

    def random_change(self) -> None:
        actions: list[Callable[[], None]] = [
            self.add_port, self.add_port, self.delete_port, self.toggle_iface,
            self.echo_claims, self.echo_claims, self.steal, self.change_security,
            self.neighbor, self.toggle_patch, self.move_iface, self.leave_group]
        self.rng.choice(actions)()


@dataclass
class Graph:
    """The nodes over a World, as the daemon would wire them (writers left out)."""

    engine: Engine
    nodes: BindingNodes
    inputs: list[tuple[FakeDb, list[TableInput]]]

    def feed(self) -> None:
        for db, leaves in self.inputs:
            feed_changes(db, leaves)  # type: ignore[arg-type]


def _build(world: World) -> Graph:
    ovs_in = {t: TableInput(world.ovs, t) for t in world.ovs.tables}  # type: ignore[arg-type]
    sb_in = {t: TableInput(world.sb, t) for t in world.sb.tables}  # type: ignore[arg-type]
    nodes = build_binding_nodes(ChassisConfigNode(ovs_in["Open_vSwitch"]), ovs_in, sb_in)
    engine = Engine(ControllerOutput(nodes.physical_flows), name="test")
    return Graph(engine, nodes, [(world.ovs, list(ovs_in.values())),
                                 (world.sb, list(sb_in.values()))])


def _snapshot(graph: Graph) -> dict[str, Any]:
    flows = graph.nodes.physical_flows.data.flows
    return {"flows": {p: sorted(map(str, fl)) for p, fl in flows.items()},
            "zones": dict(graph.nodes.ct_zones.data.zones.zones)}


@pytest.mark.parametrize("seed", range(8))
def test_random_changes_are_handled_incrementally_and_equal_a_recompute(seed: int) -> None:
    world = World(seed)

    def change(graph: Graph) -> None:
        world.random_change()
        graph.feed()

    def build() -> Graph:
        graph = _build(world)
        # A fresh controller restores the zones the running one saved in br-int.
        zones = graph_zones.get("zones", {})
        ids = {f"ct-zone-{u}": str(z) for u, z in zones.items()}
        world.ovs.update("Bridge", world.bridge, external_ids=ids)
        graph.feed()
        return graph

    graph_zones: dict[str, dict[str, int]] = {}

    def snapshot(graph: Graph) -> dict[str, Any]:
        snap = _snapshot(graph)
        graph_zones["zones"] = snap["zones"]
        return snap

    graph = assert_incremental_equals_recompute(
        build, [change] * 40, snapshot, fresh=True)
    # Only the first run recomputed the physical flows; every change was handled.
    assert graph.nodes.physical_flows.stats.recompute == 1
    assert any(len(f) > 1 for f in _snapshot(graph)["flows"].values())
