"""pyovn-controller keeps br-int right and survives bad Southbound input, as real daemons.

DESIGN.md section 6, promises 4 and 5, end to end: pyovn-northd and pyovn-controller in
a sandbox with two namespace VMs. Another client deletes, modifies or adds flows, and
the controller puts back exactly those flows within a second (counted by the switch:
:class:`~pyovn.sandbox.outage.OpenFlowModCounter`); ``ofctrl/audit`` says what differs;
bad Southbound rows are reported and skipped while traffic keeps flowing; a seeded
Southbound fuzz never kills the controller and ends with the switch equal to a
recompute and to what a restarted controller computes. The fuzz runs
``PYOVN_FUZZ_STEPS`` transactions (50,000) or for ``PYOVN_FUZZ_SECONDS`` (20),
whichever ends first; the same seed (``PYOVN_FUZZ_SEED``) and number of steps give the
same transactions.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from pyovn.errors import SandboxError
from pyovn.ovsdb import Client, Delete, Insert, Op, TxnStatus, Update
from pyovn.sandbox import procs
from pyovn.sandbox.outage import OpenFlowMod, OpenFlowModCounter
from pyovn.sandbox.sandbox import Sandbox
from pyovn.sandbox.testing import running_sandbox
from pyovn.sandbox.vm import Vm, add_vm_port

pytestmark = [pytest.mark.e2e, pytest.mark.functional]

VMS = (("vm1", "00:00:00:00:01:01", "10.0.0.1/24"),
       ("vm2", "00:00:00:00:01:02", "10.0.0.2/24"))
VM2_IP = "10.0.0.2"
#: DESIGN.md 6.4: "repaired within a second".
REPAIR_DEADLINE = 1.0
BAD_MATCH = "ip4 &&& nonsense"
ODD_PORT = 'we"ird port \u00fc'
FUZZ_SEED = int(os.environ.get("PYOVN_FUZZ_SEED", "23031"))
FUZZ_SECONDS = float(os.environ.get("PYOVN_FUZZ_SECONDS", "20"))
FUZZ_STEPS = int(os.environ.get("PYOVN_FUZZ_STEPS", "50000"))


@dataclass(frozen=True)
class Chassis:
    """A running sandbox with sw0, vm1 and vm2 bound and pinging."""

    box: Sandbox
    vm1: Vm
    vm2: Vm


@pytest.fixture
def chassis(tmp_path: Path) -> Iterator[Chassis]:
    """pyovn-northd + pyovn-controller, sw0 with vm1 and vm2, flows acknowledged."""
    with running_sandbox(tmp_path / "sb") as box:
        box.nbctl("ls-add", "sw0")
        vms = []
        for name, mac, ip in VMS:
            vms.append(add_vm_port(box, "sw0", name, mac, ip))
        procs.wait_until(lambda: all(
            box.nbctl("get", "Logical_Switch_Port", n, "up").strip() == "true"
            for n, _, _ in VMS), timeout=30, what="vm1 and vm2 up=true")
        box.nbctl("--wait=hv", "sync", timeout=30)
        assert _replies(vms[0]) == 3
        yield Chassis(box, vms[0], vms[1])


# -- helpers ------------------------------------------------------------------------------

def _replies(vm: Vm, dst: str = VM2_IP) -> int:
    return vm.ping(dst, count=3, interval=0.2, wait=1.0).received


def _flows(box: Sandbox, *filters: str) -> list[str]:
    """br-int's flows (``filters`` as for dump-flows), without counters, sorted."""
    out = box.ofctl("dump-flows", "br-int", "--no-stats", *filters)
    return sorted(line.strip() for line in out.splitlines() if "actions=" in line)


def _cookie(flow: str) -> str:
    """The cookie of a flow as dump-flows prints it, or of a flow_mod as logged."""
    match = re.search(r"cookie[=:](0x[0-9a-f]+)", flow)
    return match.group(1) if match else "0x0"


def _stats(box: Sandbox) -> dict[str, str]:
    """``ofctrl/stats`` as a dict."""
    out = box.appctl("controller", "ofctrl/stats")
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def _flow_mods_sent(box: Sandbox) -> int:
    return int(_stats(box)["flow mods"])


def _log(box: Sandbox, since: int = 0) -> str:
    """pyovn-controller's log from byte ``since``."""
    with open(box.dir / "controller.log", "rb") as f:
        f.seek(since)
        return f.read().decode(errors="replace")


