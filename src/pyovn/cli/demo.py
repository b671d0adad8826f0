"""``pyovn demo``: the main job — a sandbox, one logical switch, two namespace VMs.

Each step prints what it does and what it shows: the VMs ping each other; an ACL drops
the traffic; removing the ACL restores it. The exit status is 0 only when every step
showed what it should. Without ``--keep`` everything is stopped and removed at the end,
also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyovn.errors import SandboxError
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig
from pyovn.sandbox.vm import Vm, add_vm

VM1 = ("vm1", "00:00:00:00:01:01", "10.0.0.1/24")
VM2 = ("vm2", "00:00:00:00:01:02", "10.0.0.2/24")


@dataclass
class Step:
    """One demo step and whether it showed what it should."""

    title: str
    ok: bool
    detail: str


def _say(text: str) -> None:
    print(text, flush=True)


def _check_ping(vm: Vm, dst: str, expect: bool) -> tuple[bool, str]:
    result = vm.ping(dst, count=5, interval=0.2, wait=1.0)
    got = result.received > 0
    shown = f"{result.received}/{result.transmitted} replies"
    if expect:
        return result.received == result.transmitted, shown
    return not got, shown


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo described in the module docstring; return the exit status."""
    procs.become_subreaper()
    directory: Path = args.dir
    if not args.keep and directory == Path("sandbox"):
        directory = Path(tempfile.mkdtemp(prefix="pyovn-demo-"))
    sandbox = Sandbox(directory)
    steps: list[Step] = []
    try:
        _demo_steps(sandbox, args, steps)
    finally:
        if args.keep:
            _say(f"\nleft running (--keep). Use it:\n  eval \"$(pyovn sandbox env "
                 f"--dir {sandbox.dir})\"\n  ovn-nbctl show\n  ip netns exec "
                 f"{_ns(sandbox, 'vm1')} ping 10.0.0.2\nstop it: pyovn sandbox stop "
                 f"--dir {sandbox.dir}")
        else:
            stopped = sandbox.stop()
            _say(f"\ncleaned up: stopped {', '.join(stopped) or 'nothing'}")
    _say("\nsummary:")
    for step in steps:
        _say(f"  [{'ok' if step.ok else 'FAILED'}] {step.title}: {step.detail}")
    ok = bool(steps) and all(s.ok for s in steps)
    _say("demo passed" if ok else "demo FAILED")
    return 0 if ok else 1


def _ns(sandbox: Sandbox, name: str) -> str:
    from pyovn.sandbox.vm import vm_handle

    return vm_handle(sandbox, name).netns


def _demo_steps(sandbox: Sandbox, args: argparse.Namespace, steps: list[Step]) -> None:
    def record(title: str, ok: bool, detail: str) -> bool:
        steps.append(Step(title, ok, detail))
        _say(f"    -> {'ok' if ok else 'FAILED'}: {detail}")
        return ok

    _say(f"1. sandbox in {sandbox.dir}: NB/SB/Open_vSwitch ovsdb-servers, ovs-vswitchd "
         f"(br-int, datapath_type={args.datapath_type}), northd={args.northd}, "
         f"controller={args.controller}")
    sandbox.start(SandboxConfig(northd=args.northd, controller=args.controller,
                                datapath_type=args.datapath_type))
    record("sandbox", True, ", ".join(d.name for d in sandbox.running()) + " running")

    _say("2. logical switch sw0 with ports vm1, vm2 (ovn-nbctl)")
    sandbox.nbctl("ls-add", "sw0")
    for name, mac, ip in (VM1, VM2):
        sandbox.nbctl("lsp-add", "sw0", name, "--", "lsp-set-addresses", name,
                      f"{mac} {ip.split('/')[0]}")
    _say("3. two VMs: network namespaces with a veth into br-int (iface-id = port name)")
    vm1 = add_vm(sandbox, *VM1)
    add_vm(sandbox, *VM2)
    try:
        procs.wait_until(lambda: all(
            sandbox.nbctl("get", "Logical_Switch_Port", n, "up").strip() == "true"
            for n in ("vm1", "vm2")), timeout=30, what="vm1 and vm2 up=true")
    except SandboxError as exc:
        record("ports bound", False, str(exc))
        return
    record("ports bound", True, "vm1 and vm2 up=true")
    sandbox.nbctl("--wait=hv", "sync", timeout=30)
    flows = len(sandbox.ofctl("dump-flows", "br-int").splitlines()) - 1
    record("flows installed", flows > 0, f"{flows} OpenFlow flows in br-int")

    dst = VM2[2].split("/")[0]
    _say(f"4. vm1 pings vm2 ({dst})")
    ok, shown = _check_ping(vm1, dst, expect=True)
    record("ping passes", ok, shown)

    _say("5. ACL: drop IPv4 from vm1 to vm2 (to-lport, priority 1001)")
    acl_match = 'outport == "vm2" && ip4.src == 10.0.0.1'
    sandbox.nbctl("--wait=hv", "acl-add", "sw0", "to-lport", "1001", acl_match, "drop")
    ok, shown = _check_ping(vm1, dst, expect=False)
    record("ACL drops", ok, shown)

    _say("6. remove the ACL")
    sandbox.nbctl("--wait=hv", "acl-del", "sw0", "to-lport", "1001", acl_match)
    ok, shown = _check_ping(vm1, dst, expect=True)
    record("ping restored", ok, shown)
