"""SB sync of logical flows: ops for differences only, datapath groups, adoption."""

from __future__ import annotations

from typing import Any

from pyovn.northd.lflow.flows import LflowAttrs, LflowKey
from pyovn.northd.lflow.sb_sync import SbLflowSync, Written, flow_uuid
from pyovn.northd.lflow.table import LflowRef, LflowTable
from pyovn.ovsdb import Delete, Insert, Op, Row, TableChanges, Update
from pyovn.ovsdb.rows import make_row_class

FLOW_COLUMNS = ("logical_datapath", "logical_dp_group", "pipeline", "table_id", "priority",
                "match", "actions", "controller_meter", "tags", "external_ids")
FlowRow = make_row_class("Logical_Flow", FLOW_COLUMNS)
GroupRow = make_row_class("Logical_DP_Group", ("datapaths",))

SB = {"A": "aaaaaaaa-0000-0000-0000-000000000001",
      "B": "bbbbbbbb-0000-0000-0000-000000000002",
      "C": "cccccccc-0000-0000-0000-000000000003"}
K1 = LflowKey("ingress", 0, 100, "1", "next;")
K2 = LflowKey("egress", 4, 1100, "ip", "drop;")


def resolve(dp: str) -> str | None:
    return SB.get(dp)


def _apply(ops: list[Op], flows: dict[str, Row], groups: dict[str, Row]) -> None:
    """Play ops on an in-memory SB (and collect unreferenced groups, as ovsdb does)."""
    for op in ops:
        if isinstance(op, Insert):
            assert op.uuid is not None
            if op.table == "Logical_Flow":
                flows[op.uuid] = FlowRow.make(op.uuid, **op.row)
            else:
                groups[op.uuid] = GroupRow.make(op.uuid, datapaths=tuple(op.row["datapaths"]))
        elif isinstance(op, Update):
            flows[op.uuid] = flows[op.uuid].replace(**op.row)
        elif isinstance(op, Delete):
            del flows[op.uuid]
    used = {f["logical_dp_group"] for f in flows.values()}
    for g in list(groups):
        if g not in used:
            del groups[g]


class World:
    """A table, a sync, and the SB they write."""

    def __init__(self) -> None:
        self.table = LflowTable()
        self.sync = SbLflowSync()
        self.flows: dict[str, Row] = {}
        self.groups: dict[str, Row] = {}

    def link(self, ref: LflowRef, *links: tuple[str, LflowKey]) -> list[Op]:
        self.table.replace(ref, [(dp, k, LflowAttrs("0123abcd", None)) for dp, k in links])
        ops = self.sync.sync(self.table, self.table.take_dirty(), resolve)
        _apply(ops, self.flows, self.groups)
        return ops

    def where(self, key: LflowKey) -> set[str]:
        (row,) = (r for r in self.flows.values() if r["match"] == key.match
                  and r["pipeline"] == key.pipeline)
        if row["logical_dp_group"] is not None:
            return set(self.groups[row["logical_dp_group"]]["datapaths"])
        return {row["logical_datapath"]}


def kinds(ops: list[Op]) -> list[str]:
    return [f"{type(op).__name__} {op.table}" for op in ops
            if isinstance(op, Insert | Update | Delete)]


def test_flow_on_one_datapath_names_it_directly() -> None:
    w = World()
    ops = w.link(LflowRef(), ("A", K1))
    assert kinds(ops) == ["Insert Logical_Flow"]
    row: Any = ops[0]
    assert row.uuid == flow_uuid(K1)
    assert row.row["logical_datapath"] == SB["A"] and row.row["logical_dp_group"] is None
    assert row.row["external_ids"] == {"stage-name": "ls_in_check_port_sec",
                                       "stage-hint": "0123abcd"}
    assert row.row["tags"] == {}


def test_flows_on_the_same_datapaths_share_one_group() -> None:
    w = World()
    ops = w.link(LflowRef(), ("A", K1), ("B", K1), ("A", K2), ("B", K2))
    assert sorted(kinds(ops)) == ["Insert Logical_DP_Group", "Insert Logical_Flow",
                                  "Insert Logical_Flow"]
    assert len(w.groups) == 1
    assert w.where(K1) == w.where(K2) == {SB["A"], SB["B"]}


def test_a_flow_leaving_a_datapath_moves_without_disturbing_the_others() -> None:
    w = World()
    shared, only_k1 = LflowRef(), LflowRef()
    w.link(shared, ("A", K2), ("B", K2))
    w.link(only_k1, ("A", K1), ("B", K1))
    ops = w.link(only_k1, ("A", K1))
    assert kinds(ops) == ["Update Logical_Flow"]
    assert w.where(K1) == {SB["A"]} and w.where(K2) == {SB["A"], SB["B"]}
    ops = w.link(only_k1, ("A", K1), ("B", K1), ("C", K1))
    assert sorted(kinds(ops)) == ["Insert Logical_DP_Group", "Update Logical_Flow"]
    assert len(w.groups) == 2


