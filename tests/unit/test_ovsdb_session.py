"""Protocol behaviour against a scripted in-process server: monitor fallbacks, echo,
inactivity probe, TCP, and servers that lack columns. (No real processes.)"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyovn.ovsdb import Client, Framer
from pyovn.ovsdb.framing import encode
from pyovn.sandbox import procs

Responder = Callable[[dict[str, Any]], list[dict[str, Any]]]
SCHEMA = json.loads(procs.SB_SCHEMA.read_text())
U1 = "11111111-1111-1111-1111-111111111111"


class FakeServer:
    """Accepts connections one at a time and answers each message with ``respond``."""

    def __init__(self, listener: socket.socket, respond: Responder) -> None:
        self.listener = listener
        self.respond = respond
        self.received: list[dict[str, Any]] = []
        self.conn: socket.socket | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.conn = conn
            conn.settimeout(0.05)
            framer = Framer()
            while not self._stop:
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                for msg in framer.feed(data):
                    self.received.append(msg)
                    for out in self.respond(msg):
                        conn.sendall(encode(out))
            conn.close()

    def send(self, msg: dict[str, Any]) -> None:
        assert self.conn is not None
        self.conn.sendall(encode(msg))

    def methods(self) -> list[str]:
        return [m.get("method", "") for m in self.received]

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.listener.close()


def eventually(client: Client, predicate: Callable[[], bool], timeout: float = 5) -> None:
    """Run the client until a condition on the fake server's side holds (the client's
    own poll loop would not wake up for it)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        client.run()
        time.sleep(0.005)


def reply(msg: dict[str, Any], result: Any = None, error: Any = None) -> dict[str, Any]:
    return {"id": msg["id"], "result": result, "error": error}


def ovsdb(monitor: Callable[[dict[str, Any]], dict[str, Any]],
          schema: dict[str, Any] = SCHEMA) -> Responder:
    def respond(msg: dict[str, Any]) -> list[dict[str, Any]]:
        method = msg.get("method")
        if method == "get_schema":
            return [reply(msg, schema)]
        if method and method.startswith("monitor"):
            return [monitor(msg)]
        return []
    return respond


@pytest.fixture
def unix_listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "fake.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.listen(4)
    yield sock, f"unix:{path}"
    sock.close()


@contextlib.contextmanager
def serve(listener: socket.socket, respond: Responder) -> Iterator[FakeServer]:
    server = FakeServer(listener, respond)
    try:
        yield server
    finally:
        server.close()


GLOBAL_ROW = {"nb_cfg": 5, "options": ["map", [["k", "v"]]]}


def only_monitor_cond(msg: dict[str, Any]) -> dict[str, Any]:
    if msg["method"] == "monitor_cond_since":
        return reply(msg, error="unknown method")
    return reply(msg, {"SB_Global": {U1: {"initial": GLOBAL_ROW}}})


def only_monitor(msg: dict[str, Any]) -> dict[str, Any]:
    if msg["method"] != "monitor":
        return reply(msg, error="unknown method")
    return reply(msg, {"SB_Global": {U1: {"new": GLOBAL_ROW}}})


def test_falls_back_to_monitor_cond_and_applies_update2(
        unix_listener: tuple[socket.socket, str]) -> None:
    listener, remote = unix_listener
    with (serve(listener, ovsdb(only_monitor_cond)) as server,
          Client(remote, procs.SB_SCHEMA, {"SB_Global": ["nb_cfg", "options"]}) as c):
        c.run_until(lambda: c.synced, 5)
        assert c.monitor_method == "monitor_cond"
        assert server.methods()[:3] == ["get_schema", "monitor_cond_since", "monitor_cond"]
        assert c.tables["SB_Global"].rows[U1]["options"] == {"k": "v"}
        monitor_id = server.received[-1]["params"][1]
        c.take_changes()
        server.send({"method": "update2", "id": None, "params": [
            monitor_id, {"SB_Global": {U1: {"modify": {"nb_cfg": 6}}}}]})
        c.run_until(lambda: c.tables["SB_Global"].rows[U1]["nb_cfg"] == 6, 5)
        old, new = c.take_changes()["SB_Global"].modified[U1]
        assert (old["nb_cfg"], new["nb_cfg"]) == (5, 6)


