"""The sandbox starts real processes, refuses to start twice, and stops without leftovers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.errors import SandboxError
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig
from pyovn.sandbox.vm import add_vm, vm_handle

pytestmark = pytest.mark.functional


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path / "sb")
    try:
        yield sb
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


def _pids(sb: Sandbox) -> list[int]:
    return [pid for d in sb.daemons() if (pid := d.pid()) is not None]


def test_start_serves_nbctl_and_stop_leaves_nothing(sandbox: Sandbox) -> None:
    sandbox.start(SandboxConfig(northd="none", controller="none"))
    assert {d.name for d in sandbox.running()} == {"nb", "sb", "db", "ovs-vswitchd"}
    sandbox.nbctl("ls-add", "sw0")
    assert "switch" in sandbox.nbctl("show") and "(sw0)" in sandbox.nbctl("show")
    assert sandbox.vsctl("get", "Bridge", "br-int", "fail_mode").strip() == "secure"
    ids = sandbox.vsctl("get", "Open_vSwitch", ".", "external_ids")
    assert 'system-id="hv1"' in ids or "system-id=hv1" in ids
    assert f"ovn-remote=\"{sandbox.sb_remote}\"" in ids
    pids = _pids(sandbox)
    stopped = sandbox.stop()
    assert set(stopped) == {"nb", "sb", "db", "ovs-vswitchd"}
    assert not any(procs.pid_alive(p) for p in pids)
    assert not list(sandbox.dir.glob("*.sock")) and not list(sandbox.dir.glob("*.ctl"))


def test_env_makes_the_ovs_and_ovn_tools_use_the_sandbox(sandbox: Sandbox) -> None:
    sandbox.start(SandboxConfig(northd="none", controller="none"))
    env = sandbox.env()
    assert env["OVN_NB_DB"] == sandbox.nb_remote and env["OVS_RUNDIR"] == str(sandbox.dir)
    # Without --db: the tools find the sandbox through the environment alone.
    out = procs.run(["ovs-ofctl", "show", "br-int"], sandbox.dir)
    assert "OFPT_FEATURES_REPLY" in out
    lines = sandbox.export_lines().splitlines()
    assert f"export OVN_SB_DB={sandbox.sb_remote}" in lines


def test_second_start_in_the_same_directory_is_refused(sandbox: Sandbox) -> None:
    sandbox.start(SandboxConfig(northd="none", controller="none"))
    pids = _pids(sandbox)
    with pytest.raises(SandboxError, match="already running.*pyovn sandbox stop"):
        Sandbox(sandbox.dir).start(SandboxConfig(northd="none", controller="none"))
    assert _pids(sandbox) == pids and all(procs.pid_alive(p) for p in pids)


def test_failed_start_stops_what_it_started(sandbox: Sandbox,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_northd(stack: str) -> None:
        raise SandboxError("northd exploded")

    monkeypatch.setattr(sandbox, "start_northd", broken_northd)
    with pytest.raises(SandboxError, match="northd exploded"):
        sandbox.start(SandboxConfig(northd="ovn", controller="none"))
    assert sandbox.running() == []


def test_missing_program_names_its_debian_package(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("shutil.which", lambda name, path=None: None)
    with pytest.raises(SandboxError, match="ovn-northd not found.*Debian package ovn-central"):
        procs.find_program("ovn-northd")


@pytest.mark.e2e
def test_stop_removes_namespace_vms(sandbox: Sandbox) -> None:
    sandbox.start(SandboxConfig(northd="none", controller="none"))
    vm = add_vm(sandbox, "vmx", "00:00:00:00:00:0a", "10.1.0.1/24")
    assert vm.netns in os.popen("ip netns list").read()
    assert Path(f"/sys/class/net/{vm.host_ifname}").exists()
    sandbox.stop()
    assert vm.netns not in os.popen("ip netns list").read()
    assert not Path(f"/sys/class/net/{vm_handle(sandbox, 'vmx').host_ifname}").exists()


def test_netdev_datapath_stop_leaves_no_tap_devices(sandbox: Sandbox) -> None:
    sandbox.start(SandboxConfig(northd="none", controller="none", datapath_type="netdev"))
    assert sandbox.vsctl("get", "Bridge", "br-int", "datapath_type").strip() == "netdev"
    assert Path("/sys/class/net/ovs-netdev").exists()
    sandbox.stop()
    assert not Path("/sys/class/net/ovs-netdev").exists()
    assert not Path("/sys/class/net/br-int").exists()
