"""The ``restarts`` benchmark's pure parts: the summary of attempts, the tables, notes
and plot made from a results dict alone, and the readers of ``ip monitor`` output and of
ovs-vswitchd's vconn debug log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bench import restarts_probes, restarts_report
from bench.restarts_report import SCENARIO_KEYS

from pyovn.sandbox.vconn_log import parse_vswitchd_log


def _attempt(outage: float, *, lost: int = 0, flow_mods: int = 0, sync: float = 1.0,
             spoilt: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"outage_ms": outage, "lost": lost, "flow_mods": flow_mods, "group_mods": 0,
            "sync_s": sync, "spoilt": spoilt, **extra}


def _stack(scale: float, flow_mods: int) -> dict[str, Any]:
    scenarios = {}
    for i, key in enumerate(SCENARIO_KEYS):
        switch = key.startswith("vswitchd")
        extra: dict[str, Any] = ({"restart_s": 4.0, "resumed_ms": 900 * scale} if switch
                                 else {})
        scenarios[key] = restarts_report.summarise(
            [_attempt((i + 1) * 100 * scale, lost=int(10 * scale), flow_mods=flow_mods,
                      sync=2.0 * scale, **extra) for _ in range(3)])
    return {"ports": 2000, "setup_s": 12.0, "elapsed_s": 120.0, "openflow_flows": 17281,
            "controller_crashes": 0, "scenarios": scenarios}


def _results() -> dict[str, Any]:
    return {"repeat": 3, "sizes": [2000], "elapsed_s": 250.0,
            "machine": {"date": "2026-01-01T00:00:00+00:00", "cpus": 2,
                        "ovn-controller": "ovn-controller 23.03.1"},
            "runs": {"2000": {"ovn": _stack(2.0, 17304), "pyovn": _stack(1.0, 0)}}}


def _row(lines: list[str], scenario: str, figure: str) -> list[str]:
    """The cells of ``figure``'s row within ``scenario``'s block of the table."""
    current = ""
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        current = cells[0] or current
        if current == f"**{scenario}**" and cells[1].startswith(figure):
            return cells
    raise LookupError(f"{scenario} / {figure}: no such row")


# -- summary --------------------------------------------------------------------------------

def test_summary_is_the_median_of_the_clean_attempts_and_counts_the_spoilt_ones() -> None:
    summary = restarts_report.summarise([
        _attempt(10, lost=0), _attempt(5000, lost=400, spoilt="host interface events: eth9"),
        _attempt(30, lost=2), _attempt(20, lost=1)])
    assert summary["outage_ms"] == 20 and summary["lost"] == 1
    assert (summary["attempts"], summary["spoilt"], summary["all_spoilt"]) == (4, 1, False)
    assert len(summary["runs"]) == 4


def test_summary_falls_back_to_every_attempt_when_all_were_spoilt() -> None:
    summary = restarts_report.summarise([_attempt(100, spoilt="x"), _attempt(300, spoilt="y")])
    assert summary["outage_ms"] == 200 and summary["all_spoilt"] is True


def test_summary_of_a_figure_no_attempt_has_is_none() -> None:
    assert restarts_report.summarise([_attempt(10)])["restart_s"] is None


# -- tables and notes -----------------------------------------------------------------------

def test_table_gives_both_stacks_and_the_pyovn_over_ovn_ratio_per_scenario() -> None:
    lines = restarts_report.size_table(_results(), 2000)
    assert lines[0] == "| scenario | figure | OVN 23.03 | pyovn | pyovn / OVN |"
    assert _row(lines, "controller SIGTERM", "outage")[2:] == ["200", "100", "0.50"]
    assert _row(lines, "controller SIGTERM", "flow_mods")[2:] == ["17,304", "0", "0.00"]
    assert _row(lines, "controller kill -9", "until `ovn-nbctl")[2:] == ["4.00", "2.00",
                                                                         "0.50"]
    assert _row(lines, "controller kill -9", "attempts")[2:4] == ["3 (0 spoilt)"] * 2


def test_switch_restart_time_is_shown_only_for_switch_restarts() -> None:
    lines = restarts_report.size_table(_results(), 2000)
    assert _row(lines, "ovs-vswitchd restart", "… of which")[2:] == ["4.00", "4.00", "1.00"]
    assert _row(lines, "ovs-vswitchd restart", "traffic back after")[2:] == [
        "1,800", "900", "0.50"]
    for figure in ("… of which", "traffic back after"):
        with pytest.raises(LookupError):
            _row(lines, "controller SIGTERM", figure)


def test_a_stack_that_failed_shows_dashes() -> None:
    results = _results()
    results["runs"]["2000"]["ovn"] = {"ports": 2000, "error": "SandboxError: boom"}
    lines = restarts_report.size_table(results, 2000)
    assert _row(lines, "controller SIGTERM", "outage")[2:] == ["—", "100", "—"]
    assert _row(lines, "controller SIGTERM", "attempts")[2] == "—"


def test_notes_name_spoilt_attempts_crashes_changed_tables_and_dropped_log_lines() -> None:
    results = _results()
    runs = results["runs"]["2000"]
    runs["ovn"]["controller_crashes"] = 2
    runs["pyovn"]["scenarios"]["vswitchd"] = restarts_report.summarise([
        _attempt(10, spoilt="host interface events: veth1"),
        _attempt(10, table_restored=False, mods_exact=False,
                 table_changed_sample=["table=0 priority=0: a -> b"]), _attempt(10)])
    notes = restarts_report.notes(results, 2000)
    assert ("- pyovn at 2,000 ports, ovs-vswitchd restart: spoilt attempts "
            "(host interface events: veth1)") in notes
    assert any("1 attempt(s) br-int's flow table was not the same after the restart as "
               "before (e.g. `table=0 priority=0: a -> b`)" in n for n in notes)
    assert any("dropped vconn log lines in 1 attempt(s)" in n for n in notes)
    assert any(n.startswith("- OVN 23.03 at 2,000 ports: the controller died") for n in notes)
    assert restarts_report.notes(_results(), 2000) == []


def test_markdown_has_the_scenarios_table_durations_failures_and_plot() -> None:
    results = _results()
    results["runs"]["5000"] = {"ovn": {"ports": 5000, "error": "TimeoutError: slow"}}
    text = restarts_report.markdown(results, [restarts_report.PLOT])
    assert "## 2,000 ports" in text and "## 5,000 ports" in text
    assert "- OVN 23.03 at 5,000 ports failed: TimeoutError: slow" in text
    assert "OVN 23.03 12 s setup (17,281 flows on br-int), 120 s in all" in text
    assert "The whole benchmark took 250 s." in text
    assert f"![{restarts_report.PLOT}]({restarts_report.PLOT})" in text
    assert "median of 3 clean attempts" in text and "2 cores" in text
    for _, label, _ in restarts_report.SCENARIOS:
        assert f"- **{label}**: " in text


def test_plot_writes_a_png_even_when_a_stack_failed(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    results = _results()
    results["runs"]["5000"] = {"ovn": {"ports": 5000, "error": "boom"}, "pyovn": _stack(1, 0)}
    assert restarts_report.plot(results, tmp_path) == [restarts_report.PLOT]
    data = (tmp_path / restarts_report.PLOT).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


# -- readers --------------------------------------------------------------------------------

_MONITOR = """\
934: rxt1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN \\    link/ether e6:24
935: pvab12cd00@if2: <BROADCAST,MULTICAST,PROMISC,UP> mtu 1500 state UP \\    link/ether ca:0b
Deleted 936: veth7: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN \\    link/ether ca:0c
"""


def test_link_events_are_the_other_interfaces_that_changed() -> None:
    assert restarts_probes.link_events(_MONITOR, {"pvab12cd00"}) == ["rxt1", "veth7"]
    assert restarts_probes.link_events("", {"pvab12cd00"}) == []


def _entry(n: int, conn: str, what: str, *rest: str) -> str:
    head = f"2026-11-23T12:40:30.820Z|{n:05d}|vconn|DBG|{conn}: received: {what}"
    return "\n".join([head, *rest])


_LOG = "\n".join([
    _entry(1, "unix#1", "OFPT_HELLO (OF1.5) (xid=0x1):", " version bitmap: 0x06"),
    _entry(2, "unix#1", "OFPST_TABLE_FEATURES request (OF1.5) (xid=0x2):"),
    _entry(3, "unix#2", "OFPT_HELLO (OF1.5) (xid=0x5):", " version bitmap: 0x06"),
    _entry(4, "unix#2", "OFPT_BUNDLE_CONTROL (OF1.5) (xid=0x93):",
           " bundle_id=0 type=OPEN_REQUEST flags=atomic ordered"),
    _entry(5, "unix#2", "OFPT_BUNDLE_ADD_MESSAGE (OF1.5) (xid=0x6):",
           " bundle_id=0 flags=atomic ordered",
           "OFPT_FLOW_MOD (OF1.5) (xid=0x6): ADD priority=100,in_port=1 cookie:0xc3 "
           "actions=resubmit(,8)"),
    _entry(6, "unix#3", "NXT_TLV_TABLE_REQUEST (OF1.5) (xid=0x7):"),
    _entry(7, "unix#3", "OFPT_BUNDLE_ADD_MESSAGE (OF1.5) (xid=0x8):",
           " bundle_id=1 flags=atomic ordered",
           "OFPT_FLOW_MOD (OF1.5) (xid=0x8): DEL priority=0 actions=drop"),
    _entry(8, "unix#3", "OFPT_GROUP_MOD (OF1.5) (xid=0x9):", " DEL group_id=all"),
]) + "\n"


def test_restore_connections_are_those_that_sent_only_what_ovs_ofctl_sends() -> None:
    assert restarts_probes.ofctl_connections(_LOG) == {"unix#1", "unix#2"}


def test_mods_of_the_controller_are_counted_without_the_restore() -> None:
    restorers = restarts_probes.ofctl_connections(_LOG)
    mods = [m for m in parse_vswitchd_log(_LOG).mods if m.connection not in restorers]
    assert restarts_probes.mod_figures(mods) == {"flow_mods": 1, "group_mods": 1, "meter_mods": 0,
                                          "flow_mod_commands": {"DEL": 1}}


def test_table_figures_say_whether_the_flow_table_came_back_and_what_differs() -> None:
    before = {(0, "priority=100,in_port=1"): "cookie=0x1 actions=drop",
              (8, "priority=50"): "cookie=0x2 actions=resubmit(,9)"}
    assert restarts_probes.table_figures(before, dict(before))["table_restored"] is True
    after = {(0, "priority=100,in_port=1"): "cookie=0x1 actions=output:2",
             (9, "priority=0"): "cookie=0x3 actions=drop"}
    figures = restarts_probes.table_figures(before, after, sample=2)
    assert (figures["flows_before"], figures["flows_after"]) == (2, 2)
    assert figures["table_restored"] is False and figures["table_changed"] == 3
    assert figures["table_changed_sample"] == [
        "table=0 priority=100,in_port=1: cookie=0x1 actions=drop -> cookie=0x1 "
        "actions=output:2",
        "table=8 priority=50: cookie=0x2 actions=resubmit(,9) -> (none)"]


def test_a_controller_counts_as_connected_once_it_began_its_resync() -> None:
    assert restarts_probes.controller_connected({"unix#1": {"OFPT_HELLO"},
                                          "unix#3": {"OFPT_HELLO", "NXT_TLV_TABLE_REQUEST"}})
    assert restarts_probes.controller_connected({"unix#0": {"OFPT_HELLO", "OFPST_FLOW"}})
    assert not restarts_probes.controller_connected({"unix#2": {"OFPT_HELLO",
                                                         "OFPT_BUNDLE_ADD_MESSAGE"}})
