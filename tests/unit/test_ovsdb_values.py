"""Value conversion between OVSDB JSON and the Python forms, for every column form."""

from __future__ import annotations

import sys
import uuid as uuidlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyovn.ovsdb import ColumnType, Form, NamedUuid, OvsdbValueError, Schema
from pyovn.ovsdb.values import decoder, default_value, diff_applier, encode
from pyovn.sandbox import procs

U1 = "11111111-1111-1111-1111-111111111111"
U2 = "22222222-2222-2222-2222-222222222222"
U3 = "33333333-3333-3333-3333-333333333333"
UNLIMITED = sys.maxsize

STRING = ColumnType("string")
INTEGER = ColumnType("integer")
REAL = ColumnType("real")
BOOLEAN = ColumnType("boolean")
UUID = ColumnType("uuid", key_ref_table="Chassis")
OPT_STRING = ColumnType("string", n_min=0, n_max=1)
OPT_INTEGER = ColumnType("integer", n_min=0, n_max=1)
OPT_UUID = ColumnType("uuid", n_min=0, n_max=1, key_ref_table="Chassis")
SET_STRING = ColumnType("string", n_min=0, n_max=UNLIMITED)
SET_UUID = ColumnType("uuid", n_min=0, n_max=UNLIMITED, key_ref_table="Port")
SET_INTEGER_1_4 = ColumnType("integer", n_min=1, n_max=4)
SMAP = ColumnType("string", "string", n_min=0, n_max=UNLIMITED)
MAP_INT_UUID = ColumnType("integer", "uuid", n_min=0, n_max=UNLIMITED)


def test_forms_follow_min_max_and_value_type() -> None:
    assert STRING.form is Form.SCALAR
    assert OPT_UUID.form is Form.OPTIONAL
    assert SET_STRING.form is Form.SET
    assert SET_INTEGER_1_4.form is Form.SET
    assert SMAP.form is Form.MAP


def test_forms_of_real_southbound_columns() -> None:
    sb = Schema.from_file(procs.SB_SCHEMA)
    pb = sb.table("Port_Binding")
    assert pb.column("logical_port").form is Form.SCALAR
    assert pb.column("chassis").form is Form.OPTIONAL
    assert pb.column("chassis").key_ref_table == "Chassis"
    assert pb.column("mac").form is Form.SET
    assert pb.column("options").form is Form.MAP
    assert pb.column("_uuid").key == "uuid"


@pytest.mark.parametrize(("ctype", "wire", "python"), [
    (STRING, "abc", "abc"),
    (INTEGER, 42, 42),
    (REAL, 3, 3.0),
    (REAL, 2.5, 2.5),
    (BOOLEAN, True, True),
    (UUID, ["uuid", U1], U1),
    (OPT_STRING, ["set", []], None),
    (OPT_STRING, "x", "x"),
    (OPT_STRING, ["set", ["x"]], "x"),
    (OPT_INTEGER, 7, 7),
    (OPT_UUID, ["set", []], None),
    (OPT_UUID, ["uuid", U1], U1),
    (OPT_UUID, ["set", [["uuid", U1]]], U1),
    (SET_STRING, "only", ("only",)),
    (SET_STRING, ["set", ["b", "a", "c"]], ("a", "b", "c")),
    (SET_STRING, ["set", []], ()),
    (SET_UUID, ["uuid", U2], (U2,)),
    (SET_UUID, ["set", [["uuid", U2], ["uuid", U1]]], (U1, U2)),
    (SET_INTEGER_1_4, ["set", [3, 1]], (1, 3)),
    (SMAP, ["map", [["k", "v"], ["a", "b"]]], {"k": "v", "a": "b"}),
    (SMAP, ["map", []], {}),
    (MAP_INT_UUID, ["map", [[1, ["uuid", U1]]]], {1: U1}),
])
def test_decode_gives_the_python_form(ctype: ColumnType, wire: Any, python: Any) -> None:
    assert decoder(ctype)(wire) == python


def test_defaults_per_form_and_fresh_maps() -> None:
    assert default_value(STRING) == ""
    assert default_value(INTEGER) == 0
    assert default_value(REAL) == 0.0
    assert default_value(BOOLEAN) is False
    assert default_value(UUID) == "00000000-0000-0000-0000-000000000000"
    assert default_value(OPT_UUID) is None
    assert default_value(SET_STRING) == ()
    a, b = default_value(SMAP), default_value(SMAP)
    assert a == {} and a is not b


@pytest.mark.parametrize(("ctype", "old", "diff", "new"), [
    (STRING, "a", "b", "b"),
    (UUID, U1, ["uuid", U2], U2),
    (OPT_UUID, None, ["uuid", U1], U1),
    # An optional column's diff is its new value (what ovsdb-server sends).
    (OPT_UUID, U1, ["uuid", U2], U2),
    (OPT_UUID, U1, ["set", []], None),
    (OPT_STRING, "x", "y", "y"),
    (OPT_STRING, "x", ["set", []], None),
    (SET_STRING, ("a", "b"), ["set", ["b", "c"]], ("a", "c")),
    (SET_UUID, (), ["uuid", U3], (U3,)),
    (SMAP, {"keep": "1", "gone": "2", "chg": "3"},
     ["map", [["gone", "2"], ["chg", "30"], ["new", "4"]]],
     {"keep": "1", "chg": "30", "new": "4"}),
])
def test_update2_diff_applies_per_form(ctype: ColumnType, old: Any, diff: Any,
                                       new: Any) -> None:
    assert diff_applier(ctype)(old, diff) == new


def test_map_diff_does_not_touch_the_old_dict() -> None:
    old = {"a": "1"}
    diff_applier(SMAP)(old, ["map", [["a", "1"]]])
    assert old == {"a": "1"}


@pytest.mark.parametrize(("ctype", "python", "wire"), [
    (STRING, "abc", "abc"),
    (INTEGER, 5, 5),
    (REAL, 1, 1.0),
    (BOOLEAN, False, False),
    (UUID, U1, ["uuid", U1]),
    (UUID, "new_row", ["named-uuid", "new_row"]),
    (UUID, NamedUuid("row1"), ["named-uuid", "row1"]),
    (OPT_UUID, None, ["set", []]),
    (OPT_UUID, U1, ["uuid", U1]),
    (OPT_STRING, ["x"], ["set", ["x"]]),
    (SET_STRING, ("a", "b"), ["set", ["a", "b"]]),
    (SET_STRING, "single", ["set", ["single"]]),
    (SET_UUID, [U1, "named"], ["set", [["uuid", U1], ["named-uuid", "named"]]]),
    (SMAP, {"k": "v"}, ["map", [["k", "v"]]]),
    (MAP_INT_UUID, {1: U2}, ["map", [[1, ["uuid", U2]]]]),
])
def test_encode_gives_ovsdb_json(ctype: ColumnType, python: Any, wire: Any) -> None:
    assert encode(ctype, python) == wire


@pytest.mark.parametrize(("ctype", "bad"), [
    (STRING, 1),
    (INTEGER, "1"),
    (INTEGER, True),
    (BOOLEAN, 1),
    (UUID, "not a uuid or name"),
    (UUID, 5),
    (SET_STRING, {"a": "b"}),
    (SMAP, ["a", "b"]),
    (SMAP, {"k": 1}),
])
def test_encode_rejects_values_of_the_wrong_type(ctype: ColumnType, bad: Any) -> None:
    with pytest.raises(OvsdbValueError):
        encode(ctype, bad)


_uuids = st.uuids().map(str)
_text = st.text(max_size=20)


@given(st.one_of(
    st.tuples(st.just(SET_STRING), st.frozensets(_text, max_size=6)),
    st.tuples(st.just(SET_UUID), st.frozensets(_uuids, max_size=6)),
    st.tuples(st.just(SMAP), st.dictionaries(_text, _text, max_size=6)),
    st.tuples(st.just(MAP_INT_UUID), st.dictionaries(st.integers(), _uuids, max_size=6)),
    st.tuples(st.just(OPT_UUID), st.one_of(st.none(), _uuids)),
    st.tuples(st.just(REAL), st.floats(allow_nan=False, allow_infinity=False)),
))
def test_encode_then_decode_is_identity_up_to_form(pair: tuple[ColumnType, Any]) -> None:
    ctype, value = pair
    decoded = decoder(ctype)(encode(ctype, value))
    if ctype.form is Form.SET:
        assert decoded == tuple(sorted(value))
    else:
        assert decoded == value


@given(st.frozensets(_text, max_size=6), st.frozensets(_text, max_size=6))
def test_set_diff_of_symmetric_difference_reaches_new_value(
        old: frozenset[str], new: frozenset[str]) -> None:
    diff = encode(SET_STRING, sorted(old ^ new))
    assert diff_applier(SET_STRING)(tuple(sorted(old)), diff) == tuple(sorted(new))


@given(st.dictionaries(_text, _text, max_size=5), st.dictionaries(_text, _text, max_size=5))
def test_map_diff_as_ovsdb_server_computes_it_reaches_new_value(
        old: dict[str, str], new: dict[str, str]) -> None:
    # ovsdb-server(7) 4.1.14: pairs only in one map, plus changed keys with new values.
    diff = {k: v for k, v in old.items() if k not in new}
    diff.update({k: v for k, v in new.items() if k not in old or old[k] != v})
    assert diff_applier(SMAP)(old, encode(SMAP, diff)) == new


def test_uuid_strings_are_recognised_case_insensitively() -> None:
    upper = str(uuidlib.uuid4()).upper()
    assert encode(UUID, upper) == ["uuid", upper]
