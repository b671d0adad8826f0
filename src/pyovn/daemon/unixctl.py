"""The unixctl control socket: what ``ovn-appctl -t SOCKET COMMAND [ARG...]`` talks to.

The protocol is OVS's: JSON-RPC over a unix socket, one request at a time per
connection, ``{"method": COMMAND, "params": [ARG...]}``, the reply's ``result`` or
``error`` a string. Sockets and JSON-RPC framing come from the ``ovs`` package
(``ovs.stream``, ``ovs.jsonrpc``).

Commands live in a :class:`CommandTable` owned by one daemon object, not in
``ovs.unixctl``'s module-global ``commands`` dictionary that ``ovs.unixctl.server``
dispatches from: with the global one, two daemons in one process (tests) would answer
each other's commands, and its ``version`` reply says "Open vSwitch". The error texts
are those of the C ``lib/unixctl.c`` of OVS 3.1, which ``ovn-appctl`` users know.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ovs.jsonrpc
import ovs.poller
import ovs.stream

from pyovn.daemon.errors import CommandError, DaemonError
from pyovn.daemon.ratelimit import RateLimitedLogger

log = logging.getLogger(__name__)
_rl = RateLimitedLogger(log)

#: A command callback gets the arguments and returns the reply text (None: empty), or
#: raises :class:`CommandError` for an error reply.
CommandCallback = Callable[[list[str]], str | None]


@dataclass(frozen=True)
class UnixctlCommand:
    """One registered command; ``usage`` is shown by ``list-commands``."""

    name: str
    usage: str
    min_args: int
    max_args: int
    callback: CommandCallback


class CommandTable:
    """The commands one daemon answers, and the dispatch with OVS's argument checks.

    ``list-commands`` is always there. Pure logic, usable without a socket.
    """

    def __init__(self) -> None:
        self._commands: dict[str, UnixctlCommand] = {}
        self.register("list-commands", "", 0, 0, lambda _args: self.list_text())

    def register(self, name: str, usage: str, min_args: int, max_args: int,
                 callback: CommandCallback, *, replace: bool = False) -> None:
        """Register ``name``; ValueError if it exists (unless ``replace``) or if the
        argument counts make no sense."""
        if not 0 <= min_args <= max_args:
            raise ValueError(f"{name}: need 0 <= min_args <= max_args")
        if name in self._commands and not replace:
            raise ValueError(f"unixctl command {name!r} is already registered")
        self._commands[name] = UnixctlCommand(name, usage, min_args, max_args, callback)

    def __contains__(self, name: object) -> bool:
        return name in self._commands

    def names(self) -> list[str]:
        """The registered command names, sorted."""
        return sorted(self._commands)

    def list_text(self) -> str:
        """The ``list-commands`` reply, laid out as OVS lays it out."""
        lines = ["The available commands are:"]
        for name in self.names():
            lines.append(f"  {name:<23} {self._commands[name].usage}")
        return "\n".join(lines) + "\n"

    def dispatch(self, method: str, params: Sequence[Any]) -> tuple[bool, str]:
        """Run ``method`` with ``params``; (True, reply) or (False, error text)."""
        command = self._commands.get(method)
        if command is None:
            return False, (f'"{method}" is not a valid command (use "list-commands" '
                           "to see a list of valid commands)")
        if len(params) < command.min_args:
            return False, f'"{method}" command requires at least {command.min_args} arguments'
        if len(params) > command.max_args:
            return False, f'"{method}" command takes at most {command.max_args} arguments'
        if not all(isinstance(p, str) for p in params):
            return False, f'"{method}" command has non-string argument'
        try:
            return True, command.callback(list(params)) or ""
        except CommandError as exc:
            return False, str(exc)
        except Exception as exc:
            # A broken introspection command must not take the daemon down with it.
            log.exception("unixctl command %s failed", " ".join([method, *params]))
            return False, f'"{method}" command failed: {type(exc).__name__}: {exc}'


class _Connection:
    """One client connection: reads requests, answers them in order."""

    __slots__ = ("rpc",)

    def __init__(self, rpc: Any) -> None:
        self.rpc = rpc

    def run(self, commands: CommandTable) -> tuple[int, int]:
        """Serve what has arrived; returns (error or 0, number of requests served)."""
        rpc = self.rpc
        rpc.run()
        served = 0
        for _ in range(10):
            error = rpc.get_status()
            if error or rpc.get_backlog():
                return error, served
            error, msg = rpc.recv()
            if error:
                return (0 if error == errno.EAGAIN else error), served
            if msg.type != ovs.jsonrpc.Message.T_REQUEST:
                _rl.warning("unexpected", "%s: received unexpected %s message",
                            rpc.name, ovs.jsonrpc.Message.type_to_string(msg.type))
                return errno.EINVAL, served
            params = msg.params if isinstance(msg.params, list) else [msg.params]
            if log.isEnabledFor(logging.DEBUG):
                log.debug("received request %s%s, id=%s", msg.method,
                          json.dumps(params, separators=(",", ":")), msg.id)
            ok, body = commands.dispatch(msg.method, params)
            if body and not body.endswith("\n"):
                body += "\n"
            reply = (ovs.jsonrpc.Message.create_reply(body, msg.id) if ok
                     else ovs.jsonrpc.Message.create_error(body, msg.id))
            rpc.send(reply)
            served += 1
        return rpc.get_status(), served

    def wait(self, poller: ovs.poller.Poller) -> None:
        self.rpc.wait(poller)
        if not self.rpc.get_backlog():
            self.rpc.recv_wait(poller)

    def close(self) -> None:
        self.rpc.close()


class UnixctlServer:
    """Listens on ``path`` and answers from ``commands``.

    Drive it from a poll loop: :meth:`run`, then :meth:`wait` before blocking.
    A stale socket file at ``path`` (a crashed daemon's) is replaced.
    """

    def __init__(self, path: Path, commands: CommandTable) -> None:
        error, listener = ovs.stream.PassiveStream.open(f"punix:{path}")
        if error:
            raise DaemonError(
                f"could not initialize control socket {path} ({os.strerror(error)})")
        self.path = path
        self.commands = commands
        self._listener: Any = listener
        self._conns: list[_Connection] = []

    def run(self) -> int:
        """Accept connections and serve requests; returns how many were served."""
        for _ in range(10):
            error, stream = self._listener.accept()
            if error == errno.EAGAIN:
                break
            if error:
                _rl.warning("accept", "%s: accept failed: %s", self.path, os.strerror(error))
                break
            self._conns.append(_Connection(ovs.jsonrpc.Connection(stream)))
        served = 0
        for conn in list(self._conns):
            error, n = conn.run(self.commands)
            served += n
            if error:
                conn.close()
                self._conns.remove(conn)
        return served

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Ask ``poller`` to wake for new connections, requests and sendable replies."""
        self._listener.wait(poller)
        for conn in self._conns:
            conn.wait(poller)

    def flush(self) -> None:
        """Push out queued replies without blocking (the daemon is about to exit)."""
        for conn in self._conns:
            conn.rpc.run()

    def close(self) -> None:
        """Close every connection and the listener, and remove the socket file."""
        for conn in self._conns:
            conn.close()
        self._conns.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