def _log_size(box: Sandbox) -> int:
    return (box.dir / "controller.log").stat().st_size


def _repaired(log: str) -> int:
    """How many flows the controller said it repaired (possibly in several puts)."""
    return sum(int(n) for n in re.findall(r"repairing (\d+) flows that another client", log))


def _await_flows(box: Sandbox, want: list[str], since: float, *filters: str) -> float:
    """Poll dump-flows until it equals ``want``; return the seconds since ``since``."""
    while True:
        now = time.monotonic()
        if _flows(box, *filters) == want:
            return now - since
        if now - since > 10 * REPAIR_DEADLINE:
            pytest.fail(f"flows not restored within {10 * REPAIR_DEADLINE:g} s")
        time.sleep(0.01)  # leave the CPU to the controller between dumps


def _alive(box: Sandbox) -> bool:
    return procs.daemon_in(box.dir, "controller").is_alive()


def _audit(box: Sandbox) -> str:
    return box.appctl("controller", "ofctrl/audit", timeout=30)


def _pyovn_mods(counter: OpenFlowModCounter) -> list[OpenFlowMod]:
    """The flow_mods pyovn-controller sent while ``counter`` counted: it bundles all
    of them, so the unbundled ones are the other client's."""
    assert counter.result is not None
    return [m for m in counter.result.mods if m.kind == "flow" and m.bundled]


# -- repair of others' changes --------------------------------------------------------------

@pytest.mark.parametrize("table", [8, 0])
def test_flows_deleted_by_another_client_come_back_within_a_second_and_only_they(
        chassis: Chassis, table: int) -> None:
    box = chassis.box
    everything = _flows(box)
    deleted = _flows(box, f"table={table}")
    assert len(deleted) >= 3
    sent, log_at = _flow_mods_sent(box), _log_size(box)
    with OpenFlowModCounter(box) as counter:
        t0 = time.monotonic()
        box.ofctl("del-flows", "br-int", f"table={table}")
        latency = _await_flows(box, everything, t0)
    print(f"table {table}: {len(deleted)} flows deleted, restored after {latency:.3f} s")
    assert latency < REPAIR_DEADLINE
    ours = _pyovn_mods(counter)
    assert [m.command for m in ours] == ["ADD"] * len(deleted)
    assert sorted(_cookie(m.text) for m in ours) == sorted(_cookie(f) for f in deleted)
    assert _flow_mods_sent(box) - sent == len(deleted)
    log = _log(box, log_at)
    assert "another client removed" in log
    assert _repaired(log) == len(deleted)
    assert _replies(chassis.vm1) == 3


def test_flow_whose_actions_another_client_modified_is_restored_within_a_second(
        chassis: Chassis) -> None:
    box = chassis.box
    everything = _flows(box)
    ofport = box.vsctl("get", "Interface", chassis.vm1.host_ifname, "ofport").strip()
    sent, log_at = _flow_mods_sent(box), _log_size(box)
    with OpenFlowModCounter(box) as counter:
        t0 = time.monotonic()
        box.ofctl("--strict", "mod-flows", "br-int",
                  f"table=0,priority=100,in_port={ofport},actions=drop")
        latency = _await_flows(box, everything, t0)
    print(f"modified flow restored after {latency:.3f} s")
    assert latency < REPAIR_DEADLINE
    ours = _pyovn_mods(counter)
    assert len(ours) == 1 and ours[0].command == "MOD_STRICT"
    assert f"in_port={ofport}" in ours[0].text
    assert _flow_mods_sent(box) - sent == 1
    log = _log(box, log_at)
    assert "another client modified" in log and "actions=drop" in log
    assert _repaired(log) == 1
    assert _replies(chassis.vm1) == 3


