"""The unixctl commands every pyovn daemon answers, wired to the objects behind them.

``inc-engine/*`` talk to any object that has the three methods of :class:`EngineLike`
(the engine package implements it; the daemon package does not import it), the
``vlog/*`` commands to :class:`~pyovn.daemon.vlog.Vlog`, ``connection-status`` to a
callback the daemon provides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pyovn.daemon.errors import CommandError
from pyovn.daemon.unixctl import CommandTable
from pyovn.daemon.vlog import Vlog


@runtime_checkable
class EngineLike(Protocol):
    """What the ``inc-engine/*`` commands need from an incremental engine."""

    def show_stats(self, node: str | None) -> str:
        """Per-node counters as OVN prints them; ``node`` None means every node.
        Raise :class:`CommandError` for an unknown node."""

    def clear_stats(self) -> None:
        """Reset every node's counters to zero."""

    def request_recompute(self) -> None:
        """Make the next engine run a full recompute of every node."""


def register_engine_commands(table: CommandTable, engine: EngineLike,
                             wake: Callable[[], None] | None = None) -> None:
    """Register ``inc-engine/show-stats [NODE]``, ``inc-engine/clear-stats`` and
    ``inc-engine/recompute`` on ``table``; ``wake`` is called after a recompute request
    so that the main loop runs the engine without waiting for other input."""

    def show_stats(args: list[str]) -> str:
        return engine.show_stats(args[0] if args else None)

    def clear_stats(_args: list[str]) -> None:
        engine.clear_stats()

    def recompute(_args: list[str]) -> None:
        engine.request_recompute()
        if wake is not None:
            wake()

    table.register("inc-engine/show-stats", "[NODE]", 0, 1, show_stats)
    table.register("inc-engine/clear-stats", "", 0, 0, clear_stats)
    table.register("inc-engine/recompute", "", 0, 0, recompute)


def register_connection_status(table: CommandTable, status: Callable[[], str]) -> None:
    """Register ``connection-status``, answered by ``status()`` (e.g. ``connected``)."""
    table.register("connection-status", "", 0, 0, lambda _args: status())


def register_vlog_commands(table: CommandTable, vlog: Vlog) -> None:
    """Register ``vlog/set SPEC...``, ``vlog/list`` and ``vlog/reopen``."""

    def vlog_set(args: list[str]) -> None:
        for spec in args:
            try:
                vlog.set_spec(spec)
            except ValueError as exc:
                raise CommandError(str(exc)) from None

    def vlog_reopen(_args: list[str]) -> str | None:
        if vlog.log_file is None:
            return "Logging to file not configured"
        try:
            vlog.reopen_log_file()
        except OSError as exc:
            raise CommandError(f"could not reopen {vlog.log_file}: {exc.strerror}") from None
        return None

    table.register("vlog/set", "{spec}", 1, 1 << 16, vlog_set)
    table.register("vlog/list", "", 0, 0, lambda _args: vlog.levels.list_text())
    table.register("vlog/reopen", "", 0, 0, vlog_reopen)
