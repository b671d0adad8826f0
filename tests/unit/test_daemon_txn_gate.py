"""TxnGate: one transaction in flight per database, recompute on failure, and a doubling
back-off after ERRORs so that a daemon never spins on writes that cannot succeed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyovn.daemon.txn_gate import RETRY_MAX, RETRY_MIN, TxnGate
from pyovn.ovsdb import Comment, TxnStatus


@dataclass
class FakeTxn:
    status: TxnStatus = TxnStatus.INCOMPLETE
    error: str = ""
    details: str = ""

    @property
    def done(self) -> bool:
        return self.status is not TxnStatus.INCOMPLETE


@dataclass
class FakeClient:
    sent: list[FakeTxn] = field(default_factory=list)

    def transact(self, ops: Any) -> FakeTxn:
        self.sent.append(FakeTxn())
        return self.sent[-1]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr("pyovn.daemon.txn_gate.time.monotonic", lambda: now[0])
    return now


def test_one_transaction_in_flight_per_database(clock: list[float]) -> None:
    failures: list[int] = []
    gate = TxnGate(("nb", "sb"), logging.getLogger("t"), lambda: failures.append(1))
    client = FakeClient()
    assert gate.ops("sb") == [] and gate.idle
    gate.commit("sb", client, [])  # type: ignore[arg-type]
    assert client.sent == []  # nothing to write: nothing sent
    assert gate.idle
    gate.commit("sb", client, [Comment("x")])  # type: ignore[arg-type]
    assert gate.ops("sb") is None and gate.ops("nb") == [] and gate.in_flight("sb")
    client.sent[0].status = TxnStatus.SUCCESS
    gate.settle()
    assert gate.ops("sb") == [] and gate.idle and failures == []


def test_errors_back_off_doubling_and_a_success_resets(clock: list[float]) -> None:
    failures: list[int] = []
    gate = TxnGate(("sb",), logging.getLogger("t"), lambda: failures.append(1))
    client = FakeClient()
    delays = []
    for _ in range(8):
        gate.commit("sb", client, [Comment("x")])  # type: ignore[arg-type]
        client.sent[-1].status = TxnStatus.ERROR
        gate.settle()
        delays.append(gate.retry_delay())
        assert gate.ops("sb") is None  # no write during the back-off
        clock[0] += gate.retry_delay()
        assert gate.ops("sb") == []
    assert delays[:3] == pytest.approx([RETRY_MIN, RETRY_MIN * 2, RETRY_MIN * 4])
    assert delays[-1] == pytest.approx(RETRY_MAX) and len(failures) == 8
    gate.commit("sb", client, [Comment("x")])  # type: ignore[arg-type]
    client.sent[-1].status = TxnStatus.SUCCESS
    gate.settle()
    assert gate.backoff == 0.0


def test_try_again_recomputes_at_once(clock: list[float]) -> None:
    failures: list[int] = []
    gate = TxnGate(("sb",), logging.getLogger("t"), lambda: failures.append(1))
    client = FakeClient()
    gate.commit("sb", client, [Comment("x")])  # type: ignore[arg-type]
    client.sent[-1].status = TxnStatus.TRY_AGAIN
    gate.settle()
    assert failures == [1] and gate.retry_delay() == 0 and gate.ops("sb") == []
