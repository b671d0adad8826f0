"""Benchmark ``restarts``: what restarting the controller or ovs-vswitchd costs the data
plane and the switch, pyovn-northd + pyovn-controller against ovn-northd + ovn-controller
23.03, each stack in a sandbox of its own, same run.

Each sandbox gets N bound ports (:func:`bench.system_scale.populate`, 10 switches) and two
namespace VMs on a switch of their own; ``ping -i 0.01`` runs from one VM to the other
around every attempt (:class:`~pyovn.sandbox.outage.BackgroundPing`). The scenarios
(:data:`bench.restarts_report.SCENARIOS`): the controller stopped by SIGTERM, killed by
SIGKILL, each started again; ovs-vswitchd restarted with empty tables, and restarted with
its flows saved and restored as ``ovs-ctl --save-flows`` does. Figures per attempt: the
longest gap between replies, packets lost, the flow_mods and group_mods ovs-vswitchd
received (its ``vconn`` debug log, :class:`~pyovn.sandbox.outage.OpenFlowModCounter`;
after a switch restart the new switch logs from its first message, and the restore's own
``ovs-ofctl`` connections are left out), and the time until ``ovn-nbctl --wait=hv sync``
returns. Medians over ``--repeat`` clean attempts; an attempt is spoilt, and made again,
when ovs-vswitchd reconfigured because of host interface events (as in
tests/e2e/test_hitless_restart.py; for a switch restart, whose new switch always
reconfigures, when ``ip monitor link`` saw another program's interface change).

    python -m bench.restarts [--sizes 2000,5000] [--repeat 3] [--stacks ovn,pyovn]
                             [--scenarios sigterm,sigkill,vswitchd,vswitchd_restore]
                             [--out DIR]

Writes ``restarts.md``, ``restarts.json`` and ``restarts_outage.png``
(:mod:`bench.restarts_report`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import restarts_report, system_scale
from bench.restarts_probes import (
    VCONN_DROPPED_RE,
    BackgroundSync,
    Figures,
    HostLinkMonitor,
    mod_figures,
    ofctl_connections,
    table_figures,
    vconn_debug_from_start,
    wait_controller_resynced,
)
from pyovn.errors import SandboxError
from pyovn.sandbox import procs
from pyovn.sandbox.outage import BackgroundPing, OpenFlowModCounter, flow_table
from pyovn.sandbox.sandbox import Sandbox, Stack
from pyovn.sandbox.vconn_log import parse_vswitchd_log
from pyovn.sandbox.vm import Vm, add_vm_port

DEFAULT_SIZES = (2000,)
VMS = (("vm1", "0a:00:00:00:77:01", "172.31.77.1/24"),
       ("vm2", "0a:00:00:00:77:02", "172.31.77.2/24"))
VM2_IP = "172.31.77.2"
#: Replies before the restart (traffic flows to begin with) and after ``--wait=hv``
#: returned (traffic flows again; a late hit would show).
REPLIES_BEFORE = 20
REPLIES_AFTER = 30


# --- the chassis -------------------------------------------------------------------------

@dataclass(frozen=True)
class Chassis:
    """A sandbox with its ports bound, its stack, and the VM the ping starts from."""

    box: Sandbox
    stack: Stack
    vm1: Vm
    #: Host interfaces of the VMs (their events are the benchmark's own).
    ours: frozenset[str]


def _ports_up(box: Sandbox) -> int:
    out = box.sbctl("--bare", "--columns=logical_port", "find", "Port_Binding", "up=true",
                    timeout=120)
    return len(out.split())


def _wait_flows_settled(box: Sandbox, timeout: float = 300.0, reads: int = 4) -> int:
    """Wait until br-int's flow count is the same ``reads`` times in a row, a second
    apart; return it. (A loaded controller may pause over a second between batches.)"""
    deadline = time.monotonic() + timeout
    counts: list[int] = []
    while time.monotonic() < deadline:
        counts = [*counts[-(reads - 1):], system_scale.openflow_flows(box)]
        if len(counts) == reads and len(set(counts)) == 1:
            return counts[0]
        time.sleep(1.0)
    raise SandboxError(f"br-int's flows still changing after {timeout:g} s: {counts}")


def prepare(box: Sandbox, stack: Stack, ports: int) -> Chassis:
    """The two VMs (on switch ``vmsw``) and ``ports`` bound ports, every port up, the
    flows installed and the VMs reaching each other."""
    box.nbctl("ls-add", "vmsw")
    vms = []
    for name, mac, ip in VMS:
        # Before the bulk: adding a port to a switch with thousands is slow.
        vms.append(add_vm_port(box, "vmsw", name, mac, ip))
    system_scale.populate(box, ports)
    box.nbctl("--wait=hv", "sync", timeout=900)
    deadline = time.monotonic() + 900
    while _ports_up(box) < ports + len(VMS):  # each look costs the stacks CPU: seldom
        if time.monotonic() > deadline:
            raise SandboxError(f"{ports + len(VMS)} ports not up within 900 s")
        time.sleep(1.0)
    box.nbctl("--wait=hv", "sync", timeout=300)
    _wait_flows_settled(box)
    if vms[0].ping(VM2_IP, count=3).received == 0:
        raise SandboxError("vm1 cannot reach vm2 before any restart")
    return Chassis(box, stack, vms[0], frozenset(vm.host_ifname for vm in vms))


# --- one attempt -------------------------------------------------------------------------

def _ping_figures(ping: BackgroundPing) -> Figures:
    stats = ping.stop()
    return {"outage_ms": stats.max_gap_ms, "lost": stats.lost,
            "transmitted": stats.transmitted, "received": stats.received,
            "longest_loss_run": stats.longest_loss_run, "gap_end": stats.gap_end}


def restart_controller(chassis: Chassis, how: signal.Signals) -> Figures:
    """Stop the controller with ``how``; start ``ovn-nbctl --wait=hv sync`` while it is
    down and the controller again; wait for the sync and for traffic."""
    box = chassis.box
    controller = procs.daemon_in(box.dir, "controller")
    before = flow_table(box)
    crashes = box.controller_crashes
    with (HostLinkMonitor(chassis.ours) as links, BackgroundPing(chassis.vm1, VM2_IP) as ping,
          OpenFlowModCounter(box) as counter, ExitStack() as stack):
        ping.wait_replies(REPLIES_BEFORE, timeout=30)
        pid = controller.pid()
        if pid is None or not procs.pid_alive(pid):
            raise SandboxError(f"the controller is not running (see {controller.logfile})")
        t0 = time.monotonic()
        os.kill(pid, how)
        procs.wait_until(lambda: not procs.pid_alive(pid), 30, "the controller to exit")
        procs.reap(pid)
        sync = stack.enter_context(BackgroundSync(box))
        box.start_controller(chassis.stack)
        figures: Figures = {"sync_s": sync.wait() - t0}
        ping.wait_replies(ping.replies() + REPLIES_AFTER, timeout=120)
        figures.update(_ping_figures(ping))
        mods = counter.stop()
        others = links.stop()
    after = flow_table(box)
    figures.update(mod_figures(mods.mods))
    coverage = dict(mods.coverage)
    figures.update({
        "reconfigured": mods.switch_reconfigured, "coverage": coverage,
        "host_link_events": others, "controller_crashes": box.controller_crashes - crashes})
    figures.update(table_figures(before, after))
    if figures["controller_crashes"]:
        figures["spoilt"] = "the controller died at start-up and was started again"
    elif mods.switch_reconfigured and coverage.get("nln_changed", 0) > 0:
        figures["spoilt"] = "ovs-vswitchd reconfigured on host interface events"
    return figures


def restart_switch(chassis: Chassis, restore: bool) -> Figures:
    """Restart ovs-vswitchd (with its flows restored when ``restore``); then wait for
    ``ovn-nbctl --wait=hv sync`` and for traffic."""
    box = chassis.box
    logfile = procs.daemon_in(box.dir, "ovs-vswitchd").logfile
    before = flow_table(box)
    with (HostLinkMonitor(chassis.ours) as links,
          BackgroundPing(chassis.vm1, VM2_IP) as ping, ExitStack() as stack):
        ping.wait_replies(REPLIES_BEFORE, timeout=30)
        offset = logfile.stat().st_size
        # Turns the old switch's vconn logging on now, and the new one's back off at the
        # end (its coverage figures span two processes and mean nothing here).
        counter = stack.enter_context(OpenFlowModCounter(box))
        t0 = time.monotonic()
        with vconn_debug_from_start(box) as split:
            box.restart_vswitchd(restore_flows=restore)
        restarted, ready = time.monotonic(), time.time()
        sync = stack.enter_context(BackgroundSync(box))
        figures: Figures = {"restart_s": restarted - t0, "sync_s": sync.wait() - t0}
        if split.offset is None:
            raise SandboxError("ovs-vswitchd was not started again through start_detached")
        wait_controller_resynced(logfile, split.offset)
        ping.wait_replies(ping.replies() + REPLIES_AFTER, timeout=120)
        figures.update(_ping_figures(ping))
        counter.stop()
        others = links.stop()
    if isinstance(figures["gap_end"], float):
        # The switch's own start-up ends here: it has detached (initial configuration
        # done, socket up) and, with the flows restored, flow-restore-wait is gone.
        figures["resumed_ms"] = (figures["gap_end"] - ready) * 1000
    after = flow_table(box)
    with logfile.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    cut = split.offset - offset
    old, new = text[:cut], text[cut:]
    restorers = ofctl_connections(new)
    new_mods = parse_vswitchd_log(new).mods
    mods = [*parse_vswitchd_log(old).mods, *(m for m in new_mods if m.connection not in restorers)]
    restored = [m for m in new_mods if m.connection in restorers]
    figures.update(mod_figures(mods))
    figures["host_link_events"] = others
    figures.update(table_figures(before, after))
    exact = VCONN_DROPPED_RE.search(text) is None
    if restore:
        saved = sum(len((box.dir / f"saved-{kind}-br-int.txt").read_text().splitlines())
                    for kind in ("flows", "groups"))
        figures["restore_mods"] = len(restored)
        exact = exact and len(restored) == saved
    else:
        # The new switch started empty: each flow it holds came with a logged ADD.
        exact = exact and figures["flow_mod_commands"].get("ADD", 0) >= len(after)
    figures["mods_exact"] = exact
    if others:
        figures["spoilt"] = "host interface events: " + ", ".join(others[:5])
    return figures


ATTEMPTS: dict[str, Callable[[Chassis], Figures]] = {
    "sigterm": lambda c: restart_controller(c, signal.SIGTERM),
    "sigkill": lambda c: restart_controller(c, signal.SIGKILL),
    "vswitchd": lambda c: restart_switch(c, restore=False),
    "vswitchd_restore": lambda c: restart_switch(c, restore=True),
}


def measure(chassis: Chassis, key: str, repeat: int) -> Figures:
    """``repeat`` clean attempts of scenario ``key`` (at most ``2 * repeat`` attempts),
    summarised."""
    attempts: list[Figures] = []
    while (sum(1 for a in attempts if not a.get("spoilt")) < repeat
           and len(attempts) < 2 * repeat):
        attempt = ATTEMPTS[key](chassis)
        attempts.append(attempt)
        print(f"   {key}: outage {attempt['outage_ms']:.0f} ms, lost {attempt['lost']}, "
              f"{attempt['flow_mods']} flow_mods, {attempt['group_mods']} group_mods, "
              f"sync {attempt['sync_s']:.2f} s"
              + (f" — spoilt: {attempt['spoilt']}" if attempt.get("spoilt") else ""),
              flush=True)
    return restarts_report.summarise(attempts)


def run_stack(stack: Stack, ports: int, repeat: int, scenarios: Sequence[str]) -> Figures:
    """Every scenario for one stack at one size, in a sandbox of its own."""
    t0 = time.monotonic()
    result: Figures = {"ports": ports, "scenarios": {}}
    with system_scale.stack_sandbox(stack, prefix="pyovn-bench-restarts-") as box:
        chassis = prepare(box, stack, ports)
        result["setup_s"] = time.monotonic() - t0
        result["openflow_flows"] = system_scale.openflow_flows(box)
        for key in scenarios:
            result["scenarios"][key] = measure(chassis, key, repeat)
        result["controller_crashes"] = box.controller_crashes
    result["elapsed_s"] = time.monotonic() - t0
    return result


# --- command line --------------------------------------------------------------------------

def write(results: dict[str, Any], out: Path, plots: bool) -> None:
    """``restarts.json``, the plot and ``restarts.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "restarts.json").write_text(json.dumps(results, indent=2) + "\n")
    names = restarts_report.plot(results, out) if plots else []
    (out / "restarts.md").write_text(restarts_report.markdown(results, names))


