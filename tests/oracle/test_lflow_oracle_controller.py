"""pyovn's lflow translation equals real ovn-controller 23.03.1's, flow for flow.

A sandbox runs real ovn-northd and real ovn-controller on one chassis.  For a
Northbound with switches (VIF, localport, localnet, router ports; port
security; ACLs of every action and direction with address sets and port
groups; IPv6) and a router, every Southbound Logical_Flow is translated by
:func:`pyovn.lflow.translate.translate_lflow` for every local datapath, from
the same Southbound contents, and compared with ``ovs-ofctl dump-flows``:

- per lflow (cookie = first 32 bits of its UUID) the set of (table, priority,
  match, actions);
- conjunction clause flows (cookie 0, possibly shared by several lflows) as
  (table, priority, match, set of conjunctions);
- conjunction ids, group ids and meter ids are arbitrary on both sides, so
  they are mapped: a conjunction id to (lflow, rank of the id within the
  lflow), groups and meters to a placeholder;
- two lflows may produce the same (table, priority, match); the switch holds
  one of them, so a flow counts as present if the dumped flow for its key is
  one of the candidates.

A second scenario stops ovn-northd and inserts hand-written lflows that use
every action the encoder knows (ovn-northd emits only some of them for
switches), on a switch and on a router.  Zero differences are allowed; the
explained, deliberate ones are listed in docs/lflow-translation-differences.md.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyovn.lflow.action_parser import ActionParams, GenOptionDef, parse_actions
from pyovn.lflow.actions import Action as LAction
from pyovn.lflow.actions import Nested
from pyovn.lflow.encode_controller import NESTED_OPCODES
from pyovn.lflow.encode_nx import parse_nx_action
from pyovn.lflow.translate import ConjIdAllocator, LflowTranslateError, Lookups, translate_lflow
from pyovn.openflow import Flow, parse_action, parse_flow
from pyovn.openflow.actions import Action, Group, Meter, decode_actions
from pyovn.openflow.nx_actions import Clone, Conjunction, Controller
from pyovn.openflow.parse import split_top_level
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

pytestmark = [pytest.mark.functional, pytest.mark.oracle]

CHASSIS = "hv1"
LFLOW_TABLES = frozenset(range(8, 37)) | frozenset(range(42, 64))

# -- reading the databases and the switch ----------------------------------------------------


def _value(v: Any) -> Any:
    """OVSDB JSON notation to Python: uuids to str, sets to lists, maps to dicts."""
    if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str):
        kind, body = v
        if kind in ("uuid", "named-uuid"):
            return body
        if kind == "set":
            return [_value(x) for x in body]
        if kind == "map":
            return {_value(k): _value(x) for k, x in body}
    return v


def _set(v: Any) -> list[Any]:
    """A set column: OVSDB writes a one-element set as the bare element."""
    return v if isinstance(v, list) else [v]


def _one(v: Any) -> Any:
    """An optional column: its value, or None for the empty set."""
    if isinstance(v, list):
        return v[0] if v else None
    return v


def sb_table(sb: Sandbox, table: str) -> list[dict[str, Any]]:
    """Rows of a Southbound table as dicts."""
    raw = json.loads(sb.sbctl("--format=json", "list", table))
    return [{h: _value(v) for h, v in zip(raw["headings"], row, strict=True)}
            for row in raw["data"]]


def _parse_actions(text: str) -> tuple[Action, ...]:
    text = text.strip()
    if text in ("", "drop"):
        return ()
    out: list[Action] = []
    for part in split_top_level(text):
        nx = parse_nx_action(part)
        if nx is not None:
            out.append(nx)
        elif part.startswith("clone(") and part.endswith(")"):
            out.append(Clone(_parse_actions(part[6:-1])))
        else:
            out.append(parse_action(part))
    return tuple(out)


def _table_of(line: str) -> int:
    pos = line.find(" table=")
    return int(line[pos + 7:line.index(",", pos)]) if pos >= 0 else 0


def dump_flows(sb: Sandbox) -> list[Flow]:
    """The logical-table flows of ``ovs-ofctl dump-flows br-int``, canonical.

    Physical tables are skipped: pyovn does not make them, and their text has
    forms this test need not parse.
    """
    flows = []
    for line in sb.ofctl("--no-stats", "dump-flows", "br-int").splitlines():
        if "actions=" not in line or _table_of(line) not in LFLOW_TABLES:
            continue
        head, _, acts = line.partition("actions=")
        flow = parse_flow(head + "actions=drop")
        flows.append(flow.replace(actions=_parse_actions(acts)))
    return flows


# -- translating the Southbound with pyovn ----------------------------------------------------


@dataclass
class Translation:
    """pyovn's flows for the whole Southbound, and what was covered."""

    flows: list[tuple[str, Flow]] = field(default_factory=list)  # (lflow uuid, flow)
    conj_owner: dict[int, tuple[int, int]] = field(default_factory=dict)
    lflows: set[str] = field(default_factory=set)
    translations: int = 0  # (lflow, datapath) pairs
    lflows_with_flows: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    action_kinds: set[str] = field(default_factory=set)


