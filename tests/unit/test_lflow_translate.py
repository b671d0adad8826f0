"""translate_lflow: one Southbound logical flow to ovn-controller 23.03's OpenFlow flows."""

from __future__ import annotations

import pickle

import pytest

from pyovn.lflow import Pipeline
from pyovn.lflow.tables import (
    TABLES,
    Mlf,
    check_lflow_flow,
    first_table,
    logical_table,
    output_table,
    table,
)
from pyovn.lflow.translate import (
    INTERNAL_ERROR,
    ConjIdAllocator,
    LflowTranslateError,
    Lookups,
    conj_hash,
    lflow_cookie,
    translate_lflow,
)
from pyovn.openflow import Flow, Match, parse_actions
from pyovn.openflow.nx_actions import Conjunction

UUID = "b866e135-c377-4fce-9c73-8111d9fd574e"
DP = 3
PORTS = {(DP, "sw0-p1"): 1, (DP, "sw0-p2"): 2, (DP, "sw0-p3"): 3, (DP, "_MC_flood"): 0x8000}
LOOKUPS = Lookups(
    lookup_port=lambda dp, name: PORTS.get((dp, name)),
    address_sets={"web": ["10.0.0.1", "10.0.0.2"], "empty": []},
    port_groups={"3_pg1": ["sw0-p1", "sw0-p2"]},
    template_vars={"vip": "10.0.0.100"})


def translate(match: str, actions: str, *, pipeline: str = "ingress", table_id: int = 10,
              lookups: Lookups = LOOKUPS, **kw: object) -> list[Flow]:
    return translate_lflow(UUID, pipeline, table_id, 100, match, actions, dp_key=DP,
                           lookups=lookups, **kw)  # type: ignore[arg-type]


def test_table_layout_is_ovn_controller_23_03s() -> None:
    assert (first_table(Pipeline.INGRESS), first_table(Pipeline.EGRESS)) == (8, 42)
    assert logical_table(Pipeline.EGRESS, 9) == 51
    assert (output_table(Pipeline.INGRESS), output_table(Pipeline.EGRESS)) == (37, 64)
    assert [table(n) for n in ("MAC_BINDING", "GET_FDB", "CHK_IN_PORT_SEC",
                               "CHK_LB_AFFINITY")] == [66, 71, 73, 78]
    assert int(Mlf.CHECK_PORT_SEC) == 12
    numbers = [n for t in TABLES for n in range(t.number, t.number + t.size)]
    assert len(numbers) == len(set(numbers)), "tables overlap"
    with pytest.raises(ValueError, match="not a logical pipeline table"):
        check_lflow_flow(37)


def test_flow_has_table_priority_metadata_and_uuid_cookie() -> None:
    [flow] = translate('inport == "sw0-p1" && ip4', "next;")
    assert flow == Flow(18, 100, Match(ip=True, reg14=1, metadata=DP),
                        parse_actions("resubmit(,19)"), cookie=0xB866E135)
    assert lflow_cookie(UUID) == 0xB866E135


def test_egress_flows_go_to_table_42_plus_n() -> None:
    [flow] = translate("1", "output;", pipeline=Pipeline.EGRESS.value, table_id=9)
    assert (flow.table_id, flow.actions) == (51, parse_actions("resubmit(,64)"))


def test_actions_prerequisites_are_added_to_the_match() -> None:
    [flow] = translate("ip4", "tcp.dst = 80; next;")
    assert flow.match == Match(tcp=True, metadata=DP)
    assert len(translate("1", "tcp.dst = 80; next;")) == 2  # tcp and tcp6


def test_address_sets_port_groups_and_templates_expand() -> None:
    flows = translate("outport == @pg1 && ip4.dst == {$web, ^vip}", "next;")
    clauses = {(f.match.get("reg15"), f.match.get("ip_dst")): f.actions
               for f in flows if not f.cookie}
    assert set(clauses) == {((p, None), None) for p in (1, 2)} | {
        (None, (ip, None)) for ip in (0x0A000001, 0x0A000002, 0x0A000064)}
    assert len({acts for key, acts in clauses.items() if key[0]}) == 1
    assert len({acts for key, acts in clauses.items() if key[1]}) == 1


def test_conjunctive_match_makes_clause_flows_without_cookie() -> None:
    flows = translate("ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}", "next;",
                      lookups=Lookups(conj_ids=ConjIdAllocator(lambda u, d: 1000)))
    clauses = [f for f in flows if f.actions and isinstance(f.actions[0], Conjunction)]
    assert len(clauses) == 4 and all(f.cookie == 0 for f in clauses)
    assert {f.actions for f in clauses} == {(Conjunction(1000, 1, 2),),
                                            (Conjunction(1000, 2, 2),)}
    [main] = [f for f in flows if f not in clauses]
    assert main.match == Match(conj_id=1000, tcp=True, metadata=DP)
    assert main.cookie == 0xB866E135


