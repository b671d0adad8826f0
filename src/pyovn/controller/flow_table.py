"""pyovn-controller's flow tables, in one import.

- :class:`DesiredFlowTable` (:mod:`~pyovn.controller.desired_flows`): what the
  translation wants, flow by flow, with the Southbound rows (parents) behind each
  flow; one winner per ``(table, priority, match)``; change tracking for ofctrl.
- :class:`InstalledFlowTable` (:mod:`~pyovn.controller.installed_flows`): what the
  switch holds, maintained by ofctrl.
- The cookie layout (:mod:`~pyovn.controller.ofctrl_cookie`, docs/cookies.md): the
  desired table stamps pyovn's ownership mark over ovn-controller's 32-bit cookie.
- :class:`MeterEntry`: a meter as the desired and installed tables hold it.

Typical use by a translation step::

    table.remove_by_parent(lflow_uuid)          # forget its previous flows
    for flow in translate(lflow):
        table.add_flow(flow, lflow_uuid)        # flow.cookie = parent_prefix(lflow_uuid)
"""

from pyovn.controller.desired_flows import (
    DesiredFlowTable,
    FlowKey,
    FlowKind,
    TrackedChanges,
    choose_winner,
    flow_kind,
)
from pyovn.controller.installed_flows import InstalledFlowTable
from pyovn.controller.ofctrl_cookie import (
    OWNER_MARK,
    OWNER_MASK,
    is_owned,
    ovn_cookie,
    owned_cookie,
    parent_prefix,
)
from pyovn.controller.ofctrl_meters import MeterEntry

__all__ = [
    "OWNER_MARK",
    "OWNER_MASK",
    "DesiredFlowTable",
    "FlowKey",
    "FlowKind",
    "InstalledFlowTable",
    "MeterEntry",
    "TrackedChanges",
    "choose_winner",
    "flow_kind",
    "is_owned",
    "ovn_cookie",
    "owned_cookie",
    "parent_prefix",
]
