"""The ``sync_meters`` node: SB Meter (and Meter_Band) rows, as ovn-northd 23.03 writes
them: one per NB Meter, plus one copy named ``<meter>__<ACL UUID>`` for every ACL that
names a *fair* meter (so each ACL's log gets its own rate). Rows are matched by name;
bands are compared by value (action, rate, burst size) and replaced, never edited.
Meters of control-plane protection (CoPP) are not supported yet.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.ovsdb import Delete, Insert, Op, Row, Update

__all__ = ["SyncMeters", "acl_meter_name"]

Band = tuple[str, int, int]             # action, rate, burst_size
Content = tuple[str, tuple[Band, ...]]  # unit, sorted bands


def acl_meter_name(meter: str, acl_uuid: str) -> str:
    """The name of the per-ACL copy of fair meter ``meter``."""
    return f"{meter}__{acl_uuid}"


def _bands(band_rows: Iterable[Row | None]) -> tuple[Band, ...]:
    return tuple(sorted((b["action"], int(b["rate"]), int(b["burst_size"]))
                        for b in band_rows if b is not None))


class SyncMeters(Node[None]):
    """Writes SB Meter / Meter_Band; no data of its own."""

    def __init__(self, nb_meter: TableInput, nb_meter_band: TableInput, nb_acl: TableInput,
                 sb_meter: TableInput, sb_meter_band: TableInput) -> None:
        super().__init__("sync_meters", None, needs_txn=lambda ctx: ctx.sb_ops)
        self.nb_meter, self.nb_band, self.acl = nb_meter, nb_meter_band, nb_acl
        self.sb_meter, self.sb_band = sb_meter, sb_meter_band
        self.desired: dict[str, Content] = {}
        self._have: dict[str, tuple[str, Content]] = {}
        # No handlers: meters and their bands change rarely.
        self.add_input(nb_meter)
        self.add_input(nb_meter_band)
        self.add_input(nb_acl, self.acl_handler)
        self.add_input(sb_meter, self.sb_handler)
        self.add_input(sb_meter_band, self.sb_handler)

    # -- desired and actual ----------------------------------------------------------

    def _fair(self) -> dict[str, Content]:
        """Fair NB meters by name, with their content."""
        return {n: c for n, (c, fair) in self._nb_meters().items() if fair}

    def _nb_meters(self) -> dict[str, tuple[Content, bool]]:
        bands = self.nb_band.rows
        return {r["name"]: ((r["unit"], _bands(bands.get(b) for b in r["bands"])),
                            bool(r["fair"]))
                for r in self.nb_meter.rows.values()}

    def _acl_copies(self, acls: Iterable[Row], fair: dict[str, Content]) -> dict[str, Content]:
        return {acl_meter_name(a["meter"], a.uuid): fair[a["meter"]]
                for a in acls if a["meter"] in fair}

    def _sb_content(self, row: Row) -> Content:
        bands = self.sb_band.rows
        return row["unit"], _bands(bands.get(b) for b in row["bands"])

    def _sync(self, names: Iterable[str], ops: list[Op]) -> None:
        for name in sorted(set(names)):
            want, have = self.desired.get(name), self._have.get(name)
            if want is None:
                if have is not None:
                    ops.append(Delete("Meter", have[0]))
                    del self._have[name]
                continue
            if have is not None and have[1] == want:
                continue
            row: dict[str, Any] = {"unit": want[0]}
            if have is None or have[1][1] != want[1]:
                band_uuids = []
                for action, rate, burst in want[1]:
                    band_uuids.append(str(uuidlib.uuid4()))
                    ops.append(Insert("Meter_Band", {"action": action, "rate": rate,
                                                     "burst_size": burst},
                                      uuid=band_uuids[-1]))
                row["bands"] = tuple(sorted(band_uuids))
            if have is None:
                uuid = str(uuidlib.uuid4())
                ops.append(Insert("Meter", {"name": name, **row}, uuid=uuid))
            else:
                uuid = have[0]
                ops.append(Update("Meter", uuid, row))
            self._have[name] = (uuid, want)

    # -- engine ----------------------------------------------------------------------

    def run(self, ctx: Any) -> bool:
        """Sync every meter."""
        nb = self._nb_meters()
        self.desired = {n: c for n, (c, _) in nb.items()}
        self.desired.update(self._acl_copies(self.acl.rows.values(), self._fair()))
        self._have.clear()
        stale = []
        for row in sorted(self.sb_meter.rows.values(), key=lambda r: r.uuid):
            if row["name"] in self._have:
                stale.append(row.uuid)
            else:
                self._have[row["name"]] = (row.uuid, self._sb_content(row))
        ctx.sb_ops.extend(Delete("Meter", u) for u in stale)
        self._sync(set(self.desired) | set(self._have), ctx.sb_ops)
        return False

    def acl_handler(self, ctx: Any) -> HandlerResult:
        """Only ACLs that name a fair meter (before or after the change) matter."""
        changes = self.acl.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        fair = self._fair()
        names = set()
        for row in (*changes.deleted.values(), *(o for o, _ in changes.modified.values())):
            if row["meter"] is not None:
                name = acl_meter_name(row["meter"], row.uuid)
                names.add(name)
                self.desired.pop(name, None)
        for row in (*changes.inserted.values(), *(n for _, n in changes.modified.values())):
            if row["meter"] in fair:
                name = acl_meter_name(row["meter"], row.uuid)
                names.add(name)
                self.desired[name] = fair[row["meter"]]
        self._sync(names, ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED

    def sb_handler(self, ctx: Any) -> HandlerResult:
        """Repair what someone else changed (our own writes read back as written)."""
        meter_changes, band_changes = self.sb_meter.changes, self.sb_band.changes
        if meter_changes is None and self.sb_meter.changed:
            return HandlerResult.UNHANDLED
        if band_changes is None and self.sb_band.changed:
            return HandlerResult.UNHANDLED
        names = set()
        if meter_changes is not None:
            for row in (*meter_changes.inserted.values(), *meter_changes.deleted.values(),
                        *(r for pair in meter_changes.modified.values() for r in pair)):
                names.add(row["name"])
        if band_changes is not None and band_changes.modified:
            # A band edited in place: find its meter.
            edited = set(band_changes.modified)
            names.update(r["name"] for r in self.sb_meter.rows.values()
                         if edited.intersection(r["bands"]))
        by_name = {r["name"]: r for r in self.sb_meter.rows.values() if r["name"] in names}
        for name in names:
            current = by_name.get(name)
            if current is None:
                self._have.pop(name, None)
            else:
                self._have[name] = (current.uuid, self._sb_content(current))
        self._sync(names, ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED
