"""pyovn-controller as a daemon: follows the chassis configuration of the local OVS DB."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyovn.sandbox import procs
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


def _appctl(sb: Sandbox, *args: str) -> str:
    ctl = procs.daemon_in(sb.dir, "controller").ctl
    return subprocess.run(["ovn-appctl", "-t", str(ctl), *args], capture_output=True,
                          text=True, timeout=10, check=True).stdout


def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _log(sb: Sandbox) -> str:
    return (sb.dir / "controller.log").read_text()


def test_connects_to_the_southbound_named_by_ovn_remote(sandbox: Sandbox) -> None:
    _until(lambda: _appctl(sandbox, "connection-status") == "connected\n")
    assert "Node: chassis_config" in _appctl(sandbox, "inc-engine/show-stats")


def test_follows_a_change_of_ovn_remote(sandbox: Sandbox) -> None:
    _until(lambda: _appctl(sandbox, "connection-status") == "connected\n")
    other = procs.start_ovsdb_server(sandbox.dir, "sb2", procs.SB_SCHEMA)
    sandbox.vsctl("set", "Open_vSwitch", ".", f"external_ids:ovn-remote={other.remote}")
    _until(lambda: f"ovn-remote changed to {other.remote}" in _log(sandbox))
    _until(lambda: _appctl(sandbox, "connection-status") == "connected\n")
    procs.stop_daemon(other.daemon)
    _until(lambda: _appctl(sandbox, "connection-status") == "not connected\n")


def test_bad_chassis_config_is_reported_by_key_and_the_daemon_lives(sandbox: Sandbox) -> None:
    sandbox.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-encap-ip=not-an-ip")
    _until(lambda: "external_ids:ovn-encap-ip: 'not-an-ip' is not an IP address"
           in _log(sandbox))
    assert procs.daemon_in(sandbox.dir, "controller").is_alive()
    assert "pyovn-controller (pyovn)" in _appctl(sandbox, "version")
