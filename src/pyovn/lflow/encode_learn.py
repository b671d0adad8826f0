"""Actions that make the datapath learn flows: ``commit_lb_aff``, ``commit_ecmp_nh``.

``commit_lb_aff(vip = ..., backend = ..., proto = ..., timeout = T)`` learns,
into OFTABLE_CHK_LB_AFFINITY (78), a flow that recognises the client's next
connection to the VIP (same datapath, source address, VIP, protocol and port)
and loads the affinity flag (reg10[14]), the backend address (reg4 for IPv4;
xxreg0 on a switch or xxreg1 on a router for IPv6) and the backend port
(reg8[0..15]).  ``commit_ecmp_nh(ipv6 = ..., proto = ...)`` learns two flows,
into OFTABLE_ECMP_NH_MAC (76) and OFTABLE_ECMP_NH (77), that set reg10[13] on
the reply direction of an ECMP symmetric-reply connection.

The spec order and immediates follow ovn-controller 23.03 (read off its flows:
no cookie on the learned flows, ``delete_learned`` set).
"""

from __future__ import annotations

from pyovn.lflow import actions_ext as ax
from pyovn.lflow.encode_params import Encoder, handles
from pyovn.lflow.tables import MFF_LOG_FLAGS, Mlf, table
from pyovn.openflow.fields import Subfield
from pyovn.openflow.learn import Learn, LearnSpec

__all__ = ["ecmp_nh_learn", "lb_aff_learn"]

_PROTO = {"tcp": 6, "udp": 17, "sctp": 132}
_ETH_IP, _ETH_IPV6 = 0x0800, 0x86DD


def _flag(bit: Mlf) -> LearnSpec:
    return LearnSpec("load", Subfield(MFF_LOG_FLAGS, bit, 1), value=1)


def lb_aff_learn(act: ax.CommitLbAff, is_switch: bool) -> Learn:
    """The learn action of ``commit_lb_aff``."""
    ip_src, ip_dst = ("ipv6_src", "ipv6_dst") if act.ipv6 else ("ip_src", "ip_dst")
    specs = [LearnSpec("match", "metadata"),
             LearnSpec("match", "eth_type", value=_ETH_IPV6 if act.ipv6 else _ETH_IP),
             LearnSpec("match", ip_src),
             LearnSpec("match", ip_dst, value=act.vip)]
    if act.proto is not None:
        specs += [LearnSpec("match", "nw_proto", value=_PROTO[act.proto]),
                  LearnSpec("match", f"{act.proto}_dst", value=act.vip_port)]
    specs.append(_flag(Mlf.USE_LB_AFF_SESSION))
    # IPv6 backends go to a switch's xxreg0 but a router's xxreg1.
    backend_reg = ("xxreg0" if is_switch else "xxreg1") if act.ipv6 else "reg4"
    specs.append(LearnSpec("load", backend_reg, value=act.backend))
    if act.backend_port:
        specs.append(LearnSpec("load", Subfield("reg8", 0, 16), value=act.backend_port))
    return Learn(table("CHK_LB_AFFINITY"), tuple(specs), idle_timeout=act.timeout,
                 delete_learned=True)


@handles(ax.CommitLbAff)
def _commit_lb_aff(enc: Encoder, act: ax.CommitLbAff) -> None:
    enc.emit(lb_aff_learn(act, enc.params.is_switch))


def ecmp_nh_learn(act: ax.CommitEcmpNh, nw_conn: bool) -> Learn:
    """One of the two learn actions of ``commit_ecmp_nh`` (MAC table if ``nw_conn``)."""
    ip_src, ip_dst = ("ipv6_src", "ipv6_dst") if act.ipv6 else ("ip_src", "ip_dst")
    tp_src, tp_dst = f"{act.proto}_src", f"{act.proto}_dst"
    specs = [LearnSpec("match", "metadata")]
    if nw_conn:
        specs.append(LearnSpec("match", "eth_src"))
    specs += [
        LearnSpec("match", "eth_type", value=_ETH_IPV6 if act.ipv6 else _ETH_IP),
        LearnSpec("match", ip_src, src=ip_src if nw_conn else ip_dst),
        LearnSpec("match", ip_dst, src=ip_dst if nw_conn else ip_src),
        LearnSpec("match", "nw_proto", value=_PROTO[act.proto]),
        LearnSpec("match", tp_src, src=tp_src if nw_conn else tp_dst),
        LearnSpec("match", tp_dst, src=tp_dst if nw_conn else tp_src),
        _flag(Mlf.LOOKUP_COMMIT_ECMP_NH),
    ]
    return Learn(table("ECMP_NH_MAC" if nw_conn else "ECMP_NH"), tuple(specs),
                 idle_timeout=20, hard_timeout=30, delete_learned=True)


@handles(ax.CommitEcmpNh)
def _commit_ecmp_nh(enc: Encoder, act: ax.CommitEcmpNh) -> None:
    enc.emit(ecmp_nh_learn(act, True), ecmp_nh_learn(act, False))
