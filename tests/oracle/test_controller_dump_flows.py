"""br-int under pyovn-controller equals br-int under real ovn-controller 23.03.1.

One sandbox, real ovn-northd throughout, so both controllers read the very same
Southbound rows (same UUIDs, hence comparable cookies) on the same switch (same
OpenFlow ports). The Northbound has two switches joined by a router, VIFs with port
security of several forms, a port with unknown addresses, a container on a VLAN tag,
a localport, a localnet port on a bridge mapping, a port bound nowhere, a learned
neighbour, address sets, a port group, and ACLs (allow-related with conjunctions,
allow-stateless, drop, reject, log, label).

1. Real ovn-controller binds the ports; after ``--wait=hv`` br-int's flows and groups
   are dumped (``ovs-ofctl -O OpenFlow15 dump-flows`` / ``dump-groups``).
2. It is stopped (``exit``: it removes its Chassis and releases its ports), br-int's
   flows and groups are deleted, pyovn-controller starts in its place (same system-id),
   binds the same ports, ``--wait=hv`` again, dump again. The logical flows and port
   bindings must not have changed in between, or the comparison is unfair.

Normalisation, both sides (:func:`normalise`):

- statistics (``duration``, ``n_packets``, ``n_bytes``, ``idle_age``, ``hard_age``) go;
- cookies keep their low 32 bits (OVN's cookie); the high half is pyovn's ownership mark
  (docs/cookies.md), checked separately: every pyovn flow has it, no OVN flow has;
- conjunction ids are arbitrary: each becomes a name derived from what uses it, the
  ``conj_id=`` flow (table, priority, cookie, rest of the match) and the clause flows
  (table, priority, match, clause); a flow's ``conjunction()`` actions are sorted;
- conntrack zone numbers loaded into reg11/12/13 by tables 0, 40 and 65 are mapped
  through the two zone assignments (br-int ``external_ids:ct-zone-*``, by user);
- group ids become the group's description; flows are compared as per-table
  multisets.

Every remaining difference must be claimed by an entry of :data:`EXCEPTIONS`
(explained there and in docs/controller-differences.md); an entry that claims nothing
fails the test too, so that a fixed difference loses its exception.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import pytest

from controller_support import zone_mapping
from oracle.test_lflow_oracle_controller import sb_table
from pyovn.controller.ofctrl_cookie import OWNER_MARK
from pyovn.openflow.parse import split_top_level
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
    ["--log", "--name=web", "--severity=info", "acl-add", "sw0", "to-lport", "998",
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


# -- dumping and normalising ----------------------------------------------------------


@dataclass(frozen=True)
class Dump:
    """What one controller left on br-int."""

    flows: list[str]
    groups: list[str]
    zones: dict[str, int]  # ct-zone user -> zone, from br-int external_ids


def dump(sb: Sandbox) -> Dump:
    """br-int's flows, groups and conntrack zone assignment."""
    flows = [ln for ln in sb.ofctl("dump-flows", "br-int").splitlines() if "actions=" in ln]
    groups = [ln for ln in sb.ofctl("dump-groups", "br-int").splitlines() if "group_id=" in ln]
    ids = sb.vsctl("get", "Bridge", "br-int", "external_ids")
    zones = {user: int(zone)
             for user, zone in re.findall(r'"?ct-zone-([^"=,\s]+)"?="(\d+)"', ids)}
    return Dump(flows, groups, zones)


@dataclass(frozen=True, order=True)
class NFlow:
    """A normalised flow; ``str()`` is its ovs-ofctl form."""

    table: int
    priority: int
    cookie: int  # the low 32 bits
    match: str
    actions: str

    def __str__(self) -> str:
        match = f",{self.match}" if self.match else ""
        return (f"cookie={self.cookie:#x}, table={self.table}, priority={self.priority}"
                f"{match} actions={self.actions}")


_STATS = re.compile(r"\b(?:duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,\s*")
_CONJ_ID = re.compile(r"conj_id=(\d+)")
_CONJUNCTION = re.compile(r"^conjunction\((\d+),(\d+/\d+)\)$")
_ZONE_LOAD = re.compile(r"set_field:(0x[0-9a-f]+)->(reg1[123])\b")
_GROUP = re.compile(r"\bgroup:(\d+)")
#: Tables whose reg11/12/13 loads are zone numbers (physical→logical, local output,
#: logical→physical through a patch port).
ZONE_TABLES = frozenset({0, 40, 65})


@dataclass(frozen=True)
class RawFlow:
    """A dumped flow split into its parts, statistics dropped, full cookie kept."""

    table: int
    priority: int
    cookie: int
    match: str
    actions: str


def parse_line(line: str) -> RawFlow:
    """One dump-flows line (ovs-ofctl leaves out cookie 0, table 0, default priority)."""
    head, _, actions = _STATS.sub("", line.strip()).partition(" actions=")
    cookie, table, priority = 0, 0, 32768
    match: list[str] = []
    for token in (t.strip() for t in head.split(",")):
        name, _, value = token.partition("=")
        if name == "cookie":
            cookie = int(value, 16)
        elif name == "table":
            table = int(value)
        elif name == "priority":
            priority = int(value)
        elif token:
            match.append(token)
    return RawFlow(table, priority, cookie, ",".join(match), actions)


