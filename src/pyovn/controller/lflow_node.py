"""The ``lflow_output`` node: the OpenFlow flows of the logical flows of local datapaths.

Its data (:class:`LflowFlows`) maps a Logical_Flow UUID (the flows' parent in the
desired flow table) to the flows it yields on every local datapath it applies to, and
says which lflows' flows changed in this run — the same shape as
:class:`~pyovn.controller.physical_node.PhysicalFlows`, so ``flow_output`` replaces
exactly those parents.

Every input has a change handler, and every handler re-translates exactly the lflows
that the change can affect — never all of them:

- ``SB_logical_flow``: inserted and modified lflows are translated, deleted ones
  dropped.
- ``SB_address_set``, ``SB_port_group``, ``SB_port_binding``,
  ``SB_multicast_group``: the node's :class:`~pyovn.controller.lflow_deps.Resources`
  take the change, and the lflows whose translation read the changed name
  (:class:`~pyovn.controller.lflow_deps.DepIndex`) are translated again — also those
  that looked the name up and did not find it (a port's type and key also decide
  whether it is *related* to this chassis, see below).
- ``runtime_data`` and ``SB_datapath_binding``: a datapath that became local (or
  stopped being, or whose key or type changed) re-translates the lflows of that
  datapath (directly, or through a Logical_DP_Group); a port claimed or released
  re-translates the lflows that asked ``is_chassis_resident()`` about it, and those
  that asked whether it is related to this chassis (an lflow tagged ``in_out_port``
  with an unrelated port, or a switch match on its inport/outport, installs nothing,
  as in ovn-controller).
- ``SB_logical_dp_group``: a group whose members changed re-translates its lflows.

A recompute (engine-forced, or after a reconnect) reuses an lflow's flows when its
row, its datapaths and every value it read are unchanged (``DepIndex.still_valid``);
:attr:`LflowOutputNode.translations` counts the translations actually done.

A logical flow that cannot be translated is logged (rate-limited, with its UUID) and
yields no flows; it is translated again when it or something it read changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyovn.controller.extend_table import IdTable
from pyovn.controller.lflow_deps import DepIndex, DepKey, Extra, Recorder, Resources
from pyovn.controller.ofctrl_meters import sb_meter
from pyovn.controller.runtime_data import RuntimeData
from pyovn.daemon import RateLimitedLogger
from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.lflow.action_parser import GenOptionDef
from pyovn.lflow.parser import constant_from_string
from pyovn.lflow.translate import ConjIdAllocator, LflowTranslateError, translate_lflow
from pyovn.openflow import Flow
from pyovn.ovsdb import Row

__all__ = ["LFLOW_SB_TABLES", "LflowFlows", "LflowOutputNode"]

log = logging.getLogger("pyovn.controller")

#: SB tables the node reads, besides those of the binding nodes (None: all columns).
LFLOW_SB_TABLES: dict[str, list[str] | None] = {
    "Logical_Flow": None,
    "Logical_DP_Group": None,
    "Address_Set": None,
    "Port_Group": None,
    "DHCP_Options": None,
    "DHCPv6_Options": None,
    "Meter": None,
    "Meter_Band": None,
}


@dataclass
class LflowFlows:
    """Flows, and the groups and meters they use, by lflow UUID; and the lflows whose
    flows or extras changed in this run."""

    flows: dict[str, list[Flow]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    extras: dict[str, list[Extra]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Dp:
    key: int
    is_switch: bool
    snat_ct_zone: bool


def _signature(lflow: Row, dps: list[_Dp]) -> tuple[object, ...]:
    """Everything of the row and its datapaths that the translation reads."""
    return (lflow["pipeline"], lflow["table_id"], lflow["priority"], lflow["match"],
            lflow["actions"], lflow["controller_meter"], lflow["tags"].get("in_out_port"),
            tuple(dps))


class LflowOutputNode(Node[LflowFlows]):
    """Translates the logical flows of the local datapaths (see the module docstring)."""

    def __init__(self, runtime_data: Node[RuntimeData], sb: dict[str, TableInput]) -> None:
        super().__init__("lflow_output", LflowFlows())
        self.runtime_data = runtime_data
        self.sb = sb
        self.conj_ids = ConjIdAllocator()
        #: lflow translations done (a reused cached result does not count)
        self.translations = 0
        self._rl = RateLimitedLogger(log)
        self._res = Resources()
        self._dps: dict[str, _Dp] = {}
        self._key_to_dp: dict[int, str] = {}
        # Meter ids stay small: a userspace switch has fewer meters than 2**32.
        self.ids = {"group": IdTable("group"), "meter": IdTable("meter", max_id=65535)}
        self._recorder = Recorder(self._res, self._key_to_dp, self.conj_ids, self.ids)
        self._deps = DepIndex()
        self._sigs: dict[str, tuple[object, ...]] = {}
        # Every lflow by its logical_datapath and by its logical_dp_group.
        self._by_dp: dict[str, set[str]] = {}
        self._by_group: dict[str, set[str]] = {}
        # The extras of the lflow _translate handled last (read by _set and run).
        self._new_extras: list[Extra] = []
        self.add_input(sb["Datapath_Binding"], self._datapath_handler)
        self.add_input(sb["Logical_DP_Group"], self._dp_group_handler)
        self.add_input(sb["Address_Set"], self._named_set_handler(
            "Address_Set", "addresses", self._res.address_sets, "as"))
        self.add_input(sb["Port_Group"], self._named_set_handler(
            "Port_Group", "ports", self._res.port_groups, "pg"))
        self.add_input(sb["Port_Binding"], self._ports_handler(
            "Port_Binding", "logical_port", self._res.pb_ports))
        self.add_input(sb["Multicast_Group"], self._ports_handler(
            "Multicast_Group", "name", self._res.mc_groups))
        for table in ("DHCP_Options", "DHCPv6_Options"):
            self.add_input(sb[table], self._dhcp_handler)
        for table in ("Meter", "Meter_Band"):
            self.add_input(sb[table], self._meter_handler)
        self.add_input(runtime_data, self._runtime_handler)
        self.add_input(sb["Logical_Flow"], self._lflow_handler)

    def clear_tracked_data(self) -> None:
        """No lflow changed yet in this run."""
        self.data.changed = set()

    # -- resources -----------------------------------------------------------------------

    def _local_dps(self) -> dict[str, _Dp]:
        dp_rows = self.sb["Datapath_Binding"].rows
        out: dict[str, _Dp] = {}
        for uuid, ldp in self.runtime_data.data.local_datapaths.items():
            row = dp_rows.get(uuid)
            ids: dict[str, str] = row["external_ids"] if row is not None else {}
            out[uuid] = _Dp(ldp.tunnel_key, "logical-router" not in ids, "snat-ct-zone" in ids)
        return out

    def _set_dps(self, dps: dict[str, _Dp]) -> None:
        self._dps = dps
        self._key_to_dp.clear()
        self._key_to_dp.update((d.key, u) for u, d in dps.items())

    def _load_resources(self) -> None:
        """Fill the resources from the current rows (a recompute)."""
        res = self._res
        for table, column, ports in (("Port_Binding", "logical_port", res.pb_ports),
                                     ("Multicast_Group", "name", res.mc_groups)):
            ports.clear()
            for row in self.sb[table].rows.values():
                ports[(row["datapath"], row[column])] = row["tunnel_key"]
        res.pb_by_key.clear()
        res.pb_where.clear()
        for row in self.sb["Port_Binding"].rows.values():
            self._add_pb(row)
        for table, column, sets in (("Address_Set", "addresses", res.address_sets),
                                    ("Port_Group", "ports", res.port_groups)):
            sets.clear()
            for row in self.sb[table].rows.values():
                sets[row["name"]] = self._members(table, row, column)
        bindings = self.runtime_data.data.bindings
        res.claimed = frozenset(bindings.claimed)
        res.local_ifaces = frozenset(bindings.ifaces)
        self._set_dps(self._local_dps())
        self._load_dhcp()
        self._load_meters()

    def _load_meters(self) -> set[str]:
        """Take the SB meters; the names whose meter changed."""
        bands = self.sb["Meter_Band"].rows
        now: dict[str, Any] = {}
        for row in self.sb["Meter"].rows.values():
            found = [bands[u] for u in sorted(row["bands"]) if u in bands]
            now[row["name"]] = sb_meter(row["unit"], [(b["rate"], b["burst_size"])
                                                      for b in found if b["action"] == "drop"])
        meters = self._res.meters
        changed = {n for n in now.keys() | meters.keys() if now.get(n) != meters.get(n)}
        meters.clear()
        meters.update(now)
        return changed

    def _load_dhcp(self) -> bool:
        """Take the DHCP option definitions; whether they changed."""
        res, changed = self._res, False
        for table, opts in (("DHCP_Options", res.dhcp_opts),
                            ("DHCPv6_Options", res.dhcpv6_opts)):
            now = {r["name"]: GenOptionDef(r["name"], r["code"], r["type"])
                   for r in self.sb[table].rows.values()}
            if now != opts:
                opts.clear()
                opts.update(now)
                changed = True
        if changed:
            # The dicts are changed in place: parses made with the old ones must go.
            res.dhcp_version += 1
            cache = self._recorder.lookups.parse_cache
            if cache is not None:
                cache.clear()
        return changed

    def _members(self, table: str, row: Row, column: str) -> list[str]:
        """A set's members; an address that is no constant is reported (and skipped by
        the parser, as in ovn-controller)."""
        members = list(row[column])
        if table == "Address_Set":
            for bad in (m for m in members if constant_from_string(m) is None):
                self._rl.warning(("as", row["name"], bad), "Address_Set %s (%s): invalid "
                                 "constant set entry: '%s' (skipped)", row["name"],
                                 row.uuid, bad)
        return members

    def _add_pb(self, row: Row) -> None:
        where = (row["datapath"], row["tunnel_key"])
        self._res.pb_by_key[where] = (row["logical_port"], row["type"])
        self._res.pb_where[row["logical_port"]] = where

    def _remove_pb(self, row: Row) -> None:
        where = (row["datapath"], row["tunnel_key"])
        if self._res.pb_by_key.get(where, ("",))[0] == row["logical_port"]:
            del self._res.pb_by_key[where]
        if self._res.pb_where.get(row["logical_port"]) == where:
            del self._res.pb_where[row["logical_port"]]

    def _index_lflow(self, uuid: str, lflow: Row, add: bool) -> None:
        for index, ref in ((self._by_dp, lflow["logical_datapath"]),
                           (self._by_group, lflow["logical_dp_group"])):
            if ref is None:
                continue
            if add:
                index.setdefault(ref, set()).add(uuid)
            elif ref in index:
                index[ref].discard(uuid)
                if not index[ref]:
                    del index[ref]

    def _lflows_of_dps(self, dps: Iterable[str]) -> set[str]:
        wanted = set(dps)
        out: set[str] = set()
        for dp in wanted:
            out |= self._by_dp.get(dp, set())
        groups = self.sb["Logical_DP_Group"].rows
        for group, lflows in self._by_group.items():
            row = groups.get(group)
            if row is not None and not wanted.isdisjoint(row["datapaths"]):
                out |= lflows
        return out

    # -- translation ---------------------------------------------------------------------

    def _datapaths(self, lflow: Row) -> list[_Dp]:
        dp = lflow["logical_datapath"]
        if dp is not None:
            local = self._dps.get(dp)
            return [local] if local is not None else []
        group = self.sb["Logical_DP_Group"].rows.get(lflow["logical_dp_group"] or "")
        if group is None:
            return []
        return [d for d in (self._dps.get(u) for u in sorted(group["datapaths"]))
                if d is not None]

    def _translate(self, uuid: str, lflow: Row | None, reuse: bool = False) -> list[Flow]:
        """The lflow's flows on its local datapaths; records what it read."""
        dps = self._datapaths(lflow) if lflow is not None else []
        if lflow is None or not dps:
            self._forget(uuid)
            return []
        sig = _signature(lflow, dps)
        if reuse and self._sigs.get(uuid) == sig and self._deps.still_valid(uuid, self._res):
            return self.data.flows.get(uuid, [])
        self.translations += 1
        self.conj_ids.free(uuid)
        rec = self._recorder
        rec.start(uuid)
        if "put_dhcp" in lflow["actions"]:
            rec.deps[("dhcp",)] = self._res.dhcp_version
        flows: list[Flow] = []
        tags: dict[str, str] = lflow["tags"]
        for dp in dps:
            try:
                flows.extend(translate_lflow(
                    uuid, lflow["pipeline"], lflow["table_id"], lflow["priority"],
                    lflow["match"], lflow["actions"], dp_key=dp.key, lookups=rec.lookups,
                    is_switch=dp.is_switch, snat_ct_zone=dp.snat_ct_zone,
                    controller_meter=lflow["controller_meter"],
                    in_out_port=tags.get("in_out_port")))
            except LflowTranslateError as err:
                self._rl.warning(("lflow", uuid), "%s", err)
        self._deps.record(uuid, rec.deps)
        self._sigs[uuid] = sig
        if not flows:
            rec.extras = {}
        for kind, table in self.ids.items():
            table.keep_only(uuid, {text for k, text in rec.extras if k == kind})
        self._new_extras = list(rec.extras.values())
        return flows

    def _forget(self, uuid: str) -> None:
        self._deps.remove(uuid)
        self._sigs.pop(uuid, None)
        self.conj_ids.free(uuid)
        for table in self.ids.values():
            table.release(uuid)
        self._new_extras = []

    def _set(self, uuid: str, flows: list[Flow]) -> None:
        """Take the flows (and the extras ``_translate`` left) of ``uuid``."""
        data = self.data
        old, old_extras = data.flows.get(uuid), data.extras.get(uuid)
        extras = self._new_extras if flows else []
        for table, new in ((data.flows, flows), (data.extras, extras)):
            if new:
                table[uuid] = new  # type: ignore[assignment]
            else:
                table.pop(uuid, None)
        if old != (flows or None) or old_extras != (extras or None):
            data.changed.add(uuid)

    def _retranslate(self, uuids: Iterable[str]) -> HandlerResult:
        rows = self.sb["Logical_Flow"].rows
        for uuid in sorted(uuids):
            self._set(uuid, self._translate(uuid, rows.get(uuid)))
        return self._result()

    def _result(self) -> HandlerResult:
        return HandlerResult.HANDLED_UPDATED if self.data.changed \
            else HandlerResult.HANDLED_UNCHANGED

    # -- engine --------------------------------------------------------------------------

    def run(self, ctx: Any) -> bool:
        """Translate every lflow of the local datapaths, reusing unchanged results."""
        self._load_resources()
        self._by_dp.clear()
        self._by_group.clear()
        rows = self.sb["Logical_Flow"].rows
        old, old_extras = self.data.flows, self.data.extras
        new: dict[str, list[Flow]] = {}
        new_extras: dict[str, list[Extra]] = {}
        for uuid in sorted(rows):
            lflow = rows[uuid]
            self._index_lflow(uuid, lflow, add=True)
            self._new_extras = old_extras.get(uuid, [])  # kept when the result is reused
            flows = self._translate(uuid, lflow, reuse=True)
            if flows:
                new[uuid] = flows
                if self._new_extras:
                    new_extras[uuid] = self._new_extras
        for uuid in old.keys() - rows.keys():
            self._forget(uuid)
        self.data.flows, self.data.extras = new, new_extras
        # Handlers earlier in this run may have changed lflows already: keep those too.
        self.data.changed |= {u for u in old.keys() | new.keys() | old_extras.keys()
                              | new_extras.keys()
                              if old.get(u) != new.get(u)
                              or old_extras.get(u) != new_extras.get(u)}
        return bool(self.data.changed)

    def _lflow_handler(self, ctx: Any) -> HandlerResult:
        changes = self.sb["Logical_Flow"].changes
        if changes is None:
            return HandlerResult.UNHANDLED
        for uuid, lflow in changes.deleted.items():
            self._index_lflow(uuid, lflow, add=False)
        for uuid, (old, lflow) in changes.modified.items():
            self._index_lflow(uuid, old, add=False)
            self._index_lflow(uuid, lflow, add=True)
        for uuid, lflow in changes.inserted.items():
            self._index_lflow(uuid, lflow, add=True)
        return self._retranslate([*changes.deleted, *changes.inserted, *changes.modified])

    def _named_set_handler(self, table: str, column: str, sets: dict[str, Any],
                           kind: str) -> Any:
        """Address_Set / Port_Group: re-translate the readers of each changed name."""
        def handle(ctx: Any) -> HandlerResult:
            changes = self.sb[table].changes
            if changes is None:
                return HandlerResult.UNHANDLED
            names: set[str] = set()
            for row in changes.deleted.values():
                names.add(row["name"])
                sets.pop(row["name"], None)
            for old, _new in changes.modified.values():
                names.add(old["name"])
                sets.pop(old["name"], None)
            for row in [*changes.inserted.values(), *(n for _o, n in changes.modified.values())]:
                names.add(row["name"])
                sets[row["name"]] = self._members(table, row, column)
            return self._retranslate(self._deps.stale_readers(
                [(kind, n) for n in names], self._res))
        handle.__name__ = f"_{table.lower()}_handler"
        return handle

    def _ports_handler(self, table: str, column: str, ports: dict[tuple[str, str], int]) -> Any:
        """Port_Binding / Multicast_Group: re-translate the readers of changed (dp, name)."""
        def handle(ctx: Any) -> HandlerResult:
            changes = self.sb[table].changes
            if changes is None:
                return HandlerResult.UNHANDLED
            touched: set[DepKey] = set()
            olds = [*changes.deleted.values(), *(o for o, _n in changes.modified.values())]
            news = [*changes.inserted.values(), *(n for _o, n in changes.modified.values())]
            is_pb = table == "Port_Binding"
            for row in olds:
                key = (row["datapath"], row[column])
                if ports.get(key) == row["tunnel_key"]:
                    del ports[key]
                touched.add(("port", *key))
                if is_pb:
                    self._remove_pb(row)
                    touched.add(("related", row["datapath"], str(row["tunnel_key"])))
            for row in news:
                key = (row["datapath"], row[column])
                ports[key] = row["tunnel_key"]
                touched.add(("port", *key))
                if is_pb:
                    self._add_pb(row)
                    touched.add(("related", row["datapath"], str(row["tunnel_key"])))
            # A change that keeps datapath, name and key ("up", claims) reads the same:
            # only readers that got another value are translated again.
            return self._retranslate(self._deps.stale_readers(touched, self._res))
        handle.__name__ = f"_{table.lower()}_handler"
        return handle

    def _sync_local(self) -> HandlerResult:
        """Take the current local datapaths and claims; re-translate what they change."""
        dps = self._local_dps()
        moved = {u for u in dps.keys() | self._dps.keys() if dps.get(u) != self._dps.get(u)}
        bindings = self.runtime_data.data.bindings
        claimed, ifaces = frozenset(bindings.claimed), frozenset(bindings.ifaces)
        flipped = claimed ^ self._res.claimed
        names = flipped | (ifaces ^ self._res.local_ifaces)
        if moved:
            self._set_dps(dps)
        self._res.claimed, self._res.local_ifaces = claimed, ifaces
        todo = self._lflows_of_dps(moved) if moved else set()
        keys = [*(("resident", p) for p in flipped), *self._res.related_keys(names)]
        todo |= self._deps.stale_readers(keys, self._res)
        return self._retranslate(todo)

    def _meter_handler(self, ctx: Any) -> HandlerResult:
        changed = self._load_meters()
        return self._retranslate(self._deps.stale_readers([("meter", n) for n in changed],
                                                          self._res))

    def _dhcp_handler(self, ctx: Any) -> HandlerResult:
        if not self._load_dhcp():
            return HandlerResult.HANDLED_UNCHANGED
        return self._retranslate(self._deps.stale_readers([("dhcp",)], self._res))

    def _runtime_handler(self, ctx: Any) -> HandlerResult:
        return self._sync_local()

    def _datapath_handler(self, ctx: Any) -> HandlerResult:
        # A local datapath's key or type (external_ids) may have changed.
        return self._sync_local()

    def _dp_group_handler(self, ctx: Any) -> HandlerResult:
        changes = self.sb["Logical_DP_Group"].changes
        if changes is None:
            return HandlerResult.UNHANDLED
        groups = {*changes.inserted, *changes.modified, *changes.deleted}
        todo: set[str] = set()
        for group in groups:
            todo |= self._by_group.get(group, set())
        return self._retranslate(todo)
