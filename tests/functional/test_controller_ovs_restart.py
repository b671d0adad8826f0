"""pyovn-controller across Open vSwitch restarts and a deleted integration bridge:
a restart that restores the saved flows (``flow-restore-wait``) costs no flow_mod, a
plain restart gets every flow back in one bundle prepared while the switch was away, a
deleted br-int is created again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox
from pyovn.sandbox.testing import running_sandbox

pytestmark = pytest.mark.functional


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "sb") as box:
        args = ["ls-add", "sw0"]
        for n in range(1, 4):
            args += ["--", "lsp-add", "sw0", f"p{n}", "--", "lsp-set-addresses", f"p{n}",
                     f"00:00:00:00:00:0{n} 10.0.0.{n}"]
        box.nbctl(*args)
        box.nbctl("acl-add", "sw0", "to-lport", "1001", "ip4.src == 10.0.0.1", "allow-related")
        for n in range(1, 4):
            _bind(box, n)
        procs.wait_until(lambda: all(
            box.nbctl("get", "Logical_Switch_Port", f"p{n}", "up").strip() == "true"
            for n in range(1, 4)), timeout=30, what="ports up")
        box.nbctl("--wait=hv", "--timeout=30", "sync", timeout=40)
        yield box


def _bind(box: Sandbox, n: int) -> None:
    box.vsctl("--may-exist", "add-port", "br-int", f"p{n}", "--", "set", "Interface",
              f"p{n}", "type=dummy", f"ofport_request={n}", f"external_ids:iface-id=p{n}")


def _flows(box: Sandbox) -> list[str]:
    return sorted(line.strip() for line in box.ofctl("dump-flows", "br-int", "--no-stats")
                  .splitlines() if "actions=" in line)


def _stats(box: Sandbox) -> dict[str, str]:
    out = box.appctl("controller", "ofctrl/stats")
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def _resynced(box: Sandbox, connections: int) -> bool:
    stats = _stats(box)
    return int(stats["connections"]) > connections and stats["synced"] == "true"


def test_restart_with_restored_flows_sends_no_flow_mod(sandbox: Sandbox) -> None:
    before, stats = _flows(sandbox), _stats(sandbox)
    sandbox.restart_vswitchd(restore_flows=True)
    procs.wait_until(lambda: _resynced(sandbox, int(stats["connections"])), timeout=30,
                     what="ofctrl reconnected and read the switch back")
    sandbox.nbctl("--wait=hv", "--timeout=30", "sync", timeout=40)
    assert _flows(sandbox) == before
    after = _stats(sandbox)
    assert int(after["flow mods"]) == int(stats["flow mods"]), after
    # While the flows were restored pyovn kept away from the switch (a userspace
    # switch forwards from the thread that would serve it); afterwards it read back
    # exactly the restored table.
    lines = (sandbox.dir / "controller.log").read_text().splitlines()
    held = max(i for i, line in enumerate(lines) if "flow-restore-wait set" in line)
    cleared = next(i for i, line in enumerate(lines) if i > held
                   and "flow-restore-wait cleared" in line)
    assert not any("connected (OpenFlow" in line for line in lines[held:cleared])
    assert any(f"read back {len(before)} flows" in line for line in lines[cleared:])


def test_plain_restart_gets_every_flow_back_in_one_bundle(sandbox: Sandbox) -> None:
    before, stats = _flows(sandbox), _stats(sandbox)
    log = sandbox.dir / "controller.log"
    seen = len(log.read_text().splitlines())
    sandbox.restart_vswitchd()
    procs.wait_until(lambda: _flows(sandbox) == before, timeout=30,
                     what="every flow back on the new switch")
    after = _stats(sandbox)
    assert int(after["connections"]) > int(stats["connections"])
    # The new switch is found empty (read back) and gets every flow in one bundle. (The
    # dying switch may report its flows deleted first: ofctrl repairs them there, on a
    # connection about to close; a put after the bundle only follows interfaces the new
    # switch re-numbered, if any.)
    lines = log.read_text().splitlines()[seen:]
    empty = max(i for i, line in enumerate(lines) if "read back 0 flows" in line)
    first = next(line for line in lines[empty:] if "sending" in line)
    assert f"sending {len(before)} flow_mods ({len(before)} add," in first, first
    # ... compared and encoded while the switch was away (nothing changed meanwhile).
    assert first.endswith("(prepared while the switch was away)"), first


def test_a_deleted_integration_bridge_is_created_again(sandbox: Sandbox) -> None:
    sandbox.vsctl("del-br", "br-int")
    procs.wait_until(lambda: "br-int" in sandbox.vsctl("list-br").split(), timeout=30,
                     what="br-int created again")
    assert sandbox.vsctl("get", "Bridge", "br-int", "fail_mode").strip() == "secure"
    assert sandbox.vsctl("get", "Bridge", "br-int", "datapath_type").strip() == "dummy"
    for n in range(1, 4):
        _bind(sandbox, n)
    procs.wait_until(lambda: any("in_port=3" in f for f in _flows(sandbox)), timeout=30,
                     what="flows of the re-added ports")
    sandbox.nbctl("--wait=hv", "--timeout=30", "sync", timeout=40)