def translate_sb(sb: Sandbox, local_dps: set[int],
                 only: set[str] | None = None) -> Translation:
    """Translate every lflow of the Southbound (or those in ``only``) for the local
    datapaths."""
    chassis = {r["_uuid"]: r["name"] for r in sb_table(sb, "Chassis")}
    dps = {r["_uuid"]: r for r in sb_table(sb, "Datapath_Binding")}
    groups = {r["_uuid"]: _set(r["datapaths"]) for r in sb_table(sb, "Logical_DP_Group")}
    ports: dict[tuple[int, str], int] = {}
    related: set[tuple[int, int]] = set()
    resident: set[str] = set()
    for pb in sb_table(sb, "Port_Binding"):
        dp_key = dps[pb["datapath"]]["tunnel_key"]
        ports[dp_key, pb["logical_port"]] = pb["tunnel_key"]
        bound_here = chassis.get(_one(pb["chassis"]) or "") == CHASSIS
        if bound_here:
            resident.add(pb["logical_port"])
        # Like binding.c: a localport is related only with an interface here.
        if (bound_here or pb["type"] in ("patch", "localnet", "l2gateway")
                or (pb["type"] == "localport" and pb["logical_port"] in BOUND_PORTS)):
            related.add((dp_key, pb["tunnel_key"]))
    for mg in sb_table(sb, "Multicast_Group"):
        ports[dps[mg["datapath"]]["tunnel_key"], mg["name"]] = mg["tunnel_key"]
    address_sets = {r["name"]: _set(r["addresses"]) for r in sb_table(sb, "Address_Set")}
    port_groups = {r["name"]: _set(r["ports"]) for r in sb_table(sb, "Port_Group")}
    dhcp = {r["name"]: GenOptionDef(r["name"], r["code"], r["type"])
            for r in sb_table(sb, "DHCP_Options")}
    dhcpv6 = {r["name"]: GenOptionDef(r["name"], r["code"], r["type"])
              for r in sb_table(sb, "DHCPv6_Options")}
    group_ids: dict[str, int] = {}
    meter_ids: dict[str, int] = {}
    lookups = Lookups(
        lookup_port=lambda dp, name: ports.get((dp, name)),
        is_related_port=lambda dp, key: (dp, key) in related,
        address_sets=address_sets, port_groups=port_groups, dhcp_opts=dhcp, dhcpv6_opts=dhcpv6,
        is_chassis_resident=lambda port: port in resident,
        group_id=lambda text: group_ids.setdefault(text, len(group_ids) + 1),
        meter_id=lambda name: meter_ids.setdefault(name, len(meter_ids) + 1),
        conj_ids=ConjIdAllocator())
    out = Translation()
    for lf in sb_table(sb, "Logical_Flow"):
        if only is not None and lf["_uuid"] not in only:
            continue
        out.lflows.add(lf["_uuid"])
        dp_uuids = [_one(lf["logical_datapath"])] if _one(lf["logical_datapath"]) else \
            groups.get(_one(lf["logical_dp_group"]), [])
        for dp_uuid in dp_uuids:
            dp = dps[dp_uuid]
            if dp["tunnel_key"] not in local_dps:
                continue
            out.translations += 1
            try:
                flows = translate_lflow(
                    lf["_uuid"], lf["pipeline"], lf["table_id"], lf["priority"],
                    lf["match"], lf["actions"], dp_key=dp["tunnel_key"], lookups=lookups,
                    is_switch="logical-switch" in dp["external_ids"],
                    snat_ct_zone="snat-ct-zone" in dp["external_ids"],
                    controller_meter=_one(lf["controller_meter"]),
                    in_out_port=lf["tags"].get("in_out_port"))
            except LflowTranslateError as err:
                out.errors.append(str(err))
                continue
            if flows:
                _collect_kinds(out.action_kinds, parse_actions(
                    lf["actions"], params=ActionParams(dhcp_opts=dhcp, dhcpv6_opts=dhcpv6,
                                                       table=lf["table_id"])).actions)
            for flow in flows:
                out.flows.append((lf["_uuid"], flow))
                if flow.cookie:
                    out.lflows_with_flows.add(lf["_uuid"])
    return out


def _collect_kinds(kinds: set[str], actions: Iterable[LAction]) -> None:
    for act in actions:
        kinds.add(type(act).__name__)
        if isinstance(act, Nested):
            _collect_kinds(kinds, act.actions)


# -- comparison -----------------------------------------------------------------------------


