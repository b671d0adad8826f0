"""pyovn-northd + pyovn-controller alone run a logical switch: ports come up, the
flows of an nb_cfg are acknowledged (``--wait=hv``), traffic flows, an ACL drops it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox
from pyovn.sandbox.testing import running_sandbox
from pyovn.sandbox.vm import Vm, add_vm

pytestmark = [pytest.mark.e2e, pytest.mark.functional]

VMS = (("vm1", "00:00:00:00:01:01", "10.0.0.1/24"),
       ("vm2", "00:00:00:00:01:02", "10.0.0.2/24"))
ACL = ("sw0", "to-lport", "1001", 'outport == "vm2" && ip4.src == 10.0.0.1')


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "sb") as box:
        yield box


def _replies(vm: Vm, dst: str) -> int:
    return vm.ping(dst, count=3, interval=0.2, wait=1.0).received


def _hv_cfg(box: Sandbox) -> int:
    return int(box.nbctl("get", "NB_Global", ".", "hv_cfg").strip())


def test_pyovn_controller_binds_installs_and_enforces_acl(sandbox: Sandbox) -> None:
    sandbox.nbctl("ls-add", "sw0")
    for name, mac, ip in VMS:
        sandbox.nbctl("lsp-add", "sw0", name, "--", "lsp-set-addresses", name,
                      f"{mac} {ip.split('/')[0]}")
    vm1 = add_vm(sandbox, *VMS[0])
    add_vm(sandbox, *VMS[1])
    procs.wait_until(lambda: all(
        sandbox.nbctl("get", "Logical_Switch_Port", n, "up").strip() == "true"
        for n in ("vm1", "vm2")), timeout=30, what="vm1 and vm2 up=true")
    for name in ("vm1", "vm2"):
        ids = sandbox.vsctl("get", "Interface", _iface_of(sandbox, name), "external_ids")
        assert 'ovn-installed="true"' in ids
    sandbox.nbctl("--wait=hv", "sync", timeout=30)
    assert _hv_cfg(sandbox) == int(sandbox.nbctl("get", "NB_Global", ".", "nb_cfg").strip())
    # Logical flows were translated: the ingress pipeline (tables 8..) is populated.
    flows = "\n".join(_flows(sandbox))
    assert "table=8," in flows and "table=42," in flows

    # What was built change by change equals a recompute.
    incremental = _flows(sandbox)
    sandbox.appctl("controller", "inc-engine/recompute")
    sandbox.nbctl("--wait=hv", "sync", timeout=30)
    assert _flows(sandbox) == incremental

    dst = VMS[1][2].split("/")[0]
    assert _replies(vm1, dst) == 3
    sandbox.nbctl("--wait=hv", "acl-add", *ACL, "drop", timeout=30)
    assert _replies(vm1, dst) == 0
    sandbox.nbctl("--wait=hv", "acl-del", *ACL, timeout=30)
    assert _replies(vm1, dst) == 3


def _iface_of(box: Sandbox, lport: str) -> str:
    """The br-int interface whose iface-id is ``lport``."""
    out = box.vsctl("--bare", "--columns=name", "find", "Interface",
                    f"external_ids:iface-id={lport}")
    return out.strip()


def _flows(box: Sandbox) -> list[str]:
    """br-int's flows, without counters, sorted."""
    return sorted(line.strip() for line in box.ofctl("dump-flows", "br-int", "--no-stats")
                  .splitlines() if "actions=" in line)