def test_a_group_nobody_uses_is_forgotten_and_made_anew_when_needed() -> None:
    w = World()
    ref = LflowRef()
    w.link(ref, ("A", K1), ("B", K1))
    w.link(ref, ("A", K1))
    assert w.groups == {} and w.sync.group_sets == {}
    ops = w.link(ref, ("A", K1), ("B", K1))
    assert "Insert Logical_DP_Group" in kinds(ops)


def test_removing_the_last_link_deletes_the_row() -> None:
    w = World()
    ref = LflowRef()
    w.link(ref, ("A", K1))
    ops = w.link(ref)
    assert kinds(ops) == ["Delete Logical_Flow"] and w.flows == {}


def test_unbound_datapath_is_left_out_until_bound() -> None:
    w = World()
    assert w.link(LflowRef(), ("unbound", K1)) == []
    ops = w.link(LflowRef(), ("unbound", K2), ("A", K2))
    assert kinds(ops) == ["Insert Logical_Flow"] and w.where(K2) == {SB["A"]}


def test_resync_adopts_matching_rows_and_writes_nothing() -> None:
    w = World()
    w.link(LflowRef(), ("A", K1), ("B", K1), ("C", K2))
    fresh = SbLflowSync()
    assert fresh.resync(w.table, w.flows.values(), w.groups, resolve) == []
    assert fresh.written == w.sync.written


def test_resync_keeps_foreign_uuids_and_fixes_only_what_differs() -> None:
    w = World()
    w.link(LflowRef(), ("A", K1), ("B", K1))
    foreign = "12345678-1234-1234-1234-123456789abc"
    row = FlowRow.make(foreign, logical_datapath=SB["C"], logical_dp_group=None,
                       pipeline=K2.pipeline, table_id=K2.table_id, priority=K2.priority,
                       match=K2.match, actions=K2.actions, controller_meter=None, tags={},
                       external_ids={"stage-name": "ls_out_acl", "stage-hint": "0123abcd",
                                     "source": "northd.c:6543"})
    dup = row.replace(logical_datapath=SB["A"])
    dup.uuid = "ffffffff-1234-1234-1234-123456789abc"
    stale = row.replace(match="stale")
    stale.uuid = "eeeeeeee-1234-1234-1234-123456789abc"
    w.flows.update({foreign: row, dup.uuid: dup, stale.uuid: stale})
    w.table.replace(LflowRef(), [("C", K2, LflowAttrs("0123abcd", None))])
    fresh = SbLflowSync()
    ops = fresh.resync(w.table, w.flows.values(), w.groups, resolve)
    # The duplicate and the stale row go; the foreign row is adopted as it is.
    assert sorted((type(o).__name__, getattr(o, "uuid", "")) for o in ops) == sorted([
        ("Delete", dup.uuid), ("Delete", stale.uuid)])
    assert fresh.written[K2].uuid == foreign


def test_repairing_an_edited_row_never_reinserts_the_uuid_it_deletes() -> None:
    # Someone edits our row's actions: the row keeps the content UUID of what we must
    # re-insert. ovsdb-server rejects an insert of a UUID deleted in the same
    # transaction, so the repair must use another UUID, whatever order keys come in.
    for order in (0, 1):
        w = World()
        w.link(LflowRef(), ("C", K2))
        uuid = flow_uuid(K2)
        w.flows[uuid] = w.flows[uuid].replace(actions="next;")
        fresh = SbLflowSync()
        edited = LflowKey(K2.pipeline, K2.table_id, K2.priority, K2.match, "next;")
        keys = [edited, K2] if order == 0 else [K2, edited]
        fresh.written[edited] = Written(uuid, SB["C"], None, LflowAttrs("0123abcd", None))
        fresh.by_uuid[uuid] = edited
        ops = fresh.sync(w.table, keys, resolve)
        deleted = {o.uuid for o in ops if isinstance(o, Delete)}
        inserted = {o.uuid for o in ops if isinstance(o, Insert)}
        assert deleted == {uuid}
        assert len(inserted) == 1 and not inserted & deleted


def test_own_echo_is_consistent_and_foreign_changes_are_not() -> None:
    w = World()
    ops = w.link(LflowRef(), ("A", K1), ("B", K1), ("A", K2))
    flows = {op.uuid: w.flows[op.uuid] for op in ops
             if isinstance(op, Insert) and op.uuid in w.flows}
    groups = dict(w.groups)
    assert w.sync.flow_inconsistency(TableChanges("Logical_Flow", inserted=flows)) is None
    assert w.sync.group_inconsistency(
        TableChanges("Logical_DP_Group", inserted=groups)) is None
    some = next(iter(flows.values()))
    edited = some.replace(actions=some["actions"] + " /* edited */")
    assert w.sync.flow_inconsistency(
        TableChanges("Logical_Flow", modified={some.uuid: (some, edited)}))
    assert w.sync.flow_inconsistency(TableChanges("Logical_Flow", deleted={some.uuid: some}))
    assert w.sync.group_inconsistency(TableChanges("Logical_DP_Group", deleted=groups))


def test_flow_uuid_depends_on_content_only() -> None:
    assert flow_uuid(K1) == flow_uuid(LflowKey(*K1))
    assert flow_uuid(K1) != flow_uuid(K2)
