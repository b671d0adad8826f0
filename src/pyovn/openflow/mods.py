"""Messages that change the switch: flow_mod, group_mod, meter_mod and bundles."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from pyovn.openflow.actions import Action, decode_actions, encode_actions, format_actions
from pyovn.openflow.constants import (
    NTR_VENDOR_ID,
    OFP_NO_BUFFER,
    OFPG_ANY,
    OFPP_ANY,
    OFPT,
    OFPTT_ALL,
    BundleCtrlType,
    BundleFlags,
    FlowModCommand,
    GroupModCommand,
    GroupType,
    MeterBandType,
    MeterModCommand,
)
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError
from pyovn.openflow.flow import Flow, decode_instructions
from pyovn.openflow.match import Match
from pyovn.openflow.message import HEADER, Message, decode_message, register
from pyovn.openflow.values import format_port

_FLOW_MOD = struct.Struct("!BBHIQQBBHHHIIIHH")
_DELETES = (FlowModCommand.DELETE, FlowModCommand.DELETE_STRICT)


@dataclass(frozen=True, slots=True)
class FlowMod(Message):
    """OFPT_FLOW_MOD for one :class:`Flow`.

    Use the constructors :meth:`add`, :meth:`modify_strict`, :meth:`delete_strict`
    and :meth:`delete`.  ``table_id`` overrides the flow's table (only deletes may
    use ``OFPTT_ALL``).  Encoding reuses the match's cached bytes.
    """

    msg_type: ClassVar[int] = OFPT.FLOW_MOD
    flow: Flow = field(default_factory=lambda: Flow(0))
    command: int = FlowModCommand.ADD
    cookie_mask: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    flags: int = 0
    importance: int = 0
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    table_id: int | None = None
    buffer_id: int = OFP_NO_BUFFER

    def __post_init__(self) -> None:
        if self.command not in FlowModCommand._value2member_map_:
            raise OpenFlowEncodeError(f"unknown flow_mod command {self.command}")
        table = self.flow.table_id if self.table_id is None else self.table_id
        if not 0 <= table <= 254 and not (table == OFPTT_ALL and self.command in _DELETES):
            raise OpenFlowEncodeError(f"table id {table} out of range for flow_mod")

    @classmethod
    def add(cls, flow: Flow, **kwargs: int) -> FlowMod:
        """Add (or replace) ``flow``."""
        return cls(flow, FlowModCommand.ADD, **kwargs)

    @classmethod
    def modify_strict(cls, flow: Flow, **kwargs: int) -> FlowMod:
        """Change the actions (and cookie) of the flow with ``flow``'s key."""
        return cls(flow, FlowModCommand.MODIFY_STRICT, **kwargs)

    @classmethod
    def delete_strict(cls, flow: Flow, **kwargs: int) -> FlowMod:
        """Delete the flow with exactly ``flow``'s table, priority and match."""
        return cls(flow, FlowModCommand.DELETE_STRICT, **kwargs)

    @classmethod
    def delete(cls, match: Match | None = None, table_id: int = OFPTT_ALL, cookie: int = 0,
               cookie_mask: int = 0, out_port: int = OFPP_ANY,
               out_group: int = OFPG_ANY) -> FlowMod:
        """Delete every flow that ``match`` covers in ``table_id`` whose cookie matches
        ``cookie`` under ``cookie_mask``."""
        flow = Flow(0, 0, match or Match(), (), cookie)
        return cls(flow, FlowModCommand.DELETE, cookie_mask, out_port=out_port,
                   out_group=out_group, table_id=table_id)

    def body(self) -> bytes:
        """Everything after the header."""
        return self.encode(0)[8:]

    def encode(self, xid: int | None = None) -> bytes:
        """The flow_mod, built from the flow's cached bytes."""
        flow = self.flow
        tail = flow.match.encode() if self.command in _DELETES else flow.body()
        return _FLOW_MOD.pack(
            6, OFPT.FLOW_MOD, 48 + len(tail), self.xid if xid is None else xid, flow.cookie,
            self.cookie_mask, flow.table_id if self.table_id is None else self.table_id,
            self.command, self.idle_timeout, self.hard_timeout, flow.priority, self.buffer_id,
            self.out_port, self.out_group, self.flags, self.importance) + tail


@register(OFPT.FLOW_MOD)
def _decode_flow_mod(view: memoryview, xid: int) -> Message:
    (_, _, _, _, cookie, cookie_mask, table, command, idle, hard, priority, buffer_id,
     out_port, out_group, flags, importance) = _FLOW_MOD.unpack_from(view, 0)
    match, pos = Match.decode(view, 48)
    actions = decode_instructions(view, pos, len(view))
    flow_table = table if table <= 254 else 0
    return FlowMod(Flow(flow_table, priority, match, actions, cookie), command, cookie_mask,
                   idle, hard, flags, importance, out_port, out_group,
                   None if table == flow_table else table, buffer_id, xid=xid)


