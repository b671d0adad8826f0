"""Profiles of pyovn-controller and pyovn-northd on the ``system`` benchmark's scenario
(see docs/performance.md for what they showed).

The daemon under study runs in the foreground of a wrapper (this module's ``daemon``
command) in a sandbox whose own northd / controller is ``none``; the driver builds
the scenario of :mod:`bench.system_scale` and tells the wrapper by signal when to
start (SIGUSR1) and stop (SIGUSR2) recording:

- ``cpu``: cProfile over the bulk (start, N ports, until ``--wait=hv sync``);
- ``bind``: cProfile over ``--binds`` port binds after the bulk, and a timeline of the
  controller's loop (each iteration, each engine node, ofctrl put / barrier) that
  splits "ofport → ovn-installed" into its steps;
- ``timeline``: the same timeline without the profiler's overhead;
- ``rss``: after the bulk, RSS before and after ``gc.collect()`` and ``malloc_trim``;
- ``mem``: after the bulk, tracemalloc's top allocation sites (tracing from start-up)
  and the deep size of the big structures (OVSDB rows, desired / installed flows,
  lflow output), per object.

    python -m bench.profile_system --mode cpu|bind|mem [--daemon controller|northd]
                                   [--ports 1000] [--binds 10] [--out DIR]

Writes ``DIR/<daemon>-<mode>.prof`` (cProfile) or ``.txt`` and prints a summary.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.system_scale import Watcher, bind_port, populate, proc_usage
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

# --- the wrapper (runs inside the daemon's process) -------------------------------------


class _Recorder:
    """What the wrapper records between SIGUSR1 and SIGUSR2 and writes at the end."""

    def __init__(self, mode: str, out: Path) -> None:
        import cProfile

        self.mode, self.out = mode, out
        # CPU time, not wall time: the machine is shared, and waiting is not work.
        self.profile = cProfile.Profile(time.process_time)
        self.on = False
        self.events: list[tuple[str, float, float, float]] = []
        self.daemon: Any = None
        self.written = False

    def start(self, *_: object) -> None:
        if self.mode in ("cpu", "bind") and not self.on:
            self.profile.enable()
        self.on = True

    def stop(self, *_: object) -> None:
        if self.written:
            return
        self.written = True
        if self.mode in ("cpu", "bind"):
            self.profile.disable()
            self.profile.dump_stats(str(self.out.with_suffix(".prof")))
        self.on = False
        if self.mode in ("bind", "timeline"):
            self.out.with_suffix(".timeline.json").write_text(json.dumps(self.events))
        if self.mode == "mem":
            self.out.with_suffix(".txt").write_text(memory_report(self.daemon))
        if self.mode == "rss":
            self.out.with_suffix(".txt").write_text(rss_report())

    def timed(self, name: str | Callable[[tuple[Any, ...]], str],
              fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` recording its wall and CPU time under ``name`` (or ``name(args)``)
        while recording is on."""
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return fn(*args, **kwargs)
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                label = name(args) if callable(name) else name
                self.events.append((label, t0, time.perf_counter(), time.process_time() - c0))
        return wrapper


