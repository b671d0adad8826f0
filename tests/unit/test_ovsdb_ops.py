"""Op building (Python values → OVSDB JSON by schema type) and transaction outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from pyovn.ovsdb import (
    Comment,
    Delete,
    Insert,
    Mutate,
    NamedUuid,
    OvsdbValueError,
    Row,
    Schema,
    SchemaError,
    Transaction,
    TxnStatus,
    Update,
    Verify,
    Wait,
)
from pyovn.ovsdb.ops import Assert, op_to_json
from pyovn.ovsdb.rows import make_row_class
from pyovn.sandbox import procs

U1 = "11111111-1111-1111-1111-111111111111"
U2 = "22222222-2222-2222-2222-222222222222"
SB = Schema.from_file(procs.SB_SCHEMA)
Chassis = make_row_class("Chassis", ["name", "hostname", "nb_cfg"])


def no_rows(_table: str, _uuid: str) -> Row | None:
    return None


def enc(op: Any, lookup: Any = no_rows) -> dict[str, Any]:
    return op_to_json(op, SB, lookup)


def test_insert_encodes_row_and_client_chosen_uuid_and_name() -> None:
    j = enc(Insert("Logical_Flow", {
        "logical_datapath": U1, "pipeline": "ingress", "table_id": 3, "priority": 100,
        "match": "1", "actions": "next;", "external_ids": {"stage-name": "x"},
        "logical_dp_group": None,
    }, uuid=U2, uuid_name="lf0"))
    assert j == {
        "op": "insert", "table": "Logical_Flow", "uuid": U2, "uuid-name": "lf0",
        "row": {"logical_datapath": ["uuid", U1], "pipeline": "ingress", "table_id": 3,
                "priority": 100, "match": "1", "actions": "next;",
                "external_ids": ["map", [["stage-name", "x"]]],
                "logical_dp_group": ["set", []]},
    }


def test_insert_with_a_non_uuid_uuid_is_refused() -> None:
    with pytest.raises(OvsdbValueError, match="not a UUID"):
        enc(Insert("Chassis", {"name": "hv1"}, uuid="hv1"))


def test_reference_to_a_row_of_the_same_transaction_is_a_named_uuid() -> None:
    j = enc(Insert("Port_Binding", {"logical_port": "p", "datapath": NamedUuid("dp"),
                                    "tunnel_key": 1}))
    assert j["row"]["datapath"] == ["named-uuid", "dp"]


def test_update_and_delete_select_the_row_by_uuid() -> None:
    assert enc(Update("Chassis", U1, {"hostname": "h", "nb_cfg": 3})) == {
        "op": "update", "table": "Chassis", "where": [["_uuid", "==", ["uuid", U1]]],
        "row": {"hostname": "h", "nb_cfg": 3}}
    assert enc(Delete("Chassis", U1)) == {
        "op": "delete", "table": "Chassis", "where": [["_uuid", "==", ["uuid", U1]]]}


def test_mutations_encode_by_column_form() -> None:
    j = enc(Mutate("Port_Binding", U1, [
        ("mac", "insert", ["00:00:00:00:00:01 10.0.0.1"]),
        ("options", "insert", {"k": "v"}),
        ("options", "delete", ["k"]),
        ("options", "delete", {"k": "v"}),
        ("tunnel_key", "+=", 1),
    ]))
    assert j["mutations"] == [
        ["mac", "insert", ["set", ["00:00:00:00:00:01 10.0.0.1"]]],
        ["options", "insert", ["map", [["k", "v"]]]],
        ["options", "delete", ["set", ["k"]]],
        ["options", "delete", ["map", [["k", "v"]]]],
        ["tunnel_key", "+=", 1],
    ]


def test_unknown_mutator_is_refused() -> None:
    with pytest.raises(OvsdbValueError, match="mutator"):
        enc(Mutate("Port_Binding", U1, [("mac", "append", "x")]))


def test_wait_encodes_conditions_and_rows() -> None:
    j = enc(Wait("Chassis", [("name", "==", "hv1")], ["nb_cfg"], [{"nb_cfg": 4}],
                 until="!=", timeout=100))
    assert j == {"op": "wait", "table": "Chassis", "timeout": 100,
                 "where": [["name", "==", "hv1"]], "columns": ["nb_cfg"], "until": "!=",
                 "rows": [{"nb_cfg": 4}]}


def test_verify_captures_the_current_view_of_the_row() -> None:
    row = Chassis.make(U1, name="hv1", hostname="h", nb_cfg=7)

    def lookup(table: str, uuid: str) -> Row | None:
        return row if (table, uuid) == ("Chassis", U1) else None

    j = enc(Verify("Chassis", U1, ["nb_cfg", "name"]), lookup)
    assert j == {"op": "wait", "table": "Chassis", "timeout": 0,
                 "where": [["_uuid", "==", ["uuid", U1]]], "columns": ["nb_cfg", "name"],
                 "until": "==", "rows": [{"nb_cfg": 7, "name": "hv1"}]}
    # A row the client does not see is verified to be still absent.
    assert enc(Verify("Chassis", U2, ["nb_cfg"]), lookup)["rows"] == []


def test_comment_and_assert_ops() -> None:
    assert enc(Comment("hello")) == {"op": "comment", "comment": "hello"}
    assert enc(Assert("l")) == {"op": "assert", "lock": "l"}


def test_unknown_table_or_column_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="no table"):
        enc(Delete("Nope", U1))
    with pytest.raises(SchemaError, match="no column"):
        enc(Update("Chassis", U1, {"nope": 1}))


def test_bad_value_error_names_table_and_column() -> None:
    with pytest.raises(OvsdbValueError, match=r"Chassis\.nb_cfg"):
        enc(Update("Chassis", U1, {"nb_cfg": "seven"}))


# --- transaction outcomes ---------------------------------------------------------------

def txn(*ops: Any, skip: int = 0) -> Transaction:
    return Transaction(list(ops) or [Comment("x")], 1, skip=skip)


def test_success_reports_results_and_inserted_uuids() -> None:
    t = txn(Insert("Chassis", {"name": "a"}, uuid_name="a"), Delete("Chassis", U2))
    t.handle_reply([{"uuid": ["uuid", U1]}, {"count": 1}], None)
    assert t.status is TxnStatus.SUCCESS and t.done
    assert t.inserted_uuids == {"a": U1}
    assert t.results == [{"uuid": ["uuid", U1]}, {"count": 1}]


def test_failed_op_is_named_in_the_error() -> None:
    t = txn(Comment("x"), Insert("Chassis", {"name": "a"}))
    t.handle_reply([{}, {"error": "constraint violation", "details": "dup name"}], None)
    assert t.status is TxnStatus.ERROR
    assert t.failed_op == 1
    assert t.error == "op 1 (insert into Chassis): constraint violation"
    assert t.details == "dup name"


def test_commit_level_error_has_no_failed_op() -> None:
    t = txn(Delete("Chassis", U1))
    t.handle_reply([{"count": 1}, {"error": "referential integrity violation",
                                   "details": "..."}], None)
    assert t.status is TxnStatus.ERROR and t.failed_op is None
    assert t.error is not None and t.error.startswith("commit:")


def test_failed_wait_is_try_again() -> None:
    t = txn(Verify("Chassis", U1, ["name"]), Update("Chassis", U1, {"name": "b"}))
    t.handle_reply([{"error": "timed out"}, None], None)
    assert t.status is TxnStatus.TRY_AGAIN


def test_failed_lock_assertion_is_not_locked_and_results_skip_it() -> None:
    t = txn(Delete("Chassis", U1), skip=1)
    t.handle_reply([{"error": "not owner", "details": "lock"}, None], None)
    assert t.status is TxnStatus.NOT_LOCKED
    t = txn(Delete("Chassis", U1), skip=1)
    t.handle_reply([{}, {"count": 1}], None)
    assert t.status is TxnStatus.SUCCESS and t.results == [{"count": 1}]


def test_jsonrpc_error_not_leader_is_try_again_others_error() -> None:
    t = txn()
    t.handle_reply(None, "not leader")
    assert t.status is TxnStatus.TRY_AGAIN
    t = txn()
    t.handle_reply(None, {"error": "unknown database", "details": "x"})
    assert t.status is TxnStatus.ERROR and t.error == "unknown database"
