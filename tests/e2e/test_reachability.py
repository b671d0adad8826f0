"""Reachability with real ``ping`` between namespace VMs, on every mix of stacks.

Each case changes the Northbound database with ``ovn-nbctl --wait=hv`` and then sends
real packets: stateful ACLs (replies return through conntrack), address sets and port
groups, port security, a port added while traffic flows, and the promise of
``--wait=hv`` itself (the switch forwards by the new flows the moment it returns).

One sandbox per stack serves every case; each case undoes its own Northbound changes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig, Stack
from pyovn.sandbox.vm import PingResult, Vm, add_vm, remove_vm, vm_handle

pytestmark = [pytest.mark.e2e, pytest.mark.functional]

#: (northd, controller): all pyovn, pyovn-controller under ovn-northd, ovn-controller
#: under pyovn-northd.
STACKS: list[tuple[Stack, Stack]] = [("pyovn", "pyovn"), ("ovn", "pyovn"), ("pyovn", "ovn")]

SWITCH = "sw0"
MAC1, IP1 = "00:00:00:00:01:01", "10.0.0.1"
MAC2, IP2 = "00:00:00:00:01:02", "10.0.0.2"
MAC3, IP3 = "00:00:00:00:01:03", "10.0.0.3"
#: A port without a VM, so that a port group stays on the switch when a VM leaves it.
SPARE, SPARE_MAC, SPARE_IP = "spare", "00:00:00:00:01:09", "10.0.0.9"
HV_TIMEOUT = 30.0


class Net:
    """The sandbox of one stack with sw0 and its two VMs."""

    def __init__(self, box: Sandbox, vm1: Vm, vm2: Vm) -> None:
        self.box = box
        self.vm1 = vm1
        self.vm2 = vm2

    def nbctl_hv(self, *args: str) -> str:
        """``ovn-nbctl --wait=hv``: returns once every chassis runs the change."""
        return self.box.nbctl("--wait=hv", *args, timeout=HV_TIMEOUT)


def _lsp_add(box: Sandbox, name: str, mac: str, ip: str) -> None:
    box.nbctl("lsp-add", SWITCH, name, "--", "lsp-set-addresses", name, f"{mac} {ip}")


def _lsp_up(box: Sandbox, name: str) -> bool:
    return box.nbctl("get", "Logical_Switch_Port", name, "up").strip() == "true"


def _acl_del(box: Sandbox, *acl: str) -> None:
    """Delete an ACL if it is there (acl-del knows no --if-exists)."""
    box.run(["ovn-nbctl", "--wait=hv", "acl-del", *acl], timeout=HV_TIMEOUT, check=False)


def _our_netns(box: Sandbox) -> list[str]:
    prefix = vm_handle(box, "").netns
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module", params=STACKS, ids=lambda s: f"{s[0]}-northd-{s[1]}-ctl")
def net(request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    """A running sandbox of the stack with sw0, vm1 and vm2 up; always stopped after."""
    northd, controller = request.param
    procs.become_subreaper()
    box = Sandbox(tmp_path_factory.mktemp(f"reach-{northd}-{controller}") / "sb")
    try:
        box.start(SandboxConfig(northd=northd, controller=controller))
        box.nbctl("ls-add", SWITCH)
        _lsp_add(box, "vm1", MAC1, IP1)
        _lsp_add(box, "vm2", MAC2, IP2)
        _lsp_add(box, SPARE, SPARE_MAC, SPARE_IP)
        vm1 = add_vm(box, "vm1", MAC1, f"{IP1}/24")
        vm2 = add_vm(box, "vm2", MAC2, f"{IP2}/24")
        procs.wait_until(lambda: _lsp_up(box, "vm1") and _lsp_up(box, "vm2"),
                         timeout=HV_TIMEOUT, what="vm1 and vm2 up")
        box.nbctl("--wait=hv", "sync", timeout=HV_TIMEOUT)
        yield Net(box, vm1, vm2)
    finally:
        box.stop()
        procs.stop_all_in(box.dir)
    assert _our_netns(box) == []


def _ping(vm: Vm, dst: str, *extra: str, count: int, wait: float) -> PingResult:
    """Ping ``dst`` from ``vm``; ``extra`` are more ping options (e.g. ``-I`` source)."""
    proc = vm.exec(["ping", "-n", "-q", "-c", str(count), "-i", "0.1", "-W", f"{wait:g}",
                    *extra, dst], timeout=30, check=False)
    return _parse_ping(proc.stdout + proc.stderr)


def _parse_ping(out: str) -> PingResult:
    for line in out.splitlines():
        if "packets transmitted" in line:
            fields = line.split()
            return PingResult(int(fields[0]), int(fields[3]), out)
    raise AssertionError(f"ping gave no summary: {out!r}")


def assert_passes(vm: Vm, dst: str, *extra: str) -> None:
    """Every echo request from ``vm`` to ``dst`` is answered."""
    result = _ping(vm, dst, *extra, count=3, wait=2.0)
    assert result.received == result.transmitted == 3, f"{vm.name} → {dst}: {result.output}"


def assert_blocked(vm: Vm, dst: str, *extra: str) -> None:
    """No echo request from ``vm`` to ``dst`` is answered."""
    result = _ping(vm, dst, *extra, count=2, wait=1.0)
    assert result.transmitted == 2 and result.received == 0, \
        f"{vm.name} → {dst}: {result.output}"


def _in_echos(vm: Vm) -> int:
    """Echo requests the VM's kernel has received (its namespace's Icmp InEchos)."""
    lines = vm.exec(["cat", "/proc/net/snmp"]).stdout.splitlines()
    names, values = [line.split() for line in lines if line.startswith("Icmp:")][:2]
    return int(values[names.index("InEchos")])


# -- 1. stateful ACLs ---------------------------------------------------------------------

#: A default-drop switch where only vm1 may open connections, towards vm2.
STATEFUL_ACLS = (
    ("from-lport", "1000", "ip4", "drop"),
    ("to-lport", "1000", "ip4", "drop"),
    ("from-lport", "1001", 'inport == "vm1" && ip4', "allow-related"),
    ("to-lport", "1001", f'outport == "vm2" && ip4.src == {IP1}', "allow-related"),
)


#: Sends UDP datagrams to a closed port and tells what came back. SO_NO_CHECK (11): the
#: datagrams carry no checksum, which the veth would otherwise leave to an offload that
#: the userspace datapath never performs (the receiver would drop them as corrupt).
UDP_PROBE = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 11, 1)
s.settimeout(1.0)
s.connect((sys.argv[1], 9))
answer = "timeout"
for _ in range(2):
    s.send(b"probe")
    try:
        s.recv(16)
        answer = "reply"
    except ConnectionRefusedError:
        answer = "refused"
    except TimeoutError:
        continue
    break
print(answer)
"""


