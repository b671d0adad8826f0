"""The client's copy of the monitored tables, fed by monitor replies and notifications.

Sans-I/O: :class:`Replica` takes decoded ``<table-updates>`` (monitor),
``<table-updates2>`` (monitor_cond, monitor_cond_since) and full snapshots, updates
:attr:`Table.rows`, the indexes and the change tracker, and bumps ``seqno``.

After a reconnect the server may send the whole database again (``monitor_cond_since``
did not find our last transaction, or the server has no history). :meth:`Replica.load`
then compares the snapshot with what the replica had, so the change sets hold exactly
the difference, and unchanged rows keep their Row objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyovn.ovsdb.index import Index
from pyovn.ovsdb.rows import ChangeTracker, Row, make_row_class
from pyovn.ovsdb.schema import Schema, TableSchema
from pyovn.ovsdb.values import (
    Decoder,
    DiffApplier,
    decoder,
    default_value,
    diff_applier,
    identity,
)

__all__ = ["Replica", "Table"]

log = logging.getLogger(__name__)


class Table:
    """One monitored table: ``rows`` (UUID → Row) and the columns the client monitors.

    ``build(uuid, row_json)`` makes a Row from a ``<row>`` JSON object, absent columns
    taking their type's default.
    """

    __slots__ = ("_appliers", "_decoders", "build", "indexes", "name", "row_class",
                 "rows", "schema")

    def __init__(self, schema: TableSchema, columns: Sequence[str]) -> None:
        self.name = schema.name
        self.schema = schema
        self.rows: dict[str, Row] = {}
        self.row_class: type[Row] = make_row_class(schema.name, columns)
        self.indexes: dict[str, Index] = {}
        types = [schema.column(c) for c in columns]
        self._decoders: dict[str, Decoder] = {c: decoder(t) for c, t in zip(columns, types,
                                                                            strict=True)}
        self._appliers: dict[str, DiffApplier] = {
            c: diff_applier(t) for c, t in zip(columns, types, strict=True)}
        self.build: Callable[[str, Mapping[str, Any]], Row] = _compile_builder(
            self.row_class, [(c, self._decoders[c], default_value(t))
                             for c, t in zip(columns, types, strict=True)])

    @property
    def columns(self) -> tuple[str, ...]:
        """The monitored columns (the row slots)."""
        return self.row_class.columns

    def apply_diff(self, old: Row, diff: Mapping[str, Any]) -> Row:
        """A new Row: ``old`` with an update2 ``modify`` difference applied."""
        changes = {}
        appliers = self._appliers
        for column, d in diff.items():
            apply = appliers.get(column)
            if apply is not None:
                changes[column] = apply(old[column], d)
        return old.replace(**changes)

    def apply_columns(self, old: Row, data: Mapping[str, Any]) -> Row:
        """A new Row: ``old`` with the given columns replaced by new JSON values."""
        decoders = self._decoders
        changes = {c: decoders[c](j) for c, j in data.items() if c in decoders}
        return old.replace(**changes)


def _compile_builder(row_class: type[Row], plan: Sequence[tuple[str, Decoder, Any]]
                     ) -> Callable[[str, Mapping[str, Any]], Row]:
    """Generate the row constructor of one table.

    Loading a Southbound builds a few hundred thousand column values; straight-line
    code with the identity decoders (strings, integers, booleans) inlined is about twice
    as fast as a loop over the columns, as dataclasses and attrs also find.
    """
    namespace: dict[str, Any] = {"_cls": row_class, "_new": object.__new__}
    lines = ["def build(uuid, data):", "    row = _new(_cls)", "    row.uuid = uuid",
             "    get = data.get"]
    for i, ((column, dec, default), slot) in enumerate(
            zip(plan, row_class.__slots__, strict=True)):
        fresh = isinstance(default, dict)
        namespace[f"_d{i}"] = dec
        namespace[f"_v{i}"] = default
        value_of_missing = "{}" if fresh else f"_v{i}"
        if dec is identity and not fresh:
            lines.append(f"    row.{slot} = get({column!r}, _v{i})")
        else:
            lines += [f"    v = get({column!r})",
                      f"    row.{slot} = {value_of_missing} if v is None else _d{i}(v)"]
    lines.append("    return row")
    # Only our own code: column names are schema identifiers, quoted with repr().
    exec("\n".join(lines), namespace)
    build: Callable[[str, Mapping[str, Any]], Row] = namespace["build"]
    return build


class Replica:
    """The monitored tables of one database, with change tracking and indexes."""

    def __init__(self, schema: Schema, tables: Mapping[str, Sequence[str] | None],
                 *, track_changes: bool = True) -> None:
        self.schema = schema
        self.tables: dict[str, Table] = {}
        for name, columns in tables.items():
            ts = schema.table(name)
            cols = list(ts.columns) if columns is None else list(columns)
            for c in cols:
                ts.column(c)  # SchemaError for an unknown column
            self.tables[name] = Table(ts, cols)
        self.changes = ChangeTracker(track_changes)
        self.seqno = 0

    # --- indexes -----------------------------------------------------------------

    def index(self, table: str, column: str) -> Index:
        """The index of ``table`` by ``column``, built on first use."""
        t = self.tables[table]
        idx = t.indexes.get(column)
        if idx is None:
            if column not in t.row_class._slot_of:
                raise KeyError(f"{table}.{column} is not monitored")
            idx = Index(table, column, t.schema.column(column), t.rows.values())
            t.indexes[column] = idx
        return idx

    # --- row events (keep rows, indexes and changes in step) ------------------------

    def _insert(self, t: Table, row: Row) -> None:
        t.rows[row.uuid] = row
        for idx in t.indexes.values():
            idx.add(row)
        self.changes.inserted(t.name, row)

    def _modify(self, t: Table, old: Row, new: Row) -> None:
        t.rows[new.uuid] = new
        for idx in t.indexes.values():
            idx.replace(old, new)
        self.changes.modified(t.name, old, new)

    def _delete(self, t: Table, old: Row) -> None:
        del t.rows[old.uuid]
        for idx in t.indexes.values():
            idx.remove(old)
        self.changes.deleted(t.name, old)

    # --- feeding ------------------------------------------------------------------

    def apply_updates2(self, updates: Mapping[str, Any]) -> None:
        """Apply a ``<table-updates2>`` (update2/update3 notification, or the reply of a
        monitor_cond_since that found our last transaction)."""
        for tname, rows in updates.items():
            t = self.tables.get(tname)
            if t is None:
                continue
            for uuid, ru in rows.items():
                for kind, data in ru.items():
                    self._apply_row_update2(t, uuid, kind, data)
        self.seqno += 1

    def _apply_row_update2(self, t: Table, uuid: str, kind: str, data: Any) -> None:
        old = t.rows.get(uuid)
        if kind == "modify":
            if old is None:
                log.warning("%s: modify of unknown row %s ignored", t.name, uuid)
            else:
                self._modify(t, old, t.apply_diff(old, data))
        elif kind in ("insert", "initial"):
            new = t.build(uuid, data)
            if old is None:
                self._insert(t, new)
            else:
                self._modify(t, old, new)
        elif kind == "delete":
            if old is not None:
                self._delete(t, old)
        else:
            log.warning("%s: unknown row update %r for %s ignored", t.name, kind, uuid)

    def apply_updates(self, updates: Mapping[str, Any]) -> None:
        """Apply a ``<table-updates>`` of the original ``monitor`` method."""
        for tname, rows in updates.items():
            t = self.tables.get(tname)
            if t is None:
                continue
            for uuid, ru in rows.items():
                new_json = ru.get("new")
                old = t.rows.get(uuid)
                if new_json is None:
                    if old is not None:
                        self._delete(t, old)
                elif old is None:
                    self._insert(t, t.build(uuid, new_json))
                else:
                    self._modify(t, old, t.apply_columns(old, new_json))
        self.seqno += 1

    def load(self, snapshot: Mapping[str, Any], *, updates2: bool = True) -> None:
        """Replace the contents by a full snapshot (``initial`` rows of updates2 form,
        or ``new`` rows of the original monitor), recording only the difference."""
        key = "initial" if updates2 else "new"
        for t in self.tables.values():
            rows_json = snapshot.get(t.name) or {}
            if not t.rows:
                self._load_into_empty(t, rows_json, key)
                continue
            seen: set[str] = set()
            for uuid, ru in rows_json.items():
                data = ru.get(key)
                if data is None:
                    data = ru.get("insert") if updates2 else None
                if data is None:
                    continue
                seen.add(uuid)
                new = t.build(uuid, data)
                old = t.rows.get(uuid)
                if old is None:
                    self._insert(t, new)
                elif old != new:
                    self._modify(t, old, new)
            for uuid in [u for u in t.rows if u not in seen]:
                self._delete(t, t.rows[uuid])
        self.seqno += 1

    def _load_into_empty(self, t: Table, rows_json: Any, key: str) -> None:
        build = t.build
        rows = t.rows
        track: Callable[[str, Row], None] = self.changes.inserted
        # Popping frees each row's JSON as its Row is made, so the decoded message and
        # the replica are never both whole in memory (the message is ours to consume).
        popitem = rows_json.popitem
        for _ in range(len(rows_json)):
            uuid, ru = popitem()
            data = ru.get(key)
            if data is None:
                data = ru.get("insert")
                if data is None:
                    continue
            row = build(uuid, data)
            rows[uuid] = row
            track(t.name, row)
        for idx in t.indexes.values():
            for row in rows.values():
                idx.add(row)

    def clear(self) -> None:
        """Drop every row, recording them as deleted."""
        for t in self.tables.values():
            for row in list(t.rows.values()):
                self._delete(t, row)
        self.seqno += 1
