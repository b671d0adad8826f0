"""Reconnection: the change sets after a reconnect are exactly what changed meanwhile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyovn.ovsdb import Client, Insert, TableChanges, Update
from pyovn.sandbox import procs

pytestmark = pytest.mark.functional

TABLES = {"Logical_Switch": ["name", "other_config"]}


def start_server(rundir: Path, name: str, db: Path) -> procs.OvsdbServer:
    """(Re)start ovsdb-server on an existing database file."""
    sock = rundir / f"{name}.sock"
    daemon = procs.start_detached(rundir, name,
                                  ["ovsdb-server", str(db), f"--remote=punix:{sock}"])
    return procs.OvsdbServer(daemon, db, sock)


def tool_transact(rundir: Path, db: Path, *ops: dict[str, Any]) -> None:
    procs.run(["ovsdb-tool", "transact", str(db), json.dumps(["OVN_Northbound", *ops])],
              rundir)


def by_name(tc: TableChanges) -> dict[str, set[str]]:
    return {
        "inserted": {r["name"] for r in tc.inserted.values()},
        "modified": {new["name"] for _, new in tc.modified.values()},
        "deleted": {r["name"] for r in tc.deleted.values()},
    }


@pytest.fixture
def client(nb_server: procs.OvsdbServer) -> Iterator[Client]:
    c = Client(nb_server.remote, procs.NB_SCHEMA, TABLES, backoff=(0.02, 0.1))
    try:
        c.run_until(lambda: c.synced, 5)
        yield c
    finally:
        c.close()


def add_switches(client: Client, *names: str) -> dict[str, str]:
    txn = client.commit(lambda: [Insert("Logical_Switch", {"name": n}, uuid_name=n)
                                 for n in names])
    return txn.inserted_uuids


def test_restart_with_changes_made_offline_gives_exactly_the_difference(
        client: Client, nb_server: procs.OvsdbServer, rundir: Path) -> None:
    uuids = add_switches(client, "same", "changed", "gone")
    client.take_changes()
    same_row = client.tables["Logical_Switch"].rows[uuids["same"]]
    changed_before = client.tables["Logical_Switch"].rows[uuids["changed"]]

    procs.stop_daemon(nb_server.daemon)
    client.run_until(lambda: not client.connected, 5)
    assert not client.synced
    # The replica keeps the old contents while away.
    assert len(client.tables["Logical_Switch"].rows) == 3
    tool_transact(
        rundir, nb_server.db,
        {"op": "update", "table": "Logical_Switch",
         "where": [["name", "==", "changed"]],
         "row": {"other_config": ["map", [["k", "v"]]]}},
        {"op": "delete", "table": "Logical_Switch", "where": [["name", "==", "gone"]]},
        {"op": "insert", "table": "Logical_Switch", "row": {"name": "new"}},
    )
    start_server(rundir, "nb", nb_server.db)
    client.run_until(lambda: client.synced, 5)

    changes = client.take_changes()
    assert set(changes) == {"Logical_Switch"}
    tc = changes["Logical_Switch"]
    assert by_name(tc) == {"inserted": {"new"}, "modified": {"changed"},
                           "deleted": {"gone"}}
    old, new = tc.modified[uuids["changed"]]
    assert old is changed_before and new["other_config"] == {"k": "v"}
    assert client.tables["Logical_Switch"].rows[uuids["same"]] is same_row
    assert not client.resumed


def test_reconnect_without_changes_reports_nothing(client: Client) -> None:
    add_switches(client, "a", "b")
    client.take_changes()
    seqno = client.seqno
    client.force_reconnect()
    client.run_until(lambda: client.synced, 5)
    assert client.seqno != seqno
    assert client.take_changes() == {}


def test_changes_by_another_client_while_away_are_reported(
        client: Client, nb_server: procs.OvsdbServer) -> None:
    uuids = add_switches(client, "a", "b")
    client.take_changes()
    client.force_reconnect()  # and do not run it while the other client works
    with Client(nb_server.remote, procs.NB_SCHEMA, TABLES, name="other") as other:
        other.commit(lambda: [Update("Logical_Switch", uuids["a"], {"name": "a2"}),
                              Insert("Logical_Switch", {"name": "c"})])
    client.run_until(lambda: client.synced, 5)
    tc = client.take_changes()["Logical_Switch"]
    assert by_name(tc) == {"inserted": {"c"}, "modified": {"a2"}, "deleted": set()}
    assert tc.modified[uuids["a"]][0]["name"] == "a"


def test_clustered_server_resumes_from_last_transaction(rundir: Path) -> None:
    db = rundir / "cnb.db"
    procs.run(["ovsdb-tool", "create-cluster", str(db), str(procs.NB_SCHEMA),
               f"unix:{rundir}/cnb-raft.sock"], rundir)
    server = start_server(rundir, "cnb", db)
    with Client(server.remote, procs.NB_SCHEMA, TABLES, backoff=(0.02, 0.1)) as client, \
         Client(server.remote, procs.NB_SCHEMA, TABLES, name="other") as other:
        client.run_until(lambda: client.synced, 5)
        # ovsdb-server keeps no more history than the database is big (in atoms): with
        # a nearly empty database it would rather send everything again.
        add_switches(client, *(f"filler{i}" for i in range(50)))
        uuids = add_switches(client, "a", "b")
        assert client.last_txn_id is not None
        client.take_changes()
        client.force_reconnect()
        other.commit(lambda: [Update("Logical_Switch", uuids["b"], {"name": "b2"}),
                              Insert("Logical_Switch", {"name": "c"})])
        client.run_until(lambda: client.synced, 5)
        assert client.resumed
        tc = client.take_changes()["Logical_Switch"]
        assert by_name(tc) == {"inserted": {"c"}, "modified": {"b2"}, "deleted": set()}
        names = {r["name"] for r in client.tables["Logical_Switch"].rows.values()}
        assert {"a", "b2", "c"} <= names and "b" not in names and len(names) == 53


def test_condition_changed_while_away_applies_on_reconnect(client: Client) -> None:
    add_switches(client, "keep", "drop")
    client.take_changes()
    client.force_reconnect()
    client.set_condition("Logical_Switch", [("name", "==", "keep")])
    client.run_until(lambda: client.synced and not client.condition_pending, 5)
    tc = client.take_changes()["Logical_Switch"]
    assert by_name(tc) == {"inserted": set(), "modified": set(), "deleted": {"drop"}}