def _udp_probe(vm: Vm, dst: str) -> str:
    """``refused`` when the ICMP port unreachable for a UDP datagram reached ``vm``."""
    return vm.exec([sys.executable, "-c", UDP_PROBE, dst]).stdout.strip()


def test_allow_related_lets_replies_back_and_blocks_the_other_direction(net: Net) -> None:
    for direction, priority, match, action in STATEFUL_ACLS:
        net.box.nbctl("acl-add", SWITCH, direction, priority, match, action)
    try:
        net.nbctl_hv("sync")
        # The replies vm2 → vm1 meet both drop ACLs; only conntrack lets them through.
        assert_passes(net.vm1, IP2)
        assert_blocked(net.vm2, IP1)
        # An ICMP error about vm1's UDP flow is related traffic (ct.rel): it passes too.
        assert _udp_probe(net.vm1, IP2) == "refused"
        assert_passes(net.vm1, IP2)
    finally:
        net.nbctl_hv("acl-del", SWITCH)
    assert_passes(net.vm1, IP2)
    assert_passes(net.vm2, IP1)


# -- 2. address sets and port groups ------------------------------------------------------

def test_address_set_acl_follows_address_set_membership(net: Net) -> None:
    net.box.nbctl("create", "Address_Set", "name=as1", f'addresses=["{IP1}","{IP3}"]')
    acl = (SWITCH, "to-lport", "1002", 'outport == "vm2" && ip4.src == $as1')
    try:
        net.nbctl_hv("acl-add", *acl, "drop")
        assert_blocked(net.vm1, IP2)
        net.nbctl_hv("remove", "Address_Set", "as1", "addresses", f'"{IP1}"')
        assert_passes(net.vm1, IP2)
        net.nbctl_hv("add", "Address_Set", "as1", "addresses", f'"{IP1}"')
        assert_blocked(net.vm1, IP2)
    finally:
        _acl_del(net.box, *acl)
        net.nbctl_hv("destroy", "Address_Set", "as1")
    assert_passes(net.vm1, IP2)


