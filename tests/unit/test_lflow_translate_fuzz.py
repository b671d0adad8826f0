"""Fuzzing translate_lflow: whatever the lflow, only LflowTranslateError escapes.

Matches and actions are generated from the language (fields, constants,
every action with random operands, nesting) or mutated from real ovn-northd
23.03 lflows, in random tables of both pipelines, on switches and routers.
Every flow that comes out must be encodable as OpenFlow 1.5 (``Flow.body()``):
anything OpenFlow cannot carry has to be reported as a translation error.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyovn.lflow.action_parser import GenOptionDef
from pyovn.lflow.translate import (
    INTERNAL_ERROR,
    ConjIdAllocator,
    LflowTranslateError,
    Lookups,
    ParseCache,
    translate_lflow,
)
from pyovn.openflow import Flow

PORTS = {"sw0-p1": 1, "sw0-p2": 2, "sw0-lr0": 3, "_MC_flood": 0x8000}
LOOKUPS = Lookups(
    lookup_port=lambda dp, name: PORTS.get(name),
    is_related_port=lambda dp, key: key != 2,
    address_sets={"as1": ["10.0.0.3", "192.168.0.0/16"], "as6": ["aef0::1"],
                  "mac": ["50:54:00:00:00:01"], "empty": []},
    port_groups={"1_pg1": ["sw0-p1", "sw0-p2"]},
    is_chassis_resident=lambda port: port == "sw0-p1",
    template_vars={"vip": "10.0.0.100"},
    dhcp_opts={n: GenOptionDef(n, c, t) for n, c, t in (
        ("offerip", 0, "ipv4"), ("router", 3, "ipv4"), ("lease_time", 51, "uint32"),
        ("mtu", 26, "uint16"), ("domain_name", 15, "str"), ("wpad", 252, "str"),
        ("classless_static_route", 121, "static_routes"), ("ip_forward_enable", 19, "bool"),
        ("domain_search_list", 119, "domains"), ("host_name", 12, "host_id"))},
    dhcpv6_opts={n: GenOptionDef(n, c, t) for n, c, t in (
        ("ia_addr", 5, "ipv6"), ("server_id", 2, "mac"), ("domain_search", 24, "str"),
        ("fqdn", 39, "domain"))},
    meter_id=lambda name: 1 + len(name) % 5,
    group_id=lambda text: None if "hash" in text else 1 + len(text) % 7,
    tunnel_ofport=lambda port: 9,
    collector_ids=frozenset({1}))

FIELDS = ["eth.src", "eth.dst", "eth.type", "vlan.tci", "ip.proto", "ip.ttl", "ip.dscp",
          "ip.ecn", "ip4.src", "ip4.dst", "ip6.src", "ip6.dst", "ip6.label", "tcp.src",
          "tcp.dst", "udp.dst", "sctp.src", "icmp4.type", "icmp6.code", "arp.op", "arp.spa",
          "arp.sha", "arp.tha", "nd.target", "nd.sll", "nd.tll", "reg0", "reg0[3]",
          "reg0[0..15]", "reg9", "xreg1", "xxreg0", "xxreg1", "flags", "flags.loopback",
          "ct_mark", "ct_mark.blocked", "ct_label", "ct_label.label", "ct_state", "ct.est",
          "pkt.mark", "inport", "outport", "ip4", "tcp", "nd_ns", "eth.mcast",
          "icmp4.frag_mtu", "icmp6.frag_mtu", "ip.frag", "tcp.flags"]
CONSTANTS = ["0", "1", "3", "80", "65535", "0x800", "0x10/0xf0", "10.0.0.1", "10.0.0.0/8",
             "aef0::1", "fe80::/10", "00:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", '"sw0-p1"',
             '"sw0-p2"', '"_MC_flood"', '"none"', '"nope"', '""', "$as1", "$as6", "$empty",
             "@pg1", "{1, 2}", "{10.0.0.1, 10.0.0.2}", "^vip", "4294967296", "-1"]
MATCH_TEMPLATES = ["{f} == {c}", "{f} != {c}", "{f} < {r}", "{f} >= {r}", "{f}",
                   "!{f}", "{r} <= {f} <= {r2}", "is_chassis_resident({c})", "1", "0"]
# Real ovn-controller 23.03.1 aborts on two kinds of match (checked: an OVN-only
# field such as icmp4.frag_mtu in a match, and a relational operator against an
# address set holding a network), and pyovn's compiler has no proper message for
# them yet (see test_matches_that_crash_ovn_controller_are_rejected); the
# generator leaves them out.
MATCH_FIELDS = [f for f in FIELDS if not f.endswith("frag_mtu")]
RELATIONAL_CONSTANTS = [c for c in CONSTANTS if c[0] not in "$@{"]
ACTION_TEMPLATES = [
    "next;", "next({n});", "next(pipeline=egress, table={n});", "output;", "drop;",
    "{f} = {c};", "{f} = {f2};", "{f} <-> {f2};", "push({f});", "pop({f});", "ip.ttl--;",
    "ct_next;", "ct_commit {{ {inner} }};", "ct_commit;", "ct_commit(ct_mark={c});",
    "ct_lb_mark;", "ct_lb_mark(backends=10.0.0.3:80,[aef0::3]:80);",
    'ct_lb(backends=10.0.0.3; hash_fields="ip_src");', "ct_clear;", "ct_commit_nat;",
    "ct_dnat;", "ct_snat({c});", "ct_dnat(10.0.0.9, 100-200);", "ct_snat_in_czone;",
    "ct_dnat_in_czone(aef0::9);", "ct_snat_to_vip;", "clone {{ {inner} }};",
    "arp {{ {inner} }};", "nd_na {{ {inner} }};", "nd_ns {{ {inner} }};",
    "icmp4 {{ {inner} }};", "icmp6 {{ {inner} }};", "icmp4_error {{ {inner} }};",
    "tcp_reset {{ {inner} }};", "sctp_abort {{ {inner} }};", "reject {{ {inner} }};",
    "put_arp(inport, arp.spa, arp.sha);", "get_arp({f}, {f2});", "put_nd(inport, {f}, {f2});",
    "{f} = lookup_arp(inport, {f2}, arp.sha);", "{f} = lookup_nd_ip(outport, {f2});",
    "put_fdb(inport, eth.src);", "{f} = get_fdb({f2});", "{f} = lookup_fdb(inport, {f2});",
    "{f} = check_in_port_sec();", "{f} = check_out_port_sec();", "{f} = chk_lb_hairpin();",
    "{f} = dns_lookup();", "{f} = chk_lb_aff();", "handle_svc_check({f});", "igmp;",
    "log(verdict=drop);", 'log(name="x", verdict=allow, severity=debug, meter="m");',
    "set_queue({n});", "set_meter({n});", "{f} = check_pkt_larger({n});",
    "{f} = select(1=10, 2);", 'fwd_group(liveness=true, childports="sw0-p1", "nope");',
    'trigger_event(event = "empty_lb_backends", vip = "10.0.0.1:80");',
    'bind_vport("sw0-p2", {f});', "sample(probability={n},collector_set=1,obs_point=$cookie);",
    "commit_ecmp_nh(ipv6 = true, proto = udp);",
    'commit_lb_aff(vip = "10.0.0.1:80", backend = "10.0.0.2:8080", proto = tcp, timeout = 9);',
    "{f} = put_dhcp_opts(offerip = 10.0.0.3, router = {c}, domain_search_list = {c2}, "
    "classless_static_route = {{30.0.0.0/24, 10.0.0.4}}, host_name = {c});",
    '{f} = put_dhcpv6_opts(ia_addr = {c}, server_id = {c2}, fqdn = "a.b");',
    '{f} = put_nd_ra_opts(addr_mode = "slaac", slla = {c}, prefix = aef0::/64, mtu = {n});',
    "{f} = {c}[garbage", "next(",
]
REAL_LFLOWS = [
    ("eth.src[40]", "drop;"),
    ("1", "reg0[15] = check_in_port_sec(); next;"),
    ("reg0[7] == 1 && (ip4 && tcp.dst == 80)", "reg0[1] = 1; next;"),
    ("!ct.est && ct.rel && !ct.new && !ct.inv && ct_mark.blocked == 0",
     "reg0[17] = 1; ct_commit_nat;"),
    ("reg0[1] == 1 && reg0[13] == 1",
     "ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;"),
    ("arp.tpa == 10.0.0.3 && arp.op == 1",
     "eth.dst = eth.src; eth.src = 50:54:00:00:00:01; arp.op = 2; arp.tha = arp.sha; "
     "arp.sha = 50:54:00:00:00:01; arp.tpa = arp.spa; arp.spa = 10.0.0.3; outport = inport; "
     "flags.loopback = 1; output;"),
    ("nd_ns && ip6.dst == {aef0::3, ff02::1:ff00:3} && nd.target == aef0::3",
     "nd_na { eth.src = 50:54:00:00:00:01; ip6.src = aef0::3; nd.target = aef0::3; "
     "nd.tll = 50:54:00:00:00:01; outport = inport; flags.loopback = 1; output; };"),
    ("eth.mcast", 'outport = "_MC_flood"; output;'),
    ("1", "outport = get_fdb(eth.dst); next;"),
    ("inport == @pg1 && ip4 && ip4.dst == $as1 && tcp.dst == {80, 443}",
     "reg0[1] = 1; next;"),
    ("outport == \"sw0-p1\" && eth.src == $mac && ip4.src == {10.0.0.3, 10.0.0.4}",
     'reg0[3] = put_dhcp_opts(offerip = 10.0.0.3, router = 10.0.0.1, lease_time = 3600); '
     "next;"),
    ("ip4 && is_chassis_resident(\"sw0-p1\")",
     "ct_snat(172.16.0.1); ct_dnat_in_czone(10.0.0.3);"),
    ("ip6 && nd_rs", 'reg0[5] = put_nd_ra_opts(addr_mode = "slaac", '
     "slla = 00:00:00:00:ff:02, prefix = fd01::/64); next;"),
    ("ip4 && tcp", "reject { eth.dst <-> eth.src; ip4.dst <-> ip4.src; outport <-> inport; "
     "next(pipeline=egress,table=5); };"),
]


@st.composite
def _filled(draw: st.DrawFn, templates: list[str], fields: list[str] = FIELDS) -> str:
    template = draw(st.sampled_from(templates))
    inner = " ".join(draw(st.lists(st.sampled_from(ACTION_TEMPLATES[:12]), max_size=3)))
    return template.format(
        f=draw(st.sampled_from(fields)), f2=draw(st.sampled_from(FIELDS)),
        c=draw(st.sampled_from(CONSTANTS)), c2=draw(st.sampled_from(CONSTANTS)),
        r=draw(st.sampled_from(RELATIONAL_CONSTANTS)),
        r2=draw(st.sampled_from(RELATIONAL_CONSTANTS)),
        n=draw(st.sampled_from(["0", "1", "5", "28", "30", "1500", "70000"])),
        inner=inner.format(f="eth.dst", f2="eth.src", c="1", c2="2", n="1", inner=""))


MATCHES = st.recursive(_filled(MATCH_TEMPLATES, MATCH_FIELDS), lambda kids: st.one_of(
    st.tuples(kids, st.sampled_from([" && ", " || "]), kids).map("".join),
    kids.map(lambda k: f"({k})")), max_leaves=6)
ACTIONS = st.lists(_filled(ACTION_TEMPLATES), min_size=1, max_size=4).map(" ".join)


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[str, str]:
    match, actions = draw(st.sampled_from(REAL_LFLOWS))
    which = draw(st.booleans())
    text = match if which else actions
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from(["", ";", "{", "}", "(", ")", "==", "[", "..", "$",
                                     "@", '"', "reg", "0x", "::", "&&", "!", "next;"]))
        cut = draw(st.integers(0, 3))
        text = text[:pos] + junk + text[pos + cut:]
    return (text, actions) if which else (match, text)


#: Shared by every example, so that parses are reused across texts seen before.
_CACHE = ParseCache()


def _translate(match: str, actions: str, pipeline: str, table_id: int, is_switch: bool,
               cache: ParseCache | None) -> list[Flow]:
    lookups = Lookups(**{**LOOKUPS.__dict__, "conj_ids": ConjIdAllocator(),
                         "parse_cache": cache})
    return translate_lflow("0123abcd-0000-4000-8000-000000000001", pipeline, table_id,
                           100, match, actions, dp_key=1, lookups=lookups,
                           is_switch=is_switch, controller_meter="copp")


def _check(match: str, actions: str, pipeline: str, table_id: int, is_switch: bool) -> None:
    try:
        flows = _translate(match, actions, pipeline, table_id, is_switch, None)
    except LflowTranslateError as err:
        assert err.part in ("match", "actions", "table") and err.reason
        assert not err.reason.startswith(INTERNAL_ERROR), (match, actions, err.reason)
        for _ in range(2):
            try:
                _translate(match, actions, pipeline, table_id, is_switch, _CACHE)
            except LflowTranslateError as cached:
                assert str(cached) == str(err)
            else:
                raise AssertionError("the parse cache turned an error into flows") from None
        return
    for flow in flows:
        assert isinstance(flow, Flow)
        flow.body()  # encodable as OpenFlow 1.5
    for _ in range(2):  # a miss, then (for texts without sets) a hit
        assert _translate(match, actions, pipeline, table_id, is_switch, _CACHE) == flows


_SETTINGS = settings(max_examples=400, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(MATCHES, ACTIONS, st.sampled_from(["ingress", "egress"]), st.integers(0, 30),
       st.booleans())
def test_generated_lflows_translate_or_raise_translate_errors(
        match: str, actions: str, pipeline: str, table_id: int, is_switch: bool) -> None:
    _check(match, actions, pipeline, table_id, is_switch)


@_SETTINGS
@given(_mutated(), st.sampled_from(["ingress", "egress"]), st.integers(0, 9), st.booleans())
def test_mutated_real_lflows_translate_or_raise_translate_errors(
        lflow: tuple[str, str], pipeline: str, table_id: int, is_switch: bool) -> None:
    _check(*lflow, pipeline, table_id, is_switch)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_arbitrary_text_raises_only_translate_errors(match: str, actions: str) -> None:
    _check(match, actions, "ingress", 3, True)


def test_matches_that_crash_ovn_controller_are_rejected() -> None:
    # ovn-controller 23.03.1 dies on these (an assertion in expr_simplify_relational,
    # a crash on the OVN-only field); pyovn rejects the lflow, for now with an
    # internal-error reason until the compiler gives them proper messages.
    for match in ("0 <= reg0[3] <= $as1", "icmp6.frag_mtu == 3"):
        try:
            translate_lflow("0123abcd-0000-4000-8000-000000000001", "ingress", 3, 100, match,
                            "next;", dp_key=1, lookups=LOOKUPS)
        except LflowTranslateError as err:
            assert err.part == "match"
        else:
            raise AssertionError(f"{match!r} was accepted")
