"""The NB side of pyovn-northd: NB rows → :class:`~pyovn.northd.model.NorthdData`,
fully or object by object.

:class:`NorthdState` knows nothing of the engine. A change is applied by marking what it
touches dirty (:meth:`NorthdState.mark_switch`, :meth:`~NorthdState.mark_port`, …) and
calling :meth:`NorthdState.flush`, which rebuilds exactly the dirty objects, in an order
that lets each step see the results of the previous one:

1. switches (existence, name winner, tunnel key, switch-level columns, ACL list);
2. ports (name winner, switch, tunnel key, tag, parsed addresses);
3. port groups (valid members, the switches they span, ACLs, ``<pg>_ip4``/``_ip6``);
4. switch flags (has_unknown, localnet ports, port groups, ACL flags) and the frozen
   :class:`~pyovn.northd.model.SwitchDatapath`;
5. address sets.

A full recompute marks everything. Rebuilding from the NB rows' current versions (the
client's view), never from the change set, is what makes the incremental result equal
the recompute: a handler only has to name what may have changed.

Tunnel keys live in :class:`~pyovn.northd.tunnel_keys.TunnelKeys` that survive
recomputes: an object keeps its key while it exists; a new object takes the key its
Southbound row already has (restart, takeover from another northd), else a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyovn.northd.datapaths import acl_info, mcast_switch_info, port_flags
from pyovn.northd.model import (
    AclInfo,
    McastSwitchInfo,
    NorthdData,
    NorthdGlobals,
    NorthdTracked,
    PortGroupInfo,
    SwitchDatapath,
    SwitchPort,
)
from pyovn.northd.pg_state import PortGroups
from pyovn.northd.ports import Warn, build_switch_port
from pyovn.northd.tunnel_keys import DP_KEY_MAX, DP_KEY_MIN, PORT_KEY_MAX, TunnelKeys
from pyovn.ovsdb import Client, Row

__all__ = ["NorthdState", "Tracker"]

_MAX_TAG = 4095


@dataclass
class _Switch:
    """A switch being maintained: switch-level fields and its mutable port map."""

    uuid: str
    name: str
    tunnel_key: int
    other_config: dict[str, str]
    external_ids: dict[str, str]
    acls: tuple[AclInfo, ...]
    mcast: McastSwitchInfo
    ports: dict[str, SwitchPort] = field(default_factory=dict)


@dataclass
class Tracker:
    """The changes of one engine run, accumulated over its handlers."""

    dp_added: set[str] = field(default_factory=set)
    dp_updated: set[str] = field(default_factory=set)
    dp_deleted: dict[str, SwitchDatapath] = field(default_factory=dict)
    port_added: set[str] = field(default_factory=set)
    port_updated: set[str] = field(default_factory=set)
    port_deleted: dict[str, SwitchPort] = field(default_factory=dict)
    pg_added: set[str] = field(default_factory=set)
    pg_updated: set[str] = field(default_factory=set)
    pg_deleted: dict[str, PortGroupInfo] = field(default_factory=dict)
    as_changed: set[str] = field(default_factory=set)
    #: Whether anything changed (ports-only switch changes are not listed by name).
    changed: bool = False

    def freeze(self) -> NorthdTracked:
        """The immutable summary handed to consumers."""
        return NorthdTracked(
            frozenset(self.dp_added), frozenset(self.dp_updated - self.dp_added),
            dict(self.dp_deleted), frozenset(self.port_added),
            frozenset(self.port_updated - self.port_added), dict(self.port_deleted),
            frozenset(self.pg_added), frozenset(self.pg_updated - self.pg_added),
            dict(self.pg_deleted),
            frozenset(self.as_changed))

    def _note(self, added: set[str], deleted: dict[str, Any], name: str, existed: bool,
              updated: set[str]) -> None:
        self.changed = True
        if name in deleted:
            # Deleted and re-created in one run: consumers see an update.
            deleted.pop(name)
            updated.add(name)
        elif not existed:
            added.add(name)
        else:
            updated.add(name)

    def switch_set(self, name: str, existed: bool) -> None:
        """Switch ``name`` was created (``existed`` False) or changed."""
        self._note(self.dp_added, self.dp_deleted, name, existed,
                   self.dp_updated)

    def switch_gone(self, old: SwitchDatapath) -> None:
        """Switch ``old.name`` disappeared."""
        self._gone(self.dp_added, self.dp_updated, self.dp_deleted, old.name, old)

    def port_set(self, name: str, existed: bool) -> None:
        """Port ``name`` was created or changed."""
        self._note(self.port_added, self.port_deleted, name, existed,
                   self.port_updated)

    def port_gone(self, old: SwitchPort) -> None:
        """Port ``old.name`` disappeared."""
        self._gone(self.port_added, self.port_updated, self.port_deleted, old.name, old)

    def pg_set(self, name: str, existed: bool) -> None:
        """Port group ``name`` was created or changed."""
        self._note(self.pg_added, self.pg_deleted, name, existed, self.pg_updated)

    def pg_gone(self, old: PortGroupInfo) -> None:
        """Port group ``old.name`` disappeared."""
        self._gone(self.pg_added, self.pg_updated, self.pg_deleted, old.name, old)

    def as_set(self, name: str) -> None:
        """Address set ``name`` appeared, changed or disappeared."""
        self.changed = True
        self.as_changed.add(name)

    def _gone(self, added: set[str], updated: set[str], deleted: dict[str, Any],
              name: str, old: object) -> None:
        self.changed = True
        if name in added:
            added.discard(name)     # created and deleted in one run: nothing happened
            return
        updated.discard(name)
        deleted.setdefault(name, old)


class NorthdState:
    """NorthdData and everything needed to keep it up to date (see the module doc)."""

    def __init__(self, nb: Client, sb: Client, warn: Warn) -> None:
        self.nb, self.sb, self.warn = nb, sb, warn
        self.data = NorthdData()
        self.tracker = Tracker()
        self.dp_keys = TunnelKeys(DP_KEY_MIN, DP_KEY_MAX)
        self.port_keys: dict[str, TunnelKeys] = {}      # switch UUID → its port keys
        self.switches: dict[str, _Switch] = {}          # by name
        self.switch_name: dict[str, str] = {}           # valid switch UUID → name
        self.pgs = PortGroups(self)
        self._dirty_switches: set[str] = set()          # names
        self._dirty_acls: set[str] = set()              # switch names
        self._dirty_ports: set[str] = set()             # names
        self._dirty_flags: set[str] = set()             # switch names

    # -- marking ---------------------------------------------------------------------

    def mark_switch(self, name: str) -> None:
        """Rebuild the switch called ``name`` (and re-examine all its ports)."""
        self._dirty_switches.add(name)

    def mark_switch_acls(self, ls_uuid: str) -> None:
        """Rebuild the ACL list of switch ``ls_uuid`` (if it is a valid switch)."""
        name = self.switch_name.get(ls_uuid)
        if name is not None:
            self._dirty_acls.add(name)

    def mark_port(self, name: str) -> None:
        """Rebuild the port called ``name``."""
        self._dirty_ports.add(name)

    def mark_flags(self, switch: str) -> None:
        """Recompute the derived flags of switch ``switch``."""
        self._dirty_flags.add(switch)

    def mark_all(self) -> None:
        """Everything, as for a full recompute."""
        for row in self.nb.tables["Logical_Switch"].rows.values():
            self.mark_switch(row["name"])
        for name in self.switches:
            self.mark_switch(name)
        for name in self.data.ports:
            self.mark_port(name)
        self.pgs.mark_all()

    # -- running ---------------------------------------------------------------------

    def recompute(self, globals_: NorthdGlobals) -> None:
        """Rebuild everything from the NB; tunnel keys of surviving objects are kept."""
        self.data = NorthdData(globals=globals_)
        self.switches.clear()
        self.switch_name.clear()
        self.pgs.clear()
        self.tracker = Tracker()
        kept_dps = self.dp_keys.owners()
        kept_ports = {ls: keys.owners() for ls, keys in self.port_keys.items()}
        self.mark_all()
        self.flush()
        # Sweep the keys of objects that are gone for good.
        for owner in kept_dps:
            if owner not in self.switch_name:
                self.dp_keys.release_owner(owner)
                self.port_keys.pop(str(owner), None)
        for ls, owners in kept_ports.items():
            keys = self.port_keys.get(ls)
            if keys is None:
                continue
            for port in owners:
                current = self.data.ports.get(str(port))
                if current is None or self.switches[current.datapath].uuid != ls:
                    keys.release_owner(port)
        self.data.tracked = None
        self.data.address_sets["svc_monitor_mac"] = self.pgs.svc_monitor_set(globals_)

    def begin_run(self) -> None:
        """Start a new engine run: forget the previous run's changes."""
        self.tracker = Tracker()
        self.data.tracked = NorthdTracked()

    def flush(self) -> bool:
        """Rebuild whatever is dirty; returns whether the data changed in this call."""
        before, self.tracker.changed = self.tracker.changed, False
        while self._dirty_switches or self._dirty_acls or self._dirty_ports \
                or self.pgs.dirty or self._dirty_flags:
            for name in sorted(self._dirty_switches):
                self._dirty_switches.discard(name)
                self._refresh_switch(name)
            for name in sorted(self._dirty_acls):
                self._dirty_acls.discard(name)
                self._refresh_switch_acls(name)
            for name in sorted(self._dirty_ports):
                self._dirty_ports.discard(name)
                self._refresh_port(name)
            self.pgs.flush()
            for name in sorted(self._dirty_flags):
                self._dirty_flags.discard(name)
                self._refresh_flags(name)
        self.pgs.flush_address_sets()
        self.data.tracked = self.tracker.freeze()
        changed = self.tracker.changed
        self.tracker.changed = before or changed
        return changed

    # -- switches --------------------------------------------------------------------

    def _switch_winner(self, name: str) -> Row | None:
        rows = sorted(self.nb.index("Logical_Switch", "name").rows(name),
                      key=lambda r: r.uuid)
        for loser in rows[1:]:
            self.warn(("ls-dup", loser.uuid),
                      f"Logical_Switch {loser.uuid}: duplicate name {name!r} (also "
                      f"{rows[0].uuid}); ignoring this switch")
        return rows[0] if rows else None

    def _dp_key(self, ls_uuid: str) -> int:
        if ls_uuid in self.dp_keys.key_of:
            return self.dp_keys.key_of[ls_uuid]
        for row in self.sb.tables["Datapath_Binding"].rows.values():
            if row["external_ids"].get("logical-switch") == ls_uuid \
                    and self.dp_keys.claim(int(row["tunnel_key"]), ls_uuid):
                return int(row["tunnel_key"])
        return self.dp_keys.allocate(ls_uuid)

    def _refresh_switch(self, name: str) -> None:
        row = self._switch_winner(name)
        cur = self.switches.get(name)
        if cur is not None and (row is None or row.uuid != cur.uuid):
            self._remove_switch(cur)
            cur = None
        if row is None:
            return
        key = self._dp_key(row.uuid)
        if key == 0:
            self.warn(("dp-keys",), f"Logical_Switch {name} ({row.uuid}): all datapath "
                      "tunnel keys are in use; ignoring this switch")
            return
        if cur is None:
            cur = _Switch(row.uuid, name, key, row["other_config"], row["external_ids"],
                          (), mcast_switch_info(row["other_config"]))
            self.switches[name] = cur
            self.switch_name[row.uuid] = name
            self.port_keys.setdefault(row.uuid, TunnelKeys(1, PORT_KEY_MAX))
        else:
            cur.other_config, cur.external_ids = row["other_config"], row["external_ids"]
            cur.mcast = mcast_switch_info(row["other_config"])
        self._refresh_switch_acls(name)
        lsp_rows = self.nb.tables["Logical_Switch_Port"].rows
        for lsp in row["ports"]:
            lsp_row = lsp_rows.get(lsp)
            if lsp_row is not None:
                self.mark_port(lsp_row["name"])
        for port in cur.ports:
            self.mark_port(port)
        self.mark_flags(name)

    def _refresh_switch_acls(self, name: str) -> None:
        cur = self.switches.get(name)
        if cur is None:
            return
        row = self.nb.tables["Logical_Switch"].rows.get(cur.uuid)
        if row is None:
            return
        acl_rows = self.nb.tables["ACL"].rows
        acls = tuple(acl_info(acl_rows[u], "switch", name) for u in row["acls"]
                     if u in acl_rows)
        if acls != cur.acls:
            cur.acls = acls
            self.mark_flags(name)

    def _remove_switch(self, cur: _Switch) -> None:
        old = self.data.switches.pop(cur.name, None)
        del self.switches[cur.name]
        for port in list(cur.ports.values()):
            self._drop_port(port)
            self.tracker.port_gone(port)
            self.mark_port(port.name)       # a duplicate elsewhere may take its place
        if self.switch_name.get(cur.uuid) == cur.name:
            del self.switch_name[cur.uuid]
            self.dp_keys.release_owner(cur.uuid)
            self.port_keys.pop(cur.uuid, None)
        # Otherwise the switch was renamed and its new name was built first: the keys
        # (datapath and ports) stay with it.
        self.pgs.switch_removed(cur.name)
        if old is not None:
            self.tracker.switch_gone(old)

    def _refresh_flags(self, name: str) -> None:
        cur = self.switches.get(name)
        if cur is None:
            return
        has_unknown, localnet, has_vtep = port_flags(cur.ports.values())
        has_acls, has_stateful = self.pgs.acl_flags(name, cur.acls)
        new = SwitchDatapath(
            name=name, uuid=cur.uuid, tunnel_key=cur.tunnel_key,
            other_config=cur.other_config, external_ids=cur.external_ids,
            ports=dict(cur.ports), acls=cur.acls,
            port_groups=self.pgs.on_switch(name), localnet_ports=localnet,
            has_unknown=has_unknown, has_acls=has_acls, has_stateful_acl=has_stateful,
            has_lb_vip=False, has_vtep_lports=has_vtep, mcast_info=cur.mcast)
        old = self.data.switches.get(name)
        self.data.switches[name] = new
        if old is None:
            self.tracker.switch_set(name, existed=False)
        elif _switch_level(old) != _switch_level(new):
            self.tracker.switch_set(name, existed=True)
        # Otherwise only ports changed, and they were reported one by one.

    # -- ports -----------------------------------------------------------------------

    def _port_candidate(self, name: str) -> tuple[Row, _Switch] | None:
        """The LSP row that owns ``name``: among rows with that name listed by a valid
        switch, the smallest UUID (ties between switches: the smallest switch UUID)."""
        found: list[tuple[str, str, Row, _Switch]] = []
        for lsp in self.nb.index("Logical_Switch_Port", "name").rows(name):
            for ls in self.nb.index("Logical_Switch", "ports").rows(lsp.uuid):
                sw_name = self.switch_name.get(ls.uuid)
                if sw_name is not None:
                    found.append((lsp.uuid, ls.uuid, lsp, self.switches[sw_name]))
        if not found:
            return None
        found.sort(key=lambda f: (f[0], f[1]))
        for lsp_uuid, ls_uuid, _, _ in found[1:]:
            self.warn(("lsp-dup", lsp_uuid, ls_uuid),
                      f"Logical_Switch_Port {name} ({lsp_uuid}) on switch {ls_uuid}: "
                      f"duplicate logical port name (kept {found[0][0]}); ignoring it")
        return found[0][2], found[0][3]

    def _port_key(self, name: str, sw: _Switch) -> int:
        keys = self.port_keys[sw.uuid]
        if name in keys.key_of:
            return keys.key_of[name]
        dp_key = None
        for pb in self.sb.index("Port_Binding", "logical_port").rows(name):
            dp = self.sb.row("Datapath_Binding", pb["datapath"])
            if dp is not None and dp["external_ids"].get("logical-switch") == sw.uuid:
                dp_key = int(pb["tunnel_key"])
        if dp_key is not None and keys.claim(dp_key, name):
            return dp_key
        return keys.allocate(name)

    def _port_tag(self, row: Row) -> int | None:
        request, parent = row["tag_request"], row["parent_name"]
        if request is None:
            tag: int | None = row["tag"]
            return tag
        if request != 0 or not parent:
            return int(request) if request != 0 else row["tag"]
        if row["tag"] is not None:
            return int(row["tag"])
        used = {r["tag"] for r in self.nb.index("Logical_Switch_Port", "parent_name")
                .rows(parent) if r["tag"] is not None}
        for child in self.pgs.children(parent):
            port = self.data.ports.get(child)
            if port is not None and port.tag is not None and port.uuid != row.uuid:
                used.add(port.tag)
        for tag in range(1, _MAX_TAG + 1):
            if tag not in used:
                return tag
        self.warn(("tags", parent), f"Logical_Switch_Port {row['name']} ({row.uuid}): "
                  f"no free tag left under parent {parent}")
        return None

    def _refresh_port(self, name: str) -> None:
        found = self._port_candidate(name)
        old = self.data.ports.get(name)
        if found is None:
            if old is not None:
                self._drop_port(old)
                self.tracker.port_gone(old)
            return
        row, sw = found
        if old is not None and old.datapath != sw.name:
            self._drop_port(old)
            self.tracker.port_gone(old)
            old = None
        key = self._port_key(name, sw)
        if key == 0:
            self.warn(("port-keys", sw.uuid), f"Logical_Switch_Port {name} ({row.uuid}): "
                      f"all port tunnel keys of switch {sw.name} are in use; ignoring it")
            if old is not None:
                self._drop_port(old)
                self.tracker.port_gone(old)
            return
        port = build_switch_port(row, sw.name, key, self._port_tag(row), self.warn)
        if port == old:
            return
        sw.ports[name] = port
        self.data.ports[name] = port
        self.pgs.port_changed(name, old, port)
        self.mark_flags(sw.name)
        self.tracker.port_set(name, existed=old is not None)

    def _drop_port(self, port: SwitchPort) -> None:
        """Take ``port`` out of the data (its switch may already be gone)."""
        self.data.ports.pop(port.name, None)
        sw = self.switches.get(port.datapath)
        if sw is not None and sw.ports.get(port.name) is port:
            del sw.ports[port.name]
            self.port_keys[sw.uuid].release_owner(port.name)
            self.mark_flags(sw.name)
        self.pgs.port_changed(port.name, port, None)


def _switch_level(sw: SwitchDatapath) -> tuple[object, ...]:
    """Everything of a switch but its ports: what ``datapaths_updated`` reports."""
    return (sw.uuid, sw.tunnel_key, sw.other_config, sw.external_ids, sw.acls,
            sw.port_groups, sw.localnet_ports, sw.has_unknown, sw.has_acls,
            sw.has_stateful_acl, sw.has_lb_vip, sw.has_vtep_lports, sw.mcast_info)
