"""pyovn-controller as a daemon: follows the chassis configuration of the local OVS DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.sandbox import procs
from pyovn.sandbox.procs import wait_until
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.functional


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path / "sb")
    sb.start(SandboxConfig(northd="pyovn", controller="pyovn"))
    try:
        yield sb
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


def _log(sb: Sandbox) -> str:
    return (sb.dir / "controller.log").read_text()


def test_connects_to_the_southbound_named_by_ovn_remote(sandbox: Sandbox) -> None:
    wait_until(lambda: sandbox.appctl("controller", "connection-status") == "connected\n")
    assert "Node: chassis_config" in sandbox.appctl("controller", "inc-engine/show-stats")


def test_follows_a_change_of_ovn_remote(sandbox: Sandbox) -> None:
    wait_until(lambda: sandbox.appctl("controller", "connection-status") == "connected\n")
    other = procs.start_ovsdb_server(sandbox.dir, "sb2", procs.SB_SCHEMA)
    sandbox.vsctl("set", "Open_vSwitch", ".", f"external_ids:ovn-remote={other.remote}")
    wait_until(lambda: f"ovn-remote changed to {other.remote}" in _log(sandbox))
    wait_until(lambda: sandbox.appctl("controller", "connection-status") == "connected\n")
    procs.stop_daemon(other.daemon)
    wait_until(lambda: sandbox.appctl("controller", "connection-status") == "not connected\n")


def test_bad_chassis_config_is_reported_by_key_and_the_daemon_lives(sandbox: Sandbox) -> None:
    sandbox.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-encap-ip=not-an-ip")
    wait_until(lambda: "external_ids:ovn-encap-ip: 'not-an-ip' is not an IP address"
           in _log(sandbox))
    assert procs.daemon_in(sandbox.dir, "controller").is_alive()
    assert "pyovn-controller (pyovn)" in sandbox.appctl("controller", "version")
