"""The engine graph of pyovn-northd: every node and every edge, in one place.

::

  NB_nb_global ─┬──────────────► global_config ──┬─────────────────────────┐
  SB_chassis ───┘ (writes NB_Global.options)     │                         │
                                                 ▼                         │
  NB_logical_switch ──────┐                                                │
  NB_logical_switch_port ─┤                                                │
  NB_acl ─────────────────┤                                                │
  NB_port_group ──────────┼──► northd ══(NorthdData + tracked)══╗          │
  NB_address_set ─────────┤     ▲                                ║          │
  NB_meter ───────────────┘     └ SB_datapath_binding,           ║          │
                                  SB_port_binding (keys only)    ║          │
      ╔══════════════════════════════════════════════════════════╝          │
      ╠═► sync_datapaths ──(SbDatapaths)──┬─► sync_port_bindings ─┐         │
      ║     ▲ SB_datapath_binding         │     ▲ SB_port_binding │         │
      ║                                   │     ▲ SB_chassis      ▼         │
      ╠═════════════════════════════════════════════════► sync_multicast_groups
      ╠═► sync_address_sets ◄─ SB_address_set                               │
      ╠═► sync_port_groups ◄── SB_port_group                                │
      ╠═► sync_ip_multicast ◄── sync_datapaths, SB_ip_multicast             │
      ║   sync_meters ◄── NB_meter(_band), NB_acl, SB_meter(_band)          │
      ╠═► nb_port_sync ◄── SB_port_binding, SB_chassis (writes LSP up, tag) │
      ╚═► [lflow nodes]  ◄── sync_datapaths, global_config ◄────────────────┘
  NB_nb_global, SB_sb_global, global_config ─► sb_global_sync
  NB_nb_global, SB_sb_global, SB_chassis(_private) ─► nb_cfg_report
  every writer ─► northd_output

**The lflow seam.** ``northd`` is the node logical-flow generation consumes: its data is
:class:`~pyovn.northd.model.NorthdData` — switches by name (each with its ports, ACLs,
port groups and flags), ports, port groups, address sets, meters and globals — and its
``tracked`` field says which datapaths / ports / port groups / address sets were added,
updated or deleted in this run (None after a recompute). ``sync_datapaths`` gives the
SB Datapath_Binding UUID of each switch (for ``Logical_Flow.logical_datapath`` and
``Logical_DP_Group.datapaths``), with the names whose UUID changed. The package
:mod:`pyovn.northd.lflow` plugs its nodes in through
:func:`pyovn.northd.lflow.build_lflow_nodes` (see :mod:`pyovn.northd.seam`); when it
does not provide that function the graph is built without logical flows.

Nodes that write declare which database's transaction they need. The daemon runs the
engine only when no transaction of its own is in flight, so every node sees a
Southbound that includes all earlier writes (``northd`` depends on that to keep tunnel
keys stable); when a database cannot take a write the writers are canceled and
recomputed later.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pyovn.daemon import RateLimitedLogger
from pyovn.engine import Engine, Node, noop_handler
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.global_config import GlobalConfig
from pyovn.northd.nb_port_sync import NbPortSync
from pyovn.northd.northd import NorthdNode
from pyovn.northd.sb_sync_datapaths import SyncDatapaths
from pyovn.northd.sb_sync_global import NbCfgReport, SbGlobalSync
from pyovn.northd.sb_sync_groups import SyncAddressSets, SyncPortGroups
from pyovn.northd.sb_sync_ipmc import IPMC_COLUMNS, SyncIpMulticast
from pyovn.northd.sb_sync_mcast import SyncMulticastGroups
from pyovn.northd.sb_sync_meters import SyncMeters
from pyovn.northd.sb_sync_ports import PB_COLUMNS, SyncPortBindings
from pyovn.northd.seam import LflowInputs, NorthdContext
from pyovn.ovsdb import Client

__all__ = ["NB_TABLES", "SB_TABLES", "NorthdContext", "NorthdGraph", "build_graph"]

log = logging.getLogger("pyovn.northd")

#: Tables and columns pyovn-northd monitors (None: all columns).
NB_TABLES: dict[str, list[str] | None] = {
    "NB_Global": None,
    "Logical_Switch": ["name", "ports", "acls", "other_config", "external_ids"],
    "Logical_Switch_Port": ["name", "type", "options", "parent_name", "tag_request", "tag",
                            "addresses", "dynamic_addresses", "port_security", "up",
                            "enabled", "external_ids"],
    "ACL": ["name", "priority", "direction", "match", "action", "log", "severity",
            "meter", "label", "options"],
    "Address_Set": ["name", "addresses"],
    "Port_Group": ["name", "ports", "acls"],
    "Meter": ["name", "unit", "bands", "fair"],
    "Meter_Band": ["action", "rate", "burst_size"],
}
_SB_OWN: dict[str, list[str] | None] = {
    "SB_Global": None,
    "Chassis": ["name", "hostname", "other_config"],
    "Chassis_Private": ["name", "chassis", "nb_cfg", "nb_cfg_timestamp"],
    "Datapath_Binding": ["tunnel_key", "external_ids"],
    "Port_Binding": [*PB_COLUMNS, "up", "chassis"],
    "Multicast_Group": ["datapath", "name", "tunnel_key", "ports"],
    "Address_Set": ["name", "addresses"],
    "Port_Group": ["name", "ports"],
    "Meter": ["name", "unit", "bands"],
    "Meter_Band": ["action", "rate", "burst_size"],
    "IP_Multicast": [*IPMC_COLUMNS],
}


def _lflow_module() -> ModuleType | None:
    """:mod:`pyovn.northd.lflow` if it provides the seam (see :mod:`pyovn.northd.seam`)."""
    try:
        module = importlib.import_module("pyovn.northd.lflow")
    except ImportError:
        return None
    return module if hasattr(module, "build_lflow_nodes") else None


def _sb_tables() -> dict[str, list[str] | None]:
    tables = dict(_SB_OWN)
    module = _lflow_module()
    extra: dict[str, list[str] | None] = getattr(module, "LFLOW_SB_TABLES", {}) or {}
    for table, columns in extra.items():
        if table not in tables:
            tables[table] = columns
            continue
        mine = tables[table]
        tables[table] = None if mine is None or columns is None else sorted(
            {*mine, *columns})
    return tables


SB_TABLES: dict[str, list[str] | None] = _sb_tables()


class NorthdOutput(Node[None]):
    """The graph's single output, so that one Engine holds every node."""

    def __init__(self, *inputs: Node[Any]) -> None:
        super().__init__("northd_output", None)
        for node in inputs:
            # This node has no data and only gathers the graph: nothing to handle.
            self.add_input(node, noop_handler)

    def run(self, ctx: NorthdContext) -> bool:
        """Nothing to compute."""
        return False


