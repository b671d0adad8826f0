"""Benchmark ``system``: pyovn-northd + pyovn-controller against ovn-northd + ovn-controller
23.03, full stacks on the same scenario, same run.

For each size N and each stack, in a sandbox of its own (one chassis, ``br-int`` on the
dummy datapath), measured the same way:

- bulk: N ports (MAC + IPv4) over 10 switches, the Northbound in batched ``ovn-nbctl``
  calls and one OVS dummy interface per port (``external_ids:iface-id``) in batched
  ``ovs-vsctl --no-wait`` calls, timed from the first call until ``ovn-nbctl --wait=hv
  sync`` returns, and until every Port_Binding is ``up``;
- then logical flows (SB), OpenFlow flows on br-int (``ovs-ofctl dump-aggregate``), RSS,
  peak RSS and CPU seconds of northd and controller (``/proc/PID/status``, ``stat``);
- incremental at size N, median of ``--repeat`` runs, each followed by an untimed
  ``--wait=hv sync`` so that no step pays for the previous one: NB port add, ACL add,
  address-set member add (the set is used by an ACL), port-group member add (the group
  is used by an ACL), deletion of a bound port — all ``--wait=hv`` — and port bind: the
  OVS interface of an existing port added (``ovs-vsctl --no-wait``), timed until
  ``ovn-installed`` is on the interface and until the Port_Binding is ``up`` (seen by
  monitoring clients; this includes ovs-vswitchd adding the port, same for both).

    python -m bench.system_scale [--sizes 1000,2000] [--repeat 5] [--stacks ovn,pyovn]
                                 [--out DIR]

Writes ``system.md``, ``system.json`` and the PNG plots of :mod:`bench.system_report`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ovs.poller

from bench import system_report
from pyovn.ovsdb import Client
from pyovn.sandbox import procs
from pyovn.sandbox.outage import batched
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig, Stack

SWITCHES = 10
DEFAULT_SIZES = (1000, 2000)
#: Ports per ``ovn-nbctl`` call (two commands each) and per ``ovs-vsctl`` call.
NB_BATCH = 300
OVS_BATCH = 250
#: Port-group members present before the member-add runs (ports sw2-p0 .. p9).
PG_MEMBERS = 10
STACKS: dict[str, Stack] = {"ovn": "ovn", "pyovn": "pyovn"}
Figures = dict[str, Any]


# --- building the scenario ---------------------------------------------------------------

def port_name(switch: int, index: int) -> str:
    """The logical port ``index`` of switch ``switch``."""
    return f"sw{switch}-p{index}"


def ports_per_switch(ports: int) -> list[int]:
    """How many of ``ports`` each of the :data:`SWITCHES` switches gets."""
    return [ports // SWITCHES + (1 if s < ports % SWITCHES else 0) for s in range(SWITCHES)]


def _addresses(switch: int, index: int) -> str:
    return (f"00:00:{switch:02x}:00:{index >> 8:02x}:{index & 255:02x} "
            f"10.{switch}.{index // 250}.{index % 250 + 1}")


def populate(sb: Sandbox, ports: int) -> tuple[float, float]:
    """Create ``ports`` logical ports over the switches and bind each one to a dummy OVS
    interface (``vifS-I``), in batched calls; wait neither for ovs-vswitchd nor for the
    chassis. Returns the seconds spent in the ``ovn-nbctl`` and ``ovs-vsctl`` calls."""
    nb: list[list[str]] = [["ls-add", f"sw{s}"] for s in range(SWITCHES)]
    ovs: list[list[str]] = []
    for s, count in enumerate(ports_per_switch(ports)):
        for i in range(count):
            name = port_name(s, i)
            nb += [["lsp-add", f"sw{s}", name], ["lsp-set-addresses", name, _addresses(s, i)]]
            ovs += [["add-port", "br-int", f"vif{s}-{i}"],
                    ["set", "Interface", f"vif{s}-{i}", "type=dummy",
                     f"external_ids:iface-id={name}"]]
    t0 = time.perf_counter()
    for argv in batched(nb, 2 * NB_BATCH):
        sb.nbctl(*argv, timeout=600)
    t1 = time.perf_counter()
    # --no-wait: ovs-vsctl would otherwise wait for ovs-vswitchd to reconfigure after
    # every batch, and the bulk would time that serialisation, not the stack.
    for argv in batched(ovs, 2 * OVS_BATCH):
        sb.vsctl("--no-wait", *argv, timeout=600)
    return t1 - t0, time.perf_counter() - t1


@contextmanager
def stack_sandbox(stack: Stack, prefix: str = "pyovn-bench-system-") -> Iterator[Sandbox]:
    """A started sandbox running ``stack``'s northd and controller, its chassis registered
    and synced (``--wait=hv``); always stopped on exit."""
    with tempfile.TemporaryDirectory(prefix=f"{prefix}{stack}-") as tmp:
        sb = Sandbox(Path(tmp))
        try:
            sb.start(SandboxConfig(northd=stack, controller=stack))
            procs.wait_until(lambda: bool(sb.sbctl("--bare", "--columns=name", "list",
                                                   "Chassis").strip()),
                             timeout=60, what="chassis registered")
            sb.nbctl("--wait=hv", "sync", timeout=120)
            yield sb
        finally:
            sb.stop()
            procs.stop_all_in(sb.dir)


# --- reading figures -----------------------------------------------------------------------

def proc_usage(pid: int) -> dict[str, float]:
    """RSS and peak RSS (MB) and CPU seconds (user + system) of ``pid``, from /proc."""
    status = {line.split(":")[0]: line.split()[1:2]
              for line in Path(f"/proc/{pid}/status").read_text().splitlines()}
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return {"rss_mb": int(status["VmRSS"][0]) / 1024,
            "peak_rss_mb": int(status["VmHWM"][0]) / 1024,
            "cpu_s": ticks / os.sysconf("SC_CLK_TCK")}


def _pid(sb: Sandbox, daemon: str) -> int:
    pid = procs.daemon_in(sb.dir, daemon).pid()
    if pid is None or not procs.pid_alive(pid):
        raise RuntimeError(f"{daemon} is not running (see {sb.dir / (daemon + '.log')})")
    return pid


def openflow_flows(sb: Sandbox) -> int:
    """Flows in br-int, as ``ovs-ofctl dump-aggregate`` counts them."""
    match = re.search(r"flow_count=(\d+)", sb.ofctl("dump-aggregate", "br-int"))
    if match is None:
        raise RuntimeError("ovs-ofctl dump-aggregate gave no flow_count")
    return int(match.group(1))


def logical_flows(sb: Sandbox) -> int:
    """Rows of the Southbound Logical_Flow table."""
    out = sb.sbctl("--bare", "--columns=_uuid", "list", "Logical_Flow", timeout=120)
    return sum(1 for line in out.splitlines() if line.strip())


class Watcher:
    """Monitoring clients of the Southbound Port_Binding and the OVS Interface tables:
    they see a binding appear without polling through a command line."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = Client(sb.sb_remote, procs.SB_SCHEMA, {"Port_Binding": ["logical_port", "up"]},
                         name="bench-sb", track_changes=False)
        self.ovs = Client(sb.ovs_remote, procs.VSWITCH_SCHEMA,
                          {"Interface": ["name", "ofport", "external_ids"]}, name="bench-ovs",
                          track_changes=False)
        self.wait_for(lambda: self.sb.synced and self.ovs.synced, timeout=120)

    def close(self) -> None:
        """Disconnect both clients."""
        self.sb.close()
        self.ovs.close()

    def up_ports(self) -> set[str]:
        """Logical ports whose Port_Binding says ``up``."""
        return {r["logical_port"] for r in self.sb.tables["Port_Binding"].rows.values()
                if r["up"] is True}

    def installed(self, iface: str) -> bool:
        """Whether ``iface`` carries ``external_ids:ovn-installed=true``."""
        return any(r["name"] == iface and r["external_ids"].get("ovn-installed") == "true"
                   for r in self.ovs.tables["Interface"].rows.values())

    def has_ofport(self, iface: str) -> bool:
        """Whether ovs-vswitchd has given ``iface`` an OpenFlow port number."""
        return any(r["name"] == iface and isinstance(r["ofport"], int) and r["ofport"] > 0
                   for r in self.ovs.tables["Interface"].rows.values())

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> float:
        """Process updates until ``predicate()``; return the ``perf_counter`` then."""
        deadline = time.monotonic() + timeout
        while True:
            self.sb.run()
            self.ovs.run()
            if predicate():
                return time.perf_counter()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"bench watcher: condition not met within {timeout:g} s")
            poller = ovs.poller.Poller()
            self.sb.wait(poller)
            self.ovs.wait(poller)
            poller.timer_wait(int(min(remaining, 1.0) * 1000) + 1)
            poller.block()


