"""The ``sync_ip_multicast`` node: one SB IP_Multicast row per switch, carrying its
IGMP/MLD snooping configuration (``other_config:mcast_*``) to the controllers, as
ovn-northd 23.03 writes it. Rows are matched by datapath; ``seq_no`` is left alone
(``ovn-sbctl`` bumps it to flush learned groups).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.model import NorthdData, SwitchDatapath
from pyovn.northd.sb_sync import RowSync
from pyovn.northd.seam import SbDatapaths
from pyovn.ovsdb import Row

__all__ = ["IPMC_COLUMNS", "SyncIpMulticast", "ip_multicast_row"]

IPMC_COLUMNS = ("datapath", "enabled", "querier", "eth_src", "ip4_src", "ip6_src",
                "table_size", "idle_timeout", "query_interval", "query_max_resp")


def ip_multicast_row(sw: SwitchDatapath, dp_uuid: str) -> dict[str, Any]:
    """The IP_Multicast columns of switch ``sw``."""
    m = sw.mcast_info
    return {"datapath": dp_uuid, "enabled": m.enabled, "querier": m.querier,
            "eth_src": m.eth_src, "ip4_src": m.ipv4_src, "ip6_src": m.ipv6_src,
            "table_size": m.table_size, "idle_timeout": m.idle_timeout,
            "query_interval": m.query_interval, "query_max_resp": m.query_max_response}


def _key(row: Row) -> str | None:
    dp: str | None = row["datapath"]
    return dp


class SyncIpMulticast(Node[None]):
    """Writes IP_Multicast; no data of its own."""

    def __init__(self, northd: Node[NorthdData], datapaths: Node[SbDatapaths],
                 sb_ip_multicast: TableInput) -> None:
        super().__init__("sync_ip_multicast", None, needs_txn=lambda ctx: ctx.sb_ops)
        self.northd, self.datapaths, self.table = northd, datapaths, sb_ip_multicast
        self.rows: RowSync[str] = RowSync("IP_Multicast", IPMC_COLUMNS, _key)
        self._key_of: dict[str, str] = {}       # switch name → its Datapath_Binding UUID
        self.add_input(northd, self.northd_handler)
        self.add_input(datapaths, self.datapaths_handler)
        self.add_input(sb_ip_multicast, self.sb_handler)

    def _set_desired(self, names: Iterable[str]) -> set[str]:
        names = set(names)
        keys = set()
        for name in names:      # forget first: a renamed switch keeps its datapath
            old = self._key_of.pop(name, None)
            if old is not None:
                self.rows.desired.pop(old, None)
                keys.add(old)
        switches, dps = self.northd.data.switches, self.datapaths.data.uuids
        for name in names:
            sw, dp = switches.get(name), dps.get(name)
            if sw is not None and dp is not None:
                self.rows.desired[dp] = ip_multicast_row(sw, dp)
                self._key_of[name] = dp
                keys.add(dp)
        return keys

    def run(self, ctx: Any) -> bool:
        """Sync every switch."""
        self.rows.desired.clear()
        self._key_of.clear()
        self._set_desired(self.northd.data.switches)
        self.rows.load(self.table.rows.values())
        self.rows.sync_all(ctx.sb_ops)
        return False

    def northd_handler(self, ctx: Any) -> HandlerResult:
        """Sync the switches that came, went or changed."""
        tracked = self.northd.data.tracked
        if tracked is None:
            return HandlerResult.UNHANDLED
        names = set(tracked.datapaths_added) | tracked.datapaths_updated
        names.update(tracked.datapaths_deleted)
        self.rows.sync(self._set_desired(names), ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED

    def datapaths_handler(self, ctx: Any) -> HandlerResult:
        """A switch's Datapath_Binding UUID changed."""
        changed = self.datapaths.data.changed
        if changed is None:
            return HandlerResult.UNHANDLED
        self.rows.sync(self._set_desired(changed), ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED

    def sb_handler(self, ctx: Any) -> HandlerResult:
        """Repair rows someone else changed or deleted."""
        changes = self.table.changes
        if changes is None:
            return HandlerResult.UNHANDLED
        self.rows.sb_changed(changes, ctx.sb_ops)
        return HandlerResult.HANDLED_UNCHANGED
