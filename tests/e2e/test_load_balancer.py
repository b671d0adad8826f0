"""A logical switch load balancer: a VIP reaches its backends through an OpenFlow
select group that the controller allocates and installs; removing the load balancer
removes the group. Real ping between namespace VMs, every controller stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig
from pyovn.sandbox.testing import running_sandbox
from pyovn.sandbox.vm import Vm, add_vm

pytestmark = [pytest.mark.e2e, pytest.mark.functional]

VMS = (("vm1", "00:00:00:00:02:01", "10.0.0.1/24"),
       ("vm2", "00:00:00:00:02:02", "10.0.0.2/24"),
       ("vm3", "00:00:00:00:02:03", "10.0.0.3/24"))
VIP = "10.0.0.100"


@pytest.fixture(params=[("ovn", "ovn"), ("ovn", "pyovn")],
                ids=lambda p: f"{p[0]}-northd/{p[1]}-controller")
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sandbox]:
    northd, controller = request.param
    with running_sandbox(tmp_path / "sb", SandboxConfig(northd=northd,
                                                          controller=controller)) as box:
        yield box


def _groups(box: Sandbox) -> list[str]:
    return [line.strip() for line in box.ofctl("-O", "OpenFlow15", "dump-groups", "br-int")
            .splitlines() if "group_id=" in line]


def test_vip_reaches_the_backends_through_a_select_group(sandbox: Sandbox) -> None:
    sandbox.nbctl("ls-add", "sw0")
    for name, mac, ip in VMS:
        sandbox.nbctl("lsp-add", "sw0", name, "--", "lsp-set-addresses", name,
                      f"{mac} {ip.split('/')[0]}")
    vms: list[Vm] = [add_vm(sandbox, *vm) for vm in VMS]
    procs.wait_until(lambda: all(
        sandbox.nbctl("get", "Logical_Switch_Port", vm.name, "up").strip() == "true"
        for vm in vms), timeout=30, what="vms up")
    sandbox.nbctl("--wait=hv", "sync", timeout=30)
    assert vms[0].ping(VIP, count=2, interval=0.2, wait=1.0).received == 0
    assert _groups(sandbox) == []

    # A switch does not answer ARP for a VIP: the client is told vm2's MAC for it.
    vms[0].exec(["ip", "neigh", "replace", VIP, "lladdr", VMS[1][1], "dev", "eth0"])
    sandbox.nbctl("lb-add", "lb0", VIP, "10.0.0.2")
    sandbox.nbctl("lb-add", "lb1", "10.0.0.101", "10.0.0.2,10.0.0.3")
    sandbox.nbctl("ls-lb-add", "sw0", "lb0")
    sandbox.nbctl("--wait=hv", "ls-lb-add", "sw0", "lb1", timeout=30)
    # (23.03's ovn-controller may acknowledge --wait=hv before the groups are in.)
    procs.wait_until(lambda: len(_groups(sandbox)) == 2, timeout=10, what="the LB groups")
    two = next(g for g in _groups(sandbox) if "10.0.0.3" in g)
    assert "type=select" in two and "nat(dst=10.0.0.2)" in two, two
    # The VIP answers, DNATed to its backend and back, again and again.
    assert vms[0].ping(VIP, count=5, interval=0.2, wait=1.0).received == 5

    sandbox.nbctl("lb-del", "lb1")
    sandbox.nbctl("--wait=hv", "lb-del", "lb0", timeout=30)
    procs.wait_until(lambda: _groups(sandbox) == [], timeout=10, what="the LB groups gone")
    assert vms[0].ping(VIP, count=2, interval=0.2, wait=1.0).received == 0
    assert vms[0].ping("10.0.0.2", count=2, interval=0.2, wait=1.0).received == 2