def test_flow_added_with_pyovn_mark_is_deleted_and_one_without_is_kept_and_reported(
        chassis: Chassis) -> None:
    """docs/cookies.md: a flow with the mark that nothing desires is residual and is
    deleted; one without the mark is foreign: left alone (policy ``keep``) and reported
    in the log and by ``ofctrl/audit``."""
    box = chassis.box
    everything = _flows(box)
    log_at = _log_size(box)
    box.ofctl("add-flow", "br-int", "cookie=0x5,table=8,priority=1234,metadata=0x99,"
                                    "actions=drop")
    procs.wait_until(lambda: "without pyovn's cookie mark alone" in _log(box, log_at),
                     timeout=10, what="foreign flow reported")
    with_foreign = _flows(box)
    assert len(with_foreign) == len(everything) + 1
    with OpenFlowModCounter(box) as counter:
        t0 = time.monotonic()
        box.ofctl("add-flow", "br-int", "cookie=0x70790001deadbeef,table=8,priority=1234,"
                                        "metadata=0x98,actions=drop")
        latency = _await_flows(box, with_foreign, t0)
    mods = _pyovn_mods(counter)
    print(f"residual flow deleted after {latency:.3f} s")
    assert latency < REPAIR_DEADLINE
    assert [m.command for m in mods] == ["DEL_STRICT"]
    assert "metadata=0x98" in mods[0].text
    log = _log(box, log_at)
    assert "another client added" in log
    assert "(foreign flow policy 'keep'), e.g. cookie=0x5, table=8, priority=1234" in log
    audit = _audit(box)
    assert "foreign (no pyovn cookie mark, left alone): 1\n" in audit
    assert "cookie=0x5, table=8, priority=1234,metadata=0x99 actions=drop" in audit
    assert audit.endswith(f"audit: in sync ({len(with_foreign)} flows on the switch)\n")
    assert _alive(box) and _replies(chassis.vm1) == 3


def test_ofctrl_audit_prints_nothing_when_in_sync_and_the_differences_otherwise(
        chassis: Chassis) -> None:
    box = chassis.box
    n = len(_flows(box))
    lines = _audit(box).splitlines()
    assert len(lines) == 2, lines
    assert re.fullmatch(rf"bridge br-int: read {n} flows, 0 groups, 0 meters in [\d.]+ s",
                        lines[0])
    assert lines[1] == f"audit: in sync ({n} flows on the switch)"
    # The flow monitor does not see groups: only an audit finds one someone added.
    box.ofctl("add-group", "br-int", "group_id=4242,type=all,bucket=actions=output:1")
    audit = _audit(box)
    assert "residual (pyovn's, not desired): 1\n" \
           "  group_id=4242,type=all,bucket=bucket_id:0,actions=output:1\n" in audit
    assert audit.endswith(f"audit: OUT OF SYNC ({n} flows on the switch)\n")
    # The audit scheduled a repair: every group on br-int is pyovn's (docs/cookies.md).
    procs.wait_until(lambda: "group_id" not in box.ofctl("dump-groups", "br-int"),
                     timeout=10, what="group 4242 deleted")
    procs.wait_until(lambda: _audit(box).endswith(f"audit: in sync ({n} flows on the "
                                                  "switch)\n"), timeout=10, what="in sync")
    assert _replies(chassis.vm1) == 3


# -- bad input ------------------------------------------------------------------------------

def _stop_northd(box: Sandbox) -> None:
    """Stop pyovn-northd, which would delete rows it did not write."""
    procs.stop_daemon(procs.daemon_in(box.dir, "northd"))


def _sw0(box: Sandbox) -> str:
    return box.sbctl("--bare", "--columns=_uuid", "find", "Datapath_Binding",
                     "external_ids:name=sw0").strip()


def _create_lflow(box: Sandbox, dp: str, pipeline: str, table: int, priority: int,
                  match: str, actions: str) -> str:
    return box.sbctl("create", "Logical_Flow", f"logical_datapath={dp}",
                     f"pipeline={pipeline}", f"table_id={table}", f"priority={priority}",
                     f"match={_quote(match)}", f"actions={_quote(actions)}").strip()


