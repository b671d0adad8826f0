"""The northd graph (NB side and SB sync, without lflows) on in-memory databases:
incremental results equal a recompute and a fresh start, which write nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, cast

import pytest

from pyovn.engine.ovsdb_input import feed_changes
from pyovn.engine.testing import assert_engine_stats
from pyovn.northd.fakedb import FakeDb
from pyovn.northd.graph import NB_TABLES, SB_TABLES, NorthdGraph, build_graph
from pyovn.northd.seam import NorthdContext
from pyovn.ovsdb import Client, Op
from pyovn.sandbox.procs import NB_SCHEMA, SB_SCHEMA


@dataclass
class World:
    """An NB and an SB in memory, and a graph over them."""

    nb: FakeDb
    sb: FakeDb
    graph: NorthdGraph

    @classmethod
    def new(cls, seed: int = 0) -> World:
        nb = FakeDb(NB_SCHEMA, NB_TABLES, seed=seed)
        sb = FakeDb(SB_SCHEMA, SB_TABLES, seed=seed + 1)
        nb.insert("NB_Global")
        sb.insert("SB_Global")
        world = cls(nb, sb, _graph(nb, sb))
        world.settle()
        return world

    def settle(self, graph: NorthdGraph | None = None) -> list[Op]:
        """Run the graph and apply its writes until nothing is left to do; returns
        every op written."""
        graph = graph or self.graph
        written: list[Op] = []
        for _ in range(10):
            feed_changes(cast(Client, self.nb), graph.nb_inputs)
            feed_changes(cast(Client, self.sb), graph.sb_inputs)
            if not graph.engine.need_run():
                return written
            ctx = NorthdContext()
            assert graph.engine.run(ctx)
            assert ctx.nb_ops is not None and ctx.sb_ops is not None
            self.nb.apply_ops(ctx.nb_ops)
            self.sb.apply_ops(ctx.sb_ops)
            written += ctx.nb_ops + ctx.sb_ops
        raise AssertionError(f"graph does not settle; last ops: {written[-5:]}")


def _graph(nb: FakeDb, sb: FakeDb) -> NorthdGraph:
    return build_graph(cast(Client, nb), cast(Client, sb), with_lflows=False)


def _model(graph: NorthdGraph) -> tuple[Any, ...]:
    data = graph.northd.data
    return data.switches, data.ports, data.port_groups, data.address_sets, data.meters


def _sb(world: World) -> dict[str, set[Any]]:
    return {name: set(t.rows.values()) for name, t in world.sb.tables.items()}


def _check(world: World, what: str) -> None:
    """A forced recompute and a fresh graph agree with the incremental state and write
    nothing."""
    before, model = _sb(world), _model(world.graph)
    fresh = _graph(world.nb, world.sb)
    written = world.settle(fresh)
    assert written == [], f"{what}: a fresh start wrote {written}"
    assert _model(fresh) == model, f"{what}: fresh start differs"
    world.graph.engine.force_recompute()
    assert world.settle() == [], f"{what}: a recompute wrote"
    assert _model(world.graph) == model, f"{what}: recompute differs"
    assert _sb(world) == before


class Mutator:
    """Random NB (and a little SB) changes, straight on the rows."""

    ADDRESSES = ["00:00:00:00:00:{n:02x}", "00:00:00:00:01:{n:02x} 10.0.{n}.1",
                 "00:00:00:00:02:{n:02x} 10.1.{n}.1/24 fd00::{n:x}/64", "unknown",
                 "00:00:00:00:03:{n:02x} dynamic", "junk-{n}", "router"]

    def __init__(self, world: World, seed: int) -> None:
        self.w, self.rng, self.n = world, random.Random(seed), 0

    def _name(self, prefix: str) -> str:
        self.n += 1
        # Few distinct names, so that duplicates and renames collide.
        return f"{prefix}{self.rng.randrange(max(3, self.n // 2))}"

    def _rows(self, table: str) -> list[Any]:
        return sorted(self.w.nb.tables[table].rows.values(), key=lambda r: r.uuid)

    def _addr(self) -> str:
        return self.rng.choice(self.ADDRESSES).format(n=self.rng.randrange(1, 99))

    def step(self) -> str:
        nb, rng = self.w.nb, self.rng
        switches, ports = self._rows("Logical_Switch"), self._rows("Logical_Switch_Port")
        pgs, acls = self._rows("Port_Group"), self._rows("ACL")
        kinds = ["ls", "lsp", "lsp", "as", "pg"]
        if switches:
            kinds += ["ls-del", "ls-set", "acl-ls"]
        if ports:
            kinds += ["lsp-del", "lsp-set", "lsp-set", "lsp-set", "lsp-move", "pg"]
        if pgs:
            kinds += ["pg-set", "pg-del", "acl-pg"]
        if acls:
            kinds += ["acl-set"]
        kinds += ["meter", "global", "chassis", "sb-tamper"]
        kind = rng.choice(kinds)
        if kind == "ls" or (not switches and kind.startswith(("lsp", "acl-ls"))):
            nb.insert("Logical_Switch", name=self._name("ls"))
            return "ls"
        if kind == "ls-del":
            ls = rng.choice(switches)
            for lsp in ls["ports"]:
                nb.delete("Logical_Switch_Port", lsp)
            for acl in ls["acls"]:
                nb.delete("ACL", acl)
            nb.delete("Logical_Switch", ls.uuid)
            return "ls-del"
        if kind == "ls-set":
            ls = rng.choice(switches)
            change: dict[str, Any] = rng.choice([
                {"name": self._name("ls")},
                {"other_config": {"vlan-passthru": rng.choice(["true", "false"]),
                                  "mcast_snoop": "true"}},
                {"external_ids": {"neutron:network_name": self._name("net")}}])
            nb.update("Logical_Switch", ls.uuid, **change)
            return f"ls-set {sorted(change)}"
        if kind == "lsp":
            ls = rng.choice(switches)
            extra: dict[str, Any] = {}
            if ports and rng.random() < 0.3:
                extra = {"parent_name": rng.choice(ports)["name"],
                         "tag_request": rng.choice([0, 0, 7])}
            lsp = nb.insert("Logical_Switch_Port", name=self._name("p"),
                            addresses=(self._addr(),), **extra)
            nb.update("Logical_Switch", ls.uuid, ports=tuple(sorted((*ls["ports"], lsp))))
            return "lsp"
        if kind == "lsp-del":
            nb.delete("Logical_Switch_Port", rng.choice(ports).uuid)  # weak refs dropped
            for ls in self._rows("Logical_Switch"):
                live = tuple(p for p in ls["ports"]
                             if p in nb.tables["Logical_Switch_Port"].rows)
                nb.update("Logical_Switch", ls.uuid, ports=live)
            return "lsp-del"
        if kind == "lsp-set":
            lsp = rng.choice(ports)
            change = rng.choice([
                {"addresses": tuple(sorted({self._addr(), self._addr()}))},
                {"port_security": (self._addr(),)},
                {"enabled": rng.choice([True, False, None])},
                {"type": rng.choice(["", "localport", "localnet", "vtep", "bogus"])},
                {"options": {rng.choice(["mcast_flood", "mcast_flood_reports",
                                         "requested-chassis"]): rng.choice(["true", "hv1"])}},
                {"name": self._name("p")},
                {"external_ids": {"neutron:port_name": self._name("n")}},
                {"up": rng.choice([True, False, None])}])
            nb.update("Logical_Switch_Port", lsp.uuid, **change)
            return f"lsp-set {sorted(change)}"
        if kind == "lsp-move":
            lsp, dst = rng.choice(ports), rng.choice(switches)
            for ls in switches:
                if lsp.uuid in ls["ports"]:
                    nb.update("Logical_Switch", ls.uuid,
                              ports=tuple(p for p in ls["ports"] if p != lsp.uuid))
            dst = nb.tables["Logical_Switch"].rows[dst.uuid]
            nb.update("Logical_Switch", dst.uuid, ports=tuple(sorted({*dst["ports"], lsp.uuid})))
            return "lsp-move"
        if kind == "pg":
            name = self._name("pg")
            if any(pg["name"] == name for pg in pgs):
                return "noop"
            members = rng.sample([p.uuid for p in ports], min(3, len(ports)))
            nb.insert("Port_Group", name=name, ports=tuple(sorted(members)))
            return "pg"
        if kind == "pg-set":
            pg = rng.choice(pgs)
            members = rng.sample([p.uuid for p in ports], min(2, len(ports)))
            nb.update("Port_Group", pg.uuid, ports=tuple(sorted(members)))
            return "pg-set"
        if kind == "pg-del":
            pg = rng.choice(pgs)
            nb.delete("Port_Group", pg.uuid)
            for acl in pg["acls"]:
                nb.delete("ACL", acl)
            return "pg-del"
        if kind in ("acl-ls", "acl-pg"):
            owner = rng.choice(switches if kind == "acl-ls" else pgs)
            table = "Logical_Switch" if kind == "acl-ls" else "Port_Group"
            acl = nb.insert("ACL", direction=rng.choice(["from-lport", "to-lport"]),
                            priority=rng.randrange(0, 32768), match="ip4",
                            action=rng.choice(["allow", "allow-related", "drop"]))
            nb.update(table, owner.uuid, acls=tuple(sorted((*owner["acls"], acl))))
            return kind
        if kind == "acl-set":
            acl = rng.choice(acls)
            nb.update("ACL", acl.uuid, action=rng.choice(["allow-related", "reject"]),
                      log=rng.choice([True, False]))
            return "acl-set"
        if kind == "as":
            name = self._name("as")
            rows = [r for r in self._rows("Address_Set") if r["name"] == name]
            if rows:
                nb.update("Address_Set", rows[0].uuid, addresses=(f"10.9.{self.n}.1",))
            else:
                nb.insert("Address_Set", name=name, addresses=("10.0.0.1",))
            return "as"
        if kind == "meter":
            nb.insert("Meter", name=self._name("m"), unit="pktps", fair=rng.random() < .5)
            return "meter"
        if kind == "global":
            g = self._rows("NB_Global")[0]
            nb.update("NB_Global", g.uuid, options={**g["options"], "x": str(self.n)})
            return "global"
        if kind == "chassis":
            self.w.sb.insert("Chassis", name=f"hv{self.n % 3}", hostname=f"h{self.n}")
            return "chassis"
        pbs = sorted(self.w.sb.tables["Port_Binding"].rows)
        if pbs:
            self.w.sb.delete("Port_Binding", rng.choice(pbs))   # someone else's write
        return "sb-tamper"


@pytest.mark.parametrize("seed", range(8))
def test_random_changes_incremental_equals_recompute_and_fresh_start(seed: int) -> None:
    world = World.new(seed)
    mutator = Mutator(world, seed)
    for step in range(60):
        what = mutator.step()
        world.settle()
        _check(world, f"seed {seed} step {step} ({what})")


def test_adding_a_port_to_a_big_switch_recomputes_no_node() -> None:
    world = World.new()
    nb = world.nb
    ports = tuple(nb.insert("Logical_Switch_Port", name=f"p{i}", addresses=(
        f"00:00:00:00:{i >> 8:02x}:{i & 255:02x} 10.0.{i >> 8}.{i & 255}",))
        for i in range(300))
    ls = nb.insert("Logical_Switch", name="big", ports=ports)
    nb.insert("Port_Group", name="pg", ports=ports[:100])
    world.settle()
    world.graph.engine.clear_stats()
    new = nb.insert("Logical_Switch_Port", name="new", addresses=("00:00:00:00:99:99",))
    nb.update("Logical_Switch", ls, ports=(*ports, new))
    written = world.settle()
    assert_engine_stats(world.graph.engine, recompute=set())
    tables = sorted({op.table for op in written if hasattr(op, "table")})
    assert tables == ["Logical_Switch_Port", "Multicast_Group", "Port_Binding"]
    assert world.graph.northd.data.ports["new"].tunnel_key == 301


def test_bad_rows_are_skipped_and_the_rest_compiled() -> None:
    world = World.new()
    nb = world.nb
    good = nb.insert("Logical_Switch_Port", name="good", addresses=("00:00:00:00:00:01",))
    bad = nb.insert("Logical_Switch_Port", name="bad", addresses=("not-a-mac", "unknown"))
    dup = nb.insert("Logical_Switch_Port", name="good", addresses=("00:00:00:00:00:02",))
    nb.insert("Logical_Switch", "00000000-0000-4000-8000-000000000001", name="sw",
              ports=(good, bad, dup))
    # Duplicate switch name: the smallest UUID wins, the other is ignored.
    nb.insert("Logical_Switch", "ffffffff-ffff-4fff-bfff-ffffffffffff", name="sw")
    nb.insert("Port_Group", name="pg", ports=(good, dup))
    world.settle()
    data = world.graph.northd.data
    keep = min(good, dup)
    assert set(data.switches) == {"sw"} and set(data.ports) == {"good", "bad"}
    assert data.ports["good"].uuid == keep
    assert data.ports["bad"].lsp_addrs == () and data.ports["bad"].has_unknown
    assert data.port_groups["pg"].ports == frozenset({"good"})
    pbs = {r["logical_port"] for r in world.sb.tables["Port_Binding"].rows.values()}
    assert pbs == {"good", "bad"}
    _check(world, "bad rows")
