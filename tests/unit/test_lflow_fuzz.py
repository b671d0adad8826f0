"""Fuzzing: whatever the text, the parsers raise only their own errors.

Inputs are generated from the grammar (fields, constants, operators, actions),
mutated from real ovn-northd 23.03 flows, or arbitrary Unicode.  A text that
parses must print canonically: printing, parsing and printing again gives the
same text (OVN's format is meant to be read back).
"""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyovn.lflow import (
    ActionParams,
    And,
    Cmp,
    Expr,
    Level,
    LflowError,
    Or,
    Relop,
    annotate,
    expand_templates,
    format_actions,
    format_expr,
    parse_actions,
    parse_expr,
)

ADDRESS_SETS = {"as1": ["10.0.0.3", "192.168.0.0/16"], "as6": ["aef0::1"],
                "mac": ["50:54:00:00:00:01"], "empty": []}
PORT_GROUPS = {"3_pg1": ["sw0-p1", "sw0-p2"], "pg2": ["sw0-p3"]}

FIELDS = ["eth.src", "eth.dst", "eth.type", "vlan.tci", "vlan.pcp", "ip.proto", "ip.ttl",
          "ip.frag", "ip4.src", "ip4.dst", "ip6.src", "ip6.label", "tcp.dst", "tcp.flags",
          "udp.src", "icmp4.type", "icmp6.code", "arp.op", "arp.sha", "nd.target", "nd.tll",
          "reg0", "reg9", "xreg1", "xxreg0", "flags", "flags.loopback", "ct_mark",
          "ct_mark.blocked", "ct_label.label", "ct_state", "ct.est", "ct.trk", "pkt.mark",
          "inport", "outport", "ip4", "ip", "tcp", "nd_ns", "icmp", "eth.mcast",
          "vlan.present", "ip.first_frag", "mldv1", "icmp4.frag_mtu", "bogus"]
CONSTANTS = ["0", "1", "6", "80", "65535", "0x800", "0x10/0xf0", "10.0.0.1", "10.0.0.0/8",
             "::1", "fe80::/10", "00:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", '"sw0-p1"', '""',
             "$as1", "$as6", "$mac", "$empty", "$none", "@pg1", "@pg2", "{1, 2}",
             '{"a", "b"}', "{$as1, 10.0.0.9}", "^tmpl", "01", "0x"]
RELOPS = ["==", "!=", "<", "<=", ">", ">="]


@st.composite
def _field(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(FIELDS))
    lo = draw(st.integers(0, 40))
    return draw(st.sampled_from([name, f"{name}[{lo}]",
                                 f"{name}[{lo}..{lo + draw(st.integers(-2, 20))}]"]))


@st.composite
def _comparison(draw: st.DrawFn) -> str:
    field, const = draw(_field()), draw(st.sampled_from(CONSTANTS))
    relop, relop2 = draw(st.sampled_from(RELOPS)), draw(st.sampled_from(RELOPS))
    return draw(st.sampled_from([
        f"{field} {relop} {const}", field, f"{const} {relop} {field}",
        f"{const} {relop} {field} {relop2} {draw(st.sampled_from(CONSTANTS))}",
        f"is_chassis_resident({const})", "0", "1"]))


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["&&", "||"]), children).map(" ".join),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"!({c})"),
        children.map(lambda c: f"!{c}"),
    )


GRAMMAR_MATCHES = st.recursive(_comparison(), _combine, max_leaves=8)

