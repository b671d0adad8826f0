"""Actions that consult ovn-controller's side tables or hand it learned data.

MAC bindings (``get_arp``, ``lookup_arp``, ``put_arp`` and the ``nd`` twins),
the FDB (``get_fdb``, ``lookup_fdb``, ``put_fdb``), service monitors
(``handle_svc_check``) and the checks that store a 1-bit result
(``reg0[15] = check_in_port_sec();``, ``chk_lb_hairpin()``...).

A lookup moves its arguments into the registers the side table matches on
(:func:`~pyovn.lflow.encode_controller.setup_args`), clears a flag bit,
resubmits to the side table -- whose flows set the bit on a hit -- and copies
the bit to the destination.  The register each argument travels in and the
order of the steps are ovn-controller 23.03's, read off its flows (23.03 passes
the IPv6 address of ``get_nd``/``lookup_nd_ip`` in xxreg0, where newer OVN
uses xxreg1).
"""

from __future__ import annotations

import functools

from pyovn.lflow import actions_lookup as lk
from pyovn.lflow.encode_controller import Opcode, controller_op, restore_args, setup_args
from pyovn.lflow.encode_nx import StackPop, StackPush
from pyovn.lflow.encode_params import Encoder, handles, resolve_field
from pyovn.lflow.tables import MFF_LOG_FLAGS, MFF_LOG_INPORT, MFF_LOG_OUTPORT, Mlf, table
from pyovn.openflow.actions import CopyField, SetField
from pyovn.openflow.fields import Subfield
from pyovn.openflow.nx_actions import Resubmit

__all__ = ["RESULT_TABLES"]

#: Side table and reg10 flag bit of each 1-bit result action.
RESULT_TABLES: dict[type[lk.ResultAction], tuple[str, Mlf]] = {
    lk.ChkLbHairpin: ("CHK_LB_HAIRPIN", Mlf.LOOKUP_LB_HAIRPIN),
    lk.ChkLbHairpinReply: ("CHK_LB_HAIRPIN_REPLY", Mlf.LOOKUP_LB_HAIRPIN),
    lk.CheckInPortSec: ("CHK_IN_PORT_SEC", Mlf.CHECK_PORT_SEC),
    lk.CheckOutPortSec: ("CHK_OUT_PORT_SEC", Mlf.CHECK_PORT_SEC),
    lk.ChkEcmpNhMac: ("ECMP_NH_MAC", Mlf.LOOKUP_COMMIT_ECMP_NH),
    lk.ChkEcmpNh: ("ECMP_NH", Mlf.LOOKUP_COMMIT_ECMP_NH),
    lk.ChkLbAff: ("CHK_LB_AFFINITY", Mlf.USE_LB_AFF_SESSION),
}


@functools.cache
def _flag(bit: Mlf) -> Subfield:
    return Subfield(MFF_LOG_FLAGS, bit, 1)


def _clear_flag(bit: Mlf) -> SetField:
    return SetField(MFF_LOG_FLAGS, 0, 1 << bit)


@handles(*RESULT_TABLES)
def _result(enc: Encoder, act: lk.ResultAction) -> None:
    name, bit = RESULT_TABLES[type(act)]
    enc.emit(_clear_flag(bit), Resubmit(table=table(name)),
             CopyField(_flag(bit), resolve_field(act.dst)))


# -- MAC bindings -----------------------------------------------------------------------


@handles(lk.GetArp, lk.GetNd)
def _get_mac(enc: Encoder, act: lk.GetArp) -> None:
    ip_reg = "reg0" if type(act) is lk.GetArp else "xxreg0"
    args = [(resolve_field(act.port), MFF_LOG_OUTPORT), (resolve_field(act.ip), ip_reg)]
    enc.extend(setup_args(args))
    enc.emit(SetField("eth_dst", 0), Resubmit(table=table("MAC_BINDING")))
    enc.extend(restore_args(args))


