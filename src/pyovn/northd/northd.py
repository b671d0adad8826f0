"""The ``northd`` engine node: NB switches, ports, ACLs, port groups and address sets
compiled into :class:`~pyovn.northd.model.NorthdData` (the seam lflow generation
consumes). The domain logic is :mod:`pyovn.northd.northd_state`; this module adapts it
to the engine: each handler names the objects a change set may have touched and lets
the state rebuild them.
"""

from __future__ import annotations

from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.model import MeterInfo, NorthdData, NorthdGlobals
from pyovn.northd.northd_state import NorthdState
from pyovn.northd.ports import Warn
from pyovn.ovsdb import Client, TableChanges

__all__ = ["NorthdNode"]

_UPDATED = HandlerResult.HANDLED_UPDATED
_UNCHANGED = HandlerResult.HANDLED_UNCHANGED
_UNHANDLED = HandlerResult.UNHANDLED


class NorthdNode(Node[NorthdData]):
    """Data: :class:`NorthdData`, with ``tracked`` changes after an incremental run."""

    def __init__(self, nb: Client, sb: Client, *, logical_switch: TableInput,
                 logical_switch_port: TableInput, acl: TableInput,
                 port_group: TableInput, address_set: TableInput, meter: TableInput,
                 global_config: Node[NorthdGlobals], sb_datapath_binding: TableInput,
                 sb_port_binding: TableInput, warn: Warn) -> None:
        self.model = NorthdState(nb, sb, warn)
        # It decides tunnel keys against the SB view, so it runs only when that view
        # includes every earlier write of ours (no SB transaction in flight).
        super().__init__("northd", self.model.data, needs_txn=lambda ctx: ctx.sb_ops)
        self.ls, self.lsp, self.acl = logical_switch, logical_switch_port, acl
        self.pg, self.address_set, self.meter = port_group, address_set, meter
        self.global_config = global_config
        self.add_input(logical_switch, self.logical_switch_handler)
        self.add_input(logical_switch_port, self.logical_switch_port_handler)
        self.add_input(acl, self.acl_handler)
        self.add_input(port_group, self.port_group_handler)
        self.add_input(address_set, self.address_set_handler)
        # No handler: meters change rarely and their fairness feeds every ACL flow.
        self.add_input(meter)
        # No handler: the globals change rarely (options, chassis features).
        self.add_input(global_config)
        # Tunnel keys are adopted from these tables only for objects this node has not
        # seen yet (at start-up, or after taking over from another northd); afterwards
        # its own assignments are authoritative and the sync nodes make the SB agree.
        # A recompute reads them the same way, so ignoring their changes is exact.
        self.add_input(sb_datapath_binding, _keys_only)
        self.add_input(sb_port_binding, _keys_only)

    def clear_tracked_data(self) -> None:
        """Start a run: no changes tracked yet."""
        self.model.begin_run()

    def reset_keys(self) -> None:
        """Forget the tunnel keys held in memory (after another northd was active): the
        next recompute adopts the SB's."""
        fresh = NorthdState(self.model.nb, self.model.sb, self.model.warn)
        self.model = fresh
        self.data = fresh.data

    def run(self, ctx: Any) -> bool:
        """Rebuild everything from the NB."""
        self.model.recompute(self.global_config.data)
        self.data = self.model.data
        rows = self.meter.rows.values()
        self.data.meters = {r["name"]: MeterInfo(r["name"], r["unit"], bool(r["fair"]))
                            for r in rows}
        return True

    # -- handlers --------------------------------------------------------------------

    def _done(self) -> HandlerResult:
        return _UPDATED if self.model.flush() else _UNCHANGED

    def logical_switch_handler(self, ctx: Any) -> HandlerResult:
        """Switch added / removed / renamed: that switch (and its ports) is rebuilt;
        only ``ports`` or ``acls`` changed: just those ports or that ACL list."""
        changes = self.ls.changes
        if changes is None:
            return _UNHANDLED
        state = self.model
        lsp_rows = self.lsp.rows
        for row in (*changes.inserted.values(), *changes.deleted.values()):
            state.mark_switch(row["name"])
        for old, new in changes.modified.values():
            if old["name"] != new["name"] or any(
                    old[c] != new[c] for c in new.columns if c not in ("ports", "acls")):
                state.mark_switch(old["name"])
                state.mark_switch(new["name"])
                continue
            for lsp in set(old["ports"]) ^ set(new["ports"]):
                lsp_row = lsp_rows.get(lsp)
                if lsp_row is not None:
                    state.mark_port(lsp_row["name"])
                # A deleted port row is seen by the port handler.
            if old["acls"] != new["acls"]:
                state.mark_switch_acls(new.uuid)
        return self._done()

    def logical_switch_port_handler(self, ctx: Any) -> HandlerResult:
        """A port row added, removed or changed: that port name is rebuilt."""
        changes = self.lsp.changes
        if changes is None:
            return _UNHANDLED
        for name in _names(changes):
            self.model.mark_port(name)
        # The <pg>_ip4/_ip6 sets follow every port row a group names, valid or not (as
        # ovn-northd); a deleted row also leaves the groups, which the group handler sees.
        index = self.model.nb.index("Port_Group", "ports")
        for uuid in (*changes.inserted, *changes.modified):
            for pg in index.rows(uuid):
                self.model.pgs.mark(pg.uuid)
        return self._done()

    def acl_handler(self, ctx: Any) -> HandlerResult:
        """An ACL changed: the ACL lists of the switches and port groups that hold it.
        (Adding or removing an ACL changes its owner's ``acls`` column as well.)"""
        changes = self.acl.changes
        if changes is None:
            return _UNHANDLED
        nb = self.model.nb
        for uuid in (*changes.inserted, *changes.modified):
            for ls in nb.index("Logical_Switch", "acls").rows(uuid):
                self.model.mark_switch_acls(ls.uuid)
            for pg in nb.index("Port_Group", "acls").rows(uuid):
                self.model.pgs.mark(pg.uuid)
        return self._done()

    def port_group_handler(self, ctx: Any) -> HandlerResult:
        """A port group changed: it is rebuilt (members, switches, ACLs, address sets)."""
        changes = self.pg.changes
        if changes is None:
            return _UNHANDLED
        for uuid in (*changes.inserted, *changes.modified, *changes.deleted):
            self.model.pgs.mark(uuid)
        return self._done()

    def address_set_handler(self, ctx: Any) -> HandlerResult:
        """An address set changed: it is rebuilt."""
        changes = self.address_set.changes
        if changes is None:
            return _UNHANDLED
        for name in _names(changes):
            self.model.pgs.mark_address_set(name)
        return self._done()


def _names(changes: TableChanges) -> set[str]:
    names = {r["name"] for r in changes.inserted.values()}
    names.update(r["name"] for r in changes.deleted.values())
    for old, new in changes.modified.values():
        names.add(old["name"])
        names.add(new["name"])
    return names


def _keys_only(ctx: Any) -> HandlerResult:
    """See the wiring comment in :class:`NorthdNode`: SB key tables never change the
    data of an object already known."""
    return HandlerResult.HANDLED_UNCHANGED
