"""The replica: applying monitor replies and notifications, snapshot diffs, indexes."""

from __future__ import annotations

from typing import Any

import pytest

from pyovn.ovsdb import Replica, Schema, SchemaError
from pyovn.sandbox import procs

SB = Schema.from_file(procs.SB_SCHEMA)
DP1 = "d1111111-1111-1111-1111-111111111111"
DP2 = "d2222222-2222-2222-2222-222222222222"
P1 = "a1111111-1111-1111-1111-111111111111"
P2 = "a2222222-2222-2222-2222-222222222222"
P3 = "a3333333-3333-3333-3333-333333333333"
PB_COLUMNS = ["logical_port", "datapath", "tunnel_key", "chassis", "mac", "options"]


def replica() -> Replica:
    return Replica(SB, {"Port_Binding": PB_COLUMNS, "SB_Global": None})


def pb(name: str, dp: str, key: int, **extra: Any) -> dict[str, Any]:
    row = {"logical_port": name, "datapath": ["uuid", dp], "tunnel_key": key}
    row.update(extra)
    return row


def initial(**rows: dict[str, Any]) -> dict[str, Any]:
    return {"Port_Binding": {u: {"initial": r} for u, r in rows.items()}}


def loaded() -> Replica:
    r = replica()
    r.load({"Port_Binding": {
        P1: {"initial": pb("p1", DP1, 1, mac="00:00:00:00:00:01 10.0.0.1")},
        P2: {"initial": pb("p2", DP1, 2, options=["map", [["a", "1"]]])},
    }})
    return r


def test_unknown_column_is_refused_at_construction() -> None:
    with pytest.raises(SchemaError):
        Replica(SB, {"Port_Binding": ["logical_port", "nope"]})


def test_first_load_inserts_every_row_with_defaults_for_omitted_columns() -> None:
    r = loaded()
    rows = r.tables["Port_Binding"].rows
    assert set(rows) == {P1, P2}
    p1 = rows[P1]
    assert (p1["logical_port"], p1["datapath"], p1["tunnel_key"]) == ("p1", DP1, 1)
    assert p1["chassis"] is None and p1["options"] == {}
    assert p1["mac"] == ("00:00:00:00:00:01 10.0.0.1",)
    changes = r.changes.take()
    assert set(changes["Port_Binding"].inserted) == {P1, P2}
    assert r.seqno == 1


def test_update2_insert_modify_delete_give_exact_changes_with_old_values() -> None:
    r = loaded()
    r.changes.take()
    before = r.tables["Port_Binding"].rows[P1]
    gone = r.tables["Port_Binding"].rows[P2]
    r.apply_updates2({"Port_Binding": {
        P3: {"insert": pb("p3", DP2, 3)},
        P1: {"modify": {"chassis": ["uuid", DP2], "options": ["map", [["x", "y"]]]}},
        P2: {"delete": None},
    }})
    tc = r.changes.take()["Port_Binding"]
    assert set(tc.inserted) == {P3}
    old, new = tc.modified[P1]
    assert old is before and old["chassis"] is None
    assert new["chassis"] == DP2 and new["options"] == {"x": "y"}
    assert new["logical_port"] == "p1"
    assert tc.deleted == {P2: gone}
    assert set(r.tables["Port_Binding"].rows) == {P1, P3}


def test_tables_not_monitored_are_ignored() -> None:
    r = loaded()
    r.apply_updates2({"Chassis": {P1: {"insert": {"name": "hv"}}}})
    assert "Chassis" not in r.tables


def test_reload_after_reconnect_reports_only_the_difference() -> None:
    r = loaded()
    r.changes.take()
    kept = r.tables["Port_Binding"].rows[P2]
    p1_before = r.tables["Port_Binding"].rows[P1]
    # While away: p1 changed, p2 unchanged, p3 appeared; nothing else.
    r.load({"Port_Binding": {
        P1: {"initial": pb("p1", DP1, 10, mac="00:00:00:00:00:01 10.0.0.1")},
        P2: {"initial": pb("p2", DP1, 2, options=["map", [["a", "1"]]])},
        P3: {"initial": pb("p3", DP1, 3)},
    }})
    tc = r.changes.take()["Port_Binding"]
    assert set(tc.inserted) == {P3}
    assert tc.modified[P1][0] is p1_before and tc.modified[P1][1]["tunnel_key"] == 10
    assert not tc.deleted
    assert r.tables["Port_Binding"].rows[P2] is kept


