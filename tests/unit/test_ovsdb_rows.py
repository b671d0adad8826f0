"""Rows as immutable snapshots, and the coalescing of changes per row."""

from __future__ import annotations

import pytest

from pyovn.ovsdb import Row, TableChanges
from pyovn.ovsdb.rows import ChangeTracker, make_row_class

U1 = "11111111-1111-1111-1111-111111111111"
U2 = "22222222-2222-2222-2222-222222222222"

Perm = make_row_class("RBAC_Permission", ["table", "authorization", "update", "class"])
Lflow = make_row_class("Logical_Flow", ["match", "priority"])


def lflow(uuid: str, match: str, priority: int = 100) -> Row:
    return Lflow.make(uuid, match=match, priority=priority)


def test_row_reads_by_column_name_and_get_default() -> None:
    row = lflow(U1, "ip4", 50)
    assert row.uuid == U1
    assert row["match"] == "ip4"
    assert row.get("priority") == 50
    assert row.get("nope", "dflt") == "dflt"
    assert "match" in row and "nope" not in row
    with pytest.raises(KeyError, match="nope"):
        row["nope"]
    assert row.as_dict() == {"match": "ip4", "priority": 50}


def test_make_requires_exactly_the_columns() -> None:
    with pytest.raises(TypeError, match="missing columns"):
        Lflow.make(U1, match="x")
    with pytest.raises(TypeError, match="unknown"):
        Lflow.make(U1, match="x", priority=1, actions="drop;")


def test_rows_have_no_dict() -> None:
    row = lflow(U1, "ip4")
    assert not hasattr(row, "__dict__")


def test_columns_named_like_row_attributes_or_keywords_still_work() -> None:
    row = Perm.make(U1, table="Chassis", authorization=("name",), update=("nb_cfg",),
                    **{"class": "x"})
    assert row["table"] == "Chassis"
    assert row["class"] == "x"
    assert Perm.table == "RBAC_Permission"
    assert row["update"] == ("nb_cfg",)


def test_replace_makes_a_new_version_and_leaves_the_old_one() -> None:
    old = lflow(U1, "ip4")
    new = old.replace(match="ip6")
    assert (old["match"], new["match"]) == ("ip4", "ip6")
    assert new.uuid == old.uuid and new is not old


def test_rows_are_equal_when_same_version_and_hash_by_uuid() -> None:
    a, b = lflow(U1, "ip4"), lflow(U1, "ip4")
    assert a == b and hash(a) == hash(b)
    assert a != a.replace(match="ip6")
    assert a != lflow(U2, "ip4")
    assert len({a, b, a.replace(priority=1)}) == 2


def test_table_changes_is_false_when_empty() -> None:
    tc = TableChanges("T")
    assert not tc
    tc.deleted[U1] = lflow(U1, "x")
    assert tc and len(tc) == 1


def take_one(tracker: ChangeTracker) -> TableChanges:
    changes = tracker.take()
    return changes.get("Logical_Flow", TableChanges("Logical_Flow"))


def test_insert_then_modify_is_an_insert_of_the_newest() -> None:
    t = ChangeTracker()
    v1 = lflow(U1, "a")
    v2 = v1.replace(match="b")
    t.inserted("Logical_Flow", v1)
    t.modified("Logical_Flow", v1, v2)
    tc = take_one(t)
    assert tc.inserted == {U1: v2} and not tc.modified and not tc.deleted


def test_insert_then_delete_is_nothing() -> None:
    t = ChangeTracker()
    v1 = lflow(U1, "a")
    t.inserted("Logical_Flow", v1)
    t.deleted("Logical_Flow", v1)
    assert t.take() == {}


def test_modify_twice_keeps_first_old_and_last_new() -> None:
    t = ChangeTracker()
    v1 = lflow(U1, "a")
    v2, v3 = v1.replace(match="b"), v1.replace(match="c")
    t.modified("Logical_Flow", v1, v2)
    t.modified("Logical_Flow", v2, v3)
    assert take_one(t).modified == {U1: (v1, v3)}


def test_modify_and_back_is_nothing() -> None:
    t = ChangeTracker()
    v1 = lflow(U1, "a")
    v2 = v1.replace(match="b")
    t.modified("Logical_Flow", v1, v2)
    t.modified("Logical_Flow", v2, v1.replace())
    assert t.take() == {}


def test_modify_then_delete_is_a_delete_of_the_first_old() -> None:
    t = ChangeTracker()
    v1 = lflow(U1, "a")
    v2 = v1.replace(match="b")
    t.modified("Logical_Flow", v1, v2)
    t.deleted("Logical_Flow", v2)
    tc = take_one(t)
    assert tc.deleted == {U1: v1} and not tc.modified and not tc.inserted


def test_delete_then_insert_of_same_uuid_is_a_modify_or_nothing() -> None:
    t = ChangeTracker()
    v1 = lflow(U1, "a")
    t.deleted("Logical_Flow", v1)
    t.inserted("Logical_Flow", v1.replace(match="z"))
    tc = take_one(t)
    assert tc.modified == {U1: (v1, v1.replace(match="z"))} and not tc.deleted
    t.deleted("Logical_Flow", v1)
    t.inserted("Logical_Flow", v1.replace())
    assert t.take() == {}


def test_take_returns_only_non_empty_tables_and_starts_afresh() -> None:
    t = ChangeTracker()
    t.inserted("Logical_Flow", lflow(U1, "a"))
    t.inserted("Other", lflow(U2, "b"))
    t.deleted("Other", lflow(U2, "b"))
    assert list(t.take()) == ["Logical_Flow"]
    assert t.take() == {}


def test_disabled_tracker_records_nothing() -> None:
    t = ChangeTracker(enabled=False)
    t.inserted("Logical_Flow", lflow(U1, "a"))
    assert t.take() == {}