def test_port_group_acl_follows_port_group_membership(net: Net) -> None:
    net.box.nbctl("pg-add", "pg1", "vm2", SPARE)
    try:
        net.nbctl_hv("acl-add", "pg1", "to-lport", "1002", "outport == @pg1 && ip4", "drop")
        assert_blocked(net.vm1, IP2)
        net.nbctl_hv("pg-set-ports", "pg1", SPARE)
        assert_passes(net.vm1, IP2)
        net.nbctl_hv("pg-set-ports", "pg1", "vm2", SPARE)
        assert_blocked(net.vm1, IP2)
    finally:
        net.nbctl_hv("pg-del", "pg1")
    assert_passes(net.vm1, IP2)


def test_port_group_address_set_follows_port_group_membership(net: Net) -> None:
    # northd derives the address set $pg2_ip4 from the addresses of pg2's ports.
    net.box.nbctl("pg-add", "pg2", "vm1", SPARE)
    acl = (SWITCH, "to-lport", "1002", 'outport == "vm2" && ip4.src == $pg2_ip4')
    try:
        net.nbctl_hv("acl-add", *acl, "drop")
        assert_blocked(net.vm1, IP2)
        net.nbctl_hv("pg-set-ports", "pg2", SPARE)
        assert_passes(net.vm1, IP2)
        net.nbctl_hv("pg-set-ports", "pg2", "vm1", SPARE)
        assert_blocked(net.vm1, IP2)
    finally:
        _acl_del(net.box, *acl)
        net.nbctl_hv("pg-del", "pg2")
    assert_passes(net.vm1, IP2)


# -- 3. port security ---------------------------------------------------------------------

SPOOF_MAC = "00:00:00:00:01:99"
SPOOF_IP = "10.0.0.11"


def _set_mac(vm: Vm, mac: str) -> None:
    vm.exec(["ip", "link", "set", "eth0", "address", mac])


def _spoofed_mac_reaches(net: Net) -> bool:
    """Whether echo requests vm1 sends from a foreign MAC arrive in vm2's kernel."""
    _set_mac(net.vm1, SPOOF_MAC)
    try:
        before = _in_echos(net.vm2)
        # Replies cannot come back (OVN sends them to vm1's MAC); count arrivals instead.
        _ping(net.vm1, IP2, count=2, wait=1.0)
        return _in_echos(net.vm2) > before
    finally:
        _set_mac(net.vm1, MAC1)


def test_port_security_drops_spoofed_mac_and_ip(net: Net) -> None:
    net.vm1.exec(["ip", "addr", "add", f"{SPOOF_IP}/24", "dev", "eth0"])
    spoofed_ip = ("-I", SPOOF_IP)
    try:
        # Without port security both spoofs get through: the checks below can fail.
        assert _spoofed_mac_reaches(net)
        assert_passes(net.vm1, IP2, *spoofed_ip)
        net.nbctl_hv("lsp-set-port-security", "vm1", f"{MAC1} {IP1}")
        assert_passes(net.vm1, IP2)
        assert not _spoofed_mac_reaches(net)
        before = _in_echos(net.vm2)
        assert_blocked(net.vm1, IP2, *spoofed_ip)
        assert _in_echos(net.vm2) == before
        assert_passes(net.vm1, IP2)
    finally:
        net.vm1.exec(["ip", "addr", "del", f"{SPOOF_IP}/24", "dev", "eth0"], check=False)
        net.nbctl_hv("lsp-set-port-security", "vm1")
    assert_passes(net.vm1, IP2)


