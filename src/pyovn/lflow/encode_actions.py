"""Encode parsed OVN actions into OpenFlow actions, as ovn-controller 23.03 does.

Entry point: :func:`encode_actions`.  This module holds the actions that map
onto plain OpenFlow: control flow (``next`` and ``output`` become
``resubmit(,T)`` into the tables of :mod:`pyovn.lflow.tables`), assignments
(``load`` is a masked ``set_field`` over the whole OpenFlow field, ``=``
between fields a ``move``, ``<->`` two pushes and two pops), connection
tracking (``ct(...)`` with the zone register the datapath type calls for) and
``clone``.  The other actions live in sibling modules, each registering its
encoders with :func:`~pyovn.lflow.encode_params.handles`:

- :mod:`~pyovn.lflow.encode_controller`: controller actions and their userdata
  (nested actions, ``log``, ``trigger_event``, ``dns_lookup``, ``bind_vport``...);
- :mod:`~pyovn.lflow.encode_lookup`: MAC binding, FDB and 1-bit check actions;
- :mod:`~pyovn.lflow.encode_dhcp`: ``put_dhcp_opts``, ``put_dhcpv6_opts``,
  ``put_nd_ra_opts``;
- :mod:`~pyovn.lflow.encode_groups`: groups, meters and sampling;
- :mod:`~pyovn.lflow.encode_learn`: ``commit_lb_aff`` and ``commit_ecmp_nh``.

``drop;`` is the empty list.  Encoding is deterministic: the same actions and
parameters give equal OpenFlow actions.  An action pyovn cannot encode raises
:class:`~pyovn.lflow.errors.LflowSemanticError`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pyovn.lflow import actions as a
from pyovn.lflow import actions_ext as ax
from pyovn.lflow import encode_controller as _controller  # noqa: F401  (registers)
from pyovn.lflow import encode_dhcp as _dhcp  # noqa: F401  (registers)
from pyovn.lflow import encode_groups as _groups  # noqa: F401  (registers)
from pyovn.lflow import encode_learn as _learn  # noqa: F401  (registers)
from pyovn.lflow import encode_lookup as _lookup  # noqa: F401  (registers)
from pyovn.lflow.encode_nx import DecTtlIds, StackPop, StackPush
from pyovn.lflow.encode_params import EncodeParams, Encoder, handles, resolve_field
from pyovn.lflow.expr import IntConstant
from pyovn.lflow.tables import (
    MFF_LOG_CT_ZONE,
    MFF_LOG_DNAT_ZONE,
    MFF_LOG_SNAT_ZONE,
    first_table,
    output_table,
    table,
)
from pyovn.openflow.actions import Action as OfAction
from pyovn.openflow.actions import CopyField, SetField, SetQueue
from pyovn.openflow.ct import Ct, Nat
from pyovn.openflow.fields import Subfield
from pyovn.openflow.nx_actions import CheckPktLarger, Clone, CtClear, Resubmit

__all__ = ["EncodeParams", "encode_actions", "load_field"]


def encode_actions(actions: Sequence[a.Action], params: EncodeParams) -> tuple[OfAction, ...]:
    """The OpenFlow actions ovn-controller 23.03 installs for ``actions``."""
    enc = Encoder(params)
    enc.encode(actions)
    return tuple(enc.out)


@functools.cache
def zone(reg: str) -> Subfield:
    """The 16-bit zone subfield of a conntrack zone register."""
    return Subfield(reg, 0, 16)


# -- control flow -----------------------------------------------------------------------


@handles(a.Next)
def _next(enc: Encoder, act: a.Next) -> None:
    enc.emit(Resubmit(table=first_table(act.pipeline) + act.table))


@handles(a.Output)
def _output(enc: Encoder, act: a.Output) -> None:
    enc.emit(Resubmit(table=output_table(enc.params.pipeline)))


@handles(a.Clone)
def _clone(enc: Encoder, act: a.Clone) -> None:
    enc.emit(Clone(enc.nested(act.actions)))


# -- assignments ------------------------------------------------------------------------


def load_field(dst: Subfield, value: int, mask: int | None = None) -> SetField:
    """``set_field`` of ``value`` (under ``mask``, default all bits) into ``dst``."""
    ones = (1 << dst.nbits) - 1
    bits = ones if mask is None else mask & ones
    return SetField(dst.field, (value & bits) << dst.ofs, bits << dst.ofs)


@handles(a.Load)
def _load(enc: Encoder, act: a.Load) -> None:
    dst = resolve_field(act.dst)
    if isinstance(act.value, IntConstant):
        enc.emit(load_field(dst, act.value.value, act.value.mask))
        return
    # A port name: its tunnel key, 0 if unknown, over the whole register.
    key = enc.params.port_key(act.value)
    enc.emit(load_field(dst, key if key is not None else 0))


@handles(a.Move)
def _move(enc: Encoder, act: a.Move) -> None:
    enc.emit(CopyField(resolve_field(act.src), resolve_field(act.dst)))


@handles(a.Exchange)
def _exchange(enc: Encoder, act: a.Exchange) -> None:
    lhs, rhs = resolve_field(act.a), resolve_field(act.b)
    enc.emit(StackPush(rhs), StackPush(lhs), StackPop(rhs), StackPop(lhs))


@handles(a.Push)
def _push(enc: Encoder, act: a.Push) -> None:
    enc.emit(StackPush(resolve_field(act.field)))


@handles(a.Pop)
def _pop(enc: Encoder, act: a.Pop) -> None:
    enc.emit(StackPop(resolve_field(act.field)))


@handles(a.DecTtl)
def _dec_ttl(enc: Encoder, act: a.DecTtl) -> None:
    # OVN puts a dec_ttl without controller ids (not plain OFPAT_DEC_NW_TTL).
    enc.emit(DecTtlIds(()))


@handles(ax.SetQueue)
def _set_queue(enc: Encoder, act: ax.SetQueue) -> None:
    enc.emit(SetQueue(act.queue_id))


@handles(ax.CheckPktLarger)
def _check_pkt_larger(enc: Encoder, act: ax.CheckPktLarger) -> None:
    enc.emit(CheckPktLarger(act.pkt_len, resolve_field(act.dst)))


# -- connection tracking ----------------------------------------------------------------


def _ct_zone(enc: Encoder) -> Subfield:
    """Zone of ct_next/ct_commit/ct_lb: the switch zone, or a router's DNAT zone."""
    return zone(MFF_LOG_CT_ZONE if enc.params.is_switch else MFF_LOG_DNAT_ZONE)


