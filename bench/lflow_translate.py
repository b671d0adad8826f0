"""Benchmark: pyovn's lflow translation against ovn-controller 23.03's, same Southbound.

A sandbox runs real ovn-northd and real ovn-controller; the Northbound has one
switch with ``--ports`` ports (MAC + IPv4 each, all bound to the chassis with
dummy interfaces, so every lflow is local), a port group of all of them, two
address sets and a handful of ACLs (conjunctive matches included).  Then:

- pyovn: every Southbound Logical_Flow is translated for its datapaths with
  :func:`pyovn.lflow.translate.translate_lflow` (parse + compile + encode),
  ``--repeat`` times; the median total and the per-lflow mean are reported,
  with the split between parsing (actions, match, annotation), compiling the
  match and encoding the actions measured in a separate, instrumented pass;
- ovn-controller: ``inc-engine/recompute`` forces a full recompute of its
  engine and the ``flow-generation`` stopwatch gives its duration (the whole
  engine run: lflow translation plus physical flows and runtime data, so the
  ratio favours ovn-controller slightly), median of ``--repeat`` runs.

Setting up (ports, bindings, ``--wait=hv``) is not measured.

    python -m bench.lflow_translate [--ports 1000] [--repeat 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pyovn.lflow.action_parser import ActionParams, GenOptionDef, parse_actions
from pyovn.lflow.actions import Pipeline
from pyovn.lflow.annotate import annotate
from pyovn.lflow.compile_match import compile_match
from pyovn.lflow.encode_actions import EncodeParams, encode_actions
from pyovn.lflow.errors import LflowError
from pyovn.lflow.expr import And, combine
from pyovn.lflow.parser import parse_expr
from pyovn.lflow.translate import ConjIdAllocator, LflowTranslateError, Lookups, translate_lflow
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

CHASSIS = "hv1"


def _value(v: Any) -> Any:
    if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str):
        kind, body = v
        if kind == "uuid":
            return body
        if kind == "set":
            return [_value(x) for x in body]
        if kind == "map":
            return {_value(k): _value(x) for k, x in body}
    return v


def _set(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _one(v: Any) -> Any:
    return (v[0] if v else None) if isinstance(v, list) else v


def _rows(sb: Sandbox, table: str) -> list[dict[str, Any]]:
    raw = json.loads(sb.sbctl("--format=json", "list", table))
    return [{h: _value(x) for h, x in zip(raw["headings"], row, strict=True)}
            for row in raw["data"]]


Work = list[tuple[dict[str, Any], dict[str, Any]]]  # (lflow row, datapath row)


def read_sb(sb: Sandbox) -> tuple[Work, Lookups]:
    """Every (lflow, datapath) pair, and the lookups a chassis would have."""
    chassis = {r["_uuid"]: r["name"] for r in _rows(sb, "Chassis")}
    dps = {r["_uuid"]: r for r in _rows(sb, "Datapath_Binding")}
    groups = {r["_uuid"]: _set(r["datapaths"]) for r in _rows(sb, "Logical_DP_Group")}
    ports: dict[tuple[int, str], int] = {}
    related: set[tuple[int, int]] = set()
    for pb in _rows(sb, "Port_Binding"):
        key = dps[pb["datapath"]]["tunnel_key"]
        ports[key, pb["logical_port"]] = pb["tunnel_key"]
        if chassis.get(_one(pb["chassis"]) or "") == CHASSIS or pb["type"] == "patch":
            related.add((key, pb["tunnel_key"]))
    for mg in _rows(sb, "Multicast_Group"):
        ports[dps[mg["datapath"]]["tunnel_key"], mg["name"]] = mg["tunnel_key"]
    ids: dict[str, int] = {}
    lookups = Lookups(
        lookup_port=lambda dp, name: ports.get((dp, name)),
        is_related_port=lambda dp, port: (dp, port) in related,
        address_sets={r["name"]: _set(r["addresses"]) for r in _rows(sb, "Address_Set")},
        port_groups={r["name"]: _set(r["ports"]) for r in _rows(sb, "Port_Group")},
        dhcp_opts={r["name"]: GenOptionDef(r["name"], r["code"], r["type"])
                   for r in _rows(sb, "DHCP_Options")},
        dhcpv6_opts={r["name"]: GenOptionDef(r["name"], r["code"], r["type"])
                     for r in _rows(sb, "DHCPv6_Options")},
        meter_id=lambda name: ids.setdefault(name, len(ids) + 1),
        group_id=lambda name: ids.setdefault(name, len(ids) + 1))
    work: Work = []
    for lf in _rows(sb, "Logical_Flow"):
        dp = _one(lf["logical_datapath"])
        for dp_uuid in [dp] if dp else groups.get(_one(lf["logical_dp_group"]), []):
            work.append((lf, dps[dp_uuid]))
    return work, lookups


def translate_all(work: Work, lookups: Lookups) -> tuple[float, int, int]:
    """Translate everything once with a fresh conjunction id allocator.

    Returns the seconds taken, the flows made and the lflows rejected.
    """
    lookups = Lookups(**{**lookups.__dict__, "conj_ids": ConjIdAllocator()})
    n_flows = n_errors = 0
    t0 = time.perf_counter()
    for lf, dp in work:
        try:
            n_flows += len(translate_lflow(
                lf["_uuid"], lf["pipeline"], lf["table_id"], lf["priority"], lf["match"],
                lf["actions"], dp_key=dp["tunnel_key"], lookups=lookups,
                is_switch="logical-switch" in dp["external_ids"],
                controller_meter=_one(lf["controller_meter"]),
                in_out_port=lf["tags"].get("in_out_port")))
        except LflowTranslateError:
            n_errors += 1
    return time.perf_counter() - t0, n_flows, n_errors


def phases(work: Work, lookups: Lookups) -> dict[str, float]:
    """Seconds spent parsing, compiling and encoding, summed over all lflows."""
    spent = {"parse": 0.0, "compile": 0.0, "encode": 0.0}
    for lf, dp in work:
        key = dp["tunnel_key"]
        pipeline = Pipeline(lf["pipeline"])
        t0 = time.perf_counter()
        try:
            acts = parse_actions(lf["actions"], params=ActionParams(
                pipeline, lf["table_id"], dhcp_opts=lookups.dhcp_opts,
                dhcpv6_opts=lookups.dhcpv6_opts))
            expr = parse_expr(lf["match"], address_sets=lookups.address_sets,
                              port_groups=lookups.port_groups, dp_key=key).expr
            expr = annotate(combine(And, expr, acts.prereqs))
        except LflowError:
            continue
        t1 = time.perf_counter()

        def port(name: str, key: int = key) -> int | None:
            return lookups.lookup_port(key, name)

        try:
            compile_match(expr, lookup_port=port, conj_id_base=1)
        except LflowError:
            continue
        t2 = time.perf_counter()
        encode_actions(acts.actions, EncodeParams(
            pipeline=pipeline, table_id=lf["table_id"], lookup_port=port,
            meter_id=lookups.meter_id, group_id=lookups.group_id))
        t3 = time.perf_counter()
        spent["parse"] += t1 - t0
        spent["compile"] += t2 - t1
        spent["encode"] += t3 - t2
    return spent


def ovn_recompute_ms(sb: Sandbox, repeat: int) -> list[float]:
    """Durations of forced full recomputes of real ovn-controller's engine."""
    ctl = str(procs.daemon_in(sb.dir, "controller").ctl)

    def appctl(*args: str) -> str:
        return sb.run(["ovn-appctl", "-t", ctl, *args])

    out = []
    for _ in range(repeat):
        appctl("stopwatch/reset", "flow-generation")
        appctl("inc-engine/recompute")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = appctl("stopwatch/show", "flow-generation")
            samples = int(text.split("Total samples:")[1].split()[0])
            if samples:
                out.append(float(text.split("Maximum:")[1].split()[0]))
                break
            time.sleep(0.05)
    return out