def _quote(text: str) -> str:
    """An OVSDB string as ovn-sbctl's command line takes it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sync_hv(box: Sandbox, timeout: float = 30.0) -> None:
    """Without northd: bump SB_Global.nb_cfg and wait until this chassis reports that
    the switch holds the flows of everything the Southbound had before."""
    cfg = int(box.sbctl("get", "SB_Global", ".", "nb_cfg").strip()) + 1
    box.sbctl("set", "SB_Global", ".", f"nb_cfg={cfg}")
    procs.wait_until(lambda: int(box.sbctl("get", "Chassis_Private", "hv1", "nb_cfg")
                                 .strip()) >= cfg, timeout=timeout, what=f"hv nb_cfg {cfg}")


def test_bad_southbound_rows_are_reported_once_and_skipped_while_traffic_flows(
        chassis: Chassis) -> None:
    box = chassis.box
    _stop_northd(box)
    dp = _sw0(box)
    log_at = _log_size(box)
    bad = _create_lflow(box, dp, "ingress", 5, 100, BAD_MATCH, "next;")
    _sync_hv(box)
    assert not _flows(box, f"cookie=0x{bad[:8]}/0xffffffff")

    # A port with quotes, a space and a non-ASCII letter is legal; an lflow names it.
    box.sbctl("create", "Port_Binding", f"datapath={dp}", f"logical_port={_quote(ODD_PORT)}",
              "tunnel_key=7")
    # (In the ingress pipeline: an outport match in the egress one would be dropped,
    # as ovn-controller drops it, since the port is not bound to this chassis.)
    odd = _create_lflow(box, dp, "ingress", 5, 150, f"outport == {_quote(ODD_PORT)}",
                        "drop;")
    _sync_hv(box)
    assert _flows(box, f"cookie=0x{odd[:8]}/0xffffffff") == [
        f"cookie=0x70790001{odd[:8]}, table=13, priority=150,reg15=0x7,metadata=0x1 "
        "actions=drop"]

    # What the schema forbids never reaches the controller.
    for row, why in (([f"datapath={dp}", "logical_port=dup", "tunnel_key=1"],
                      "constraint violation"),
                     (["datapath=5b8a4d2e-0000-4000-8000-000000000000", "logical_port=x",
                       "tunnel_key=9"], "referential integrity violation")):
        with pytest.raises(SandboxError, match=why):
            box.sbctl("create", "Port_Binding", *row)

    # Other changes and a recompute do not make the bad lflow speak again.
    box.appctl("controller", "inc-engine/recompute")
    _sync_hv(box)
    reports = [line for line in _log(box, log_at).splitlines() if bad in line]
    assert len(reports) == 1, reports
    assert "|WARN|" in reports[0] and f'error parsing match "{BAD_MATCH}"' in reports[0]
    assert _alive(box) and _replies(chassis.vm1) == 3
    assert _audit(box).splitlines()[-1].startswith("audit: in sync")


def test_acl_on_an_address_set_of_20000_addresses_is_installed_and_traffic_flows(
        chassis: Chassis) -> None:
    box = chassis.box
    addresses = [f"10.{128 + i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(20_000)]
    box.nbctl("create", "Address_Set", "name=big")
    # One value per argument: all of them in one would exceed Linux's 128 kB per argument.
    box.nbctl("add", "Address_Set", "big", "addresses", *addresses, "10.0.0.300", "garbage")
    t0 = time.monotonic()
    box.nbctl("--wait=hv", "acl-add", "sw0", "to-lport", "1001",
              'outport == "vm2" && ip4.src == $big', "drop", timeout=120)
    print(f"ACL on 20,000 addresses: --wait=hv took {time.monotonic() - t0:.2f} s")
    flows = _flows(box, "table=46")
    assert sum(1 for f in flows if "nw_src=10.1" in f and "actions=drop" in f) == 20_000
    assert _alive(box) and procs.daemon_in(box.dir, "northd").is_alive()
    assert _replies(chassis.vm1) == 3
    box.nbctl("--wait=hv", "remove", "Address_Set", "big", "addresses", "10.128.0.7",
              timeout=60)
    assert len(_flows(box, "table=46")) == len(flows) - 1


# -- fuzz -----------------------------------------------------------------------------------

_MATCHES = ("ip4", "ip6", "arp", "icmp4", "tcp && tcp.dst == 80", "udp.dst == 53", "1",
            'inport == "vm1"', 'outport == "vm2"', f"outport == {_quote(ODD_PORT)}",
            "eth.src == 00:00:00:00:01:01", "ip4.src == 10.0.0.1", "ip4.src == 10.0.0.0/8",
            "ip4.dst == {10.0.0.1, 10.0.0.2}", "ip4.src == $as_0", "ip4.dst == $as_1",
            # Not "!= $as_1": four addresses make 63,212 flows (ovn-controller's too).
            "ip4.dst != 10.0.0.1",
            "ip6.src == $as_2", "inport == @pg_0", "outport == @pg_1", "reg0[0] == 1",
            "ct.est && !ct.rel", "eth.dst[40]", "tcp.dst >= 80 && tcp.dst <= 90", "0",
            'is_chassis_resident("vm1")', "eth.type == 0x800 || eth.type == 0x86dd")
#: Actions that let the pipeline go on, and those that end an action list.
_ACTIONS = ("reg0[0] = 1;", "eth.dst <-> eth.src;", "ip.ttl--;", "ct_clear;", "set_queue(5);",
            "ct_commit { ct_label.blocked = 0; };", 'outport = "vm2";', "reg1 = 0x5;",
            "log(verdict=allow);", "flags.loopback = 1;", "ip4.dst = 10.0.0.9;")
_LAST_ACTIONS = ("next;", "output;", "ct_next;", "next(pipeline=egress, table=3);",
                 "ct_lb_mark(backends=10.0.0.5:80,10.0.0.6:80);",
                 "arp { eth.dst = ff:ff:ff:ff:ff:ff; output; };",
                 'clone { outport = "vm1"; output; }; next;', "put_arp(inport, arp.spa, arp.sha);",
                 'outport = "_MC_flood"; output;', "ct_dnat(10.0.0.5);", "tcp_reset { output; };")
_NAMES = ("vm1", "vm2", "vm3", ODD_PORT, "", " ", "tab\there", "\u2603" * 3, "x" * 300,
          "_MC_flood", "p-1", "p-2")
_ADDRESSES = ("10.0.0.1", "10.0.0.2", "10.0.0.0/24", "10.1.2.3", "fe80::1", "::/0",
              "10.0.0.300", "garbage", "", "00:00:00:00:01:01", "1.2.3.4/33")
_PB_TYPES = ("", "", "localnet", "patch", "localport", "l3gateway", "chassisredirect",
             "virtual", "external", "remote", "vtep", "bogus")
_OPTIONS: tuple[dict[str, str], ...] = (
    {}, {"peer": "vm2"}, {"network_name": "phys"}, {"requested-chassis": "hv1"},
    {"virtual-ip": "10.0.0.9", "virtual-parents": "vm1,vm2"}, {"qos_max_rate": "x"})
_MACS = ("00:00:00:00:01:03 10.0.0.3", "unknown", "router", "zz:zz", "00:00:00:00:01:01")
_GARBAGE = '&|!=(){}[]$@";.,:-0123456789abcxyz\u00fc\\ '


class SbFuzzer:
    """Seeded random inserts, updates and deletes of Logical_Flow, Port_Binding,
    Address_Set, Port_Group and Multicast_Group rows of one datapath, from a small
    grammar with garbage mixed in. One transaction (1-3 ops) per :meth:`step`; the
    database refuses some (constraints), which is part of the game."""

    TABLES = ("Logical_Flow", "Logical_Flow", "Logical_Flow", "Port_Binding",
              "Port_Binding", "Address_Set", "Port_Group", "Multicast_Group")

    #: Columns that order the rows found at the start (their UUIDs differ from run to run).
    KEYS = {"Logical_Flow": ("pipeline", "table_id", "priority", "match", "actions"),
            "Port_Binding": ("logical_port",), "Multicast_Group": ("name",),
            "Address_Set": ("name",), "Port_Group": ("name",)}

    def __init__(self, remote: str, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.client = Client(remote, procs.SB_SCHEMA, {t: None for t in (
            *self.KEYS, "Datapath_Binding")})
        self.client.run_until(lambda: self.client.synced, timeout=10)
        self.dp = next(iter(self.client.tables["Datapath_Binding"].rows))
        # The rows the fuzz may update or delete, kept here rather than read from the
        # replica (which may lag the transaction replies), so a seed is reproducible.
        self.rows = {t: [u for u, _ in sorted(self.client.tables[t].rows.items(),
                                               key=lambda ur: [ur[1][c] for c in key])]
                     for t, key in self.KEYS.items()}
        # The VMs' ports stay, so that sw0 stays local and its lflows are translated.
        self.vm_ports = [u for u in self.rows["Port_Binding"] if self.client.tables[
            "Port_Binding"].rows[u]["logical_port"] in ("vm1", "vm2")]
        self.rows["Port_Binding"] = [u for u in self.rows["Port_Binding"]
                                     if u not in self.vm_ports]
        self.steps = 0
        self.outcomes: Counter[str] = Counter()

    def __enter__(self) -> SbFuzzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def summary(self) -> str:
        """What was done and how the database answered."""
        rows = {t: len(rows) for t, rows in self.rows.items()}
        return f"{self.steps} transactions, {dict(self.outcomes)}, fuzzed rows at the end {rows}"

    def step(self) -> None:
        """One random transaction, waited for."""
        ops = [self._op(self.rng.choice(self.TABLES)) for _ in range(self.rng.randint(1, 3))]
        txn = self.client.transact(ops)
        self.client.run_until(lambda: txn.done, timeout=30)
        self.steps += 1
        self.outcomes[f"{txn.status.name} {txn.error or ''}".strip()] += 1
        if txn.status is TxnStatus.SUCCESS:
            for op in ops:
                if isinstance(op, Insert):
                    assert op.uuid is not None
                    self.rows[op.table].append(op.uuid)
                elif isinstance(op, Delete) and op.uuid in self.rows[op.table]:
                    self.rows[op.table].remove(op.uuid)  # a second delete matches nothing

    def _match(self) -> str:
        atoms = self.rng.sample(_MATCHES, self.rng.randint(1, 3))
        if self.rng.random() < 0.5:
            return self._garble(" && ".join(f"({a})" for a in atoms))
        return self._garble(" || ".join(f"({a})" for a in atoms))

    def _actions(self) -> str:
        if self.rng.random() < 0.15:
            return self._garble("drop;")  # OVN takes drop only on its own
        first = self.rng.sample(_ACTIONS, self.rng.randint(0, 3))
        return self._garble(" ".join([*first, self.rng.choice(_LAST_ACTIONS)]))

    def _garble(self, text: str) -> str:
        """Mostly ``text``; sometimes with a few characters changed, or pure noise."""
        roll = self.rng.random()
        if roll < 0.05:
            return "".join(self.rng.choice(_GARBAGE) for _ in range(self.rng.randint(0, 20)))
        if roll < 0.25:
            for _ in range(self.rng.randint(1, 3)):
                at = self.rng.randint(0, len(text))
                text = text[:at] + self.rng.choice(_GARBAGE) + text[at + self.rng.randint(0, 1):]
        return text

    def _row(self, table: str) -> dict[str, object]:
        rng = self.rng
        if table == "Logical_Flow":
            pipeline = rng.choice(("ingress", "egress"))
            return {"logical_datapath": self.dp, "pipeline": pipeline,
                    "table_id": rng.randint(0, 32 if rng.random() < 0.05 else
                                            26 if pipeline == "ingress" else 9),
                    "priority": rng.choice((0, 50, 100, 150, rng.randint(0, 65535))),
                    "match": self._match(), "actions": self._actions()}
        if table == "Port_Binding":
            return {"datapath": self.dp, "logical_port": rng.choice(_NAMES) + rng.choice(
                        ("", "", str(rng.randint(0, 9)))), "tunnel_key": rng.randint(1, 40),
                    "type": rng.choice(_PB_TYPES), "options": rng.choice(_OPTIONS),
                    "mac": rng.sample(_MACS, rng.randint(0, 2))}
        if table == "Multicast_Group":
            ports = self.vm_ports + self.rows["Port_Binding"]
            return {"datapath": self.dp, "tunnel_key": 32768 + rng.randint(0, 8),
                    "name": rng.choice(("_MC_flood", "_MC_unknown", "mc_1", ODD_PORT)),
                    "ports": rng.sample(ports, min(len(ports), rng.randint(0, 4)))}
        members = _ADDRESSES if table == "Address_Set" else _NAMES
        # Southbound port groups are named "<datapath key>_<name>" (sw0's key is 1).
        return {"name": rng.choice(("as_0", "as_1", "as_2", "1_pg_0", "1_pg_1", "pg_1", "")),
                ("addresses" if table == "Address_Set" else "ports"):
                    rng.sample(members, rng.randint(0, 5))}

    def _op(self, table: str) -> Op:
        rows = self.rows[table]
        roll = self.rng.random()
        if not rows or roll < (0.2 if len(rows) > 150 else 0.5):
            return Insert(table, self._row(table), uuid=str(UUID(int=self.rng.getrandbits(128),
                                                                 version=4)))
        uuid = self.rng.choice(rows)
        if roll < 0.8:
            new = self._row(table)
            keep = self.rng.sample(sorted(new), self.rng.randint(1, len(new)))
            return Update(table, uuid, {c: new[c] for c in keep})
        return Delete(table, uuid)


@pytest.mark.slow
def test_southbound_fuzz_never_kills_the_controller_and_ends_equal_to_a_recompute(
        chassis: Chassis) -> None:
    box = chassis.box
    _stop_northd(box)
    pid = procs.daemon_in(box.dir, "controller").pid()
    with SbFuzzer(box.sb_remote, FUZZ_SEED) as fuzzer:
        deadline = time.monotonic() + FUZZ_SECONDS
        while time.monotonic() < deadline and fuzzer.steps < FUZZ_STEPS:
            fuzzer.step()
            if fuzzer.steps % 50 == 0:
                assert _alive(box), f"pyovn-controller died after {fuzzer.steps} steps"
        print(f"fuzz seed {fuzzer.seed}: {fuzzer.summary()}")
    assert procs.daemon_in(box.dir, "controller").pid() == pid and _alive(box)
    _sync_hv(box, timeout=120)
    audit = _audit(box)
    assert audit.splitlines()[-1].startswith("audit: in sync"), audit
    assert "different on the switch" not in audit and "missing" not in audit

    before, sent = _flows(box), _flow_mods_sent(box)
    lflows = {u[:8] for u in box.sbctl("--bare", "--columns=_uuid", "list",
                                       "Logical_Flow").split()}
    translated = lflows & {_cookie(f)[-8:] for f in before}
    print(f"{len(translated)} of {len(lflows)} lflows have flows on the switch")
    assert len(translated) >= len(lflows) // 10
    box.appctl("controller", "inc-engine/recompute")
    _sync_hv(box, timeout=120)
    assert _flows(box) == before
    assert _flow_mods_sent(box) == sent

    # A new process computes the same from scratch (group ids aside: see
    # test_restart_after_lflows_with_groups_arrived_out_of_uuid_order_sends_no_flow_mods).
    renumbered = _without_group_ids(box)
    procs.stop_daemon(procs.daemon_in(box.dir, "controller"))
    box.start_controller("pyovn")
    _sync_hv(box, timeout=120)
    assert _without_group_ids(box) == renumbered
    log = _log(box)
    assert "internal error" not in log and "Traceback" not in log


def _without_group_ids(box: Sandbox) -> tuple[list[str], list[str]]:
    """br-int's flows and groups, group ids left out."""
    groups = box.ofctl("dump-groups", "br-int").splitlines()[1:]
    return (sorted(re.sub(r"group:\d+", "group:*", f) for f in _flows(box)),
            sorted(re.sub(r"group_id=\d+", "group_id=*", g.strip()) for g in groups))


