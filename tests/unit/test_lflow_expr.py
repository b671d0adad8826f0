"""Match expressions: parsing, annotation and canonical text as in OVN 23.03."""

# ruff: noqa: E501  (OVN's test cases are kept one per line, as in ovn.at)

from __future__ import annotations

import pytest

from pyovn.lflow import (
    And,
    Boolean,
    ChassisResident,
    Cmp,
    LflowError,
    LflowSemanticError,
    LflowSyntaxError,
    Or,
    Relop,
    annotate,
    format_expr,
    ovn_symtab,
    parse_expr,
)
from pyovn.lflow.symtab import field, string_field

# The symbol table, address sets and port groups of OVN's tests/test-ovn.c.
TEST_SYMTAB = ovn_symtab().extended([
    field("bad_prereq", "xreg0", "xyzzy"),
    field("self_recurse", "xreg0", "self_recurse != 0"),
    field("mutual_recurse_1", "xreg0", "mutual_recurse_2 != 0"),
    field("mutual_recurse_2", "xreg0", "mutual_recurse_1 != 0"),
    string_field("big_string", "xreg0"),
])
ADDRESS_SETS = {
    "set1": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
    "set2": ["::1", "::2", "::3"],
    "set3": ["00:00:00:00:00:01", "00:00:00:00:00:02", "00:00:00:00:00:03"],
    "set4": [],
}
PORT_GROUPS = {"0_pg1": ["lsp1", "lsp2", "lsp3"], "0_pg_empty": []}

