"""Summaries, tables and the plot of the ``restarts`` benchmark, from its results alone
(no processes), so that the tests can check them on a made-up results dict.

The results are what :mod:`bench.restarts` writes as ``restarts.json``::

    {"repeat": 3, "sizes": [2000], "machine": {...},
     "runs": {"2000": {"ovn": STACK, "pyovn": STACK}}}

where STACK holds ``setup_s``, ``elapsed_s`` and ``scenarios``: {SCENARIO: SUMMARY} for
each key of :data:`SCENARIOS`, or ``{"error": "..."}`` when that stack failed at that
size. A SUMMARY is what :func:`summarise` makes of the scenario's attempts: the median of
each of :data:`METRICS` over the clean attempts, how many attempts were made and spoilt,
and every attempt as measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.system_report import (
    STACK_LABELS,
    STACKS,
    errors,
    fmt,
    machine_line,
    ratio,
    sizes_of,
)

#: What is restarted, and how: (key, label, description).
SCENARIOS: tuple[tuple[str, str, str], ...] = (
    ("sigterm", "controller SIGTERM",
     "the controller stopped with SIGTERM and started again"),
    ("sigkill", "controller kill -9",
     "the controller killed with SIGKILL and started again"),
    ("vswitchd", "ovs-vswitchd restart",
     "ovs-vswitchd stopped and started again with empty tables, which the controller "
     "must fill again (`Sandbox.restart_vswitchd()`)"),
    ("vswitchd_restore", "ovs-vswitchd restart, flows restored",
     "as `ovs-ctl --save-flows restart`: flows and groups saved, the new switch started "
     "with `flow-restore-wait`, the saved ones added back, the key removed "
     "(`Sandbox.restart_vswitchd(restore_flows=True)`); the restore's own flow_mods are "
     "not counted"),
)
SCENARIO_KEYS = tuple(key for key, _, _ in SCENARIOS)
SCENARIO_LABELS = {key: label for key, label, _ in SCENARIOS}

#: Figures of one attempt that are summarised by their median: (key, label, unit), the
#: unit as :func:`cell` takes it.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("outage_ms", "outage: longest time without a reply (ms)", "ms"),
    ("lost", "packets lost", ""),
    ("flow_mods", "flow_mods received by ovs-vswitchd", ""),
    ("group_mods", "group_mods received by ovs-vswitchd", ""),
    ("sync_s", "until `ovn-nbctl --wait=hv sync` returns (s)", "s"),
    ("restart_s", "… of which in `restart_vswitchd()` (s)", "s"),
    ("resumed_ms", "traffic back after the new switch was ready (ms)", "ms"),
)
#: Figures only a switch restart has.
SWITCH_METRICS = frozenset({"restart_s", "resumed_ms"})

#: The PNG file :func:`plot` writes.
PLOT = "restarts_outage.png"

Results = Mapping[str, Any]
Attempt = Mapping[str, Any]


def summarise(attempts: Sequence[Attempt]) -> dict[str, Any]:
    """The median of each of :data:`METRICS` over the clean attempts (over all of them
    when every one was spoilt, flagged ``all_spoilt``), with the counts and the attempts.

    An attempt is spoilt when it has a ``spoilt`` reason (a string); ``None`` or a
    missing key means clean.
    """
    clean = [a for a in attempts if not a.get("spoilt")]
    chosen = clean or list(attempts)
    summary: dict[str, Any] = {
        "attempts": len(attempts), "spoilt": len(attempts) - len(clean),
        "all_spoilt": bool(attempts) and not clean,
        "runs": [dict(a) for a in attempts]}
    for key, _, _ in METRICS:
        values = [float(a[key]) for a in chosen if isinstance(a.get(key), int | float)]
        summary[key] = statistics.median(values) if values else None
    return summary


def scenario(results: Results, size: int, stack: str, key: str) -> Mapping[str, Any]:
    """One scenario's summary, or {} when that stack has none at that size."""
    run = results.get("runs", {}).get(str(size), {}).get(stack, {})
    found = run.get("scenarios", {}).get(key, {})
    return found if isinstance(found, Mapping) else {}


def value(results: Results, size: int, stack: str, key: str, metric: str) -> float | None:
    """One median, or None when it is missing."""
    found = scenario(results, size, stack, key).get(metric)
    return float(found) if isinstance(found, int | float) else None