def _insert_lflow(box: Sandbox, uuid: str, match: str, actions: str) -> None:
    """An ingress table 5 lflow on sw0 with a chosen UUID (ovn-sbctl cannot choose)."""
    with Client(box.sb_remote, procs.SB_SCHEMA, {"Datapath_Binding": None}) as client:
        client.commit(lambda: [Insert("Logical_Flow", {
            "logical_datapath": next(iter(client.tables["Datapath_Binding"].rows)),
            "pipeline": "ingress", "table_id": 5, "priority": 100, "match": match,
            "actions": actions}, uuid=uuid)])


def test_restart_after_lflows_with_groups_arrived_out_of_uuid_order_sends_no_flow_mods(
        chassis: Chassis) -> None:
    box = chassis.box
    _stop_northd(box)
    for uuid, backends in (("99999999-0000-4000-8000-000000000000", "10.0.0.5:80"),
                           ("11111111-0000-4000-8000-000000000000", "10.0.0.6:80")):
        _insert_lflow(box, uuid, f"ip4.dst == 10.0.9.{uuid[0]}",
                      f"ct_lb_mark(backends={backends});")
        _sync_hv(box)
    groups = box.ofctl("dump-groups", "br-int")
    assert "10.0.0.5:80" in groups and "10.0.0.6:80" in groups
    before = (_flows(box), groups)
    procs.stop_daemon(procs.daemon_in(box.dir, "controller"))
    box.start_controller("pyovn")
    _sync_hv(box)
    assert _flow_mods_sent(box) == 0
    assert (_flows(box), box.ofctl("dump-groups", "br-int")) == before