def _instrument(rec: _Recorder, program: str) -> None:
    """Wrap the methods whose timeline the ``bind`` mode records, and catch the daemon
    object for the ``mem`` mode."""
    from pyovn.engine import _engine

    if program == "controller":
        from pyovn.controller import daemon, ofctrl
        from pyovn.ovsdb import client

        cls: Any = daemon.Controller
        ofctrl.Ofctrl.put = rec.timed("ofctrl.put", ofctrl.Ofctrl.put)  # type: ignore[method-assign]
        ofctrl.Ofctrl._on_barrier = rec.timed(  # type: ignore[method-assign]
            "ofctrl.barrier", ofctrl.Ofctrl._on_barrier)
        ofctrl.Ofctrl.run = rec.timed("ofctrl.run", ofctrl.Ofctrl.run)  # type: ignore[method-assign]
        client.Client.run = rec.timed(  # type: ignore[method-assign]
            lambda a: f"ovsdb.run {a[0].name}", client.Client.run)
        cls.run = rec.timed("loop.run", cls.run)
    else:
        from pyovn.northd import daemon as ndaemon

        cls = ndaemon.Northd
    _engine.Engine._run_node = rec.timed(  # type: ignore[method-assign]
        lambda a: f"node {a[1].name}", _engine.Engine._run_node)
    init = cls.__init__

    def catch(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        rec.daemon = self

    cls.__init__ = catch


def run_wrapped(program: str, mode: str, out: Path, argv: Sequence[str]) -> int:
    """Run ``pyovn-<program>`` with ``argv`` in this process, recording for ``mode``."""
    if mode == "mem":
        tracemalloc.start(1)
    rec = _Recorder(mode, out)
    _instrument(rec, program)
    signal.signal(signal.SIGUSR1, rec.start)
    signal.signal(signal.SIGUSR2, rec.stop)
    if mode in ("cpu", "timeline"):
        rec.start()
    if program == "controller":
        from pyovn.controller.daemon import main
    else:
        from pyovn.northd.main import main
    try:
        return main(argv)
    finally:
        rec.stop()


# --- memory --------------------------------------------------------------------------------


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def rss_report() -> str:
    """RSS now, after a full garbage collection, and after glibc gave its free heap
    pages back (``malloc_trim``): what is live and what is fragmentation."""
    import ctypes

    lines = [f"RSS {_rss_mb():.1f} MB"]
    gc.collect()
    lines.append(f"after gc.collect() {_rss_mb():.1f} MB")
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    lines.append(f"after malloc_trim(0) {_rss_mb():.1f} MB")
    return "\n".join(lines) + "\n"


def deep_size(roots: Iterable[object], seen: set[int]) -> tuple[int, int, dict[str, int]]:
    """Bytes and objects reachable from ``roots`` not yet in ``seen`` (which grows), and
    the bytes by type; modules, classes and functions are not followed."""
    import types

    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
            types.MethodType)
    total = count = 0
    by_type: dict[str, int] = {}
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        size = sys.getsizeof(obj)
        total += size
        count += 1
        name = type(obj).__name__
        by_type[name] = by_type.get(name, 0) + size
        stack.extend(gc.get_referents(obj))
    return total, count, by_type


def memory_report(daemon: Any) -> str:
    """tracemalloc's top sites and the deep size of the daemon's big structures."""
    lines: list[str] = []
    gc.collect()
    snap = tracemalloc.take_snapshot()
    total = sum(s.size for s in snap.statistics("filename"))
    lines.append(f"tracemalloc total {total / 1e6:.1f} MB")
    lines.append("top files:")
    for stat in snap.statistics("filename")[:25]:
        lines.append(f"  {stat.size / 1e6:7.2f} MB {stat.count:8d} blocks  "
                     f"{stat.traceback[0].filename}")
    lines.append("top lines:")
    for stat in snap.statistics("lineno")[:40]:
        frame = stat.traceback[0]
        lines.append(f"  {stat.size / 1e6:7.2f} MB {stat.count:8d} blocks  "
                     f"{frame.filename}:{frame.lineno}")
    if hasattr(daemon, "ofctrl"):
        lines.append("installed: " + flow_anatomy(list(daemon.ofctrl.installed.flows.values())))
        lines.append("desired: " + flow_anatomy(list(daemon.graph.flow_output.data)))
    seen: set[int] = set()
    lines.append("deep sizes (each part counts only what the parts above did not):")
    for name, roots, n in _memory_parts(daemon):
        size, count, by_type = deep_size(roots, seen)
        per = f", {size / n:.0f} B per item ({n} items)" if n else ""
        lines.append(f"  {name:40s} {size / 1e6:7.2f} MB {count:9d} objects{per}")
        top = sorted(by_type.items(), key=lambda kv: -kv[1])[:6]
        lines.append("      " + ", ".join(f"{t} {b / 1e6:.2f}" for t, b in top))
    return "\n".join(lines) + "\n"


