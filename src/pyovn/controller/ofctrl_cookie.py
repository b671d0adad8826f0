"""The OpenFlow cookie of pyovn's flows: an ownership mark plus the parent's UUID prefix.

Layout (64 bits, most significant first; see docs/cookies.md)::

    63            48 47            32 31                              0
    +---------------+----------------+--------------------------------+
    | 0x7079 ("py") | layout version | ovn-controller's cookie: the   |
    |   ownership   |     0x0001     | first 32 bits of the SB row    |
    |               |                | UUID (0 where OVN uses 0)      |
    +---------------+----------------+--------------------------------+

The low 32 bits are what ovn-controller 23.03 puts in the whole cookie (the first
eight hex digits of the logical flow's UUID), so masking a dump with 0xffffffff
compares pyovn's and OVN's cookies directly. The high 32 bits say "pyovn installed
this": only flows carrying the mark are pyovn's to delete when nothing desires them.
The desired flow table stamps the mark on every flow added to it; the low 32 bits
are the caller's (:func:`parent_prefix` computes OVN's value from a UUID).
"""

from __future__ import annotations

import zlib

#: The ownership half of the cookie: "py" and layout version 1, in bits 63..32.
OWNER_MARK = 0x7079_0001 << 32
#: Bits that identify pyovn's ownership (any layout version).
OWNER_MASK = 0xFFFF_0000_0000_0000
_OWNER_ID = OWNER_MARK & OWNER_MASK
_LOW32 = 0xFFFF_FFFF


def parent_prefix(parent: str) -> int:
    """The 32 bits of ``parent`` that go into the cookie.

    For a UUID (``"8-4-4-4-12"`` hex) it is the first eight hex digits, exactly the
    cookie ovn-controller gives a flow of that logical flow; any other parent name
    (a fixed-flow label such as ``"physical:table0"``) is hashed with CRC-32.
    """
    head = parent[:8]
    if len(parent) == 36 and parent[8] == "-":
        try:
            return int(head, 16)
        except ValueError:
            pass
    return zlib.crc32(parent.encode())


def owned_cookie(cookie: int) -> int:
    """``cookie`` with pyovn's ownership mark: its low 32 bits (the caller's, i.e.
    ovn-controller's cookie, possibly 0) under the mark; the caller's high bits go."""
    return OWNER_MARK | (cookie & _LOW32)


def is_owned(cookie: int) -> bool:
    """Whether a flow with ``cookie`` carries pyovn's ownership mark."""
    return cookie & OWNER_MASK == _OWNER_ID


def ovn_cookie(cookie: int) -> int:
    """The part of a pyovn cookie that equals ovn-controller's cookie."""
    return cookie & _LOW32
