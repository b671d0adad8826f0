"""Keeps SB Logical_Flow and Logical_DP_Group equal to the desired flow table, writing
only differences.

What has been written is remembered per flow (:class:`Written`): its row UUID, where it
points (one Datapath_Binding, or a Logical_DP_Group) and its attributes. A flow on one
datapath gets ``logical_datapath``; a flow on several gets ``logical_dp_group``, one
group row per distinct set of datapaths, shared by every flow on that set and
refcounted here (the SB garbage-collects a group no flow refers to, since
Logical_DP_Group is not a root table).

Row UUIDs are chosen here: a new flow's UUID is derived from its content (so a full
recompute reproduces it), a new group's is random. :meth:`SbLflowSync.resync` adopts
whatever the SB holds by content — rows written by an earlier pyovn-northd or by
ovn-northd — so a restart rewrites nothing that is already right.

Datapaths are named by NB Logical_Switch UUID in the table; a resolver maps them to SB
Datapath_Binding UUIDs. A flow on a datapath that has no binding yet is written without
it, and rewritten when the binding appears.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from pyovn.northd.lflow.flows import LflowAttrs, LflowKey
from pyovn.northd.lflow.table import LflowTable
from pyovn.ovsdb import Delete, Insert, Op, Row, TableChanges, Update

__all__ = ["LFLOW_NAMESPACE", "SbLflowSync", "Written", "flow_uuid"]

#: Namespace of the content-derived Logical_Flow UUIDs.
LFLOW_NAMESPACE = uuidlib.UUID("6c0a5d3e-8a51-4e55-9a3c-1f0e7d9b2c41")

#: NB Logical_Switch UUID → SB Datapath_Binding UUID (None: not bound yet).
Resolver = Callable[[str], "str | None"]


_NAMESPACE_BYTES = LFLOW_NAMESPACE.bytes


def flow_uuid(key: LflowKey) -> str:
    """The UUID pyovn-northd gives a new Logical_Flow row for ``key``: the UUIDv5 of its
    content (computed here without :func:`uuid.uuid5`'s overhead, which dominated a
    bulk sync)."""
    h = bytearray(hashlib.sha1(_NAMESPACE_BYTES + repr(tuple(key)).encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


class Written(NamedTuple):
    """What the SB holds (or will, once the pending transaction commits) for one flow."""

    uuid: str
    dp: str | None          #: logical_datapath
    group: str | None       #: logical_dp_group
    attrs: LflowAttrs


def _row_key(row: Row) -> LflowKey:
    return LflowKey(row["pipeline"], row["table_id"], row["priority"], row["match"],
                    row["actions"], row["controller_meter"])


def _row_attrs(row: Row) -> LflowAttrs:
    return LflowAttrs(row["external_ids"].get("stage-hint"), row["tags"].get("in_out_port"))


class SbLflowSync:
    """The written state of SB Logical_Flow / Logical_DP_Group and the ops that move it
    to the desired table."""

    def __init__(self) -> None:
        self.written: dict[LflowKey, Written] = {}
        self.by_uuid: dict[str, LflowKey] = {}
        self.group_sets: dict[str, frozenset[str]] = {}     #: group UUID → datapaths
        self.group_refs: dict[str, int] = {}                #: group UUID → flows using it
        self.group_by_set: dict[frozenset[str], str] = {}
        #: Counters of the last sync: inserted / updated / deleted flows, new groups.
        self.last_ops: dict[str, int] = {}

    # -- from the SB ------------------------------------------------------------------

    def resync(self, table: LflowTable, flow_rows: Iterable[Row],
               group_rows: Mapping[str, Row], resolve: Resolver) -> list[Op]:
        """Adopt the SB's contents as written, then return the ops that make it equal
        to ``table`` (rows that duplicate another's content are deleted)."""
        self.written.clear()
        self.by_uuid.clear()
        self.group_sets = {u: frozenset(g["datapaths"]) for u, g in group_rows.items()}
        self.group_refs = {}
        self.group_by_set = {}
        ops: list[Op] = []
        for row in sorted(flow_rows, key=lambda r: r.uuid):
            key = _row_key(row)
            if key in self.written:
                ops.append(Delete("Logical_Flow", row.uuid))
                continue
            group = row["logical_dp_group"]
            if group is not None and group not in self.group_sets:
                group = None
            w = Written(row.uuid, row["logical_datapath"], group, _row_attrs(row))
            self.written[key] = w
            self.by_uuid[row.uuid] = key
            if group is not None:
                self._ref_group(group)
        n_dups = len(ops)
        ops.extend(self.sync(table, set(table.flows) | set(self.written), resolve))
        self.last_ops["deleted"] = self.last_ops.get("deleted", 0) + n_dups
        return ops

    def _ref_group(self, group: str) -> None:
        self.group_refs[group] = self.group_refs.get(group, 0) + 1
        self.group_by_set.setdefault(self.group_sets[group], group)

    def _unref_group(self, group: str) -> None:
        n = self.group_refs[group] - 1
        if n:
            self.group_refs[group] = n
            return
        # The SB collects the unreferenced row; forget it.
        del self.group_refs[group]
        dps = self.group_sets.pop(group)
        if self.group_by_set.get(dps) == group:
            del self.group_by_set[dps]
            for other, other_dps in self.group_sets.items():
                if other_dps == dps and other in self.group_refs:
                    self.group_by_set[dps] = other
                    break

    # -- to the SB --------------------------------------------------------------------

    def sync(self, table: LflowTable, keys: Iterable[LflowKey], resolve: Resolver
             ) -> list[Op]:
        """The ops that make the SB rows of ``keys`` equal to ``table``."""
        ops: list[Op] = []
        counts = {"inserted": 0, "updated": 0, "deleted": 0, "groups": 0}
        resolved: dict[str, str | None] = {}
        # ovsdb-server refuses to insert a UUID deleted in the same transaction: a row
        # edited by someone else still carries the content UUID of what we re-insert.
        deleted: set[str] = set()
        for key in keys:
            entry = table.flows.get(key)
            dps: frozenset[str] = frozenset()
            if entry is not None:
                sb_dps = []
                for nb_dp in entry.dps:
                    try:
                        u = resolved[nb_dp]
                    except KeyError:
                        u = resolved[nb_dp] = resolve(nb_dp)
                    if u is not None:
                        sb_dps.append(u)
                dps = frozenset(sb_dps)
            w = self.written.get(key)
            if not dps:
                if w is not None:
                    ops.append(Delete("Logical_Flow", w.uuid))
                    deleted.add(w.uuid)
                    self._forget(key, w)
                    counts["deleted"] += 1
                continue
            assert entry is not None
            attrs = entry.effective_attrs()
            if w is None:
                dp, group = self._place(dps, ops, counts)
                new_uuid = flow_uuid(key)
                if new_uuid in self.by_uuid or new_uuid in deleted:
                    new_uuid = str(uuidlib.uuid4())
                ops.append(Insert("Logical_Flow", _row(key, dp, group, attrs),
                                  uuid=new_uuid))
                self.written[key] = Written(new_uuid, dp, group, attrs)
                self.by_uuid[new_uuid] = key
                counts["inserted"] += 1
                continue
            changes: dict[str, Any] = {}
            dp, group = w.dp, w.group
            if not self._placed_on(w, dps):
                dp, group = self._place(dps, ops, counts)
                if w.group is not None:
                    self._unref_group(w.group)
                changes["logical_datapath"] = dp
                changes["logical_dp_group"] = group
            if attrs != w.attrs:
                changes.update(_attr_columns(key, attrs))
            if changes:
                ops.append(Update("Logical_Flow", w.uuid, changes))
                self.written[key] = Written(w.uuid, dp, group, attrs)
                counts["updated"] += 1
        self.last_ops = counts
        return ops

    def _placed_on(self, w: Written, dps: frozenset[str]) -> bool:
        if len(dps) == 1:
            return w.group is None and w.dp in dps
        return w.dp is None and w.group is not None and self.group_sets.get(w.group) == dps

    def _place(self, dps: frozenset[str], ops: list[Op], counts: dict[str, int]
               ) -> tuple[str | None, str | None]:
        """Where a flow on ``dps`` points: (logical_datapath, logical_dp_group); takes a
        reference on the group, creating it if needed."""
        if len(dps) == 1:
            return next(iter(dps)), None
        group = self.group_by_set.get(dps)
        if group is None:
            group = str(uuidlib.uuid4())
            ops.append(Insert("Logical_DP_Group", {"datapaths": sorted(dps)}, uuid=group))
            self.group_sets[group] = dps
            self.group_by_set[dps] = group
            counts["groups"] += 1
        self._ref_group(group)
        return None, group

    def _forget(self, key: LflowKey, w: Written) -> None:
        del self.written[key]
        del self.by_uuid[w.uuid]
        if w.group is not None:
            self._unref_group(w.group)

    # -- checking the SB's echo -------------------------------------------------------

    def flow_inconsistency(self, changes: TableChanges) -> str | None:
        """Why Logical_Flow ``changes`` are not just the echo of this sync's own writes
        (then a :meth:`resync` is needed), or None when they are."""
        for row in changes.inserted.values():
            why = self._row_mismatch(row)
            if why is not None:
                return f"inserted row {row.uuid}: {why}"
        for old, row in changes.modified.values():
            why = self._row_mismatch(row)
            if why is not None:
                return f"modified row {row.uuid}: {why} DEBUG old {old!r} new {row!r}"
        for uuid in changes.deleted:
            if uuid in self.by_uuid:
                return f"row {uuid} of {self.by_uuid[uuid]} deleted"
        return None

    def _row_mismatch(self, row: Row) -> str | None:
        key = self.by_uuid.get(row.uuid)
        if key is None:
            return "not written by this northd"
        if _row_key(row) != key:
            return f"content {_row_key(row)} instead of {key}"
        w = self.written[key]
        got = (row["logical_datapath"], row["logical_dp_group"], _row_attrs(row))
        if got != (w.dp, w.group, w.attrs):
            return f"datapath/group/attributes {got} instead of {w.dp, w.group, w.attrs}"
        return None

    def group_inconsistency(self, changes: TableChanges) -> str | None:
        """Like :meth:`flow_inconsistency`, for Logical_DP_Group."""
        rows = [*changes.inserted.values(), *(new for _old, new in changes.modified.values())]
        for row in rows:
            mine = self.group_sets.get(row.uuid)
            if mine != frozenset(row["datapaths"]):
                return f"group {row.uuid} holds {sorted(row['datapaths'])}, not {mine}"
        for uuid in changes.deleted:
            if uuid in self.group_sets:
                return f"group {uuid} deleted while {self.group_refs.get(uuid)} flows use it"
        return None


def _attr_columns(key: LflowKey, attrs: LflowAttrs) -> dict[str, Any]:
    external_ids = {"stage-name": key.stage_name}
    if attrs.stage_hint is not None:
        external_ids["stage-hint"] = attrs.stage_hint
    tags = {"in_out_port": attrs.in_out_port} if attrs.in_out_port is not None else {}
    return {"external_ids": external_ids, "tags": tags}


def _row(key: LflowKey, dp: str | None, group: str | None, attrs: LflowAttrs
         ) -> dict[str, Any]:
    return {"logical_datapath": dp, "logical_dp_group": group, "pipeline": key.pipeline,
            "table_id": key.table_id, "priority": key.priority, "match": key.match,
            "actions": key.actions, "controller_meter": key.controller_meter,
            **_attr_columns(key, attrs)}
