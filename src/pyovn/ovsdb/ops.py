"""Transaction operations (RFC 7047 section 5.2), built from Python values.

An op is a small frozen description; :func:`op_to_json` encodes it for the wire using
the schema (so values take the Python forms of :mod:`pyovn.ovsdb.values`) and, for
:class:`Verify`, the client's current view of the row. Ops that name a row take its
UUID; rows inserted by the same transaction are referred to by their ``uuid_name``
(a :class:`~pyovn.ovsdb.values.NamedUuid`, or any str that is not a UUID).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyovn.ovsdb.errors import OvsdbValueError, SchemaError
from pyovn.ovsdb.rows import Row
from pyovn.ovsdb.schema import ColumnType, Form, Schema, TableSchema
from pyovn.ovsdb.values import atom_to_json, encode, encode_map, encode_set, is_uuid

__all__ = [
    "Assert",
    "Comment",
    "Delete",
    "Insert",
    "Mutate",
    "Op",
    "Update",
    "Verify",
    "Wait",
    "op_to_json",
]

#: Looks a row up in the client's current view: (table, uuid) → Row or None.
RowLookup = Callable[[str, str], Row | None]

_MUTATORS = frozenset({"+=", "-=", "*=", "/=", "%=", "insert", "delete"})
_FUNCTIONS = frozenset({"<", "<=", "==", "!=", ">=", ">", "includes", "excludes"})


@dataclass(frozen=True, slots=True)
class Insert:
    """Insert ``row`` (column → Python value) into ``table``.

    ``uuid`` asks the server to give the row that UUID (ovsdb-server ≥ 2.13);
    ``uuid_name`` lets later ops of the transaction refer to the row, and the
    transaction's ``inserted_uuids`` report the UUID it got.
    """

    table: str
    row: Mapping[str, Any]
    uuid: str | None = None
    uuid_name: str | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """Set the given columns of row ``uuid`` of ``table``."""

    table: str
    uuid: str
    row: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete row ``uuid`` of ``table``."""

    table: str
    uuid: str


@dataclass(frozen=True, slots=True)
class Mutate:
    """Mutate row ``uuid`` of ``table``: each mutation is (column, mutator, value).

    Mutators are RFC 7047's (``insert``, ``delete``, ``+=`` …). For ``insert``/``delete``
    on a set the value is an iterable of elements (or one atom); on a map, ``insert``
    takes a mapping and ``delete`` a mapping (pairs) or an iterable of keys.
    """

    table: str
    uuid: str
    mutations: Sequence[tuple[str, str, Any]]


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait until the rows of ``table`` matching ``where`` (column, function, value)
    have, in ``columns``, exactly (``until="=="``) or not (``"!="``) the given ``rows``.
    With ``timeout=0`` (default) a mismatch fails the transaction at once with
    TRY_AGAIN."""

    table: str
    where: Sequence[tuple[str, str, Any]]
    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    until: str = "=="
    timeout: int = 0


@dataclass(frozen=True, slots=True)
class Verify:
    """Fail the transaction with TRY_AGAIN unless ``columns`` of row ``uuid`` still have
    the values the client sees now (or the row is still absent, if it sees none)."""

    table: str
    uuid: str
    columns: Sequence[str]


@dataclass(frozen=True, slots=True)
class Comment:
    """Add ``text`` to the server's log of this transaction."""

    text: str


@dataclass(frozen=True, slots=True)
class Assert:
    """Fail the transaction (NOT_LOCKED) unless this session holds ``lock``. A client
    with a lock adds it to each of its transactions itself."""

    lock: str


Op = Insert | Update | Delete | Mutate | Wait | Verify | Comment | Assert


def _where_uuid(uuid: str) -> list[Any]:
    return [["_uuid", "==", atom_to_json("uuid", uuid)]]


def _table(schema: Schema, name: str) -> TableSchema:
    return schema.table(name)


