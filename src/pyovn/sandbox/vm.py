"""Namespace "VMs": a network namespace with one veth whose other end is a port of br-int.

A VM's interface carries ``external_ids:iface-id=<logical port>``, which is how an OVN
controller learns that the logical port lives on this chassis. Names are derived from
the sandbox directory so that two sandboxes never share a namespace or an interface, and
everything a VM creates is recorded in ``sandbox.json`` so that ``stop`` removes it even
after a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyovn.errors import SandboxError
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox

_PING_RE = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


def _tag(sandbox: Sandbox) -> str:
    return hashlib.sha256(str(sandbox.dir).encode()).hexdigest()[:6]


@dataclass(frozen=True)
class PingResult:
    """What ``ping`` reported: packets sent and received, and its raw output."""

    transmitted: int
    received: int
    output: str

    @property
    def lost(self) -> int:
        """Packets sent and not answered."""
        return self.transmitted - self.received


@dataclass(frozen=True)
class Vm:
    """A namespace VM of a sandbox."""

    name: str
    netns: str
    host_ifname: str
    mac: str
    ip: str

    def exec(self, argv: Sequence[str], *, timeout: float = 60.0,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the VM's namespace."""
        return _ip_run(["ip", "netns", "exec", self.netns, *argv], timeout=timeout, check=check)

    def ping(self, dst: str, *, count: int = 3, interval: float = 0.2,
             wait: float = 1.0) -> PingResult:
        """Ping ``dst`` from the VM; never raises for lost packets (see the result)."""
        proc = self.exec(
            ["ping", "-n", "-q", "-c", str(count), "-i", f"{interval:g}", "-W", f"{wait:g}",
             dst.split("/")[0]],
            timeout=count * (interval + wait) + 10, check=False,
        )
        match = _PING_RE.search(proc.stdout)
        if match is None:
            raise SandboxError(f"ping in {self.name} gave no summary: "
                               f"{proc.stdout.strip()} {proc.stderr.strip()}")
        return PingResult(int(match.group(1)), int(match.group(2)), proc.stdout)


def _ip_run(argv: Sequence[str], *, timeout: float = 30.0,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    prog = procs.find_program(argv[0])
    proc = subprocess.run([prog, *argv[1:]], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise SandboxError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return proc


def vm_handle(sandbox: Sandbox, name: str, mac: str = "", ip: str = "") -> Vm:
    """The :class:`Vm` named ``name`` in ``sandbox`` (names only; nothing is checked)."""
    config = sandbox.load_config()
    index = config.vms.index(name) if name in config.vms else len(config.vms)
    tag = _tag(sandbox)
    return Vm(name, f"pyovn-{tag}-{name}", f"pv{tag}{index:02d}", mac, ip)


def add_vm_port(sandbox: Sandbox, switch: str, name: str, mac: str, ip: str) -> Vm:
    """Logical switch port ``name`` on ``switch`` with addresses ``mac`` and ``ip``
    (CIDR) and the VM bound to it (:func:`add_vm`)."""
    sandbox.nbctl("lsp-add", switch, name, "--", "lsp-set-addresses", name,
                  f"{mac} {ip.split('/')[0]}")
    return add_vm(sandbox, name, mac, ip)


def add_vm(sandbox: Sandbox, name: str, mac: str, ip: str, *,
           iface_id: str | None = None, ip6: str | None = None) -> Vm:
    """Create VM ``name`` (MAC ``mac``, address ``ip`` as CIDR) attached to br-int.

    ``iface_id`` (default: ``name``) is the logical switch port the interface binds to.
    """
    config = sandbox.load_config()
    if name in config.vms:
        raise SandboxError(f"vm {name} already exists in {sandbox.dir}")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", name):
        raise SandboxError(f"vm name {name!r}: use letters, digits, '-' and '_' only")
    vm = vm_handle(sandbox, name, mac, ip)
    config.vms.append(name)
    sandbox.save_config(config)  # recorded first, so stop() cleans up a half-made VM
    _ip_run(["ip", "netns", "add", vm.netns])
    _ip_run(["ip", "link", "add", vm.host_ifname, "type", "veth",
             "peer", "name", "eth0", "netns", vm.netns])
    ns = ["ip", "-n", vm.netns]
    _ip_run([*ns, "link", "set", "lo", "up"])
    _ip_run([*ns, "link", "set", "eth0", "address", mac])
    if ip6 is None:
        # No IPv6 unless asked for: no router solicitations or MLD reports to muddy tests.
        vm.exec(["sysctl", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=1"], check=False)
    else:
        vm.exec(["sysctl", "-q", "-w", "net.ipv6.conf.eth0.accept_dad=0"], check=False)
        _ip_run([*ns, "-6", "addr", "add", ip6, "dev", "eth0", "nodad"])
    _ip_run([*ns, "addr", "add", ip, "dev", "eth0"])
    _ip_run([*ns, "link", "set", "eth0", "up"])
    _ip_run(["ip", "link", "set", vm.host_ifname, "up"])
    sandbox.vsctl("--", "add-port", "br-int", vm.host_ifname,
                  "--", "set", "Interface", vm.host_ifname,
                  f"external_ids:iface-id={iface_id or name}")
    return vm


def remove_vm(sandbox: Sandbox, name: str) -> None:
    """Remove VM ``name``: its br-int port, its veth and its namespace. Never raises."""
    vm = vm_handle(sandbox, name)
    if (sandbox.dir / "db.sock").exists():
        # --no-wait: a switch with thousands of ports takes long to reconfigure, and the
        # veth goes away below anyway; a switch that does not answer must not stop stop().
        with contextlib.suppress(SandboxError):
            sandbox.run(["ovs-vsctl", "--no-wait", "--if-exists", "del-port", "br-int",
                         vm.host_ifname], check=False, timeout=10)
    if Path(f"/sys/class/net/{vm.host_ifname}").exists():
        _ip_run(["ip", "link", "del", vm.host_ifname], check=False)
    _ip_run(["ip", "netns", "del", vm.netns], check=False)
    config = sandbox.load_config()
    if name in config.vms:
        # Keep indexes stable for the others: names map to interface numbers by position.
        config.vms[config.vms.index(name)] = f"{name}~removed"
        sandbox.save_config(config)


def remove_all_vms(sandbox: Sandbox) -> list[str]:
    """Remove every VM the sandbox recorded; return their names."""
    names = [n for n in sandbox.load_config().vms if not n.endswith("~removed")]
    for name in names:
        remove_vm(sandbox, name)
    if (sandbox.dir / "sandbox.json").exists():
        config = sandbox.load_config()
        config.vms = []
        sandbox.save_config(config)
    return names


def leftovers(sandbox: Sandbox) -> list[str]:
    """Network namespaces and host veths of this sandbox's VMs that still exist (each
    sandbox tags its names, so this holds while other sandboxes run)."""
    tag = _tag(sandbox)
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         check=False).stdout
    names = [line.split()[0] for line in out.splitlines()
             if line.startswith(f"pyovn-{tag}-")]
    names += sorted(p.name for p in Path("/sys/class/net").glob(f"pv{tag}*"))
    return names