def build_nb(sb: Sandbox, n_ports: int) -> None:
    """The benchmark's Northbound, applied in a few transactions, all ports bound."""
    cmds: list[list[str]] = [["ls-add", "sw0"]]
    for i in range(n_ports):
        name = f"p{i}"
        cmds += [["lsp-add", "sw0", name],
                 ["lsp-set-addresses", name,
                  f"50:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x} "
                  f"10.{i >> 16 & 255}.{i >> 8 & 255}.{(i & 255) + 1}"]]
    cmds += [["create", "Address_Set", "name=web", 'addresses="10.0.0.1","10.0.0.2"'],
             ["create", "Address_Set", "name=blocked", 'addresses="192.168.0.0/16"'],
             ["pg-add", "pg_all", *(f"p{i}" for i in range(n_ports))],
             ["acl-add", "pg_all", "to-lport", "1002",
              "outport == @pg_all && ip4 && ip4.src == $web && tcp.dst == {80, 443}",
              "allow-related"],
             ["acl-add", "pg_all", "from-lport", "1001", "inport == @pg_all && ip4",
              "allow-related"],
             ["acl-add", "sw0", "from-lport", "1000", "ip4.dst == $blocked", "drop"],
             ["acl-add", "sw0", "to-lport", "999", "udp.dst == 53", "allow"]]
    for start in range(0, len(cmds), 600):
        argv: list[str] = []
        for cmd in cmds[start:start + 600]:
            argv += ["--", *cmd] if argv else cmd
        sb.nbctl(*argv)
    for start in range(0, n_ports, 250):
        argv = []
        for i in range(start, min(n_ports, start + 250)):
            argv += ["--", "add-port", "br-int", f"v{i}", "--", "set", "Interface", f"v{i}",
                     "type=dummy", f"external_ids:iface-id=p{i}"]
        sb.vsctl(*argv[1:], timeout=300)
    sb.nbctl("--wait=hv", "sync", timeout=600)


