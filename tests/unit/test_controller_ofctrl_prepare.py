"""A fresh switch's install prepared while it is away: the same put, byte for byte."""

from __future__ import annotations

from pyovn.controller.desired_flows import DesiredFlowTable
from pyovn.controller.ofctrl_meters import MeterEntry
from pyovn.controller.ofctrl_prepare import PreparedInstall
from pyovn.controller.ofctrl_state import Inflight
from pyovn.openflow import (
    Bucket,
    Flow,
    FlowModCommand,
    Group,
    GroupEntry,
    GroupType,
    Match,
    Meter,
    MeterBand,
    MeterFlags,
    OFConnection,
    Output,
    Resubmit,
)

GROUP = GroupEntry(7, GroupType.SELECT, (Bucket((Output(1),)), Bucket((Output(2),))))
METER = MeterEntry(3, MeterFlags.KBPS, (MeterBand(rate=1000),))


def _table() -> DesiredFlowTable:
    table = DesiredFlowTable()
    for i in range(50):
        table.add_flow(Flow(8 + i % 5, 100, Match(reg14=i), [Resubmit(table=37)], i),
                       f"{i:08x}-0000-0000-0000-000000000000")
    table.add_flow(Flow(37, 100, Match(reg15=1), [Group(7), Meter(3)]),
                   "00000100-0000-0000-0000-000000000000")
    table.add_group(GROUP, "00000100-0000-0000-0000-000000000000")
    table.add_meter(METER, "00000100-0000-0000-0000-000000000000")
    return table


def _connection() -> OFConnection:
    of = OFConnection()
    of.hello()
    return of


def test_prepared_install_adds_every_winner_group_and_meter() -> None:
    table = _table()
    prepared = PreparedInstall.build(table, generation=4)
    assert prepared.generation == 4
    assert {c.key for c in prepared.diff.flows} == set(table.winners())
    assert all(c.old is None and c.message().command == FlowModCommand.ADD
               for c in prepared.diff.flows)
    assert [c.new for c in prepared.diff.groups_before] == [GROUP]
    assert [c.new for c in prepared.diff.meters] == [METER]
    assert (prepared.n_flows, prepared.n_groups) == (51, 1)


def test_prepared_messages_go_out_exactly_as_freshly_encoded_ones() -> None:
    prepared = PreparedInstall.build(_table(), generation=1)
    fresh, _ = Inflight.build(_connection(), prepared.diff, 1, 5, 0.0)
    ready, inflight = Inflight.build(_connection(), prepared.diff, 1, 5, 0.0,
                                     (prepared.meters, prepared.bundle))
    assert ready == fresh  # xids given on the new connection, inside and outside
    assert len(inflight.by_xid) == 51 + 1 + 1
