"""Actions that use chassis-wide OpenFlow ids: groups, meters, sampling.

``ct_lb_mark(backends=...)``, ``select(...)`` and ``fwd_group(...)`` become
``group:ID`` where the group is described by OVN's text for ``ovs-ofctl
add-group`` (bucket list); ``set_meter(...)`` becomes ``meter:ID`` for a meter
named by OVN's ``__string: ...`` description.  The ids come from
:attr:`EncodeParams.group_id` / :attr:`EncodeParams.meter_id` (OVN's
``extend_table``: the same description gets the same id while it is in use);
when no id can be had the action encodes to nothing, as in OVN.  The
descriptions are built with OVN 23.03's exact format so that the controller
can install the groups and meters from them.

``sample(...)`` becomes an NXAST_SAMPLE only for collector sets configured on
the chassis (:attr:`EncodeParams.collector_ids`).
"""

from __future__ import annotations

from pyovn.lflow import actions_ext as ax
from pyovn.lflow.encode_params import Encoder, handles, resolve_field
from pyovn.lflow.tables import (
    MFF_LOG_CT_ZONE,
    MFF_LOG_DNAT_ZONE,
    MFF_LOG_OUTPORT,
    first_table,
    output_table,
)
from pyovn.openflow.actions import Action as OfAction
from pyovn.openflow.actions import Group, Meter
from pyovn.openflow.nx_actions import Sample

__all__ = ["ct_lb_group", "ct_lb_group_text", "fwd_group_text", "select_group_text"]

_OVN_CT_NATTED = "2/2"
_CT_FLAG_VALUES = {"skip_snat": "4/4", "force_snat": "8/8"}


def _reg_index(field: str) -> int:
    return int(field.removeprefix("reg"))


def ct_lb_group_text(enc: Encoder, act: ax.CtLb) -> str:
    """OVN's group description for ``ct_lb``/``ct_lb_mark`` with backends."""
    recirc = first_table(enc.params.pipeline) + act.table
    zone_reg = _reg_index(MFF_LOG_CT_ZONE if enc.params.is_switch else MFF_LOG_DNAT_ZONE)
    flag_field = "ct_mark" if isinstance(act, ax.CtLbMark) else "ct_label"
    method = "hash" if act.hash_fields is not None else "dp_hash"
    text = f"type=select,selection_method={method}"
    if act.hash_fields is not None:
        text += f",fields({act.hash_fields})"
    for bucket_id, backend in enumerate(act.backends):
        addr = ax.format_ip(backend.ip, backend.ipv6)
        if backend.ipv6 and backend.port:
            addr = f"[{addr}]"
        if backend.port:
            addr += f":{backend.port}"
        text += (f",bucket=bucket_id={bucket_id},weight:100,actions=ct(nat(dst={addr}),"
                 f"commit,table={recirc},zone=NXM_NX_REG{zone_reg}[0..15],"
                 f"exec(set_field:{_OVN_CT_NATTED}->{flag_field}")
        if act.ct_flag is not None:
            text += f",set_field:{_CT_FLAG_VALUES[act.ct_flag]}->{flag_field}"
        text += "))"
    return text


def ct_lb_group(enc: Encoder, act: ax.CtLb) -> list[OfAction]:
    """``group:ID`` for a ``ct_lb`` with backends (nothing if no id is free)."""
    group_id = enc.params.group_id(ct_lb_group_text(enc, act))
    return [] if group_id is None else [Group(group_id)]


def select_group_text(enc: Encoder, act: ax.Select) -> str:
    """OVN's group description for ``dst = select(...)``."""
    dst = resolve_field(act.dst)
    resubmit = first_table(enc.params.pipeline) + act.table
    text = "type=select,selection_method=dp_hash"
    for bucket_id, (member, weight) in enumerate(act.members):
        text += (f",bucket=bucket_id={bucket_id},weight:{weight},actions="
                 f"load:{member}->{dst.field}[{dst.ofs}..{dst.ofs + dst.nbits - 1}],"
                 f"resubmit(,{resubmit})")
    return text


@handles(ax.Select)
def _select(enc: Encoder, act: ax.Select) -> None:
    group_id = enc.params.group_id(select_group_text(enc, act))
    if group_id is not None:
        enc.emit(Group(group_id))


def fwd_group_text(enc: Encoder, act: ax.FwdGroup) -> str | None:
    """OVN's group description for ``fwd_group``; None if a port is unknown."""
    text = "type=select,selection_method=dp_hash"
    reg = _reg_index(MFF_LOG_OUTPORT)
    for port in act.child_ports:
        key = enc.params.port_key(port)
        if key is None:
            return None
        text += ",bucket="
        if act.liveness:
            ofport = enc.params.tunnel_ofport(port)
            if ofport is None:
                return None
            text += f"watch_port:{ofport},"
        # "0x%d" is OVN's: the key is printed in decimal after "0x".
        text += (f"load=0x{key}->NXM_NX_REG{reg}[0..15]"
                 f",resubmit(,{output_table(enc.params.pipeline)})")
    return text


@handles(ax.FwdGroup)
def _fwd_group(enc: Encoder, act: ax.FwdGroup) -> None:
    if not act.child_ports:
        return
    text = fwd_group_text(enc, act)
    group_id = None if text is None else enc.params.group_id(text)
    if group_id is not None:
        enc.emit(Group(group_id))


@handles(ax.SetMeter)
def _set_meter(enc: Encoder, act: ax.SetMeter) -> None:
    uuid = enc.params.lflow_uuid
    if act.burst:
        name = (f"__string: uuid {uuid} kbps burst stats bands=type=drop "
                f"rate={act.rate} burst_size={act.burst}")
    else:
        name = f"__string: uuid {uuid} kbps stats bands=type=drop rate={act.rate}"
    meter_id = enc.params.meter_id(name)
    if meter_id is not None:
        enc.emit(Meter(meter_id))


@handles(ax.Sample)
def _sample(enc: Encoder, act: ax.Sample) -> None:
    params = enc.params
    if act.collector_set not in params.collector_ids:
        return
    point = int(params.lflow_uuid[:8], 16) if act.use_cookie else act.obs_point
    enc.emit(Sample(act.probability, act.collector_set,
                    (act.obs_domain << 24) | (params.dp_key & 0xFFFFFF), point))