def test_reload_without_a_row_deletes_it_and_empty_reload_deletes_all() -> None:
    r = loaded()
    r.changes.take()
    r.load(initial(**{P1: pb("p1", DP1, 1, mac="00:00:00:00:00:01 10.0.0.1")}))
    assert set(r.changes.take()["Port_Binding"].deleted) == {P2}
    r.load({})
    assert set(r.changes.take()["Port_Binding"].deleted) == {P1}


def test_original_monitor_updates_replace_whole_columns() -> None:
    r = Replica(SB, {"Port_Binding": PB_COLUMNS})
    r.load({"Port_Binding": {P1: {"new": pb("p1", DP1, 1)}}}, updates2=False)
    r.apply_updates({"Port_Binding": {
        P1: {"old": {"tunnel_key": 1}, "new": pb("p1", DP1, 5)},
        P2: {"new": pb("p2", DP1, 2)},
    }})
    rows = r.tables["Port_Binding"].rows
    assert rows[P1]["tunnel_key"] == 5 and rows[P2]["logical_port"] == "p2"
    r.apply_updates({"Port_Binding": {P1: {"old": pb("p1", DP1, 5)}}})
    assert set(rows) == {P2}


def test_index_by_scalar_column_follows_changes() -> None:
    r = loaded()
    by_dp = r.index("Port_Binding", "datapath")
    assert {row["logical_port"] for row in by_dp[DP1]} == {"p1", "p2"}
    r.apply_updates2({"Port_Binding": {
        P1: {"modify": {"datapath": ["uuid", DP2]}},
        P3: {"insert": pb("p3", DP2, 3)},
        P2: {"delete": None},
    }})
    assert {row["logical_port"] for row in by_dp[DP2]} == {"p1", "p3"}
    assert DP1 not in by_dp and by_dp.rows(DP1) == frozenset()
    # The indexed rows are the current versions.
    assert r.tables["Port_Binding"].rows[P1] in by_dp[DP2]


def test_index_survives_modifications_that_keep_the_key() -> None:
    r = loaded()
    by_dp = r.index("Port_Binding", "datapath")
    r.apply_updates2({"Port_Binding": {P1: {"modify": {"tunnel_key": 9}}}})
    (p1,) = (row for row in by_dp[DP1] if row.uuid == P1)
    assert p1["tunnel_key"] == 9 and len(by_dp[DP1]) == 2


def test_index_by_set_and_map_columns_uses_elements_and_keys() -> None:
    r = loaded()
    by_mac = r.index("Port_Binding", "mac")
    by_option = r.index("Port_Binding", "options")
    by_chassis = r.index("Port_Binding", "chassis")
    assert [row.uuid for row in by_mac["00:00:00:00:00:01 10.0.0.1"]] == [P1]
    assert [row.uuid for row in by_option["a"]] == [P2]
    assert {row.uuid for row in by_chassis[None]} == {P1, P2}
    r.apply_updates2({"Port_Binding": {P2: {"modify": {
        "options": ["map", [["a", "1"], ["b", "2"]]], "mac": "m2", "chassis": ["uuid", DP1]}}}})
    assert "a" not in by_option and [row.uuid for row in by_option["b"]] == [P2]
    assert [row.uuid for row in by_mac["m2"]] == [P2]
    assert [row.uuid for row in by_chassis[DP1]] == [P2]


def test_index_of_unmonitored_column_is_refused() -> None:
    with pytest.raises(KeyError):
        loaded().index("Port_Binding", "encap")


def test_rows_never_share_a_default_map() -> None:
    r = replica()
    r.load(initial(**{P1: pb("p1", DP1, 1), P2: pb("p2", DP1, 2)}))
    rows = r.tables["Port_Binding"].rows
    assert rows[P1]["options"] == {} and rows[P1]["options"] is not rows[P2]["options"]


def test_columns_with_reserved_names_load_like_any_other() -> None:
    r = Replica(SB, {"RBAC_Permission": None})
    r.load({"RBAC_Permission": {P1: {"initial": {
        "table": "Chassis", "authorization": ["set", ["name"]], "insert_delete": True,
        "update": ["set", ["nb_cfg", "external_ids"]]}}}})
    row = r.tables["RBAC_Permission"].rows[P1]
    assert row["table"] == "Chassis" and row["insert_delete"] is True
    assert row["update"] == ("external_ids", "nb_cfg") and row["authorization"] == ("name",)
