"""Rows as immutable snapshots, and the change sets built from them.

A :class:`Row` is one version of one database row. Each monitored table gets its own
subclass whose ``__slots__`` are ``uuid`` plus the monitored columns, so a row costs a
few machine words per column and no per-row dict. A modification never touches a Row:
it makes a new one, so a change set can hold the old and the new version side by side.

:class:`ChangeTracker` coalesces what happened to each row since the last
:meth:`ChangeTracker.take` into one :class:`TableChanges` per table.
"""

from __future__ import annotations

import keyword
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["ChangeTracker", "Row", "TableChanges", "columns_getter", "make_row_class"]


class Row:
    """One version of a row: ``row.uuid``, ``row["column"]``, ``row.get("column")``.

    Values have the Python form of their column type (see :mod:`pyovn.ovsdb.values`).
    Rows are snapshots: never assign to them, and treat map values (dicts) as
    read-only. Two rows are equal when they are the same version of the same row
    (same table, UUID and values); the hash is the UUID's.
    """

    __slots__ = ("uuid",)

    uuid: str
    #: The table this class of rows belongs to.
    table: ClassVar[str] = ""
    #: The monitored column names, in slot order.
    columns: ClassVar[tuple[str, ...]] = ()
    #: Column name → slot name (they differ only where a column name is reserved).
    _slot_of: ClassVar[dict[str, str]] = {}
    #: Returns the tuple of all column values, in ``columns`` order (C speed). Typed Any:
    #: a callable class attribute would be taken for a method.
    _values_of: ClassVar[Any]

    @classmethod
    def make(cls, uuid: str, **values: Any) -> Row:
        """A row of this class with every column given (by column name); for tests and
        for building rows outside a replica."""
        missing = [c for c in cls.columns if c not in values]
        unknown = [c for c in values if c not in cls._slot_of]
        if missing or unknown:
            raise TypeError(f"{cls.table}: missing columns {missing}, unknown {unknown}")
        row = cls.__new__(cls)
        row.uuid = uuid
        for column, slot in cls._slot_of.items():
            setattr(row, slot, values[column])
        return row

    def __getitem__(self, column: str) -> Any:
        try:
            return getattr(self, self._slot_of[column])
        except KeyError:
            raise KeyError(column) from None

    def get(self, column: str, default: Any = None) -> Any:
        """The value of ``column``, or ``default`` if this table has no such column."""
        slot = self._slot_of.get(column)
        return default if slot is None else getattr(self, slot)

    def __contains__(self, column: object) -> bool:
        return column in self._slot_of

    def values(self) -> tuple[Any, ...]:
        """All column values, in :attr:`columns` order."""
        values: tuple[Any, ...] = self._values_of(self)
        return values

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict of column → value (for logs and tests)."""
        return dict(zip(self.columns, self._values_of(self), strict=True))

    def replace(self, **changes: Any) -> Row:
        """A new version of this row with some columns changed (by column name)."""
        new = _copy_row(self)
        for column, value in changes.items():
            try:
                setattr(new, self._slot_of[column], value)
            except KeyError:
                raise KeyError(column) from None
        return new

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Row)
        return self.uuid == other.uuid and self._values_of(self) == self._values_of(other)

    def __hash__(self) -> int:
        return hash(self.uuid)

    def __repr__(self) -> str:
        cols = ", ".join(f"{c}={v!r}" for c, v in zip(self.columns, self.values(),
                                                        strict=True))
        return f"{self.table}({self.uuid}, {cols})"


_RESERVED = frozenset(dir(Row)) | {"uuid"}


def _slot_name(column: str) -> str:
    if column in _RESERVED or keyword.iskeyword(column) or column.startswith("__"):
        return f"c_{column}"
    return column


def make_row_class(table: str, columns: Sequence[str]) -> type[Row]:
    """A :class:`Row` subclass for ``table`` with one slot per column in ``columns``."""
    slots = tuple(_slot_name(c) for c in columns)
    if len(set(slots)) != len(slots) or "uuid" in slots:
        raise ValueError(f"clashing column names in {table}: {columns}")
    getter: Callable[[Any], Any]
    if len(slots) == 0:
        def getter(_row: Any) -> tuple[Any, ...]:
            return ()
    elif len(slots) == 1:
        one = operator.attrgetter(slots[0])

        def getter(row: Any) -> tuple[Any, ...]:
            return (one(row),)
    else:
        getter = operator.attrgetter(*slots)
    namespace: dict[str, Any] = {
        "__slots__": slots,
        "table": table,
        "columns": tuple(columns),
        "_slot_of": dict(zip(columns, slots, strict=True)),
        "_values_of": staticmethod(getter),
        "__module__": __name__,
    }
    return type(f"{table}Row", (Row,), namespace)


_GETTERS: dict[tuple[type[Row], tuple[str, ...]], Callable[[Row], tuple[Any, ...]]] = {}


def columns_getter(row_class: type[Row], columns: tuple[str, ...]
                   ) -> Callable[[Row], tuple[Any, ...]]:
    """A reader of several columns of rows of ``row_class`` at once, as a tuple: one C
    call instead of one ``row[column]`` each, for loops over thousands of rows.
    Raises KeyError for a column the class does not have."""
    getter = _GETTERS.get((row_class, columns))
    if getter is None:
        slots = [row_class._slot_of[c] for c in columns]
        if len(slots) == 1:
            one = operator.attrgetter(slots[0])

            def getter(row: Row) -> tuple[Any, ...]:
                return (one(row),)
        else:
            getter = operator.attrgetter(*slots)
        _GETTERS[(row_class, columns)] = getter
    return getter


def _copy_row(row: Row) -> Row:
    cls = row.__class__
    new = cls.__new__(cls)
    new.uuid = row.uuid
    for slot, value in zip(cls.__slots__, row.values(), strict=True):
        setattr(new, slot, value)
    return new


@dataclass(slots=True)
class TableChanges:
    """What changed in one table: inserted and deleted rows by UUID, and modified rows
    as (old, new). A row appears in at most one of the three dicts."""

    table: str
    inserted: dict[str, Row] = field(default_factory=dict)
    modified: dict[str, tuple[Row, Row]] = field(default_factory=dict)
    deleted: dict[str, Row] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.inserted or self.modified or self.deleted)

    def __len__(self) -> int:
        return len(self.inserted) + len(self.modified) + len(self.deleted)


class ChangeTracker:
    """Accumulates row events per table, coalesced per row, until :meth:`take`.

    insert+modify → insert of the newest; insert+delete → nothing; modify+modify →
    (first old, last new), dropped if that is no change; modify+delete → delete of the
    first old; delete+insert (same UUID) → modify, dropped if identical.
    """

    __slots__ = ("_changes", "enabled")

    def __init__(self, enabled: bool = True) -> None:
        self._changes: dict[str, TableChanges] = {}
        self.enabled = enabled

    def _of(self, table: str) -> TableChanges:
        tc = self._changes.get(table)
        if tc is None:
            tc = self._changes[table] = TableChanges(table)
        return tc

    def inserted(self, table: str, row: Row) -> None:
        """Record that ``row`` appeared."""
        if not self.enabled:
            return
        tc = self._of(table)
        old = tc.deleted.pop(row.uuid, None)
        if old is None:
            tc.inserted[row.uuid] = row
        elif old != row:
            tc.modified[row.uuid] = (old, row)

    def modified(self, table: str, old: Row, new: Row) -> None:
        """Record that ``old`` became ``new``."""
        if not self.enabled:
            return
        tc = self._of(table)
        uuid = new.uuid
        if uuid in tc.inserted:
            tc.inserted[uuid] = new
            return
        prev = tc.modified.get(uuid)
        first = old if prev is None else prev[0]
        if first == new:
            tc.modified.pop(uuid, None)
        else:
            tc.modified[uuid] = (first, new)

    def deleted(self, table: str, row: Row) -> None:
        """Record that ``row`` disappeared."""
        if not self.enabled:
            return
        tc = self._of(table)
        uuid = row.uuid
        if tc.inserted.pop(uuid, None) is not None:
            return
        prev = tc.modified.pop(uuid, None)
        tc.deleted[uuid] = row if prev is None else prev[0]

    def take(self) -> dict[str, TableChanges]:
        """The non-empty change sets accumulated so far; starts afresh."""
        out = {name: tc for name, tc in self._changes.items() if tc}
        self._changes = {}
        return out

    def __iter__(self) -> Iterator[TableChanges]:
        return iter(self._changes.values())
