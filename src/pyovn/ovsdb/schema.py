"""The schema model: which tables and columns a database has, and each column's type form.

A column's *form* decides how its values look in Python (see :mod:`pyovn.ovsdb.values`):

- ``SCALAR``   (min = max = 1, no value type)   → the atom
- ``OPTIONAL`` (min = 0, max = 1, no value type) → the atom or None
- ``SET``      (max > 1 or unlimited)           → tuple of atoms, sorted
- ``MAP``      (a value type)                   → dict

Parsing and validation of schema files is done by the ``ovs`` package
(:class:`ovs.db.schema.DbSchema`); this module only keeps what the client needs, in
frozen objects that are cheap to consult on the hot path.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ovs.db.error
import ovs.db.schema

from pyovn.ovsdb.errors import SchemaError

__all__ = ["ColumnType", "Form", "Schema", "TableSchema"]

#: The atomic types of RFC 7047.
ATOMIC_TYPES = ("integer", "real", "boolean", "string", "uuid")


class Form(enum.Enum):
    """How a column's values are shaped (decided by min, max and the value type)."""

    SCALAR = "scalar"
    OPTIONAL = "optional"
    SET = "set"
    MAP = "map"


@dataclass(frozen=True, slots=True)
class ColumnType:
    """The type of one column: atomic key (and value) types, bounds, referenced tables."""

    key: str
    value: str | None = None
    n_min: int = 1
    n_max: int = 1
    key_ref_table: str | None = None
    value_ref_table: str | None = None
    form: Form = field(init=False)

    def __post_init__(self) -> None:
        if self.key not in ATOMIC_TYPES or (
                self.value is not None and self.value not in ATOMIC_TYPES):
            raise SchemaError(f"unknown atomic type in {self.key}/{self.value}")
        if self.value is not None:
            form = Form.MAP
        elif self.n_min == 1 and self.n_max == 1:
            form = Form.SCALAR
        elif self.n_max == 1:
            form = Form.OPTIONAL
        else:
            form = Form.SET
        object.__setattr__(self, "form", form)

    @classmethod
    def from_ovs(cls, type_: Any) -> ColumnType:
        """Build from an :class:`ovs.db.types.Type`."""
        value = type_.value
        return cls(
            key=type_.key.type.to_string(),
            value=None if value is None else value.type.to_string(),
            n_min=type_.n_min,
            n_max=type_.n_max,
            key_ref_table=type_.key.ref_table_name,
            value_ref_table=None if value is None else value.ref_table_name,
        )

    @property
    def unlimited(self) -> bool:
        """Whether the column holds any number of elements (``"max": "unlimited"``)."""
        return self.n_max >= sys.maxsize


#: The type of the ``_uuid`` pseudo-column every table has.
UUID_TYPE = ColumnType("uuid")


@dataclass(frozen=True, slots=True)
class TableSchema:
    """A table's name and its columns' types (without ``_uuid`` / ``_version``)."""

    name: str
    columns: Mapping[str, ColumnType]
    is_root: bool = True

    def column(self, name: str) -> ColumnType:
        """The type of column ``name`` (``_uuid`` included); SchemaError if unknown."""
        if name == "_uuid":
            return UUID_TYPE
        try:
            return self.columns[name]
        except KeyError:
            raise SchemaError(f"table {self.name} has no column {name!r}") from None


@dataclass(frozen=True, slots=True)
class Schema:
    """A database schema: its name, version and tables."""

    name: str
    version: str
    tables: Mapping[str, TableSchema]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Schema:
        """Build from a parsed ``.ovsschema`` (or a ``get_schema`` reply)."""
        try:
            db = ovs.db.schema.DbSchema.from_json(dict(data), allow_extensions=True)
        except ovs.db.error.Error as exc:
            raise SchemaError(f"bad schema: {exc}") from exc
        return cls.from_ovs(db)

    @classmethod
    def from_ovs(cls, db: Any) -> Schema:
        """Build from an :class:`ovs.db.schema.DbSchema`."""
        tables = {
            name: TableSchema(
                name,
                {cname: ColumnType.from_ovs(col.type) for cname, col in t.columns.items()},
                bool(t.is_root),
            )
            for name, t in db.tables.items()
        }
        return cls(db.name, str(db.version or ""), tables)

    @classmethod
    def from_file(cls, path: str | Path) -> Schema:
        """Read a ``.ovsschema`` file."""
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            raise SchemaError(f"cannot read schema {path}: {exc}") from exc
        return cls.from_json(data)

    @classmethod
    def load(cls, schema: str | Path | Schema) -> Schema:
        """Accept what :class:`~pyovn.ovsdb.Client` accepts: a Schema or a file path."""
        if isinstance(schema, Schema):
            return schema
        return cls.from_file(schema)

    def table(self, name: str) -> TableSchema:
        """The table ``name``; SchemaError if the schema has none."""
        try:
            return self.tables[name]
        except KeyError:
            raise SchemaError(f"schema {self.name} has no table {name!r}") from None