Key = tuple[int, int, Any]


def _conj_ranks(flows: list[tuple[int, Flow]]) -> dict[int, tuple[int, int]]:
    """Conjunction id -> (lflow cookie, rank of the id among that lflow's ids)."""
    by_cookie: dict[int, set[int]] = defaultdict(set)
    for cookie, flow in flows:
        conj = flow.match.get("conj_id")
        if conj is not None:
            by_cookie[cookie].add(conj[0])
    return {cid: (cookie, rank) for cookie, ids in by_cookie.items()
            for rank, cid in enumerate(sorted(ids))}


_NESTED = frozenset(int(op) for op in NESTED_OPCODES.values())


def _norm_action(act: Action, conj: dict[int, tuple[int, int]]) -> Any:
    if isinstance(act, Group):
        return "group"
    if isinstance(act, Meter):
        return "meter"
    if isinstance(act, Controller):
        data = act.userdata
        if len(data) >= 8 and int.from_bytes(data[:4], "big") in _NESTED:
            # Nested actions may hold metered controller actions too.
            inner = decode_actions(data, 8, len(data))
            act = dataclasses.replace(act, userdata=data[:8] + repr(tuple(
                _norm_action(x, conj) for x in inner)).encode())
        if act.meter_id:
            return ("metered", dataclasses.replace(act, meter_id=1))
    if isinstance(act, Conjunction):
        return ("conjunction", conj.get(act.id, ("?", act.id)), act.clause, act.n_clauses)
    return act


def normalise(flows: list[tuple[int, Flow]]) -> dict[Key, list[tuple[int, Any]]]:
    """(table, priority, match without conj_id value) -> [(cookie, normalised actions)]."""
    conj = _conj_ranks(flows)
    out: dict[Key, list[tuple[int, Any]]] = defaultdict(list)
    for cookie, flow in flows:
        match = flow.match
        cid = match.get("conj_id")
        mkey: Any = match
        if cid is not None:
            mkey = (match.without("conj_id"), conj.get(cid[0]))
        acts = tuple(_norm_action(a, conj) for a in flow.actions)
        if flow.actions and all(isinstance(a, Conjunction) for a in flow.actions):
            acts = tuple(sorted(acts, key=repr))
        out[flow.table_id, flow.priority, mkey].append((cookie, acts))
    return out


@dataclass
class Comparison:
    """Differences between pyovn's flows and the switch's, and coverage."""

    missing: list[str] = field(default_factory=list)  # pyovn has, switch lacks
    extra: list[str] = field(default_factory=list)  # switch has, pyovn lacks
    compared_lflows: int = 0


def compare(mine: Translation, dumped: list[Flow],
            cookies: set[int] | None = None) -> Comparison:
    """Compare pyovn's translation with the logical-table flows of the switch
    (only those with ``cookies``, if given)."""
    theirs_raw = [(f.cookie, f) for f in dumped if f.table_id in LFLOW_TABLES
                  and (cookies is None or f.cookie in cookies)]
    mine_raw = [(f.cookie if f.cookie else 0, f) for _, f in mine.flows]
    # Conjunction clause flows are shared: merge each side's per key.
    theirs = _merge_conj(normalise(theirs_raw))
    ours = _merge_conj(normalise(mine_raw))
    result = Comparison(compared_lflows=len(mine.lflows_with_flows))
    for key, cands in ours.items():
        got = theirs.get(key)
        if got is None:
            result.missing.append(f"{key}: {cands}")
        elif not any(c == g for c in cands for g in got):
            result.missing.append(f"{key}:\n   pyovn  {cands}\n   switch {got}")
    for key, got in theirs.items():
        if key not in ours:
            result.extra.append(f"{key}: {got}")
    return result


def _merge_conj(flows: dict[Key, list[tuple[int, Any]]]) -> dict[Key, list[tuple[int, Any]]]:
    out: dict[Key, list[tuple[int, Any]]] = {}
    for key, cands in flows.items():
        conj = [acts for cookie, acts in cands if not cookie]
        plain = [(cookie, acts) for cookie, acts in cands if cookie]
        if conj:
            merged = tuple(sorted({a for acts in conj for a in acts}, key=repr))
            plain.append((0, merged))
        out[key] = plain
    return out


# -- scenarios --------------------------------------------------------------------------------

