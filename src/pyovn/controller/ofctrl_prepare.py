"""A fresh switch's whole table, compared and encoded before the switch is back.

When ``ovs-vswitchd`` goes away (it restarts, crashes, is upgraded) every packet through
br-int is dropped until the new switch holds the flows again, so every moment between
its OpenFlow socket appearing and the bundle reaching it is outage. The new switch takes
seconds to configure its ports before it listens; ofctrl uses that time: as soon as the
connection is lost it compares the desired table with an empty switch and encodes the
result (:class:`PreparedInstall`). If the read-back on the next connection finds the
switch empty and the desired state has not changed meanwhile, that bundle goes out at
once; otherwise it is dropped and the difference is computed as always (a switch whose
flows were restored, a connection that broke while the switch stayed up).

The messages are kept as :class:`~pyovn.openflow.UnknownMessage` (type and body): their
xids are given when they are sent, on the new connection, like any others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pyovn.controller.desired_flows import DesiredFlowTable
from pyovn.controller.installed_flows import Diff, diff_flows, diff_groups, diff_meters
from pyovn.openflow import Message, UnknownMessage

__all__ = ["PreparedInstall"]


def _encoded(message: Message) -> Message:
    return UnknownMessage(type=message.msg_type, data=message.body())


@dataclass(slots=True)
class PreparedInstall:
    """The put that makes an empty switch hold the desired state of ``generation``.

    ``bundle`` holds the encoded messages of ``diff.bundle_changes()`` and ``meters``
    those of ``diff.meters``, in the same order (what
    :meth:`~pyovn.controller.ofctrl_state.Inflight.build` sends).
    """

    generation: int
    diff: Diff
    bundle: list[Message]
    meters: list[Message]
    seconds: float

    @classmethod
    def build(cls, desired: DesiredFlowTable, generation: int) -> PreparedInstall:
        """Compare ``desired`` with an empty switch and encode every change.

        Nothing is quarantined: a new connection starts with an empty quarantine.
        """
        started = time.perf_counter()
        out = Diff()
        winners = desired.winners()
        diff_flows(winners.get, {}, winners.keys(), out, delete_foreign=False)
        groups, meters = desired.groups(), desired.meters()
        diff_groups(groups, {}, groups.keys(), out)
        diff_meters(meters, {}, meters.keys(), out)
        bundle = [_encoded(c.message()) for c in out.bundle_changes()]
        encoded_meters = [_encoded(c.message()) for c in out.meters]
        return cls(generation, out, bundle, encoded_meters, time.perf_counter() - started)

    @property
    def n_flows(self) -> int:
        """Flow adds prepared."""
        return len(self.diff.flows)

    @property
    def n_groups(self) -> int:
        """Group adds prepared."""
        return len(self.diff.groups_before)
