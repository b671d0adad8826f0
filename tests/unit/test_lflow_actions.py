"""Actions: the parsed nodes, prerequisites, write scopes and 23.03's limits."""

from __future__ import annotations

import pytest

from pyovn.lflow import (
    ActionParams,
    FieldRef,
    IntConstant,
    LexFormat,
    LflowError,
    LflowSemanticError,
    LflowSyntaxError,
    Pipeline,
    expand_templates,
    format_actions,
    format_expr,
    ovn_symtab,
    parse_actions,
)
from pyovn.lflow import actions as a
from pyovn.lflow import actions_ext as ax
from pyovn.lflow import actions_lookup as lk

SYMTAB = ovn_symtab()


def _parse(text: str, table: int = 10, pipeline: Pipeline = Pipeline.INGRESS
           ) -> tuple[a.Action, ...]:
    return parse_actions(text, params=ActionParams(pipeline, table)).actions


def _ref(name: str, ofs: int | None = None, n_bits: int | None = None) -> FieldRef:
    sym = SYMTAB[name]
    return FieldRef(sym, ofs or 0, sym.width if n_bits is None else n_bits)


def test_empty_actions_and_lone_drop_are_the_empty_list() -> None:
    assert _parse("") == _parse("drop;") == _parse("/* nothing */") == ()
    assert format_actions(()) == "drop;"


def test_next_targets_the_following_table_of_the_same_pipeline() -> None:
    assert _parse("next;", table=7) == (a.Next(Pipeline.INGRESS, 8, Pipeline.INGRESS, 7),)
    (jump,) = _parse("next(pipeline=egress, table=3);", table=7)
    assert jump == a.Next(Pipeline.EGRESS, 3, Pipeline.INGRESS, 7)
    assert jump.format() == "next(pipeline=egress, table=3);"


def test_next_cannot_leave_the_pipeline_or_appear_without_tables() -> None:
    with pytest.raises(LflowSemanticError, match=r"cannot advance beyond table 28\."):
        _parse("next;", table=28)
    with pytest.raises(LflowSemanticError, match='"next" action not allowed here.'):
        parse_actions("next;", params=ActionParams(n_tables=0))


def test_assignments_become_typed_nodes_with_field_references() -> None:
    assert _parse('reg0[7] = 1; outport = "lsp1"; eth.dst <-> eth.src; reg1 = reg2;') == (
        a.Load(_ref("reg0", 7, 1), IntConstant(1)),
        a.Load(_ref("outport"), "lsp1"),
        a.Exchange(_ref("eth.dst"), _ref("eth.src")),
        a.Move(_ref("reg1"), _ref("reg2")),
    )


def test_constants_keep_their_written_format() -> None:
    (load,) = _parse("eth.src = 00:00:00:00:ff:01;")
    assert isinstance(load, a.Load) and load.value == IntConstant(0xFF01, LexFormat.ETHERNET)
    assert load.format() == "eth.src = 00:00:00:00:ff:01;"


def test_assignment_to_read_only_field_or_predicate_is_rejected() -> None:
    with pytest.raises(LflowSemanticError, match=r"^Field eth\.type is not modifiable\.$"):
        _parse("eth.type = 0x800;")
    with pytest.raises(LflowSemanticError, match="Predicate symbol ip4 used where lvalue"):
        _parse("ip4 = 1;")


def test_width_mismatches_are_reported_in_ovn_words() -> None:
    with pytest.raises(LflowSemanticError,
                       match=r"^Can't assign 16-bit value to 32-bit destination\.$"):
        _parse("reg0 = tcp.dst;")
    with pytest.raises(LflowSemanticError, match="33-bit constant is not compatible"):
        _parse("reg0 = 0x100000000;")


def test_field_operands_add_their_annotated_prerequisites() -> None:
    parsed = parse_actions("tcp.dst = 80; eth.src <-> eth.dst; ip.ttl--;")
    assert parsed.prereqs is not None
    assert format_expr(parsed.prereqs) == (
        "ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd) && ip")


def test_nested_packets_impose_their_kind_but_clone_passes_prerequisites_through() -> None:
    reply = parse_actions("icmp4 { ip4.dst <-> ip4.src; tcp.dst = 1; };").prereqs
    assert reply is not None and format_expr(reply) == "ip4"
    copy = parse_actions("clone { tcp.dst = 1; };").prereqs
    assert copy is not None and format_expr(copy).startswith("ip.proto == 0x6")


def test_conntrack_marks_are_written_only_by_ct_commit() -> None:
    (commit,) = _parse("ct_commit { ct_mark.blocked = 1; ct_label.label = reg3; };")
    assert isinstance(commit, a.CtCommit) and len(commit.actions) == 2
    with pytest.raises(LflowSemanticError, match=r"^Field ct_mark\.blocked is not modifiable"):
        _parse("ct_mark.blocked = 1;")
    with pytest.raises(LflowSemanticError, match=r"^Field reg0 is not modifiable\.$"):
        _parse("ct_commit { reg0 = 1; };")