#: One ovn-nbctl transaction: switches with every port kind, a router, port
#: security, address sets, port groups, ACLs of every action, both directions.
NB_COMMANDS = [
    ["ls-add", "sw0"],
    ["lsp-add", "sw0", "sw0-p1"],
    ["lsp-set-addresses", "sw0-p1", "50:54:00:00:00:01 10.0.0.3 aef0::3"],
    ["lsp-set-port-security", "sw0-p1", "50:54:00:00:00:01 10.0.0.3 aef0::3"],
    ["lsp-add", "sw0", "sw0-p2"],
    ["lsp-set-addresses", "sw0-p2", "50:54:00:00:00:02 10.0.0.4 aef0::4"],
    ["lsp-set-port-security", "sw0-p2", "50:54:00:00:00:02 10.0.0.4/24"],
    ["lsp-add", "sw0", "sw0-p3"],  # never bound: a remote port
    ["lsp-set-addresses", "sw0-p3", "50:54:00:00:00:03 10.0.0.5"],
    ["lsp-add", "sw0", "sw0-p4"],
    ["lsp-set-addresses", "sw0-p4", "unknown"],
    ["lsp-add", "sw0", "sw0-lp"],
    ["lsp-set-type", "sw0-lp", "localport"],
    ["lsp-set-addresses", "sw0-lp", "50:54:00:00:00:09 10.0.0.9"],
    ["lsp-add", "sw0", "sw0-ln"],
    ["lsp-set-type", "sw0-ln", "localnet"],
    ["lsp-set-addresses", "sw0-ln", "unknown"],
    ["lsp-set-options", "sw0-ln", "network_name=phys"],
    ["ls-add", "sw1"],
    ["lsp-add", "sw1", "sw1-p1"],
    ["lsp-set-addresses", "sw1-p1", "50:54:00:00:01:01 fd01::11"],
    ["lsp-set-port-security", "sw1-p1", "50:54:00:00:01:01 fd01::11"],
    ["lr-add", "lr0"],
    ["lrp-add", "lr0", "lr0-sw0", "00:00:00:00:ff:01", "10.0.0.1/24", "aef0::1/64"],
    ["lrp-add", "lr0", "lr0-sw1", "00:00:00:00:ff:02", "fd01::1/64"],
    ["lsp-add", "sw0", "sw0-lr0"],
    ["lsp-set-type", "sw0-lr0", "router"],
    ["lsp-set-addresses", "sw0-lr0", "router"],
    ["lsp-set-options", "sw0-lr0", "router-port=lr0-sw0"],
    ["lsp-add", "sw1", "sw1-lr0"],
    ["lsp-set-type", "sw1-lr0", "router"],
    ["lsp-set-addresses", "sw1-lr0", "router"],
    ["lsp-set-options", "sw1-lr0", "router-port=lr0-sw1"],
    ["create", "Address_Set", "name=as_ip4", 'addresses="10.0.0.3","10.0.0.4","10.0.1.0/24"'],
    ["create", "Address_Set", "name=as_ip6", 'addresses="aef0::3","aef0::4"'],
    ["pg-add", "pg1", "sw0-p1", "sw0-p2"],
    ["pg-add", "pg2", "sw0-p4", "sw1-p1"],
    ["meter-add", "acl_meter", "drop", "10", "pktps"],
    ["acl-add", "sw0", "from-lport", "1002",
     "inport == @pg1 && ip4 && ip4.dst == $as_ip4 && tcp.dst == {80, 443}", "allow-related"],
    ["acl-add", "sw0", "to-lport", "1001", "outport == @pg1 && ip6 && ip6.src == $as_ip6",
     "allow"],
    ["acl-add", "sw0", "from-lport", "1000", "ip4.src == 10.0.0.0/8 && udp", "drop"],
    ["acl-add", "sw0", "to-lport", "999", "tcp.dst == 22", "reject"],
    ["acl-add", "sw0", "from-lport", "998", "icmp4", "allow-stateless"],
    ["acl-add", "sw0", "to-lport", "997", "ip6 && tcp.src >= 1000 && tcp.src <= 2000",
     "allow"],
    ["--log", "--name=acl_log", "--severity=alert", "--meter=acl_meter", "acl-add", "sw0",
     "from-lport", "996", "ip4.dst == 10.0.0.99", "drop"],
    ["--log", "--severity=info", "acl-add", "sw0", "to-lport", "995", "udp.dst == 53",
     "allow-related"],
    ["--label=1234", "acl-add", "sw0", "from-lport", "994", "ip6.dst == aef0::/64 && udp",
     "allow-related"],
    ["acl-add", "sw0", "from-lport", "993", "arp", "allow"],
    ["acl-add", "pg1", "to-lport", "1003", "outport == @pg1 && ip4.src == $pg1_ip4",
     "allow-related"],
    ["acl-add", "pg2", "from-lport", "1004",
     "inport == @pg2 && (ip6.src == {fd01::11, fd01::12} || ip4.src == 10.0.0.7)",
     "reject"],
    ["acl-add", "sw1", "to-lport", "1000", "ip6 && icmp6 && outport == \"sw1-p1\"", "drop"],
]
#: Rows the first transaction must have created (looked up by name).
NB_COMMANDS_2 = [
    ["--id=@d4", "create", "DHCP_Options", "cidr=10.0.0.0/24", "options:lease_time=3600",
     "options:router=10.0.0.1", "options:server_id=10.0.0.1",
     "options:server_mac=c0:ff:ee:00:00:01", 'options:dns_server="{8.8.8.8, 8.8.4.4}"',
     'options:domain_name="\\"ovn.org\\""', "options:mtu=1400",
     'options:classless_static_route="{30.0.0.0/24,10.0.0.4, 0.0.0.0/0,10.0.0.1}"',
     'options:domain_search_list="\\"ovn.org,abc.ovn.org,xyz.org\\""',
     'options:bootfile_name="\\"pxe.efi\\""', "options:ip_forward_enable=1"],
    ["set", "Logical_Switch_Port", "sw0-p1", "dhcpv4_options=@d4"],
    ["--id=@d6", "create", "DHCP_Options", 'cidr="aef0::/64"',
     "options:server_id=00:00:00:10:00:01", 'options:dns_server="{aef0::100, aef0::101}"',
     'options:domain_search="\\"ovn.org\\""'],
    ["set", "Logical_Switch_Port", "sw0-p1", "dhcpv6_options=@d6"],
    ["--id=@dns", "create", "DNS", "records:vm1.ovn.org=10.0.0.3",
     'records:vm2.ovn.org="10.0.0.4 aef0::4"'],
    ["add", "Logical_Switch", "sw0", "dns_records", "@dns"],
    ["lb-add", "lb0", "10.0.0.100:80", "10.0.0.3:80,10.0.0.4:80", "tcp"],
    ["ls-lb-add", "sw0", "lb0"],
    ["qos-add", "sw0", "from-lport", "100", "ip4.dst == 10.0.0.4", "dscp=16"],
    ["qos-add", "sw0", "to-lport", "101", "udp", "rate=100", "burst=10"],
    ["lsp-add", "sw0", "sw0-c1", "sw0-p1", "10"],
    ["lsp-set-addresses", "sw0-c1", "50:54:00:00:00:11 10.0.0.11"],
    ["lsp-add", "sw0", "sw0-vip"],
    ["lsp-set-type", "sw0-vip", "virtual"],
    ["lsp-set-addresses", "sw0-vip", "50:54:00:00:00:50 10.0.0.50"],
    ["lsp-set-options", "sw0-vip", "virtual-ip=10.0.0.50", "virtual-parents=sw0-p1,sw0-p2"],
    ["set", "Logical_Switch", "sw1", "other_config:mcast_snoop=true"],
    ["ls-add", "ext"],
    ["lsp-add", "ext", "ext-ln"],
    ["lsp-set-type", "ext-ln", "localnet"],
    ["lsp-set-addresses", "ext-ln", "unknown"],
    ["lsp-set-options", "ext-ln", "network_name=phys"],
    ["lrp-add", "lr0", "lr0-ext", "00:00:00:00:ff:03", "172.16.0.1/24", "fd02::1/64"],
    ["lsp-add", "ext", "ext-lr0"],
    ["lsp-set-type", "ext-lr0", "router"],
    ["lsp-set-addresses", "ext-lr0", "router"],
    ["lsp-set-options", "ext-lr0", "router-port=lr0-ext"],
    ["lrp-set-gateway-chassis", "lr0-ext", CHASSIS, "10"],
    ["set", "Logical_Router_Port", "lr0-sw1", "ipv6_ra_configs:address_mode=slaac",
     "ipv6_ra_configs:mtu=1450", "ipv6_ra_configs:rdnss=fd01::53",
     "ipv6_ra_configs:dnssl=ovn.org,b.ovn.org", "ipv6_ra_configs:router_preference=HIGH"],
    ["set", "Logical_Router_Port", "lr0-sw0", "ipv6_ra_configs:address_mode=dhcpv6_stateful"],
    ["set", "Logical_Router_Port", "lr0-ext", "options:gateway_mtu=1400"],
    ["set", "NB_Global", ".", "options:controller_event=true"],
    ["create", "Load_Balancer", "name=lb5", 'vips:"10.0.0.103:80"=""', "protocol=tcp"],
    ["ls-lb-add", "sw0", "lb5"],
    ["lr-nat-add", "lr0", "snat", "172.16.0.1", "10.0.0.0/24"],
    ["lr-nat-add", "lr0", "dnat_and_snat", "172.16.0.10", "10.0.0.3"],
    ["lr-route-add", "lr0", "0.0.0.0/0", "172.16.0.254"],
    ["lb-add", "lb1", "172.16.0.100:8080", "10.0.0.3:80,10.0.0.4:80", "tcp"],
    ["lr-lb-add", "lr0", "lb1"],
    ["lb-add", "lb2", "10.0.0.101:80", "10.0.0.3:8080", "tcp"],
    ["lb-add", "lb3", "[aef0::101]:80", "[aef0::3]:8080,[aef0::4]:8080", "udp"],
    ["lb-add", "lb4", "10.0.0.102", "10.0.0.4"],
    ["set", "Load_Balancer", "lb2", "options:affinity_timeout=60"],
    ["set", "Load_Balancer", "lb3", "options:affinity_timeout=30"],
    ["set", "Load_Balancer", "lb4", "options:affinity_timeout=10"],
    ["ls-lb-add", "sw0", "lb2"],
    ["ls-lb-add", "sw0", "lb3"],
    ["ls-lb-add", "sw0", "lb4"],
    ["fwd-group-add", "fg0", "sw0", "10.0.0.200", "00:00:00:00:00:aa", "sw0-p1", "sw0-p2"],
]
BOUND_PORTS = ("sw0-p1", "sw0-p2", "sw0-p4", "sw1-p1", "sw0-lp")


