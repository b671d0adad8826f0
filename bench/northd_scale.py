"""Benchmark: pyovn-northd against ovn-northd 23.03 on the same Northbound, same run.

For each stack (a sandbox with that northd and no controller), measured the same way:

- bulk: N ports (MAC + IPv4 each) over 10 switches created in one
  ``ovn-nbctl --wait=sb`` transaction, timed until it returns (the Southbound then holds
  everything compiled from it);
- logical flows and datapath groups written; northd's RSS and CPU seconds after the bulk;
- incremental, median of ``--repeat`` runs: one port added (``--wait=sb``), one ACL added,
  one address-set member added, one port deleted;
- Southbound write volume of each incremental step: rows inserted, modified and deleted
  in the SB between the step's start and its ``--wait=sb`` (seen by a monitoring client).

    python -m bench.northd_scale [--ports 1000] [--repeat 5] [--stacks ovn,pyovn] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pyovn.ovsdb import Client
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig, Stack

SWITCHES = 10
SB_WATCHED = ("Logical_Flow", "Logical_DP_Group", "Port_Binding", "Datapath_Binding",
              "Multicast_Group", "Address_Set", "Port_Group", "SB_Global")


def _bulk_commands(ports: int) -> list[str]:
    args: list[str] = []
    per_switch = max(1, ports // SWITCHES)
    for s in range(SWITCHES):
        args += ["--", "ls-add", f"sw{s}"]
        for p in range(per_switch):
            name = f"sw{s}-p{p}"
            mac = f"00:00:{s:02x}:00:{p >> 8:02x}:{p & 255:02x}"
            args += ["--", "lsp-add", f"sw{s}", name,
                     "--", "lsp-set-addresses", name, f"{mac} 10.{s}.{p >> 8}.{(p & 255) + 1}"]
    return args


def _proc_usage(pid: int) -> tuple[float, float]:
    """(RSS MB, CPU seconds) of ``pid`` from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines()
                  if line.startswith("VmRSS:"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return rss_kb / 1024, ticks / 100


class SbWatcher:
    """A client monitoring the SB tables northd writes, counting row changes."""

    def __init__(self, remote: str) -> None:
        self.client = Client(remote, procs.SB_SCHEMA, dict.fromkeys(SB_WATCHED),
                             name="watcher")
        self.client.run_until(lambda: self.client.synced, timeout=60)
        self.client.take_changes()

    def count(self) -> dict[str, int]:
        """Rows inserted / modified / deleted since the previous call."""
        self.client.run()
        totals = {"inserted": 0, "modified": 0, "deleted": 0}
        for table, changes in self.client.take_changes().items():
            if table == "SB_Global":  # nb_cfg, written for every --wait=sb by both
                continue
            totals["inserted"] += len(changes.inserted)
            totals["modified"] += len(changes.modified)
            totals["deleted"] += len(changes.deleted)
        return totals

    def catch_up(self, nb_cfg: int, timeout: float = 60.0) -> None:
        """Read updates until this client has seen SB_Global.nb_cfg reach ``nb_cfg``
        (what ``--wait=sb`` waited for): one run() may hold only part of a large update."""
        def seen() -> bool:
            row = next(iter(self.client.tables["SB_Global"].rows.values()), None)
            return row is not None and row["nb_cfg"] >= nb_cfg
        self.client.run_until(seen, timeout=timeout)

    def rows(self, table: str) -> int:
        """Rows of ``table`` now."""
        self.client.run()
        return len(self.client.tables[table].rows)


def _timed(step: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def run_stack(stack: Stack, ports: int, repeat: int) -> dict[str, Any]:
    """All figures for one stack, in a sandbox of its own."""
    with tempfile.TemporaryDirectory(prefix=f"pyovn-bench-{stack}-") as tmp:
        sb = Sandbox(Path(tmp))
        sb.start(SandboxConfig(northd=stack, controller="none"))
        try:
            return _measure(sb, ports, repeat)
        finally:
            sb.stop()


def _measure(sb: Sandbox, ports: int, repeat: int) -> dict[str, Any]:
    sb.nbctl("--wait=sb", "sync")
    watcher = SbWatcher(sb.sb_remote)
    result: dict[str, Any] = {"ports": ports}
    # One transaction for the whole Northbound, timed until the Southbound has it all.
    result["bulk_wait_sb_s"] = _timed(
        lambda: sb.nbctl("--wait=sb", *_bulk_commands(ports), timeout=600))
    def nb_cfg() -> int:
        return int(sb.nbctl("get", "NB_Global", ".", "nb_cfg").strip())

    watcher.catch_up(nb_cfg())
    result["lflows"] = watcher.rows("Logical_Flow")
    result["dp_groups"] = watcher.rows("Logical_DP_Group")
    watcher.count()
    pid = procs.daemon_in(sb.dir, "northd").pid()
    assert pid is not None
    result["northd_rss_mb"], result["northd_cpu_s"] = _proc_usage(pid)

    sb.nbctl("--wait=sb", "acl-add", "sw0", "to-lport", "900", "ip4", "allow-related")
    sb.nbctl("--wait=sb", "create", "Address_Set", "name=bench_as", "addresses=10.99.0.1")
    watcher.catch_up(nb_cfg())
    watcher.count()
    steps: dict[str, tuple[list[float], list[dict[str, int]]]] = {}

    def step(name: str, *args: str) -> None:
        elapsed = _timed(lambda: sb.nbctl("--wait=sb", *args))
        watcher.catch_up(nb_cfg())
        steps.setdefault(name, ([], []))[0].append(elapsed)
        steps[name][1].append(watcher.count())

    for i in range(repeat):
        port = f"bench-p{i}"
        step("port_add", "lsp-add", "sw0", port, "--", "lsp-set-addresses", port,
             f"00:00:99:00:00:{i:02x} 10.99.1.{i + 1}")
        step("acl_add", "acl-add", "sw1", "from-lport", "1000",
             f"ip4.dst == 10.98.0.{i + 1}", "drop")
        step("address_set_add", "add", "Address_Set", "bench_as", "addresses",
             f"10.99.2.{i + 1}")
        step("port_del", "lsp-del", port)
    for name, (times, writes) in steps.items():
        result[f"{name}_s"] = statistics.median(times)
        result[f"{name}_sb_rows"] = statistics.median(
            w["inserted"] + w["modified"] + w["deleted"] for w in writes)
    return result


STACK_NAMES: dict[str, Stack] = {"ovn": "ovn", "pyovn": "pyovn"}
INCREMENTAL = ("port_add", "acl_add", "address_set_add", "port_del")


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """The side-by-side table, with pyovn/ovn ratios."""
    ovn, py = results.get("ovn", {}), results.get("pyovn", {})
    rows = [("bulk `--wait=sb` (s)", "bulk_wait_sb_s"), ("logical flows", "lflows"),
            ("datapath groups", "dp_groups"), ("northd RSS (MB)", "northd_rss_mb"),
            ("northd CPU after bulk (s)", "northd_cpu_s")]
    for name in INCREMENTAL:
        rows += [(f"{name} `--wait=sb` (s, median)", f"{name}_s"),
                 (f"{name} SB rows written", f"{name}_sb_rows")]
    ports = (ovn or py).get("ports", "?")
    out = [f"northd at {ports} ports over {SWITCHES} switches (controller: none)\n",
           "| figure | ovn-northd 23.03 | pyovn-northd | pyovn / ovn |", "|---|---|---|---|"]
    for label, key in rows:
        a, b = ovn.get(key), py.get(key)
        ratio = f"{b / a:.2f}" if isinstance(a, int | float) and isinstance(b, int | float) \
            and a else "—"
        out.append(f"| {label} | {_fmt(a)} | {_fmt(b)} | {ratio} |")
    return "\n".join(out) + "\n"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "—" if v is None else str(v)


def main(argv: Sequence[str] | None = None) -> int:
    """Run both stacks; print (and with --out write) the table and JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--ports", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--stacks", default="ovn,pyovn")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    procs.become_subreaper()
    results: dict[str, dict[str, Any]] = {}
    for name in args.stacks.split(","):
        stack = STACK_NAMES.get(name)
        if stack is None:
            ap.error(f"unknown stack {name!r}")
        print(f"-- {stack}: {args.ports} ports", flush=True)
        results[stack] = run_stack(stack, args.ports, args.repeat)
    table = markdown(results)
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "northd_scale.md").write_text(table)
        (args.out / "northd_scale.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