def cell(number: float | None, unit: str) -> str:
    """A median as a table cell: milliseconds whole, seconds with two decimals, counts
    whole (with a half where the median fell between two)."""
    if number is not None and unit == "ms":
        return f"{number:,.0f}"
    return fmt(number, unit)


def _attempts_cell(summary: Mapping[str, Any]) -> str:
    if not summary:
        return "—"
    cell = f"{summary.get('attempts', 0)} ({summary.get('spoilt', 0)} spoilt)"
    return cell + ", all spoilt" if summary.get("all_spoilt") else cell


def size_table(results: Results, size: int) -> list[str]:
    """Every scenario's medians at one size, both stacks, with the pyovn / OVN ratio."""
    header = ["scenario", "figure", STACK_LABELS["ovn"], STACK_LABELS["pyovn"],
              "pyovn / OVN"]
    rows: list[list[str]] = []
    for key, label, _ in SCENARIOS:
        lines: list[list[str]] = []
        for metric, metric_label, unit in METRICS:
            a = value(results, size, "ovn", key, metric)
            b = value(results, size, "pyovn", key, metric)
            if a is None and b is None and metric in SWITCH_METRICS:
                continue  # a controller restart leaves the switch alone
            lines.append(["", metric_label, cell(a, unit), cell(b, unit), ratio(b, a)])
        lines.append(["", "attempts", *(_attempts_cell(scenario(results, size, s, key))
                                        for s in STACKS), ""])
        lines[0][0] = f"**{label}**"
        rows += lines
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows)]


def notes(results: Results, size: int) -> list[str]:
    """What the medians do not show: spoilt attempts and why, start-up crashes, flow
    tables that did not come back as they were, log lines the switch dropped."""
    out: list[str] = []
    for stack in STACKS:
        who = f"{STACK_LABELS[stack]} at {size:,} ports"
        for key, label, _ in SCENARIOS:
            runs = scenario(results, size, stack, key).get("runs", [])
            why = sorted({str(r["spoilt"]) for r in runs if r.get("spoilt")})
            if why:
                out.append(f"- {who}, {label}: spoilt attempts ({'; '.join(why)})")
            differ = [r for r in runs if r.get("table_restored") is False]
            if differ:
                example = next((r["table_changed_sample"][0] for r in differ
                                if r.get("table_changed_sample")), None)
                out.append(f"- {who}, {label}: in {len(differ)} attempt(s) br-int's flow "
                           "table was not the same after the restart as before"
                           + (f" (e.g. `{example}`)" if example else ""))
            inexact = sum(1 for r in runs if r.get("mods_exact") is False)
            if inexact:
                out.append(f"- {who}, {label}: ovs-vswitchd dropped vconn log lines in "
                           f"{inexact} attempt(s), so their mod counts are too low")
        crashes = results.get("runs", {}).get(str(size), {}).get(stack, {}).get(
            "controller_crashes", 0)
        if crashes:
            out.append(f"- {who}: the controller died right after start-up {crashes} "
                       "time(s) and was started again (Sandbox.start_controller)")
    return out


def durations(results: Results, size: int) -> str:
    """How long each stack's sandbox took to set up and to run, at one size."""
    parts = []
    for stack in STACKS:
        run = results.get("runs", {}).get(str(size), {}).get(stack, {})
        if isinstance(run.get("setup_s"), int | float) and isinstance(
                run.get("elapsed_s"), int | float):
            parts.append(f"{STACK_LABELS[stack]} {run['setup_s']:.0f} s setup "
                         f"({run.get('openflow_flows', 0):,} flows on br-int), "
                         f"{run['elapsed_s']:.0f} s in all")
    return "Sandboxes: " + "; ".join(parts) + "." if parts else ""


