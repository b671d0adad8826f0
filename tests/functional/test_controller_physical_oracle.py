"""Oracle: pyovn's physical flows equal real ovn-controller 23.03's on the same databases.

Real ovn-northd and ovn-controller run in a sandbox; pyovn's binding and physical nodes
run in this process on the same Southbound and local OVS database, without writing
(:class:`NodeDriver` with ``write=False``). The flows pyovn wants are compared with
what ovn-controller installed in the tables it fills itself (0, 37 to 41, 64 to 67, 71 to 75).
Cookies are compared too (ovn-controller's are the parent row's UUID prefix). Zone
numbers are the same when pyovn restores them from br-int; when pyovn assigns them
itself they are mapped through the two assignments (users are the same).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controller_support import NodeDriver, dump_flows, remap_zones, zone_mapping
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path_factory.mktemp("phys") / "sb")
    sb.start(SandboxConfig(northd="ovn", controller="ovn"))
    try:
        yield sb
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


def _vif(sb: Sandbox, name: str, iface_id: str | None = None) -> None:
    sb.vsctl("add-port", "br-int", name, "--", "set", "Interface", name, "type=dummy",
             f"external_ids:iface-id={iface_id or name}")


def _lsp(sb: Sandbox, switch: str, name: str, addresses: str, *extra: str) -> None:
    sb.nbctl("lsp-add", switch, name, "--", "lsp-set-addresses", name, addresses, *extra)


def _wait(sb: Sandbox) -> None:
    sb.nbctl("--wait=hv", "sync")


def _check(sb: Sandbox, driver: NodeDriver) -> None:
    """pyovn's flows (zones mapped to ovn-controller's) equal the installed ones."""
    _wait(sb)
    driver.converge()
    mine = remap_zones(driver.flows, zone_mapping(driver.zones(), driver.bridge_zones()))
    theirs = dump_flows(sb)
    assert sorted(map(str, mine - theirs)) == []
    assert sorted(map(str, theirs - mine)) == []


def _recomputed(driver: NodeDriver) -> dict[str, list[object]]:
    driver.engine.force_recompute()
    driver.run_once()
    return {p: list(f) for p, f in driver.nodes.physical_flows.data.flows.items()}


def test_incremental_changes_track_ovn_controller_and_equal_a_recompute(
        sandbox: Sandbox) -> None:
    sb = sandbox
    driver = NodeDriver(sb, write=False)
    try:
        driver.converge()
        # A switch with two VIFs, a port with unknown addresses, a localport.
        sb.nbctl("ls-add", "sw0")
        _lsp(sb, "sw0", "p1", "00:00:00:00:00:01 10.0.0.1")
        _lsp(sb, "sw0", "p2", "00:00:00:00:00:02 10.0.0.2")
        _lsp(sb, "sw0", "p3", "unknown")
        _vif(sb, "p1")
        _vif(sb, "p2")
        _check(sb, driver)
        stats = driver.nodes.physical_flows.stats
        recomputes = stats.recompute
        _lsp(sb, "sw0", "lp", "00:00:00:00:00:10 10.0.0.10", "--", "lsp-set-type", "lp",
             "localport")
        _vif(sb, "lp")
        _vif(sb, "p3")
        _check(sb, driver)
        # A container behind p1, port security of every form, requested elsewhere.
        sb.nbctl("lsp-add", "sw0", "c1", "p1", "7", "--", "lsp-set-addresses", "c1",
                 "00:00:00:00:00:31 10.0.0.31")
        for i, sec in enumerate(("00:00:00:00:00:21 10.0.0.21 fd00::21",
                                 "00:00:00:00:00:22",
                                 "00:00:00:00:00:23 10.0.0.0/24 fd00::/64",
                                 "00:00:00:00:00:24 10.0.0.24/24",
                                 "00:00:00:00:00:25 fd00::25"), start=1):
            _lsp(sb, "sw0", f"ps{i}", sec.split()[0], "--", "lsp-set-port-security",
                 f"ps{i}", sec)
            _vif(sb, f"ps{i}")
        _lsp(sb, "sw0", "rc", "00:00:00:00:00:41", "--", "lsp-set-options", "rc",
             "requested-chassis=elsewhere")
        _vif(sb, "rc")
        _check(sb, driver)
        # A VLAN network reached through a localnet port and its patch port.
        sb.vsctl("add-br", "br-phys", "--", "set", "Bridge", "br-phys",
                 "datapath_type=dummy", "--", "set", "Open_vSwitch", ".",
                 "external_ids:ovn-bridge-mappings=physnet1:br-phys")
        sb.nbctl("ls-add", "sw1")
        _lsp(sb, "sw1", "ln1", "unknown", "--", "lsp-set-type", "ln1", "localnet", "--",
             "lsp-set-options", "ln1", "network_name=physnet1", "--", "set",
             "Logical_Switch_Port", "ln1", "tag_request=100")
        _lsp(sb, "sw1", "q1", "00:00:00:00:01:01 10.1.0.1")
        _lsp(sb, "sw1", "q2", "00:00:00:00:01:02 10.1.0.2")
        _vif(sb, "q1")
        _check(sb, driver)
        # Learned neighbours.
        dp = sb.sbctl("--bare", "--columns=_uuid", "find", "Datapath_Binding",
                      "external_ids:name=sw0").strip()
        sb.sbctl("create", "MAC_Binding", f"datapath={dp}", "logical_port=p1",
                 "ip=10.0.0.99", 'mac="00:00:00:00:99:99"')
        sb.sbctl("create", "MAC_Binding", f"datapath={dp}", "logical_port=p2",
                 'ip="fd00::99"', 'mac="00:00:00:00:99:98"')
        sb.sbctl("create", "FDB", "dp_key=1", "port_key=1", 'mac="00:00:00:00:77:78"')
        _check(sb, driver)
        # Removals and changes: an interface goes, a port goes, security changes.
        sb.vsctl("del-port", "br-int", "p2")
        sb.nbctl("lsp-del", "p3")
        sb.nbctl("lsp-set-port-security", "ps2", "00:00:00:00:00:22 10.0.0.22")
        _check(sb, driver)
        # Every change above was handled without recomputing the physical flows.
        assert stats.recompute == recomputes
        incremental = {p: list(f) for p, f in driver.nodes.physical_flows.data.flows.items()}
        assert _recomputed(driver) == incremental
    finally:
        driver.close()


def test_a_fresh_start_restores_ovn_controllers_zones_and_equals_its_flows(
        sandbox: Sandbox) -> None:
    # Runs after the test above, on its final state: nothing is mapped here.
    driver = NodeDriver(sandbox, write=False)
    try:
        _wait(sandbox)
        driver.converge()
        assert driver.zones() == driver.bridge_zones()
        assert driver.flows == dump_flows(sandbox)
    finally:
        driver.close()
