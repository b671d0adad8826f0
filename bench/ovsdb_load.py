"""Benchmark: load a full Southbound (~15,000 logical flows) with the ``ovs`` IDL and with
:class:`pyovn.ovsdb.Client`, side by side in one run.

The Southbound is made by real ovn-northd from a Northbound of 10 switches x 500 ports
(MAC + IP each) and cached under ``bench/results/tmp/`` (``--rebuild`` to redo it). Each
load runs in its own child process, against a freshly started ovsdb-server serving a copy
of the cached database, so RSS and the server's caches are clean. Reported per client:
wall time until synced, CPU time, peak RSS, and the RSS above an empty interpreter.

    python bench/ovsdb_load.py [--runs 3] [--rebuild] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "results" / "tmp" / "ovsdb_load"
TARGET_RATIO = 0.25
KINDS = ("ovs-idl", "pyovn")


# --- building the Southbound -----------------------------------------------------------

def _nb_batch(nb_remote: str, switch: int, ports: int) -> list[str]:
    argv = ["ovn-nbctl", f"--db={nb_remote}", "ls-add", f"sw{switch}"]
    for p in range(ports):
        name = f"sw{switch}-p{p}"
        mac = f"00:00:{switch:02x}:00:{p >> 8:02x}:{p & 255:02x}"
        ip = f"10.{switch}.{p // 250}.{p % 250 + 1}"
        argv += ["--", "lsp-add", f"sw{switch}", name,
                 "--", "lsp-set-addresses", name, f"{mac} {ip}"]
    return argv


def build_sb(switches: int, ports: int, db_out: Path) -> dict[str, Any]:
    """Run real ovn-northd on a generated NB; save the resulting SB db to ``db_out``."""
    from pyovn.sandbox import procs

    procs.become_subreaper()
    CACHE.mkdir(parents=True, exist_ok=True)
    rundir = Path(tempfile.mkdtemp(prefix="build-", dir=CACHE))
    t0 = time.monotonic()
    try:
        nb = procs.start_ovsdb_server(rundir, "nb", procs.NB_SCHEMA)
        sb = procs.start_ovsdb_server(rundir, "sb", procs.SB_SCHEMA)
        for s in range(switches):
            procs.run(_nb_batch(nb.remote, s, ports), rundir, timeout=600)
        northd = procs.start_detached(
            rundir, "ovn-northd",
            ["ovn-northd", f"--ovnnb-db={nb.remote}", f"--ovnsb-db={sb.remote}"])
        procs.run(["ovn-nbctl", f"--db={nb.remote}", "--timeout=600", "--wait=sb", "sync"],
                  rundir, timeout=620)
        if not northd.is_alive():
            raise RuntimeError("ovn-northd died while building the Southbound")
        out = procs.run(["ovn-sbctl", f"--db={sb.remote}", "--columns=_uuid", "list",
                         "Logical_Flow"], rundir)
        lflows = sum(1 for line in out.splitlines() if line.startswith("_uuid"))
        procs.stop_daemon(northd)
        procs.stop_daemon(sb.daemon)
        shutil.copyfile(sb.db, db_out)
    finally:
        procs.stop_all_in(rundir)
        shutil.rmtree(rundir, ignore_errors=True)
    meta = {"switches": switches, "ports": ports, "lflows": lflows,
            "build_s": round(time.monotonic() - t0, 2)}
    db_out.with_suffix(".json").write_text(json.dumps(meta))
    return meta


# --- the child processes ---------------------------------------------------------------

def _usage() -> tuple[float, int]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def _rss_now_kb() -> int:
    """Resident set size now (the peak says nothing about what stays)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() // 1024


def child_ovs_idl(remote: str, schema: str) -> dict[str, Any]:
    """Load with ovs.db.idl.Idl (register_all) until change_seqno moves."""
    import ovs.db.idl
    import ovs.poller

    cpu0, _ = _usage()
    t0 = time.perf_counter()
    helper = ovs.db.idl.SchemaHelper(location=schema)
    helper.register_all()
    idl = ovs.db.idl.Idl(remote, helper)
    seqno = idl.change_seqno
    while True:
        idl.run()
        if idl.has_ever_connected() and idl.change_seqno != seqno:
            break
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.block()
    wall = time.perf_counter() - t0
    cpu1, maxrss = _usage()
    rows = {name: len(t.rows) for name, t in idl.tables.items()}
    rss = _rss_now_kb()
    idl.close()
    return {"wall_s": wall, "cpu_s": cpu1 - cpu0, "maxrss_kb": maxrss, "rss_kb": rss,
            "rows": rows}


def child_pyovn(remote: str, schema: str) -> dict[str, Any]:
    """Load with pyovn.ovsdb.Client (all tables, all columns) until synced."""
    from pyovn.ovsdb import Client, Schema

    cpu0, _ = _usage()
    t0 = time.perf_counter()
    sch = Schema.from_file(schema)
    client = Client(remote, sch, dict.fromkeys(sch.tables))
    client.run_until(lambda: client.synced, 300)
    wall = time.perf_counter() - t0
    cpu1, maxrss = _usage()
    rows = {name: len(t.rows) for name, t in client.tables.items()}
    rss = _rss_now_kb()
    client.close()
    return {"wall_s": wall, "cpu_s": cpu1 - cpu0, "maxrss_kb": maxrss, "rss_kb": rss,
            "rows": rows}


