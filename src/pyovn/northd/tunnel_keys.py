"""Tunnel key allocation, as ovn-northd does it (``ovn_allocate_tnlid``).

A key space is a range [min, max] and a *hint*, the last key handed out: the next
allocation takes the first free key after the hint, wrapping around to ``min``. Keys of
existing objects never move; a freed key is reused only after the allocator has
wrapped around.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = [
    "DP_KEY_MAX",
    "DP_KEY_MIN",
    "MC_FLOOD_KEY",
    "MC_FLOOD_L2_KEY",
    "MC_MROUTER_FLOOD_KEY",
    "MC_STATIC_KEY",
    "MC_UNKNOWN_KEY",
    "PORT_KEY_MAX",
    "TunnelKeys",
]

#: Datapath keys: OVN_MAX_DP_KEY_LOCAL (keys above are for interconnection); this is the
#: ``max_tunid`` ovn-northd 23.03 advertises when no chassis uses VXLAN.
DP_KEY_MIN, DP_KEY_MAX = 1, (1 << 24) - 1 - ((1 << 16) - 1)
#: Logical port keys: 1..2^15-1 (keys from 32768 are multicast groups).
PORT_KEY_MAX = (1 << 15) - 1

#: The fixed multicast group keys of ovn-northd 23.03 (lib/mcast-group-index.h).
MC_FLOOD_KEY = 32768
MC_UNKNOWN_KEY = 32769
MC_MROUTER_FLOOD_KEY = 32770
MC_STATIC_KEY = 32771
MC_FLOOD_L2_KEY = 32772


class TunnelKeys:
    """One key space: which owner holds each key, and the allocation hint.

    Owners are whatever identifies the object (a switch UUID, a port name); an owner
    holds at most one key.
    """

    __slots__ = ("hint", "key_of", "max", "min", "owner")

    def __init__(self, lo: int, hi: int) -> None:
        self.min, self.max = lo, hi
        self.owner: dict[int, Hashable] = {}
        self.key_of: dict[Hashable, int] = {}
        self.hint = 0

    def claim(self, key: int, owner: Hashable) -> bool:
        """Give ``key`` to ``owner`` (e.g. the key its Southbound row has); False if the
        key is out of range or held by another owner. The hint follows the largest
        claimed key, as in ovn-northd."""
        if not self.min <= key <= self.max:
            return False
        holder = self.owner.get(key)
        if holder is not None and holder != owner:
            return False
        self.release_owner(owner)
        self.owner[key] = owner
        self.key_of[owner] = key
        self.hint = max(self.hint, key)
        return True

    def allocate(self, owner: Hashable) -> int:
        """The key of ``owner``: the one it holds, else the first free one after the
        hint (0 when the space is exhausted)."""
        held = self.key_of.get(owner)
        if held is not None:
            return held
        span = self.max - self.min + 1
        if len(self.owner) >= span:
            return 0
        key = self.hint
        for _ in range(span):
            key = key + 1 if key + 1 <= self.max else self.min
            if key not in self.owner:
                self.owner[key] = owner
                self.key_of[owner] = key
                self.hint = key
                return key
        return 0

    def release_owner(self, owner: Hashable) -> None:
        """Free the key ``owner`` holds, if any (its object is gone)."""
        key = self.key_of.pop(owner, None)
        if key is not None:
            del self.owner[key]

    def owners(self) -> list[Hashable]:
        """Every owner holding a key."""
        return list(self.key_of)
