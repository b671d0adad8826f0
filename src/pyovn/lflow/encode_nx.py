"""Nicira actions OVN's translator needs that :mod:`pyovn.openflow` lacks.

- ``push:FIELD[..]`` and ``pop:FIELD[..]`` (the ``push``/``pop``/``<->``
  actions, and the argument passing of ``put_arp``, ``get_fdb``... through fixed
  registers);
- ``dec_ttl()`` with an explicit, here empty, list of controller ids: OVN's
  ``ip.ttl--`` is NXAST_DEC_TTL_CNT_IDS with no ids, which Open vSwitch keeps
  apart from plain ``dec_ttl`` (OFPAT_DEC_NW_TTL, controller id 0).  They are defined here in the
codec's style (frozen, canonical, ``encode()`` is what Open vSwitch sends,
``str()`` what ``ovs-ofctl`` prints) and registered with the codec's decoder
registry, so a dumped flow decodes to the same objects.  They belong in
:mod:`pyovn.openflow.nx_actions`; move them there when that module grows them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pyovn.openflow.actions import (
    Action,
    Buf,
    DecTtl,
    Subfield,
    decode_subfield,
    nx_action,
    nxm_header_4,
    register_nx,
    subfield,
)
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError

__all__ = ["NXAST_DEC_TTL_CNT_IDS", "NXAST_STACK_POP", "NXAST_STACK_PUSH", "DecTtlIds",
           "StackPop", "StackPush", "parse_nx_action"]

NXAST_STACK_PUSH = 27
NXAST_STACK_POP = 28
NXAST_DEC_TTL_CNT_IDS = 21


def _encode(subtype: int, sf: Subfield) -> bytes:
    body = (struct.pack("!H", sf.ofs) + nxm_header_4(sf, "push/pop")
            + struct.pack("!H6x", sf.nbits))
    return nx_action(subtype, body)


@dataclass(frozen=True, slots=True, init=False)
class StackPush(Action):
    """``push:SRC[ofs..end]``: push a field's bits on the datapath's stack."""

    field: Subfield

    def __init__(self, field: Subfield | str) -> None:
        object.__setattr__(self, "field", subfield(field))

    def encode(self) -> bytes:
        """NXAST_STACK_PUSH."""
        return _encode(NXAST_STACK_PUSH, self.field)

    def __str__(self) -> str:
        return f"push:{self.field}"


@dataclass(frozen=True, slots=True, init=False)
class StackPop(Action):
    """``pop:DST[ofs..end]``: pop the top of the stack into a field's bits."""

    field: Subfield

    def __init__(self, field: Subfield | str) -> None:
        sf = subfield(field)
        if not sf.meta.writable:
            raise OpenFlowEncodeError(f"field {sf.field} is read-only")
        object.__setattr__(self, "field", sf)

    def encode(self) -> bytes:
        """NXAST_STACK_POP."""
        return _encode(NXAST_STACK_POP, self.field)

    def __str__(self) -> str:
        return f"pop:{self.field}"


def _decode(buf: Buf, pos: int, push: bool) -> Action:
    ofs, = struct.unpack_from("!H", buf, pos + 10)
    nbits, = struct.unpack_from("!H", buf, pos + 16)
    sf, _ = decode_subfield(buf, pos + 12, ofs << 6 | (nbits - 1))
    return StackPush(sf) if push else StackPop(sf)


register_nx(NXAST_STACK_PUSH)(lambda buf, pos, end: _decode(buf, pos, True))
register_nx(NXAST_STACK_POP)(lambda buf, pos, end: _decode(buf, pos, False))


@dataclass(frozen=True, slots=True)
class DecTtlIds(Action):
    """``dec_ttl(ID,...)``: decrement the TTL, telling these controllers on expiry.

    Only lists other than ``(0,)`` use this class; that one is plain
    :class:`~pyovn.openflow.actions.DecTtl`, as Open vSwitch canonicalises it.
    """

    controller_ids: tuple[int, ...] = ()

    def encode(self) -> bytes:
        """NXAST_DEC_TTL_CNT_IDS."""
        ids = self.controller_ids
        return nx_action(NXAST_DEC_TTL_CNT_IDS, struct.pack(f"!H4x{len(ids)}H", len(ids), *ids))

    def __str__(self) -> str:
        return f"dec_ttl({','.join(str(i) for i in self.controller_ids)})"


@register_nx(NXAST_DEC_TTL_CNT_IDS)
def _decode_dec_ttl_cnt_ids(buf: Buf, pos: int, end: int) -> Action:
    n_ids, = struct.unpack_from("!H", buf, pos + 10)
    if pos + 16 + 2 * n_ids > end:
        raise OpenFlowDecodeError("truncated NXAST_DEC_TTL_CNT_IDS")
    ids = struct.unpack_from(f"!{n_ids}H", buf, pos + 16)
    return DecTtl() if ids == (0,) else DecTtlIds(ids)


def parse_nx_action(text: str) -> Action | None:
    """``push:SF``, ``pop:SF`` or ``dec_ttl(IDS)`` in ``ovs-ofctl`` syntax, else None."""
    text = text.strip()
    if text.startswith("push:"):
        return StackPush(text[5:])
    if text.startswith("pop:"):
        return StackPop(text[4:])
    if text.startswith("dec_ttl(") and text.endswith(")"):
        ids = tuple(int(i, 0) for i in text[8:-1].split(",") if i.strip())
        return DecTtl() if ids == (0,) else DecTtlIds(ids)
    return None
