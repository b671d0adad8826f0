"""pyovn-northd as a daemon: nb_cfg propagation, active/standby, unixctl."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.sandbox import procs
from pyovn.sandbox.procs import wait_until
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


def _appctl(ctl: Path, *args: str) -> str:
    return subprocess.run(["ovn-appctl", "-t", str(ctl), *args], capture_output=True,
                          text=True, timeout=10, check=True).stdout


def _nb_global(sb: Sandbox, column: str) -> int:
    return int(sb.nbctl("get", "NB_Global", ".", column).strip())


def test_wait_sb_returns_once_southbound_has_nb_cfg(sandbox: Sandbox) -> None:
    for _ in range(3):
        sandbox.nbctl("--wait=sb", "--timeout=10", "sync")
    nb_cfg = _nb_global(sandbox, "nb_cfg")
    assert nb_cfg == 3
    assert int(sandbox.sbctl("get", "SB_Global", ".", "nb_cfg").strip()) == nb_cfg
    assert _nb_global(sandbox, "sb_cfg") == nb_cfg


def test_hv_cfg_waits_for_the_slowest_chassis_but_not_remote_ones(sandbox: Sandbox) -> None:
    sandbox.sbctl("chassis-add", "hv1", "geneve", "127.0.0.1")
    sandbox.sbctl("chassis-add", "hv-remote", "geneve", "127.0.0.2",
                  "--", "set", "Chassis", "hv-remote", "other_config:is-remote=true")
    privates = {}
    for name in ("hv1", "hv-remote"):
        chassis = sandbox.sbctl("get", "Chassis", name, "_uuid").strip()
        privates[name] = sandbox.sbctl("create", "Chassis_Private", f"name={name}",
                                       f"chassis={chassis}").strip()
    sandbox.nbctl("--wait=sb", "sync")
    target = _nb_global(sandbox, "nb_cfg")
    time.sleep(0.3)
    assert _nb_global(sandbox, "hv_cfg") < target  # hv1 has not acknowledged yet
    # Only hv1 acknowledges; the remote chassis must not hold hv_cfg back.
    sandbox.sbctl("set", "Chassis_Private", privates["hv1"], f"nb_cfg={target}")
    wait_until(lambda: _nb_global(sandbox, "hv_cfg") == target)


def test_standby_takes_over_when_the_active_northd_dies(sandbox: Sandbox) -> None:
    active = procs.daemon_in(sandbox.dir, "northd")
    standby = procs.start_detached(
        sandbox.dir, "northd2",
        [pyovn_program("pyovn-northd"), f"--ovnnb-db={sandbox.nb_remote}",
         f"--ovnsb-db={sandbox.sb_remote}"])
    wait_until(lambda: "standby" in _appctl(standby.ctl, "status"))
    assert "active" in _appctl(active.ctl, "status")
    pid = active.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    procs.reap(pid)
    wait_until(lambda: "active" in _appctl(standby.ctl, "status"))
    sandbox.nbctl("--wait=sb", "--timeout=10", "sync")
    assert int(sandbox.sbctl("get", "SB_Global", ".", "nb_cfg").strip()) == \
        _nb_global(sandbox, "nb_cfg")


def test_unixctl_serves_engine_stats_recompute_and_connection_status(sandbox: Sandbox) -> None:
    ctl = procs.daemon_in(sandbox.dir, "northd").ctl
    sandbox.nbctl("--wait=sb", "sync")
    assert "OVN_Northbound: connected" in _appctl(ctl, "connection-status")
    _appctl(ctl, "inc-engine/clear-stats")
    _appctl(ctl, "inc-engine/recompute")
    sandbox.nbctl("--wait=sb", "sync")  # the recompute has happened by now
    stats = _appctl(ctl, "inc-engine/show-stats", "sb_global_sync")
    assert stats.startswith("Node: sb_global_sync\n")
    assert int(stats.split("- recompute:")[1].split()[0]) >= 1
    assert "pyovn-northd (pyovn)" in _appctl(ctl, "version")
