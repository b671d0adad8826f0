"""Rate limiting for messages that repeat: the first few are logged, then they are
counted, and the count is reported with the next message that gets through.

pyovn's rule is "one line per event, naming the object, rate-limited for repeats"; a
malformed lflow seen on every recompute must not fill the disk. The *key* says which
messages are "like this" — usually the object (an lflow UUID) or the object and the
reason. Each key has its own window: at most ``burst`` messages per ``interval``
seconds. When a key speaks again after its window, its message carries
``(N messages like this suppressed in S s)``; :meth:`RateLimitedLogger.flush` reports
counts of keys that went quiet.

The clock is injectable (a fake one in tests); the number of keys tracked is bounded.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class _Window:
    """Counts for one key since ``start``."""

    __slots__ = ("count", "last", "start", "suppressed")

    def __init__(self, start: float) -> None:
        self.start = start
        self.count = 1
        self.suppressed = 0
        self.last: tuple[int, str] = (logging.INFO, "")


class RateLimitedLogger:
    """Wraps ``logger``; each call names a key and is logged unless the key is over
    its budget of ``burst`` messages per ``interval`` seconds.

    The level methods return whether the message was written.
    """

    def __init__(self, logger: logging.Logger, *, burst: int = 5, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 4096) -> None:
        if burst < 1 or interval <= 0 or max_keys < 1:
            raise ValueError("burst and max_keys must be >= 1 and interval > 0")
        self.logger = logger
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._max_keys = max_keys
        self._windows: OrderedDict[Hashable, _Window] = OrderedDict()

    def log(self, level: int, key: Hashable, msg: str, *args: object) -> bool:
        """Log ``msg % args`` at ``level`` unless ``key`` is over its budget."""
        if not self.logger.isEnabledFor(level):
            return False
        now = self._clock()
        window = self._windows.get(key)
        if window is not None and now - window.start < self.interval:
            if window.count < self.burst:
                window.count += 1
                self.logger.log(level, msg, *args)
                return True
            window.suppressed += 1
            window.last = (level, _render(msg, args))
            return False
        suppressed = window.suppressed if window is not None else 0
        self._windows[key] = _Window(now)
        self._windows.move_to_end(key)
        if suppressed:
            self._log_with_count(level, _render(msg, args), suppressed)
        else:
            self.logger.log(level, msg, *args)
        self._evict()
        return True

    def debug(self, key: Hashable, msg: str, *args: object) -> bool:
        """Rate-limited ``logger.debug``."""
        return self.log(logging.DEBUG, key, msg, *args)

    def info(self, key: Hashable, msg: str, *args: object) -> bool:
        """Rate-limited ``logger.info``."""
        return self.log(logging.INFO, key, msg, *args)

    def warning(self, key: Hashable, msg: str, *args: object) -> bool:
        """Rate-limited ``logger.warning``."""
        return self.log(logging.WARNING, key, msg, *args)

    def error(self, key: Hashable, msg: str, *args: object) -> bool:
        """Rate-limited ``logger.error``."""
        return self.log(logging.ERROR, key, msg, *args)

    def suppressed(self, key: Hashable) -> int:
        """How many messages of ``key`` are suppressed and not yet reported."""
        window = self._windows.get(key)
        return window.suppressed if window is not None else 0

    def flush(self) -> int:
        """Report the suppressed messages of every key whose window has ended; forget
        those keys. Returns the number of reports written (a daemon calls this now and
        then so that a burst that stopped is still counted in the log)."""
        now = self._clock()
        reports = 0
        for key, window in list(self._windows.items()):
            if now - window.start >= self.interval:
                del self._windows[key]
                if window.suppressed:
                    self._report_last(window)
                    reports += 1
        return reports

    def _evict(self) -> None:
        while len(self._windows) > self._max_keys:
            _, window = self._windows.popitem(last=False)
            if window.suppressed:
                self._report_last(window)

    def _report_last(self, window: _Window) -> None:
        level, text = window.last
        self._log_with_count(level, text, window.suppressed)

    def _log_with_count(self, level: int, text: str, suppressed: int) -> None:
        self.logger.log(level, "%s (%d messages like this suppressed in %g s)",
                        text, suppressed, self.interval)


def _render(msg: str, args: tuple[object, ...]) -> str:
    return msg % args if args else msg
