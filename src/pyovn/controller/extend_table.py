"""Chassis-wide ids for groups and meters, shared by the lflows that use them.

ovn-controller's ``extend_table``: an action that needs an OpenFlow group (``ct_lb_mark``
with backends, ``select``, ``fwd_group``) or a meter (``set_meter``, a named meter)
describes it as text; equal descriptions share one id, which stays with the text as long
as some lflow uses it, and is freed when the last one stops.

Unlike ovn-controller (which numbers descriptions in the order it meets them), a new
description's id is derived from the text — ``crc32(text)`` folded into ``1..max_id``,
then the first free id from there — so that a restarted controller, meeting the
lflows in another order, gives every group and meter the id the switch already has
and sends nothing (DESIGN.md section 6); only two descriptions hashing onto each
other depend on the order.  :meth:`IdTable.use` is called while an lflow is translated;
:meth:`IdTable.keep_only` after, with the texts that translation used, so that a
re-translation that still needs a description keeps its id.
"""

from __future__ import annotations

import zlib

__all__ = ["IdTable"]


class IdTable:
    """Ids by description text, with the lflows using each (see the module docstring)."""

    __slots__ = ("_by_text", "_taken", "_texts_of", "_users", "max_id", "name")

    def __init__(self, name: str, max_id: int = 0xFFFFFFFE) -> None:
        self.name = name
        self.max_id = max_id
        self._by_text: dict[str, int] = {}
        self._taken: set[int] = set()
        self._users: dict[str, set[str]] = {}
        self._texts_of: dict[str, set[str]] = {}

    def use(self, lflow: str, text: str) -> int | None:
        """The id of ``text`` for ``lflow`` (allocated if new); None when none is left."""
        found = self._by_text.get(text)
        if found is None:
            if len(self._taken) >= self.max_id:
                return None
            found = zlib.crc32(text.encode()) % self.max_id + 1
            while found in self._taken:
                found = found % self.max_id + 1
            self._taken.add(found)
            self._by_text[text] = found
        self._users.setdefault(text, set()).add(lflow)
        self._texts_of.setdefault(lflow, set()).add(text)
        return found

    def keep_only(self, lflow: str, texts: set[str]) -> None:
        """``lflow`` uses only ``texts`` now: release the others."""
        held = self._texts_of.get(lflow)
        if not held:
            return
        for text in held - texts:
            self._drop(lflow, text)
        held &= texts
        if not held:
            del self._texts_of[lflow]

    def release(self, lflow: str) -> None:
        """``lflow`` uses nothing any more."""
        self.keep_only(lflow, set())

    def _drop(self, lflow: str, text: str) -> None:
        users = self._users[text]
        users.discard(lflow)
        if not users:
            del self._users[text]
            self._taken.discard(self._by_text.pop(text))

    def id_of(self, text: str) -> int | None:
        """The id ``text`` has, if any lflow uses it."""
        return self._by_text.get(text)

    def __len__(self) -> int:
        return len(self._by_text)