def _digest(what: object) -> str:
    return hashlib.sha1(repr(what).encode()).hexdigest()[:8]


def _conj_names(flows: list[RawFlow]) -> dict[int, str]:
    """Conjunction id -> a name that depends only on the flows that use it."""
    uses: dict[int, list[tuple[object, ...]]] = {}
    for f in flows:
        found = _CONJ_ID.search(f.match)
        if found:
            rest = _CONJ_ID.sub("", f.match).replace(",,", ",").strip(",")
            uses.setdefault(int(found[1]), []).append(
                ("conj_id", f.table, f.priority, f.cookie & 0xFFFFFFFF, rest))
        for act in split_top_level(f.actions):
            clause = _CONJUNCTION.match(act)
            if clause:
                uses.setdefault(int(clause[1]), []).append(
                    ("clause", f.table, f.priority, f.match, clause[2]))
    return {cid: f"conj:{_digest(sorted(map(repr, u)))}" for cid, u in uses.items()}


def _group_names(groups: list[str]) -> dict[int, str]:
    """Group id -> a name made of the group's description."""
    out: dict[int, str] = {}
    for line in groups:
        found = re.search(r"group_id=(\d+),?", line)
        if found:
            out[int(found[1])] = f"group:{_digest(line.replace(found[0], '').strip())}"
    return out


def normalise(d: Dump, zone_map: dict[int, int] | None = None) -> Counter[NFlow]:
    """The multiset of normalised flows of a dump (``zone_map``: zone renaming)."""
    raw = [parse_line(line) for line in d.flows]
    conj = _conj_names(raw)
    groups = _group_names(d.groups)
    out: Counter[NFlow] = Counter()
    for f in raw:
        match = _CONJ_ID.sub(lambda m: f"conj_id={conj[int(m[1])]}", f.match)
        acts = split_top_level(f.actions)
        clauses = sorted(a for a in acts if _CONJUNCTION.match(a))
        if clauses:
            acts = [a for a in acts if not _CONJUNCTION.match(a)] + [
                _CONJUNCTION.sub(lambda m: f"conjunction({conj[int(m[1])]},{m[2]})", a)
                for a in clauses]
        text = ",".join(acts)
        text = _GROUP.sub(lambda m: groups.get(int(m[1]), m[0]), text)
        if zone_map and f.table in ZONE_TABLES:
            text = _ZONE_LOAD.sub(
                lambda m: f"set_field:{zone_map.get(int(m[1], 16), int(m[1], 16)):#x}->{m[2]}",
                text)
        out[NFlow(f.table, f.priority, f.cookie & 0xFFFFFFFF, match, text)] += 1
    return out


# -- the allowed differences ------------------------------------------------------------


@dataclass
class SbFacts:
    """What the exceptions need to know about the Southbound."""

    unrelated_ports: set[tuple[int, int]] = field(default_factory=set)  # (dp key, port key)
    unrelated_lflows: set[int] = field(default_factory=set)  # cookies
    router_ports: set[int] = field(default_factory=set)  # cookies


def sb_facts(sb: Sandbox) -> SbFacts:
    """Switch ports not related to this chassis (as 23.03's binding.c decides), and the
    lflows whose ``tags:in_out_port`` names one."""
    dps = {r["_uuid"]: r for r in sb_table(sb, "Datapath_Binding")}
    facts = SbFacts()
    unrelated_names: set[str] = set()
    for pb in sb_table(sb, "Port_Binding"):
        dp = dps[pb["datapath"]]
        if "logical-switch" not in dp["external_ids"]:
            facts.router_ports.add(int(pb["_uuid"][:8], 16))
            continue
        related = (pb["logical_port"] in CLAIMED
                   or pb["type"] in ("patch", "localnet", "l2gateway")
                   or (pb["type"] == "localport" and pb["logical_port"] in BOUND))
        if not related:
            facts.unrelated_ports.add((dp["tunnel_key"], pb["tunnel_key"]))
            unrelated_names.add(pb["logical_port"])
    for lf in sb_table(sb, "Logical_Flow"):
        if lf["tags"].get("in_out_port") in unrelated_names:
            facts.unrelated_lflows.add(int(lf["_uuid"][:8], 16))
    return facts


@dataclass(frozen=True)
class KnownDifference:
    """A documented difference: flows only on one side that ``claims`` accepts."""

    name: str
    side: str  # "pyovn" (only pyovn installs them) or "ovn"
    why: str
    claims: Callable[[NFlow, SbFacts], bool]


@dataclass(frozen=True)
class Equivalence:
    """A documented difference in how the same flow is written: a flow of each side
    that ``rewrite`` makes equal are paired (the rewrite changes at least one)."""

    name: str
    why: str
    rewrite: Callable[[NFlow], NFlow]


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