def _nbctl_batch(sb: Sandbox, commands: list[list[str]]) -> None:
    argv: list[str] = []
    for cmd in commands:
        argv += ["--", *cmd] if argv else cmd
    sb.nbctl(*argv)


def _wait_flows(sb: Sandbox, done: Any, timeout: float = 10.0) -> list[Flow]:
    deadline = time.monotonic() + timeout
    while True:
        flows = dump_flows(sb)
        if done(flows) or time.monotonic() > deadline:
            return flows
        time.sleep(0.2)


@dataclass
class Run:
    """What one oracle scenario produced."""

    sb: Sandbox
    dumped: list[Flow]
    local_dps: set[int]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """Real ovn-northd + ovn-controller 23.03 with the NB scenario applied."""
    sb = Sandbox(tmp_path_factory.mktemp("lflow-oracle") / "sb")
    try:
        sb.start(SandboxConfig(northd="ovn", controller="ovn"))
        _nbctl_batch(sb, NB_COMMANDS)
        _nbctl_batch(sb, NB_COMMANDS_2)
        for i, port in enumerate(BOUND_PORTS):
            sb.vsctl("add-port", "br-int", f"vif{i}", "--", "set", "Interface", f"vif{i}",
                     "type=dummy", f"external_ids:iface-id={port}")
        sb.nbctl("--wait=hv", "sync")
        yield sb
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


