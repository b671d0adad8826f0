"""Chassis-wide ids for groups and meters, shared by the lflows that use them.

ovn-controller's ``extend_table``: an action that needs an OpenFlow group (``ct_lb_mark``
with backends, ``select``, ``fwd_group``) or a meter (``set_meter``, a named meter)
describes it as text; equal descriptions share one id, which stays with the text as long
as some lflow uses it, and is freed (for the next new text, smallest first) when the
last one stops.  :meth:`IdTable.use` is called while an lflow is translated;
:meth:`IdTable.keep_only` after, with the texts that translation used, so that a
re-translation that still needs a description keeps its id.
"""

from __future__ import annotations

import heapq

__all__ = ["IdTable"]


class IdTable:
    """Ids by description text, with the lflows using each (see the module docstring)."""

    __slots__ = ("_by_text", "_free", "_next", "_texts_of", "_users", "max_id", "name")

    def __init__(self, name: str, max_id: int = 0xFFFFFFFE) -> None:
        self.name = name
        self.max_id = max_id
        self._by_text: dict[str, int] = {}
        self._users: dict[str, set[str]] = {}
        self._texts_of: dict[str, set[str]] = {}
        self._free: list[int] = []
        self._next = 1

    def use(self, lflow: str, text: str) -> int | None:
        """The id of ``text`` for ``lflow`` (allocated if new); None when none is left."""
        found = self._by_text.get(text)
        if found is None:
            if self._free:
                found = heapq.heappop(self._free)
            elif self._next <= self.max_id:
                found, self._next = self._next, self._next + 1
            else:
                return None
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
            heapq.heappush(self._free, self._by_text.pop(text))

    def id_of(self, text: str) -> int | None:
        """The id ``text`` has, if any lflow uses it."""
        return self._by_text.get(text)

    def __len__(self) -> int:
        return len(self._by_text)
