"""Tables and plots of the ``system`` benchmark, from its results alone (no processes).

The results are what :mod:`bench.system_scale` writes as ``system.json``::

    {"switches": 10, "repeat": 5, "sizes": [1000, 2000], "machine": {...},
     "runs": {"1000": {"ovn": FIGURES, "pyovn": FIGURES}, ...}}

where FIGURES maps the keys of :data:`BULK_ROWS` and ``<step>_s`` (median seconds) /
``<step>_runs_s`` (every run) for each step of :data:`INCREMENTAL` to numbers, or holds
``{"error": "..."}`` when that stack failed at that size. Everything here is pure, so
the tests can check it on a made-up results dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The two stacks, in the order they are shown (reference first).
STACKS = ("ovn", "pyovn")
STACK_LABELS = {"ovn": "OVN 23.03", "pyovn": "pyovn"}

#: Figures of the bulk phase: (label, key).
BULK_ROWS: tuple[tuple[str, str], ...] = (
    ("bulk until `--wait=hv sync` returns (s)", "bulk_wait_hv_s"),
    ("bulk until every port is up (s)", "bulk_all_up_s"),
    ("… of which in the batched ovn-nbctl calls (s)", "bulk_nbctl_s"),
    ("… of which in the batched ovs-vsctl --no-wait calls (s)", "bulk_vsctl_s"),
    ("logical flows (SB)", "lflows"),
    ("OpenFlow flows (br-int)", "openflow_flows"),
    ("northd RSS after bulk (MB)", "northd_rss_mb"),
    ("northd peak RSS (MB)", "northd_peak_rss_mb"),
    ("northd CPU, start to end of bulk (s)", "northd_cpu_s"),
    ("controller RSS after bulk (MB)", "controller_rss_mb"),
    ("controller peak RSS (MB)", "controller_peak_rss_mb"),
    ("controller CPU, start to end of bulk (s)", "controller_cpu_s"),
    ("northd CPU over all incremental steps (s)", "northd_incremental_cpu_s"),
    ("controller CPU over all incremental steps (s)", "controller_incremental_cpu_s"),
)

#: Incremental steps at size N: (key, label). Each is timed with ``--wait=hv`` except
#: the two port-bind figures, which end when the binding is visible (see system_scale).
INCREMENTAL: tuple[tuple[str, str], ...] = (
    ("port_add", "NB port add"),
    ("port_bind_ofport", "port bind → ofport (ovs-vswitchd)"),
    ("port_bind_installed", "port bind → ovn-installed"),
    ("port_bind_up", "port bind → Port_Binding up"),
    ("port_bind_after_ofport", "port bind: ofport → ovn-installed"),
    ("acl_add", "ACL add"),
    ("address_set_add", "address-set member add"),
    ("port_group_add", "port-group member add"),
    ("port_del", "port delete (bound)"),
)

#: The PNG files :func:`plot` writes.
PLOTS = ("system_bulk.png", "system_incremental.png", "system_scaling.png")

Results = Mapping[str, Any]


def sizes_of(results: Results) -> list[int]:
    """The port counts measured, ascending."""
    return sorted(int(n) for n in results.get("runs", {}))


def figure(results: Results, size: int, stack: str, key: str) -> float | None:
    """One number, or None when that stack has no such figure at that size."""
    value = results.get("runs", {}).get(str(size), {}).get(stack, {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def ratio(pyovn: float | None, ovn: float | None) -> str:
    """``pyovn / ovn`` to two decimals, or a dash when either is missing or ovn is 0."""
    if pyovn is None or ovn is None or ovn == 0:
        return "—"
    return f"{pyovn / ovn:.2f}"


def fmt(value: float | None, unit: str = "") -> str:
    """A figure as a table cell: ms with one decimal, seconds/MB with two, counts whole."""
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value * 1000:.1f}"
    if value.is_integer() and unit != "s":
        return f"{int(value):,}"
    return f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows)]


def size_table(results: Results, size: int) -> list[str]:
    """Bulk and incremental figures at one size, both stacks, with the ratio."""
    rows = []
    for label, key in BULK_ROWS:
        a, b = figure(results, size, "ovn", key), figure(results, size, "pyovn", key)
        unit = "s" if key.endswith("_s") else ""
        rows.append([label, fmt(a, unit), fmt(b, unit), ratio(b, a)])
    for key, label in INCREMENTAL:
        a = figure(results, size, "ovn", f"{key}_s")
        b = figure(results, size, "pyovn", f"{key}_s")
        rows.append([f"{label} (ms, median)", fmt(a, "ms"), fmt(b, "ms"), ratio(b, a)])
    header = ["figure", STACK_LABELS["ovn"], STACK_LABELS["pyovn"], "pyovn / OVN"]
    return _table(header, rows)


def scaling_table(results: Results) -> list[str]:
    """Each incremental median (ms) per size for both stacks, and its growth from the
    smallest size to the largest (1.00 = flat)."""
    sizes = sizes_of(results)
    header = ["step"] + [f"{STACK_LABELS[s]} @ {n:,}" for s in STACKS for n in sizes]
    if len(sizes) > 1:
        header += [f"{STACK_LABELS[s]} growth" for s in STACKS]
    rows = []
    for key, label in INCREMENTAL:
        row = [label] + [fmt(figure(results, n, s, f"{key}_s"), "ms")
                         for s in STACKS for n in sizes]
        if len(sizes) > 1:
            row += [ratio(figure(results, sizes[-1], s, f"{key}_s"),
                          figure(results, sizes[0], s, f"{key}_s")) for s in STACKS]
        rows.append(row)
    return _table(header, rows)


def errors(results: Results) -> list[str]:
    """One line per (size, stack) run that failed."""
    out = []
    for n in sizes_of(results):
        for stack in STACKS:
            error = results["runs"][str(n)].get(stack, {}).get("error")
            if error:
                out.append(f"- {STACK_LABELS[stack]} at {n:,} ports failed: {error}")
    return out


def machine_line(results: Results) -> str:
    """Where, when and with what the figures were measured."""
    m = results.get("machine", {})
    if not m:
        return "machine: not recorded"
    return (f"{m.get('date', '?')}, {m.get('cpus', '?')} cores, Python {m.get('python', '?')},"
            f" {m.get('ovn-northd', '?')}, {m.get('ovn-controller', '?')},"
            f" {m.get('ovs-vswitchd', '?')}, pyovn {m.get('pyovn', '?')}")


def markdown(results: Results, plots: list[str] | None = None) -> str:
    """The whole report: one table per size, the scaling table, failures, plot links."""
    sizes = sizes_of(results)
    switches = results.get("switches", "?")
    out = ["# Full stacks: pyovn-northd + pyovn-controller vs ovn-northd + ovn-controller",
           "",
           f"N bound ports over {switches} switches, each stack in its own sandbox, same "
           f"run; incremental figures are medians of {results.get('repeat', '?')} runs at "
           "size N. Measured " + machine_line(results) + ".", ""]
    for n in sizes:
        out += [f"## {n:,} ports", "", *size_table(results, n), ""]
    if sizes:
        out += ["## Scaling of the incremental steps (ms, median)", "",
                *scaling_table(results), ""]
    failed = errors(results)
    if failed:
        out += ["## Failures", "", *failed, ""]
    if plots:
        out += ["## Plots", "", *(f"![{p}]({p})" for p in plots), ""]
    return "\n".join(out)


def plot(results: Results, out_dir: Path) -> list[str]:
    """Write :data:`PLOTS` into ``out_dir``; return their file names.

    Uses matplotlib's Agg renderer through :class:`~matplotlib.figure.Figure` (no pyplot,
    no display). Returns [] when matplotlib is not installed: the tables do not need it.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return []
    sizes = sizes_of(results)
    styles: dict[str, dict[str, Any]] = {
        "ovn": {"color": "tab:gray", "marker": "s", "linestyle": "--"},
        "pyovn": {"color": "tab:blue", "marker": "o", "linestyle": "-"}}

    def series(stack: str, key: str, scale: float = 1.0) -> tuple[list[int], list[float]]:
        points = [(n, figure(results, n, stack, key)) for n in sizes]
        kept = [(n, v * scale) for n, v in points if v is not None]
        return [n for n, _ in kept], [v for _, v in kept]

    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for stack in STACKS:
        xs, ys = series(stack, "bulk_wait_hv_s")
        ax.plot(xs, ys, label=f"{STACK_LABELS[stack]}: until --wait=hv", **styles[stack])
        xs, ys = series(stack, "bulk_all_up_s")
        ax.plot(xs, ys, label=f"{STACK_LABELS[stack]}: until all ports up",
                color=styles[stack]["color"], marker="x", linestyle=":")
    ax.set(xlabel="bound ports (N)", ylabel="seconds", title="Bulk convergence")
    _axis_from_zero(ax, sizes)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.savefig(out_dir / PLOTS[0], dpi=110)

    largest = sizes[-1] if sizes else 0
    fig = Figure(figsize=(9.5, 4.4), layout="constrained")
    ax = fig.add_subplot()
    width = 0.38
    positions = list(range(len(INCREMENTAL)))
    for i, stack in enumerate(STACKS):
        values = [(figure(results, largest, stack, f"{k}_s") or 0.0) * 1000
                  for k, _ in INCREMENTAL]
        offsets = [p + (i - 0.5) * width for p in positions]
        bars = ax.bar(offsets, values, width, label=STACK_LABELS[stack],
                      color=styles[stack]["color"])
        ax.bar_label(bars, fmt="%.0f", fontsize="x-small")
    ax.set_xticks(positions, [label for _, label in INCREMENTAL], rotation=25, ha="right",
                  fontsize="small")
    ax.set(ylabel="ms (median)", title=f"Incremental steps at {largest:,} ports")
    ax.legend()
    fig.savefig(out_dir / PLOTS[1], dpi=110)

    fig = Figure(figsize=(10.0, 8.4), layout="constrained")
    axes = fig.subplots(-(-len(INCREMENTAL) // 3), 3, squeeze=False).flatten()
    for ax, (key, label) in zip(axes, INCREMENTAL, strict=False):
        for stack in STACKS:
            xs, ys = series(stack, f"{key}_s", 1000)
            ax.plot(xs, ys, label=STACK_LABELS[stack], **styles[stack])
        ax.set_title(label, fontsize="small")
        _axis_from_zero(ax, sizes)
        ax.tick_params(labelsize="x-small")
        ax.grid(alpha=0.3)
    for ax in axes[::3]:
        ax.set_ylabel("ms (median)")
    for ax in axes[len(INCREMENTAL):]:
        ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(STACKS))
    fig.suptitle("Incremental steps vs bound ports (N)")
    fig.savefig(out_dir / PLOTS[2], dpi=110)
    return list(PLOTS)


def _axis_from_zero(ax: Any, sizes: list[int]) -> None:
    # Zero-based so that flat and growing lines look it; headroom so no point sits on
    # the frame; one tick per measured size (with one size matplotlib invents others).
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