def _local_dps(flows: list[Flow]) -> set[int]:
    return {m[0] for f in flows if f.table_id in LFLOW_TABLES
            and (m := f.match.get("metadata")) is not None}


def _report(cmp: Comparison) -> str:
    lines = [f"{len(cmp.missing)} flows pyovn has and the switch lacks:"]
    lines += [f"  {m}"[:600] for m in cmp.missing[:12]]
    lines += [f"{len(cmp.extra)} flows the switch has and pyovn lacks:"]
    lines += [f"  {e}"[:600] for e in cmp.extra[:12]]
    return "\n".join(lines)


def test_northd_lflows_translate_like_ovn_controller(sandbox: Sandbox) -> None:
    dumped = _wait_flows(sandbox, lambda fl: len(_local_dps(fl)) >= 4)
    local = _local_dps(dumped)
    assert len(local) == 4, "sw0, sw1, ext and lr0 should all be local"
    assert sandbox.controller_crashes < 5
    mine = translate_sb(sandbox, local)
    assert not mine.errors, mine.errors[:5]
    cmp = compare(mine, dumped)
    print(f"\nnorthd scenario: {len(mine.lflows)} lflows ({mine.translations} on their "
          f"datapaths) compared, "
          f"{len(mine.lflows_with_flows)} with flows here, {len(mine.flows)} flows; "
          f"actions: {' '.join(sorted(mine.action_kinds))}")
    assert not cmp.missing and not cmp.extra, _report(cmp)
    assert len(mine.lflows_with_flows) >= 400


