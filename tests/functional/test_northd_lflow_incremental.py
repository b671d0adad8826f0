"""pyovn-northd writes logical flows incrementally: a change writes only its flows, a
recompute or a restart writes nothing, and foreign edits of the SB are repaired."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyovn.engine.testing import parse_show_stats
from pyovn.northd.lflow import LFLOW_SB_TABLES
from pyovn.ovsdb import Client, TableChanges
from pyovn.sandbox import procs
from pyovn.sandbox.procs import SB_SCHEMA
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig, pyovn_program

pytestmark = pytest.mark.functional



@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path / "sb")
    sb.start(SandboxConfig(northd="pyovn", controller="none"))
    try:
        yield sb
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


@pytest.fixture
def watch(sandbox: Sandbox) -> Iterator[Client]:
    """A client of the SB's Logical_Flow and Logical_DP_Group, to see what is written."""
    client = Client(sandbox.sb_remote, SB_SCHEMA,
                    {**LFLOW_SB_TABLES, "SB_Global": ["nb_cfg"]})
    client.run_until(lambda: client.synced, timeout=10)
    try:
        yield client
    finally:
        client.close()


def _appctl(sandbox: Sandbox, *args: str) -> str:
    return sandbox.appctl("northd", *args)


def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    procs.wait_until(predicate, timeout=timeout, what="condition")


def _changes(sandbox: Sandbox, watch: Client) -> dict[str, TableChanges]:
    """What the SB flow tables went through since the last call (after a sync)."""
    sandbox.nbctl("--wait=sb", "--timeout=20", "sync")
    nb_cfg = int(sandbox.nbctl("get", "NB_Global", ".", "nb_cfg"))

    def seen() -> bool:
        # northd writes flows in the transaction that carries nb_cfg (or before it).
        row = next(iter(watch.tables["SB_Global"].rows.values()), None)
        return row is not None and row["nb_cfg"] >= nb_cfg
    watch.run_until(seen, timeout=10)
    changes = watch.take_changes()
    changes.pop("SB_Global", None)
    return changes


def _counts(changes: dict[str, TableChanges], table: str = "Logical_Flow") -> tuple[int, ...]:
    tc = changes.get(table)
    if tc is None:
        return (0, 0, 0)
    return (len(tc.inserted), len(tc.modified), len(tc.deleted))


def _sb_rows(watch: Client) -> dict[str, dict[str, Any]]:
    watch.run()
    return {u: r.as_dict() for t in ("Logical_Flow", "Logical_DP_Group")
            for u, r in watch.tables[t].rows.items()}


def _base(sandbox: Sandbox) -> None:
    sandbox.nbctl("ls-add", "sw0", "--", "ls-add", "sw1")
    for i in range(4):
        sandbox.nbctl("lsp-add", "sw0", f"p{i}", "--", "lsp-set-addresses", f"p{i}",
                      f"00:00:00:00:00:{i:02x} 10.0.0.{i}")
    sandbox.nbctl("lsp-add", "sw1", "q0", "--", "lsp-set-addresses", "q0", "unknown")
    sandbox.nbctl("pg-add", "pg1", "p0", "q0")
    sandbox.nbctl("acl-add", "pg1", "to-lport", "100", "outport == @pg1 && tcp", "drop")
    sandbox.nbctl("acl-add", "sw0", "from-lport", "100", "udp", "allow-related")


def test_adding_a_port_writes_only_its_flows(sandbox: Sandbox, watch: Client) -> None:
    _base(sandbox)
    _changes(sandbox, watch)
    sandbox.nbctl("--wait=sb", "lsp-add", "sw0", "new", "--", "lsp-set-addresses", "new",
                  "00:00:00:00:01:00 10.0.1.0 fd00::100")
    # One L2 destination, and two responder flows for each of its two addresses.
    assert _counts(_changes(sandbox, watch)) == (5, 0, 0)
    sandbox.nbctl("--wait=sb", "lsp-del", "new")
    assert _counts(_changes(sandbox, watch)) == (0, 0, 5)


