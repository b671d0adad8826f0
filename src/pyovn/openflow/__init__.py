"""pyovn's OpenFlow 1.5 codec (sans-I/O) with the Nicira extensions OVN uses.

- :class:`OFConnection` frames bytes, negotiates OpenFlow 1.5, allocates xids and
  bundle ids, and joins multipart replies (h11 style: no sockets).
- :class:`Match`, :class:`Flow` and the action classes are canonical value objects:
  built here or decoded from the switch's flow dump, equal flows compare equal.
- Messages are frozen dataclasses with ``encode(xid)``; :func:`decode_message`
  decodes one.
- ``str()`` of a match, action or flow is ``ovs-ofctl`` text; :func:`parse_flow`
  reads ``ovs-ofctl dump-flows`` lines back into canonical flows.

Errors: see :mod:`pyovn.openflow.errors`.
"""

from pyovn.openflow.actions import (
    Action,
    CopyField,
    DecTtl,
    GotoTable,
    Group,
    Meter,
    Output,
    PopVlan,
    PushVlan,
    SetField,
    SetQueue,
    Subfield,
    UnknownAction,
    format_actions,
    load,
    move,
)
from pyovn.openflow.connection import BundleTransaction, OFConnection, State
from pyovn.openflow.constants import (
    OFP_VERSION,
    OFPG_ALL,
    OFPG_ANY,
    OFPP_ALL,
    OFPP_ANY,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    OFPP_IN_PORT,
    OFPP_LOCAL,
    OFPP_NORMAL,
    OFPP_TABLE,
    OFPTT_ALL,
    BundleCtrlType,
    BundleFlags,
    FlowModCommand,
    FlowModFlags,
    FlowMonitorCommand,
    FlowMonitorFlags,
    FlowUpdateEvent,
    GroupModCommand,
    GroupType,
    MeterBandType,
    MeterFlags,
    MeterModCommand,
    PacketInReason,
)
from pyovn.openflow.ct import Ct, Nat
from pyovn.openflow.errors import (
    LocalProtocolError,
    OpenFlowDecodeError,
    OpenFlowEncodeError,
    OpenFlowError,
    RemoteProtocolError,
)
from pyovn.openflow.flow import Flow
from pyovn.openflow.learn import Learn, LearnSpec
from pyovn.openflow.match import Match
from pyovn.openflow.message import Message, UnknownMessage, decode_message
from pyovn.openflow.messages import (
    BarrierReply,
    BarrierRequest,
    EchoReply,
    EchoRequest,
    ErrorMsg,
    FeaturesReply,
    FeaturesRequest,
    Hello,
    PacketIn,
    PacketOut,
    PortDesc,
    PortStatus,
    SetConfig,
)
from pyovn.openflow.mods import (
    Bucket,
    BundleAddMessage,
    BundleControl,
    FlowMod,
    GroupEntry,
    GroupMod,
    MeterBand,
    MeterMod,
)
from pyovn.openflow.multipart import (
    FlowMonitorReply,
    FlowMonitorRequest,
    FlowStats,
    FlowStatsReply,
    FlowStatsRequest,
    FlowUpdate,
    GroupDescReply,
    GroupDescRequest,
    PortDescReply,
    PortDescRequest,
)
from pyovn.openflow.nx_actions import (
    CheckPktLarger,
    Clone,
    Conjunction,
    Controller,
    CtClear,
    Exit,
    FinTimeout,
    Note,
    OutputReg,
    Resubmit,
    Sample,
)
from pyovn.openflow.nx_messages import PacketIn2, Resume, SetPacketInFormat, TlvMap, TlvTableMod
from pyovn.openflow.parse import parse_action, parse_actions, parse_flow, parse_flows

__all__ = [
    "OFP_VERSION", "OFPG_ALL", "OFPG_ANY", "OFPP_ALL", "OFPP_ANY", "OFPP_CONTROLLER",
    "OFPP_FLOOD", "OFPP_IN_PORT", "OFPP_LOCAL", "OFPP_NORMAL", "OFPP_TABLE", "OFPTT_ALL",
    "Action", "BarrierReply", "BarrierRequest", "Bucket", "BundleAddMessage", "BundleControl",
    "BundleCtrlType", "BundleFlags", "BundleTransaction", "CheckPktLarger", "Clone",
    "Conjunction", "Controller", "CopyField", "Ct", "CtClear", "DecTtl", "EchoReply",
    "EchoRequest", "ErrorMsg", "Exit", "FeaturesReply", "FeaturesRequest", "FinTimeout", "Flow",
    "FlowMod", "FlowModCommand", "FlowModFlags", "FlowMonitorCommand", "FlowMonitorFlags",
    "FlowMonitorReply", "FlowMonitorRequest", "FlowStats", "FlowStatsReply", "FlowStatsRequest",
    "FlowUpdate", "FlowUpdateEvent", "GotoTable", "Group", "GroupDescReply", "GroupDescRequest",
    "GroupEntry", "GroupMod", "GroupModCommand", "GroupType", "Hello", "Learn", "LearnSpec",
    "LocalProtocolError", "Match", "Message", "Meter", "MeterBand", "MeterBandType",
    "MeterFlags", "MeterMod", "MeterModCommand", "Nat", "Note", "OFConnection",
    "OpenFlowDecodeError", "OpenFlowEncodeError", "OpenFlowError", "Output", "OutputReg",
    "PacketIn", "PacketIn2", "PacketInReason", "PacketOut", "PopVlan", "PortDesc",
    "PortDescReply", "PortDescRequest", "PortStatus", "PushVlan", "RemoteProtocolError",
    "Resubmit", "Resume", "Sample", "SetConfig", "SetField", "SetPacketInFormat", "SetQueue",
    "State", "Subfield", "TlvMap", "TlvTableMod", "UnknownAction", "UnknownMessage",
    "decode_message", "format_actions", "load", "move", "parse_action", "parse_actions",
    "parse_flow", "parse_flows",
]