def _row_json(ts: TableSchema, row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for column, value in row.items():
        try:
            out[column] = encode(ts.column(column), value)
        except OvsdbValueError as exc:
            raise OvsdbValueError(f"{ts.name}.{column}: {exc}") from None
    return out


def _mutation_json(ts: TableSchema, column: str, mutator: str, value: Any) -> list[Any]:
    if mutator not in _MUTATORS:
        raise OvsdbValueError(f"unknown mutator {mutator!r}")
    ctype = ts.column(column)
    try:
        if mutator in ("insert", "delete") and ctype.form is not Form.SCALAR:
            if ctype.form is Form.MAP:
                if mutator == "delete" and not isinstance(value, Mapping):
                    arg = encode_set(ctype.key, value)
                else:
                    arg = encode_map(ctype, value)
            else:
                arg = encode_set(ctype.key, value)
        else:
            arg = atom_to_json(ctype.key, value)
    except OvsdbValueError as exc:
        raise OvsdbValueError(f"{ts.name}.{column} {mutator}: {exc}") from None
    return [column, mutator, arg]


def condition_json(ts: TableSchema, column: str, function: str, value: Any) -> list[Any]:
    """Encode one RFC 7047 condition ``[column, function, value]`` for table ``ts``."""
    if function not in _FUNCTIONS:
        raise OvsdbValueError(f"unknown condition function {function!r}")
    ctype: ColumnType = ts.column(column)
    try:
        if ctype.form in (Form.SCALAR, Form.OPTIONAL) and function not in (
                "includes", "excludes") and value is not None:
            arg = atom_to_json(ctype.key, value)
        else:
            arg = encode(ctype, value)
    except OvsdbValueError as exc:
        raise OvsdbValueError(f"{ts.name}.{column} {function}: {exc}") from None
    return [column, function, arg]


def op_to_json(op: Op, schema: Schema, lookup: RowLookup) -> dict[str, Any]:
    """Encode ``op``; ``lookup`` gives the client's current row for :class:`Verify`."""
    if isinstance(op, Assert):
        return {"op": "assert", "lock": op.lock}
    if isinstance(op, Comment):
        return {"op": "comment", "comment": op.text}
    ts = _table(schema, op.table)
    if isinstance(op, Insert):
        j: dict[str, Any] = {"op": "insert", "table": op.table, "row": _row_json(ts, op.row)}
        if op.uuid is not None:
            if not is_uuid(op.uuid):
                raise OvsdbValueError(f"insert into {op.table}: {op.uuid!r} is not a UUID")
            j["uuid"] = op.uuid
        if op.uuid_name is not None:
            j["uuid-name"] = op.uuid_name
        return j
    if isinstance(op, Update):
        return {"op": "update", "table": op.table, "where": _where_uuid(op.uuid),
                "row": _row_json(ts, op.row)}
    if isinstance(op, Delete):
        return {"op": "delete", "table": op.table, "where": _where_uuid(op.uuid)}
    if isinstance(op, Mutate):
        return {"op": "mutate", "table": op.table, "where": _where_uuid(op.uuid),
                "mutations": [_mutation_json(ts, c, m, v) for c, m, v in op.mutations]}
    if isinstance(op, Wait):
        if op.until not in ("==", "!="):
            raise OvsdbValueError(f"wait: until must be '==' or '!=', not {op.until!r}")
        return {"op": "wait", "table": op.table, "timeout": op.timeout,
                "where": [condition_json(ts, c, f, v) for c, f, v in op.where],
                "columns": list(op.columns), "until": op.until,
                "rows": [_row_json(ts, r) for r in op.rows]}
    if isinstance(op, Verify):
        for c in op.columns:
            ts.column(c)
        current = lookup(op.table, op.uuid)
        rows = []
        if current is not None:
            try:
                rows = [_row_json(ts, {c: current[c] for c in op.columns})]
            except KeyError as exc:
                raise SchemaError(f"verify {op.table}.{exc.args[0]}: column not monitored"
                                  ) from None
        return {"op": "wait", "table": op.table, "timeout": 0,
                "where": _where_uuid(op.uuid), "columns": list(op.columns),
                "until": "==", "rows": rows}
    raise TypeError(f"not an op: {op!r}")


def describe(op: Op) -> str:
    """A short human description of ``op`` for error messages."""
    if isinstance(op, Insert):
        return f"insert into {op.table}"
    if isinstance(op, Update):
        return f"update of {op.table} {op.uuid}"
    if isinstance(op, Delete):
        return f"delete from {op.table} {op.uuid}"
    if isinstance(op, Mutate):
        return f"mutate of {op.table} {op.uuid}"
    if isinstance(op, Wait):
        return f"wait on {op.table}"
    if isinstance(op, Verify):
        return f"verify of {op.table} {op.uuid} {list(op.columns)}"
    if isinstance(op, Comment):
        return "comment"
    return f"assert of lock {op.lock}"