# tests/ovn.at "expression parser": input, or "input => output or error".
OVN_PARSE_CASES = r"""
eth.type == 0x800
eth.type==0x800 => eth.type == 0x800
eth.type[0..15] == 0x800 => eth.type == 0x800
vlan.present
vlan.present == 1 => vlan.present
!(vlan.present == 0) => vlan.present
!(vlan.present != 1) => vlan.present
!vlan.present
vlan.present == 0 => !vlan.present
vlan.present != 1 => !vlan.present
!(vlan.present == 1) => !vlan.present
!(vlan.present != 0) => !vlan.present
eth.dst[0]
eth.dst[0] == 1 => eth.dst[0]
eth.dst[0] != 0 => eth.dst[0]
!(eth.dst[0] == 0) => eth.dst[0]
!(eth.dst[0] != 1) => eth.dst[0]
!eth.dst[0]
eth.dst[0] == 0 => !eth.dst[0]
eth.dst[0] != 1 => !eth.dst[0]
!(eth.dst[0] == 1) => !eth.dst[0]
!(eth.dst[0] != 0) => !eth.dst[0]
vlan.tci[12..15] == 0x3
vlan.tci == 0x3000/0xf000 => vlan.tci[12..15] == 0x3
vlan.tci[12..15] != 0x3
vlan.tci != 0x3000/0xf000 => vlan.tci[12..15] != 0x3
!vlan.pcp => vlan.pcp == 0
!(vlan.pcp) => vlan.pcp == 0
vlan.pcp == 0x4
vlan.pcp != 0x4
vlan.pcp > 0x4
vlan.pcp >= 0x4
vlan.pcp < 0x4
vlan.pcp <= 0x4
!(vlan.pcp != 0x4) => vlan.pcp == 0x4
!(vlan.pcp == 0x4) => vlan.pcp != 0x4
!(vlan.pcp <= 0x4) => vlan.pcp > 0x4
!(vlan.pcp < 0x4) => vlan.pcp >= 0x4
!(vlan.pcp >= 0x4) => vlan.pcp < 0x4
!(vlan.pcp > 0x4) => vlan.pcp <= 0x4
0x4 == vlan.pcp => vlan.pcp == 0x4
0x4 != vlan.pcp => vlan.pcp != 0x4
0x4 < vlan.pcp => vlan.pcp > 0x4
0x4 <= vlan.pcp => vlan.pcp >= 0x4
0x4 > vlan.pcp => vlan.pcp < 0x4
0x4 >= vlan.pcp => vlan.pcp <= 0x4
!(0x4 != vlan.pcp) => vlan.pcp == 0x4
!(0x4 == vlan.pcp) => vlan.pcp != 0x4
!(0x4 >= vlan.pcp) => vlan.pcp > 0x4
!(0x4 > vlan.pcp) => vlan.pcp >= 0x4
!(0x4 <= vlan.pcp) => vlan.pcp < 0x4
!(0x4 < vlan.pcp) => vlan.pcp <= 0x4
1 < vlan.pcp < 4 => vlan.pcp > 0x1 && vlan.pcp < 0x4
1 <= vlan.pcp <= 4 => vlan.pcp >= 0x1 && vlan.pcp <= 0x4
1 < vlan.pcp <= 4 => vlan.pcp > 0x1 && vlan.pcp <= 0x4
1 <= vlan.pcp < 4 => vlan.pcp >= 0x1 && vlan.pcp < 0x4
1 <= vlan.pcp <= 4 => vlan.pcp >= 0x1 && vlan.pcp <= 0x4
4 > vlan.pcp > 1 => vlan.pcp < 0x4 && vlan.pcp > 0x1
4 >= vlan.pcp > 1 => vlan.pcp <= 0x4 && vlan.pcp > 0x1
4 > vlan.pcp >= 1 => vlan.pcp < 0x4 && vlan.pcp >= 0x1
4 >= vlan.pcp >= 1 => vlan.pcp <= 0x4 && vlan.pcp >= 0x1
!(1 < vlan.pcp < 4) => vlan.pcp <= 0x1 || vlan.pcp >= 0x4
!(1 <= vlan.pcp <= 4) => vlan.pcp < 0x1 || vlan.pcp > 0x4
!(1 < vlan.pcp <= 4) => vlan.pcp <= 0x1 || vlan.pcp > 0x4
!(1 <= vlan.pcp < 4) => vlan.pcp < 0x1 || vlan.pcp >= 0x4
!(1 <= vlan.pcp <= 4) => vlan.pcp < 0x1 || vlan.pcp > 0x4
!(4 > vlan.pcp > 1) => vlan.pcp >= 0x4 || vlan.pcp <= 0x1
!(4 >= vlan.pcp > 1) => vlan.pcp > 0x4 || vlan.pcp <= 0x1
!(4 > vlan.pcp >= 1) => vlan.pcp >= 0x4 || vlan.pcp < 0x1
!(4 >= vlan.pcp >= 1) => vlan.pcp > 0x4 || vlan.pcp < 0x1
vlan.pcp == {1, 2, 3, 4} => vlan.pcp == 0x1 || vlan.pcp == 0x2 || vlan.pcp == 0x3 || vlan.pcp == 0x4
vlan.pcp == 1 || ((vlan.pcp == 2 || vlan.pcp == 3) || vlan.pcp == 4) => vlan.pcp == 0x1 || vlan.pcp == 0x2 || vlan.pcp == 0x3 || vlan.pcp == 0x4
vlan.pcp != {1, 2, 3, 4} => vlan.pcp != 0x1 && vlan.pcp != 0x2 && vlan.pcp != 0x3 && vlan.pcp != 0x4
vlan.pcp == 1 && ((vlan.pcp == 2 && vlan.pcp == 3) && vlan.pcp == 4) => vlan.pcp == 0x1 && vlan.pcp == 0x2 && vlan.pcp == 0x3 && vlan.pcp == 0x4
vlan.pcp == 1 && !((vlan.pcp == 2 && vlan.pcp == 3) && vlan.pcp == 4) => vlan.pcp == 0x1 && (vlan.pcp != 0x2 || vlan.pcp != 0x3 || vlan.pcp != 0x4)
vlan.pcp == 1 && (!(vlan.pcp == 2 && vlan.pcp == 3) && vlan.pcp == 4) => vlan.pcp == 0x1 && (vlan.pcp != 0x2 || vlan.pcp != 0x3) && vlan.pcp == 0x4
vlan.pcp == 1 && !(!(vlan.pcp == 2 && vlan.pcp == 3) && vlan.pcp == 4) => vlan.pcp == 0x1 && ((vlan.pcp == 0x2 && vlan.pcp == 0x3) || vlan.pcp != 0x4)
ip4.src == {10.0.0.0/8, 192.168.0.0/16, 172.16.20.0/24, 8.8.8.8} => ip4.src[24..31] == 0xa || ip4.src[16..31] == 0xc0a8 || ip4.src[8..31] == 0xac1014 || ip4.src == 0x8080808
ip6.src == ::1 => ip6.src == 0x1
ip4.src == 1.2.3.4 => ip4.src == 0x1020304
ip4.src == ::1.2.3.4/::ffff:ffff => ip4.src == 0x1020304
ip6.src == ::1 => ip6.src == 0x1
1
0
!1 => 0
!0 => 1
inport == "eth0"
!(inport != "eth0") => inport == "eth0"
ip4.src == "eth0" => Integer field ip4.src is not compatible with string constant.
inport == 1 => String field inport is not compatible with integer constant.
ip4.src = 1.2.3.4 => Syntax error at `=' expecting relational operator.
ip4.src > {1, 2, 3} => Only == and != operators may be used with value sets.
eth.type > 0x800 => Only == and != operators may be used with nominal field eth.type.
vlan.present > 0 => Only == and != operators may be used with Boolean field vlan.present.
inport != "eth0" => Nominal field inport may only be tested for equality (taking enclosing `!' operators into account).
!(inport == "eth0") => Nominal field inport may only be tested for equality (taking enclosing `!' operators into account).
eth.type != 0x800 => Nominal field eth.type may only be tested for equality (taking enclosing `!' operators into account).
!(eth.type == 0x800) => Nominal field eth.type may only be tested for equality (taking enclosing `!' operators into account).
inport = "eth0" => Syntax error at `=' expecting relational operator.
123 == 123 => Syntax error at `123' expecting field name.
$name => Syntax error at `$name' expecting address set name.
@name => Syntax error at `@name' expecting port group name.
123 == xyzzy => Syntax error at `xyzzy' expecting field name.
xyzzy == 1 => Syntax error at `xyzzy' expecting field name.
inport[1] == 1 => Cannot select subfield of string field inport.
eth.type[] == 1 => Syntax error at `]' expecting small integer.
eth.type[::1] == 1 => Syntax error at `::1' expecting small integer.
eth.type[18446744073709551615] == 1 => Syntax error at `18446744073709551615' expecting small integer.
eth.type[5!] => Syntax error at `!' expecting `]'.
eth.type[5..1] => Invalid bit range 5 to 1.
eth.type[12..16] => Cannot select bits 12 to 16 of 16-bit field eth.type.
eth.type[10] == 1 => Cannot select subfield of nominal field eth.type.
eth.type => Explicit `!= 0' is required for inequality test of multibit field against 0.
!(!(vlan.pcp)) => Explicit `!= 0' is required for inequality test of multibit field against 0.
123 => Syntax error at end of input expecting relational operator.
123 x => Syntax error at `x' expecting relational operator.
{1, "eth0"} => Syntax error at `"eth0"' expecting integer.
eth.type == xyzzy => Syntax error at `xyzzy' expecting constant.
(1 x) => Syntax error at `x' expecting `)'.
!0x800 != eth.type => Missing parentheses around operand of !.
eth.type == 0x800 || eth.type == 0x86dd && ip.proto == 17 => && and || must be parenthesized when used together.
eth.dst == {} => Syntax error at `}' expecting constant.
eth.src > 00:00:00:00:11:11/00:00:00:00:ff:ff => Only == and != operators may be used with masked constants.  Consider using subfields instead (e.g. eth.src[0..15] > 0x1111 in place of eth.src > 00:00:00:00:11:11/00:00:00:00:ff:ff).
ip4.src == ::1 => 128-bit constant is not compatible with 32-bit field ip4.src.
1 == eth.type == 2 => Range expressions must have the form `x < field < y' or `x > field > y', with each `<' optionally replaced by `<=' or `>' by `>=').
eth.dst[40] x => Syntax error at `x' expecting end of input.
ip4.src == {1.2.3.4, $set1, $unknownset} => Syntax error at `$unknownset' expecting address set name.
eth.src == {$set3, badmac, 00:00:00:00:00:01} => Syntax error at `badmac' expecting constant.
ct_label > $set4 => Only == and != operators may be used to compare a field against an empty value set.
"""
# tests/ovn.at "expression annotation".
OVN_ANNOTATE_CASES = r"""
ip4.src == 1.2.3.4 => ip4.src == 0x1020304 && eth.type == 0x800
ip4.src != 1.2.3.4 => ip4.src != 0x1020304 && eth.type == 0x800
ip.proto == 123 => ip.proto == 0x7b && (eth.type == 0x800 || eth.type == 0x86dd)
ip.proto == {123, 234} => (ip.proto == 0x7b || ip.proto == 0xea) && (eth.type == 0x800 || eth.type == 0x86dd)
ip4.src == 1.2.3.4 && ip4.dst == 5.6.7.8 => ip4.src == 0x1020304 && eth.type == 0x800 && ip4.dst == 0x5060708 && eth.type == 0x800
tcp.dst == 1 || (tcp.dst >= 2 && tcp.dst <= 3) => (tcp.dst == 0x1 || (tcp.dst >= 0x2 && tcp.dst <= 0x3)) && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)
ip => eth.type == 0x800 || eth.type == 0x86dd
ip == 1 => eth.type == 0x800 || eth.type == 0x86dd
ip[0] == 1 => eth.type == 0x800 || eth.type == 0x86dd
ip > 0 => Only == and != operators may be used with nominal field ip.
!ip => Nominal predicate ip may only be tested positively, e.g. `ip' or `ip == 1' but not `!ip' or `ip == 0'.
ip == 0 => Nominal predicate ip may only be tested positively, e.g. `ip' or `ip == 1' but not `!ip' or `ip == 0'.
vlan.present => vlan.tci[12]
!vlan.present => !vlan.tci[12]
!vlan.pcp => vlan.tci[13..15] == 0 && vlan.tci[12]
vlan.pcp == 1 && vlan.vid == 2 => vlan.tci[13..15] == 0x1 && vlan.tci[12] && vlan.tci[0..11] == 0x2 && vlan.tci[12]
!reg0 && !reg1 && !reg2 && !reg3 => xxreg0[96..127] == 0 && xxreg0[64..95] == 0 && xxreg0[32..63] == 0 && xxreg0[0..31] == 0
ip.first_frag => ip.frag[0] && (eth.type == 0x800 || eth.type == 0x86dd) && (!ip.frag[1] || (eth.type != 0x800 && eth.type != 0x86dd))
!ip.first_frag => !ip.frag[0] || (eth.type != 0x800 && eth.type != 0x86dd) || (ip.frag[1] && (eth.type == 0x800 || eth.type == 0x86dd))
ip.later_frag => ip.frag[1] && (eth.type == 0x800 || eth.type == 0x86dd)
bad_prereq != 0 => Error parsing expression `xyzzy' encountered as prerequisite or predicate of initial expression: Syntax error at `xyzzy' expecting field name.
self_recurse != 0 => Error parsing expression `self_recurse != 0' encountered as prerequisite or predicate of initial expression: Recursive expansion of symbol `self_recurse'.
mutual_recurse_1 != 0 => Error parsing expression `mutual_recurse_2 != 0' encountered as prerequisite or predicate of initial expression: Error parsing expression `mutual_recurse_1 != 0' encountered as prerequisite or predicate of initial expression: Recursive expansion of symbol `mutual_recurse_1'.
mutual_recurse_2 != 0 => Error parsing expression `mutual_recurse_1 != 0' encountered as prerequisite or predicate of initial expression: Error parsing expression `mutual_recurse_2 != 0' encountered as prerequisite or predicate of initial expression: Recursive expansion of symbol `mutual_recurse_2'.
"""