def test_touching_external_ids_of_a_port_writes_nothing(sandbox: Sandbox,
                                                        watch: Client) -> None:
    _base(sandbox)
    _changes(sandbox, watch)
    sandbox.nbctl("--wait=sb", "set", "Logical_Switch_Port", "p1", "external_ids:foo=bar")
    assert _counts(_changes(sandbox, watch)) == (0, 0, 0)


def test_adding_an_acl_writes_only_its_flows(sandbox: Sandbox, watch: Client) -> None:
    _base(sandbox)
    _changes(sandbox, watch)
    # sw0 is stateful: a drop ACL gives two flows (not tracked / established).
    sandbox.nbctl("--wait=sb", "acl-add", "sw0", "to-lport", "200", "icmp4", "drop")
    assert _counts(_changes(sandbox, watch)) == (2, 0, 0)
    # A port group ACL on both switches: sw0 stateful, sw1 not: 2 + 1 flows.
    sandbox.nbctl("--wait=sb", "acl-add", "pg1", "from-lport", "300", "inport == @pg1",
                  "allow")
    assert _counts(_changes(sandbox, watch)) == (3, 0, 0)


def test_port_group_flows_share_one_datapath_group(sandbox: Sandbox, watch: Client) -> None:
    sandbox.nbctl("ls-add", "a", "--", "ls-add", "b", "--", "ls-add", "c")
    for sw in "abc":
        sandbox.nbctl("lsp-add", sw, f"{sw}1")
    sandbox.nbctl("pg-add", "pg", "a1", "b1")
    _changes(sandbox, watch)
    sandbox.nbctl("--wait=sb", "acl-add", "pg", "to-lport", "100", "outport == @pg",
                  "allow-stateless")
    changes = _changes(sandbox, watch)
    # a and b get their first ACL: their default flows change; the ACL flow goes on
    # a group of {a, b} that those changed default flows share.
    new = [r for r in changes["Logical_Flow"].inserted.values()
           if r["match"] == "outport == @pg"]
    assert len(new) == 1 and new[0]["logical_dp_group"] is not None
    assert _counts(changes, "Logical_DP_Group")[0] <= 1


def _random_nb_change(sandbox: Sandbox, rng: random.Random, n: int) -> None:
    nbctl = sandbox.nbctl
    switches = nbctl("--bare", "--columns=name", "list", "Logical_Switch").split()
    ports = nbctl("--bare", "--columns=name", "list", "Logical_Switch_Port").split()
    acls = nbctl("--bare", "--columns=_uuid", "list", "ACL").split()
    sw = rng.choice(switches) if switches else None
    choice = rng.randrange(10)
    if sw is None or choice == 0:
        nbctl("ls-add", f"s{n}")
    elif choice == 1 and len(switches) > 2:
        nbctl("ls-del", sw)
    elif choice in (2, 3):
        addrs = rng.choice([f"00:00:00:00:{n // 256:02x}:{n % 256:02x} 10.{n}.0.1",
                            f"00:00:00:00:{n // 256:02x}:{n % 256:02x} fd00::{n:x}",
                            "unknown"])
        nbctl("lsp-add", sw, f"p{n}", "--", "lsp-set-addresses", f"p{n}", addrs)
    elif choice == 4 and ports:
        nbctl("lsp-del", rng.choice(ports))
    elif choice == 5 and ports:
        nbctl("lsp-set-enabled", rng.choice(ports), rng.choice(["enabled", "disabled"]))
    elif choice == 6:
        action = rng.choice(["allow", "allow-related", "allow-stateless", "drop", "reject"])
        nbctl("acl-add", sw, rng.choice(["from-lport", "to-lport"]), str(rng.randrange(50)),
              rng.choice(["ip", "tcp", "udp"]), action)
    elif choice == 7 and acls:
        owner = rng.choice(switches)
        nbctl("--if-exists", "remove", "Logical_Switch", owner, "acls", rng.choice(acls))
    elif choice == 8 and ports:
        nbctl("pg-set-ports", "pgr", *rng.sample(ports, min(2, len(ports))))
        if rng.random() < 0.5:
            nbctl("acl-add", "pgr", "to-lport", str(rng.randrange(50)), "outport == @pgr",
                  rng.choice(["allow-related", "drop"]))
    elif choice == 9 and ports:
        nbctl("lsp-set-type", rng.choice(ports), rng.choice(["", "localport", "localnet"]))


