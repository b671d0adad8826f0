"""An in-memory database with the part of :class:`~pyovn.ovsdb.Client` the northd graph
uses (``schema``, ``tables[...].rows``, ``index(...).rows(...)``, ``row``,
``take_changes``), for unit tests that drive the whole graph without processes.

Rows take the same Python forms as the real client's; :meth:`FakeDb.apply_ops` applies
the Insert / Update / Delete ops northd emits, as ovsdb-server would (weak references
to deleted rows are dropped; strong ones are checked).
"""

from __future__ import annotations

import json
import random
import uuid as uuidlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pyovn.ovsdb import Delete, Insert, Op, Row, Schema, TableChanges, Update, Verify
from pyovn.ovsdb.rows import ChangeTracker, make_row_class
from pyovn.ovsdb.schema import Form
from pyovn.ovsdb.values import default_value

__all__ = ["FakeDb"]


class FakeTable:
    """One table: rows by UUID."""

    def __init__(self, name: str, row_class: type[Row]) -> None:
        self.name = name
        self.row_class = row_class
        self.rows: dict[str, Row] = {}


class _ScanIndex:
    """``Index.rows`` by a scan: slow, simple, always right."""

    def __init__(self, table: FakeTable, column: str, form: Form) -> None:
        self.table, self.column, self.form = table, column, form

    def rows(self, value: Any) -> set[Row]:
        out = set()
        for row in self.table.rows.values():
            v = row[self.column]
            if self.form in (Form.SET, Form.MAP):
                if value in v:
                    out.add(row)
            elif v == value:
                out.add(row)
        return out


class FakeDb:
    """An in-memory database (see the module doc)."""

    def __init__(self, schema: str | Path, tables: Mapping[str, Sequence[str] | None],
                 *, seed: int = 0) -> None:
        self.schema = Schema.load(schema)
        self._rng = random.Random(seed)     # row UUIDs: reproducible runs
        self.name = self.schema.name
        raw = json.loads(Path(schema).read_text())
        # (table, column) of strong references, to check like ovsdb-server does.
        self._strong = {(t, c) for t, td in raw["tables"].items()
                        for c, cd in td["columns"].items()
                        if isinstance(cd["type"], dict) and isinstance(
                            cd["type"].get("key"), dict)
                        and "refTable" in cd["type"]["key"]
                        and cd["type"]["key"].get("refType", "strong") == "strong"}
        self.tables: dict[str, FakeTable] = {}
        for name, columns in tables.items():
            ts = self.schema.table(name)
            cols = list(ts.columns) if columns is None else list(columns)
            self.tables[name] = FakeTable(name, make_row_class(name, cols))
        self._changes = ChangeTracker()

    # -- the Client surface ----------------------------------------------------------

    def index(self, table: str, column: str) -> _ScanIndex:
        """Rows of ``table`` by ``column`` value (elements of sets, keys of maps)."""
        return _ScanIndex(self.tables[table], column,
                          self.schema.table(table).column(column).form)

    def row(self, table: str, uuid: str) -> Row | None:
        """Row ``uuid`` of ``table``, or None."""
        return self.tables[table].rows.get(uuid)

    def take_changes(self) -> dict[str, TableChanges]:
        """Changes since the last call."""
        return self._changes.take()

    # -- writing ---------------------------------------------------------------------

    def insert(self, table: str, uuid: str | None = None, **values: Any) -> str:
        """Insert a row (unset columns take their defaults); returns its UUID."""
        t = self.tables[table]
        ts = self.schema.table(table)
        full = {c: values.get(c, default_value(ts.column(c))) for c in t.row_class.columns}
        unknown = set(values) - set(full)
        if unknown:
            raise KeyError(f"{table}: columns not monitored here: {sorted(unknown)}")
        uuid = uuid or str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))
        row = t.row_class.make(uuid, **full)
        t.rows[row.uuid] = row
        self._changes.inserted(table, row)
        return row.uuid

    def update(self, table: str, uuid: str, **values: Any) -> None:
        """Set some columns of a row."""
        t = self.tables[table]
        old = t.rows[uuid]
        new = old.replace(**{c: v for c, v in values.items() if c in t.row_class.columns})
        if new != old:
            t.rows[uuid] = new
            self._changes.modified(table, old, new)

    def delete(self, table: str, uuid: str) -> None:
        """Delete a row, dropping weak references to it elsewhere."""
        row = self.tables[table].rows.pop(uuid)
        self._changes.deleted(table, row)
        for other, t in self.tables.items():
            ts = self.schema.table(other)
            for column in t.row_class.columns:
                ctype = ts.column(column)
                if ctype.key_ref_table != table or (other, column) in self._strong:
                    continue
                for r in list(t.rows.values()):
                    value = r[column]
                    if isinstance(value, tuple) and uuid in value:
                        self.update(other, r.uuid,
                                    **{column: tuple(u for u in value if u != uuid)})
                    elif value == uuid and ctype.form is Form.OPTIONAL:
                        self.update(other, r.uuid, **{column: None})

    def apply_ops(self, ops: Iterable[Op]) -> None:
        """Apply northd's ops, as a successful transaction would."""
        for op in ops:
            if isinstance(op, Insert):
                self.insert(op.table, op.uuid, **dict(op.row))
            elif isinstance(op, Update):
                self.update(op.table, op.uuid, **dict(op.row))
            elif isinstance(op, Delete):
                self.delete(op.table, op.uuid)
            elif isinstance(op, Verify):
                continue  # one writer, no concurrent change: always verified
            else:
                raise NotImplementedError(f"FakeDb cannot apply {op!r}")
        self._check_strong_refs()

    def _check_strong_refs(self) -> None:
        for name, t in self.tables.items():
            ts = self.schema.table(name)
            for column in t.row_class.columns:
                ctype = ts.column(column)
                target = ctype.key_ref_table
                if target is None or target not in self.tables or (
                        name, column) not in self._strong:
                    continue
                for row in t.rows.values():
                    value = row[column]
                    refs = value if isinstance(value, tuple) else (value,)
                    for ref in refs:
                        if ref is not None and ref not in self.tables[target].rows:
                            raise AssertionError(
                                f"{name} {row.uuid}.{column} refers to missing "
                                f"{target} {ref}")