# --- measuring -----------------------------------------------------------------------------

def measure_bulk(sb: Sandbox, ports: int) -> Figures:
    """Bulk convergence and the resulting sizes and resource use."""
    result: Figures = {"ports": ports}
    t0 = time.perf_counter()
    result["bulk_nbctl_s"], result["bulk_vsctl_s"] = populate(sb, ports)
    sb.nbctl("--wait=hv", "sync", timeout=3600)
    t_sync = time.perf_counter()
    result["bulk_wait_hv_s"] = t_sync - t0
    watcher = Watcher(sb)
    try:
        # Ports already up when the watcher first looks count as up when --wait=hv
        # returned (the watcher's own connection time is not charged to the stack).
        if len(watcher.up_ports()) >= ports:
            result["bulk_all_up_s"] = result["bulk_wait_hv_s"]
        else:
            all_up = watcher.wait_for(lambda: len(watcher.up_ports()) >= ports, timeout=3600)
            result["bulk_all_up_s"] = all_up - t0
    finally:
        watcher.close()
    result["lflows"] = logical_flows(sb)
    result["openflow_flows"] = openflow_flows(sb)
    for daemon in ("northd", "controller"):
        usage = proc_usage(_pid(sb, daemon))
        result[f"{daemon}_rss_mb"] = usage["rss_mb"]
        result[f"{daemon}_peak_rss_mb"] = usage["peak_rss_mb"]
        result[f"{daemon}_cpu_s"] = usage["cpu_s"]
    return result


