"""Rate limiting of repeated messages, on a fake clock."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from pyovn.daemon import RateLimitedLogger


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ListHandler(logging.Handler):
    """Keeps the formatted messages."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, ListHandler]]:
    logger = logging.getLogger("pyovn.tests.ratelimit")
    handler = ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_first_burst_is_logged_then_repeats_are_suppressed(
        captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    clock = FakeClock()
    rl = RateLimitedLogger(logger, burst=3, interval=60, clock=clock)
    results = [rl.warning("lflow-1", "lflow %s: bad match", "lflow-1") for _ in range(10)]
    assert results == [True] * 3 + [False] * 7
    assert handler.messages == ["lflow lflow-1: bad match"] * 3
    assert rl.suppressed("lflow-1") == 7


def test_message_after_the_interval_reports_how_many_were_suppressed(
        captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    clock = FakeClock()
    rl = RateLimitedLogger(logger, burst=2, interval=60, clock=clock)
    for _ in range(6):
        rl.warning("k", "port %s unbound", "p1")
    clock.advance(59.9)
    assert not rl.warning("k", "port %s unbound", "p1")
    clock.advance(0.2)
    assert rl.warning("k", "port %s unbound", "p1")
    assert handler.messages[-1] == (
        "port p1 unbound (5 messages like this suppressed in 60 s)")
    assert rl.suppressed("k") == 0
    assert rl.warning("k", "port %s unbound", "p1")
    assert handler.messages[-1] == "port p1 unbound"


def test_keys_are_limited_independently(captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    rl = RateLimitedLogger(logger, burst=1, interval=60, clock=FakeClock())
    assert rl.error("a", "object a")
    assert not rl.error("a", "object a")
    assert rl.error("b", "object b")
    assert handler.messages == ["object a", "object b"]


def test_flush_reports_keys_that_went_quiet(
        captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    clock = FakeClock()
    rl = RateLimitedLogger(logger, burst=1, interval=10, clock=clock)
    for i in range(4):
        rl.info("acl", "acl %d rejected", i)
    assert rl.flush() == 0
    clock.advance(10)
    assert rl.flush() == 1
    assert handler.messages[-1] == "acl 3 rejected (3 messages like this suppressed in 10 s)"
    assert rl.flush() == 0


def test_disabled_level_is_neither_logged_nor_counted(
        captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    logger.setLevel(logging.WARNING)
    rl = RateLimitedLogger(logger, burst=1, clock=FakeClock())
    assert not rl.debug("k", "noise")
    assert rl.suppressed("k") == 0
    assert handler.messages == []


def test_tracked_keys_are_bounded_and_evicted_counts_are_reported(
        captured: tuple[logging.Logger, ListHandler]) -> None:
    logger, handler = captured
    rl = RateLimitedLogger(logger, burst=1, interval=60, clock=FakeClock(), max_keys=2)
    rl.warning("old", "old thing")
    rl.warning("old", "old thing")
    rl.warning("k2", "k2 thing")
    rl.warning("k3", "k3 thing")
    assert "old thing (1 messages like this suppressed in 60 s)" in handler.messages
    assert rl.suppressed("old") == 0
    assert rl.warning("old", "old thing")


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimitedLogger(logging.getLogger("x"), burst=0)
