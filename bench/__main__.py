"""``./dev bench`` (``python -m bench``): run the benchmarks and collect their results.

Each benchmark is a script in this folder with its own ``main(argv)``; this runner calls
the selected ones in turn with ``--out RESULTS_DIR``, where each writes its Markdown and
JSON, and records the machine, versions and date beside them in ``machine.json``.

    ./dev bench                     # every benchmark, default sizes
    ./dev bench --only ovsdb_load   # one of them
    ./dev bench --out DIR           # results elsewhere (default: bench/results/latest)
    ./dev bench --only system --sizes 1000,2000,5000,10000   # full stacks, scaled up
    ./dev bench --only system --size 5000                    # that size only
    ./dev bench --only restarts --sizes 2000,5000            # restart outages, scaled up
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Benchmarks, in the order they run. "restarts" (controller SIGTERM / kill -9 and
#: ovs-vswitchd restarts under ``ping -i 0.01``) builds its sandboxes as "system" does.
BENCHMARKS = ("ovsdb_load", "openflow_encode", "northd_scale", "lflow_translate", "system",
              "restarts")
#: Benchmark name → module in this folder, where they differ.
MODULES = {"system": "system_scale"}
#: Benchmarks that take ``--sizes`` (port counts), which ``--sizes`` / ``--size`` set.
SIZED = frozenset({"system", "restarts"})


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return out.splitlines()[0] if out else "unknown"


def machine_facts() -> dict[str, object]:
    """Where and with what the figures were measured."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "kernel": platform.release(),
        "ovs-vswitchd": _version(["ovs-vswitchd", "--version"]),
        "ovn-northd": _version(["ovn-northd", "--version"]),
        "ovn-controller": _version(["ovn-controller", "--version"]),
        "pyovn": _version([sys.executable, "-c", "import pyovn; print(pyovn.__version__)"]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; return non-zero if any failed."""
    ap = argparse.ArgumentParser(prog="./dev bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=BENCHMARKS,
                    help="run only this benchmark (repeatable)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest")
    ap.add_argument("--sizes", help="port counts for " + ", ".join(sorted(SIZED))
                    + ", comma-separated (default: each benchmark's own)")
    ap.add_argument("--size", type=int, action="append", default=[],
                    help="a port count (repeatable; with --sizes, all of them)")
    args = ap.parse_args(argv)
    sizes = ",".join([*([args.sizes] if args.sizes else []), *map(str, args.size)])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "machine.json").write_text(json.dumps(machine_facts(), indent=2) + "\n")
    failed = []
    for name in args.only or BENCHMARKS:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{MODULES.get(name, name)}")
        extra = ["--sizes", sizes] if sizes and name in SIZED else []
        status = module.main(["--out", str(args.out), *extra])
        if status:
            failed.append(name)
    print(f"results in {args.out}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
