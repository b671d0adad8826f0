"""Numbers of the OpenFlow 1.5 wire protocol and of the Nicira extensions we use.

Values come from the OpenFlow 1.5 specification and Open vSwitch's
``include/openflow/*.h``; names follow the specification with the ``OFP`` prefix
dropped where Python namespacing makes it redundant.
"""

from __future__ import annotations

from enum import IntEnum

OFP_VERSION = 0x06
"""OpenFlow 1.5, the only version this codec speaks."""

OFP_HEADER_LEN = 8
NX_VENDOR_ID = 0x00002320
"""Nicira's experimenter id, used by every NX action, message and property."""
ONF_VENDOR_ID = 0x4F4E4600
NTR_VENDOR_ID = 0x0000154D
"""Netronome's experimenter id, used for the group selection-method property."""


class OFPT(IntEnum):
    """OpenFlow 1.5 message types."""

    HELLO = 0
    ERROR = 1
    ECHO_REQUEST = 2
    ECHO_REPLY = 3
    EXPERIMENTER = 4
    FEATURES_REQUEST = 5
    FEATURES_REPLY = 6
    GET_CONFIG_REQUEST = 7
    GET_CONFIG_REPLY = 8
    SET_CONFIG = 9
    PACKET_IN = 10
    FLOW_REMOVED = 11
    PORT_STATUS = 12
    PACKET_OUT = 13
    FLOW_MOD = 14
    GROUP_MOD = 15
    PORT_MOD = 16
    TABLE_MOD = 17
    MULTIPART_REQUEST = 18
    MULTIPART_REPLY = 19
    BARRIER_REQUEST = 20
    BARRIER_REPLY = 21
    ROLE_REQUEST = 24
    ROLE_REPLY = 25
    GET_ASYNC_REQUEST = 26
    GET_ASYNC_REPLY = 27
    SET_ASYNC = 28
    METER_MOD = 29
    ROLE_STATUS = 30
    TABLE_STATUS = 31
    REQUESTFORWARD = 32
    BUNDLE_CONTROL = 33
    BUNDLE_ADD_MESSAGE = 34
    CONTROLLER_STATUS = 35


class OFPMP(IntEnum):
    """Multipart (statistics) types used here."""

    DESC = 0
    FLOW_DESC = 1
    AGGREGATE = 2
    TABLE = 3
    PORT_STATS = 4
    GROUP_STATS = 6
    GROUP_DESC = 7
    METER_STATS = 9
    METER_CONFIG = 10
    PORT_DESC = 13
    FLOW_MONITOR = 16
    EXPERIMENTER = 0xFFFF


OFPMPF_MORE = 1
"""Multipart flag: more parts of this reply follow."""

# Reserved port numbers (OpenFlow 1.1+ 32-bit numbering).
OFPP_MAX = 0xFFFFFF00
OFPP_UNSET = 0xFFFFFFF7
OFPP_IN_PORT = 0xFFFFFFF8
OFPP_TABLE = 0xFFFFFFF9
OFPP_NORMAL = 0xFFFFFFFA
OFPP_FLOOD = 0xFFFFFFFB
OFPP_ALL = 0xFFFFFFFC
OFPP_CONTROLLER = 0xFFFFFFFD
OFPP_LOCAL = 0xFFFFFFFE
OFPP_ANY = 0xFFFFFFFF

PORT_NAMES: dict[int, str] = {
    OFPP_UNSET: "UNSET",
    OFPP_IN_PORT: "IN_PORT",
    OFPP_TABLE: "TABLE",
    OFPP_NORMAL: "NORMAL",
    OFPP_FLOOD: "FLOOD",
    OFPP_ALL: "ALL",
    OFPP_CONTROLLER: "CONTROLLER",
    OFPP_LOCAL: "LOCAL",
    OFPP_ANY: "ANY",
}
PORT_NUMBERS: dict[str, int] = {name: number for number, name in PORT_NAMES.items()}
PORT_NUMBERS["NONE"] = OFPP_ANY