#: Hand-written lflows: datapath ("sw" or "lr"), pipeline, table, match, actions.
SYNTHETIC = [
    ("sw", "ingress", 10, "ip4", "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; output; };"),
    ("sw", "ingress", 10, "ip6", "nd_ns { nd.target = xxreg0; output; };"),
    ("sw", "ingress", 10, "ip4", "icmp4 { eth.dst <-> eth.src; ip4.dst <-> ip4.src; "
     "icmp4.type = 3; icmp4.code = 3; icmp4.frag_mtu = 1442; output; };"),
    ("sw", "ingress", 10, "ip6",
     "icmp6 { eth.dst <-> eth.src; icmp6.type = 1; icmp6.frag_mtu = 1442; output; };"),
    ("sw", "ingress", 10, "ip4", "icmp4_error { icmp4.type = 3; output; };"),
    ("sw", "ingress", 10, "ip6", "icmp6_error { icmp6.type = 1; output; };"),
    ("sw", "ingress", 10, "sctp", "sctp_abort { eth.dst <-> eth.src; output; };"),
    ("sw", "ingress", 10, "ip4", "reject { eth.dst <-> eth.src; ip4.dst <-> ip4.src; "
     "outport <-> inport; next(pipeline=egress,table=5); };"),
    ("sw", "ingress", 10, "tcp", "tcp_reset { eth.dst <-> eth.src; output; };"),
    ("sw", "ingress", 10, "nd_ns", "nd_na { eth.src = 50:54:00:00:00:01; output; };"),
    ("sw", "ingress", 10, "nd_ns", "nd_na_router { output; };"),
    ("sw", "ingress", 10, "ip4", 'log(name="acl1", verdict=drop, severity=alert);'),
    ("sw", "ingress", 10, "ip4", 'log(name="x", verdict=reject, severity=notice); '
     "log(verdict=allow, severity=debug); log(verdict=allow, severity=warning); next;"),
    ("sw", "ingress", 10, "arp", "put_arp(inport, arp.spa, arp.sha); next;"),
    ("sw", "ingress", 10, "ip4", "get_arp(outport, reg0); next;"),
    ("sw", "ingress", 10, "ip6", "put_nd(inport, nd.target, nd.sll); get_nd(outport, xxreg0);"
     " next;"),
    ("sw", "ingress", 10, "1", "reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;"),
    ("sw", "ingress", 10, "1", "reg9[2] = lookup_nd(inport, nd.target, nd.sll); next;"),
    ("sw", "ingress", 10, "1", "reg9[3] = lookup_arp_ip(inport, reg0); "
     "reg9[4] = lookup_nd_ip(inport, xxreg0); next;"),
    ("sw", "ingress", 10, "1", "put_fdb(inport, eth.src); reg0[11] = lookup_fdb(inport, "
     "eth.src); outport = get_fdb(eth.dst); reg1 = get_fdb(eth.src); next;"),
    ("sw", "ingress", 10, "1", "reg0[6] = chk_lb_hairpin(); reg0[7] = chk_lb_hairpin_reply();"
     " ct_snat_to_vip; next;"),
    ("sw", "ingress", 10, "1", "reg9[1] = chk_ecmp_nh_mac(); reg9[2] = chk_ecmp_nh(); "
     "reg9[3] = chk_lb_aff(); reg0[1] = check_in_port_sec(); "
     "reg0[2] = check_out_port_sec(); next;"),
    ("sw", "ingress", 10, "1", "handle_svc_check(inport); igmp; handle_dhcpv6_reply; "
     "handle_bfd_msg();"),
    ("sw", "ingress", 10, "ip4", "ct_commit(ct_mark=1/1, ct_label=0x10/0xf0); next;"),
    ("sw", "ingress", 10, "ip4", "ct_dnat; ct_snat; ct_dnat(10.0.0.5); "
     "ct_snat(10.0.0.6, 100-200); ct_dnat(fd00::1, 300);"),
    ("sw", "ingress", 10, "ip4", "ct_dnat_in_czone(1.2.3.4); ct_snat_in_czone; ct_clear; "
     "ip.ttl--; next;"),
    ("sw", "egress", 3, "ip4", "ct_next;"),
    ("sw", "egress", 3, "ip4", "ct_lb_mark;"),
    ("sw", "egress", 4, "ip4", "ct_commit_nat;"),
    ("sw", "egress", 5, "ip4", "ct_commit { ct_label.label = 7; ct_mark.blocked = 0; }; next;"),
    ("lr", "egress", 3, "ip4", "ct_next;"),
    ("lr", "ingress", 3, "ip4", "ct_next;"),
    ("lr", "ingress", 3, "ip4", "ct_commit { ct_mark.blocked = 1; }; ct_lb_mark; "
     "ct_commit_nat;"),
    ("lr", "ingress", 3, "ip4", "ct_dnat; ct_snat; ct_dnat_in_czone; ct_snat_in_czone;"),
    ("sw", "ingress", 10, "1", 'trigger_event(event = "empty_lb_backends", '
     'vip = "10.0.0.10:80", protocol = "tcp", '
     'load_balancer = "12345678-1234-1234-1234-123456789abc");'),
    ("sw", "ingress", 10, "1", 'bind_vport("sw0-p2", inport); bind_vport("nonexist", inport);'
     " next;"),
    ("sw", "ingress", 10, "1", "set_queue(10); reg0[1] = check_pkt_larger(1500); push(reg0); "
     "pop(reg1); reg2 <-> reg3; next;"),
    ("sw", "ingress", 10, "1", 'clone { outport = "sw0-p2"; output; }; outport = "none"; '
     'outport = "_MC_flood"; outport = "nonexist"; inport = ""; output;'),
    ("sw", "egress", 3, "1", "output;"),
    ("sw", "ingress", 10, "udp", "reg0[3] = dns_lookup(); next;"),
    ("sw", "ingress", 10, "ip4", "ct_lb_mark(backends=10.0.0.3:80,10.0.0.4:80);"),
    ("sw", "ingress", 10, "ip4",
     'ct_lb(backends=10.0.0.3,10.0.0.4; hash_fields="ip_src,ip_dst"; skip_snat);'),
    ("sw", "ingress", 10, "1", "reg0 = select(1=50, 2=100);"),
    ("sw", "ingress", 10, "1", 'fwd_group(childports="sw0-p1", "sw0-p2");'),
    ("sw", "ingress", 10, "ip4",
     "sample(probability=100,collector_set=1,obs_domain=2,obs_point=3); next;"),
    ("sw", "ingress", 10, "1", "set_meter(100); set_meter(200, 10); next;"),
    ("sw", "ingress", 10, "1", "reg0[0..15] = 0x1234; reg1 = 10.0.0.1/255.0.0.0; "
     "xxreg1 = fd00::1; eth.src = 00:00:00:00:00:01/ff:ff:ff:00:00:00; flags.loopback = 1; "
     "reg0[3] = 1; pkt.mark = 5; ip.dscp = 10; next;"),
    ("sw", "ingress", 10, "ip4", "ip4.dst = ip4.src; eth.src <-> eth.dst; ip.ttl = 64; "
     "next(pipeline=egress, table=2);"),
    ("sw", "ingress", 10, "1", "drop;"),
    ("lr", "ingress", 3, "ip4 && tcp", "commit_ecmp_nh(ipv6 = false, proto = tcp); next;"),
    ("lr", "ingress", 3, "ip6 && sctp", "commit_ecmp_nh(ipv6 = true, proto = sctp); next;"),
    ("lr", "ingress", 3, "ip6", 'commit_lb_aff(vip = "[fd02::10]:80", '
     'backend = "[aef0::3]:8080", proto = udp, timeout = 30); next;'),
    ("lr", "ingress", 3, "ip4", 'commit_lb_aff(vip = "172.16.0.10", backend = "10.0.0.3", '
     "timeout = 5); next;"),
]
#: Hand-written lflows with a controller meter (put on their controller actions).
SYNTHETIC_METERED = [
    ("sw", "ingress", 11, "ip4", "icmp4 { icmp4.frag_mtu = 1442; output; }; "
     'log(verdict=drop); log(verdict=allow, meter="acl_meter");'),
    ("sw", "ingress", 11, "1", "handle_svc_check(inport); put_fdb(inport, eth.src); next;"),
    ("sw", "ingress", 11, "udp", "reg0[3] = dns_lookup(); next;"),
]


