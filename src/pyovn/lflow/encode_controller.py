"""Actions that send the packet to ovn-controller: OVN's controller userdata.

ovn-controller 23.03 encodes such an action as one OpenFlow ``controller``
action (NXAST_CONTROLLER2, ``max_len`` 65535, reason ``action``) whose userdata
starts with an 8-byte ``struct action_header`` -- the opcode as a big-endian
32-bit number and 4 zero bytes -- followed by the opcode's arguments:

- nested actions (``arp { ... }``, ``icmp4 { ... }``, ``reject { ... }``...):
  the inner actions encoded as OpenFlow 1.5 actions, byte for byte as Open
  vSwitch would send them;
- ``log(...)``: verdict and severity bytes, then the name;
- ``trigger_event(...)``: the event type (32 bits), then each option as
  code (16 bits), length (16 bits) and the string;
- ``dns_lookup``, ``put_dhcp_opts``...: the result field's OXM header and the
  bit offset within it, then the payload;
- ``bind_vport``: the virtual port's tunnel key;
- ``icmp4.frag_mtu = N``: the MTU (23.03 uses a paused controller action for
  it, not the ``note`` newer OVN uses).

Arguments that ovn-controller reads from the packet (``put_arp(port, ip, mac)``
expects the port in reg14, the IP in reg0, the MAC in eth.src) are moved there
with ``push``/``pop`` around the action (:func:`setup_args`), exactly as OVN does.
Opcodes and bytes were checked against the userdata real ovn-controller
23.03.1 installs.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Sequence

from pyovn.lflow import actions as a
from pyovn.lflow import actions_ext as ax
from pyovn.lflow import actions_lookup as lk
from pyovn.lflow.encode_nx import StackPop, StackPush
from pyovn.lflow.encode_params import Encoder, handles, resolve_field
from pyovn.lflow.tables import MFF_LOG_INPORT
from pyovn.openflow.actions import Action as OfAction
from pyovn.openflow.actions import encode_actions as encode_of_actions
from pyovn.openflow.constants import PacketInReason
from pyovn.openflow.fields import Subfield
from pyovn.openflow.nx_actions import Controller

__all__ = [
    "EVENT_TYPES",
    "LOG_SEVERITIES",
    "LOG_VERDICTS",
    "NESTED_OPCODES",
    "Opcode",
    "controller_op",
    "result_field_header",
    "restore_args",
    "setup_args",
]


class Opcode(enum.IntEnum):
    """OVN's ``enum action_opcode`` (values are part of the userdata format)."""

    ARP = 0
    PUT_ARP = 1
    PUT_DHCP_OPTS = 2
    ND_NA = 3
    PUT_ND = 4
    PUT_DHCPV6_OPTS = 5
    DNS_LOOKUP = 6
    LOG = 7
    PUT_ND_RA_OPTS = 8
    ND_NS = 9
    ICMP = 10
    TCP_RESET = 11
    ND_NA_ROUTER = 12
    PUT_ICMP4_FRAG_MTU = 13
    ICMP4_ERROR = 14
    EVENT = 15
    IGMP = 16
    BIND_VPORT = 17
    HANDLE_SVC_CHECK = 18
    DHCP6_SERVER = 19
    ICMP6_ERROR = 20
    PUT_ICMP6_FRAG_MTU = 21
    REJECT = 22
    BFD_MSG = 23
    SCTP_ABORT = 24
    PUT_FDB = 25


#: ``log()`` verdicts and severities as encoded (severities are syslog levels).
LOG_VERDICTS = {"allow": 0, "drop": 1, "reject": 2}
LOG_SEVERITIES = {"alert": 1, "warning": 4, "notice": 5, "info": 6, "debug": 7}


def controller_op(opcode: Opcode, payload: bytes = b"", *, pause: bool = False,
                  meter_id: int = 0) -> Controller:
    """The controller action for ``opcode`` with ``payload`` after the header."""
    return Controller(max_len=0xFFFF, reason=PacketInReason.ACTION,
                      userdata=struct.pack("!I4x", opcode) + payload,
                      pause=pause, meter_id=meter_id)


def _whole(field: str) -> Subfield:
    return Subfield(field)


def setup_args(args: Sequence[tuple[Subfield, str]]) -> list[OfAction]:
    """Actions moving each source subfield into the whole destination field.

    The destinations are saved first (pushed), then the sources pushed in
    reverse order and popped into the destinations; an argument already in
    its destination field is left alone.  :func:`restore_args` undoes it.
    """
    moved = [(src, dst) for src, dst in args if src.field != dst]
    out: list[OfAction] = [StackPush(_whole(dst)) for _, dst in moved]
    out.extend(StackPush(src) for src, _ in reversed(moved))
    out.extend(StackPop(_whole(dst)) for _, dst in moved)
    return out