def _setup_incremental(sb: Sandbox, repeat: int) -> list[str]:
    """Untimed: an address set and a port group each used by an ACL, and the logical
    ports the port-bind runs will bind. Returns the UUIDs of the ports the port-group
    runs will add."""
    members = [port_name(2, i) for i in range(PG_MEMBERS)]
    cmds = [["create", "Address_Set", "name=bench_as", "addresses=10.99.0.1"],
            ["acl-add", "sw0", "from-lport", "1001", "ip4.src == $bench_as", "drop"],
            ["pg-add", "bench_pg", *members],
            ["acl-add", "bench_pg", "to-lport", "1002",
             "outport == @bench_pg && ip4.src == 10.97.0.0/16", "drop"]]
    for i in range(repeat):
        cmds += [["lsp-add", "sw0", f"bench-b{i}"],
                 ["lsp-set-addresses", f"bench-b{i}", f"00:00:99:00:01:{i:02x} 10.99.1.{i + 1}"]]
    for argv in batched(cmds, len(cmds)):
        sb.nbctl("--wait=hv", *argv, timeout=600)
    return [sb.nbctl("get", "Logical_Switch_Port", port_name(2, PG_MEMBERS + i), "_uuid").strip()
            for i in range(repeat)]


def measure_incremental(sb: Sandbox, repeat: int) -> Figures:
    """The incremental steps, ``repeat`` runs each; medians, every run, CPU used."""
    pg_uuids = _setup_incremental(sb, repeat)
    watcher = Watcher(sb)
    runs: dict[str, list[float]] = {key: [] for key, _ in system_report.INCREMENTAL}

    def settle() -> None:
        # Untimed: whatever a step set off (ports going up, NB up= columns) is done
        # before the next step starts, and the watcher has read it.
        sb.nbctl("--wait=hv", "sync", timeout=600)
        watcher.sb.run()
        watcher.ovs.run()

    def nb_step(key: str, *args: str) -> None:
        t0 = time.perf_counter()
        sb.nbctl("--wait=hv", *args, timeout=600)
        runs[key].append(time.perf_counter() - t0)
        settle()

    def bind_step(i: int) -> None:
        seen = bind_port(sb, watcher, f"bench-b{i}", f"bvif{i}", up=True)
        t0 = seen["t0"]
        runs["port_bind_ofport"].append(seen["ofport"] - t0)
        runs["port_bind_installed"].append(seen["installed"] - t0)
        runs["port_bind_after_ofport"].append(seen["installed"] - seen["ofport"])
        runs["port_bind_up"].append(seen["up"] - t0)
        settle()

    before = {d: proc_usage(_pid(sb, d))["cpu_s"] for d in ("northd", "controller")}
    try:
        for i in range(repeat):
            nb_step("port_add", "lsp-add", "sw0", f"bench-a{i}", "--", "lsp-set-addresses",
                    f"bench-a{i}", f"00:00:99:00:00:{i:02x} 10.99.0.{i + 10}")
            bind_step(i)
            nb_step("acl_add", "acl-add", "sw1", "from-lport", "1000",
                    f"ip4.dst == 10.98.0.{i + 1}", "drop")
            nb_step("address_set_add", "add", "Address_Set", "bench_as", "addresses",
                    f"10.99.2.{i + 1}")
            nb_step("port_group_add", "add", "Port_Group", "bench_pg", "ports", pg_uuids[i])
            nb_step("port_del", "lsp-del", f"bench-b{i}")
    finally:
        watcher.close()
    result: Figures = {}
    for d in ("northd", "controller"):
        result[f"{d}_incremental_cpu_s"] = proc_usage(_pid(sb, d))["cpu_s"] - before[d]
    for key, times in runs.items():
        result[f"{key}_s"] = statistics.median(times)
        result[f"{key}_runs_s"] = times
    return result


