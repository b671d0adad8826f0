"""OVSDB locks: active/standby hand-over, NOT_LOCKED, and a stolen lock."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from pyovn.ovsdb import Client, Framer, Insert, TxnStatus, Update
from pyovn.ovsdb.framing import encode
from pyovn.sandbox import procs

pytestmark = pytest.mark.functional

LOCK = "ovn_northd"
TABLES = {"SB_Global": ["nb_cfg"]}

HOLDER = """
import sys
from pyovn.ovsdb import Client
c = Client(sys.argv[1], sys.argv[2], {"SB_Global": ["nb_cfg"]}, lock=sys.argv[3])
c.run_until(lambda: c.has_lock, 10)
print("locked", flush=True)
c.run_until(lambda: False, 60)
"""


@pytest.fixture
def holder(sb_server: procs.OvsdbServer) -> Iterator[subprocess.Popen[str]]:
    """Another process that takes the lock and keeps it until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, sb_server.remote,
                             str(procs.SB_SCHEMA), LOCK],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=4), "the lock holder did not report in time"
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def standby(server: procs.OvsdbServer, name: str = "standby") -> Client:
    client = Client(server.remote, procs.SB_SCHEMA, TABLES, lock=LOCK, name=name)
    client.run_until(lambda: client.synced, 5)
    return client


def test_lock_moves_to_the_standby_when_the_holder_process_dies(
        sb_server: procs.OvsdbServer, holder: subprocess.Popen[str]) -> None:
    with standby(sb_server) as client:
        assert client.lock_name == LOCK and not client.has_lock
        refused = client.transact([Insert("SB_Global", {"nb_cfg": 1})])
        assert refused.status is TxnStatus.NOT_LOCKED
        assert client.tables["SB_Global"].rows == {}

        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        client.run_until(lambda: client.has_lock, 5)
        txn = client.commit(lambda: [Insert("SB_Global", {"nb_cfg": 1}, uuid_name="g")])
        assert txn.status is TxnStatus.SUCCESS
        # The client's own lock assertion is not among the caller's results.
        assert len(txn.results) == 1 and "g" in txn.inserted_uuids


def test_lock_moves_when_the_holder_closes_its_connection(
        sb_server: procs.OvsdbServer) -> None:
    with standby(sb_server, "active") as active, standby(sb_server) as passive:
        active.run_until(lambda: active.has_lock, 5)
        passive.run()
        assert not passive.has_lock
        seqno = passive.seqno
        active.close()
        passive.run_until(lambda: passive.has_lock, 5)
        assert passive.seqno != seqno


def raw_request(sock: socket.socket, method: str, params: list[Any]) -> Any:
    sock.sendall(encode({"method": method, "params": params, "id": 1}))
    framer = Framer()
    while True:
        data = sock.recv(65536)
        assert data, "server closed the connection"
        for msg in framer.feed(data):
            if msg.get("id") == 1:
                return msg["result"]


def test_stolen_lock_makes_assertions_fail_with_not_locked_until_returned(
        sb_server: procs.OvsdbServer) -> None:
    with standby(sb_server, "active") as client:
        client.run_until(lambda: client.has_lock, 5)
        g = client.commit(lambda: [Insert("SB_Global", {"nb_cfg": 1}, uuid_name="g")]
                          ).inserted_uuids["g"]
        thief = socket.socket(socket.AF_UNIX)
        try:
            thief.connect(str(sb_server.socket))
            assert raw_request(thief, "steal", [LOCK]) == {"locked": True}
            # Not yet told: the client still believes it holds the lock, so the
            # server's check of the lock assertion is what refuses this one.
            txn = client.transact([Update("SB_Global", g, {"nb_cfg": 2})])
            client.run_until(lambda: txn.done, 5)
            assert txn.status is TxnStatus.NOT_LOCKED
            assert not client.has_lock
            assert client.transact([]).status is TxnStatus.NOT_LOCKED
        finally:
            thief.close()
        client.run_until(lambda: client.has_lock, 5)
        client.commit(lambda: [Update("SB_Global", g, {"nb_cfg": 3})])
        assert client.tables["SB_Global"].rows[g]["nb_cfg"] == 3