def _cases(block: str) -> list[tuple[str, str]]:
    out = []
    for line in block.strip("\n").splitlines():
        text, sep, expected = line.partition(" => ")
        out.append((text, expected if sep else text))
    # Generated rather than typed: exactly 100 and 101 nested parentheses.
    if block is OVN_PARSE_CASES:
        out.append(("(" * 100 + "0" + ")" * 100, "0"))
        out.append(("(" * 101 + ")" * 101, "Parentheses nested too deeply."))
    return out


def _run(text: str, annotated: bool) -> str:
    try:
        e = parse_expr(text, TEST_SYMTAB, address_sets=ADDRESS_SETS,
                       port_groups=PORT_GROUPS).expr
        return format_expr(annotate(e, TEST_SYMTAB) if annotated else e)
    except LflowError as err:
        return str(err)


@pytest.mark.parametrize(("text", "expected"), _cases(OVN_PARSE_CASES))
def test_parse_matches_ovn_expression_parser_test(text: str, expected: str) -> None:
    assert _run(text, annotated=False) == expected


@pytest.mark.parametrize(("text", "expected"), _cases(OVN_ANNOTATE_CASES))
def test_annotation_matches_ovn_expression_annotation_test(text: str, expected: str) -> None:
    assert _run(text, annotated=True) == expected