def _run_child(kind: str, remote: str, schema: str) -> dict[str, Any]:
    if kind == "empty":
        code = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        return {"maxrss_kb": int(out.stdout)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind,
         "--remote", remote, "--schema", schema],
        capture_output=True, text=True, check=False, timeout=600,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child failed: {proc.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --- measuring ---------------------------------------------------------------------------

def measure(db: Path, runs: int) -> dict[str, Any]:
    """Serve copies of ``db`` and load it ``runs`` times with each client."""
    from pyovn.sandbox import procs

    procs.become_subreaper()
    rundir = Path(tempfile.mkdtemp(prefix="serve-", dir=CACHE))
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    try:
        baseline = _run_child("empty", "", "")["maxrss_kb"]
        for i in range(runs):
            order = KINDS if i % 2 == 0 else KINDS[::-1]
            for kind in order:
                # A fresh server per load: no warm monitor caches for the second client.
                served = rundir / "sb.db"
                shutil.copyfile(db, served)
                sock = rundir / "sb.sock"
                daemon = procs.start_detached(
                    rundir, "sb", ["ovsdb-server", str(served), f"--remote=punix:{sock}"])
                try:
                    samples[kind].append(_run_child(kind, f"unix:{sock}",
                                                    str(procs.SB_SCHEMA)))
                finally:
                    procs.stop_daemon(daemon)
    finally:
        procs.stop_all_in(rundir)
        shutil.rmtree(rundir, ignore_errors=True)
    summary: dict[str, Any] = {"baseline_maxrss_kb": baseline, "runs": runs, "clients": {}}
    for kind, ss in samples.items():
        summary["clients"][kind] = {
            "wall_s": round(statistics.median(s["wall_s"] for s in ss), 3),
            "cpu_s": round(statistics.median(s["cpu_s"] for s in ss), 3),
            "maxrss_mb": round(max(s["maxrss_kb"] for s in ss) / 1024, 1),
            "rss_delta_mb": round((max(s["maxrss_kb"] for s in ss) - baseline) / 1024, 1),
            "rss_after_mb": round(max(s["rss_kb"] for s in ss) / 1024, 1),
            "lflows": ss[0]["rows"].get("Logical_Flow", 0),
            "rows": sum(ss[0]["rows"].values()),
            "wall_samples_s": [round(s["wall_s"], 3) for s in ss],
        }
    idl, ours = summary["clients"]["ovs-idl"], summary["clients"]["pyovn"]
    summary["ratio_wall"] = round(ours["wall_s"] / idl["wall_s"], 3)
    summary["ratio_cpu"] = round(ours["cpu_s"] / idl["cpu_s"], 3)
    summary["ratio_rss_delta"] = round(ours["rss_delta_mb"] / idl["rss_delta_mb"], 3)
    summary["target_ratio"] = TARGET_RATIO
    summary["target_met"] = summary["ratio_wall"] <= TARGET_RATIO
    return summary


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    meta = result["sb"]
    lines = [
        f"SB from real ovn-northd: {meta['switches']} switches x {meta['ports']} ports, "
        f"{meta['lflows']} logical flows; median of {result['runs']} run(s); "
        f"empty interpreter {result['baseline_maxrss_kb'] / 1024:.1f} MB",
        "",
        "| client | wall to synced (s) | CPU (s) | peak RSS (MB) | peak RSS over empty (MB) "
        "| RSS when synced (MB) | rows loaded |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        c = result["clients"][kind]
        lines.append(f"| {kind} | {c['wall_s']:.3f} | {c['cpu_s']:.3f} | {c['maxrss_mb']} "
                     f"| {c['rss_delta_mb']} | {c['rss_after_mb']} | {c['rows']} |")
    lines.append(f"| **pyovn / ovs-idl** | **{result['ratio_wall']:.3f}** "
                 f"| {result['ratio_cpu']:.3f} | | {result['ratio_rss_delta']:.3f} | | |")
    verdict = "met" if result["target_met"] else "NOT met"
    lines += ["", f"Target: pyovn wall ≤ {TARGET_RATIO} x ovs IDL — {verdict}."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--switches", type=int, default=10)
    ap.add_argument("--ports", type=int, default=500, help="ports per switch")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached SB")
    ap.add_argument("--out", type=Path, help="also write ovsdb_load.{md,json} here")
    ap.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    ap.add_argument("--remote", help=argparse.SUPPRESS)
    ap.add_argument("--schema", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        fn = child_ovs_idl if args.child == "ovs-idl" else child_pyovn
        print(json.dumps(fn(args.remote, args.schema)))
        return 0

    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / f"sb-{args.switches}x{args.ports}.db"
    meta_file = db.with_suffix(".json")
    if args.rebuild or not db.exists() or not meta_file.exists():
        print(f"building the Southbound ({args.switches}x{args.ports} ports) ...",
              file=sys.stderr)
        meta = build_sb(args.switches, args.ports, db)
    else:
        meta = json.loads(meta_file.read_text())
    result = measure(db, args.runs)
    result["sb"] = meta
    for kind in KINDS:
        if result["clients"][kind]["lflows"] != meta["lflows"]:
            print(f"warning: {kind} loaded {result['clients'][kind]['lflows']} lflows, "
                  f"ovn-sbctl counted {meta['lflows']}", file=sys.stderr)
    md = markdown(result)
    print(md)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "ovsdb_load.md").write_text(md + "\n")
        (args.out / "ovsdb_load.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