def _median(f: Callable[[], float], repeat: int) -> tuple[float, list[float]]:
    runs = [f() for _ in range(repeat)]
    return statistics.median(runs), runs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures; with --out write lflow_translate.{md,json}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write lflow_translate.{md,json} here")
    args = parser.parse_args(argv)
    procs.become_subreaper()
    with tempfile.TemporaryDirectory(prefix="pyovn-bench-lflow-") as tmp:
        sb = Sandbox(Path(tmp) / "sb")
        try:
            sb.start(SandboxConfig(northd="ovn", controller="ovn"))
            build_nb(sb, args.ports)
            work, lookups = read_sb(sb)
            n_flows = n_errors = 0

            def run_pyovn() -> float:
                nonlocal n_flows, n_errors
                seconds, n_flows, n_errors = translate_all(work, lookups)
                return seconds

            pyovn_s, pyovn_runs = _median(run_pyovn, args.repeat)
            split = phases(work, lookups)
            ovn_runs = ovn_recompute_ms(sb, args.repeat)
            crashes = sb.controller_crashes
        finally:
            sb.stop()
            procs.stop_all_in(sb.dir)
    ovn_ms = statistics.median(ovn_runs) if ovn_runs else float("nan")
    n = len(work)
    result = {
        "ports": args.ports, "lflow_translations": n, "flows": n_flows,
        "rejected_lflows": n_errors,
        "pyovn_total_ms": pyovn_s * 1000, "pyovn_runs_ms": [r * 1000 for r in pyovn_runs],
        "pyovn_us_per_lflow": pyovn_s / n * 1e6,
        "pyovn_phase_us_per_lflow": {k: v / n * 1e6 for k, v in split.items()},
        "ovn_controller_recompute_ms": ovn_ms, "ovn_controller_runs_ms": ovn_runs,
        "ratio_pyovn_over_ovn": pyovn_s * 1000 / ovn_ms if ovn_ms else None,
        "ovn_controller_crashes_at_start": crashes,
    }
    lines = [
        f"{n:,} (lflow, datapath) translations, {n_flows:,} OpenFlow flows "
        f"({args.ports:,} bound ports; {n_errors} rejected)",
        f"pyovn translate: {pyovn_s * 1000:8.1f} ms  ({pyovn_s / n * 1e6:.1f} us per lflow; "
        + ", ".join(f"{k} {v / n * 1e6:.1f} us" for k, v in split.items()) + ")",
        f"ovn-controller full recompute (engine run): {ovn_ms:8.1f} ms",
        f"ratio pyovn / ovn-controller: {result['ratio_pyovn_over_ovn']:.1f}x",
    ]
    print("\n".join(lines))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "lflow_translate.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.out / "lflow_translate.md").write_text(
            "Logical flow translation, pyovn vs real ovn-controller 23.03.1, same SB\n\n"
            + "".join(f"- {line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