def test_conjunction_ids_are_stable_and_collisions_move_on() -> None:
    alloc = ConjIdAllocator(lambda uuid, dp: 10)
    assert alloc.alloc("a", 1, 3) == 10
    assert alloc.alloc("a", 1, 3) == 10  # recompute: same ids
    assert alloc.alloc("b", 1, 2) == 13  # 10..12 taken
    alloc.free("a")
    assert alloc.alloc("c", 1, 3) == 10 and len(alloc) == 5
    wrapping = ConjIdAllocator(lambda uuid, dp: 0xFFFFFFFF)
    assert wrapping.alloc("a", 1, 2) == 1  # a range never wraps past 2**32 - 1
    assert conj_hash(UUID, DP) == conj_hash(UUID, DP) != conj_hash(UUID, DP + 1)


def test_batch_allocation_does_not_depend_on_order() -> None:
    wanted = [("x", 1, 2), ("y", 1, 1), ("z", 2, 3)]
    one, two = ConjIdAllocator(lambda u, d: 5), ConjIdAllocator(lambda u, d: 5)
    one.alloc_all(wanted)
    two.alloc_all(reversed(wanted))
    assert [one.alloc(*w) for w in wanted] == [two.alloc(*w) for w in wanted]


def test_switch_flows_for_unrelated_ports_are_skipped() -> None:
    lookups = Lookups(lookup_port=LOOKUPS.lookup_port, port_groups=LOOKUPS.port_groups,
                      is_related_port=lambda dp, key: key == 1)
    flows = translate("inport == {\"sw0-p1\", \"sw0-p2\"}", "next;", lookups=lookups)
    assert [f.match.get("reg14") for f in flows] == [(1, None)]
    # A router's flows are never filtered by port.
    assert len(translate("inport == {\"sw0-p1\", \"sw0-p2\"}", "next;", lookups=lookups,
                         is_switch=False)) == 2
    assert translate("1", "next;", lookups=lookups, in_out_port="sw0-p2") == []
    assert len(translate("1", "next;", lookups=lookups, in_out_port="sw0-p1")) == 1


def test_match_that_can_never_be_true_installs_nothing() -> None:
    assert translate("0", "next;") == []
    assert translate('inport == "unknown"', "next;") == []
    assert translate("ip4.src == $empty", "next;") == []


def test_controller_meter_goes_on_controller_actions() -> None:
    lookups = Lookups(meter_id={"copp": 5}.get)
    [flow] = translate("1", "handle_svc_check(inport);", lookups=lookups,
                       controller_meter="copp")
    assert flow.actions[0].meter_id == 5  # type: ignore[attr-defined]


def test_bad_actions_are_reported_before_a_bad_match() -> None:
    with pytest.raises(LflowTranslateError) as info:
        translate("bogus ==", "next; frobnicate;")
    err = info.value
    assert (err.lflow_uuid, err.part, err.position) == (UUID, "actions", 6)
    assert err.reason == "Syntax error at `frobnicate' expecting action."
    assert str(err).startswith(f'logical flow {UUID}: error parsing actions "next; '
                               'frobnicate;" at position 6: Syntax error')


def test_bad_match_names_the_match() -> None:
    with pytest.raises(LflowTranslateError) as info:
        translate("ip4.src == $nosuchset", "next;")
    assert info.value.part == "match" and "nosuchset" in info.value.reason


def test_transport_ports_on_later_fragments_are_refused_with_the_lflow_named() -> None:
    # Open vSwitch refuses tcp,nw_frag=later,tp_dst=80 (OFPBMC_BAD_PREREQ); ICMP fields
    # on later fragments it accepts.
    with pytest.raises(LflowTranslateError) as info:
        translate("ip.later_frag && tcp.dst == 80", "next;")
    assert info.value.part == "match" and "later fragments" in info.value.reason
    assert translate("ip.later_frag && icmp4.type == 8", "next;")


def test_tables_outside_the_pipeline_are_rejected() -> None:
    for pipeline, table_id in (("ingress", 29), ("egress", 22), ("sideways", 1)):
        with pytest.raises(LflowTranslateError) as info:
            translate("1", "drop;", pipeline=pipeline, table_id=table_id)
        assert info.value.part == "table"
    with pytest.raises(LflowTranslateError, match="priority 70000"):
        translate_lflow(UUID, "ingress", 0, 70000, "1", "next;", dp_key=DP)


def test_translate_error_survives_pickling() -> None:
    err = LflowTranslateError(UUID, "match", "boom", text="x == ", position=5)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.lflow_uuid, copy.part, copy.reason, copy.text, copy.position, str(copy)) == (
        UUID, "match", "boom", "x == ", 5, str(err))


def test_translation_is_deterministic() -> None:
    text = ("ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}",
            "ct_commit { ct_mark.blocked = 0; }; next;")
    assert translate(*text) == translate(*text)


def test_a_compiler_failure_costs_one_lflow_not_the_caller(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import pyovn.lflow.translate as translate_module

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("negative shift count")

    monkeypatch.setattr(translate_module, "compile_match", broken)
    with pytest.raises(LflowTranslateError) as info:
        translate("ip4", "next;")
    assert info.value.part == "match"
    assert info.value.reason == f"{INTERNAL_ERROR}ValueError: negative shift count"