@dataclass
class NorthdGraph:
    """The wired graph, its leaf nodes by database, and the nodes the daemon pokes."""

    engine: Engine
    nb_inputs: list[TableInput]
    sb_inputs: list[TableInput]
    northd: NorthdNode


def build_graph(nb: Client, sb: Client, *, with_lflows: bool = True) -> NorthdGraph:
    """Wire pyovn-northd's engine on the NB and SB clients (monitoring ``NB_TABLES`` and
    ``SB_TABLES``); ``with_lflows=False`` leaves the lflow nodes out."""
    nb_in = {t: TableInput(nb, t) for t in NB_TABLES}
    sb_in = {t: TableInput(sb, t) for t in SB_TABLES if t in sb.tables}
    rl = RateLimitedLogger(log)

    def warn(key: tuple[Any, ...], message: str) -> None:
        rl.warning(key, "%s", message)

    global_config = GlobalConfig(nb_in["NB_Global"], sb_in["Chassis"])
    northd = NorthdNode(
        nb, sb, logical_switch=nb_in["Logical_Switch"],
        logical_switch_port=nb_in["Logical_Switch_Port"], acl=nb_in["ACL"],
        port_group=nb_in["Port_Group"], address_set=nb_in["Address_Set"],
        meter=nb_in["Meter"], global_config=global_config,
        sb_datapath_binding=sb_in["Datapath_Binding"],
        sb_port_binding=sb_in["Port_Binding"], warn=warn)
    datapaths = SyncDatapaths(northd, sb_in["Datapath_Binding"])
    ports = SyncPortBindings(northd, datapaths, sb_in["Port_Binding"], sb_in["Chassis"])
    writers: list[Node[Any]] = [
        datapaths, ports,
        SyncMulticastGroups(northd, datapaths, ports, sb_in["Multicast_Group"]),
        SyncIpMulticast(northd, datapaths, sb_in["IP_Multicast"]),
        SyncAddressSets(northd, sb_in["Address_Set"]),
        SyncPortGroups(northd, sb_in["Port_Group"]),
        SyncMeters(nb_in["Meter"], nb_in["Meter_Band"], nb_in["ACL"], sb_in["Meter"],
                   sb_in["Meter_Band"]),
        NbPortSync(nb, sb, northd, sb_in["Port_Binding"], sb_in["Chassis"]),
        SbGlobalSync(nb_in["NB_Global"], sb_in["SB_Global"], global_config),
        NbCfgReport(nb_in["NB_Global"], sb_in["SB_Global"], sb_in["Chassis_Private"],
                    sb_in["Chassis"]),
    ]
    module = _lflow_module() if with_lflows else None
    if module is not None:
        writers.append(module.build_lflow_nodes(LflowInputs(
            northd=northd, global_config=global_config, sb_datapaths=datapaths,
            nb=nb_in, sb=sb_in)))
    engine = Engine(NorthdOutput(*writers), name="northd")
    return NorthdGraph(engine, list(nb_in.values()), list(sb_in.values()), northd)
