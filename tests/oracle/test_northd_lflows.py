"""pyovn-northd's logical flows equal real ovn-northd 23.03.1's, scenario by scenario.

Each scenario is a list of ``ovn-nbctl`` commands (``sbctl …`` lines go to the SB). It
runs in a sandbox with real ovn-northd and in one with pyovn-northd (no controller in
either); both Southbounds' Logical_Flow rows are compared as (datapath names, pipeline,
table, priority, match, actions), datapath groups resolved. A second comparison holds
pyovn's flow generation alone (fed by the minimal NB adapter of the test support, from
the very NB real ovn-northd read) against the same oracle, so a difference is
attributed to generation or to the NB model. A third compares the flows' attributes:
``tags:in_out_port`` and the NB row ``external_ids:stage-hint`` points to.

Differences that cannot be removed are listed in ``docs/northd-differences.md``; the
allow-list below names the section of each. There are none today.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from northd_lflow_support import (
    NormFlow,
    flow_diff,
    normalize_table,
    read_nb_model,
    read_sb_flow_attrs,
    read_sb_flows,
)
from pyovn.northd.lflow.builder import LflowBuilder
from pyovn.northd.model import NorthdData
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig, Stack

pytestmark = [pytest.mark.oracle, pytest.mark.functional]


@dataclass(frozen=True)
class Scenario:
    """NB (and SB) commands; ``features`` are the chassis features the adapter assumes."""

    name: str
    commands: tuple[str, ...]
    features: dict[str, bool] = field(default_factory=dict)


SCENARIOS = [
    Scenario("one_switch", ("ls-add sw0",)),
    Scenario("many_switches", (
        *(f"ls-add sw{i}" for i in range(6)),
        *(f"lsp-add sw{i} p{i} -- lsp-set-addresses p{i} '00:00:00:00:01:{i:02x} 10.0.{i}.2'"
          for i in range(6)),
        "lsp-add sw5 p5b -- lsp-set-addresses p5b unknown",
        "acl-add sw4 to-lport 100 tcp allow-related",
    )),
    Scenario("port_kinds", (
        "ls-add sw0",
        "lsp-add sw0 mac -- lsp-set-addresses mac 00:00:00:00:00:01",
        "lsp-add sw0 v4 -- lsp-set-addresses v4 '00:00:00:00:00:02 10.0.0.2'",
        "lsp-add sw0 v6 -- lsp-set-addresses v6 '00:00:00:00:00:03 fd00::3'",
        "lsp-add sw0 dual -- lsp-set-addresses dual"
        " '00:00:00:00:00:04 10.0.0.4/24 10.0.0.44 fd00::4/64 fe80::200:ff:fe00:4'",
        "lsp-add sw0 multi -- lsp-set-addresses multi '00:00:00:00:00:05 10.0.0.5'"
        " '00:00:00:00:00:5A fd00::5a'",
        "lsp-add sw0 unk -- lsp-set-addresses unk unknown",
        "lsp-add sw0 macunk -- lsp-set-addresses macunk '00:00:00:00:00:06 10.0.0.6' unknown",
        "lsp-add sw0 none",
        "lsp-add sw0 lp -- lsp-set-type lp localport"
        " -- lsp-set-addresses lp '00:00:00:00:00:07 10.0.0.7 fd00::7'",
        "lsp-add sw0 ln -- lsp-set-type ln localnet -- lsp-set-addresses ln unknown"
        " -- lsp-set-options ln network_name=phys",
        "lsp-add sw0 ln2 -- lsp-set-type ln2 localnet -- lsp-set-options ln2"
        " network_name=phys2 localnet_learn_fdb=true -- lsp-set-addresses ln2 unknown",
        "lsp-add sw0 off -- lsp-set-addresses off '00:00:00:00:00:08 10.0.0.8'"
        " -- lsp-set-enabled off disabled",
        "lsp-add sw0 offunk -- lsp-set-addresses offunk unknown"
        " -- lsp-set-enabled offunk disabled",
        "lsp-add sw0 on -- lsp-set-addresses on 00:00:00:00:00:09 -- lsp-set-enabled on enabled",
        "lsp-add sw0 ps1 -- lsp-set-addresses ps1 '00:00:00:00:00:0a 10.0.0.10'"
        " -- lsp-set-port-security ps1 '00:00:00:00:00:0a 10.0.0.10'",
        "lsp-add sw0 ps2 -- lsp-set-addresses ps2 '00:00:00:00:00:0b 10.0.0.11 fd00::b'"
        " -- lsp-set-port-security ps2 '00:00:00:00:00:0b 10.0.0.11/24 fd00::b/64'",
        "lsp-add sw0 psunk -- lsp-set-addresses psunk unknown"
        " -- lsp-set-port-security psunk 00:00:00:00:00:0c",
        "ls-add sw1",
        "lsp-add sw1 offonly -- lsp-set-addresses offonly unknown"
        " -- lsp-set-enabled offonly disabled",
    )),
    Scenario("acls_stateless", (
        "ls-add sw0",
        "lsp-add sw0 p1 -- lsp-set-addresses p1 '00:00:00:00:00:01 10.0.0.1'",
        "lsp-add sw0 ln -- lsp-set-type ln localnet -- lsp-set-addresses ln unknown",
        "meter-add m1 drop 10 pktps",
        "acl-add sw0 from-lport 1000 'ip4.src == 10.0.0.1' allow-stateless",
        "acl-add sw0 to-lport 900 'tcp.dst == 22' drop",
        "acl-add sw0 from-lport 901 icmp4 allow",
        "--log --name=rej --severity=warning --meter=m1"
        " acl-add sw0 from-lport 500 'tcp.dst == 80' reject",
        "acl-add sw0 to-lport 501 'tcp.dst == 81' reject",
        "--log acl-add sw0 to-lport 502 udp allow-stateless",
        "ls-add sw1",
        "acl-add sw1 from-lport 100 ip allow",
        "acl-add sw1 from-lport 101 tcp drop",
    )),
    Scenario("acls_stateful", (
        "ls-add sw0",
        "lsp-add sw0 p1 -- lsp-set-addresses p1 '00:00:00:00:00:01 10.0.0.1'",
        "lsp-add sw0 ln -- lsp-set-type ln localnet -- lsp-set-addresses ln unknown",
        "meter-add m1 drop 10 pktps",
        "--fair meter-add mfair drop 20 pktps",
        "acl-add sw0 from-lport 1000 'ip4.src == 10.0.0.1' allow-stateless",
        "--log --severity=alert acl-add sw0 to-lport 1001 ip6 allow-stateless",
        "acl-add sw0 to-lport 900 'tcp.dst == 22' drop",
        "--log --name=d acl-add sw0 from-lport 901 'tcp.dst == 23' drop",
        "acl-add sw0 to-lport 800 udp allow-related",
        "--log --name=rej1 --severity=warning --meter=m1"
        " acl-add sw0 from-lport 500 'tcp.dst == 80' reject",
        "acl-add sw0 to-lport 501 'tcp.dst == 81' reject",
        "--log --meter=mfair --label=1234 acl-add sw0 from-lport 502 'udp.dst == 53'"
        " allow-related",
        "--log --name=a4 acl-add sw0 from-lport 503 icmp4 allow",
        "--label=77 acl-add sw0 to-lport 504 icmp6 allow",
        "--apply-after-lb acl-add sw0 from-lport 505 'ip4.dst == 1.1.1.1' allow-related",
        "--apply-after-lb acl-add sw0 from-lport 506 'ip4.dst == 1.1.1.2' drop",
        "--apply-after-lb acl-add sw0 from-lport 507 'ip4.dst == 1.1.1.3' reject",
        "-- --id=@a create ACL direction=to-lport priority=508 match=tcp"
        " action=allow-related log=true label=5 name=lr options:log-related=true"
        " -- add Logical_Switch sw0 acls @a",
        "-- --id=@a create ACL direction=from-lport priority=509 match=sctp"
        " action=allow log=true label=6 options:log-related=true"
        " options:apply-after-lb=true -- add Logical_Switch sw0 acls @a",
    )),
    Scenario("port_groups_address_sets", (
        *(f"ls-add sw{i}" for i in range(4)),
        "lsp-add sw0 p0 -- lsp-set-addresses p0 '00:00:00:00:00:01 10.0.0.1'",
        "lsp-add sw1 p1 -- lsp-set-addresses p1 '00:00:00:00:00:02 10.0.0.2 fd00::2'",
        "lsp-add sw2 p2 -- lsp-set-addresses p2 '00:00:00:00:00:03 10.0.0.3'",
        "lsp-add sw3 p3 -- lsp-set-addresses p3 '00:00:00:00:00:04 10.0.0.4'",
        "pg-add pg1 p0 p1",
        "pg-add pg2 p2",
        "pg-add pgall p0 p1 p2 p3",
        "pg-add pgempty",
        "create Address_Set name=as1 addresses='[\"10.0.0.0/24\", \"10.1.1.1\"]'",
        "create Address_Set name=as6 addresses='[\"fd00::/64\"]'",
        "acl-add pg1 from-lport 1001 'inport == @pg1 && ip4.src == $as1' allow-related",
        "acl-add pg1 to-lport 1002 'outport == @pg1 && ip4.src == $pg1_ip4' drop",
        "acl-add pg2 to-lport 1003 'outport == @pg2 && ip6.src == $as6' reject",
        "acl-add pg2 from-lport 1004 'inport == @pg2 && ip6.dst == $pg2_ip6' allow",
        "acl-add pgall to-lport 1005 'outport == @pgall && icmp' allow-stateless",
        "acl-add pgempty to-lport 1006 ip drop",
        "acl-add sw3 to-lport 1007 'ip4.dst == 10.0.0.4' allow-related",
    )),
    Scenario("ipv6", (
        "ls-add sw6",
        "lsp-add sw6 a -- lsp-set-addresses a '0a:00:00:00:00:01 2001:db8::1'",
        "lsp-add sw6 b -- lsp-set-addresses b '0a:00:00:00:00:02 2001:db8::2/64"
        " 2001:db8:1::2 fe80::800:ff:fe00:2'",
        "lsp-add sw6 c -- lsp-set-addresses c '0a:00:00:00:00:03 2001:db8::ffff:1'"
        " -- lsp-set-port-security c '0a:00:00:00:00:03 2001:db8::/64'",
        "acl-add sw6 from-lport 100 'ip6 && icmp6' allow-related",
        "acl-add sw6 to-lport 101 'ip6.src == 2001:db8::/64 && tcp' reject",
    )),
    Scenario("global_options", (
        "set NB_Global . options:default_acl_drop=true options:use_ct_inv_match=false",
        "ls-add sw0",
        "acl-add sw0 from-lport 100 ip allow-related",
        "acl-add sw0 to-lport 101 tcp drop",
        "lsp-add sw0 p1 -- lsp-set-addresses p1 '00:00:00:00:00:01 10.0.0.1'",
        "ls-add vlan -- set Logical_Switch vlan other_config:vlan-passthru=true",
        "lsp-add vlan q1 -- lsp-set-addresses q1 '00:00:00:00:00:11 10.0.0.11'",
        "ls-add nodrop",
    )),
    Scenario("ignore_lsp_down_false", (
        "set NB_Global . options:ignore_lsp_down=false",
        "ls-add sw0",
        "lsp-add sw0 down -- lsp-set-addresses down '00:00:00:00:00:01 10.0.0.1'",
        "lsp-add sw0 lp -- lsp-set-type lp localport"
        " -- lsp-set-addresses lp '00:00:00:00:00:02 10.0.0.2'",
    )),
    Scenario("churn", (
        *(f"ls-add sw{i}" for i in range(3)),
        *(f"lsp-add sw{i % 3} c{i} -- lsp-set-addresses c{i} '00:00:00:00:02:{i:02x} 10.2.0.{i}'"
          for i in range(9)),
        "pg-add pga c0 c1 c3",
        "acl-add pga to-lport 100 'outport == @pga' allow-related",
        "acl-add sw1 from-lport 200 tcp reject",
        "lsp-add sw2 cl -- lsp-set-type cl localnet -- lsp-set-addresses cl unknown",
        # Undo part of it, change the rest.
        "lsp-del c3",
        "pg-set-ports pga c0",
        "acl-del sw1",
        "ls-del sw2",
        "lsp-set-addresses c4 unknown",
        "lsp-set-enabled c1 disabled",
        "lsp-set-addresses c0 '00:00:00:00:02:00 10.2.0.100 fd00::100'",
        "acl-add sw0 to-lport 300 udp allow-stateless",
    )),
    Scenario("old_chassis_features", (
        "ls-add sw0",
        "acl-add sw0 from-lport 100 ip allow-related",
        "acl-add sw0 from-lport 101 tcp drop",
        "acl-add sw0 to-lport 102 tcp reject",
        # A chassis that advertises no feature (as an old ovn-controller would).
        "sbctl chassis-add hv-old geneve 127.0.0.9",
    ), features={"ct_no_masked_label": False, "ct_lb_related": False}),
    Scenario("chassis_features_of_23_03", (
        "ls-add sw0",
        "acl-add sw0 from-lport 100 ip allow-related",
        "acl-add sw0 to-lport 102 tcp reject",
        # A chassis announcing what a 23.03 controller does, under 23.03's keys
        # (ovn-ct-lb-related is the one with the "ovn-" prefix).
        "sbctl chassis-add hv-new geneve 127.0.0.9",
        "sbctl set Chassis hv-new other_config:ct-no-masked-label=true"
        " other_config:mac-binding-timestamp=true other_config:ovn-ct-lb-related=true",
    ), features={"ct_no_masked_label": True, "ct_lb_related": True}),
]

#: Documented differences (docs/northd-differences.md), by scenario: flows only one
#: side writes that the comparison accepts. Empty: pyovn-northd matches exactly.
ALLOWED: dict[str, tuple[set[NormFlow], set[NormFlow]]] = {}


@dataclass
class Run:
    """One scenario's results on one stack."""

    flows: set[NormFlow]
    attrs: dict[NormFlow, tuple[str | None, str | None]]
    model: NorthdData | None = None