def test_every_action_encodes_like_ovn_controller(sandbox: Sandbox) -> None:
    dumped = _wait_flows(sandbox, lambda fl: len(_local_dps(fl)) >= 4)
    procs.stop_daemon(procs.daemon_in(sandbox.dir, "northd"))  # it would delete our lflows
    dp_uuid = {}
    for row in sb_table(sandbox, "Datapath_Binding"):
        name = row["external_ids"].get("name")
        dp_uuid["sw" if name == "sw0" else "lr" if name == "lr0" else name] = row["_uuid"]
    commands: list[str] = []
    cases: list[tuple[tuple[str, str, int, str, str], list[str]]]
    cases = [(c, []) for c in SYNTHETIC] + [(c, ["controller_meter=copp"])
                                            for c in SYNTHETIC_METERED]
    for i, ((dp, pipeline, table, match, actions), extra) in enumerate(cases):
        commands += ["--", "create", "Logical_Flow", f"logical_datapath={dp_uuid[dp]}",
                     f"pipeline={pipeline}", f"table_id={table}", f"priority={2000 + i}",
                     f"match={json.dumps(match)}", f"actions={json.dumps(actions)}", *extra]
    uuids = set(sandbox.sbctl(*commands[1:]).split())
    assert len(uuids) == len(cases)
    cookies = {int(u[:8], 16) for u in uuids}
    dumped = _wait_flows(sandbox, lambda fl: len({f.cookie for f in fl} & cookies) >= 53)
    mine = translate_sb(sandbox, _local_dps(dumped), only=uuids)
    assert not mine.errors, mine.errors[:5]
    cmp = compare(mine, dumped, cookies)
    print(f"\nsynthetic actions: {len(mine.lflows)} lflows compared, "
          f"{len(mine.lflows_with_flows)} with flows; "
          f"actions: {' '.join(sorted(mine.action_kinds))}")
    assert not cmp.missing and not cmp.extra, _report(cmp)
    assert len(mine.lflows_with_flows) >= 56
