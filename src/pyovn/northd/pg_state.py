"""Port groups and address sets of :class:`~pyovn.northd.northd_state.NorthdState`.

A port group's *valid members* are the ports it names that are valid ports of the model
(a member that is missing, a duplicate, or on no switch is skipped with a warning).
Its ``switches`` are those of its valid members; the SB gets one Port_Group per switch.
Its derived address sets ``<pg>_ip4`` / ``<pg>_ip6`` hold the IP addresses of every
port row it names, as ovn-northd 23.03 computes them (from the NB rows, dynamic
addresses included).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pyovn.northd.addresses import parse_mac
from pyovn.northd.datapaths import acl_flags, acl_info
from pyovn.northd.model import (
    AclInfo,
    AddressSetInfo,
    NorthdGlobals,
    PortGroupInfo,
    SwitchPort,
)
from pyovn.northd.ports import port_ips
from pyovn.ovsdb import Row

if TYPE_CHECKING:
    from pyovn.northd.northd_state import NorthdState

__all__ = ["SVC_MONITOR_MAC_SET", "PortGroups"]

#: The SB address set ovn-northd 23.03 keeps with the service monitor MAC.
SVC_MONITOR_MAC_SET = "svc_monitor_mac"
_DERIVED = ("_ip4", "_ip6")


class PortGroups:
    """Port group and address set part of the NB model (see the module doc)."""

    def __init__(self, state: NorthdState) -> None:
        self.state = state
        self.dirty: set[str] = set()                    # PG UUIDs
        self._dirty_sets: set[str] = set()              # address set names
        self._pg_name: dict[str, str] = {}              # PG UUID → name in the data
        self._pgs_of_port: dict[str, set[str]] = {}     # port name → PG names
        self._pgs_on_switch: dict[str, set[str]] = {}   # switch name → PG names
        self._children: dict[str, set[str]] = {}        # parent port → child ports
        self._ips: dict[str, tuple[Row, tuple[frozenset[str], frozenset[str]]]] = {}

    # -- marking ---------------------------------------------------------------------

    def mark(self, pg_uuid: str) -> None:
        """Rebuild port group ``pg_uuid``."""
        self.dirty.add(pg_uuid)

    def mark_address_set(self, name: str) -> None:
        """Rebuild address set ``name``."""
        self._dirty_sets.add(name)

    def mark_all(self) -> None:
        """Every port group and address set."""
        nb = self.state.nb
        self.dirty.update(nb.tables["Port_Group"].rows)
        self.dirty.update(self._pg_name)
        for row in nb.tables["Address_Set"].rows.values():
            self._dirty_sets.add(row["name"])
        self._dirty_sets.update(self.state.data.address_sets)

    def clear(self) -> None:
        """Forget everything (before a recompute)."""
        self._pg_name.clear()
        self._pgs_of_port.clear()
        self._pgs_on_switch.clear()
        self._children.clear()

    # -- queries ---------------------------------------------------------------------

    def on_switch(self, switch: str) -> frozenset[str]:
        """Names of the port groups with a valid member on ``switch``."""
        return frozenset(self._pgs_on_switch.get(switch, ()))

    def children(self, parent: str) -> set[str]:
        """Ports whose ``parent_name`` is ``parent``."""
        return self._children.get(parent, set())

    def acl_flags(self, switch: str, own: tuple[AclInfo, ...]) -> tuple[bool, bool]:
        """(has_acls, has_stateful_acl) of ``switch``."""
        groups = self.state.data.port_groups
        return acl_flags([own, *(groups[pg].acls for pg in
                                 sorted(self._pgs_on_switch.get(switch, ())))])

    @staticmethod
    def svc_monitor_set(globals_: NorthdGlobals) -> AddressSetInfo:
        """The ``svc_monitor_mac`` address set (the MAC in canonical form)."""
        parsed = parse_mac(globals_.svc_monitor_mac)
        return AddressSetInfo(SVC_MONITOR_MAC_SET,
                              frozenset([parsed[0]] if parsed else []))

    # -- events from the ports -------------------------------------------------------

    def port_changed(self, name: str, old: SwitchPort | None, new: SwitchPort | None) -> None:
        """A port appeared, changed or went away: re-examine the groups that name it."""
        nb = self.state.nb
        for port in (old, new):
            if port is None:
                continue
            for pg in nb.index("Port_Group", "ports").rows(port.uuid):
                self.dirty.add(pg.uuid)
            if port.parent_name:
                self._children.get(port.parent_name, set()).discard(name)
        for pg_name in self._pgs_of_port.get(name, ()):
            for pg in nb.index("Port_Group", "name").rows(pg_name):
                self.dirty.add(pg.uuid)
        if new is not None and new.parent_name:
            self._children.setdefault(new.parent_name, set()).add(name)

    def switch_removed(self, switch: str) -> None:
        """Switch ``switch`` is gone (its groups are re-examined through its ports)."""
        for pg_name in self._pgs_on_switch.get(switch, ()):
            for pg in self.state.nb.index("Port_Group", "name").rows(pg_name):
                self.dirty.add(pg.uuid)

    # -- rebuilding ------------------------------------------------------------------

    def flush(self) -> None:
        """Rebuild the dirty port groups."""
        for uuid in sorted(self.dirty):
            self.dirty.discard(uuid)
            self._refresh(uuid)

    def _refresh(self, uuid: str) -> None:
        state = self.state
        row = state.nb.tables["Port_Group"].rows.get(uuid)
        old_name = self._pg_name.get(uuid)
        if old_name is not None and (row is None or row["name"] != old_name):
            old = state.data.port_groups.pop(old_name, None)
            del self._pg_name[uuid]
            if old is not None:
                self._reindex(old, None)
                state.tracker.pg_gone(old)
            self._mark_derived(old_name)
        if row is None:
            return
        name = row["name"]
        lsp_rows = state.nb.tables["Logical_Switch_Port"].rows
        members: set[str] = set()
        for lsp in row["ports"]:
            lsp_row = lsp_rows.get(lsp)
            port = state.data.ports.get(lsp_row["name"]) if lsp_row is not None else None
            if port is None or port.uuid != lsp:
                what = lsp_row["name"] if lsp_row is not None else lsp
                state.warn(("pg-member", uuid, lsp),
                           f"Port_Group {name} ({uuid}): port {what} is not a valid "
                           "logical switch port; ignoring it")
                continue
            members.add(port.name)
        acl_rows = state.nb.tables["ACL"].rows
        acls = tuple(acl_info(acl_rows[a], "port_group", name) for a in row["acls"]
                     if a in acl_rows)
        switches = frozenset(state.data.ports[m].datapath for m in members)
        new = PortGroupInfo(name, uuid, frozenset(members), acls, switches)
        old = state.data.port_groups.get(name)
        self._mark_derived(name)
        if new == old:
            return
        state.data.port_groups[name] = new
        self._pg_name[uuid] = name
        self._reindex(old, new)
        state.tracker.pg_set(name, existed=old is not None)

    def _reindex(self, old: PortGroupInfo | None, new: PortGroupInfo | None) -> None:
        old_ports = old.ports if old is not None else frozenset()
        new_ports = new.ports if new is not None else frozenset()
        name = (new or old).name  # type: ignore[union-attr]
        for port in old_ports - new_ports:
            self._discard(self._pgs_of_port, port, name)
        for port in new_ports - old_ports:
            self._pgs_of_port.setdefault(port, set()).add(name)
        old_sw = old.switches if old is not None else frozenset()
        new_sw = new.switches if new is not None else frozenset()
        for sw in old_sw - new_sw:
            self._discard(self._pgs_on_switch, sw, name)
        for sw in new_sw - old_sw:
            self._pgs_on_switch.setdefault(sw, set()).add(name)
        acls_changed = (old.acls if old else ()) != (new.acls if new else ())
        for sw in (old_sw ^ new_sw) if not acls_changed else (old_sw | new_sw):
            self.state.mark_flags(sw)

    @staticmethod
    def _discard(index: dict[str, set[str]], key: str, value: str) -> None:
        values = index.get(key)
        if values is not None:
            values.discard(value)
            if not values:
                del index[key]

    # -- address sets ----------------------------------------------------------------

    def _mark_derived(self, pg_name: str) -> None:
        for suffix in _DERIVED:
            self._dirty_sets.add(pg_name + suffix)

    def flush_address_sets(self) -> None:
        """Rebuild the dirty address sets."""
        for name in sorted(self._dirty_sets):
            self._refresh_set(name)
        self._dirty_sets.clear()

    def _refresh_set(self, name: str) -> None:
        if name == SVC_MONITOR_MAC_SET:
            return      # follows the globals; set by a recompute
        state = self.state
        nb = state.nb
        new: AddressSetInfo | None = None
        for row in nb.index("Address_Set", "name").rows(name):
            new = AddressSetInfo(name, frozenset(row["addresses"]))
        if new is None and name.endswith(_DERIVED):
            base, family = name[:-4], name[-1]
            for pg in nb.index("Port_Group", "name").rows(base):
                new = AddressSetInfo(name, self._derived(pg["ports"], family), base)
        old = state.data.address_sets.get(name)
        if new == old:
            return
        if new is None:
            del state.data.address_sets[name]
        else:
            state.data.address_sets[name] = new
        state.tracker.as_set(name)

    def _derived(self, lsps: Iterable[str], family: str) -> frozenset[str]:
        rows = self.state.nb.tables["Logical_Switch_Port"].rows
        out: set[str] = set()
        for lsp in lsps:
            row = rows.get(lsp)
            if row is None:
                continue
            cached = self._ips.get(lsp)
            if cached is None or cached[0] is not row:
                cached = self._ips[lsp] = (row, port_ips(row))
            out.update(cached[1][0] if family == "4" else cached[1][1])
        return frozenset(out)