def port_to_ofp10(port: int) -> int:
    """Map a 32-bit OpenFlow 1.1+ port number to the 16-bit form NX actions carry."""
    if port >= OFPP_MAX:
        return port - 0xFFFF0000
    return port


def port_from_ofp10(port: int) -> int:
    """Map a 16-bit port number (NX actions, NXM_OF_IN_PORT) to the 32-bit form."""
    if port >= 0xFF00:
        return port + 0xFFFF0000
    return port


OFPTT_MAX = 0xFE
OFPTT_ALL = 0xFF
OFPG_MAX = 0xFFFFFF00
OFPG_ALL = 0xFFFFFFFC
OFPG_ANY = 0xFFFFFFFF
OFPM_MAX = 0xFFFF0000
OFPM_SLOWPATH = 0xFFFFFFFD
OFPM_CONTROLLER = 0xFFFFFFFE
OFPM_ALL = 0xFFFFFFFF
OFP_NO_BUFFER = 0xFFFFFFFF
OFP_DEFAULT_PRIORITY = 0x8000
OFPCML_NO_BUFFER = 0xFFFF


class FlowModCommand(IntEnum):
    """OFPFC_* flow_mod commands."""

    ADD = 0
    MODIFY = 1
    MODIFY_STRICT = 2
    DELETE = 3
    DELETE_STRICT = 4


class FlowModFlags(IntEnum):
    """OFPFF_* flow_mod flags (a bitmap)."""

    SEND_FLOW_REM = 1 << 0
    CHECK_OVERLAP = 1 << 1
    RESET_COUNTS = 1 << 2
    NO_PKT_COUNTS = 1 << 3
    NO_BYT_COUNTS = 1 << 4


class GroupModCommand(IntEnum):
    """OFPGC15_* group_mod commands."""

    ADD = 0
    MODIFY = 1
    DELETE = 2
    INSERT_BUCKET = 3
    REMOVE_BUCKET = 5
    ADD_OR_MOD = 0x8000


class GroupType(IntEnum):
    """OFPGT_* group types."""

    ALL = 0
    SELECT = 1
    INDIRECT = 2
    FF = 3


OFPG15_BUCKET_ALL = 0xFFFFFFFF
OFPG15_BUCKET_FIRST = 0xFFFFFFFD
OFPG15_BUCKET_LAST = 0xFFFFFFFE


class MeterModCommand(IntEnum):
    """OFPMC_* meter_mod commands."""

    ADD = 0
    MODIFY = 1
    DELETE = 2


class MeterFlags(IntEnum):
    """OFPMF_* meter flags (a bitmap)."""

    KBPS = 1 << 0
    PKTPS = 1 << 1
    BURST = 1 << 2
    STATS = 1 << 3


class MeterBandType(IntEnum):
    """OFPMBT_* meter band types."""

    DROP = 1
    DSCP_REMARK = 2


class BundleCtrlType(IntEnum):
    """OFPBCT_* bundle control message types."""

    OPEN_REQUEST = 0
    OPEN_REPLY = 1
    CLOSE_REQUEST = 2
    CLOSE_REPLY = 3
    COMMIT_REQUEST = 4
    COMMIT_REPLY = 5
    DISCARD_REQUEST = 6
    DISCARD_REPLY = 7


class BundleFlags(IntEnum):
    """OFPBF_* bundle flags (a bitmap)."""

    ATOMIC = 1 << 0
    ORDERED = 1 << 1


class PacketInReason(IntEnum):
    """OFPR_* packet-in reasons, with Open vSwitch's text names."""

    NO_MATCH = 0
    ACTION = 1
    INVALID_TTL = 2
    ACTION_SET = 3
    GROUP = 4
    PACKET_OUT = 5


PACKET_IN_REASON_NAMES: dict[int, str] = {
    0: "no_match",
    1: "action",
    2: "invalid_ttl",
    3: "action_set",
    4: "group",
    5: "packet_out",
}