def bind_port(sb: Sandbox, watcher: Watcher, lport: str, iface: str, *,
              up: bool) -> dict[str, float]:
    """Bind ``lport`` to a new dummy interface ``iface``; return when (perf_counter) the
    step started (``t0``), the interface got its ofport, ovn-installed (and, with
    ``up``, the port went up in the Northbound)."""
    seen: dict[str, float] = {}
    wanted = 3 if up else 2

    def bound() -> bool:
        now = time.perf_counter()
        if "ofport" not in seen and watcher.has_ofport(iface):
            seen["ofport"] = now
        if "installed" not in seen and watcher.installed(iface):
            seen["installed"] = now
        if up and "up" not in seen and lport in watcher.up_ports():
            seen["up"] = now
        return len(seen) == wanted

    # --no-wait: the step ends when the binding shows, which needs ovs-vswitchd to
    # have added the port anyway; waiting for it inside ovs-vsctl would only delay
    # when this process starts looking.
    t0 = time.perf_counter()
    sb.vsctl("--no-wait", "add-port", "br-int", iface, "--", "set", "Interface", iface,
             "type=dummy", f"external_ids:iface-id={lport}")
    watcher.wait_for(bound, timeout=600)
    return {"t0": t0, **seen}


def run_stack(stack: Stack, ports: int, repeat: int) -> Figures:
    """Every figure of one stack at one size, in a sandbox of its own."""
    t0 = time.monotonic()
    with stack_sandbox(stack) as sb:
        result = measure_bulk(sb, ports)
        result.update(measure_incremental(sb, repeat))
        result["controller_restarts_at_start"] = sb.controller_crashes
    result["elapsed_s"] = time.monotonic() - t0
    return result


# --- command line --------------------------------------------------------------------------

def parse_sizes(text: str) -> list[int]:
    """``"2000,1000,2000"`` → ``[1000, 2000]``: positive, unique, ascending."""
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of port counts: {text!r}") from None
    if not sizes or sizes[0] <= 0:
        raise argparse.ArgumentTypeError(f"not a list of positive port counts: {text!r}")
    return sizes