def test_recompute_after_random_changes_writes_nothing(sandbox: Sandbox,
                                                       watch: Client) -> None:
    rng = random.Random(3)
    sandbox.nbctl("ls-add", "s0", "--", "ls-add", "s00", "--", "pg-add", "pgr")
    for n in range(1, 40):
        _random_nb_change(sandbox, rng, n)
    _changes(sandbox, watch)
    before = _sb_rows(watch)
    _appctl(sandbox, "inc-engine/recompute")
    assert _counts(_changes(sandbox, watch)) == (0, 0, 0)
    assert _sb_rows(watch) == before


def test_restart_of_pyovn_northd_rewrites_nothing(sandbox: Sandbox, watch: Client) -> None:
    _base(sandbox)
    _changes(sandbox, watch)
    before = _sb_rows(watch)
    procs.stop_daemon(procs.daemon_in(sandbox.dir, "northd"))
    procs.start_detached(sandbox.dir, "northd", [
        pyovn_program("pyovn-northd"), f"--ovnnb-db={sandbox.nb_remote}",
        f"--ovnsb-db={sandbox.sb_remote}"])
    sandbox.nbctl("--wait=sb", "--timeout=20", "sync")
    assert _counts(_changes(sandbox, watch)) == (0, 0, 0)
    assert _sb_rows(watch) == before


def test_flows_deleted_or_edited_in_the_sb_are_restored(sandbox: Sandbox,
                                                        watch: Client) -> None:
    _base(sandbox)
    _changes(sandbox, watch)
    before = {(r["match"], r["actions"], r["priority"]) for r in
              watch.tables["Logical_Flow"].rows.values()}
    victims = sorted(watch.tables["Logical_Flow"].rows)[:3]
    sandbox.sbctl("destroy", "Logical_Flow", victims[0], "--", "set", "Logical_Flow",
                  victims[1], "actions=\"drop;\"")

    def restored() -> bool:
        watch.run()
        now = {(r["match"], r["actions"], r["priority"]) for r in
               watch.tables["Logical_Flow"].rows.values()}
        return now == before
    _until(restored)


def test_port_add_at_1000_ports_recomputes_no_lflow_node(sandbox: Sandbox) -> None:
    args: list[str] = ["ls-add", "big"]
    for i in range(1000):
        args += ["--", "lsp-add", "big", f"b{i}", "--", "lsp-set-addresses", f"b{i}",
                 f"00:00:00:01:{i // 256:02x}:{i % 256:02x} 10.1.{i // 256}.{i % 256}"]
    sandbox.nbctl(*args)
    sandbox.nbctl("--wait=sb", "--timeout=30", "sync")
    _appctl(sandbox, "inc-engine/clear-stats")
    sandbox.nbctl("--wait=sb", "lsp-add", "big", "one-more", "--", "lsp-set-addresses",
                  "one-more", "00:00:00:02:00:01 10.2.0.1")
    stats = parse_show_stats(_appctl(sandbox, "inc-engine/show-stats"))
    for node in ("lflow", "lflow_sync"):
        assert stats[node]["recompute"] == 0, stats[node]
        assert stats[node]["compute"] >= 1, stats[node]
    rows = sandbox.sbctl("--bare", "--columns=match", "find", "Logical_Flow",
                         "match=\"eth.dst == 00:00:00:02:00:01\"")
    assert rows.strip()