NORTHD_MATCHES = [
    'inport == "sw0-p1" && eth.src == {50:54:00:00:00:01}',
    "reg0[8] == 1 && (outport == @pg1 && ip4 && ip4.src == $as1)",
    "ip && (!ct.est || (ct.est && ct_mark.blocked == 1))",
    "ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0",
    "ip4 && ip4.dst == 10.0.0.10 && tcp.dst == 80",
    'nd_ns && ip6.dst == {aef0::ff, ff02::1:ff00:ff} && nd.target == aef0::ff',
    "nd || nd_rs || nd_ra || mldv1 || mldv2 || (udp && udp.src == 546 && udp.dst == 547)",
    'ip && ip4.dst == 172.168.0.100 && is_chassis_resident("cr-lr0-public")',
    "eth.mcast", "1", "ip4.mcast && ip4.dst == 224.0.0.0/4",
    "reg9[4] == 1 && ip4.src == 10.0.0.0/24 && tcp.src >= 1000 && tcp.src <= 2000",
]
NORTHD_ACTIONS = [
    "reg0[15] = check_in_port_sec(); next;",
    'ct_commit { ct_mark.blocked = 0; ct_label.label = 4; }; next;',
    "reg0 = 0; reject { /* eth.dst <-> eth.src; */ outport <-> inport; "
    "next(pipeline=egress,table=5); };",
    'log(name="acl", severity=info, verdict=drop, meter="m"); /* drop */',
    'ct_lb_mark(backends=10.0.0.3:80,10.0.0.4:80; hash_fields="ip_dst,ip_src");',
    'reg0[3] = put_dhcp_opts(offerip = 10.0.0.3, router = 10.0.0.1);',
    "eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; next;",
    'clone { outport = "_MC_flood"; output; }; outport = "_MC_flood_l2"; output;',
    "reg0[11] = lookup_fdb(inport, eth.src); put_fdb(inport, eth.src); next;",
    'trigger_event(event = "empty_lb_backends", vip = "10.0.0.40:80", protocol = "tcp", '
    'load_balancer = "d0cb04c1-2d5c-4e8e-9f0d-2d2a1a0a0a0a");',
    "ct_snat(172.168.0.100, 1000-2000); flags.loopback = 1; handle_svc_check(inport);",
    "nd_na { eth.src = 00:00:00:00:ff:01; nd.tll = 00:00:00:00:ff:01; outport = inport; output; };",
]
ACTION_SNIPPETS = [*NORTHD_ACTIONS, "next(3);", "ct_next;", "ct_commit;", "drop;", "x;",
                   "reg0[7] = 1;", "reg0 = reg1;", "ct_mark = 1;", "ip.ttl--;", "{", "};",
                   "select(1, 2);", "reg8[0..15] = select(1, 2=5);", "^v;", "push(reg0);"]
GRAMMAR_ACTIONS = st.recursive(
    st.lists(st.sampled_from(ACTION_SNIPPETS), max_size=4).map(" ".join),
    lambda inner: st.tuples(st.sampled_from(["clone", "ct_commit", "icmp4", "arp"]),
                            inner).map(lambda t: f"{t[0]} {{ {t[1]} }};"),
    max_leaves=4)


@st.composite
def _mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    text = list(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(list('(){}[]!&|=<>;,.:"$@^/*-0123456789abfx_ \\\t')))
        if op == "insert" or not text:
            text.insert(pos, char)
        elif op == "delete":
            del text[min(pos, len(text) - 1)]
        else:
            text[min(pos, len(text) - 1)] = char
    return "".join(text)


MATCHES = st.one_of(GRAMMAR_MATCHES, _mutated(NORTHD_MATCHES), st.text(max_size=40))
ACTIONS = st.one_of(GRAMMAR_ACTIONS, _mutated(NORTHD_ACTIONS), st.text(max_size=40))
FUZZ = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _parse_match(text: str) -> Expr | None:
    try:
        parsed = parse_expr(text, address_sets=ADDRESS_SETS, port_groups=PORT_GROUPS,
                            dp_key=3)
    except LflowError:
        return None
    with contextlib.suppress(LflowError):  # annotation may fail; it must not crash
        annotate(parsed.expr)
    return parsed.expr


def _prints_unreadably(e: Expr) -> bool:
    """True for the two forms OVN accepts but prints in a form it cannot read.

    A masked test of a nominal field prints as a bit range ("eth.type ==
    0x10/0xf0" prints "eth.type[4..7] == 0x1"), and an order test whose mask is
    not one run of bits (only reachable through address sets with prefixes,
    "0 < eth.src[0] < $as1") prints as value/mask.
    """
    if isinstance(e, Cmp):
        if not e.symbol.width:
            return False
        if e.symbol.level is Level.NOMINAL:
            return e.mask != (1 << e.symbol.width) - 1
        run = e.mask >> ((e.mask & -e.mask).bit_length() - 1) if e.mask else 0
        return e.relop not in (Relop.EQ, Relop.NE) and (not run or bool(run & (run + 1)))
    return isinstance(e, And | Or) and any(_prints_unreadably(t) for t in e.terms)


@FUZZ
@given(MATCHES)
def test_match_parser_raises_only_its_own_errors_and_prints_canonically(text: str) -> None:
    parsed = _parse_match(expand_templates(text, {"tmpl": "10.0.0.1"})[0])
    if parsed is not None and not _prints_unreadably(parsed):
        printed = format_expr(parsed)
        again = _parse_match(printed)
        assert again is not None and format_expr(again) == printed


def _parse_acts(text: str) -> str | None:
    try:
        return format_actions(parse_actions(text, params=ActionParams(table=10)).actions)
    except LflowError:
        return None


@FUZZ
@given(ACTIONS)
def test_action_parser_raises_only_its_own_errors_and_prints_canonically(text: str) -> None:
    printed = _parse_acts(expand_templates(text, {"v": "next"})[0])
    if printed is not None:
        assert _parse_acts(printed) == printed