# -- 4. a port added while traffic flows --------------------------------------------------

def test_ports_added_while_ping_runs_lose_no_packet(net: Net) -> None:
    count = 400
    extra = [f"extra{i}" for i in range(3)]
    ping = subprocess.Popen(
        ["ip", "netns", "exec", net.vm1.netns, "ping", "-n", "-q", "-i", "0.01",
         "-c", str(count), "-W", "2", IP2],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _lsp_add(net.box, "vm3", MAC3, IP3)
        vm3 = add_vm(net.box, "vm3", MAC3, f"{IP3}/24")
        procs.wait_until(lambda: _lsp_up(net.box, "vm3"), timeout=HV_TIMEOUT, what="vm3 up")
        net.nbctl_hv("sync")
        for i, name in enumerate(extra):
            net.nbctl_hv("lsp-add", SWITCH, name, "--", "lsp-set-addresses", name,
                         f"00:00:00:00:02:{i:02x} 10.0.0.{20 + i}")
        still_running = ping.poll() is None
        out, _ = ping.communicate(timeout=60)
        # Otherwise the ports were not added while traffic flowed: the test proved nothing.
        assert still_running, f"the ping ended before the ports were added: {out}"
        running = _parse_ping(out)
        assert running.transmitted == count and running.lost == 0, out
        assert_passes(vm3, IP1)
        assert_passes(net.vm1, IP3)
    finally:
        if ping.poll() is None:
            ping.kill()
            ping.wait()
        remove_vm(net.box, "vm3")
        net.nbctl_hv("--if-exists", "lsp-del", "vm3",
                     *(arg for name in extra for arg in ("--", "--if-exists", "lsp-del", name)))


# -- 5. --wait=hv means "forwarding already changed" --------------------------------------

def _ofport(box: Sandbox, vm: Vm) -> int:
    return int(box.vsctl("get", "Interface", vm.host_ifname, "ofport").strip())


def _trace(box: Sandbox, flow: str) -> str:
    """ofproto/trace of ``flow`` through br-int."""
    return box.appctl("ovs-vswitchd", "ofproto/trace", "br-int", flow)


def _outputs_to(trace: str, ofport: int) -> bool:
    return any(line.strip() == f"output:{ofport}" for line in trace.splitlines())


def test_wait_hv_returns_only_once_the_switch_forwards_by_the_change(net: Net) -> None:
    vm2_port = _ofport(net.box, net.vm2)
    echo = (f"in_port={_ofport(net.box, net.vm1)},icmp,dl_src={MAC1},dl_dst={MAC2},"
            f"nw_src={IP1},nw_dst={IP2},nw_ttl=64,icmp_type=8,icmp_code=0")
    acl = (SWITCH, "to-lport", "1002", f'outport == "vm2" && ip4.src == {IP1}')
    assert _outputs_to(_trace(net.box, echo), vm2_port)
    try:
        for _ in range(3):
            # The trace runs the instant --wait=hv returns: no sleep, no polling.
            net.nbctl_hv("acl-add", *acl, "drop")
            dropped = _trace(net.box, echo)
            assert not _outputs_to(dropped, vm2_port), dropped
            assert dropped.rstrip().splitlines()[-1] == "Datapath actions: drop", dropped
            net.nbctl_hv("acl-del", *acl)
            passed = _trace(net.box, echo)
            assert _outputs_to(passed, vm2_port), passed
    finally:
        _acl_del(net.box, *acl)
    assert_passes(net.vm1, IP2)