# -- groups ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bucket:
    """One group bucket.  ``bucket_id`` None is numbered by position in the group."""

    actions: tuple[Action, ...] = ()
    weight: int = 1
    watch_port: int = OFPP_ANY
    watch_group: int = OFPG_ANY
    bucket_id: int | None = None

    def encode(self, group_type: int) -> bytes:
        """An ``ofp15_bucket`` with the properties Open vSwitch would send."""
        actions = encode_actions(self.actions)
        props = b""
        if group_type == GroupType.SELECT:
            props += struct.pack("!HHH2x", 0, 8, self.weight)
        if self.watch_port != OFPP_ANY:
            props += struct.pack("!HHI", 1, 8, self.watch_port)
        if self.watch_group != OFPG_ANY:
            props += struct.pack("!HHI", 2, 8, self.watch_group)
        length = 8 + len(actions) + len(props)
        return struct.pack("!HHI", length, len(actions), self.bucket_id or 0) + actions + props

    def __str__(self) -> str:
        text = f"bucket=bucket_id:{self.bucket_id},"
        if self.weight != 1:
            text += f"weight:{self.weight},"
        if self.watch_port != OFPP_ANY:
            text += f"watch_port:{format_port(self.watch_port)},"
        if self.watch_group != OFPG_ANY:
            text += f"watch_group:{self.watch_group},"
        return text + f"actions={format_actions(self.actions)}"


def _decode_bucket(view: memoryview, pos: int) -> tuple[Bucket, int]:
    length, actions_len, bucket_id = struct.unpack_from("!HHI", view, pos)
    if length < 8 + actions_len:
        raise OpenFlowDecodeError("bad bucket length")
    actions = decode_actions(view, pos + 8, pos + 8 + actions_len)
    weight, watch_port, watch_group = 1, OFPP_ANY, OFPG_ANY
    p = pos + 8 + actions_len
    while p + 4 <= pos + length:
        ptype, plen = struct.unpack_from("!HH", view, p)
        if plen < 4:
            raise OpenFlowDecodeError("bad bucket property")
        if ptype == 0:
            (weight,) = struct.unpack_from("!H", view, p + 4)
        elif ptype == 1:
            (watch_port,) = struct.unpack_from("!I", view, p + 4)
        elif ptype == 2:
            (watch_group,) = struct.unpack_from("!I", view, p + 4)
        p += plen + (-plen % 8)
    return Bucket(actions, weight, watch_port, watch_group, bucket_id), pos + length


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """A canonical group: id, type, buckets and the OVS selection method.

    Buckets get ids by position when they have none, and non-select groups ignore
    weights (Open vSwitch neither stores nor dumps them), so a group decoded from
    the switch equals the one that was sent.
    """

    group_id: int
    type: int = GroupType.ALL
    buckets: tuple[Bucket, ...] = ()
    selection_method: str = ""
    selection_method_param: int = 0

    def __post_init__(self) -> None:
        buckets = [
            Bucket(tuple(b.actions), b.weight if self.type == GroupType.SELECT else 1,
                   b.watch_port, b.watch_group, i if b.bucket_id is None else b.bucket_id)
            for i, b in enumerate(self.buckets)]
        object.__setattr__(self, "buckets", tuple(buckets))
        if len(self.selection_method) > 15:
            raise OpenFlowEncodeError("selection_method is at most 15 characters")

    def encode_buckets(self) -> bytes:
        """All buckets."""
        return b"".join(b.encode(self.type) for b in self.buckets)

    def encode_properties(self) -> bytes:
        """The NTR selection-method property, when one is set."""
        if not self.selection_method:
            return b""
        return struct.pack("!HHII4x16sQ", 0xFFFF, 40, NTR_VENDOR_ID, 1,
                           self.selection_method.encode(), self.selection_method_param)

    def __str__(self) -> str:
        names = {0: "all", 1: "select", 2: "indirect", 3: "ff"}
        text = f"group_id={self.group_id},type={names.get(self.type, self.type)}"
        if self.selection_method:
            text += f",selection_method={self.selection_method}"
            if self.selection_method_param:
                text += f",selection_method_param={self.selection_method_param}"
        return text + "".join("," + str(b) for b in self.buckets)


def decode_group_properties(view: memoryview, pos: int, end: int) -> tuple[str, int]:
    """Selection method and parameter from a group's property list."""
    method, param = "", 0
    while pos + 4 <= end:
        ptype, plen = struct.unpack_from("!HH", view, pos)
        if plen < 4 or pos + plen > end:
            raise OpenFlowDecodeError("bad group property")
        if ptype == 0xFFFF and plen >= 40:
            vendor, exp_type = struct.unpack_from("!II", view, pos + 4)
            if vendor == NTR_VENDOR_ID and exp_type == 1:
                raw, param = struct.unpack_from("!16sQ", view, pos + 16)
                method = raw.rstrip(b"\0").decode()
        pos += plen + (-plen % 8)
    return method, param


def decode_buckets(view: memoryview, pos: int, end: int) -> tuple[Bucket, ...]:
    """Decode a bucket list."""
    buckets = []
    while pos < end:
        bucket, pos = _decode_bucket(view, pos)
        buckets.append(bucket)
    return tuple(buckets)


