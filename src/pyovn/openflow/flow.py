"""The canonical :class:`Flow` and OpenFlow 1.5 instruction encoding.

A flow is ``(table_id, priority, match, actions, cookie)``; it is immutable and
hashable.  Decoding a flow-stats entry builds the same canonical object, so
"installed" and "desired" compare with ``==``.

A controller holds each of its flows twice (desired and installed), some 10,000 per
1,000 ports, so a flow is kept small: its match caches its own encoding (matches are
shared by the desired flow, its installed copy and flows of other tables), the
instructions are encoded when a flow_mod is sent (each flow is sent about once: a
re-send is a new installed copy), the hash is computed when first asked for, and
equal actions are one shared object (:func:`intern_actions`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

# Importing the action modules registers their decoders.
from pyovn.openflow import ct as _ct  # noqa: F401
from pyovn.openflow import learn as _learn  # noqa: F401
from pyovn.openflow import nx_actions as _nx_actions  # noqa: F401
from pyovn.openflow.actions import (
    Action,
    Buf,
    GotoTable,
    decode_actions,
    format_actions,
)
from pyovn.openflow.constants import OFP_DEFAULT_PRIORITY, OFPTT_MAX
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError
from pyovn.openflow.match import Match

OFPIT_GOTO_TABLE = 1
OFPIT_APPLY_ACTIONS = 4


@dataclass(frozen=True, slots=True)
class RawInstruction(Action):
    """An instruction other than apply-actions / goto-table, kept byte for byte."""

    data: bytes

    def encode(self) -> bytes:
        """The original instruction bytes."""
        return self.data

    def __str__(self) -> str:
        return f"instruction({self.data.hex()})"


_TAIL_INSTRUCTIONS = (GotoTable, RawInstruction)
_APPLY_HEADER = struct.Struct("!HH4x")


def encode_instructions(actions: tuple[Action, ...]) -> bytes:
    """Instructions for ``actions``: one apply-actions (none if the list is empty,
    i.e. drop), then goto_table and raw instructions, as Open vSwitch orders them."""
    apply: list[bytes] = []
    tail: list[bytes] = []
    for action in actions:
        (tail if isinstance(action, _TAIL_INSTRUCTIONS) else apply).append(action.encode())
    body = b"".join(apply)
    if body:
        body = _APPLY_HEADER.pack(OFPIT_APPLY_ACTIONS, 8 + len(body)) + body
    return body + b"".join(tail) if tail else body


# A flow dump repeats the same few action lists thousands of times (resubmit(,N),
# drop, load+resubmit); actions are immutable values, so decoding each distinct
# byte string once is safe.  The memo is bounded and only ever a cache.
_MEMO: dict[bytes, tuple[Action, ...]] = {}
_MEMO_LIMIT = 16384


def decode_instructions(buf: Buf, pos: int, end: int) -> tuple[Action, ...]:
    """Decode instructions in ``buf[pos:end]`` into one flat canonical action list."""
    key = bytes(buf[pos:end])
    actions = _MEMO.get(key)
    if actions is None:
        actions = _decode_instructions(key, 0, len(key))
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[key] = actions
    return actions


def _decode_instructions(buf: Buf, pos: int, end: int) -> tuple[Action, ...]:
    actions: list[Action] = []
    tail: list[Action] = []
    while pos < end:
        if pos + 4 > end:
            raise OpenFlowDecodeError("truncated instruction")
        itype, ilen = struct.unpack_from("!HH", buf, pos)
        if ilen < 8 or pos + ilen > end:
            raise OpenFlowDecodeError(f"bad instruction length {ilen}")
        if itype == OFPIT_APPLY_ACTIONS:
            actions.extend(decode_actions(buf, pos + 8, pos + ilen))
        elif itype == OFPIT_GOTO_TABLE:
            tail.append(GotoTable(buf[pos + 4]))
        else:
            tail.append(RawInstruction(bytes(buf[pos:pos + ilen])))
        pos += ilen
    return tuple(actions + tail)


# Actions by themselves: the same few thousand (resubmit(,N), loads of port keys and
# zones) make up most of every table.  Bounded; a miss only costs sharing.
_INTERNED: dict[Action, Action] = {}
_INTERN_LIMIT = 65536


def intern_actions(actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """``actions`` with each action replaced by the equal one seen before, if any."""
    table = _INTERNED
    if len(table) >= _INTERN_LIMIT:
        table.clear()
    try:
        return tuple([table.setdefault(a, a) for a in actions])
    except TypeError:  # an action with an unhashable part: keep it as it is
        return actions


class Flow:
    """A canonical OpenFlow flow: table, priority, match, actions and cookie.

    ``actions`` empty means drop.  Equality and hashing cover all five parts;
    :attr:`key` is the part OpenFlow itself uses to identify a flow.
    """

    __slots__ = ("_hash", "actions", "cookie", "match", "priority", "table_id")

    table_id: int
    priority: int
    match: Match
    actions: tuple[Action, ...]
    cookie: int
    _hash: int | None

    def __init__(self, table_id: int, priority: int = OFP_DEFAULT_PRIORITY,
                 match: Match | None = None, actions: Iterable[Action] = (),
                 cookie: int = 0) -> None:
        if not 0 <= table_id <= OFPTT_MAX:
            raise OpenFlowEncodeError(f"table id {table_id} out of range 0..{OFPTT_MAX}")
        if not 0 <= priority <= 0xFFFF:
            raise OpenFlowEncodeError(f"priority {priority} out of range 0..65535")
        if not 0 <= cookie <= 0xFFFFFFFFFFFFFFFF:
            raise OpenFlowEncodeError(f"cookie 0x{cookie:x} is wider than 64 bits")
        actions = tuple(actions)
        for action in actions:
            if not isinstance(action, Action):
                raise OpenFlowEncodeError(f"not an action: {action!r}")
        match = Match() if match is None else match
        setter = object.__setattr__
        setter(self, "table_id", table_id)
        setter(self, "priority", priority)
        setter(self, "match", match)
        setter(self, "actions", intern_actions(actions))
        setter(self, "cookie", cookie)
        setter(self, "_hash", None)

    @classmethod
    def from_switch(cls, table_id: int, priority: int, match: Match,
                    actions: tuple[Action, ...], cookie: int) -> Flow:
        """Build from decoded parts without re-validating them (the switch holds them)."""
        flow = cls.__new__(cls)
        setter = object.__setattr__
        setter(flow, "table_id", table_id)
        setter(flow, "priority", priority)
        setter(flow, "match", match)
        setter(flow, "actions", actions)
        setter(flow, "cookie", cookie)
        setter(flow, "_hash", None)
        return flow

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Flow is immutable")

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Flow):
            return NotImplemented
        if self._hash is not None and other._hash is not None and self._hash != other._hash:
            return False
        return (self.table_id == other.table_id and self.priority == other.priority
                and self.cookie == other.cookie and self.match == other.match
                and self.actions == other.actions)

    def __hash__(self) -> int:
        found = self._hash
        if found is None:
            found = hash((self.table_id, self.priority, self.match, self.actions, self.cookie))
            object.__setattr__(self, "_hash", found)
        return found

    @property
    def key(self) -> tuple[int, int, Match]:
        """``(table_id, priority, match)``: what identifies the flow in the switch."""
        return self.table_id, self.priority, self.match

    def replace(self, **changes: object) -> Flow:
        """A copy with some of table_id, priority, match, actions, cookie changed."""
        parts: dict[str, object] = {
            "table_id": self.table_id, "priority": self.priority, "match": self.match,
            "actions": self.actions, "cookie": self.cookie}
        unknown = set(changes) - set(parts)
        if unknown:
            raise TypeError(f"unknown Flow attributes {sorted(unknown)}")
        parts.update(changes)
        return Flow(**parts)  # type: ignore[arg-type]

    def body(self) -> bytes:
        """Match plus instructions: a flow_mod after its header (the match's bytes are
        cached by the match, the instructions encoded now)."""
        return self.match.encode() + encode_instructions(self.actions)

    def __repr__(self) -> str:
        return f"Flow({self})"

    def __str__(self) -> str:
        return format_flow(self)


def format_flow(flow: Flow) -> str:
    """``ovs-ofctl --no-stats dump-flows`` text for ``flow`` (without leading space)."""
    head = f"cookie=0x{flow.cookie:x}, " if flow.cookie else ""
    if flow.table_id:
        head += f"table={flow.table_id}, "
    match_text = str(flow.match)
    if flow.priority != OFP_DEFAULT_PRIORITY:
        match_text = f"priority={flow.priority}" + ("," + match_text if match_text else "")
    if match_text:
        match_text += " "
    return f"{head}{match_text}actions={format_actions(flow.actions)}"
