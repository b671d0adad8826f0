"""The ``physical_flows`` node: every non-lflow flow of the chassis, by parent row.

Its data (:class:`PhysicalFlows`) maps a parent (an SB row UUID, or
:data:`~pyovn.controller.physical.FIXED_PARENT`) to its flows, and says which parents'
flows changed in this run; the desired flow table replaces exactly those
(``remove_by_parent(p)`` then ``add_flow(f, p)`` for each of ``flows.get(p, [])``).

Parents: Port_Binding (physical flows and port security), Multicast_Group,
MAC_Binding, Static_MAC_Binding, FDB rows, and the fixed flows. Every change is handled
incrementally by recomputing the parents it can affect:

- ``runtime_data``: the ports it reports changed (and their containers, and the
  multicast groups of their datapaths); all rows of the datapaths that became local,
  stopped being local or changed (tunnel key, localnet port).
- ``ct_zones``: the ports whose zone changed (and their groups); all ports of a
  datapath whose NAT zone changed, and their patch peers.
- SB tables: the changed rows; for a Port_Binding also its containers, its patch
  peer, the groups and MAC bindings of its datapath. A Port_Binding modification that
  leaves every column the flows read (:data:`PB_FLOW_COLUMNS`) alone, such as ``up``
  set after a claim, changes no flow and is skipped.

Within one run every handler sees the same inputs, so a row that two handlers ask for
(a port whose claim changed in ``runtime_data`` and whose row changed in the SB) is
computed once.

A change of this chassis's identity recomputes everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyovn.controller.physical import (
    FIXED_PARENT,
    PhysicalContext,
    fixed_flows,
    port_binding_flows,
)
from pyovn.controller.physical_lookups import (
    fdb_flows,
    mac_binding_flows,
    port_security_flows,
    static_mac_binding_flows,
)
from pyovn.controller.physical_mcast import multicast_group_flows
from pyovn.controller.runtime_data import CtZonesData, RuntimeData
from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.openflow import Flow
from pyovn.ovsdb import Index, Row
from pyovn.ovsdb.values import is_uuid

__all__ = ["PB_FLOW_COLUMNS", "PhysicalFlows", "PhysicalFlowsNode"]

#: The Port_Binding columns the physical flows (of a port, of the groups it is in, of
#: its neighbours) depend on; ``can_bind`` reads requested_chassis and options.
PB_FLOW_COLUMNS = ("logical_port", "datapath", "type", "tunnel_key", "parent_port", "tag",
                   "options", "chassis", "additional_chassis", "requested_chassis",
                   "port_security")


def flows_may_differ(old: Row, new: Row) -> bool:
    """Whether two versions of a Port_Binding can give different physical flows."""
    return any(old.get(c) != new.get(c) for c in PB_FLOW_COLUMNS)


@dataclass
class PhysicalFlows:
    """Flows by parent, and the parents whose flows changed in this run."""

    flows: dict[str, list[Flow]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)


class _ByName(Mapping[str, Row]):
    """Port_Binding rows by ``logical_port``, over the client's index (lookups are what
    the flow functions do; iterating visits the whole table)."""

    def __init__(self, index: Index, rows: Mapping[str, Row]) -> None:
        self._index, self._rows = index, rows

    def __getitem__(self, name: str) -> Row:
        found = self._index.rows(name)
        if not found:
            raise KeyError(name)
        return next(iter(found))

    def __iter__(self) -> Iterator[str]:
        return (row["logical_port"] for row in self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)


@dataclass
class _Todo:
    """Rows whose flows are to be recomputed in this run (by table)."""

    pbs: set[str] = field(default_factory=set)
    mcs: set[str] = field(default_factory=set)
    mbs: set[str] = field(default_factory=set)
    smbs: set[str] = field(default_factory=set)
    fdbs: set[str] = field(default_factory=set)


class PhysicalFlowsNode(Node[PhysicalFlows]):
    """Computes the physical flows (see the module docstring)."""

    def __init__(self, runtime_data: Node[RuntimeData], ct_zones: Node[CtZonesData],
                 sb_port_binding: TableInput, sb_multicast_group: TableInput,
                 sb_mac_binding: TableInput, sb_static_mac_binding: TableInput,
                 sb_fdb: TableInput) -> None:
        super().__init__("physical_flows", PhysicalFlows())
        self.runtime_data, self.ct_zones = runtime_data, ct_zones
        self.pb, self.mc = sb_port_binding, sb_multicast_group
        self.mb, self.smb, self.fdb = sb_mac_binding, sb_static_mac_binding, sb_fdb
        self._chassis: object = None
        # (table attribute, row UUID) computed in this run (see the module docstring).
        self._done: set[tuple[str, str]] = set()
        # Parent → (kind of row, datapath UUID), for the parents that have flows.
        self._owner: dict[str, tuple[str, str]] = {}
        self.add_input(runtime_data, self._runtime_handler)
        self.add_input(ct_zones, self._zones_handler)
        self.add_input(sb_port_binding, self._pb_handler)
        for table, attr in ((sb_multicast_group, "mcs"), (sb_mac_binding, "mbs"),
                            (sb_static_mac_binding, "smbs"), (sb_fdb, "fdbs")):
            self.add_input(table, self._rows_handler(table, attr))

    def clear_tracked_data(self) -> None:
        """No parent changed yet in this run."""
        self.data.changed = set()
        self._done = set()

    # -- lookups ------------------------------------------------------------------------

    def _index(self, table: TableInput, column: str) -> Index:
        return table.client.index(table.table, column)

    def _context(self) -> PhysicalContext | None:
        data = self.runtime_data.data
        if data.chassis is None:
            return None
        return PhysicalContext(
            data.chassis, data.local_datapaths,
            _ByName(self._index(self.pb, "logical_port"), self.pb.rows),
            data.bindings.ofports, data.patch_ofports, self.ct_zones.data.zones.zones,
            data.bindings.local_lports, self.pb.rows)

    def _flows_of(self, table: str, row: Row, ctx: PhysicalContext) -> list[Flow]:
        lds = ctx.local_datapaths
        if table == "pbs":
            flows = port_binding_flows(row, ctx)
            ld = lds.get(row["datapath"])
            if ld is not None and ctx.chassis.uuid and row["chassis"] == ctx.chassis.uuid:
                flows += port_security_flows(row, ld.tunnel_key)
            return flows
        if table == "mcs":
            return multicast_group_flows(row, ctx)
        keys = {uuid: ld.tunnel_key for uuid, ld in lds.items()}
        if table == "mbs":
            return mac_binding_flows(row, ctx.port_bindings, keys)
        if table == "smbs":
            return static_mac_binding_flows(row, ctx.port_bindings, keys)
        return fdb_flows(row, set(keys.values()))

    def _set(self, parent: str, attr: str, dp: str | None, flows: list[Flow]) -> None:
        if flows and dp is not None:
            self._owner[parent] = (attr, dp)
        else:
            self._owner.pop(parent, None)
        current = self.data.flows.get(parent)
        if flows == (current or []):
            return
        if flows:
            self.data.flows[parent] = flows
        else:
            del self.data.flows[parent]
        self.data.changed.add(parent)

    def _datapath_of(self, attr: str, row: Row) -> str | None:
        if attr == "fdbs":
            key = row["dp_key"]
            return next((u for u, ld in self.runtime_data.data.local_datapaths.items()
                         if ld.tunnel_key == key), None)
        if attr in ("mbs", "smbs"):
            pb = next(iter(self._index(self.pb, "logical_port").rows(row["logical_port"])),
                      None)
            owner: str | None = (pb if pb is not None else row)["datapath"]
            return owner
        dp: str = row["datapath"]
        return dp

    def _tables(self) -> dict[str, TableInput]:
        return {"pbs": self.pb, "mcs": self.mc, "mbs": self.mb, "smbs": self.smb,
                "fdbs": self.fdb}

    def _apply(self, todo: _Todo) -> HandlerResult:
        ctx = self._context()
        if ctx is None or ctx.chassis != self._chassis:
            return HandlerResult.UNHANDLED
        before = len(self.data.changed)
        done = self._done
        for attr, table in self._tables().items():
            for uuid in getattr(todo, attr):
                if (attr, uuid) in done:
                    continue
                done.add((attr, uuid))
                row = table.rows.get(uuid)
                if row is None:
                    self._set(uuid, attr, None, [])
                else:
                    self._set(uuid, attr, self._datapath_of(attr, row),
                              self._flows_of(attr, row, ctx))
        changed = len(self.data.changed) > before
        return HandlerResult.HANDLED_UPDATED if changed else HandlerResult.HANDLED_UNCHANGED

    # -- engine -------------------------------------------------------------------------

    def run(self, ctx: Any) -> bool:
        """Recompute every parent; track the ones whose flows differ."""
        pctx = self._context()
        old = self.data.flows
        new: dict[str, list[Flow]] = {FIXED_PARENT: fixed_flows()}
        self._owner = {}
        self._chassis = pctx.chassis if pctx is not None else None
        if pctx is not None:
            for dp in pctx.local_datapaths:
                for attr, rows in self._rows_of_datapath(dp):
                    for row in rows:
                        flows = self._flows_of(attr, row, pctx)
                        if flows:
                            new[row.uuid] = flows
                            self._owner[row.uuid] = (attr, dp)
        self.data.flows = new
        self.data.changed = {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}
        return bool(self.data.changed)

    def _rows_of_datapath(self, dp: str) -> Iterable[tuple[str, Iterable[Row]]]:
        yield "pbs", self._index(self.pb, "datapath").rows(dp)
        yield "mcs", self._index(self.mc, "datapath").rows(dp)
        yield "mbs", self._index(self.mb, "datapath").rows(dp)
        yield "smbs", self._index(self.smb, "datapath").rows(dp)
        ld = self.runtime_data.data.local_datapaths.get(dp)
        if ld is not None:
            yield "fdbs", self._index(self.fdb, "dp_key").rows(ld.tunnel_key)

    def _add_datapath(self, todo: _Todo, dp: str) -> None:
        for attr, rows in self._rows_of_datapath(dp):
            getattr(todo, attr).update(r.uuid for r in rows)
        # Rows of a datapath that stopped being local still have flows: drop them too.
        for parent, (attr, owner_dp) in self._owner.items():
            if owner_dp == dp:
                getattr(todo, attr).add(parent)

    def _add_port(self, todo: _Todo, name: str, datapaths: Iterable[str] = ()) -> None:
        """The rows whose flows depend on port ``name`` (which may be gone, in
        ``datapaths``): the port, its containers, its neighbours, its groups."""
        dps = set(datapaths)
        # Containers may sit in other datapaths than their parent's.
        for index in ("logical_port", "parent_port"):
            for pb in self._index(self.pb, index).rows(name):
                todo.pbs.add(pb.uuid)
                self._add_peer(todo, pb)
                dps.add(pb["datapath"])
                if pb["type"] in ("localnet", "l2gateway"):
                    # The datapath's other ports may be reached through this one.
                    todo.pbs.update(r.uuid for r in self._index(self.pb, "datapath").rows(
                        pb["datapath"]))
        for dp in dps:
            todo.mcs.update(r.uuid for r in self._index(self.mc, "datapath").rows(dp))
        todo.mbs.update(r.uuid for r in self._index(self.mb, "logical_port").rows(name))
        todo.smbs.update(r.uuid for r in self._index(self.smb, "logical_port").rows(name))

    def _add_peer(self, todo: _Todo, pb: Row) -> None:
        """A patch port's flows load its peer's keys and zones: recompute the peer."""
        peer = (pb["options"] or {}).get("peer") if pb["type"] == "patch" else None
        if peer:
            todo.pbs.update(r.uuid for r in self._index(self.pb, "logical_port").rows(peer))

    def _runtime_handler(self, ctx: Any) -> HandlerResult:
        data = self.runtime_data.data
        todo = _Todo()
        for dp in data.changed_datapaths:
            self._add_datapath(todo, dp)
        for name in data.changed_lports:
            self._add_port(todo, name)
        return self._apply(todo)

    def _zones_handler(self, ctx: Any) -> HandlerResult:
        todo = _Todo()
        for user in self.ct_zones.data.changed:
            dp, _, kind = user.rpartition("_")
            if kind in ("dnat", "snat") and is_uuid(dp):
                # A datapath's NAT zones are loaded by all of its ports' flows, and by
                # the flows of their patch peers that cross into it.
                for pb in self._index(self.pb, "datapath").rows(dp):
                    todo.pbs.add(pb.uuid)
                    self._add_peer(todo, pb)
            else:
                self._add_port(todo, user)
        return self._apply(todo)

    def _pb_handler(self, ctx: Any) -> HandlerResult:
        changes = self.pb.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        todo = _Todo()
        rows = [*changes.inserted.values(), *changes.deleted.values()]
        for old, new in changes.modified.values():
            if flows_may_differ(old, new):
                rows += (old, new)
        for pb in rows:
            todo.pbs.add(pb.uuid)
            self._add_peer(todo, pb)  # also when pb is gone: the peer loses its flows
            if pb["datapath"] in self.runtime_data.data.local_datapaths:
                self._add_port(todo, pb["logical_port"], (pb["datapath"],))
        return self._apply(todo)

    def _rows_handler(self, table: TableInput, attr: str) -> Any:
        def handler(ctx: Any) -> HandlerResult:
            changes = table.changes
            if changes is None:
                return HandlerResult.UNHANDLED
            todo = _Todo()
            getattr(todo, attr).update(
                [*changes.inserted, *changes.modified, *changes.deleted])
            return self._apply(todo)
        handler.__name__ = f"{table.name}_handler"
        return handler
