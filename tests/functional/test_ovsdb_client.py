"""The OVSDB client against a real ovsdb-server: change sets, transactions, indexes."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.ovsdb import (
    Client,
    Comment,
    CommitError,
    Delete,
    Insert,
    Mutate,
    NamedUuid,
    OvsdbError,
    TxnStatus,
    Update,
    Verify,
)
from pyovn.sandbox import procs

pytestmark = pytest.mark.functional

NB_TABLES = {
    "Logical_Switch": ["name", "ports", "other_config"],
    "Logical_Switch_Port": ["name", "addresses", "external_ids", "up", "type"],
}
SB_TABLES = {
    "Chassis": ["name", "hostname", "nb_cfg", "other_config", "encaps"],
    "Chassis_Private": ["name", "nb_cfg", "external_ids", "chassis"],
    "Encap": ["type", "ip", "chassis_name"],
    "Datapath_Binding": ["tunnel_key", "external_ids"],
    "Port_Binding": ["logical_port", "datapath", "tunnel_key", "mac"],
}


@pytest.fixture
def nb(nb_server: procs.OvsdbServer) -> Iterator[Client]:
    client = Client(nb_server.remote, procs.NB_SCHEMA, NB_TABLES, name="nb-test")
    try:
        client.run_until(lambda: client.synced, 5)
        yield client
    finally:
        client.close()


@pytest.fixture
def sb(sb_server: procs.OvsdbServer) -> Iterator[Client]:
    client = Client(sb_server.remote, procs.SB_SCHEMA, SB_TABLES, name="sb-test")
    try:
        client.run_until(lambda: client.synced, 5)
        yield client
    finally:
        client.close()


def nbctl(server: procs.OvsdbServer, rundir: Path, *args: str) -> str:
    return procs.run(["ovn-nbctl", f"--db={server.remote}", *args], rundir)


def wait_change(client: Client) -> None:
    seqno = client.seqno
    client.run_until(lambda: client.seqno != seqno, 5)


def test_connects_with_monitor_cond_since_and_starts_synced_and_empty(nb: Client) -> None:
    assert nb.connected and nb.synced
    assert nb.monitor_method == "monitor_cond_since"
    assert nb.tables["Logical_Switch"].rows == {}
    assert nb.take_changes() == {}


def test_changes_by_another_client_give_exact_change_sets(
        nb: Client, nb_server: procs.OvsdbServer, rundir: Path) -> None:
    nbctl(nb_server, rundir, "ls-add", "sw0", "--", "lsp-add", "sw0", "p1")
    nb.run_until(lambda: len(nb.tables["Logical_Switch_Port"].rows) == 1, 5)
    changes = nb.take_changes()
    (lsp,) = changes["Logical_Switch_Port"].inserted.values()
    (ls,) = changes["Logical_Switch"].inserted.values()
    assert lsp["name"] == "p1" and lsp["addresses"] == () and lsp["up"] is None
    assert ls["name"] == "sw0" and ls["ports"] == (lsp.uuid,)
    assert not changes["Logical_Switch_Port"].modified

    nbctl(nb_server, rundir, "lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1",
          "--", "set", "Logical_Switch_Port", "p1", "external_ids:owner=test")
    wait_change(nb)
    changes = nb.take_changes()
    assert set(changes) == {"Logical_Switch_Port"}
    old, new = changes["Logical_Switch_Port"].modified[lsp.uuid]
    assert old == lsp
    assert new["addresses"] == ("00:00:00:00:00:01 10.0.0.1",)
    assert new["external_ids"] == {"owner": "test"} and old["external_ids"] == {}

    nbctl(nb_server, rundir, "lsp-del", "p1")
    wait_change(nb)
    changes = nb.take_changes()
    assert changes["Logical_Switch_Port"].deleted == {lsp.uuid: new}
    ls_old, ls_new = changes["Logical_Switch"].modified[ls.uuid]
    assert ls_old["ports"] == (lsp.uuid,) and ls_new["ports"] == ()
    assert nb.tables["Logical_Switch_Port"].rows == {}


def test_insert_honours_client_chosen_uuid_and_reports_named_uuids(sb: Client) -> None:
    chosen = str(uuidlib.uuid4())
    txn = sb.commit(lambda: [
        Insert("Encap", {"type": "geneve", "ip": "192.0.2.1", "chassis_name": "hv1"},
               uuid_name="encap"),
        Insert("Chassis", {"name": "hv1", "hostname": "h1", "encaps": [NamedUuid("encap")]},
               uuid=chosen, uuid_name="ch"),
    ])
    assert txn.status is TxnStatus.SUCCESS
    assert txn.inserted_uuids["ch"] == chosen
    # The server sends our own changes before the reply, so the view already has them.
    chassis = sb.tables["Chassis"].rows[chosen]
    assert chassis["encaps"] == (txn.inserted_uuids["encap"],)
    changes = sb.take_changes()
    assert set(changes["Chassis"].inserted) == {chosen}


def test_update_mutate_delete_round_trip(sb: Client) -> None:
    txn = sb.commit(lambda: [Insert("Chassis_Private", {"name": "hv1"}, uuid_name="c")])
    ch = txn.inserted_uuids["c"]
    sb.take_changes()
    sb.commit(lambda: [Update("Chassis_Private", ch, {"chassis": None, "nb_cfg": 4}),
                       Mutate("Chassis_Private", ch, [("external_ids", "insert", {"a": "1"}),
                                              ("nb_cfg", "+=", 1)])])
    row = sb.tables["Chassis_Private"].rows[ch]
    assert (row["chassis"], row["nb_cfg"], row["external_ids"]) == (None, 5, {"a": "1"})
    old, new = sb.take_changes()["Chassis_Private"].modified[ch]
    assert old["nb_cfg"] == 0 and new is row
    sb.commit(lambda: [Delete("Chassis_Private", ch)])
    assert ch not in sb.tables["Chassis_Private"].rows
    assert sb.take_changes()["Chassis_Private"].deleted[ch] == row


def test_verify_conflict_is_try_again_and_commit_retries_to_success(
        sb: Client, sb_server: procs.OvsdbServer) -> None:
    ch = sb.commit(lambda: [Insert("Chassis_Private", {"name": "hv1"}, uuid_name="c")]
                   ).inserted_uuids["c"]
    other = Client(sb_server.remote, procs.SB_SCHEMA, {"Chassis_Private": None}, name="other")
    try:
        other.run_until(lambda: other.synced, 5)
        other.commit(lambda: [Update("Chassis_Private", ch, {"nb_cfg": 10})])
        # `sb` has not run since, so its view of nb_cfg (0) is stale.
        stale = sb.transact([Verify("Chassis_Private", ch, ["nb_cfg"]),
                             Update("Chassis_Private", ch, {"nb_cfg": 1})])
        sb.run_until(lambda: stale.done, 5)
        assert stale.status is TxnStatus.TRY_AGAIN

        other.commit(lambda: [Update("Chassis_Private", ch, {"nb_cfg": 20})])
        attempts = []

        def increment() -> list[Verify | Update]:
            current = sb.tables["Chassis_Private"].rows[ch]["nb_cfg"]
            attempts.append(current)
            return [Verify("Chassis_Private", ch, ["nb_cfg"]),
                    Update("Chassis_Private", ch, {"nb_cfg": current + 1})]

        sb.commit(increment)
        assert attempts[-1] == 20 and sb.tables["Chassis_Private"].rows[ch]["nb_cfg"] == 21
        other.run_until(lambda: other.tables["Chassis_Private"].rows[ch]["nb_cfg"] == 21, 5)
    finally:
        other.close()


def test_commit_rebuilds_after_a_stale_first_attempt(
        sb: Client, sb_server: procs.OvsdbServer) -> None:
    ch = sb.commit(lambda: [Insert("Chassis_Private", {"name": "hv1"}, uuid_name="c")]
                   ).inserted_uuids["c"]
    other = Client(sb_server.remote, procs.SB_SCHEMA, {"Chassis_Private": None}, name="other")
    try:
        other.run_until(lambda: other.synced, 5)
        seen = []

        def build() -> list[Verify | Update]:
            current = sb.tables["Chassis_Private"].rows[ch]["nb_cfg"]
            seen.append(current)
            if len(seen) == 1:
                # Someone else commits between our read and our transaction.
                other.commit(lambda: [Update("Chassis_Private", ch, {"nb_cfg": 7})])
            return [Verify("Chassis_Private", ch, ["nb_cfg"]),
                    Update("Chassis_Private", ch, {"nb_cfg": current + 1})]

        sb.commit(build)
        assert seen == [0, 7]
        assert sb.tables["Chassis_Private"].rows[ch]["nb_cfg"] == 8
    finally:
        other.close()


def test_server_error_names_the_failing_op(sb: Client) -> None:
    ch = sb.commit(lambda: [Insert("Chassis_Private", {"name": "hv1"}, uuid_name="c")]
                   ).inserted_uuids["c"]
    with pytest.raises(CommitError) as info:
        sb.commit(lambda: [Comment("dup"), Insert("Chassis_Private", {"name": "hv2"}, uuid=ch)])
    txn = info.value.txn
    assert txn is not None and txn.status is TxnStatus.ERROR
    assert txn.failed_op == 1
    assert txn.error is not None and txn.error.startswith("op 1 (insert into Chassis_Private)")
    assert "duplicate uuid" in txn.error


def test_commit_level_error_is_reported_without_an_op(sb: Client) -> None:
    sb.commit(lambda: [Insert("Chassis_Private", {"name": "hv1"})])
    txn = sb.transact([Insert("Chassis_Private", {"name": "hv1"})])
    sb.run_until(lambda: txn.done, 5)
    assert txn.status is TxnStatus.ERROR and txn.failed_op is None
    assert txn.error is not None and "constraint violation" in txn.error


def test_bad_values_are_refused_before_sending(sb: Client) -> None:
    with pytest.raises(OvsdbError, match=r"Chassis_Private\.nb_cfg"):
        sb.transact([Insert("Chassis_Private", {"name": "x", "nb_cfg": "1"})])


def test_transact_while_disconnected_is_try_again(rundir: Path) -> None:
    client = Client(f"unix:{rundir}/nothing.sock", procs.SB_SCHEMA, {"Chassis": None})
    try:
        client.run()
        assert not client.connected
        txn = client.transact([Insert("Chassis", {"name": "x"})])
        assert txn.status is TxnStatus.TRY_AGAIN
    finally:
        client.close()


def test_transaction_in_flight_when_the_connection_drops_is_try_again(sb: Client) -> None:
    txn = sb.transact([Insert("Chassis", {"name": "x"})])
    sb.force_reconnect()
    assert txn.status is TxnStatus.TRY_AGAIN and txn.error == "connection lost"
    sb.run_until(lambda: sb.synced, 5)


def test_index_by_column_stays_correct_through_changes(sb: Client) -> None:
    txn = sb.commit(lambda: [
        Insert("Datapath_Binding", {"tunnel_key": 1}, uuid_name="dp1"),
        Insert("Datapath_Binding", {"tunnel_key": 2}, uuid_name="dp2"),
        Insert("Port_Binding", {"logical_port": "a", "datapath": NamedUuid("dp1"),
                                "tunnel_key": 1}, uuid_name="a"),
        Insert("Port_Binding", {"logical_port": "b", "datapath": NamedUuid("dp1"),
                                "tunnel_key": 2, "mac": ["m1", "m2"]}, uuid_name="b"),
    ])
    dp1, dp2 = txn.inserted_uuids["dp1"], txn.inserted_uuids["dp2"]
    a, b = txn.inserted_uuids["a"], txn.inserted_uuids["b"]
    by_dp = sb.index("Port_Binding", "datapath")
    by_mac = sb.index("Port_Binding", "mac")
    assert sb.index("Port_Binding", "datapath") is by_dp

    def ports(dp: str) -> set[str]:
        return {row["logical_port"] for row in by_dp.rows(dp)}

    assert ports(dp1) == {"a", "b"} and ports(dp2) == set()
    assert {r.uuid for r in by_mac["m2"]} == {b}
    sb.commit(lambda: [Update("Port_Binding", a, {"datapath": dp2, "mac": ["m2"]}),
                       Mutate("Port_Binding", b, [("mac", "delete", ["m2"])])])
    assert ports(dp1) == {"b"} and ports(dp2) == {"a"}
    assert {r.uuid for r in by_mac["m2"]} == {a}
    assert by_dp.rows(dp2) == {sb.tables["Port_Binding"].rows[a]}
    sb.commit(lambda: [Delete("Port_Binding", b)])
    assert ports(dp1) == set() and dp1 not in by_dp


def test_conditional_monitoring_follows_condition_changes(
        sb: Client, sb_server: procs.OvsdbServer) -> None:
    txn = sb.commit(lambda: [
        Insert("Datapath_Binding", {"tunnel_key": 1}, uuid_name="dp1"),
        Insert("Datapath_Binding", {"tunnel_key": 2}, uuid_name="dp2"),
        Insert("Port_Binding", {"logical_port": "a", "datapath": NamedUuid("dp1"),
                                "tunnel_key": 1}),
        Insert("Port_Binding", {"logical_port": "b", "datapath": NamedUuid("dp2"),
                                "tunnel_key": 1}),
    ])
    dp1, dp2 = txn.inserted_uuids["dp1"], txn.inserted_uuids["dp2"]
    with Client(sb_server.remote, procs.SB_SCHEMA, {"Port_Binding": ["logical_port"]},
                name="cond") as client:
        client.set_condition("Port_Binding", [("datapath", "==", dp1)])
        client.run_until(lambda: client.synced, 5)

        def names() -> set[str]:
            return {r["logical_port"] for r in client.tables["Port_Binding"].rows.values()}

        assert names() == {"a"}
        client.take_changes()
        client.set_condition("Port_Binding", [("datapath", "==", dp2), False])
        assert client.condition_pending
        client.run_until(lambda: not client.condition_pending, 5)
        assert names() == {"b"}
        tc = client.take_changes()["Port_Binding"]
        assert {r["logical_port"] for r in tc.inserted.values()} == {"b"}
        assert {r["logical_port"] for r in tc.deleted.values()} == {"a"}
        client.set_condition("Port_Binding", [])
        client.run_until(lambda: not client.condition_pending, 5)
        assert names() == set()
        client.set_condition("Port_Binding", None)
        client.run_until(lambda: not client.condition_pending, 5)
        assert names() == {"a", "b"}
