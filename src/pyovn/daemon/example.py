"""A tiny daemon built exactly as pyovn-northd and pyovn-controller are, for tests.

``python -m pyovn.daemon.example [--pidfile] [--log-file] [--unixctl=S] [--detach] …``
serves the built-in commands, an engine stand-in (:class:`FakeEngine`) behind
``inc-engine/*``, ``connection-status``, and a few ``example/*`` commands that let a
test make it log, fail or crash.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pyovn.daemon.errors import CommandError
from pyovn.daemon.levels import LEVELS
from pyovn.daemon.loop import DaemonLoop, run_daemon
from pyovn.daemon.options import DaemonOptions, add_daemon_args, parse_daemon_args
from pyovn.daemon.ratelimit import RateLimitedLogger

PROGRAM = "pyovn-example"
log = logging.getLogger("pyovn.daemon.example")  # not __name__: it is __main__ under -m


class FakeEngine:
    """Two nodes with OVN's counters; a requested recompute happens on the next run."""

    NODES = ("example_input", "example_output")

    def __init__(self) -> None:
        self.stats = {node: {"recompute": 0, "compute": 0, "abort": 0} for node in self.NODES}
        self._recompute_requested = True

    def run(self) -> None:
        """One engine run: recompute every node if asked to, else nothing changed."""
        if self._recompute_requested:
            self._recompute_requested = False
            for counters in self.stats.values():
                counters["recompute"] += 1

    def show_stats(self, node: str | None) -> str:
        """Counters of ``node`` (or all nodes), laid out like OVN's."""
        if node is not None and node not in self.stats:
            raise CommandError(f'no engine node "{node}"')
        names = self.NODES if node is None else (node,)
        return "".join(
            f"Node: {name}\n"
            f"- recompute: {self.stats[name]['recompute']:12d}\n"
            f"- compute:   {self.stats[name]['compute']:12d}\n"
            f"- abort:     {self.stats[name]['abort']:12d}\n"
            for name in names)

    def clear_stats(self) -> None:
        """Zero every counter."""
        for counters in self.stats.values():
            counters.update(recompute=0, compute=0, abort=0)

    def request_recompute(self) -> None:
        """Recompute every node on the next run."""
        self._recompute_requested = True


class ExampleDaemon:
    """The daemon-specific part: an engine, a connection status, test commands."""

    def __init__(self, loop: DaemonLoop) -> None:
        self.engine = FakeEngine()
        self.rl = RateLimitedLogger(log, burst=3, interval=3600.0)
        self._crash = False
        loop.add_run_hook(self.run)
        loop.add_shutdown_hook(lambda: log.info("example daemon shutting down"))
        loop.register_engine(self.engine)
        loop.set_connection_status(lambda: "connected")
        loop.register_command("example/log", "LEVEL MESSAGE...", 2, 64, self._cmd_log)
        loop.register_command("example/log-repeat", "KEY N", 2, 2, self._cmd_log_repeat)
        loop.register_command("example/fail", "", 0, 0, self._cmd_fail)
        loop.register_command("example/crash", "", 0, 0, self._cmd_crash)

    def run(self) -> None:
        """Run hook: the engine, and a crash when one was asked for."""
        if self._crash:
            raise RuntimeError("crash requested over unixctl")
        self.engine.run()

    def _cmd_log(self, args: list[str]) -> None:
        level = LEVELS.get(args[0].lower())
        if level is None or args[0].lower() == "off":
            raise CommandError(f'unknown level "{args[0]}"')
        log.log(level, "%s", " ".join(args[1:]))

    def _cmd_log_repeat(self, args: list[str]) -> str:
        key, count = args[0], _count(args[1])
        written = sum(self.rl.warning(key, "repeated event for %s", key) for _ in range(count))
        return f"logged {written}, suppressed {self.rl.suppressed(key)}"

    def _cmd_fail(self, _args: list[str]) -> None:
        raise CommandError("example/fail always fails")

    def _cmd_crash(self, _args: list[str]) -> None:
        self._crash = True


def _count(text: str) -> int:
    if not text.isdigit():
        raise CommandError(f'"{text}" is not a count')
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse the OVN-style command line and run the example daemon."""
    parser = argparse.ArgumentParser(prog=PROGRAM, description="pyovn example daemon")
    add_daemon_args(parser)
    args = parse_daemon_args(parser, argv)
    loop = DaemonLoop(DaemonOptions.from_args(args, PROGRAM))
    return run_daemon(loop, ExampleDaemon)


if __name__ == "__main__":
    sys.exit(main())