def main(argv: Sequence[str] | None = None) -> int:
    """Run both stacks at every size; print the report; with --out write it and the plot."""
    from bench.__main__ import machine_facts

    ap = argparse.ArgumentParser(prog="python -m bench.restarts",
                                 description=(__doc__ or "").split("\n\n")[0])
    system_scale.add_size_args(ap, DEFAULT_SIZES)
    ap.add_argument("--repeat", type=int, default=3,
                    help="clean attempts per scenario, whose median is reported")
    system_scale.add_stacks_arg(ap)
    ap.add_argument("--scenarios", default=",".join(restarts_report.SCENARIO_KEYS))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    sizes = system_scale.chosen_sizes(args, DEFAULT_SIZES)
    stacks = system_scale.chosen_stacks(ap, args)
    scenarios = args.scenarios.split(",")
    for key in scenarios:
        if key not in ATTEMPTS:
            ap.error(f"unknown scenario {key!r} (expected {', '.join(ATTEMPTS)})")
    if not 1 <= args.repeat <= 20:
        ap.error("--repeat must be 1..20")
    procs.become_subreaper()
    started = time.monotonic()
    results: dict[str, Any] = {"repeat": args.repeat, "sizes": sizes,
                               "machine": machine_facts(), "runs": {}}
    failed = system_scale.run_all(
        results, sizes, stacks,
        lambda name, n: run_stack(system_scale.STACKS[name], n, args.repeat, scenarios),
        lambda f: f"setup {f['setup_s']:.0f} s, run {f['elapsed_s']:.0f} s",
        args.out / "restarts.json" if args.out is not None else None)
    print(restarts_report.markdown(results))
    print(f"restarts: {time.monotonic() - started:.0f} s in all", flush=True)
    if args.out is not None:
        write(results, args.out, plots=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