def _recirc(enc: Encoder, ltable: int) -> int:
    return first_table(enc.params.pipeline) + ltable


@handles(a.CtNext)
def _ct_next(enc: Encoder, act: a.CtNext) -> None:
    # 23.03 uses the DNAT zone for routers in both pipelines.
    enc.emit(Ct(table=_recirc(enc, act.table), zone=_ct_zone(enc)))


@handles(a.CtClear)
def _ct_clear(enc: Encoder, act: a.CtClear) -> None:
    enc.emit(CtClear())


@handles(a.CtCommit)
def _ct_commit(enc: Encoder, act: a.CtCommit) -> None:
    # The all-zero SNAT keeps firewall-only sessions from colliding with NATed
    # ones; ovn-controller adds it whenever the datapath supports it (OVS 3.1 does).
    enc.emit(Ct(commit=True, zone=_ct_zone(enc), nat=Nat("src"),
                exec=enc.nested(act.actions)))


@handles(ax.CtCommitV1)
def _ct_commit_v1(enc: Encoder, act: ax.CtCommitV1) -> None:
    exec_: list[OfAction] = []
    if act.ct_mark_mask:
        exec_.append(SetField("ct_mark", act.ct_mark & act.ct_mark_mask, act.ct_mark_mask))
    if act.ct_label_mask:
        exec_.append(SetField("ct_label", act.ct_label & act.ct_label_mask,
                              act.ct_label_mask))
    enc.emit(Ct(commit=True, zone=zone(MFF_LOG_CT_ZONE), nat=Nat("src"), exec=exec_))


@handles(a.CtCommitNat)
def _ct_commit_nat(enc: Encoder, act: a.CtCommitNat) -> None:
    # The parsed action does not keep its target: always the flow's next table.
    recirc = _recirc(enc, enc.params.table_id + 1)
    enc.emit(Ct(commit=True, table=recirc, zone=_ct_zone(enc), nat=Nat()))


@handles(a.CtSnatToVip)
def _ct_snat_to_vip(enc: Encoder, act: a.CtSnatToVip) -> None:
    enc.emit(Resubmit(table=table("CT_SNAT_HAIRPIN")))


def _nat_zone(enc: Encoder, act: ax.CtNat) -> str:
    if isinstance(act, ax.CtDnat):
        return MFF_LOG_DNAT_ZONE
    if isinstance(act, ax.CtSnat):
        return MFF_LOG_SNAT_ZONE
    return enc.params.common_nat_zone


@handles(ax.CtDnat, ax.CtSnat, ax.CtDnatInCzone, ax.CtSnatInCzone)
def _ct_nat(enc: Encoder, act: ax.CtNat) -> None:
    nat = Nat()
    if act.ip is not None:
        kind = "dst" if isinstance(act, ax.CtDnat | ax.CtDnatInCzone) else "src"
        ip = ax.format_ip(act.ip, act.ipv6)
        nat = Nat(kind, ip, None, act.port_lo, act.port_hi)
    enc.emit(Ct(commit=act.ip is not None, table=_recirc(enc, act.table),
                zone=zone(_nat_zone(enc, act)), nat=nat))


@handles(ax.CtLb, ax.CtLbMark)
def _ct_lb(enc: Encoder, act: ax.CtLb) -> None:
    if act.backends:
        from pyovn.lflow.encode_groups import ct_lb_group

        enc.extend(ct_lb_group(enc, act))
        return
    # No backends: an established connection, only un-NAT it.
    enc.emit(Ct(table=_recirc(enc, act.table), zone=_ct_zone(enc), nat=Nat()))
