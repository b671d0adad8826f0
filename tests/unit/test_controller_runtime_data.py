"""``runtime_data`` handles the local OVS and the Port_Bindings change by change, and
what it holds and reports changed is what a recompute would hold and report; so do the
physical flows built on it (which skip Port_Binding changes they do not read)."""

from __future__ import annotations

from typing import Any

import pytest
from test_controller_physical_nodes import HV1, Graph, World, _build

from pyovn.controller.runtime_data import RuntimeData
from pyovn.engine.testing import assert_incremental_equals_recompute


class OvsWorld(World):
    """The physical nodes' world, with more of what OVS does to interfaces."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        for _ in range(8):
            self.add_port()

    def renumber(self) -> None:
        """ovs-vswitchd gives an interface another ofport, or none (-1) for a while."""
        names = [n for n in self.ifaces if not n.startswith("patch-")]
        if names:
            _port, iface = self.ifaces[self.rng.choice(names)]
            self.ofports += 1
            value = -1 if self.rng.random() < 0.3 else self.ofports
            self.ovs.update("Interface", iface, ofport=value)

    def duplicate(self) -> None:
        """A second interface with an iface-id already in use (the lower ofport wins)."""
        names = [n for n in self.ifaces if not n.startswith("patch-")]
        if names:
            name = self.rng.choice(names)
            self.ofports += 1
            iface = self.ovs.insert("Interface", name=f"dup{self.ofports}",
                                    ofport=self.rng.choice([1, self.ofports]),
                                    external_ids={"iface-id": name})
            port = self.ovs.insert("Port", name=f"dup{self.ofports}", interfaces=(iface,))
            ports = self.ovs.tables["Bridge"].rows[self.bridge]["ports"]
            self.ovs.update("Bridge", self.bridge, ports=tuple(sorted({*ports, port})))

    def unplug_port(self) -> None:
        """A port leaves the bridge but stays in the database (its interface too)."""
        names = [n for n in self.ifaces if not n.startswith("patch-")]
        if names:
            port, _iface = self.ifaces.pop(self.rng.choice(names))
            ports = self.ovs.tables["Bridge"].rows[self.bridge]["ports"]
            self.ovs.update("Bridge", self.bridge, ports=tuple(p for p in ports if p != port))

    def touch_bridge(self) -> None:
        """What ct_zones_sync does: the bridge row changes, its ports do not."""
        ids = dict(self.ovs.tables["Bridge"].rows[self.bridge]["external_ids"])
        ids["test-touch"] = str(self.rng.random())
        self.ovs.update("Bridge", self.bridge, external_ids=ids)

    def request_elsewhere(self) -> None:
        """A port is asked to bind on another chassis, or anywhere again."""
        pbs = [pb for pb in self.pbs() if pb["type"] == ""]
        if pbs:
            pb = self.rng.choice(pbs)
            ask = {} if pb["options"].get("requested-chassis") else {"requested-chassis": "hv2"}
            self.sb.update("Port_Binding", pb.uuid, options=ask)

    def mark_up(self) -> None:
        """``up`` or ``external_ids`` change (columns no flow reads)."""
        pbs = self.pbs()
        if pbs:
            pb = self.rng.choice(pbs)
            if self.rng.random() < 0.5:
                self.sb.update("Port_Binding", pb.uuid, up=not pb["up"])
            else:
                self.sb.update("Port_Binding", pb.uuid, external_ids={"n": str(self.keys)})

    def random_change(self) -> None:
        roll = self.rng.random()
        extra = [self.renumber, self.duplicate, self.unplug_port, self.touch_bridge,
                 self.request_elsewhere, self.mark_up]
        if roll < 0.15:
            self.add_port()
        elif roll < 0.5:
            self.rng.choice(extra)()
        else:
            super().random_change()


def _state(data: RuntimeData) -> dict[str, Any]:
    b = data.bindings
    return {"ifaces": dict(b.ifaces), "claimed": {k: r.uuid for k, r in b.claimed.items()},
            "claimed_rows": dict(b.claimed), "local_lports": set(b.local_lports),
            "ofports": dict(b.ofports), "local_datapaths": dict(data.local_datapaths),
            "patch_ofports": dict(data.patch_ofports),
            # Not its external_ids: the fresh graph's zone restore writes them.
            "bridge": data.bridge and (data.bridge.uuid, data.bridge["ports"])}


def _expected_changes(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """What ``run()`` reports changed between two states."""
    def diff(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
        return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    flipped: set[str] = old["local_lports"] ^ new["local_lports"]
    # Claims by row UUID: a newer version of a claimed row is not a change of the claim.
    return (diff(old["claimed"], new["claimed"]) | diff(old["ofports"], new["ofports"])
            | flipped | diff(old["patch_ofports"], new["patch_ofports"]))


@pytest.mark.parametrize("seed", range(6))
def test_random_local_changes_are_handled_without_recompute_and_equal_one(seed: int) -> None:
    world = OvsWorld(seed)
    previous: dict[str, Any] = {}
    graphs: list[Graph] = []
    claims_seen: list[int] = []

    def change(graph: Graph) -> None:
        previous.update(_state(graph.nodes.runtime_data.data))
        world.random_change()
        graph.feed()

    def build() -> Graph:
        graph = _build(world)
        if graphs:
            # A fresh controller restores the zones the running one saved in br-int.
            zones = graphs[0].nodes.ct_zones.data.zones.zones
            world.ovs.update("Bridge", world.bridge,
                             external_ids={f"ct-zone-{u}": str(z) for u, z in zones.items()})
        graph.feed()
        graphs.append(graph)
        return graph

    def snapshot(graph: Graph) -> dict[str, Any]:
        node = graph.nodes.runtime_data
        state = _state(node.data)
        if previous and graph is graphs[0]:
            # Tracked changes of the last run are those a recompute would report.
            assert node.data.changed_lports == _expected_changes(previous, state)
            assert node.data.changed_datapaths == {
                k for k in previous["local_datapaths"].keys() | state["local_datapaths"]
                if previous["local_datapaths"].get(k) != state["local_datapaths"].get(k)}
        claims_seen.append(len(state["claimed"]))
        # What the flows are built from, and so the physical flows, agree too.
        state["physical"] = {p: sorted(map(str, fl))
                             for p, fl in graph.nodes.physical_flows.data.flows.items()}
        return state

    graph = assert_incremental_equals_recompute(build, [change] * 45, snapshot, fresh=True)
    assert graph.nodes.runtime_data.stats.recompute == 1
    assert graph.nodes.physical_flows.stats.recompute == 1
    assert max(claims_seen) >= 2, "the world hardly claimed anything"


def test_a_new_interface_is_claimed_without_visiting_the_others() -> None:
    world = World(1)
    for _ in range(30):
        world.add_port()
    graph = _build(world)
    graph.feed()
    graph.engine.run()
    node = graph.nodes.runtime_data
    before = node.stats.recompute
    world._pb(world.dps[0], "late")
    world._iface("late", "late")
    graph.feed()
    graph.engine.run()
    assert node.stats.recompute == before
    assert "late" in node.data.bindings.claimed and "late" in node.data.changed_lports
    # The claim's echo is a newer version of the claimed row: held, not a change of
    # the claim, and no recompute.
    pb = node.data.bindings.claimed["late"]
    world.sb.update("Port_Binding", pb.uuid, chassis=HV1)
    graph.feed()
    graph.engine.run()
    assert node.stats.recompute == before
    assert node.data.changed_lports == set()
    assert node.data.bindings.claimed["late"]["chassis"] == HV1
