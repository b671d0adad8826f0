"""Error messages for malformed matches and actions, checked against OVN 23.03.1.

Each case was produced by generating or mutating logical flows, loading them
into a southbound database and reading the verdict of the installed
``ovn-trace`` 23.03.1, which parses flows with the same code as ovn-controller
(templates expanded first, address sets and port groups of datapath sw0, actions
in logical ingress table 10 of 29).  One case is kept per distinct message.
"""

# ruff: noqa: E501  (cases are kept one per line)

from __future__ import annotations

import pytest

from pyovn.lflow import (
    ActionParams,
    GenOptionDef,
    LflowError,
    Pipeline,
    expand_templates,
    parse_actions,
    parse_expr,
)

ADDRESS_SETS = {
    "as1": ["10.0.0.3", "10.0.0.4", "192.168.0.0/16"], "as6": ["aef0::1", "aef0::2"],
    "asmac": ["50:54:00:00:00:01"], "pg1_ip4": ["10.0.0.3", "10.0.0.4", "20.0.0.4"],
    "pg1_ip6": ["aef0::1", "aef0::2"], "svc_monitor_mac": ["fe:cb:f4:b1:7c:c0"],
}
PORT_GROUPS = {"3_pg1": ["sw0-p1", "sw0-p2"], "3_pg2": ["sw0-p3"]}
PARAMS = ActionParams(Pipeline.INGRESS, 10, dhcp_opts={
    n: GenOptionDef(n, c, t) for n, c, t in (
        ("offerip", 0, "ipv4"), ("router", 3, "ipv4"), ("lease_time", 51, "uint32"))},
    dhcpv6_opts={n: GenOptionDef(n, c, t) for n, c, t in (
        ("server_id", 2, "mac"), ("ia_addr", 5, "ipv6"), ("dns_server", 23, "ipv6"))})

MATCH_ERRORS = [
    ('ct.inv || ct_mark.blocked && ip4',
     '&& and || must be parenthesized when used together.'),
    ('!arp == 2',
     '2-bit constant is not compatible with 1-bit field arp.'),
    ('udp[30]',
     'Cannot select bits 30 to 30 of 1-bit field udp.'),
    ('ip.ttl[2] > 6',
     'Cannot select subfield of nominal field ip.ttl.'),
    ('outport[1..8] >= 0',
     'Cannot select subfield of string field outport.'),
    ('!arp != 18446744073709551616',
     'Decimal constants must be less than 2**64.'),
    ('07=',
     'Decimal constants must not have leading zeros.'),
    ('reg9',
     "Explicit `!= 0' is required for inequality test of multibit field against 0."),
    ('reg0 > 0x',
     'Hex digits expected following 0x.'),
    ('"',
     'Input ends inside quoted string.'),
    ('udp != ""',
     'Integer field udp is not compatible with string constant.'),
    ('ip.frag[13..12] == 1',
     'Invalid bit range 13 to 12.'),
    ('\\',
     "Invalid character `\\' in input."),
    ('1z',
     'Invalid numeric constant.'),
    ('!nd.sll > 80',
     'Missing parentheses around operand of !.'),
    ('!(inport == @pg2)',
     "Nominal field inport may only be tested for equality (taking enclosing `!' operators into account)."),
    ('!arp',
     "Nominal predicate arp may only be tested positively, e.g. `arp' or `arp == 1' but not `!arp' or `arp == 0'."),
    ('!ip.is_frag <= 0',
     'Only == and != operators may be used with Boolean field ip.is_frag.'),
    ('reg9 <= 0x1/0x1',
     'Only == and != operators may be used with masked constants.  Consider using subfields instead (e.g. eth.src[0..15] > 0x1111 in place of eth.src > 00:00:00:00:11:11/00:00:00:00:ff:ff).'),
    ('0 <= udp',
     'Only == and != operators may be used with nominal field udp.'),
    ('(udp.src <= {1, 2})',
     'Only == and != operators may be used with value sets.'),
    ('"" <= icmp6.code > 80',
     "Range expressions must have the form `x < field < y' or `x > field > y', with each `<' optionally replaced by `<=' or `>' by `>=')."),
    ('!outport >= ::1',
     'String field outport is not compatible with integer constant.'),
    ('mldv1 == $nope',
     "Syntax error at `$nope' expecting address set name."),
    ('is_chassis_resident(80)',
     "Syntax error at `80' expecting string."),
    ('reg0[:] == 9',
     "Syntax error at `:' expecting small integer."),
    ('1;',
     "Syntax error at `;' expecting end of input."),
    ('<',
     "Syntax error at `<' expecting constant."),
    ('reg9[2 == 4',
     "Syntax error at `==' expecting `]'."),
    ('ip >= @nope',
     "Syntax error at `@nope' expecting port group name."),
    ('6[',
     "Syntax error at `[' expecting relational operator."),
    ('a',
     "Syntax error at `a' expecting field name."),
    ('(!(6 == arp.spa) // c)',
     "Syntax error at end of input expecting `)'."),
    ('!',
     'Syntax error at end of input expecting constant.'),
    ('4',
     'Syntax error at end of input expecting relational operator.'),
    ('.',
     "`.' is only valid as part of `..' or a number."),
    ('/',
     "`/' is only valid as part of `//' or `/*'."),
    ('@',
     "`@' must be followed by a valid identifier."),
    ('|',
     "`|' is only valid as part of `||'."),
    ('^',
     'parsing function name'),
]

