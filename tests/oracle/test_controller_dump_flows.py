"""br-int under pyovn-controller equals br-int under real ovn-controller 23.03.1.

One sandbox, real ovn-northd throughout, so both controllers read the very same
Southbound rows (same UUIDs, hence comparable cookies) on the same switch (same
OpenFlow ports). The Northbound has two switches joined by a router; VIFs with port
security of several forms, a port with unknown addresses, a container on a VLAN tag,
a localport, a localnet port on a bridge mapping, a port bound nowhere, a port
requested by another chassis; address sets, a port group, ACLs (allow-related with
conjunctions, allow, allow-stateless, drop, reject, log, label, after-LB); QoS
marking, DNS, IGMP snooping, IPv6 RA, router policies, routes, static and learned
neighbours, DHCPv4 options, a load balancer (a select group), a logging ACL with a
meter. Not in it: what
pyovn-controller cannot translate yet (ECMP groups of gateway routers, templates)
and gateway ports.

1. Real ovn-controller binds the ports; after ``--wait=hv`` br-int's flows and groups
   are dumped (``ovs-ofctl -O OpenFlow15 dump-flows`` / ``dump-groups``).
2. It is stopped (``exit``: it removes its Chassis and releases its ports); br-int's
   flows, groups and ``ct-zone-*`` ids are deleted; pyovn-controller starts in its
   place (same system-id), binds the same ports, ``--wait=hv``, dump again. The
   Southbound rows the flows are made of must be unchanged, or the comparison is unfair.

Normalisation, both sides (:func:`oracle.flow_dump_compare.normalise`):

- statistics (``duration``, ``n_packets``, ``n_bytes``, ``idle_age``, ``hard_age``) go;
- cookies keep their low 32 bits (OVN's cookie); the high half is pyovn's ownership mark
  (docs/cookies.md), checked separately: every pyovn flow has it, no OVN flow has;
- conjunction ids are arbitrary: each becomes a name derived from what uses it, the
  ``conj_id=`` flow (table, priority, cookie, rest of the match) and the clause flows
  (table, priority, match, clause); a flow's ``conjunction()`` actions are sorted;
- conntrack zone numbers loaded into reg11/12/13 by tables 0, 40 and 65 are mapped
  from pyovn's assignment to ovn-controller's by zone user (br-int
  ``external_ids:ct-zone-*``); the users must be the same;
- group ids become the group's description (in ``group:N`` actions too);
- flows are then compared as multisets, reported per table.

Every remaining difference must be explained by an entry of :data:`EQUIVALENCES` (the
same flow written differently: pairs) or :func:`exceptions` (flows on one side only),
each documented in docs/controller-differences.md; an entry that explains nothing fails
the test too, so that a fixed difference loses its entry.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest

from controller_support import zone_mapping
from oracle.flow_dump_compare import (
    Dump,
    Equivalence,
    KnownDifference,
    NFlow,
    compare,
    dump,
    group_descriptions,
    meter_descriptions,
    normalise,
    parse_line,
)
from oracle.test_lflow_oracle_controller import sb_table
from pyovn.controller.ofctrl_cookie import OWNER_MARK
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

pytestmark = [pytest.mark.functional, pytest.mark.oracle]

#: One ovn-nbctl transaction.
NB_COMMANDS = [
    ["ls-add", "sw0"], ["ls-add", "sw1"], ["lr-add", "lr0"],
    ["lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24", "aef0::1/64"],
    ["lrp-add", "lr0", "lr0-sw1", "00:00:00:00:ff:02", "10.0.1.1/24"],
    ["lr-route-add", "lr0", "10.9.0.0/16", "10.0.1.254"],
    *(cmd for sw in ("sw0", "sw1") for cmd in (
        ["lsp-add", sw, f"{sw}-lr0"], ["lsp-set-type", f"{sw}-lr0", "router"],
        ["lsp-set-addresses", f"{sw}-lr0", "router"],
        ["lsp-set-options", f"{sw}-lr0", f"router-port=lr0-{sw}"])),
    ["lsp-add", "sw0", "p1"],
    ["lsp-set-addresses", "p1", "50:54:00:00:00:01 10.0.0.11 aef0::11"],
    ["lsp-set-port-security", "p1", "50:54:00:00:00:01 10.0.0.11 aef0::11"],
    ["lsp-add", "sw0", "p2"],
    ["lsp-set-addresses", "p2", "50:54:00:00:00:02 10.0.0.12 aef0::12"],
    ["lsp-set-port-security", "p2", "50:54:00:00:00:02"],
    ["lsp-add", "sw0", "p5"],  # bound nowhere
    ["lsp-set-addresses", "p5", "50:54:00:00:00:05 10.0.0.15"],
    ["lsp-add", "sw0", "c1", "p1", "10"],  # a container behind p1
    ["lsp-set-addresses", "c1", "50:54:00:00:00:21 10.0.0.21"],
    ["lsp-add", "sw0", "lp0"],
    ["lsp-set-type", "lp0", "localport"],
    ["lsp-set-addresses", "lp0", "50:54:00:00:00:09 10.0.0.9"],
    ["--id=@d", "create", "DHCP_Options", "cidr=10.0.0.0/24",
     'options={server_id=10.0.0.1,server_mac="00:00:00:00:ff:01",lease_time="3600",'
     'router=10.0.0.1,dns_server="{8.8.8.8,8.8.4.4}"}'],
    ["set", "Logical_Switch_Port", "p1", "dhcpv4_options=@d"],
    ["lb-add", "lb0", "10.0.0.100:80", "10.0.0.11:80,10.0.0.12:80", "tcp"],
    ["ls-lb-add", "sw0", "lb0"],
    ["lsp-add", "sw1", "p3"],
    ["lsp-set-addresses", "p3", "50:54:00:00:01:03 10.0.1.13"],
    ["lsp-set-port-security", "p3", "50:54:00:00:01:03 10.0.1.13/24"],
    ["lsp-add", "sw1", "p4"],
    ["lsp-set-addresses", "p4", "unknown"],
    ["lsp-add", "sw1", "ln1"],
    ["lsp-set-type", "ln1", "localnet"],
    ["lsp-set-addresses", "ln1", "unknown"],
    ["lsp-set-options", "ln1", "network_name=phys"],
    ["create", "Address_Set", "name=as1", 'addresses="10.0.0.11","10.0.1.13","10.0.2.0/24"'],
    ["create", "Address_Set", "name=as6", 'addresses="aef0::11","aef0::12"'],
    ["pg-add", "pg1", "p1", "p3"],
    ["acl-add", "pg1", "to-lport", "1002",
     "outport == @pg1 && ip4.src == $as1 && tcp.dst == {22, 80, 443}", "allow-related"],
    ["acl-add", "pg1", "to-lport", "1001", "outport == @pg1 && ip4", "drop"],
    ["acl-add", "sw0", "from-lport", "1000", "ip4.dst == 10.0.0.12 && udp", "allow-related"],
    ["--label=77", "acl-add", "sw0", "from-lport", "999", "ip6.src == $as6 && icmp6",
     "allow-related"],
    ["meter-add", "acl_meter", "drop", "10", "pktps", "4"],
    ["--log", "--meter=acl_meter", "--name=web", "--severity=info", "acl-add", "sw0",
     "to-lport", "998",
     "tcp.dst == 8080", "allow"],
    ["acl-add", "sw0", "from-lport", "997", "ip4.dst == 10.0.0.99", "allow-stateless"],
    ["acl-add", "sw1", "from-lport", "900", 'inport == "p4" && ip6', "reject"],
    ["set", "Logical_Router_Port", "lr0-sw0", "ipv6_ra_configs:address_mode=slaac",
     "ipv6_ra_configs:mtu=1450"],
    ["set", "Logical_Switch", "sw1", "other_config:mcast_snoop=true"],
    ["qos-add", "sw0", "from-lport", "100", "ip4.dst == 10.0.0.12", "dscp=16"],
    ["--id=@dns", "create", "DNS", "records:vm1.ovn.org=10.0.0.11"],
    ["add", "Logical_Switch", "sw0", "dns_records", "@dns"],
    ["lr-policy-add", "lr0", "100", "ip4.src == 10.0.0.11 && ip4.dst == 10.9.0.0/16",
     "reroute", "10.0.1.254"],
    ["lr-policy-add", "lr0", "90", "ip4.src == 10.0.0.99", "drop"],
    ["--policy=src-ip", "lr-route-add", "lr0", "10.0.0.64/26", "10.0.1.253"],
    ["static-mac-binding-add", "lr0-sw1", "10.0.1.200", "50:54:00:00:01:c8"],
    ["--apply-after-lb", "acl-add", "sw1", "from-lport", "800", "ip4 && tcp.dst == 25",
     "drop"],
    ["acl-add", "pg1", "from-lport", "700", "inport == @pg1 && ip6.dst == $as6", "allow"],
    ["lsp-add", "sw1", "p6"],
    ["lsp-set-addresses", "p6", "50:54:00:00:01:06 10.0.1.16"],
    ["lsp-set-options", "p6", "requested-chassis=elsewhere"],
]
#: Logical port -> br-int interface (dummy) carrying it.
BOUND = {"p1": "vif1", "p2": "vif2", "p3": "vif3", "p4": "vif4", "lp0": "vif9",
         "p6": "vif6"}
#: The ports a controller claims (c1 through its parent p1).
CLAIMED = ("p1", "p2", "p3", "p4", "c1")


# -- the allowed differences ------------------------------------------------------------


@dataclass
class SbFacts:
    """What the exceptions need to know about the Southbound."""

    router_ports: set[int] = field(default_factory=set)  # cookies


def sb_facts(sb: Sandbox) -> SbFacts:
    """The cookies of the router ports."""
    dps = {r["_uuid"]: r for r in sb_table(sb, "Datapath_Binding")}
    facts = SbFacts()
    for pb in sb_table(sb, "Port_Binding"):
        if "logical-switch" not in dps[pb["datapath"]]["external_ids"]:
            facts.router_ports.add(int(pb["_uuid"][:8], 16))
    return facts


_DSCP_MASK = re.compile(r"(set_field:\d+)/0x3f->ip_dscp\b")

EQUIVALENCES = [
    Equivalence(
        "ip.dscp assignment written with the field's 6-bit mask",
        "ovn-controller sends `ip.dscp = N` as a set_field with mask 0x3f (OVN masks "
        "a whole-field assignment to the field's bits), which OVS keeps and prints "
        "`set_field:N/0x3f->ip_dscp`; pyovn's canonical SetField drops a mask that "
        "covers the whole field (pyovn.openflow.actions.SetField) and sends it "
        "unmasked, printed `set_field:N->ip_dscp`. OVS writes only the 6 DSCP bits "
        "either way: the same effect.",
        lambda f: replace(f, actions=_DSCP_MASK.sub(r"\1->ip_dscp", f.actions))),
]


def exceptions(facts: SbFacts) -> list[KnownDifference]:
    """The flows found on one side only, explained (docs/controller-differences.md)."""
    return [
        KnownDifference(
            "load balancer hairpin flows",
            "ovn",
            "not implemented in pyovn: from each Southbound Load_Balancer of a local "
            "datapath, 23.03 installs per backend a table-68 flow that marks traffic a "
            "backend sends to itself through the VIP (reg10[7], and a learned table-69 "
            "flow for the reply) and per VIP a table-70 flow that SNATs it to the VIP; "
            "without them a backend cannot reach itself through its own VIP (other "
            "clients are unaffected).",
            lambda f: f.table in (68, 70) and f.priority == 100),
        KnownDifference(
            "chassis MAC to router MAC rewrite on a localnet port",
            "ovn",
            "not implemented in pyovn (chassis MAC mappings): for a router port whose "
            "switch has a localnet port, 23.03 installs (cookie: the router port) in "
            "table 0 at priority 180 a conjunctive flow (in_port = the localnet patch "
            "port; rewrite eth.src to the router port's MAC, enter the router's "
            "pipeline) and its vlan_tci clause; the other clause (eth.src = another "
            "chassis' ovn-chassis-mac-mappings MAC) has no flow with a single chassis, "
            "so the conjunction never matches: forwarding is the same.",
            lambda f: (f.table, f.priority) == (0, 180) and f.cookie in facts.router_ports),
    ]


# -- the scenario ---------------------------------------------------------------------------


def _sb_snapshot(sb: Sandbox) -> list[str]:
    """The Southbound content the flows are made of (must not change between runs)."""
    out: list[str] = []
    for table, columns in (("Logical_Flow", "_uuid,logical_datapath,logical_dp_group,"
                            "pipeline,table_id,priority,match,actions,tags"),
                           ("Port_Binding", "_uuid,logical_port,datapath,tunnel_key,type,"
                            "options,parent_port,tag,mac"),
                           ("Datapath_Binding", "_uuid,tunnel_key,external_ids"),
                           ("Multicast_Group", "_uuid,name,tunnel_key,ports"),
                           ("Address_Set", "name,addresses"), ("Port_Group", "name,ports"),
                           ("MAC_Binding", "_uuid,logical_port,ip,mac")):
        out += sorted(sb.sbctl("--format=csv", "--no-headings", f"--columns={columns}",
                               "list", table).splitlines())
    return out


def _settle(sb: Sandbox) -> Dump:
    """Wait until the controller claimed every port and acknowledged the NB; dump."""
    def claimed() -> bool:
        chassis = sb.sbctl("--bare", "--columns=_uuid", "find", "Chassis",
                           "name=hv1").strip()
        owners = {sb.sbctl("--bare", "--columns=chassis", "find", "Port_Binding",
                           f"logical_port={p}").strip() for p in CLAIMED}
        return bool(chassis) and owners == {chassis}

    procs.wait_until(claimed, timeout=30, what="every port claimed")
    sb.nbctl("--wait=hv", "sync", timeout=30)
    return dump(sb)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Dump, Dump]]:
    """The sandbox, br-int under ovn-controller, br-int under pyovn-controller."""
    sb = Sandbox(tmp_path_factory.mktemp("dump-flows") / "sb")
    try:
        sb.start(SandboxConfig(northd="ovn", controller="ovn"))
        sb.vsctl("add-br", "br-phys", "--", "set", "Bridge", "br-phys",
                 "datapath_type=dummy", "--", "set", "Open_vSwitch", ".",
                 "external_ids:ovn-bridge-mappings=phys:br-phys")
        argv: list[str] = []
        for cmd in NB_COMMANDS:
            argv += ["--", *cmd] if argv else cmd
        sb.nbctl(*argv)
        ports: list[str] = []
        for lport, iface in BOUND.items():
            ports += ["--", "add-port", "br-int", iface, "--", "set", "Interface", iface,
                      "type=dummy", f"external_ids:iface-id={lport}"]
        sb.vsctl(*ports[1:])
        sb.nbctl("--wait=sb", "sync")
        lr0 = sb.sbctl("--bare", "--columns=_uuid", "find", "Datapath_Binding",
                       "external_ids:name=lr0").strip()
        sb.sbctl("create", "MAC_Binding", f"datapath={lr0}", "logical_port=lr0-sw1",
                 "ip=10.0.1.254", 'mac="50:54:00:00:01:fe"')
        theirs = _settle(sb)
        before = _sb_snapshot(sb)
        procs.stop_daemon(procs.daemon_in(sb.dir, "controller"))
        sb.ofctl("del-flows", "br-int")
        sb.ofctl("del-groups", "br-int")
        sb.ofctl("-O", "OpenFlow15", "del-meters", "br-int")
        # pyovn would restore ovn-controller's zones; make it assign its own instead,
        # so that the comparison also holds its choice of zone users.
        sb.vsctl("remove", "Bridge", "br-int", "external_ids",
                 *(f"ct-zone-{user}" for user in theirs.zones))
        sb.start_controller("pyovn")
        mine = _settle(sb)
        assert _sb_snapshot(sb) == before, "the Southbound changed between the two runs"
        yield sb, theirs, mine
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


def test_pyovn_controller_installs_the_flows_ovn_controller_installs(
        runs: tuple[Sandbox, Dump, Dump]) -> None:
    sb, theirs, mine = runs
    ovn = normalise(theirs)
    ours = normalise(mine, zone_mapping(mine.zones, theirs.zones))
    result = compare(ovn, ours, EQUIVALENCES, exceptions(sb_facts(sb)))
    shared = sum((ovn & ours).values())
    print(f"\n{sum(ovn.values())} flows under ovn-controller, {sum(ours.values())} under "
          f"pyovn-controller, {shared} equal; {len(theirs.groups)}/{len(mine.groups)} "
          f"groups; documented: "
          + ", ".join(f"{name}: {len(fl)}" for name, fl in result.claimed.items()))
    for name, flows in result.claimed.items():
        print(f"{name}:", *(f"  {f}" for f in flows), sep="\n")
    assert not result.only_ovn and not result.only_pyovn, result.report()
    unused = [name for name, flows in result.claimed.items() if not flows]
    assert not unused, f"exceptions no longer needed (remove them and their docs): {unused}"
    assert sorted(group_descriptions(theirs.groups).values()) == sorted(
        group_descriptions(mine.groups).values())
    assert theirs.meters and sorted(meter_descriptions(theirs.meters).values()) == sorted(
        meter_descriptions(mine.meters).values())
    assert theirs.zones and set(mine.zones) == set(theirs.zones)
    assert mine.zones != theirs.zones, "pyovn should have assigned its own zones"
    assert shared > 600 and sb.controller_crashes < 5


def test_every_flow_carries_its_owners_cookie_mark(runs: tuple[Sandbox, Dump, Dump]) -> None:
    _sb, theirs, mine = runs
    assert {parse_line(ln).cookie >> 32 for ln in theirs.flows} == {0}
    assert {parse_line(ln).cookie >> 32 for ln in mine.flows} == {OWNER_MARK >> 32}


def test_normalisation_names_conjunctions_and_zones_by_use() -> None:
    a = Dump(["cookie=0x7079000112345678, table=46, priority=5,conj_id=7,ip actions=drop",
              " table=46, priority=5,ip,nw_src=1.1.1.1 actions=conjunction(7,1/2)",
              " table=40, priority=100,reg15=0x1 actions=set_field:0x3->reg13,resubmit(,41)"],
             [], {})
    b = Dump(["cookie=0x12345678, duration=1.5s, table=46, n_packets=3, n_bytes=180, "
              "idle_age=2, priority=5,conj_id=99,ip actions=drop",
              " table=46, priority=5,ip,nw_src=1.1.1.1 actions=conjunction(99,1/2)",
              " table=40, priority=100,reg15=0x1 actions=set_field:0x4->reg13,resubmit(,41)"],
             [], {})
    assert normalise(a, {3: 4}) == normalise(b)
    assert normalise(a) != normalise(b)
    changed = replace(b, flows=[*b.flows[:1], b.flows[1].replace("1/2", "2/2"), b.flows[2]])
    assert normalise(a, {3: 4}) != normalise(changed)


def test_comparison_pairs_equivalent_flows_and_reports_the_rest() -> None:
    dscp = NFlow(17, 100, 0x42, "ip,metadata=0x1", "set_field:16/0x3f->ip_dscp,resubmit(,18)")
    other = NFlow(8, 50, 0x43, "metadata=0x1", "resubmit(,9)")
    unmasked = replace(dscp, actions="set_field:16->ip_dscp,resubmit(,18)")
    result = compare(Counter([dscp, other]), Counter([unmasked]), EQUIVALENCES,
                     exceptions(SbFacts()))
    assert result.claimed[EQUIVALENCES[0].name] == [dscp, unmasked]
    assert result.only_ovn == [other] and result.only_pyovn == []
    assert "table 8:\n  - ovn-controller only: cookie=0x43, table=8" in result.report()
