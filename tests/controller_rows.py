"""Unit-test helpers for pyovn-controller: SB/OVS rows without a database, and
``ovs-ofctl dump-flows`` text read back into canonical flows (``push:``/``pop:``
included, which the codec's own parser leaves to the lflow encoder's actions)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyovn.lflow.encode_nx import parse_nx_action
from pyovn.northd.fakedb import FakeDb
from pyovn.openflow import Action, Flow, parse_action, parse_flow
from pyovn.openflow.parse import split_top_level
from pyovn.ovsdb import Row
from pyovn.sandbox.procs import SB_SCHEMA, VSWITCH_SCHEMA

SB_TABLES: dict[str, list[str] | None] = {
    t: None for t in ("Chassis", "Encap", "Chassis_Private", "Datapath_Binding",
                      "Port_Binding", "Multicast_Group", "MAC_Binding",
                      "Static_MAC_Binding", "FDB")}
OVS_TABLES: dict[str, list[str] | None] = {
    "Open_vSwitch": ["external_ids", "other_config", "iface_types"],
    "Bridge": ["name", "datapath_type", "ports", "external_ids"],
    "Port": ["name", "interfaces", "external_ids"],
    "Interface": ["name", "type", "ofport", "external_ids", "options"],
}


def sb_db(seed: int = 0) -> FakeDb:
    """An empty in-memory Southbound."""
    return FakeDb(SB_SCHEMA, SB_TABLES, seed=seed)


def ovs_db(seed: int = 0) -> FakeDb:
    """An empty in-memory Open_vSwitch database."""
    return FakeDb(VSWITCH_SCHEMA, OVS_TABLES, seed=seed)


def row(db: FakeDb, table: str, uuid: str | None = None, **values: Any) -> Row:
    """Insert a row (defaults for the rest) and return it."""
    found = db.row(table, db.insert(table, uuid, **values))
    assert found is not None
    return found


def parse_dump_line(line: str) -> Flow:
    """One ``ovs-ofctl dump-flows`` line as a canonical Flow."""
    head, _, acts = line.strip().partition("actions=")
    base = parse_flow(head + "actions=drop")
    actions: list[Action] = []
    for part in split_top_level(acts.strip()):
        if part == "drop":
            continue
        nx = parse_nx_action(part)
        actions.append(nx if nx is not None else parse_action(part))
    return Flow(base.table_id, base.priority, base.match, actions, base.cookie)


def parse_dump(text: str) -> set[Flow]:
    """Every flow line of a dump."""
    return {parse_dump_line(line) for line in text.splitlines() if "actions=" in line}


def texts(flows: Iterable[Flow]) -> list[str]:
    """Sorted ovs-ofctl texts, for readable assertion diffs."""
    return sorted(map(str, flows))