def flow_anatomy(flows: list[Any]) -> str:
    """How the memory of ``flows`` splits: shared and unshared parts."""
    n = len(flows) or 1
    matches = {id(f.match): f.match for f in flows}
    entries = {id(e): e for m in matches.values() for e in m._entries}
    actions = {id(f.actions): f.actions for f in flows}
    action_objs = {id(a): a for t in actions.values() for a in t}
    distinct_actions = len({a for a in action_objs.values()})
    bodies = [b for b in (getattr(f, "_body", None) for f in flows) if b is not None]
    wires = [m._wire for m in matches.values() if m._wire is not None]
    return (f"{len(flows)} flows: {len(matches)} Match objects ({len(set(matches.values()))}"
            f" distinct), {len(entries)} entry tuples ({len(set(entries.values()))} distinct),"
            f" {len(actions)} action tuples, {len(action_objs)} action objects"
            f" ({distinct_actions} distinct); {len(bodies)} cached bodies"
            f" ({sum(map(sys.getsizeof, bodies)) / n:.0f} B per flow), {len(wires)} cached"
            f" match encodings ({sum(map(sys.getsizeof, wires)) / n:.0f} B per flow)")


def _memory_parts(daemon: Any) -> list[tuple[str, list[object], int]]:
    parts: list[tuple[str, list[object], int]] = []
    clients = ({"SB": daemon.sb, "OVS": daemon.ovs} if hasattr(daemon, "ofctrl")
               else {"NB": daemon.nb, "SB": daemon.sb})
    for cname, client in clients.items():
        for tname, table in client.tables.items():
            if len(table.rows) >= 50:
                parts.append((f"{cname} {tname} rows", [table.rows], len(table.rows)))
        parts.append((f"{cname} client (rest)", [client], 0))
    if hasattr(daemon, "ofctrl"):
        graph = daemon.graph
        installed = daemon.ofctrl.installed.flows
        parts.append(("ofctrl installed flows", [installed], len(installed)))
        desired = graph.flow_output.data
        parts.append(("desired flow table", [desired], len(desired)))
        parts.append(("physical_flows node", [graph.binding.physical_flows], 0))
        parts.append(("runtime_data node", [graph.binding.runtime_data], 0))
        lflows = graph.lflow_output
        parts.append(("lflow_output flows", [lflows.data], 0))
        parts.append(("lflow parse cache", [lflows._recorder.lookups.parse_cache], 0))
        parts.append(("lflow dependency index", [lflows._deps], 0))
        parts.append(("lflow_output node (rest)", [lflows], 0))
        parts.append(("rest of the engine", [graph], 0))
        parts.append(("ofctrl (rest)", [daemon.ofctrl], 0))
    else:
        for node in daemon.graph.engine.nodes:
            parts.append((f"node {node.name}", [node], 0))
    return parts


# --- the driver ------------------------------------------------------------------------------


def _start_wrapped(sb: Sandbox, program: str, mode: str, out: Path) -> subprocess.Popen[bytes]:
    ctl = sb.dir / f"{program}.ctl"
    args = [sys.executable, "-m", "bench.profile_system", "daemon", program, mode, str(out),
            "--", f"--pidfile={sb.dir / (program + '.pid')}",
            f"--log-file={sb.dir / (program + '.log')}", f"--unixctl={ctl}", "--no-chdir"]
    if program == "controller":
        args.append(sb.ovs_remote)
    else:
        args += [f"--ovnnb-db={sb.nb_remote}", f"--ovnsb-db={sb.sb_remote}"]
    env = dict(sb.env())
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                         os.environ.get("PYTHONPATH", "")])
    proc = subprocess.Popen(args, env=env, cwd=sb.dir)
    procs.wait_until(lambda: ctl.exists() or proc.poll() is not None, timeout=60,
                     what=f"{program} control socket")
    if proc.poll() is not None:
        raise RuntimeError(f"{program} exited with {proc.returncode}")
    return proc


def _bind(sb: Sandbox, watcher: Watcher, i: int) -> dict[str, float]:
    lport = f"prof-b{i}"
    sb.nbctl("--wait=hv", "lsp-add", "sw0", lport, "--", "lsp-set-addresses", lport,
             f"00:00:98:00:01:{i:02x} 10.98.1.{i + 1}")
    seen = bind_port(sb, watcher, lport, f"pvif{i}", up=False)
    sb.nbctl("--wait=hv", "sync", timeout=600)
    return seen


