"""The main loop of a pyovn daemon: OVS's poll-loop shape on ``ovs.poller.Poller``.

Each iteration calls the daemon's *run* hooks (do all work that is possible now), serves
the control socket, then collects *wait* hooks (each says what would make more work
possible: an fd, a timer) and blocks until one of them fires. A served unixctl request
wakes the next iteration at once, so ``inc-engine/recompute`` is acted on without
waiting for other input.

SIGTERM, SIGINT, SIGHUP and the ``exit`` command end the loop cleanly: shutdown hooks
run, the control socket and pidfile are removed, :meth:`DaemonLoop.run` returns 0. A
signal wakes ``poller.block()`` through ``signal.set_wakeup_fd``. A second signal while
shutting down kills the process the default way (a stuck shutdown must not need
``kill -9``). Nothing else is written: pyovn daemons are crash-only (DESIGN.md 6.6).

Typical ``main()``::

    parser = argparse.ArgumentParser(prog="pyovn-northd")
    parser.add_argument("--ovnnb-db", ...)
    add_daemon_args(parser)
    args = parse_daemon_args(parser, argv)
    loop = DaemonLoop(DaemonOptions.from_args(args, "pyovn-northd"))
    return run_daemon(loop, lambda loop: wire_northd(loop, args))
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import ovs.poller

from pyovn.daemon.commands import (
    EngineLike,
    register_connection_status,
    register_engine_commands,
    register_vlog_commands,
)
from pyovn.daemon.errors import CommandError, DaemonError
from pyovn.daemon.options import DaemonOptions, version_text
from pyovn.daemon.process import Pidfile, detach_complete, detach_start
from pyovn.daemon.unixctl import CommandCallback, CommandTable, UnixctlServer
from pyovn.daemon.vlog import Vlog, bridge_ovs_vlog

log = logging.getLogger(__name__)

RunHook = Callable[[], None]
WaitHook = Callable[[ovs.poller.Poller], None]
ShutdownHook = Callable[[], None]

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class DaemonLoop:
    """One daemon process: logging, pidfile, control socket, hooks and the poll loop.

    Order of use: construct; :meth:`start` (logging, ``--detach``, pidfile, socket);
    add hooks and commands (connections made here belong to the detached child);
    :meth:`run` (signals readiness, loops, cleans up, returns the exit status).
    """

    def __init__(self, options: DaemonOptions, *, version: str | None = None,
                 vlog: Vlog | None = None) -> None:
        self.options = options
        self.version = version or version_text(options.program)
        self.vlog = vlog if vlog is not None else Vlog()
        self.commands = CommandTable()
        #: True when the loop ended on ``exit --restart`` (ovn-controller's meaning:
        #: keep the chassis registered, a new instance is coming).
        self.exit_restart = False
        self._run_hooks: list[RunHook] = []
        self._wait_hooks: list[WaitHook] = []
        self._shutdown_hooks: list[ShutdownHook] = []
        self._pidfile: Pidfile | None = None
        self._unixctl: UnixctlServer | None = None
        self._ready_fd: int | None = None
        self._started = False
        self._ready = False
        self._exit_requested = False
        self._exit_signal: int | None = None
        self._closed = False
        self._wake = False
        self._signal_fds: tuple[int, int] | None = None
        self._old_handlers: dict[int, Any] = {}
        self._old_wakeup_fd = -1
        self.commands.register("exit", "[--restart]", 0, 1, self._cmd_exit)
        self.commands.register("version", "", 0, 0, lambda _args: self.version)
        register_vlog_commands(self.commands, self.vlog)

    # -- set-up -------------------------------------------------------------------

    def start(self) -> None:
        """Configure logging, detach if asked, take the pidfile, open the control
        socket. Raises :class:`DaemonError` (nothing left behind) when it cannot."""
        if self._started:
            raise RuntimeError("DaemonLoop.start() called twice")
        self._started = True
        self._start_logging()
        if self.options.monitor:
            log.info("--monitor accepted but not supported: let the service manager "
                     "restart %s", self.options.program)
        if self.options.detach:
            self._ready_fd = detach_start()
        try:
            # Before the socket: ovs.stream then leaves our signal handlers alone.
            self._install_signals()
            if self.options.pidfile is not None:
                self._pidfile = Pidfile.create(self.options.pidfile,
                                               overwrite=self.options.overwrite_pidfile)
            self._unixctl = UnixctlServer(self.options.unixctl_path(os.getpid()),
                                          self.commands)
        except BaseException:
            self._release()
            raise
        log.info("%s starting (pid %d, control socket %s)",
                 self.version, os.getpid(), self._unixctl.path)

    def _start_logging(self) -> None:
        bridge_ovs_vlog()
        for spec in self.options.verbose:
            try:
                self.vlog.set_spec(spec)
            except ValueError as exc:
                raise DaemonError(f'processing "{spec}": {exc}') from None
        self.vlog.install()
        if self.options.log_file is not None:
            try:
                self.vlog.open_log_file(self.options.log_file)
            except OSError as exc:
                raise DaemonError(f"could not open log file {self.options.log_file}: "
                                  f"{exc.strerror}") from None

    def add_run_hook(self, hook: RunHook) -> None:
        """Call ``hook()`` at the start of every iteration."""
        self._run_hooks.append(hook)

    def add_wait_hook(self, hook: WaitHook) -> None:
        """Call ``hook(poller)`` before every block, to register fds and timers."""
        self._wait_hooks.append(hook)

    def add_shutdown_hook(self, hook: ShutdownHook) -> None:
        """Call ``hook()`` on clean shutdown (last added, first called)."""
        self._shutdown_hooks.append(hook)

    def register_command(self, name: str, usage: str, min_args: int, max_args: int,
                         callback: CommandCallback) -> None:
        """Serve unixctl command ``name``; ``callback(args)`` returns the reply text or
        raises :class:`CommandError`. The loop runs again after every command."""
        self.commands.register(name, usage, min_args, max_args, callback)

    def register_engine(self, engine: EngineLike) -> None:
        """Serve ``inc-engine/show-stats [NODE]``, ``clear-stats`` and ``recompute``."""
        register_engine_commands(self.commands, engine, self.wake)

    def set_connection_status(self, status: Callable[[], str]) -> None:
        """Serve ``connection-status`` with ``status()``."""
        register_connection_status(self.commands, status)

    # -- running ------------------------------------------------------------------

    @property
    def unixctl_path(self) -> Path | None:
        """The control socket, once :meth:`start` opened it."""
        return self._unixctl.path if self._unixctl is not None else None

    @property
    def exiting(self) -> bool:
        """Whether an exit was requested (signal or ``exit``)."""
        return self._exit_requested

    def wake(self) -> None:
        """Make the next block return at once (state changed outside any fd)."""
        self._wake = True

    def request_exit(self, *, restart: bool = False) -> None:
        """End the loop after the current iteration."""
        self._exit_requested = True
        self.exit_restart = self.exit_restart or restart

    def ready(self) -> None:
        """Tell a waiting ``--detach`` parent that we are up (idempotent; :meth:`run`
        calls it). A detached daemon then loses its terminal and console log."""
        if self._ready:
            return
        self._ready = True
        if self._ready_fd is not None:
            fd, self._ready_fd = self._ready_fd, None
            self.vlog.disable_console()
            detach_complete(fd, chdir=not self.options.no_chdir)

    def run(self) -> int:
        """Loop until asked to exit; clean up; return the exit status: 0, or 1 when a
        hook raised (logged with its traceback)."""
        if not self._started:
            self.start()
        self.ready()
        unixctl = self._unixctl
        assert unixctl is not None and self._signal_fds is not None
        signal_fd = self._signal_fds[0]
        try:
            while not self._exit_requested:
                for hook in self._run_hooks:
                    hook()
                if unixctl.run():
                    self._wake = True
                if self.exiting:
                    break
                poller = ovs.poller.Poller()
                for wait_hook in self._wait_hooks:
                    wait_hook(poller)
                unixctl.wait(poller)
                poller.fd_wait(signal_fd, ovs.poller.POLLIN)
                if self._wake:
                    self._wake = False
                    poller.immediate_wake()
                poller.block()
                _drain(signal_fd)
        except Exception:
            # Crash-only: log why, clean up what is cheap to clean, exit non-zero and
            # let the supervisor restart us; the databases hold all the state.
            log.critical("%s: fatal error", self.options.program, exc_info=True)
            return 1
        finally:
            self.close()
        return 0

    def _cmd_exit(self, args: list[str]) -> None:
        if args and args[0] != "--restart":
            raise CommandError(f'"exit" command: unknown option "{args[0]}"')
        log.info("exit requested over unixctl%s", " (restart)" if args else "")
        self.request_exit(restart=bool(args))

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._exit_requested:
            # Asked again while shutting down: the shutdown is stuck, die as if we
            # had no handler.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        # Logged by close(), not here: a handler may interrupt a logging call.
        self._exit_signal = signum
        self.request_exit()

    def _install_signals(self) -> None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        self._signal_fds = (read_fd, write_fd)
        self._old_wakeup_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        for signum in EXIT_SIGNALS:
            self._old_handlers[signum] = signal.signal(signum, self._on_signal)

    def close(self) -> None:
        """Shut down: shutdown hooks, then remove the control socket and pidfile.
        :meth:`run` does this on its way out; idempotent."""
        if self._closed or not self._started:
            return
        self._closed = True
        if self._exit_signal is not None:
            log.info("terminating with signal %d (%s)", self._exit_signal,
                     signal.strsignal(self._exit_signal))
        if self._unixctl is not None:
            self._unixctl.flush()
        for hook in reversed(self._shutdown_hooks):
            try:
                hook()
            except Exception:
                log.exception("shutdown hook %r failed", hook)
        self._release()
        log.info("%s exiting", self.options.program)

    def _release(self) -> None:
        if self._unixctl is not None:
            self._unixctl.close()
            self._unixctl = None
        if self._pidfile is not None:
            self._pidfile.remove()
            self._pidfile = None
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)
        self._old_handlers.clear()
        if self._signal_fds is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
            for fd in self._signal_fds:
                os.close(fd)
            self._signal_fds = None


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass


def run_daemon(loop: DaemonLoop, setup: Callable[[DaemonLoop], object] | None = None) -> int:
    """Start ``loop``, let ``setup(loop)`` add hooks and commands (a daemon class whose
    constructor takes the loop will do; its result is not kept), run; return the exit
    status for ``sys.exit``: 0 after a clean exit, 1 when the daemon could not start
    (message on stderr, as OVS prints it) or died of an unexpected exception (logged
    with its traceback)."""
    try:
        loop.start()
        try:
            if setup is not None:
                setup(loop)
            return loop.run()
        finally:
            loop.close()
    except DaemonError as exc:
        log.error("%s", exc)
        sys.stderr.write(f"{loop.options.program}: {exc}\n")
        sys.stderr.flush()
        return 1
    except Exception:
        log.critical("%s: fatal error", loop.options.program, exc_info=True)
        return 1
