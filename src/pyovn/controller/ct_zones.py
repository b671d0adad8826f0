"""Conntrack zones: one per local logical port, two (DNAT, SNAT) per local datapath.

ovn-controller 23.03 (``update_ct_zones`` in ``ovn-controller.c``) gives a zone to
every "user": each logical port with a local interface (VIFs, localports, containers,
and also interfaces whose ``iface-id`` names no port yet), each localnet port of a
local datapath, and ``<datapath UUID>_dnat`` / ``<datapath UUID>_snat`` for each
local datapath (switches included). Zone 0 is never used. A new user gets the lowest
free zone, or the one its datapath requests (``external_ids:snat-ct-zone`` of a
Datapath_Binding) when that is free; a user that goes away frees its zone.

The assignment is persisted in br-int's ``external_ids`` as ``ct-zone-<user>=<zone>``
and read back at start-up, so a restart of the controller keeps every zone (and the
connections tracked in it). :meth:`CtZones.ops` turns the difference between the
assignment and the bridge's keys into one OVSDB mutate.

Difference from 23.03: ovn-controller visits new users in hash order, so which of two
users added at once gets the lower zone is arbitrary there; here users are visited in
sorted order, so the assignment is a function of the history of user sets.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping

from pyovn.ovsdb import Mutate, Op, Row

__all__ = ["MAX_ZONE", "ZONE_KEY_PREFIX", "CtZones", "zone_users"]

MIN_ZONE = 1
MAX_ZONE = 0xFFFF
ZONE_KEY_PREFIX = "ct-zone-"


def zone_users(local_lports: Iterable[str], local_datapaths: Iterable[str]) -> set[str]:
    """Every user that needs a zone: the local logical ports, and the NAT zones of the
    local datapaths (by UUID)."""
    users = set(local_lports)
    for dp in local_datapaths:
        users.add(f"{dp}_dnat")
        users.add(f"{dp}_snat")
    return users


class CtZones:
    """The zone of each user, with lowest-free allocation."""

    def __init__(self) -> None:
        self.zones: dict[str, int] = {}
        self._used: dict[int, str] = {}
        self._free: list[int] = []  # heap of free zones below _high
        self._high = MIN_ZONE
        self._new: set[int] = set()

    @classmethod
    def restore(cls, external_ids: Mapping[str, str]) -> CtZones:
        """The zones saved in a bridge's ``external_ids`` (invalid entries ignored)."""
        zones = cls()
        for key, value in sorted(external_ids.items()):
            if not key.startswith(ZONE_KEY_PREFIX):
                continue
            try:
                zone = int(value)
            except ValueError:
                continue
            user = key[len(ZONE_KEY_PREFIX):]
            if MIN_ZONE <= zone <= MAX_ZONE and zone not in zones._used and user:
                zones.zones[user] = zone
                zones._used[zone] = user
        zones._high = max(zones._used, default=0) + 1
        zones._free = [z for z in range(MIN_ZONE, zones._high) if z not in zones._used]
        heapq.heapify(zones._free)
        return zones

    def _take(self, zone: int, user: str) -> None:
        self.zones[user] = zone
        self._used[zone] = user
        self._new.add(zone)
        while self._high <= zone:
            if self._high != zone:
                heapq.heappush(self._free, self._high)
            self._high += 1

    def _lowest_free(self) -> int | None:
        while self._free:
            zone = heapq.heappop(self._free)
            if zone not in self._used:
                return zone
        return self._high if self._high <= MAX_ZONE else None

    def _release(self, user: str) -> None:
        zone = self.zones.pop(user)
        del self._used[zone]
        self._new.discard(zone)
        heapq.heappush(self._free, zone)

    def update(self, users: Collection[str],
               requested: Mapping[str, int] | None = None) -> set[str]:
        """Make the assignment cover exactly ``users``; ``requested`` maps a user to the
        zone it asks for. Returns the users whose zone appeared, changed or went away.
        Users beyond the 65,535 zones stay without one (23.03 logs the same)."""
        requested = requested or {}
        changed: set[str] = set()
        for user in [u for u in self.zones if u not in users]:
            self._release(user)
            changed.add(user)
        for user, zone in sorted(requested.items()):
            if user not in users or self.zones.get(user) == zone:
                continue
            if not MIN_ZONE <= zone <= MAX_ZONE:
                continue
            holder = self._used.get(zone)
            if holder is not None and holder in requested:
                continue  # two users request the same zone: first come, first served
            if holder is not None:
                self._release(holder)
                changed.add(holder)
            if user in self.zones:
                self._release(user)
            self._take(zone, user)
            changed.add(user)
        for user in sorted(u for u in users if u not in self.zones):
            free = self._lowest_free()
            if free is None:
                break
            self._take(free, user)
            changed.add(user)
        return changed

    def take_new_zones(self) -> set[int]:
        """Zones assigned since the last call: their conntrack entries (left by an
        earlier user) are to be flushed before the new user's flows go in."""
        new, self._new = self._new, set()
        return new

    def ops(self, bridge: Row) -> list[Op]:
        """The mutate of ``bridge``'s ``external_ids`` that makes its ``ct-zone-*`` keys
        equal the assignment; none when they already do."""
        have = {k[len(ZONE_KEY_PREFIX):]: v for k, v in bridge["external_ids"].items()
                if k.startswith(ZONE_KEY_PREFIX)}
        want = {user: str(zone) for user, zone in self.zones.items()}
        stale = sorted(ZONE_KEY_PREFIX + u for u, v in have.items() if want.get(u) != v)
        missing = {ZONE_KEY_PREFIX + u: v for u, v in sorted(want.items())
                   if have.get(u) != v}
        mutations: list[tuple[str, str, object]] = []
        if stale:
            mutations.append(("external_ids", "delete", stale))
        if missing:
            mutations.append(("external_ids", "insert", missing))
        return [Mutate("Bridge", bridge.uuid, mutations)] if mutations else []
