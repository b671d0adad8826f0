"""The desired logical flow table, with the ``lflow_ref`` of every resource.

Each flow (:class:`~pyovn.northd.lflow.flows.LflowKey`) holds the datapaths it is on,
each with the number of links that put it there: several resources may generate the
same flow on the same datapath (two ACLs written alike), and the flow stays until the
last of them lets go. A resource (a datapath's own flows, a port, an ACL on a switch)
owns an :class:`LflowRef`: the links it made. Regenerating a resource replaces its
links; the table records which flows that touched (``dirty``), so the Southbound sync
looks at those flows only.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyovn.northd.lflow.flows import NO_ATTRS, LflowAttrs, LflowKey, Link

__all__ = ["FlowEntry", "LflowRef", "LflowTable"]


def _attrs_order(attrs: LflowAttrs) -> tuple[str, str]:
    return (attrs.stage_hint or "", attrs.in_out_port or "")


class FlowEntry:
    """One desired flow: datapath name → link count, attributes → link count."""

    __slots__ = ("attrs", "dps")

    def __init__(self) -> None:
        self.dps: dict[str, int] = {}
        self.attrs: dict[LflowAttrs, int] = {}

    def effective_attrs(self) -> LflowAttrs:
        """The attributes written to the SB: when resources disagree (rare: two NB rows
        asking for the very same flow), the smallest, so that the choice is stable."""
        if len(self.attrs) == 1:
            return next(iter(self.attrs))
        if not self.attrs:
            return NO_ATTRS
        return min(self.attrs, key=_attrs_order)


class LflowRef:
    """What one resource generated: its links (datapath, flow, attributes)."""

    __slots__ = ("links",)

    def __init__(self) -> None:
        self.links: list[Link] = []

    def __len__(self) -> int:
        return len(self.links)


class LflowTable:
    """Desired flows with their datapaths, refcounted by the resources' links."""

    __slots__ = ("dirty", "flows")

    def __init__(self) -> None:
        self.flows: dict[LflowKey, FlowEntry] = {}
        #: Flows whose datapaths or attributes may have changed since the last take.
        self.dirty: set[LflowKey] = set()

    def __len__(self) -> int:
        return len(self.flows)

    def __iter__(self) -> Iterator[LflowKey]:
        return iter(self.flows)

    def get(self, key: LflowKey) -> FlowEntry | None:
        """The entry of ``key``, or None if no resource wants that flow."""
        return self.flows.get(key)

    def replace(self, ref: LflowRef, links: list[Link]) -> bool:
        """Make ``links`` the links of ``ref`` (unlinking its old ones); return whether
        anything changed. Regenerating a resource to the same flows costs no sync."""
        if links == ref.links:
            return False
        self.unlink(ref)
        flows = self.flows
        dirty = self.dirty
        for dp, key, attrs in links:
            entry = flows.get(key)
            if entry is None:
                entry = flows[key] = FlowEntry()
            entry.dps[dp] = entry.dps.get(dp, 0) + 1
            entry.attrs[attrs] = entry.attrs.get(attrs, 0) + 1
            dirty.add(key)
        ref.links = links
        return True

    def unlink(self, ref: LflowRef) -> None:
        """Remove every link of ``ref``; a flow with no link left is gone."""
        flows = self.flows
        dirty = self.dirty
        for dp, key, attrs in ref.links:
            entry = flows[key]
            n = entry.dps[dp] - 1
            if n:
                entry.dps[dp] = n
            else:
                del entry.dps[dp]
            n = entry.attrs[attrs] - 1
            if n:
                entry.attrs[attrs] = n
            else:
                del entry.attrs[attrs]
            if not entry.dps:
                del flows[key]
            dirty.add(key)
        ref.links = []

    def take_dirty(self) -> set[LflowKey]:
        """The flows touched since the last call; starts afresh."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    def datapath_counts(self) -> dict[tuple[str, ...], int]:
        """How many flows are on each set of datapaths (for stats and tests)."""
        counts: dict[tuple[str, ...], int] = {}
        for entry in self.flows.values():
            dps = tuple(sorted(entry.dps))
            counts[dps] = counts.get(dps, 0) + 1
        return counts