def _parse(text: str) -> str:
    return format_expr(parse_expr(text).expr)


def _annotated(text: str) -> str:
    return format_expr(annotate(parse_expr(text).expr))


def test_port_security_style_match_annotates_with_ethernet_type() -> None:
    text = 'inport == "lsp1" && eth.src == {00:00:00:00:00:01} && ip4.src == {10.0.0.1}'
    assert _parse(text) == 'inport == "lsp1" && eth.src == 0x1 && ip4.src == 0xa000001'
    assert _annotated(text) == ('inport == "lsp1" && eth.src == 0x1 && '
                                "ip4.src == 0xa000001 && eth.type == 0x800")


def test_conntrack_state_match_expands_each_bit_with_ct_trk() -> None:
    text = "ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0"
    assert _parse(text) == "ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && !ct_mark.blocked"
    assert _annotated(text) == (
        "ct_state[1] && ct_state[5] && !ct_state[2] && ct_state[5] && !ct_state[0] && "
        "ct_state[5] && !ct_state[4] && ct_state[5] && ct_state[3] && ct_state[5] && "
        "!ct_mark[0]")


def test_port_group_and_derived_address_set_resolve_through_lookups() -> None:
    parsed = parse_expr("outport == @pg1 && ip4 && ip4.src == $pg1_ip4",
                        address_sets={"pg1_ip4": ["10.0.0.3", "10.0.0.4"]},
                        port_groups={"5_pg1": ["lsp1", "lsp2"]}, dp_key=5)
    assert format_expr(parsed.expr) == (
        '(outport == "lsp1" || outport == "lsp2") && ip4 && '
        "(ip4.src == 0xa000003 || ip4.src == 0xa000004)")
    assert parsed.address_sets_ref == {"pg1_ip4"}
    assert parsed.port_groups_ref == {"5_pg1"}