ACTION_ERRORS = [
    ('next(table=30);',
     '"next" action cannot advance beyond table 28.'),
    ('eth.dst = 50:54:00:00:0::03; next;',
     '128-bit constant is not compatible with 48-bit field eth.dst.'),
    ('reg0 = reg1[0..3];',
     "Can't assign 4-bit value to 32-bit destination."),
    ('clone { reg0 = outport = get_fdb(eth.dst); };',
     "Can't assign string field (outport) to integer field (reg0)."),
    ('reg0[69] = 1; next;',
     'Cannot select bits 69 to 69 of 32-bit field reg0.'),
    ('ct_mark = 1;',
     'Field ct_mark is not modifiable.'),
    ('"op;',
     'Input ends inside quoted string.'),
    ('reg9[4]4/= 1; nxt;',
     'Integer constant expected.'),
    ('pkt.mark = "x";',
     'Integer field pkt.mark is not compatible with string constant.'),
    ('ip.ttl--; reg8[30..15] = 0; xxreg0 = ip6.dst; xxreg1 = fe80::200:20ff:fe20:1213; eth.src= 00:00:20:20:12:13; outport = "lr0-public"; flags.loopback = 1; next;',
     'Invalid bit range 30 to 15.'),
    ('*nex',
     "Invalid character `*' in input."),
    ('8rp;',
     'Invalid numeric constant.'),
    ('reg0[5] = put_nd_ra_opts(addr_mode = "sl}aac", slla = 00:00:00:00:ff:01, prefix = aef0::/64) next;',
     'Invalid value for "addr_mode" option'),
    ('trigger_event(event = "empty_lb_backends", vip = "10.0.0.40:80", protocol = "tcp", load_balancer = "34730367-dc5b-4348-ba25c6bb9e3e33191");',
     "Load balancer '34730367-dc5b-4348-ba25c6bb9e3e33191' is not a UUID"),
    ('commit_lb_aff(vip = "10.0.0.20", backend = "10.0..5", timeout = 60); /* drop */',
     'Syntax error at `"10.0..5"\' invalid parameter.'),
    ('reg0[1] = 0; ct_lb_mark(backends=[aef0::17:80,[aef0::2]:80);',
     "Syntax error at `,' no closing square bracket."),
    ('ct_dnat(10.0.0.3, 0);',
     "Syntax error at `0' range can't be 0."),
    ('eth.src = 30:54:00:00:00:03; reg9[4] = 0; ct_snat(17$2.168.0.110);',
     "Syntax error at `17' expecting IPv4 or IPv6 address."),
    ('reg0[1] 5= 1;nex;',
     "Syntax error at `5' expecting `=' or `<->'."),
    ('reg7 = ; next;',
     "Syntax error at `;' expecting constant."),
    ('log();',
     "Syntax error at `;' expecting verdict."),
    (';',
     "Syntax error at `;'."),
    ('next]',
     "Syntax error at `]' expecting `;'."),
    ('reg0[] = 1; ne7xt;',
     "Syntax error at `]' expecting small integer."),
    ('reg0[1] = 0; ct_lb_mark(bac3edds=10.0.0.3:900);',
     "Syntax error at `bac3edds' expecting backends."),
    ('next( ct_clear;',
     'Syntax error at `ct_clear\' expecting "pipeline" or "table".'),
    ('reg0[3] = put_dhcpv6_opts(ia_addr = aef0::1, dyns_server = {aef0::53}, server_d = 00:00:00:10:00:01); next;',
     "Syntax error at `dyns_server' expecting DHCPv6 option name."),
    ('log(verdict=allow, severity=err);',
     "Syntax error at `err' unknown severity."),
    ('n=ext',
     "Syntax error at `n' expecting field name."),
    ('log(verdict=pass);',
     "Syntax error at `pass' unknown verdict."),
    ('reg8[16..31] = select(values=(1,2); hash_fields="ip_src");',
     "Syntax error at `values' expecting id."),
    ('next(pipeline=x);',
     'Syntax error at `x\' expecting "ingress" or "egress".'),
    ('x;',
     "Syntax error at `x' expecting action."),
    ('drop; {',
     "Syntax error at `{' expecting end of input."),
    ('next(',
     'Syntax error at end of input expecting "pipeline" or "table".'),
    ('next',
     "Syntax error at end of input expecting `;'."),
    ('reg0 =',
     'Syntax error at end of input expecting constant.'),
    ('&next',
     "`&' is only valid as part of `&&'."),
    ('.drp;',
     "`.' is only valid as part of `..' or a number."),
    ('/rop;',
     "`/' is only valid as part of `//' or `/*'."),
    ('/* rop/',
     "`/*' without matching `*/'."),
    ('next@',
     "`@' must be followed by a valid identifier."),
    ('outport = "\\_C_floo9_l2"; output;',
     'bad escape \\_'),
]


@pytest.mark.parametrize(("text", "error"), MATCH_ERRORS)
def test_bad_match_is_rejected_with_ovn_23_03_message(text: str, error: str) -> None:
    expanded = expand_templates(text)[0]
    with pytest.raises(LflowError) as info:
        parse_expr(expanded, address_sets=ADDRESS_SETS, port_groups=PORT_GROUPS, dp_key=3)
    assert str(info.value) == error


@pytest.mark.parametrize(("text", "error"), ACTION_ERRORS)
def test_bad_actions_are_rejected_with_ovn_23_03_message(text: str, error: str) -> None:
    with pytest.raises(LflowError) as info:
        parse_actions(expand_templates(text)[0], params=PARAMS)
    assert str(info.value) == error
