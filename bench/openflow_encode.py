"""Benchmark: how fast pyovn's OpenFlow codec builds, encodes and decodes flow_mods.

Flows look like ovn-controller 23.03's logical-switch tables 8..40: metadata
(datapath key), reg14/reg15 (logical ports), Ethernet/IP fields, and actions such
as resubmit, ct(...), reg loads and conjunction.  Prints one line per phase:

- build: constructing canonical ``Flow`` objects (Match + actions);
- first encode: ``FlowMod.add(flow).encode(xid)`` on flows never encoded before;
- cached encode: the same again (a match keeps its bytes; the actions are encoded
  again: keeping whole flows' bytes cost more memory than it saved time);
- bundle: wrapping the cached flow_mods in one bundle with OFConnection.bundle();
- decode: decoding the flows back from a flow-stats reply (what a restart reads).

Target (DESIGN.md section 7): >= 50,000 flow_mods/s on the cached path.

    .venv/bin/python bench/openflow_encode.py [--flows N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pyovn.openflow import (
    Conjunction,
    Ct,
    Flow,
    FlowMod,
    FlowStats,
    FlowStatsReply,
    Match,
    Nat,
    OFConnection,
    Resubmit,
    SetField,
    decode_message,
    load,
    move,
)

TARGET = 50_000


def ovn_like_flows(n: int) -> list[Flow]:
    """``n`` distinct flows shaped like a logical switch pipeline."""
    flows = []
    for i in range(n):
        table = 8 + i % 33
        dp = 1 + i % 50
        port = 1 + i % 1000
        kind = i % 6
        mac = 0x0A0000000000 | i
        if kind == 0:
            match = Match(reg14=port, metadata=dp, eth_src=mac)
            actions = [load(1, "reg10[12]"), Resubmit(table=table + 1)]
        elif kind == 1:
            match = Match(metadata=dp, eth_dst=mac)
            actions = [load(port, "reg15[]"), Resubmit(table=37)]
        elif kind == 2:
            match = Match(ip=True, reg14=port, metadata=dp, eth_src=mac,
                          ip_src=0x0A000000 | i & 0xFFFFFF)
            actions = [Resubmit(table=table + 1)]
        elif kind == 3:
            match = Match(ip=True, metadata=dp, ct_state="-new+est-rel-inv+trk",
                          ct_label=(0, 1 << 96))
            actions = [load(1, "reg0[9]"), Resubmit(table=table + 1)]
        elif kind == 4:
            match = Match(tcp=True, reg15=port, metadata=dp, ip_dst=0x0A000000 | i & 0xFFFFFF,
                          tcp_dst=80 + i % 1000)
            actions = [Ct(commit=True, zone="NXM_NX_REG13[0..15]",
                          exec=(SetField("ct_label", 0, 1 << 96),)),
                       Conjunction(i, 1, 2), Resubmit(table=table + 1)]
        else:
            match = Match(ip=True, metadata=dp, reg15=port, ip_dst=0x0A000000 | i & 0xFFFFFF)
            actions = [move("reg14[0..15]", "reg13[0..15]"),
                       Ct(table=table + 1, zone="NXM_NX_REG11[0..15]", nat=Nat()),
                       load(i, "reg12[]")]
        flows.append(Flow(table, 100 + i % 1000, match, actions, cookie=0x1000_0000 | i))
    return flows


def rate(n: int, seconds: float) -> str:
    """``n`` items in ``seconds`` as a per-second figure."""
    return f"{n / seconds:>10,.0f}/s  ({seconds * 1000:7.1f} ms for {n:,})"


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase, print the rates; with --out also write openflow_encode.{md,json}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=40_000)
    parser.add_argument("--out", type=Path, help="also write openflow_encode.{md,json} here")
    args = parser.parse_args(argv)
    n = args.flows
    rates: dict[str, float] = {}

    t0 = time.perf_counter()
    flows = ovn_like_flows(n)
    t1 = time.perf_counter()
    rates["build"] = n / (t1 - t0)
    print(f"build          {rate(n, t1 - t0)}")

    t0 = time.perf_counter()
    first = [FlowMod.add(f).encode(i) for i, f in enumerate(flows, 1)]
    t1 = time.perf_counter()
    rates["first encode"] = n / (t1 - t0)
    print(f"first encode   {rate(n, t1 - t0)}  flow_mods")

    mods = [FlowMod.add(f) for f in flows]
    t0 = time.perf_counter()
    again = [m.encode(i) for i, m in enumerate(mods, 1)]
    t1 = time.perf_counter()
    assert again == first
    rates["cached encode"] = n / (t1 - t0)
    print(f"cached encode  {rate(n, t1 - t0)}  flow_mods")

    conn = OFConnection()
    conn.hello()
    t0 = time.perf_counter()
    txn = conn.bundle(mods)
    t1 = time.perf_counter()
    rates["bundle"] = n / (t1 - t0)
    print(f"bundle         {rate(n, t1 - t0)}  flow_mods ({len(txn.data) / 1e6:.1f} MB)")

    replies = []
    for start in range(0, n, 200):
        part = tuple(FlowStats(f) for f in flows[start:start + 200])
        replies.append(FlowStatsReply(part, more=start + 200 < n).encode(7))
    t0 = time.perf_counter()
    decoded: list[Flow] = []
    for raw in replies:
        reply = decode_message(raw)
        assert isinstance(reply, FlowStatsReply)
        decoded.extend(reply.flows)
    t1 = time.perf_counter()
    assert decoded == flows
    rates["decode"] = n / (t1 - t0)
    print(f"decode         {rate(n, t1 - t0)}  flows from flow-stats replies")
    target_met = rates["cached encode"] >= TARGET
    print(f"target: cached encode >= {TARGET:,} flow_mods/s — {'met' if target_met else 'MISSED'}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "openflow_encode.json").write_text(json.dumps(
            {"flows": n, "per_second": rates, "target": TARGET, "target_met": target_met},
            indent=2) + "\n")
        rows = "".join(f"| {k} | {v:,.0f} |\n" for k, v in rates.items())
        (args.out / "openflow_encode.md").write_text(
            f"OpenFlow codec, {n:,} flows shaped like ovn-controller's tables 8-40 "
            f"(no OVN counterpart: ovn-controller's C encoder is not separable)\n\n"
            f"| phase | per second |\n|---|---|\n{rows}")
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