def test_port_group_falls_back_to_its_nb_name_and_records_both() -> None:
    parsed = parse_expr("outport == @pg1", port_groups=lambda n: ["p"] if n == "pg1" else None,
                        dp_key=7)
    assert format_expr(parsed.expr) == 'outport == "p"'
    assert parsed.port_groups_ref == {"7_pg1", "pg1"}


def test_unknown_address_set_is_an_error_but_still_a_dependency() -> None:
    with pytest.raises(LflowSyntaxError, match="expecting address set name"):
        parse_expr("ip4.src == $missing", address_sets={})
    # The controller learns about the dependency from the successful lookups
    # of other flows; here we only check the lookup was attempted by name.
    seen: list[str] = []
    with pytest.raises(LflowSyntaxError):
        parse_expr("ip4.src == $missing", address_sets=lambda n: seen.append(n))
    assert seen == ["missing"]


def test_empty_address_set_makes_a_constant_and_invalid_members_are_skipped() -> None:
    assert _parse_with("ip4.src == $e", {"e": []}) == "0"
    assert _parse_with("ip4.src != $e", {"e": []}) == "1"
    assert _parse_with("ip4.src == $s", {"s": ["bogus", "10.0.0.1 junk"]}) == "ip4.src == 0xa000001"


def _parse_with(text: str, sets: dict[str, list[str]]) -> str:
    return format_expr(parse_expr(text, address_sets=sets).expr)