class PortReason(IntEnum):
    """OFPPR_* port status reasons."""

    ADD = 0
    DELETE = 1
    MODIFY = 2


class FlowMonitorFlags(IntEnum):
    """OFPFMF_* flow monitor request flags (a bitmap), as Open vSwitch reads them.

    Open vSwitch 3.1 maps OpenFlow 1.4's bits onto its Nicira monitor: bit 6
    (``OFPFMF_ONLY_OWN`` in the spec) means "report our own changes in full" (NX
    ``own``; without it they come as ABBREV with their xid), and it rejects bit 5
    (``NO_ABBREV``) with OFPMOFC_BAD_FLAGS.  Changes by other clients are always
    reported.
    """

    INITIAL = 1 << 0
    ADD = 1 << 1
    REMOVED = 1 << 2
    MODIFY = 1 << 3
    INSTRUCTIONS = 1 << 4
    NO_ABBREV = 1 << 5
    OWN = 1 << 6


class FlowMonitorCommand(IntEnum):
    """OFPFMC_* flow monitor commands."""

    ADD = 0
    MODIFY = 1
    DELETE = 2


class FlowUpdateEvent(IntEnum):
    """OFPFME_* flow monitor update events."""

    INITIAL = 0
    ADDED = 1
    REMOVED = 2
    MODIFIED = 3
    ABBREV = 4
    PAUSED = 5
    RESUMED = 6


class NXT(IntEnum):
    """Nicira experimenter message subtypes used here."""

    SET_PACKET_IN_FORMAT = 16
    TLV_TABLE_MOD = 24
    TLV_TABLE_REQUEST = 25
    TLV_TABLE_REPLY = 26
    RESUME = 28
    PACKET_IN2 = 30


class NXPIF(IntEnum):
    """NXT_SET_PACKET_IN_FORMAT formats."""

    STANDARD = 0
    NXT_PACKET_IN = 1
    NXT_PACKET_IN2 = 2


# -- error names, for readable error reports ---------------------------------------------

ERROR_TYPES: dict[int, str] = {
    0: "HELLO_FAILED",
    1: "BAD_REQUEST",
    2: "BAD_ACTION",
    3: "BAD_INSTRUCTION",
    4: "BAD_MATCH",
    5: "FLOW_MOD_FAILED",
    6: "GROUP_MOD_FAILED",
    7: "PORT_MOD_FAILED",
    8: "TABLE_MOD_FAILED",
    9: "QUEUE_OP_FAILED",
    10: "SWITCH_CONFIG_FAILED",
    11: "ROLE_REQUEST_FAILED",
    12: "METER_MOD_FAILED",
    13: "TABLE_FEATURES_FAILED",
    14: "BAD_PROPERTY",
    15: "ASYNC_CONFIG_FAILED",
    16: "FLOW_MONITOR_FAILED",
    17: "BUNDLE_FAILED",
    0xFFFF: "EXPERIMENTER",
}

# Open vSwitch names codes with a per-type prefix (OFPBRC_, OFPBAC_, ...).
_PREFIX: dict[int, str] = {
    0: "OFPHFC_", 1: "OFPBRC_", 2: "OFPBAC_", 3: "OFPBIC_", 4: "OFPBMC_", 5: "OFPFMFC_",
    6: "OFPGMFC_", 7: "OFPPMFC_", 8: "OFPTMFC_", 9: "OFPQOFC_", 10: "OFPSCFC_",
    11: "OFPRRFC_", 12: "OFPMMFC_", 13: "OFPTFFC_", 14: "OFPBPC_", 15: "OFPACFC_",
    16: "OFPMOFC_", 17: "OFPBFC_",
}