def _names_unrelated_port(flow: NFlow, facts: SbFacts) -> bool:
    if flow.cookie in facts.unrelated_lflows:
        return True
    fields = dict(t.partition("=")[::2] for t in flow.match.split(","))
    dp = int(fields.get("metadata", "-1"), 16)
    return any((dp, int(fields[reg], 16)) in facts.unrelated_ports
               for reg in ("reg14", "reg15") if reg in fields and "/" not in fields[reg])


def _chassis_mac_flow(flow: NFlow, facts: SbFacts) -> bool:
    return flow.table == 0 and flow.priority == 180 and flow.cookie in facts.router_ports


EXCEPTIONS = [
    KnownDifference(
        "lflows of ports not related to this chassis",
        "pyovn",
        "pyovn bug (src/pyovn/controller/lflow_node.py, lead-owned): the lflow_output "
        "node builds its Lookups without is_related_port, so an lflow tagged "
        "in_out_port with a port bound nowhere (here p5), or a switch match on such a "
        "port's inport/outport, is translated; 23.03 skips them (lflow.c checks "
        "related_lport_ids).",
        _names_unrelated_port),
    KnownDifference(
        "chassis MAC to router MAC rewrite on a localnet port",
        "ovn",
        "not implemented in pyovn (docs/controller-differences.md: chassis MAC mappings): "
        "for a router port whose switch has a localnet port, 23.03 installs (cookie: "
        "the router port) table 0 priority 180 a conjunctive flow (in_port = the "
        "localnet patch port; rewrite eth.src to the router port's MAC, enter the "
        "router's pipeline) and its vlan_tci clause; the other clause "
        "(eth.src = another chassis' ovn-chassis-mac-mappings MAC) has no flow with one "
        "chassis, so the conjunction never matches and forwarding is the same.",
        _chassis_mac_flow),
]


# -- comparison ---------------------------------------------------------------------------


@dataclass
class Result:
    """Differences between the two multisets, per table, after the known ones
    (``claimed``: by name of the equivalence or exception, the flows it explained)."""

    only_ovn: list[NFlow] = field(default_factory=list)
    only_pyovn: list[NFlow] = field(default_factory=list)
    claimed: dict[str, list[NFlow]] = field(default_factory=dict)

    def report(self) -> str:
        """A readable, per-table listing of the unexplained differences."""
        lines: list[str] = []
        for table in sorted({f.table for f in self.only_ovn + self.only_pyovn}):
            lines.append(f"table {table}:")
            lines += [f"  - ovn-controller only: {f}" for f in self.only_ovn
                      if f.table == table]
            lines += [f"  + pyovn-controller only: {f}" for f in self.only_pyovn
                      if f.table == table]
        return "\n".join(lines)


def _pair(ovn: Counter[NFlow], mine: Counter[NFlow], eq: Equivalence) -> list[NFlow]:
    """Take out of both leftovers the flows that ``eq`` makes equal; return them."""
    by_form: dict[NFlow, list[NFlow]] = {}
    for flow in sorted(mine.elements()):
        by_form.setdefault(eq.rewrite(flow), []).append(flow)
    paired: list[NFlow] = []
    for flow in sorted(ovn.elements()):
        partners = by_form.get(eq.rewrite(flow))
        if partners:
            partner = partners.pop()
            ovn[flow] -= 1
            mine[partner] -= 1
            paired += (flow, partner)
    return paired


def compare(ovn: Counter[NFlow], mine: Counter[NFlow], facts: SbFacts) -> Result:
    """Match the multisets; pair leftovers an equivalence makes equal; hand each flow
    still left to the first exception claiming it."""
    result = Result(claimed={name: [] for name in [e.name for e in EQUIVALENCES]
                             + [e.name for e in EXCEPTIONS]})
    ovn_left, mine_left = ovn - mine, mine - ovn
    for eq in EQUIVALENCES:
        result.claimed[eq.name] = _pair(ovn_left, mine_left, eq)
    for side, extra, out in (("ovn", +ovn_left, result.only_ovn),
                             ("pyovn", +mine_left, result.only_pyovn)):
        for flow in sorted(extra.elements()):
            owner = next((e for e in EXCEPTIONS
                          if e.side == side and e.claims(flow, facts)), None)
            if owner is None:
                out.append(flow)
            else:
                result.claimed[owner.name].append(flow)
    return result


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
    result = compare(ovn, ours, sb_facts(sb))
    shared = sum((ovn & ours).values())
    print(f"\n{sum(ovn.values())} flows under ovn-controller, {sum(ours.values())} under "
          f"pyovn-controller, {shared} equal; {len(theirs.groups)}/{len(mine.groups)} "
          f"groups; documented: "
          + ", ".join(f"{name}: {len(fl)}" for name, fl in result.claimed.items()))
    assert not result.only_ovn and not result.only_pyovn, result.report()
    unused = [name for name, flows in result.claimed.items() if not flows]
    assert not unused, f"exceptions no longer needed (remove them and their docs): {unused}"
    assert sorted(normalise(Dump(theirs.groups, [], {}))) == sorted(
        normalise(Dump(mine.groups, [], {})))
    assert theirs.zones and set(mine.zones) == set(theirs.zones)
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
