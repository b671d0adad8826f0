"""The ``lflow_output`` node: the OpenFlow flows of the logical flows of local datapaths.

Its data (:class:`LflowFlows`) maps a Logical_Flow UUID (the flows' parent in the
desired flow table) to the flows it yields on every local datapath it applies to, and
says which lflows' flows changed in this run — the same shape as
:class:`~pyovn.controller.physical_node.PhysicalFlows`, so ``flow_output`` replaces
exactly those parents.

Inputs and how their changes are handled:

- ``SB_logical_flow``: inserted, modified and deleted lflows are translated again or
  dropped, one by one (the other lookups are unchanged in such a run, so the result
  equals a recompute).
- ``runtime_data``, ``SB_port_binding``, ``SB_multicast_group``: a change that leaves
  what the translation reads from them as it was — the local datapaths and their
  keys, the claimed ports, the (datapath, name) → tunnel key map of the local
  datapaths — is handled with nothing to do (claims echoed, ``up`` set, ports joining
  a multicast group: the common changes). Anything else recomputes.
- ``SB_logical_dp_group``, ``SB_datapath_binding``, ``SB_address_set``,
  ``SB_port_group`` recompute the node: every lflow of the local datapaths is
  translated again. The dependency index of DESIGN.md section 5 (resource → lflows)
  will replace these recomputes.

A logical flow that cannot be translated is logged (rate-limited, with its UUID) and
yields no flows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pyovn.controller.runtime_data import RuntimeData
from pyovn.daemon import RateLimitedLogger
from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.lflow.translate import ConjIdAllocator, LflowTranslateError, Lookups, translate_lflow
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
}


@dataclass
class LflowFlows:
    """Flows by lflow UUID, and the lflows whose flows changed in this run."""

    flows: dict[str, list[Flow]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Dp:
    key: int
    is_switch: bool
    snat_ct_zone: bool


class LflowOutputNode(Node[LflowFlows]):
    """Translates the logical flows of the local datapaths (see the module docstring)."""

    def __init__(self, runtime_data: Node[RuntimeData], sb: dict[str, TableInput]) -> None:
        super().__init__("lflow_output", LflowFlows())
        self.runtime_data = runtime_data
        self.sb = sb
        self.conj_ids = ConjIdAllocator()
        self._rl = RateLimitedLogger(log)
        self._lookups = Lookups()
        self._dps: dict[str, _Dp] = {}
        self._claimed: frozenset[str] = frozenset()
        # No handlers yet: a change to any of these may alter many lflows' flows.
        for name in ("Logical_DP_Group", "Datapath_Binding", "Address_Set", "Port_Group"):
            self.add_input(sb[name])
        self.add_input(sb["Port_Binding"], self._names_handler("Port_Binding", "logical_port"))
        self.add_input(sb["Multicast_Group"], self._names_handler("Multicast_Group", "name"))
        self.add_input(runtime_data, self._runtime_handler)
        # Last, so that its handler (the only one that changes the data) runs only once
        # every other input was handled: a recompute after it would not see its changes.
        self.add_input(sb["Logical_Flow"], self._lflow_handler)

    def clear_tracked_data(self) -> None:
        """No lflow changed yet in this run."""
        self.data.changed = set()

    # -- lookups -------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Build the lookups from the current rows (valid until a recompute)."""
        rd = self.runtime_data.data
        dp_rows = self.sb["Datapath_Binding"].rows
        self._dps = {}
        for uuid, ldp in rd.local_datapaths.items():
            row = dp_rows.get(uuid)
            ids: dict[str, str] = row["external_ids"] if row is not None else {}
            self._dps[uuid] = _Dp(ldp.tunnel_key, "logical-router" not in ids,
                                  "snat-ct-zone" in ids)
        keys_by_uuid = {u: d.key for u, d in self._dps.items()}
        ports: dict[tuple[int, str], int] = {}
        for table, column in (("Port_Binding", "logical_port"), ("Multicast_Group", "name")):
            for row in self.sb[table].rows.values():
                dp_key = keys_by_uuid.get(row["datapath"])
                if dp_key is not None:
                    ports[(dp_key, row[column])] = row["tunnel_key"]
        address_sets = {r["name"]: list(r["addresses"])
                        for r in self.sb["Address_Set"].rows.values()}
        port_groups = {r["name"]: list(r["ports"]) for r in self.sb["Port_Group"].rows.values()}
        claimed = frozenset(rd.bindings.claimed)
        self._claimed = claimed

        def lookup_port(dp_key: int, name: str) -> int | None:
            return ports.get((dp_key, name))

        self._lookups = Lookups(lookup_port=lookup_port, address_sets=address_sets,
                                port_groups=port_groups,
                                is_chassis_resident=lambda port: port in claimed,
                                conj_ids=self.conj_ids)

    def _dp_keys(self, rd: RuntimeData) -> dict[str, int]:
        return {u: d.tunnel_key for u, d in rd.local_datapaths.items()}

    def _runtime_handler(self, ctx: Any) -> HandlerResult:
        rd = self.runtime_data.data
        if self._dp_keys(rd) != {u: d.key for u, d in self._dps.items()} \
                or frozenset(rd.bindings.claimed) != self._claimed:
            return HandlerResult.UNHANDLED
        return HandlerResult.HANDLED_UNCHANGED

    def _names_handler(self, table: str, column: str) -> Callable[[Any], HandlerResult]:
        """A handler for a table of named ports: unchanged while the port keys of the
        local datapaths are."""
        def handle(ctx: Any) -> HandlerResult:
            changes = self.sb[table].changes
            if changes is None:
                return HandlerResult.UNHANDLED
            keys = {u: d.key for u, d in self._dps.items()}
            for row in changes.inserted.values():
                if row["datapath"] in keys:
                    return HandlerResult.UNHANDLED
            for row in changes.deleted.values():
                if row["datapath"] in keys:
                    return HandlerResult.UNHANDLED
            for old, new in changes.modified.values():
                if (old["datapath"] in keys or new["datapath"] in keys) and (
                        old["datapath"], old[column], old["tunnel_key"]) != (
                        new["datapath"], new[column], new["tunnel_key"]):
                    return HandlerResult.UNHANDLED
            return HandlerResult.HANDLED_UNCHANGED
        return handle

    def _datapaths(self, lflow: Row) -> Iterable[_Dp]:
        dp = lflow["logical_datapath"]
        if dp is not None:
            local = self._dps.get(dp)
            return [local] if local is not None else []
        group = self.sb["Logical_DP_Group"].rows.get(lflow["logical_dp_group"] or "")
        if group is None:
            return []
        return [d for d in (self._dps.get(u) for u in group["datapaths"]) if d is not None]

    def _translate(self, uuid: str, lflow: Row) -> list[Flow]:
        flows: list[Flow] = []
        tags: dict[str, str] = lflow["tags"]
        for dp in self._datapaths(lflow):
            try:
                flows.extend(translate_lflow(
                    uuid, lflow["pipeline"], lflow["table_id"], lflow["priority"],
                    lflow["match"], lflow["actions"], dp_key=dp.key, lookups=self._lookups,
                    is_switch=dp.is_switch, snat_ct_zone=dp.snat_ct_zone,
                    controller_meter=lflow["controller_meter"],
                    in_out_port=tags.get("in_out_port")))
            except LflowTranslateError as err:
                self._rl.warning(("lflow", uuid), "%s", err)
        return flows

    def _set(self, uuid: str, flows: list[Flow]) -> None:
        old = self.data.flows.get(uuid)
        if flows:
            self.data.flows[uuid] = flows
        else:
            self.data.flows.pop(uuid, None)
            self.conj_ids.free(uuid)
        if old != (flows or None):
            self.data.changed.add(uuid)

    # -- engine --------------------------------------------------------------------------

    def run(self, ctx: Any) -> bool:
        """Translate every lflow of the local datapaths."""
        self._prepare()
        old = self.data.flows
        new: dict[str, list[Flow]] = {}
        for uuid, lflow in self.sb["Logical_Flow"].rows.items():
            flows = self._translate(uuid, lflow)
            if flows:
                new[uuid] = flows
        for uuid in old.keys() - new.keys():
            self.conj_ids.free(uuid)
        self.data.flows = new
        self.data.changed = {u for u in old.keys() | new.keys() if old.get(u) != new.get(u)}
        return bool(self.data.changed)

    def _lflow_handler(self, ctx: Any) -> HandlerResult:
        changes = self.sb["Logical_Flow"].changes
        if changes is None:
            return HandlerResult.UNHANDLED
        for uuid in changes.deleted:
            self._set(uuid, [])
        for uuid, lflow in changes.inserted.items():
            self._set(uuid, self._translate(uuid, lflow))
        for uuid, (_old, lflow) in changes.modified.items():
            self._set(uuid, self._translate(uuid, lflow))
        return HandlerResult.HANDLED_UPDATED if self.data.changed \
            else HandlerResult.HANDLED_UNCHANGED