@dataclass(frozen=True, slots=True)
class GroupMod(Message):
    """OFPT_GROUP_MOD (OpenFlow 1.5 layout)."""

    msg_type: ClassVar[int] = OFPT.GROUP_MOD
    command: int = GroupModCommand.ADD
    group: GroupEntry = field(default_factory=lambda: GroupEntry(0))
    command_bucket_id: int = 0xFFFFFFFF

    def body(self) -> bytes:
        """Header fields, buckets and properties (a delete carries neither: Open vSwitch
        refuses a selection-method property on it)."""
        if self.command == GroupModCommand.DELETE:
            buckets = props = b""
        else:
            buckets, props = self.group.encode_buckets(), self.group.encode_properties()
        return (struct.pack("!HBxIH2xI", self.command, self.group.type, self.group.group_id,
                            len(buckets), self.command_bucket_id) + buckets + props)


@register(OFPT.GROUP_MOD)
def _decode_group_mod(view: memoryview, xid: int) -> Message:
    command, gtype, group_id, blen, cbid = struct.unpack_from("!HBxIH2xI", view, 8)
    buckets = decode_buckets(view, 24, 24 + blen)
    method, param = decode_group_properties(view, 24 + blen, len(view))
    return GroupMod(command, GroupEntry(group_id, gtype, buckets, method, param), cbid, xid=xid)


# -- meters -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterBand:
    """One meter band: drop or DSCP remark above ``rate``."""

    type: int = MeterBandType.DROP
    rate: int = 0
    burst_size: int = 0
    prec_level: int = 0

    def encode(self) -> bytes:
        """A 16-byte band."""
        if self.type == MeterBandType.DSCP_REMARK:
            return struct.pack("!HHIIB3x", self.type, 16, self.rate, self.burst_size,
                               self.prec_level)
        return struct.pack("!HHII4x", self.type, 16, self.rate, self.burst_size)


@dataclass(frozen=True, slots=True)
class MeterMod(Message):
    """OFPT_METER_MOD.  Meters cannot go in bundles with Open vSwitch."""

    msg_type: ClassVar[int] = OFPT.METER_MOD
    command: int = MeterModCommand.ADD
    meter_id: int = 0
    flags: int = 0
    bands: tuple[MeterBand, ...] = ()

    def body(self) -> bytes:
        """Command, flags, id and bands."""
        return struct.pack("!HHI", self.command, self.flags, self.meter_id) + b"".join(
            b.encode() for b in self.bands)


@register(OFPT.METER_MOD)
def _decode_meter_mod(view: memoryview, xid: int) -> Message:
    command, flags, meter_id = struct.unpack_from("!HHI", view, 8)
    bands = []
    pos = 16
    while pos + 16 <= len(view):
        btype, blen, rate, burst, prec = struct.unpack_from("!HHIIB", view, pos)
        bands.append(MeterBand(btype, rate, burst, prec if btype == 2 else 0))
        pos += max(blen, 16)
    return MeterMod(command, meter_id, flags, tuple(bands), xid=xid)


# -- bundles ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BundleControl(Message):
    """OFPT_BUNDLE_CONTROL: open/close/commit/discard requests and their replies."""

    msg_type: ClassVar[int] = OFPT.BUNDLE_CONTROL
    bundle_id: int = 0
    type: int = BundleCtrlType.OPEN_REQUEST
    flags: int = BundleFlags.ATOMIC | BundleFlags.ORDERED

    def body(self) -> bytes:
        """Bundle id, type and flags."""
        return struct.pack("!IHH", self.bundle_id, self.type, self.flags)


register(OFPT.BUNDLE_CONTROL)(
    lambda v, xid: BundleControl(*struct.unpack_from("!IHH", v, 8), xid=xid))


@dataclass(frozen=True, slots=True)
class BundleAddMessage(Message):
    """OFPT_BUNDLE_ADD_MESSAGE carrying ``message`` (same xid inside and outside, so
    an error reply maps back to the inner message)."""

    msg_type: ClassVar[int] = OFPT.BUNDLE_ADD_MESSAGE
    bundle_id: int = 0
    message: Message = field(default_factory=lambda: Message())
    flags: int = BundleFlags.ATOMIC | BundleFlags.ORDERED

    def body(self) -> bytes:
        """Everything after the header."""
        return self.encode(self.xid)[8:]

    def encode(self, xid: int | None = None) -> bytes:
        """Header, bundle fields, inner message."""
        xid = self.xid if xid is None else xid
        inner = self.message.encode(xid)
        return HEADER.pack(6, self.msg_type, 16 + len(inner), xid) + struct.pack(
            "!I2xH", self.bundle_id, self.flags) + inner


@register(OFPT.BUNDLE_ADD_MESSAGE)
def _decode_bundle_add(view: memoryview, xid: int) -> Message:
    bundle_id, flags = struct.unpack_from("!I2xH", view, 8)
    (inner_len,) = struct.unpack_from("!H", view, 18)
    inner = decode_message(view[16:16 + inner_len])
    return BundleAddMessage(bundle_id, inner, flags, xid=xid)

