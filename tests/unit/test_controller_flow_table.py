"""The desired flow table: parents, winners, take-over, conjunction merge, tracking."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pyovn.controller.flow_table import (
    OWNER_MARK,
    DesiredFlowTable,
    FlowKind,
    MeterEntry,
    flow_kind,
    is_owned,
    ovn_cookie,
    owned_cookie,
    parent_prefix,
)
from pyovn.controller.installed_flows import FlowChange, as_installed, is_installed_as
from pyovn.openflow import (
    Bucket,
    Conjunction,
    Flow,
    FlowModCommand,
    GroupEntry,
    GroupType,
    Match,
    MeterBand,
    Output,
    Resubmit,
)

A = "0000000a-0000-0000-0000-000000000000"
B = "0000000b-0000-0000-0000-000000000000"
C = "0000000c-0000-0000-0000-000000000000"
M = Match(reg14=1, metadata=1)


def allow(table: int = 8, prio: int = 100, match: Match = M, to: int = 9,
          cookie: int = 0) -> Flow:
    return Flow(table, prio, match, [Resubmit(table=to)], cookie)


def drop(table: int = 8, prio: int = 100, match: Match = M, cookie: int = 0) -> Flow:
    return Flow(table, prio, match, [], cookie)


def conj(conj_id: int, clause: int = 1, n: int = 2, match: Match = M) -> Flow:
    return Flow(8, 100, match, [Conjunction(conj_id, clause, n)])


def winners(table: DesiredFlowTable) -> set[Flow]:
    return set(table)


# -- cookies and kinds --------------------------------------------------------------------


def test_cookie_keeps_ovn_low_32_bits_under_the_ownership_mark() -> None:
    cookie = owned_cookie(0x1234ABCD)
    assert cookie == OWNER_MARK | 0x1234ABCD
    assert is_owned(cookie) and ovn_cookie(cookie) == 0x1234ABCD
    assert not is_owned(0x1234ABCD)
    assert not is_owned(0)
    assert owned_cookie(0xFFFF_0000_1234_ABCD) == cookie  # caller's high bits are replaced


def test_parent_prefix_is_the_uuid_first_eight_hex_digits_as_ovn_cookies() -> None:
    assert parent_prefix("8e0a9d3c-1b2f-4c5d-9e8f-0a1b2c3d4e5f") == 0x8E0A9D3C
    assert 0 <= parent_prefix("physical:fixed") < 1 << 32


def test_flow_kind_distinguishes_allow_drop_and_conjunction() -> None:
    assert flow_kind(allow().actions) is FlowKind.ALLOW
    assert flow_kind(()) is FlowKind.DROP
    assert flow_kind(conj(1).actions) is FlowKind.CONJUNCTION


# -- parents --------------------------------------------------------------------------------


def test_added_flow_keeps_ovn_cookie_and_is_installed_with_the_ownership_mark() -> None:
    table = DesiredFlowTable()
    table.add_flow(allow(cookie=0xA), A)
    (flow,) = table
    assert flow == allow(cookie=0xA)
    assert table.flows_of(A) == [flow]
    assert table.lookup(flow.key) == flow
    assert as_installed(flow).cookie == OWNER_MARK | 0xA
    assert is_installed_as(as_installed(flow), flow)
    assert not is_installed_as(flow, flow)  # the same flow without the mark is not ours


def test_same_flow_from_two_parents_is_one_flow_that_dies_with_its_last_parent() -> None:
    table = DesiredFlowTable()
    table.add_flow(allow(), A)
    table.add_flow(allow(), B)
    table.add_flow(allow(), B)  # a repeated contribution counts once
    assert len(table) == 1
    assert table.parents_of(allow().key) == [A, B]
    table.remove_by_parent(A)
    assert len(table) == 1
    table.remove_by_parent(B)
    assert len(table) == 0
    assert table.flows_of(B) == []


def test_one_parent_with_many_flows_loses_them_all_at_once() -> None:
    table = DesiredFlowTable()
    for prio in range(5):
        table.add_flow(allow(prio=prio), A)
    table.add_flow(allow(prio=9), B)
    assert len(table.flows_of(A)) == 5
    table.remove_by_parent(A)
    assert [f.priority for f in table] == [9]


# -- winners -----------------------------------------------------------------------------------


def test_allow_beats_drop_beats_conjunction_whatever_the_order_of_adds() -> None:
    flows = [(conj(7), A), (drop(), B), (allow(), C)]
    for order in (flows, flows[::-1], [flows[1], flows[2], flows[0]]):
        table = DesiredFlowTable()
        for flow, parent in order:
            table.add_flow(flow, parent)
        assert [f.actions for f in table] == [allow().actions]


def test_between_flows_of_one_kind_the_smallest_parent_wins() -> None:
    table = DesiredFlowTable()
    table.add_flow(allow(to=20, cookie=0xC), C)
    table.add_flow(allow(to=10, cookie=0xB), B)
    (flow,) = table
    assert flow.actions == (Resubmit(table=10),)
    assert ovn_cookie(flow.cookie) == 0xB


def test_when_the_winner_goes_the_next_takes_over_with_a_modify() -> None:
    table = DesiredFlowTable()
    table.add_flow(allow(to=10), A)
    table.add_flow(allow(to=20), B)
    table.add_flow(drop(), C)
    old = table.lookup(M_KEY)
    table.take_tracked()
    table.remove_by_parent(A)
    changes = table.take_tracked()
    assert changes.flows == {M_KEY}
    new = table.lookup(M_KEY)
    assert new is not None and new.actions == (Resubmit(table=20),)
    # Same cookie: a modify_strict; a different cookie needs an add (OpenFlow 1.1+
    # modify keeps the cookie).
    assert FlowChange(M_KEY, old, new).message().command == FlowModCommand.MODIFY_STRICT
    table.remove_by_parent(B)
    assert table.take_tracked().flows == {M_KEY}
    assert table.lookup(M_KEY) == drop()


M_KEY = allow().key


def test_takeover_with_another_cookie_is_sent_as_an_add() -> None:
    table = DesiredFlowTable()
    table.add_flow(allow(cookie=0xA), A)
    table.add_flow(allow(cookie=0xB), B)
    old = table.lookup(M_KEY)
    table.remove_by_parent(A)
    new = table.lookup(M_KEY)
    assert old is not None and new is not None and old.actions == new.actions
    assert FlowChange(M_KEY, old, new).message().command == FlowModCommand.ADD


def test_conjunctions_with_one_key_merge_and_unmerge_by_parent() -> None:
    table = DesiredFlowTable()
    table.add_flow(conj(5, 2, 3), B)
    table.add_flow(conj(3, 1, 2), A)
    table.add_flow(Flow(8, 100, M, [Conjunction(5, 2, 3), Conjunction(4, 1, 2)]), C)
    (merged,) = table
    assert merged.actions == (Conjunction(3, 1, 2), Conjunction(4, 1, 2),
                              Conjunction(5, 2, 3))
    table.remove_by_parent(C)
    (left,) = table
    assert left.actions == (Conjunction(3, 1, 2), Conjunction(5, 2, 3))
    table.remove_by_parent(A)
    assert [f.actions for f in table] == [(Conjunction(5, 2, 3),)]


def test_a_non_conjunction_flow_hides_the_merged_conjunctions_until_it_goes() -> None:
    table = DesiredFlowTable()
    table.add_flow(conj(1), A)
    table.add_flow(drop(), C)
    table.add_flow(conj(2), B)
    assert [f.actions for f in table] == [()]
    table.remove_by_parent(C)
    assert [f.actions for f in table] == [(Conjunction(1, 1, 2), Conjunction(2, 1, 2))]


# -- tracking ------------------------------------------------------------------------------------


def test_first_take_is_full_then_only_changed_keys() -> None:
    table = DesiredFlowTable()
    table.add_flow(allow(), A)
    assert table.take_tracked().full
    table.add_flow(allow(prio=5), B)
    changes = table.take_tracked()
    assert not changes.full and changes.flows == {allow(prio=5).key}
    assert not table.take_tracked()


def test_add_then_remove_and_losing_contributions_track_nothing() -> None:
    table = DesiredFlowTable()
    table.add_flow(allow(), A)
    table.take_tracked()
    table.add_flow(allow(prio=5), B)
    table.remove_by_parent(B)
    table.add_flow(drop(), C)  # loses to A's allow: the installed flow does not change
    assert not table.take_tracked()


def test_recompute_that_rebuilds_the_same_flows_tracks_nothing() -> None:
    table = DesiredFlowTable()
    for parent, prio in ((A, 1), (B, 2), (C, 3)):
        table.add_flow(allow(prio=prio), parent)
    table.take_tracked()
    table.clear()
    for parent, prio in ((C, 3), (A, 1), (B, 2)):
        table.add_flow(allow(prio=prio), parent)
    assert not table.take_tracked()
    table.clear()
    table.add_flow(allow(prio=1), A)
    assert table.take_tracked().flows == {allow(prio=2).key, allow(prio=3).key}


def test_groups_and_meters_follow_parents_and_are_tracked() -> None:
    table = DesiredFlowTable()
    g1 = GroupEntry(1, GroupType.ALL, (Bucket((Output(1),)),))
    g1b = GroupEntry(1, GroupType.ALL, (Bucket((Output(2),)),))
    meter = MeterEntry(3, bands=(MeterBand(rate=100),))
    table.add_group(g1b, B)
    table.add_group(g1, A)
    table.add_meter(meter, B)
    table.take_tracked()
    assert table.group(1) == g1 and table.meter(3) == meter
    table.remove_by_parent(A)
    changes = table.take_tracked()
    assert changes.groups == {1} and not changes.meters
    assert table.group(1) == g1b
    table.remove_by_parent(B)
    changes = table.take_tracked()
    assert changes.groups == {1} and changes.meters == {3}
    assert table.group(1) is None and table.meter(3) is None


# -- incremental == rebuild ------------------------------------------------------------------------

PARENTS = [f"{i:08x}-0000-0000-0000-000000000000" for i in range(1, 4)]
MATCHES = [Match(reg14=i) for i in range(2)]
FLOWS = [
    *(allow(match=m, to=t) for m in MATCHES for t in (10, 11)),
    *(drop(match=m) for m in MATCHES),
    *(Flow(8, 100, m, [Conjunction(c, 1, 2)]) for m in MATCHES for c in (1, 2)),
]
_ADD = st.tuples(st.just("add"), st.sampled_from(FLOWS), st.sampled_from(PARENTS))
OPS = st.lists(st.one_of(
    _ADD, _ADD, _ADD,
    st.tuples(st.just("remove"), st.just(FLOWS[0]), st.sampled_from(PARENTS)),
    st.tuples(st.just("take"), st.just(FLOWS[0]), st.just(PARENTS[0])),
    st.tuples(st.just("recompute"), st.just(FLOWS[0]), st.just(PARENTS[0])),
), max_size=40)


@settings(max_examples=400, deadline=None)
@given(OPS)
def test_random_adds_and_removes_equal_a_rebuild_from_scratch(
        ops: list[tuple[str, Flow, str]]) -> None:
    table = DesiredFlowTable()
    live: list[tuple[Flow, str]] = []
    mirror: dict[object, Flow] = {}  # what ofctrl would have installed from tracked changes

    def consume() -> None:
        changes = table.take_tracked()
        keys = set(table.winners()) | set(mirror) if changes.full else changes.flows
        for key in keys:
            flow = table.lookup(key)  # type: ignore[arg-type]
            if flow is None:
                mirror.pop(key, None)
            else:
                mirror[key] = flow

    for op, flow, parent in ops:
        if op == "add":
            table.add_flow(flow, parent)
            if (flow, parent) not in live:
                live.append((flow, parent))
        elif op == "remove":
            table.remove_by_parent(parent)
            live = [(f, p) for f, p in live if p != parent]
        elif op == "take":
            consume()
        else:
            table.clear()
            for f, p in reversed(live):
                table.add_flow(f, p)
    rebuilt = DesiredFlowTable()
    for f, p in live[::-1]:
        rebuilt.add_flow(f, p)
    assert winners(table) == winners(rebuilt)
    assert dict(table.winners()) == dict(rebuilt.winners())
    for parent in PARENTS:
        assert sorted(map(str, table.flows_of(parent))) == sorted(
            map(str, rebuilt.flows_of(parent)))
    consume()
    assert mirror == dict(rebuilt.winners())
