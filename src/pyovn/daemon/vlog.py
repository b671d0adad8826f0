"""Stdlib logging dressed as OVS's vlog: same line format, same levels, same commands.

A file line reads ``2026-11-23T09:00:00.123Z|00042|northd.lflow|INFO|message``; the
console drops the milliseconds, as OVS does. The sequence number counts messages, not
lines per destination: one message written to console and file has one number.

pyovn code only ever does ``logging.getLogger(__name__)`` (or wraps that logger in a
:class:`~pyovn.daemon.ratelimit.RateLimitedLogger`); :class:`Vlog` is installed once by
the daemon's main loop and owns the handlers. The ovs library logs through its own
``ovs.vlog`` (silent unless initialised); :func:`bridge_ovs_vlog` routes it here as
modules ``ovs.<name>`` so ``-vovs.reconnect:dbg`` works.
"""

from __future__ import annotations

import itertools
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from pyovn.daemon.levels import DESTINATIONS, OFF, VlogLevels, level_text, module_of

log = logging.getLogger(__name__)


class VlogFormatter(logging.Formatter):
    """Formats a record as one OVS log line (plus a traceback, when there is one)."""

    def __init__(self, sequence: Iterator[int], *, msec: bool) -> None:
        super().__init__()
        self._sequence = sequence
        self._msec = msec

    def format(self, record: logging.LogRecord) -> str:
        """``TIME|SEQ|MODULE|LEVEL|message``; SEQ is given once per record."""
        seq: int | None = getattr(record, "vlog_seq", None)
        if seq is None:
            seq = next(self._sequence)
            record.vlog_seq = seq
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        stamp += f".{int(record.msecs):03d}Z" if self._msec else "Z"
        module = module_of(record.name)
        if record.threadName not in (None, "MainThread"):
            module += f"({record.threadName})"
        text = f"{stamp}|{seq:05d}|{module}|{level_text(record.levelno)}|{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


class _DestinationFilter(logging.Filter):
    """Lets through the records whose module is enabled at one destination."""

    def __init__(self, levels: VlogLevels, destination: str) -> None:
        super().__init__()
        self._levels = levels
        self._destination = destination

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self._levels.level(module_of(record.name), self._destination)


class Vlog:
    """OVS-style logging for one daemon process: console and file handlers, levels.

    Construct, apply ``-v`` specs with :meth:`set_spec`, :meth:`install` on a logger
    (the root logger by default), open the log file. :meth:`uninstall` undoes it all
    (tests). Console writes to ``console`` (default stderr); syslog is not written.
    """

    def __init__(self, *, console: TextIO | None = None,
                 known_modules: Callable[[], Iterable[str]] | None = None) -> None:
        self.levels = (VlogLevels(on_change=self._apply_thresholds) if known_modules is None
                       else VlogLevels(known_modules, on_change=self._apply_thresholds))
        self._sequence = itertools.count(1)
        self._console = logging.StreamHandler(console if console is not None else sys.stderr)
        self._console.setFormatter(VlogFormatter(self._sequence, msec=False))
        self._console.addFilter(_DestinationFilter(self.levels, "console"))
        self._file: logging.FileHandler | None = None
        self._log_file: Path | None = None
        self._root: logging.Logger | None = None
        self._saved_levels: dict[str, int] = {}

    @property
    def log_file(self) -> Path | None:
        """The log file in use, if any."""
        return self._log_file

    def set_spec(self, spec: str) -> None:
        """Apply an OVS ``-v`` spec; ValueError with OVS's message when it is bad."""
        self.levels.set_spec(spec)

    def install(self, root: logging.Logger | None = None) -> None:
        """Attach the handlers to ``root`` (default: the root logger)."""
        if self._root is not None:
            raise RuntimeError("Vlog is already installed")
        self._root = root if root is not None else logging.getLogger()
        self._root.addHandler(self._console)
        if self._file is not None:
            self._root.addHandler(self._file)
        self._apply_thresholds()

    def uninstall(self) -> None:
        """Detach the handlers, close the log file, restore the logger levels."""
        root = self._root
        if root is None:
            return
        root.removeHandler(self._console)
        if self._file is not None:
            root.removeHandler(self._file)
            self._file.close()
            self._file = None
        for name, level in self._saved_levels.items():
            _logger(root, name).setLevel(level)
        self._saved_levels.clear()
        self._root = None

    def open_log_file(self, path: Path) -> None:
        """Log to ``path`` (appending) from now on; OSError if it cannot be opened."""
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(VlogFormatter(self._sequence, msec=True))
        handler.addFilter(_DestinationFilter(self.levels, "file"))
        old, self._file, self._log_file = self._file, handler, path
        if self._root is not None:
            self._root.addHandler(handler)
            if old is not None:
                self._root.removeHandler(old)
        if old is not None:
            old.close()
        log.info("opened log file %s", path)

    def reopen_log_file(self) -> None:
        """Reopen the log file under its name (after logrotate moved it)."""
        if self._log_file is not None:
            self.open_log_file(self._log_file)

    def disable_console(self) -> None:
        """Turn the console off for every module (a detached daemon has no terminal)."""
        self.levels.set_level(None, "console", OFF)

    def _apply_thresholds(self) -> None:
        # Loggers drop what no destination wants before a record is even built; the
        # per-destination filters then sort out the rest.
        root = self._root
        if root is None:
            return
        self._set_level(root, "", self.levels.threshold())
        for module in self.levels.overridden_modules():
            self._set_level(root, module, self.levels.threshold(module))

    def _set_level(self, root: logging.Logger, module: str, level: int) -> None:
        logger = _logger(root, module)
        self._saved_levels.setdefault(module, logger.level)
        logger.setLevel(level)


def _logger(root: logging.Logger, module: str) -> logging.Logger:
    return root if not module else logging.getLogger(f"pyovn.{module}")


_OVS_LEVELS = {"emer": logging.CRITICAL, "err": logging.ERROR, "warn": logging.WARNING,
               "info": logging.INFO, "dbg": logging.DEBUG}


def ovs_library_modules() -> list[str]:
    """Vlog modules of the ovs library (``ovs.reconnect`` …) known so far."""
    import ovs.vlog

    # ovs.vlog keeps its module table in a private class attribute; when that moves,
    # only the list shown by vlog/list and accepted by -v gets shorter.
    table: dict[str, Any] = getattr(ovs.vlog.Vlog, "_Vlog__mfl", {})
    return sorted(f"ovs.{name}" for name in table)


def bridge_ovs_vlog() -> None:
    """Send the ovs library's log messages to the stdlib loggers ``pyovn.ovs.<name>``.

    ``ovs.vlog.Vlog`` writes nothing until its own ``init()``, which would set up a
    second, global logging configuration; instead its private emitter is replaced (the
    ``ovs`` version is pinned). Idempotent.
    """
    import ovs.vlog

    vlog_class: Any = ovs.vlog.Vlog
    if getattr(vlog_class, "_pyovn_bridged", False):
        return

    def emit(self: Any, level: str, message: str, **kwargs: Any) -> None:
        logger = logging.getLogger(f"pyovn.ovs.{self.name}")
        levelno = _OVS_LEVELS.get(level.lower(), logging.DEBUG)
        if logger.isEnabledFor(levelno):
            logger.log(levelno, message, **kwargs)

    vlog_class._Vlog__log = emit
    vlog_class._pyovn_bridged = True
    for module in ovs_library_modules():
        logging.getLogger(f"pyovn.{module}")


__all__ = ["DESTINATIONS", "Vlog", "VlogFormatter", "bridge_ovs_vlog", "ovs_library_modules"]
