"""Flow generation by resource: what a change regenerates, and incremental == rebuild."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

import pytest

from northd_lflow_support import parse_lport_addresses
from pyovn.northd.lflow.builder import LflowBuilder
from pyovn.northd.lflow.flows import LflowKey
from pyovn.northd.lflow.table import LflowTable
from pyovn.northd.model import (
    AclInfo,
    McastSwitchInfo,
    MeterInfo,
    NorthdData,
    NorthdGlobals,
    NorthdTracked,
    PortGroupInfo,
    SwitchDatapath,
    SwitchPort,
)

ALL_FEATURES = {"ct_no_masked_label": True, "ct_lb_related": True}


def make_port(name: str, switch: str, *addresses: str, enabled: bool = True,
              type_: str = "", port_security: tuple[str, ...] = (),
              options: dict[str, str] | None = None) -> SwitchPort:
    lsp_addrs = tuple(a for a in (parse_lport_addresses(x) for x in addresses
                                  if x not in ("unknown", "router")) if a is not None)
    ps = tuple(a for a in map(parse_lport_addresses, port_security) if a is not None)
    return SwitchPort(name=name, uuid=f"{abs(hash(name)) % 16**8:08x}-port-{name}",
                      datapath=switch, tunnel_key=0, type=type_, addresses=addresses,
                      lsp_addrs=lsp_addrs, has_unknown="unknown" in addresses,
                      dynamic_addresses=None, port_security=port_security, ps_addrs=ps,
                      enabled=enabled, up=False, options=options or {}, parent_name=None,
                      tag=None)


def make_acl(uuid: str, owner_kind: str, owner: str, action: str, direction: str = "to-lport",
             priority: int = 100, match: str = "ip", **kw: object) -> AclInfo:
    fields: dict[str, object] = dict(log=False, name=None, severity=None, meter=None,
                                     label=0, options={})
    fields.update(kw)
    return AclInfo(uuid=uuid, direction=direction, priority=priority, match=match,
                   action=action, owner_kind=owner_kind, owner=owner,
                   **fields)  # type: ignore[arg-type]


@dataclass
class World:
    """A mutable NB, turned into successive NorthdData snapshots with exact tracking."""

    switches: dict[str, dict[str, SwitchPort]] = field(default_factory=dict)
    switch_uuid: dict[str, str] = field(default_factory=dict)
    switch_acls: dict[str, list[AclInfo]] = field(default_factory=dict)
    other_config: dict[str, dict[str, str]] = field(default_factory=dict)
    pgs: dict[str, tuple[set[str], list[AclInfo]]] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    prev: NorthdData | None = None
    serial: int = 0

    def add_switch(self, name: str) -> None:
        self.serial += 1
        self.switches[name] = {}
        self.switch_uuid[name] = f"{self.serial:08x}-ls"
        self.switch_acls[name] = []
        self.other_config[name] = {}

    def snapshot(self, exact_tracking: bool = True) -> NorthdData:
        ports = {p.name: p for sw in self.switches.values() for p in sw.values()}
        pgs = {}
        for name, (members, pg_acls) in self.pgs.items():
            valid = frozenset(m for m in members if m in ports)
            pgs[name] = PortGroupInfo(name, f"pg-{name}", valid, tuple(pg_acls),
                                      frozenset(ports[m].datapath for m in valid))
        prev = self.prev
        switches = {}
        for name, sw_ports in self.switches.items():
            acls = tuple(self.switch_acls[name])
            sw = SwitchDatapath(
                name=name, uuid=self.switch_uuid[name], tunnel_key=1,
                other_config=dict(self.other_config[name]), external_ids={},
                ports=dict(sw_ports), acls=acls,
                port_groups=frozenset(n for n, pg in pgs.items() if name in pg.switches),
                localnet_ports=tuple(sorted(p.name for p in sw_ports.values()
                                            if p.type == "localnet")),
                has_unknown=False, has_acls=False, has_stateful_acl=False,
                has_lb_vip=False, has_vtep_lports=False, mcast_info=McastSwitchInfo())
            old = prev.switches.get(name) if prev is not None else None
            switches[name] = old if old == sw else sw
        glob = NorthdGlobals(dict(self.options), "", "", ALL_FEATURES)
        data = NorthdData(switches=switches, ports=ports, port_groups=pgs, globals=glob,
                          meters={"fair": MeterInfo("fair", "pktps", True)})
        if exact_tracking and prev is not None:
            data.tracked = NorthdTracked(
                datapaths_added=frozenset(switches.keys() - prev.switches.keys()),
                datapaths_updated=frozenset(n for n in switches.keys() & prev.switches.keys()
                                            if switches[n] != prev.switches[n]),
                datapaths_deleted={n: sw for n, sw in prev.switches.items()
                                   if n not in switches},
                ports_added=frozenset(ports.keys() - prev.ports.keys()),
                ports_updated=frozenset(n for n in ports.keys() & prev.ports.keys()
                                        if ports[n] != prev.ports[n]),
                ports_deleted={n: p for n, p in prev.ports.items() if n not in ports},
                port_groups_added=frozenset(pgs.keys() - prev.port_groups.keys()),
                port_groups_updated=frozenset(
                    n for n in pgs.keys() & prev.port_groups.keys()
                    if pgs[n] != prev.port_groups[n]),
                port_groups_deleted={n: pg for n, pg in prev.port_groups.items()
                                     if n not in pgs})
        self.prev = data
        return data


def flows_of(table: LflowTable) -> dict[LflowKey, tuple[dict[str, int], object]]:
    return {k: (dict(e.dps), e.effective_attrs()) for k, e in table.flows.items()}


def rebuilt(data: NorthdData) -> LflowBuilder:
    b = LflowBuilder()
    b.rebuild(data)
    return b


@pytest.fixture
def world() -> World:
    w = World()
    w.add_switch("sw0")
    w.add_switch("sw1")
    for i in range(3):
        w.switches["sw0"][f"a{i}"] = make_port(f"a{i}", "sw0",
                                               f"00:00:00:00:00:0{i} 10.0.0.{i}")
    w.switches["sw1"]["b0"] = make_port("b0", "sw1", "00:00:00:00:01:00 10.0.1.1")
    w.switch_acls["sw0"].append(make_acl("acl-1", "switch", "sw0", "drop"))
    return w


def test_adding_a_port_regenerates_only_that_port(world: World) -> None:
    b = rebuilt(world.snapshot())
    b.table.take_dirty()
    world.switches["sw0"]["a9"] = make_port("a9", "sw0", "00:00:00:00:00:09 10.0.0.9")
    assert b.update(world.snapshot())
    assert b.regenerated == {"port": 1}
    assert len(b.table.take_dirty()) == 3       # l2 lookup + two ARP responder flows


def test_touching_only_external_ids_writes_no_flow(world: World) -> None:
    b = rebuilt(world.snapshot())
    b.table.take_dirty()
    a0 = world.switches["sw0"]["a0"]
    world.switches["sw0"]["a0"] = replace(a0, external_ids={"foo": "bar"})
    assert b.update(world.snapshot())
    assert b.table.take_dirty() == set()


def test_adding_an_acl_regenerates_only_that_acl(world: World) -> None:
    b = rebuilt(world.snapshot())
    b.table.take_dirty()
    world.switch_acls["sw0"].append(make_acl("acl-2", "switch", "sw0", "allow",
                                             match="tcp", priority=200))
    assert b.update(world.snapshot())
    assert b.regenerated == {"acl": 1}
    assert [k.match for k in b.table.take_dirty()] == ["tcp"]


def test_first_stateful_acl_regenerates_the_switch_and_its_acls(world: World) -> None:
    b = rebuilt(world.snapshot())
    world.switch_acls["sw0"].append(make_acl("acl-2", "switch", "sw0", "allow-related"))
    assert b.update(world.snapshot())
    assert b.regenerated == {"dp": 1, "acl": 2}
    assert flows_of(b.table) == flows_of(rebuilt(world.snapshot()).table)


def test_port_group_acl_lands_on_every_switch_of_the_group(world: World) -> None:
    b = rebuilt(world.snapshot())
    world.pgs["pg1"] = ({"a0", "b0"}, [make_acl("pg-acl", "port_group", "pg1", "reject",
                                                match="outport == @pg1")])
    assert b.update(world.snapshot())
    sw_uuids = {world.switch_uuid["sw0"], world.switch_uuid["sw1"]}
    reject = [e for k, e in b.table.flows.items() if k.match == "outport == @pg1"]
    # sw1 gets its first ACL; both switches are stateless: one shared flow.
    assert len(reject) == 1 and set(reject[0].dps) == sw_uuids
    assert b.regenerated == {"dp": 1, "acl": 2}


def test_deleting_a_switch_removes_all_its_flows(world: World) -> None:
    b = rebuilt(world.snapshot())
    del world.switches["sw1"]
    assert b.update(world.snapshot())
    gone = world.switch_uuid["sw1"]
    assert all(gone not in e.dps for e in b.table.flows.values())
    assert flows_of(b.table) == flows_of(rebuilt(world.snapshot()).table)


def test_global_option_change_needs_a_rebuild(world: World) -> None:
    b = rebuilt(world.snapshot())
    world.options["default_acl_drop"] = "true"
    assert not b.update(world.snapshot())


def test_recreated_switch_of_the_same_name_gets_new_flows(world: World) -> None:
    b = rebuilt(world.snapshot())
    ports = world.switches["sw1"]
    world.add_switch("sw1")
    world.switches["sw1"] = ports
    assert b.update(world.snapshot())
    assert flows_of(b.table) == flows_of(rebuilt(world.snapshot()).table)


def _random_change(w: World, rng: random.Random, n: int) -> None:
    switches = sorted(w.switches)
    ports = sorted(p for sw in w.switches.values() for p in sw)
    choice = rng.randrange(12)
    sw = rng.choice(switches) if switches else None
    if choice == 0 or sw is None:
        w.add_switch(f"s{n}")
    elif choice == 1 and len(switches) > 1:
        del w.switches[sw]
    elif choice in (2, 3):
        mac = f"00:00:00:00:{n // 256:02x}:{n % 256:02x}"
        addrs = rng.choice([(mac,), (f"{mac} 10.1.{n // 256}.{n % 256}",),
                            (f"{mac} fd00::{n:x}",), ("unknown",), (mac, "unknown"), ()])
        kind = rng.choice(["", "", "localport", "localnet"])
        w.switches[sw][f"p{n}"] = make_port(
            f"p{n}", sw, *addrs, type_=kind, enabled=rng.random() > 0.2,
            port_security=rng.choice([(), (mac,)]),
            options=rng.choice([{}, {"localnet_learn_fdb": "true"}]))
    elif choice == 4 and ports:
        victim = rng.choice(ports)
        for sw_ports in w.switches.values():
            sw_ports.pop(victim, None)
    elif choice == 5 and ports:
        name = rng.choice(ports)
        for sw_ports in w.switches.values():
            if name in sw_ports:
                sw_ports[name] = replace(sw_ports[name], enabled=not sw_ports[name].enabled)
    elif choice in (6, 7):
        action = rng.choice(["allow", "allow-related", "allow-stateless", "drop", "reject"])
        acl = make_acl(f"acl-{n}", "switch", sw, action,
                       direction=rng.choice(["from-lport", "to-lport"]),
                       priority=rng.randrange(100), match=rng.choice(["ip", "tcp", "udp"]),
                       log=rng.random() < 0.3, meter=rng.choice([None, "fair", "m"]),
                       label=rng.choice([0, 7]),
                       options=rng.choice([{}, {"apply-after-lb": "true"},
                                           {"log-related": "true"}]))
        w.switch_acls[sw].append(acl)
    elif choice == 8 and w.switch_acls[sw]:
        w.switch_acls[sw].pop(rng.randrange(len(w.switch_acls[sw])))
    elif choice == 9:
        name = rng.choice(["pg1", "pg2"])
        members, acls = w.pgs.setdefault(name, (set(), []))
        if ports:
            members.symmetric_difference_update({rng.choice(ports)})
    elif choice == 10:
        name = rng.choice(["pg1", "pg2"])
        members, acls = w.pgs.setdefault(name, (set(), []))
        if acls and rng.random() < 0.4:
            acls.pop()
        else:
            acls.append(make_acl(f"pgacl-{n}", "port_group", name,
                                 rng.choice(["allow-related", "drop", "allow-stateless"]),
                                 match=f"outport == @{name}"))
    elif choice == 11:
        cfg = w.other_config[sw]
        if cfg:
            cfg.clear()
        else:
            cfg["vlan-passthru"] = "true"


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("exact_tracking", [True, False], ids=["tracked", "untracked"])
def test_incremental_equals_rebuild_on_random_changes(seed: int,
                                                      exact_tracking: bool) -> None:
    rng = random.Random(seed)
    w = World()
    w.add_switch("s0")
    b = rebuilt(w.snapshot())
    for n in range(1, 120):
        _random_change(w, rng, n)
        data = w.snapshot(exact_tracking)
        assert b.update(data)
        if n % 10 == 0 or n == 119:
            assert flows_of(b.table) == flows_of(rebuilt(data).table), f"step {n}"


def test_acl_with_invalid_match_gets_no_flows_and_a_warning(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.switch_acls["sw0"].append(make_acl("bad-acl", "switch", "sw0", "allow",
                                             match="tcp.dst == ", priority=300))
    world.switch_acls["sw0"].append(make_acl("good-acl", "switch", "sw0", "allow",
                                             match="udp.dst == $as1", priority=301))
    with caplog.at_level("WARNING", logger="pyovn.northd.lflow"):
        b = rebuilt(world.snapshot())
    priorities = {k.priority for k in b.table.flows}
    assert 1301 in priorities and 1300 not in priorities
    assert "bad-acl" in caplog.text and "tcp.dst" in caplog.text
    # Fixing the match gives the ACL its flows.
    world.switch_acls["sw0"][-2] = make_acl("bad-acl", "switch", "sw0", "allow",
                                            match="tcp.dst == 1", priority=300)
    assert b.update(world.snapshot())
    assert 1300 in {k.priority for k in b.table.flows}