_CODES: dict[int, tuple[str, ...]] = {
    0: ("INCOMPATIBLE", "EPERM"),
    1: ("BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART", "BAD_EXPERIMENTER", "BAD_EXP_TYPE",
        "EPERM", "BAD_LEN", "BUFFER_EMPTY", "BUFFER_UNKNOWN", "BAD_TABLE_ID", "IS_SLAVE",
        "BAD_PORT", "BAD_PACKET", "MULTIPART_BUFFER_OVERFLOW", "MULTIPART_REQUEST_TIMEOUT",
        "MULTIPART_REPLY_TIMEOUT", "MULTIPART_BAD_SCHED", "PIPELINE_FIELDS_ONLY", "UNKNOWN"),
    2: ("BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_OUT_PORT",
        "BAD_ARGUMENT", "EPERM", "TOO_MANY", "BAD_QUEUE", "BAD_OUT_GROUP",
        "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER", "BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN",
        "BAD_SET_ARGUMENT", "BAD_SET_MASK", "BAD_METER"),
    3: ("UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID", "UNSUP_METADATA", "UNSUP_METADATA_MASK",
        "BAD_EXPERIMENTER", "BAD_EXP_TYPE", "BAD_LEN", "EPERM", "DUP_INST"),
    4: ("BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK", "BAD_NW_ADDR_MASK",
        "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE", "BAD_MASK", "BAD_PREREQ", "DUP_FIELD",
        "EPERM"),
    5: ("UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID", "OVERLAP", "EPERM", "BAD_TIMEOUT",
        "BAD_COMMAND", "BAD_FLAGS", "CANT_SYNC", "BAD_PRIORITY", "IS_SYNC"),
    6: ("GROUP_EXISTS", "INVALID_GROUP", "WEIGHT_UNSUPPORTED", "OUT_OF_GROUPS",
        "OUT_OF_BUCKETS", "CHAINING_UNSUPPORTED", "WATCH_UNSUPPORTED", "LOOP", "UNKNOWN_GROUP",
        "CHAINED_GROUP", "BAD_TYPE", "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM",
        "UNKNOWN_BUCKET", "BUCKET_EXISTS"),
    7: ("BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG", "BAD_ADVERTISE", "EPERM"),
    8: ("BAD_TABLE", "BAD_CONFIG", "EPERM"),
    12: ("UNKNOWN", "METER_EXISTS", "INVALID_METER", "UNKNOWN_METER", "BAD_COMMAND",
         "BAD_FLAGS", "BAD_RATE", "BAD_BURST", "BAD_BAND", "BAD_BAND_VALUE", "OUT_OF_METERS",
         "OUT_OF_BANDS"),
    14: ("BAD_TYPE", "BAD_LEN", "BAD_VALUE", "TOO_MANY", "DUP_TYPE", "BAD_EXPERIMENTER",
         "BAD_EXP_TYPE", "BAD_EXP_VALUE", "EPERM"),
    16: ("UNKNOWN", "MONITOR_EXISTS", "INVALID_MONITOR", "UNKNOWN_MONITOR", "BAD_COMMAND",
         "BAD_FLAGS", "BAD_TABLE_ID", "BAD_OUT"),
    17: ("UNKNOWN", "EPERM", "BAD_ID", "BUNDLE_EXIST", "BUNDLE_CLOSED", "OUT_OF_BUNDLES",
         "BAD_TYPE", "BAD_FLAGS", "MSG_BAD_LEN", "MSG_BAD_XID", "MSG_UNSUP", "MSG_CONFLICT",
         "MSG_TOO_MANY", "MSG_FAILED", "TIMEOUT", "BUNDLE_IN_PROGRESS", "SCHED_NOT_SUPPORTED",
         "SCHED_FUTURE", "SCHED_PAST"),
}


def error_type_name(error_type: int) -> str:
    """``BAD_ACTION`` for 2; ``TYPE_<n>`` for an unknown type."""
    return ERROR_TYPES.get(error_type, f"TYPE_{error_type}")


def error_code_name(error_type: int, code: int) -> str:
    """Open vSwitch's name of an error code, e.g. ``OFPBAC_BAD_OUT_PORT``."""
    codes = _CODES.get(error_type, ())
    prefix = _PREFIX.get(error_type, "")
    if 0 <= code < len(codes):
        return prefix + codes[code]
    return f"{prefix}CODE_{code}"