def drive(program: str, mode: str, ports: int, binds: int, out_dir: Path) -> None:
    """Build the scenario around one wrapped daemon and record ``mode``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{program}-{mode}"
    procs.become_subreaper()
    with tempfile.TemporaryDirectory(prefix="pyovn-profile-") as tmp:
        sb = Sandbox(Path(tmp))
        proc: subprocess.Popen[bytes] | None = None
        try:
            sb.start(SandboxConfig(northd="none" if program == "northd" else "pyovn",
                                   controller="none" if program == "controller" else "pyovn"))
            proc = _start_wrapped(sb, program, mode, out)
            procs.wait_until(lambda: bool(sb.sbctl("--bare", "--columns=name", "list",
                                                   "Chassis").strip()),
                             timeout=60, what="chassis registered")
            sb.nbctl("--wait=hv", "sync", timeout=120)
            t0 = time.perf_counter()
            populate(sb, ports)
            sb.nbctl("--wait=hv", "sync", timeout=3600)
            bulk = time.perf_counter() - t0
            usage = proc_usage(proc.pid)
            print(f"bulk {ports} ports: --wait=hv after {bulk:.2f} s; {program} "
                  f"cpu {usage['cpu_s']:.2f} s rss {usage['rss_mb']:.1f} MB", flush=True)
            if mode in ("bind", "timeline"):
                watcher = Watcher(sb)
                try:
                    os.kill(proc.pid, signal.SIGUSR1)
                    marks = [_bind(sb, watcher, i) for i in range(binds)]
                finally:
                    watcher.close()
                after = sorted((m["installed"] - m["ofport"]) * 1000 for m in marks)
                print(f"ofport -> ovn-installed (ms): median {after[len(after) // 2]:.1f} "
                      f"all {[round(a) for a in after]}", flush=True)
                (out.with_suffix(".marks.json")).write_text(json.dumps(marks))
            os.kill(proc.pid, signal.SIGUSR2)
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=600)
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            sb.stop()
            procs.stop_all_in(sb.dir)
    if mode in ("cpu", "bind"):
        stats = pstats.Stats(str(out.with_suffix(".prof")))
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    if mode in ("bind", "timeline"):
        print(timeline_report(out))
    if mode in ("mem", "rss"):
        print(out.with_suffix(".txt").read_text())


def timeline_report(out: Path) -> str:
    """Per bind: the controller's recorded steps between the ofport and ovn-installed
    marks, summed by name."""
    events = json.loads(out.with_suffix(".timeline.json").read_text())
    marks = json.loads(out.with_suffix(".marks.json").read_text())
    lines = []
    if marks and events and events[0][1] < marks[0]["t0"]:
        bulk: dict[str, list[float]] = {}
        for name, _t0, t1, cpu in events:
            if t1 < marks[0]["t0"]:
                bulk.setdefault(name, []).append(cpu)
        lines.append("bulk (start until the first bind), CPU seconds by step: " + ", ".join(
            f"{n} {sum(v):.2f}/{len(v)}" for n, v in
            sorted(bulk.items(), key=lambda kv: -sum(kv[1]))[:16]))
    for m in marks:
        lo, hi = m["ofport"] - 0.05, m["installed"]
        sums: dict[str, list[float]] = {}
        busy = 0.0
        for name, t0, t1, cpu in events:
            if t1 >= lo and t0 <= hi:
                sums.setdefault(name, []).append(cpu)
                if name == "loop.run":
                    busy += t1 - t0
        parts = ", ".join(f"{n} {sum(v) * 1000:.1f}ms/{len(v)}" for n, v in
                          sorted(sums.items(), key=lambda kv: -sum(kv[1]))[:12])
        lines.append(f"bind {(hi - m['ofport']) * 1000:.0f} ms, loop busy {busy * 1000:.0f} ms,"
                     " CPU ms by step:"
                     f" {parts}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``daemon PROGRAM MODE OUT -- ARGS`` (the wrapper) or the driver."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "daemon":
        program, mode, out = argv[1:4]
        rest = argv[5:] if len(argv) > 4 and argv[4] == "--" else argv[4:]
        return run_wrapped(program, mode, Path(out), rest)
    ap = argparse.ArgumentParser(prog="python -m bench.profile_system",
                                 description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--mode", choices=("cpu", "bind", "timeline", "mem", "rss"), required=True)
    ap.add_argument("--daemon", choices=("controller", "northd"), default="controller")
    ap.add_argument("--ports", type=int, default=1000)
    ap.add_argument("--binds", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("/tmp/pyovn-profile"))
    args = ap.parse_args(argv)
    drive(args.daemon, args.mode, args.ports, args.binds, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
