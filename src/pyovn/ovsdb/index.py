"""Secondary indexes: column value → rows, maintained incrementally by the replica.

The key of a row depends on the column's form: a scalar or optional column indexes the
row under its value (None included, for an empty optional column); a set column under
each of its elements (no key when empty); a map column under each of its keys. So
``client.index("Port_Binding", "datapath")[dp_uuid]`` gives a datapath's ports and
``client.index("Port_Group", "ports")[lsp_uuid]`` the groups a port is in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from pyovn.ovsdb.rows import Row
from pyovn.ovsdb.schema import ColumnType, Form

__all__ = ["Index"]

_EMPTY: frozenset[Row] = frozenset()


def _keys_getter(ctype: ColumnType) -> Callable[[Any], Iterable[Any]]:
    if ctype.form in (Form.SCALAR, Form.OPTIONAL):
        return lambda v: (v,)
    return lambda v: v  # a tuple's elements, a dict's keys


class Index(Mapping[Any, AbstractSet[Row]]):
    """A read-only mapping from a column value to the set of rows that have it.

    Lookups of absent values raise KeyError as a Mapping should; :meth:`rows` returns an
    empty set instead. The sets are live: treat them as read-only and copy them before
    changing the database from inside a loop over one.
    """

    __slots__ = ("_keys", "_map", "column", "table")

    def __init__(self, table: str, column: str, ctype: ColumnType,
                 rows: Iterable[Row] = ()) -> None:
        self.table = table
        self.column = column
        self._keys = _keys_getter(ctype)
        self._map: dict[Any, set[Row]] = {}
        for row in rows:
            self.add(row)

    def add(self, row: Row) -> None:
        """Index ``row`` (called by the replica)."""
        m = self._map
        for key in self._keys(row[self.column]):
            bucket = m.get(key)
            if bucket is None:
                m[key] = {row}
            else:
                bucket.add(row)

    def remove(self, row: Row) -> None:
        """Forget ``row`` (called by the replica)."""
        m = self._map
        for key in self._keys(row[self.column]):
            bucket = m.get(key)
            if bucket is not None:
                bucket.discard(row)
                if not bucket:
                    del m[key]

    def replace(self, old: Row, new: Row) -> None:
        """Move a modified row from its old keys to its new ones."""
        if old[self.column] == new[self.column]:
            # Same keys: only the row object in each bucket changes.
            for key in self._keys(new[self.column]):
                bucket = self._map[key]
                bucket.discard(old)
                bucket.add(new)
            return
        self.remove(old)
        self.add(new)

    def clear(self) -> None:
        """Forget every row."""
        self._map.clear()

    def rows(self, value: Any) -> AbstractSet[Row]:
        """The rows whose column has ``value`` (an empty set if none)."""
        return self._map.get(value, _EMPTY)

    def __getitem__(self, value: Any) -> AbstractSet[Row]:
        return self._map[value]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, value: object) -> bool:
        return value in self._map

    def __repr__(self) -> str:
        return f"Index({self.table}.{self.column}, {len(self._map)} values)"