def restore_args(args: Sequence[tuple[Subfield, str]]) -> list[OfAction]:
    """Pop the saved destinations of :func:`setup_args` back, last first."""
    return [StackPop(_whole(dst)) for src, dst in reversed(args) if src.field != dst]


# -- nested actions ---------------------------------------------------------------------

#: Opcode of each nested action.  None of them pauses in 23.03, and ``arp``/``nd_ns``
#: carry their own ``output`` (no resubmit after the controller action).
NESTED_OPCODES: dict[type[a.Nested], Opcode] = {
    a.Arp: Opcode.ARP,
    a.NdNa: Opcode.ND_NA,
    a.NdNaRouter: Opcode.ND_NA_ROUTER,
    a.NdNs: Opcode.ND_NS,
    a.Icmp4: Opcode.ICMP,
    a.Icmp6: Opcode.ICMP,
    a.Icmp4Error: Opcode.ICMP4_ERROR,
    a.Icmp6Error: Opcode.ICMP6_ERROR,
    a.TcpReset: Opcode.TCP_RESET,
    a.SctpAbort: Opcode.SCTP_ABORT,
    a.Reject: Opcode.REJECT,
}


@handles(*NESTED_OPCODES)
def _nested(enc: Encoder, act: a.Nested) -> None:
    inner = encode_of_actions(enc.nested(act.actions))
    enc.emit(controller_op(NESTED_OPCODES[type(act)], inner,
                           meter_id=enc.params.ctrl_meter_id))


_SIMPLE_OPCODES: dict[type[a.Action], Opcode] = {
    a.Igmp: Opcode.IGMP,
    a.HandleDhcpv6Reply: Opcode.DHCP6_SERVER,
    a.HandleBfdMsg: Opcode.BFD_MSG,
}


@handles(*_SIMPLE_OPCODES)
def _simple(enc: Encoder, act: a.Action) -> None:
    enc.emit(controller_op(_SIMPLE_OPCODES[type(act)], meter_id=enc.params.ctrl_meter_id))


@handles(a.OvnFieldLoad)
def _ovn_field_load(enc: Encoder, act: a.OvnFieldLoad) -> None:
    # 23.03 hands the MTU to ovn-controller in a paused controller action.
    meter = enc.params.ctrl_meter_id
    if act.dst.symbol.name == "icmp4.frag_mtu":
        enc.emit(controller_op(Opcode.PUT_ICMP4_FRAG_MTU,
                               struct.pack("!H", act.value & 0xFFFF), pause=True, meter_id=meter))
    else:
        enc.emit(controller_op(Opcode.PUT_ICMP6_FRAG_MTU, struct.pack(
            "!I", act.value & 0xFFFFFFFF), pause=True, meter_id=meter))


# -- log, events, DNS, virtual ports ----------------------------------------------------


@handles(ax.Log)
def _log(enc: Encoder, act: ax.Log) -> None:
    meter_id = 0
    if act.meter is not None:
        found = enc.params.meter_id(act.meter)
        if found is None:
            return  # OVN drops the action when the meter table is full.
        meter_id = found
    payload = bytes([LOG_VERDICTS[act.verdict], LOG_SEVERITIES[act.severity]])
    if act.name is not None:
        payload += act.name.encode()
    # log() uses its own meter, never the flow's controller meter.
    enc.emit(controller_op(Opcode.LOG, payload, meter_id=meter_id))


#: Controller event types (``enum ovn_controller_event``).
EVENT_TYPES = {"empty_lb_backends": 0}


@handles(ax.TriggerEvent)
def _trigger_event(enc: Encoder, act: ax.TriggerEvent) -> None:
    payload = struct.pack("!I", EVENT_TYPES[act.event])
    for opt in act.options:
        value = str(opt.value.values[0]).encode()
        payload += struct.pack("!HH", opt.code, len(value)) + value
    enc.emit(controller_op(Opcode.EVENT, payload, meter_id=enc.params.ctrl_meter_id))


def result_field_header(dst: Subfield) -> bytes:
    """The OpenFlow 1.5 header of ``dst``'s field and its bit offset (32 bits)."""
    return dst.meta.of15_header + struct.pack("!I", dst.ofs)


@handles(lk.DnsLookup)
def _dns_lookup(enc: Encoder, act: lk.DnsLookup) -> None:
    enc.emit(controller_op(Opcode.DNS_LOOKUP, result_field_header(resolve_field(act.dst)),
                           pause=True, meter_id=enc.params.ctrl_meter_id))


@handles(ax.BindVport)
def _bind_vport(enc: Encoder, act: ax.BindVport) -> None:
    key = enc.params.port_key(act.vport)
    if key is None:
        return  # Unknown virtual port: OVN encodes nothing.
    args = [(resolve_field(act.parent), MFF_LOG_INPORT)]
    enc.extend(setup_args(args))
    enc.emit(controller_op(Opcode.BIND_VPORT, struct.pack("!I", key),
                           meter_id=enc.params.ctrl_meter_id))
    enc.extend(restore_args(args))
