"""Keeping one Southbound table equal to a desired set of rows, writing only differences.

A :class:`RowSync` holds the *desired* content of each row, by a key that identifies the
row in OVN's terms (a port's name, a switch's NB UUID, an address set's name), and its
own view of what the SB *has*: the row it keeps for each key, with the content of the
columns it owns. :meth:`RowSync.sync` compares the two for some keys and emits the
ops that make the SB match — an update names only the columns that differ; a key
without a row gets a row with a UUID chosen here, so that other rows of the same
transaction can refer to it. Its view is updated as the ops are emitted; the SB's
answer (the change set of the next run) then agrees with it, and anything else in a
change set (another client's write, a deleted row) is repaired by
:meth:`RowSync.sb_changed`.

Rows the SB has under no desired key (stale, duplicates, foreign) are deleted: pyovn-
northd owns these tables, as ovn-northd does.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from pyovn.ovsdb import Delete, Insert, Op, Row, TableChanges, Update

__all__ = ["RowSync"]

K = TypeVar("K", bound=Hashable)


class RowSync(Generic[K]):
    """The desired and actual rows of one SB table (see the module doc).

    ``key_of`` maps an SB row to its key (None: the row belongs to no key and is
    deleted). ``columns`` are the columns compared and written. ``defaults`` are
    columns set on insert and repaired only when the SB has them empty (None), never
    overwritten otherwise (Port_Binding.up belongs to the controller once set).
    """

    def __init__(self, table: str, columns: Iterable[str],
                 key_of: Callable[[Row], K | None],
                 defaults: Mapping[str, Any] | None = None) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.key_of = key_of
        self.defaults = dict(defaults or {})
        self.desired: dict[K, dict[str, Any]] = {}
        self._have: dict[K, tuple[str, dict[str, Any]]] = {}   # key → (uuid, content)
        self._key_of_uuid: dict[str, K] = {}
        self._extra: set[str] = set()       # SB rows under no key, or duplicates
        self._needs_default: set[str] = set()

    # -- the SB side -----------------------------------------------------------------

    def load(self, rows: Iterable[Row]) -> None:
        """Take the SB rows as they are now (at a recompute)."""
        self._have.clear()
        self._key_of_uuid.clear()
        self._extra.clear()
        self._needs_default.clear()
        for row in sorted(rows, key=lambda r: r.uuid):
            self._see(row)

    def _content(self, row: Row) -> dict[str, Any]:
        return {c: row[c] for c in self.columns}

    def _see(self, row: Row) -> K | None:
        key = self.key_of(row)
        if key is None:
            self._extra.add(row.uuid)
            return None
        have = self._have.get(key)
        if have is not None and have[0] != row.uuid:
            # Two rows for one key: keep the one already kept, delete the other.
            self._extra.add(row.uuid)
            return key
        self._have[key] = (row.uuid, self._content(row))
        self._key_of_uuid[row.uuid] = key
        self._check_defaults(row)
        return key

    def _check_defaults(self, row: Row) -> None:
        if any(row[c] is None for c in self.defaults):
            self._needs_default.add(row.uuid)

    def sb_changed(self, changes: TableChanges, ops: list[Op]) -> set[K]:
        """Fold an SB change set into the view and repair what differs from the
        desired rows; returns the keys whose row UUID changed."""
        touched: set[K] = set()
        for uuid in changes.deleted:
            self._extra.discard(uuid)
            self._needs_default.discard(uuid)
            key = self._forget(uuid)
            if key is not None:
                touched.add(key)
        rows = [new for _, new in changes.modified.values()]
        rows.extend(changes.inserted.values())
        for row in rows:
            key = self._key_of_uuid.get(row.uuid)
            if key is not None and self.key_of(row) == key:
                # Our row (or our insert coming back): take its content as it is now.
                self._have[key] = (row.uuid, self._content(row))
                self._check_defaults(row)
                touched.add(key)
                continue
            if key is not None:
                self._forget(row.uuid)
                touched.add(key)
            self._extra.discard(row.uuid)
            new_key = self._see(row)
            if new_key is not None:
                touched.add(new_key)
        return self.sync(touched, ops)

    def _forget(self, uuid: str) -> K | None:
        key = self._key_of_uuid.pop(uuid, None)
        if key is not None and self._have.get(key, ("",))[0] == uuid:
            del self._have[key]
        return key

    # -- syncing ---------------------------------------------------------------------

    def uuid(self, key: K) -> str | None:
        """The SB row UUID kept (or being inserted) for ``key``."""
        have = self._have.get(key)
        return have[0] if have is not None else None

    def keys(self) -> Iterable[K]:
        """Every key with a desired row."""
        return self.desired.keys()

    def sync(self, keys: Iterable[K], ops: list[Op]) -> set[K]:
        """Emit the ops that make the rows of ``keys`` as desired, and delete rows
        that belong to no key; returns the keys whose row UUID changed."""
        changed: set[K] = set()
        for key in keys:
            want = self.desired.get(key)
            have = self._have.get(key)
            if want is None:
                if have is not None:
                    ops.append(Delete(self.table, have[0]))
                    del self._have[key]
                    self._key_of_uuid.pop(have[0], None)
                    changed.add(key)
                continue
            if have is None:
                new_uuid = str(uuidlib.uuid4())
                ops.append(Insert(self.table, {**self.defaults, **want}, uuid=new_uuid))
                self._have[key] = (new_uuid, dict(want))
                self._key_of_uuid[new_uuid] = key
                changed.add(key)
                continue
            uuid, content = have
            diff = {c: v for c, v in want.items() if content.get(c) != v}
            if uuid in self._needs_default:
                self._needs_default.discard(uuid)
                diff.update(self.defaults)
            if diff:
                ops.append(Update(self.table, uuid, diff))
                self._have[key] = (uuid, {**content, **diff})
        for uuid in sorted(self._extra):
            ops.append(Delete(self.table, uuid))
        self._extra.clear()
        return changed

    def sync_all(self, ops: list[Op]) -> set[K]:
        """:meth:`sync` every key, desired or present."""
        return self.sync(set(self.desired) | set(self._have), ops)
