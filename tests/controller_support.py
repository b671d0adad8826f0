"""Test support for pyovn-controller's binding and physical nodes.

:class:`NodeDriver` runs the nodes of :mod:`pyovn.controller.binding_graph` in the test
process against a sandbox's databases, the way the daemon will: feed the clients'
change sets, run the engine with a write context, commit the ops, repeat until quiet.
With ``write=False`` nothing is written (the writers are canceled), so it can run next
to a real ovn-controller and compute the flows pyovn would install on the same state.

:func:`dump_flows` reads ``ovs-ofctl dump-flows`` back into canonical flows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from controller_rows import parse_dump_line
from pyovn.controller.binding_graph import OVS_TABLES, SB_TABLES, build_binding_nodes
from pyovn.controller.graph import ChassisConfigNode, ControllerOutput
from pyovn.engine import Engine
from pyovn.engine.ovsdb_input import TableInput, feed_changes
from pyovn.openflow import Action, Flow, SetField
from pyovn.ovsdb import Client, Op, TxnStatus
from pyovn.sandbox.procs import SB_SCHEMA, VSWITCH_SCHEMA
from pyovn.sandbox.sandbox import Sandbox

#: The tables whose flows ovn-controller builds itself (not from logical flows).
PHYSICAL_TABLES = frozenset({0, 37, 38, 39, 40, 41, 64, 65, 66, 67, 71, 72, 73, 74, 75})


def dump_flows(sandbox: Sandbox, tables: Iterable[int] = PHYSICAL_TABLES) -> set[Flow]:
    """The switch's flows in ``tables``."""
    wanted = set(tables)
    text = sandbox.ofctl("--no-stats", "dump-flows", "br-int")
    flows = {parse_dump_line(line) for line in text.splitlines() if "actions=" in line}
    return {f for f in flows if f.table_id in wanted}


def remap_zones(flows: Iterable[Flow], mapping: dict[int, int]) -> set[Flow]:
    """``flows`` with the zone numbers loaded into reg11/12/13 renamed by ``mapping``."""
    out = set()
    for flow in flows:
        out.add(flow.replace(actions=tuple(_remap(a, mapping) for a in flow.actions)))
    return out


def _remap(action: Action, mapping: dict[int, int]) -> Action:
    if isinstance(action, SetField) and action.field in ("reg11", "reg12", "reg13") \
            and action.mask is None:
        return SetField(action.field, mapping.get(action.value, action.value))
    return action


@dataclass
class WriteCtx:
    """The engine context: ops to commit per database (None: cannot write)."""

    sb_ops: list[Op] | None = field(default_factory=list)
    ovs_ops: list[Op] | None = field(default_factory=list)


class NodeDriver:
    """The binding/physical nodes on a sandbox's databases, run in this process."""

    def __init__(self, sandbox: Sandbox, *, write: bool = True) -> None:
        self.write = write
        ovs_tables = {"Open_vSwitch": ["external_ids", "other_config", "iface_types"],
                      **{t: c for t, c in OVS_TABLES.items() if t != "Open_vSwitch"}}
        self.ovs = Client(sandbox.ovs_remote, VSWITCH_SCHEMA, ovs_tables)
        self.sb = Client(sandbox.sb_remote, SB_SCHEMA, SB_TABLES)
        self.ovs_in = {t: TableInput(self.ovs, t) for t in ovs_tables}
        self.sb_in = {t: TableInput(self.sb, t) for t in SB_TABLES}
        self.config = ChassisConfigNode(self.ovs_in["Open_vSwitch"])
        self.nodes = build_binding_nodes(self.config, self.ovs_in, self.sb_in)
        self.engine = Engine(ControllerOutput(*self.nodes.outputs), name="test")
        self.seqno = 0

    def close(self) -> None:
        """Disconnect both clients."""
        self.ovs.close()
        self.sb.close()

    def _sync(self, timeout: float) -> None:
        self.ovs.run_until(lambda: self.ovs.synced, timeout)
        self.sb.run_until(lambda: self.sb.synced, timeout)

    def run_once(self) -> tuple[list[Op], list[Op]]:
        """Feed changes, run the engine once, commit what it wrote; return the ops."""
        self.ovs.run()
        self.sb.run()
        feed_changes(self.ovs, self.ovs_in.values())
        feed_changes(self.sb, self.sb_in.values())
        ctx = WriteCtx() if self.write else WriteCtx(None, None)
        self.engine.run(ctx)
        for client, ops in ((self.sb, ctx.sb_ops), (self.ovs, ctx.ovs_ops)):
            if ops:
                txn = client.transact(ops)
                client.run_until(lambda t=txn: t.done, 10)  # type: ignore[misc]
                assert txn.status is TxnStatus.SUCCESS, (txn.error, txn.details, ops)
                # The echo of our own write arrives before the reply: nothing to wait for.
        return ctx.sb_ops or [], ctx.ovs_ops or []

    def converge(self, timeout: float = 10.0, settle: float = 0.3) -> None:
        """Run until an iteration writes nothing and the databases stay quiet."""
        self._sync(timeout)
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            sb_ops, ovs_ops = self.run_once()
            busy = sb_ops or ovs_ops or self.engine.need_run() and self.write
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= settle:
                return
            time.sleep(0.02)
        raise AssertionError("the nodes did not converge")

    def install(self) -> None:
        """Pretend ofctrl put the current flows and the switch acknowledged them."""
        self.seqno += 1
        self.nodes.if_status.flows_requested(self.seqno)
        self.nodes.if_status.flows_installed(self.seqno)

    @property
    def flows(self) -> set[Flow]:
        """Every physical flow the nodes want installed."""
        return {f for flows in self.nodes.physical_flows.data.flows.values() for f in flows}

    def zones(self) -> dict[str, int]:
        """The nodes' conntrack zone assignment."""
        return dict(self.nodes.ct_zones.data.zones.zones)

    def bridge_zones(self) -> dict[str, int]:
        """The assignment saved in br-int's external_ids (ovn-controller's, when it runs)."""
        bridge = next(r for r in self.ovs.tables["Bridge"].rows.values()
                      if r["name"] == "br-int")
        return {k[len("ct-zone-"):]: int(v) for k, v in bridge["external_ids"].items()
                if k.startswith("ct-zone-")}


def zone_mapping(mine: dict[str, int], theirs: dict[str, int]) -> dict[int, int]:
    """Map pyovn's zone numbers to ovn-controller's, by user."""
    return {zone: theirs[user] for user, zone in mine.items() if user in theirs}
