"""The ``system`` benchmark's report: tables and plots made from a results dict alone,
and its pure helpers (sizes, port layout)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from bench import system_report, system_scale


def _figures(scale: float, ports: int) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "ports": ports, "bulk_wait_hv_s": 2.0 * scale, "bulk_all_up_s": 2.5 * scale,
        "lflows": 3 * ports, "openflow_flows": 9 * ports, "northd_rss_mb": 40.0 * scale,
        "controller_cpu_s": 1.5 * scale}
    for i, (key, _) in enumerate(system_report.INCREMENTAL):
        figures[f"{key}_s"] = (i + 1) * 0.01 * scale
        figures[f"{key}_runs_s"] = [figures[f"{key}_s"]] * 3
    figures["port_add_s"] = 0.01 * scale
    figures["acl_add_s"] = 0.02 * scale
    return figures


def _results() -> dict[str, Any]:
    return {"switches": 10, "repeat": 3, "sizes": [1000, 2000],
            "machine": {"date": "2026-01-01T00:00:00+00:00", "cpus": 2,
                        "ovn-northd": "ovn-northd 23.03.1"},
            "runs": {"2000": {"ovn": _figures(4.0, 2000), "pyovn": _figures(1.0, 2000)},
                     "1000": {"ovn": _figures(2.0, 1000), "pyovn": _figures(1.0, 1000)}}}


def _row(lines: list[str], label: str) -> list[str]:
    line = next(line for line in lines if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_sizes_are_read_from_the_run_keys_in_numeric_order() -> None:
    assert system_report.sizes_of(_results()) == [1000, 2000]


def test_size_table_gives_both_stacks_and_the_pyovn_over_ovn_ratio() -> None:
    lines = system_report.size_table(_results(), 2000)
    assert lines[0] == "| figure | OVN 23.03 | pyovn | pyovn / OVN |"
    assert _row(lines, "bulk until `--wait=hv sync` returns (s)")[1:] == ["8.00", "2.00",
                                                                          "0.25"]
    assert _row(lines, "logical flows (SB)")[1:] == ["6,000", "6,000", "1.00"]
    # Incremental medians are shown in milliseconds.
    assert _row(lines, "NB port add (ms, median)")[1:] == ["40.0", "10.0", "0.25"]


def test_missing_figures_and_a_zero_reference_show_a_dash() -> None:
    results = _results()
    del results["runs"]["1000"]["pyovn"]["northd_rss_mb"]
    results["runs"]["1000"]["ovn"]["lflows"] = 0
    lines = system_report.size_table(results, 1000)
    assert _row(lines, "northd RSS after bulk (MB)")[2:] == ["—", "—"]
    assert _row(lines, "logical flows (SB)")[3] == "—"
    assert _row(lines, "controller peak RSS (MB)")[1:] == ["—", "—", "—"]


def test_scaling_table_shows_each_size_and_growth_from_smallest_to_largest() -> None:
    lines = system_report.scaling_table(_results())
    assert lines[0] == ("| step | OVN 23.03 @ 1,000 | OVN 23.03 @ 2,000 | pyovn @ 1,000 |"
                        " pyovn @ 2,000 | OVN 23.03 growth | pyovn growth |")
    # ovn doubles (scale 2 -> 4), pyovn stays flat (1 -> 1).
    assert _row(lines, "ACL add")[1:] == ["40.0", "80.0", "20.0", "20.0", "2.00", "1.00"]


def test_scaling_table_with_one_size_has_no_growth_columns() -> None:
    results = _results()
    del results["runs"]["2000"]
    assert "growth" not in system_report.scaling_table(results)[0]


def test_markdown_lists_failed_runs_and_links_the_plots() -> None:
    results = _results()
    results["runs"]["2000"]["pyovn"] = {"ports": 2000, "error": "SandboxError: boom"}
    text = system_report.markdown(results, ["system_bulk.png"])
    assert "## 1,000 ports" in text and "## 2,000 ports" in text
    assert "- pyovn at 2,000 ports failed: SandboxError: boom" in text
    assert "![system_bulk.png](system_bulk.png)" in text
    assert "2 cores" in text and "ovn-northd 23.03.1" in text


def test_plot_writes_three_png_files(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    names = system_report.plot(_results(), tmp_path)
    assert names == list(system_report.PLOTS)
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_plot_copes_with_a_stack_that_failed(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    results = _results()
    results["runs"]["2000"]["ovn"] = {"ports": 2000, "error": "boom"}
    assert len(system_report.plot(results, tmp_path)) == 3


def test_parse_sizes_sorts_and_dedupes_and_rejects_non_positive() -> None:
    assert system_scale.parse_sizes("2000,1000,2000") == [1000, 2000]
    for bad in ("", "0", "x,1"):
        with pytest.raises(argparse.ArgumentTypeError):
            system_scale.parse_sizes(bad)


def test_ports_are_spread_over_ten_switches_to_the_exact_total() -> None:
    assert system_scale.ports_per_switch(1005) == [101] * 5 + [100] * 5
    assert sum(system_scale.ports_per_switch(2000)) == 2000