def add_size_args(ap: argparse.ArgumentParser, default: Sequence[int]) -> None:
    """``--sizes`` and ``--size``, as every sized benchmark takes them."""
    ap.add_argument("--sizes", type=parse_sizes, default=[],
                    help="comma-separated port counts (default: "
                    + ",".join(map(str, default)) + ")")
    ap.add_argument("--size", type=int, action="append", default=[],
                    help="a port count (repeatable; with --sizes, all of them)")


def chosen_sizes(args: argparse.Namespace, default: Sequence[int]) -> list[int]:
    """The sizes ``--sizes`` and ``--size`` asked for, else ``default``."""
    return sorted(set(args.sizes) | set(args.size)) or list(default)


def add_stacks_arg(ap: argparse.ArgumentParser) -> None:
    """``--stacks``, as every benchmark comparing the two stacks takes it."""
    ap.add_argument("--stacks", default="ovn,pyovn", help="comma-separated: ovn, pyovn")


def chosen_stacks(ap: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The stacks ``--stacks`` names (an unknown one is a usage error)."""
    names: list[str] = args.stacks.split(",")
    for name in names:
        if name not in STACKS:
            ap.error(f"unknown stack {name!r} (expected ovn, pyovn)")
    return names


def run_all(results: dict[str, Any], sizes: Sequence[int], stacks: Sequence[str],
            run: Callable[[str, int], dict[str, Any]],
            summary: Callable[[dict[str, Any]], str], json_out: Path | None) -> bool:
    """``run(stack, ports)`` for every size and stack into ``results["runs"]`` (a run
    that fails records its error; the others still count), ``json_out`` rewritten after
    every run so that a long run keeps what it measured. True if any run failed."""
    started = time.monotonic()
    failed = False
    for n in sizes:
        for name in stacks:
            print(f"-- {name}: {n} ports", flush=True)
            try:
                figures = run(name, n)
            except Exception as exc:
                traceback.print_exc()
                figures = {"ports": n, "error": f"{type(exc).__name__}: {exc}"}
                failed = True
            else:
                print(f"   {summary(figures)}", flush=True)
            results["runs"].setdefault(str(n), {})[name] = figures
            results["elapsed_s"] = time.monotonic() - started
            if json_out is not None:
                json_out.parent.mkdir(parents=True, exist_ok=True)
                json_out.write_text(json.dumps(results, indent=2) + "\n")
    return failed


def write(results: dict[str, Any], out: Path, plots: bool) -> None:
    """``system.json``, the plots and ``system.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "system.json").write_text(json.dumps(results, indent=2) + "\n")
    names = system_report.plot(results, out) if plots else []
    (out / "system.md").write_text(system_report.markdown(results, names))


def main(argv: Sequence[str] | None = None) -> int:
    """Run both stacks at every size; print the tables; with --out write them and plots."""
    from bench.__main__ import machine_facts

    ap = argparse.ArgumentParser(prog="python -m bench.system_scale",
                                 description=(__doc__ or "").split("\n\n")[0])
    add_size_args(ap, DEFAULT_SIZES)
    ap.add_argument("--repeat", type=int, default=5, help="runs per incremental step")
    add_stacks_arg(ap)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    sizes = chosen_sizes(args, DEFAULT_SIZES)
    stacks = chosen_stacks(ap, args)
    if not 1 <= args.repeat <= 50:
        ap.error("--repeat must be 1..50")
    smallest = SWITCHES * (PG_MEMBERS + args.repeat)
    if sizes[0] < smallest:
        ap.error(f"sizes below {smallest} ports leave too few ports per switch")
    procs.become_subreaper()
    results: dict[str, Any] = {"switches": SWITCHES, "repeat": args.repeat, "sizes": sizes,
                               "machine": machine_facts(), "runs": {}}
    failed = run_all(
        results, sizes, stacks, lambda name, n: run_stack(STACKS[name], n, args.repeat),
        lambda f: f"bulk {f['bulk_wait_hv_s']:.2f} s, run {f['elapsed_s']:.0f} s",
        args.out / "system.json" if args.out is not None else None)
    print(system_report.markdown(results))
    if args.out is not None:
        write(results, args.out, plots=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
