"""Port binding: pyovn claims, releases and reports ports as ovn-controller 23.03 does.

The same scenario runs once under real ovn-controller and once under pyovn's nodes
(in this process, writing; real ovn-northd in both). After each step the Port_Binding
columns binding owns, the interfaces' ``ovn-installed``, the users of conntrack zones
in br-int's ``external_ids`` and the localnet patch ports are compared.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller_support import NodeDriver
from pyovn.ovsdb import Client
from pyovn.sandbox import procs
from pyovn.sandbox.procs import SB_SCHEMA, VSWITCH_SCHEMA
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.functional


def _start(tmp_path: Path, name: str, controller: str) -> Sandbox:
    sb = Sandbox(tmp_path / name)
    sb.start(SandboxConfig(northd="ovn", controller=controller))  # type: ignore[arg-type]
    return sb


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[Sandbox, Sandbox]]:
    started: list[Sandbox] = []
    try:
        started.append(_start(tmp_path, "ovn", "ovn"))
        started.append(_start(tmp_path, "pyovn", "none"))
        yield started[0], started[1]
    finally:
        for sb in started:
            sb.stop()
            procs.stop_all_in(sb.dir)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sb = _start(tmp_path, "pyovn", "none")
    try:
        yield sb
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


def _vif(sb: Sandbox, name: str, iface_id: str | None = None) -> None:
    sb.vsctl("add-port", "br-int", name, "--", "set", "Interface", name, "type=dummy",
             f"external_ids:iface-id={iface_id or name}")


def _lsp(sb: Sandbox, switch: str, name: str, *extra: str) -> None:
    sb.nbctl("lsp-add", switch, name, "--", "lsp-set-addresses", name,
             f"00:00:00:00:{len(name):02x}:{sum(map(ord, name)) % 256:02x}", *extra)


def _build(sb: Sandbox) -> None:
    sb.vsctl("add-br", "br-phys", "--", "set", "Bridge", "br-phys", "datapath_type=dummy",
             "--", "set", "Open_vSwitch", ".",
             "external_ids:ovn-bridge-mappings=physnet1:br-phys")
    sb.nbctl("ls-add", "sw0")
    for name in ("p1", "p2", "p9"):
        _lsp(sb, "sw0", name)
    _lsp(sb, "sw0", "lp", "--", "lsp-set-type", "lp", "localport")
    _lsp(sb, "sw0", "rc", "--", "lsp-set-options", "rc", "requested-chassis=elsewhere")
    sb.nbctl("lsp-add", "sw0", "c1", "p1", "7")
    sb.nbctl("ls-add", "sw1")
    _lsp(sb, "sw1", "ln1", "--", "lsp-set-type", "ln1", "localnet", "--",
         "lsp-set-options", "ln1", "network_name=physnet1")
    _lsp(sb, "sw1", "q1")
    for name in ("p1", "p2", "lp", "rc", "q1", "ghost"):
        _vif(sb, name)


def _change(sb: Sandbox) -> None:
    sb.vsctl("del-port", "br-int", "p2")
    sb.vsctl("set", "Interface", "q1", "external_ids:iface-id=p9")
    sb.nbctl("lsp-del", "ln1")


def _state(sb: Sandbox) -> dict[str, Any]:
    """What binding decides, in names (UUIDs and zone numbers left out)."""
    with Client(sb.sb_remote, SB_SCHEMA, {"Chassis": ["name"], "Port_Binding": None}) as sbc, \
            Client(sb.ovs_remote, VSWITCH_SCHEMA,
                   {"Bridge": ["name", "ports", "external_ids"],
                    "Port": ["name", "interfaces", "external_ids"],
                    "Interface": ["name", "type", "options", "external_ids"]}) as ovs:
        sbc.run_until(lambda: sbc.synced, 10)
        ovs.run_until(lambda: ovs.synced, 10)
        chassis = {r.uuid: r["name"] for r in sbc.tables["Chassis"].rows.values()}
        pbs = {r["logical_port"]: (chassis.get(r["chassis"]) if r["chassis"] else None,
                                   bool(r["up"]), r["encap"])
               for r in sbc.tables["Port_Binding"].rows.values()}
        ifaces = ovs.tables["Interface"].rows
        installed = {r["name"]: sorted(k for k in r["external_ids"] if "installed" in k)
                     for r in ifaces.values() if "iface-id" in r["external_ids"]}
        patches = set()
        zone_users: set[str] = set()
        for br in ovs.tables["Bridge"].rows.values():
            if br["name"] == "br-int":
                zone_users = {k for k in br["external_ids"] if k.startswith("ct-zone-")}
            for pu in br["ports"]:
                port = ovs.tables["Port"].rows[pu]
                if "ovn-localnet-port" in port["external_ids"]:
                    iface = ifaces[port["interfaces"][0]]
                    patches.add((br["name"], port["name"], iface["type"],
                                 iface["options"].get("peer"),
                                 port["external_ids"]["ovn-localnet-port"]))
        return {"pbs": pbs, "installed": installed, "zones": zone_users,
                "patches": patches}


def _settle_ovn(sb: Sandbox) -> dict[str, Any]:
    sb.nbctl("--wait=hv", "sync")
    # ovn-controller writes up / ovn-installed after the flows: wait until it is quiet.
    state, deadline = _state(sb), time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        previous, state = state, _state(sb)
        if state == previous:
            break
    return state


def _settle_pyovn(sb: Sandbox, driver: NodeDriver) -> dict[str, Any]:
    sb.nbctl("--wait=sb", "sync")
    driver.converge()
    driver.install()
    driver.converge()
    return _state(sb)


def test_claims_releases_and_up_equal_ovn_controllers(
        sandboxes: tuple[Sandbox, Sandbox]) -> None:
    ovn, mine = sandboxes
    driver = NodeDriver(mine)
    try:
        _build(ovn)
        _build(mine)
        theirs, ours = _settle_ovn(ovn), _settle_pyovn(mine, driver)
        assert ours["pbs"] == theirs["pbs"]
        assert ours["installed"] == theirs["installed"]
        assert ours["patches"] == theirs["patches"]
        # Datapath NAT zone keys name datapath UUIDs, which differ between runs.
        assert len(ours["zones"]) == len(theirs["zones"])
        assert {z for z in ours["zones"] if "_" not in z} == {
            z for z in theirs["zones"] if "_" not in z}

        _change(ovn)
        _change(mine)
        theirs, ours = _settle_ovn(ovn), _settle_pyovn(mine, driver)
        assert ours["pbs"] == theirs["pbs"]
        assert ours["installed"] == theirs["installed"]
        # Where 23.03 keeps stale state (docs/controller-differences.md): the patch
        # ports of the deleted localnet port, and (depending on timing) its zone.
        # pyovn drops them.
        assert theirs["patches"] and not ours["patches"]
        assert {z for z in ours["zones"] if "_" not in z} == {
            z for z in theirs["zones"] if "_" not in z} - {"ct-zone-ln1"}
        assert len({z for z in ours["zones"] if "_" in z}) == len(
            {z for z in theirs["zones"] if "_" in z})
    finally:
        driver.close()


def test_up_waits_for_installed_flows_and_a_restart_changes_nothing(
        sandbox: Sandbox) -> None:
    sandbox.nbctl("ls-add", "sw0")
    _lsp(sandbox, "sw0", "p1")
    _vif(sandbox, "p1")
    sandbox.nbctl("--wait=sb", "sync")
    driver = NodeDriver(sandbox)
    try:
        driver.converge()
        before = _state(sandbox)
        assert before["pbs"]["p1"] == ("hv1", False, None)
        assert before["installed"]["p1"] == []
        driver.install()
        driver.converge()
        after = _state(sandbox)
        assert after["pbs"]["p1"] == ("hv1", True, None)
        assert after["installed"]["p1"] == ["ovn-installed", "ovn-installed-ts"]
        zones = driver.zones()
    finally:
        driver.close()
    restarted = NodeDriver(sandbox)
    try:
        restarted.converge()
        # Zones come back from br-int; up and ovn-installed are not lowered.
        assert restarted.zones() == zones
        assert restarted.run_once() == ([], [])
        assert _state(sandbox) == after
    finally:
        restarted.close()
