"""The unixctl command table and server: OVS's error texts, per-daemon registries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ovs.poller
import ovs.unixctl
import ovs.unixctl.server
import pytest

from pyovn.daemon import CommandError, CommandTable, EngineLike, UnixctlServer
from pyovn.daemon.commands import (
    register_connection_status,
    register_engine_commands,
    register_vlog_commands,
)
from pyovn.daemon.vlog import Vlog


class RecordingEngine:
    """An EngineLike that records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def show_stats(self, node: str | None) -> str:
        self.calls.append(f"show {node}")
        if node == "bogus":
            raise CommandError('no engine node "bogus"')
        return f"Node: {node or 'all'}\n"

    def clear_stats(self) -> None:
        self.calls.append("clear")

    def request_recompute(self) -> None:
        self.calls.append("recompute")


def test_unknown_command_gets_ovs_error_text() -> None:
    ok, text = CommandTable().dispatch("nosuch", [])
    assert not ok
    assert text == ('"nosuch" is not a valid command (use "list-commands" to see a list '
                    "of valid commands)")


def test_argument_counts_are_checked_with_ovs_error_text() -> None:
    table = CommandTable()
    table.register("two-or-three", "A B [C]", 2, 3, lambda args: ",".join(args))
    assert table.dispatch("two-or-three", ["a"]) == (
        False, '"two-or-three" command requires at least 2 arguments')
    assert table.dispatch("two-or-three", ["a", "b", "c", "d"]) == (
        False, '"two-or-three" command takes at most 3 arguments')
    assert table.dispatch("two-or-three", ["a", "b"]) == (True, "a,b")


def test_non_string_argument_is_refused() -> None:
    table = CommandTable()
    table.register("one", "", 1, 1, lambda args: "x")
    assert table.dispatch("one", [1]) == (False, '"one" command has non-string argument')


def test_command_error_becomes_error_reply_and_none_an_empty_reply() -> None:
    table = CommandTable()

    def refuse(_args: list[str]) -> str:
        raise CommandError("not now")

    table.register("refuse", "", 0, 0, refuse)
    table.register("quiet", "", 0, 0, lambda _args: None)
    assert table.dispatch("refuse", []) == (False, "not now")
    assert table.dispatch("quiet", []) == (True, "")


def test_unexpected_exception_is_an_error_reply_not_a_crash() -> None:
    table = CommandTable()
    table.register("buggy", "", 0, 0, lambda _args: str(1 // 0))
    ok, text = table.dispatch("buggy", [])
    assert not ok and text.startswith('"buggy" command failed: ZeroDivisionError')


def test_duplicate_registration_is_refused_unless_replace() -> None:
    table = CommandTable()
    table.register("x", "", 0, 0, lambda _args: "1")
    with pytest.raises(ValueError, match="already registered"):
        table.register("x", "", 0, 0, lambda _args: "2")
    table.register("x", "", 0, 0, lambda _args: "2", replace=True)
    assert table.dispatch("x", []) == (True, "2")
    with pytest.raises(ValueError):
        table.register("y", "", 2, 1, lambda _args: "")


def test_list_commands_has_ovs_layout() -> None:
    table = CommandTable()
    table.register("inc-engine/show-stats", "[NODE]", 0, 1, lambda _args: "")
    ok, text = table.dispatch("list-commands", [])
    assert ok
    assert text.splitlines() == [
        "The available commands are:",
        "  inc-engine/show-stats   [NODE]",
        "  list-commands           ",
    ]


def test_engine_commands_reach_the_engine_and_wake_the_loop() -> None:
    engine = RecordingEngine()
    assert isinstance(engine, EngineLike)
    woken: list[bool] = []
    table = CommandTable()
    register_engine_commands(table, engine, lambda: woken.append(True))
    assert table.dispatch("inc-engine/show-stats", []) == (True, "Node: all\n")
    assert table.dispatch("inc-engine/show-stats", ["lflow"]) == (True, "Node: lflow\n")
    assert table.dispatch("inc-engine/show-stats", ["bogus"]) == (
        False, 'no engine node "bogus"')
    assert table.dispatch("inc-engine/clear-stats", []) == (True, "")
    assert table.dispatch("inc-engine/recompute", []) == (True, "")
    assert engine.calls == ["show None", "show lflow", "show bogus", "clear", "recompute"]
    assert woken == [True]


def test_connection_status_and_vlog_commands() -> None:
    table = CommandTable()
    register_connection_status(table, lambda: "not connected")
    vlog = Vlog(known_modules=lambda: ["northd"])
    register_vlog_commands(table, vlog)
    assert table.dispatch("connection-status", []) == (True, "not connected")
    assert table.dispatch("vlog/set", ["northd:file:dbg", "console:off"]) == (True, "")
    ok, listing = table.dispatch("vlog/list", [])
    assert ok and "northd             OFF       INFO        DBG" in listing
    assert table.dispatch("vlog/set", ["bogus"]) == (
        False, 'no destination, level, or module "bogus"')
    assert table.dispatch("vlog/reopen", []) == (True, "Logging to file not configured")


@contextmanager
def serving(*servers: UnixctlServer) -> Iterator[None]:
    """Run the servers' poll loop in a thread while the test talks to them."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for server in servers:
                server.run()
            poller = ovs.poller.Poller()
            for server in servers:
                server.wait(poller)
            poller.timer_wait(20)
            poller.block()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        for server in servers:
            server.close()


def _call(path: Path, command: str, *args: str) -> tuple[str | None, str | None]:
    error, client = ovs.unixctl.server.UnixctlClient.create(str(path))
    assert error == 0
    try:
        error, err_text, result = client.transact(command, list(args))
        assert error == 0
        return err_text, result
    finally:
        client.close()


def test_two_servers_in_one_process_keep_their_own_commands(tmp_path: Path) -> None:
    northd, controller = CommandTable(), CommandTable()
    northd.register("version", "", 0, 0, lambda _args: "pyovn-northd (pyovn) 0.1.0")
    controller.register("version", "", 0, 0, lambda _args: "pyovn-controller (pyovn) 0.1.0")
    controller.register("ofctrl/audit", "", 0, 0, lambda _args: "ok")
    s1 = UnixctlServer(tmp_path / "northd.ctl", northd)
    s2 = UnixctlServer(tmp_path / "controller.ctl", controller)
    with serving(s1, s2):
        assert _call(s1.path, "version") == (None, "pyovn-northd (pyovn) 0.1.0\n")
        assert _call(s2.path, "version") == (None, "pyovn-controller (pyovn) 0.1.0\n")
        assert _call(s2.path, "ofctrl/audit") == (None, "ok\n")
        err, _ = _call(s1.path, "ofctrl/audit")
        assert err is not None and err.startswith('"ofctrl/audit" is not a valid command')
    assert "version" not in ovs.unixctl.commands
    assert not (tmp_path / "northd.ctl").exists()
    assert not (tmp_path / "controller.ctl").exists()


def test_server_replaces_a_stale_socket_file(tmp_path: Path) -> None:
    path = tmp_path / "stale.ctl"
    path.write_text("left by a crashed daemon")
    table = CommandTable()
    table.register("ping", "", 0, 0, lambda _args: "pong")
    server = UnixctlServer(path, table)
    with serving(server):
        assert _call(path, "ping") == (None, "pong\n")