def test_falls_back_to_the_original_monitor_and_applies_update(
        unix_listener: tuple[socket.socket, str]) -> None:
    listener, remote = unix_listener
    with (serve(listener, ovsdb(only_monitor)) as server,
          Client(remote, procs.SB_SCHEMA, {"SB_Global": ["nb_cfg", "options"]}) as c):
        c.run_until(lambda: c.synced, 5)
        assert c.monitor_method == "monitor"
        monitor_id = server.received[-1]["params"][1]
        server.send({"method": "update", "id": None, "params": [
            monitor_id, {"SB_Global": {U1: {"old": {"nb_cfg": 5},
                                            "new": {**GLOBAL_ROW, "nb_cfg": 9}}}}]})
        c.run_until(lambda: c.tables["SB_Global"].rows[U1]["nb_cfg"] == 9, 5)
        # Notifications for another monitor id are not ours.
        server.send({"method": "update", "id": None, "params": [
            "stale", {"SB_Global": {U1: {"old": GLOBAL_ROW}}}]})
        server.send({"method": "update", "id": None, "params": [
            monitor_id, {"SB_Global": {U1: {"old": GLOBAL_ROW}}}]})
        c.run_until(lambda: U1 not in c.tables["SB_Global"].rows, 5)


def test_columns_the_server_lacks_are_not_monitored_and_keep_defaults(
        unix_listener: tuple[socket.socket, str]) -> None:
    old_schema = json.loads(json.dumps(SCHEMA))
    del old_schema["tables"]["SB_Global"]["columns"]["options"]
    listener, remote = unix_listener
    with (serve(listener, ovsdb(only_monitor_cond, old_schema)) as server,
          Client(remote, procs.SB_SCHEMA, {"SB_Global": ["nb_cfg", "options"]}) as c):
        c.run_until(lambda: c.synced, 5)
        requests = server.received[-1]["params"][2]
        assert requests["SB_Global"] == [{"columns": ["nb_cfg"]}]


def test_echo_requests_are_answered(unix_listener: tuple[socket.socket, str]) -> None:
    listener, remote = unix_listener
    with (serve(listener, ovsdb(only_monitor_cond)) as server,
          Client(remote, procs.SB_SCHEMA, {"SB_Global": ["nb_cfg"]}) as c):
        c.run_until(lambda: c.synced, 5)
        server.send({"method": "echo", "params": ["ping"], "id": "e1"})
        eventually(c, lambda: any(m.get("id") == "e1" for m in server.received))
        (answer,) = (m for m in server.received if m.get("id") == "e1")
        assert answer == {"id": "e1", "result": ["ping"], "error": None}


def test_silent_server_is_dropped_after_the_inactivity_probe(
        unix_listener: tuple[socket.socket, str]) -> None:
    listener, remote = unix_listener
    with (serve(listener, ovsdb(only_monitor_cond)) as server,
          Client(remote, procs.SB_SCHEMA, {"SB_Global": ["nb_cfg"]},
                 probe_interval=0.1, backoff=(5, 5)) as c):
        c.run_until(lambda: c.synced, 5)
        c.run_until(lambda: not c.connected, 2)
        assert "echo" in server.methods()
        assert not c.synced


def test_server_that_answers_probes_stays_connected(
        unix_listener: tuple[socket.socket, str]) -> None:
    listener, remote = unix_listener
    base = ovsdb(only_monitor_cond)

    def respond(msg: dict[str, Any]) -> list[dict[str, Any]]:
        if msg.get("method") == "echo":
            return [reply(msg, msg["params"])]
        return base(msg)

    with (serve(listener, respond) as server,
          Client(remote, procs.SB_SCHEMA, {"SB_Global": ["nb_cfg"]},
                 probe_interval=0.1) as c):
        c.run_until(lambda: c.synced, 5)
        eventually(c, lambda: server.methods().count("echo") >= 3, 2)
        assert c.connected and c.synced


def test_tcp_remote() -> None:
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    with (serve(listener, ovsdb(only_monitor_cond)) as _,
          Client(f"tcp:127.0.0.1:{port}", procs.SB_SCHEMA, {"SB_Global": None}) as c):
        c.run_until(lambda: c.synced, 5)
        assert c.tables["SB_Global"].rows[U1]["nb_cfg"] == 5


def test_malformed_reply_drops_the_connection_instead_of_raising(
        unix_listener: tuple[socket.socket, str]) -> None:
    def bad_monitor(msg: dict[str, Any]) -> dict[str, Any]:
        return reply(msg, ["not", "a", "valid", "reply"])

    listener, remote = unix_listener
    with (serve(listener, ovsdb(bad_monitor)) as server,
          Client(remote, procs.SB_SCHEMA, {"SB_Global": None}, backoff=(5, 5)) as c):
        eventually(c, lambda: "monitor_cond_since" in server.methods() and not c.connected)
        assert not c.synced