def test_write_scope_is_inherited_by_nested_packets_but_reset_by_clone() -> None:
    # Both behaviours checked against ovn-trace 23.03.1.
    assert _parse("ct_commit { icmp4 { ct_mark = 1; }; };")
    assert _parse("clone { ct_commit { ct_mark = 1; }; };")
    with pytest.raises(LflowSemanticError, match="Field ct_mark is not modifiable"):
        _parse("ct_commit { clone { ct_mark = 1; }; };")


def test_nesting_deeper_than_31_levels_is_refused() -> None:
    def nest(n: int) -> str:
        return "clone { " * n + "next; " + "}; " * n
    assert len(_parse(nest(31))) == 1
    with pytest.raises(LflowSyntaxError, match="maximum depth of nested actions reached"):
        _parse(nest(32))


def test_switch_pipeline_checks_parse_into_result_nodes() -> None:
    assert _parse("reg0[15] = check_in_port_sec(); reg0[11] = lookup_fdb(inport, eth.src);"
                  " put_fdb(inport, eth.src); outport = get_fdb(eth.dst);") == (
        lk.CheckInPortSec(_ref("reg0", 15, 1)),
        lk.LookupFdb(_ref("reg0", 11, 1), _ref("inport"), _ref("eth.src")),
        lk.PutFdb(_ref("inport"), _ref("eth.src")),
        lk.GetFdb(_ref("outport"), _ref("eth.dst")),
    )


def test_acl_actions_from_ovn_northd_parse_to_their_nodes() -> None:
    text = ('log(name="acl1", severity=alert, verdict=reject, meter="m"); '
            "reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=5); };")
    log, load, reject = _parse(text)
    assert log == ax.Log("reject", "alert", "acl1", "m")
    assert isinstance(load, a.Load) and isinstance(reject, a.Reject)
    assert reject.actions[1] == a.Next(Pipeline.EGRESS, 5, Pipeline.INGRESS, 10)
    assert format_actions((log,)) == 'log(name="acl1", verdict=reject, severity=alert, meter="m");'


def test_load_balancer_backends_are_structured() -> None:
    (lb,) = _parse('ct_lb_mark(backends=10.0.0.3:80,[aef0::2]:8080; '
                   'hash_fields="ip_dst,ip_src"; skip_snat);')
    assert lb == ax.CtLbMark(11, (ax.Backend(0x0A000003, False, 80),
                                  ax.Backend(0xAEF00000000000000000000000000002, True, 8080)),
                             "ip_dst,ip_src", "skip_snat")


def test_actions_are_immutable_and_hashable() -> None:
    parsed = _parse("ct_commit { ct_mark.blocked = 1; }; next; log(verdict=drop);")
    assert len(set(parsed)) == 3
    with pytest.raises(AttributeError):
        parsed[1].table = 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "error"), [
    ("flood_remote;", "Syntax error at `flood_remote' expecting action."),
    ("ct_next(dnat);", "Syntax error at `(' expecting `;'."),
    ("ct_commit_nat(dnat);", "Syntax error at `(' expecting `;'."),
    ("ct_commit_to_zone(dnat);", "Syntax error at `ct_commit_to_zone' expecting action."),
    ("log(verdict=pass);", "Syntax error at `pass' unknown verdict."),
    ('reg8[16..31] = select(values=(1,2); hash_fields="ip_src");',
     "Syntax error at `values' expecting id."),
    ("sample(probability=10, obs_point=reg3);",
     "Syntax error at `reg3' malformed sample observation_point_id."),
])
def test_actions_newer_than_23_03_are_rejected_as_23_03_does(text: str, error: str) -> None:
    with pytest.raises(LflowError) as info:
        _parse(text)
    assert str(info.value) == error


def test_legacy_ct_commit_arguments_are_still_accepted() -> None:
    (commit,) = _parse("ct_commit(ct_mark=1/1, ct_label=0x2);")
    assert commit == ax.CtCommitV1(1, 1, 2, (1 << 128) - 1)
    assert commit.format() == "ct_commit(ct_mark=0x1/0x1, ct_label=0x2);"


def test_templates_are_expanded_before_parsing_actions() -> None:
    text, refs = expand_templates("ct_lb_mark(backends=^vips);",
                                  {"vips": "10.0.0.3:80,10.0.0.4:80"})
    (lb,) = _parse(text)
    assert lb.format() == "ct_lb_mark(backends=10.0.0.3:80,10.0.0.4:80);"
    assert refs == {"vips"}


def test_unexpanded_template_is_an_error() -> None:
    with pytest.raises(LflowSyntaxError, match="Unexpanded template."):
        _parse("^x;")