@handles(lk.PutArp, lk.PutNd)
def _put_mac(enc: Encoder, act: lk.PutArp) -> None:
    arp = type(act) is lk.PutArp
    args = [(resolve_field(act.port), MFF_LOG_INPORT),
            (resolve_field(act.ip), "reg0" if arp else "xxreg0"),
            (resolve_field(act.mac), "eth_src")]
    enc.extend(setup_args(args))
    enc.emit(controller_op(Opcode.PUT_ARP if arp else Opcode.PUT_ND,
                           meter_id=enc.params.ctrl_meter_id))
    enc.extend(restore_args(args))


@handles(lk.LookupArp, lk.LookupNd)
def _lookup_mac(enc: Encoder, act: lk.LookupArp) -> None:
    args = [(resolve_field(act.port), MFF_LOG_INPORT),
            (resolve_field(act.ip), "reg0" if type(act) is lk.LookupArp else "xxreg0"),
            (resolve_field(act.mac), "eth_src")]
    enc.extend(setup_args(args))
    enc.emit(_clear_flag(Mlf.LOOKUP_MAC), Resubmit(table=table("MAC_LOOKUP")),
             CopyField(_flag(Mlf.LOOKUP_MAC), resolve_field(act.dst)))
    enc.extend(restore_args(args))


@handles(lk.LookupArpIp, lk.LookupNdIp)
def _lookup_mac_ip(enc: Encoder, act: lk.LookupArpIp) -> None:
    args = [(resolve_field(act.port), MFF_LOG_OUTPORT),
            (resolve_field(act.ip), "reg0" if type(act) is lk.LookupArpIp else "xxreg0")]
    eth_dst = Subfield("eth_dst")
    enc.extend(setup_args(args))
    enc.emit(StackPush(eth_dst), _clear_flag(Mlf.LOOKUP_MAC),
             Resubmit(table=table("MAC_BINDING")),
             CopyField(_flag(Mlf.LOOKUP_MAC), resolve_field(act.dst)), StackPop(eth_dst))
    enc.extend(restore_args(args))


# -- FDB ------------------------------------------------------------------------------


@handles(lk.PutFdb)
def _put_fdb(enc: Encoder, act: lk.PutFdb) -> None:
    args = [(resolve_field(act.port), MFF_LOG_INPORT), (resolve_field(act.mac), "eth_src")]
    enc.extend(setup_args(args))
    enc.emit(controller_op(Opcode.PUT_FDB, meter_id=enc.params.ctrl_meter_id))
    enc.extend(restore_args(args))


@handles(lk.GetFdb)
def _get_fdb(enc: Encoder, act: lk.GetFdb) -> None:
    dst = resolve_field(act.dst)
    args = [(resolve_field(act.mac), "eth_dst")]
    enc.extend(setup_args(args))
    enc.emit(SetField(MFF_LOG_OUTPORT, 0), Resubmit(table=table("GET_FDB")))
    enc.extend(restore_args(args))
    if dst.field != MFF_LOG_OUTPORT:
        enc.emit(CopyField(Subfield(MFF_LOG_OUTPORT, 0, 32), dst))


@handles(lk.LookupFdb)
def _lookup_fdb(enc: Encoder, act: lk.LookupFdb) -> None:
    args = [(resolve_field(act.port), MFF_LOG_INPORT), (resolve_field(act.mac), "eth_src")]
    enc.extend(setup_args(args))
    enc.emit(_clear_flag(Mlf.LOOKUP_FDB), Resubmit(table=table("LOOKUP_FDB")))
    enc.extend(restore_args(args))
    enc.emit(CopyField(_flag(Mlf.LOOKUP_FDB), resolve_field(act.dst)))


@handles(lk.HandleSvcCheck)
def _handle_svc_check(enc: Encoder, act: lk.HandleSvcCheck) -> None:
    args = [(resolve_field(act.port), MFF_LOG_INPORT)]
    enc.extend(setup_args(args))
    enc.emit(controller_op(Opcode.HANDLE_SVC_CHECK, meter_id=enc.params.ctrl_meter_id))
    enc.extend(restore_args(args))