class Runner:
    """Runs each (scenario, stack) once per test session, in its own sandbox."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.runs: dict[tuple[str, str], Run] = {}

    def get(self, scenario: Scenario, stack: Stack) -> Run:
        key = (scenario.name, stack)
        if key not in self.runs:
            self.runs[key] = self._run(scenario, stack)
        return self.runs[key]

    def _run(self, scenario: Scenario, stack: Stack) -> Run:
        sandbox = Sandbox(self.base / f"{scenario.name}-{stack}")
        sandbox.start(SandboxConfig(northd=stack, controller="none"))
        try:
            for line in scenario.commands:
                argv = shlex.split(line)
                if argv[0] == "sbctl":
                    sandbox.sbctl(*argv[1:])
                else:
                    sandbox.nbctl(*argv)
            sandbox.nbctl("--wait=sb", "--timeout=30", "sync")
            flows = read_sb_flows(sandbox.sb_remote)
            attrs = read_sb_flow_attrs(sandbox.sb_remote, sandbox.nb_remote)
            model = None
            if stack == "ovn":
                model = read_nb_model(sandbox.nb_remote, scenario.features or None)
            return Run(flows, attrs, model)
        finally:
            sandbox.stop()
            procs.stop_all_in(sandbox.dir)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    yield Runner(tmp_path_factory.mktemp("northd-oracle"))


def _assert_same(scenario: Scenario, expected: set[NormFlow], actual: set[NormFlow]
                 ) -> None:
    only_ovn, only_pyovn = ALLOWED.get(scenario.name, (set(), set()))
    expected_cmp = expected - only_ovn
    actual_cmp = actual - only_pyovn
    assert expected_cmp == actual_cmp, (
        f"scenario {scenario.name}: ovn-northd wrote {len(expected)} flows, pyovn "
        f"{len(actual)}; '-' only ovn-northd, '+' only pyovn:\n"
        f"{flow_diff(expected_cmp, actual_cmp)}")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_pyovn_northd_writes_the_flows_ovn_northd_writes(runner: Runner,
                                                        scenario: Scenario) -> None:
    _assert_same(scenario, runner.get(scenario, "ovn").flows,
                 runner.get(scenario, "pyovn").flows)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_flow_generation_alone_matches_ovn_northd(runner: Runner,
                                                  scenario: Scenario) -> None:
    oracle = runner.get(scenario, "ovn")
    assert oracle.model is not None
    builder = LflowBuilder()
    builder.rebuild(oracle.model)
    _assert_same(scenario, oracle.flows, normalize_table(builder.table, builder.dp_names))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_flow_attributes_match_ovn_northd(runner: Runner, scenario: Scenario) -> None:
    expected = runner.get(scenario, "ovn").attrs
    actual = runner.get(scenario, "pyovn").attrs
    diff = [f"{f.line()}\n    ovn-northd {expected.get(f)} pyovn {actual.get(f)}"
            for f in sorted(expected.keys() | actual.keys())
            if expected.get(f) != actual.get(f) and f in expected and f in actual]
    assert not diff, "(in_out_port, stage-hint row) differ:\n" + "\n".join(diff[:30])


def test_every_scenario_writes_flows_on_every_switch(runner: Runner) -> None:
    # Guards the comparisons above against vacuous success (an empty Southbound).
    for scenario in SCENARIOS:
        flows = runner.get(scenario, "pyovn").flows
        switches = {dp for f in flows for dp in f.datapaths}
        assert len(flows) >= 66 and switches, scenario.name