def markdown(results: Results, plots: Sequence[str] = ()) -> str:
    """The whole report: scenarios, one table per size, notes, failures, the plot."""
    out = ["# Restarts: controller and ovs-vswitchd, pyovn vs OVN 23.03", "",
           "N bound ports over 10 switches and two namespace VMs on a switch of their own, "
           "`ping -i 0.01` from one to the other throughout; each stack "
           "(pyovn-northd + pyovn-controller, ovn-northd + ovn-controller) in its own "
           "sandbox, same run. Each figure is the median of "
           f"{results.get('repeat', '?')} clean attempts. Measured "
           + machine_line(results) + ".", "",
           "- outage: the longest time between two consecutive ping replies over the "
           "attempt (10 ms when nothing happened). Packets lost: requests never answered; "
           "ping sends far fewer requests while none is answered (`transmitted` in the "
           "JSON), so over an outage of seconds the count falls short: the outage is the "
           "measure.",
           "- flow_mods / group_mods: as ovs-vswitchd logged their receipt (`vconn` debug "
           "log), bundled ones included, from just before the restart until after "
           "`--wait=hv sync` returned, the controller (re)synchronised with the switch and "
           "30 more replies came back. Logging each message costs the switch time, which "
           "lengthens somewhat an outage during which a controller sends thousands.",
           "- `--wait=hv sync`: from the signal (or the start of the switch restart) until "
           "`ovn-nbctl --wait=hv sync` returns; for a controller restart the sync is "
           "started while the controller is down, for a switch restart once the new "
           "switch runs. It says when the chassis acknowledged the configuration, not "
           "when traffic flowed again (the outage says that).",
           "- traffic back after the new switch was ready: from the moment "
           "`restart_vswitchd()` returned — the new switch has finished its initial "
           "configuration (it detaches then) and its OpenFlow socket is up; with the "
           "flows restored, they are back and `flow-restore-wait` is removed — to the "
           "reply that ended the outage: mostly the controller's part of the outage "
           "(the rest is the old switch's exit and the new one's start-up; negative when "
           "traffic came back before that moment was noticed).",
           "- spoilt: an attempt during which ovs-vswitchd reconfigured its bridges "
           "because of host interface events (other programs' veths), which stalls its "
           "forwarding of every userspace port; it is made again, as in "
           "tests/e2e/test_hitless_restart.py.", "",
           "Scenarios:", "",
           *(f"- **{label}**: {text}." for _, label, text in SCENARIOS), ""]
    for n in sizes_of(results):
        out += [f"## {n:,} ports", "", *size_table(results, n), ""]
        extra = [line for line in (durations(results, n),) if line] + notes(results, n)
        if extra:
            out += [*extra, ""]
    failed = errors(results)
    if failed:
        out += ["## Failures", "", *failed, ""]
    if isinstance(results.get("elapsed_s"), int | float):
        out += [f"The whole benchmark took {results['elapsed_s']:.0f} s.", ""]
    if plots:
        out += ["## Plot", "", *(f"![{p}]({p})" for p in plots), ""]
    return "\n".join(out)


def plot(results: Results, out_dir: Path) -> list[str]:
    """Write :data:`PLOT` (outage per scenario, OVN and pyovn side by side, one panel per
    size) into ``out_dir``; return [its name], or [] without matplotlib.

    matplotlib's Agg renderer through :class:`~matplotlib.figure.Figure` (no pyplot).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return []
    sizes = sizes_of(results)
    colors = {"ovn": "tab:gray", "pyovn": "tab:blue"}
    fig = Figure(figsize=(max(6.4, 5.2 * len(sizes)), 4.6), layout="constrained")
    axes = fig.subplots(1, max(1, len(sizes)), squeeze=False)[0]
    width = 0.38
    positions = list(range(len(SCENARIOS)))
    for ax, n in zip(axes, sizes or [0], strict=False):
        for i, stack in enumerate(STACKS):
            values = [value(results, n, stack, key, "outage_ms") or 0.0
                      for key in SCENARIO_KEYS]
            bars = ax.bar([p + (i - 0.5) * width for p in positions], values, width,
                          label=STACK_LABELS[stack], color=colors[stack])
            ax.bar_label(bars, fmt="%.0f", fontsize="x-small")
        ax.set_xticks(positions, [label for _, label, _ in SCENARIOS], rotation=20,
                      ha="right", fontsize="small")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.12)  # room for the bar labels
        ax.set(ylabel="longest gap between ping replies (ms, median)",
               title=f"{n:,} bound ports")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle("Data-plane outage of a restart (ping -i 0.01)")
    fig.savefig(out_dir / PLOT, dpi=110)
    return [PLOT]