def test_comparisons_remember_the_address_set_they_came_from() -> None:
    e = parse_expr("ip4.src == {$s, 10.0.0.9}", address_sets={"s": ["10.0.0.1"]}).expr
    assert isinstance(e, Or)
    assert [t.as_name for t in e.terms if isinstance(t, Cmp)] == ["s", None]


def test_subfield_values_sit_at_their_bit_offset() -> None:
    e = parse_expr("reg0[4..7] == 3").expr
    assert isinstance(e, Cmp)
    assert (e.symbol.name, e.relop, e.value, e.mask) == ("reg0", Relop.EQ, 0x30, 0xF0)
    a = annotate(e)
    assert isinstance(a, Cmp) and a.symbol.name == "xxreg0"
    assert (a.value, a.mask) == (0x30 << 96, 0xF0 << 96)


def test_negation_is_pushed_into_the_comparisons() -> None:
    e = parse_expr("!(tcp.dst == 80 || tcp.dst == 443)").expr
    assert isinstance(e, And)
    assert {t.relop for t in e.terms if isinstance(t, Cmp)} == {Relop.NE}


def test_chassis_residency_is_a_condition_node() -> None:
    e = parse_expr('is_chassis_resident("cr-lrp") && !is_chassis_resident("x")').expr
    assert e == And((ChassisResident("cr-lrp"), ChassisResident("x", negated=True)))
    assert format_expr(e) == 'is_chassis_resident("cr-lrp") && !is_chassis_resident("x")'


def test_literals_and_bare_one_bit_fields() -> None:
    assert parse_expr("1").expr == Boolean(True)
    assert _parse("flags.loopback && !eth.mcast") == "flags.loopback && !eth.mcast"


def test_parsed_expressions_are_hashable_and_compare_by_value() -> None:
    a = parse_expr("ip4.src == 10.0.0.1 && tcp").expr
    b = parse_expr("ip4.src == 0xa000001 && (tcp)").expr
    assert a == b and hash(a) == hash(b)


@pytest.mark.parametrize(("text", "cls"), [
    ("ip4.src = 1.2.3.4", LflowSyntaxError),
    ("eth.type == 0x800 || ip4 && tcp", LflowSyntaxError),
    ("!ip4.src == 1.2.3.4", LflowSyntaxError),
    ("ip4.src == 0xfffffffff", LflowSemanticError),
    ("inport != \"a\"", LflowSemanticError),
    ("eth.type > 5", LflowSemanticError),
    ("0x", LflowSyntaxError),
])
def test_errors_say_whether_the_text_or_its_meaning_is_wrong(
        text: str, cls: type[LflowError]) -> None:
    with pytest.raises(cls):
        parse_expr(text)


def test_error_position_is_the_offending_token() -> None:
    with pytest.raises(LflowSyntaxError) as info:
        parse_expr("ip4 && xyzzy == 1")
    assert info.value.position == 7
    assert str(info.value) == "Syntax error at `xyzzy' expecting field name."


def test_annotation_errors_have_no_position() -> None:
    with pytest.raises(LflowSemanticError) as info:
        annotate(parse_expr("bad_prereq != 0", TEST_SYMTAB).expr, TEST_SYMTAB)
    assert info.value.position is None
