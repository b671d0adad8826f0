"""The flows every logical switch gets from its own configuration (``build_lswitch_*``
of ovn-northd 23.03 that take a datapath): admission control, the default flow of every
stage, the conntrack plumbing that depends on whether the switch has ACLs and stateful
ACLs, the localnet ports' conntrack bypass, and the L2 lookup defaults.

Everything here is a function of :class:`SwitchFlags` and :class:`LflowConfig`; ports'
and ACLs' own flows are in :mod:`port_flows` and :mod:`acl_flows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pyovn.northd.lflow import stages as stg
from pyovn.northd.lflow.flows import LflowConfig, LflowSink, json_key, smap_get_bool
from pyovn.northd.model import PortGroupInfo, SwitchDatapath

__all__ = ["SwitchFlags", "build_switch_flows", "switch_flags"]

#: OVN's REGBIT_* names, so that flows read as ovn-northd's source does.
REGBIT_CONNTRACK_DEFRAG = "reg0[0]"
REGBIT_CONNTRACK_COMMIT = "reg0[1]"
REGBIT_CONNTRACK_NAT = "reg0[2]"
REGBIT_ACL_HINT_ALLOW_NEW = "reg0[7]"
REGBIT_ACL_HINT_ALLOW = "reg0[8]"
REGBIT_ACL_HINT_DROP = "reg0[9]"
REGBIT_ACL_HINT_BLOCK = "reg0[10]"
REGBIT_ACL_LABEL = "reg0[13]"
REGBIT_PORT_SEC_DROP = "reg0[15]"
REGBIT_ACL_STATELESS = "reg0[16]"
REGBIT_ACL_HINT_ALLOW_REL = "reg0[17]"
REG_LABEL = "reg3"

MC_FLOOD = "_MC_flood"
MC_UNKNOWN = "_MC_unknown"
DROP = "drop;"
ND_MLD = "nd || nd_ra || nd_rs || mldv1 || mldv2"
ND_MLD_PRE = "nd || nd_rs || nd_ra || mldv1 || mldv2"


@dataclass(frozen=True, slots=True)
class SwitchFlags:
    """What a switch's own flows depend on, beyond the global :class:`LflowConfig`.

    Derived here from the model rather than taken from it, with ovn-northd's exact
    rules: only ``allow-related`` makes an ACL stateful; only an enabled port with
    ``unknown`` gives the switch an unknown-MAC flood.
    """

    has_acls: bool
    has_stateful_acl: bool
    has_lb_vip: bool
    has_unknown: bool
    vlan_passthru: bool
    localnet_ports: tuple[tuple[str, str], ...]     #: (name, NB uuid), sorted by name

    @property
    def has_stateful(self) -> bool:
        """Whether connections must be tracked (stateful ACLs or load balancers)."""
        return self.has_stateful_acl or self.has_lb_vip


def switch_flags(od: SwitchDatapath, port_groups: Mapping[str, PortGroupInfo]) -> SwitchFlags:
    """The :class:`SwitchFlags` of ``od`` (``ls_get_acl_flags`` and friends)."""
    acls = list(od.acls)
    for pg_name in od.port_groups:
        pg = port_groups.get(pg_name)
        if pg is not None:
            acls.extend(pg.acls)
    localnet = []
    for name in od.localnet_ports:
        port = od.ports.get(name)
        if port is not None:
            localnet.append((name, port.uuid))
    return SwitchFlags(
        has_acls=bool(acls),
        has_stateful_acl=any(acl.action == "allow-related" for acl in acls),
        has_lb_vip=od.has_lb_vip,
        has_unknown=any(p.has_unknown and p.enabled and p.type != "external"
                        for p in od.ports.values()),
        vlan_passthru=smap_get_bool(od.other_config, "vlan-passthru", False),
        localnet_ports=tuple(sorted(localnet)),
    )


def build_switch_flows(flags: SwitchFlags, cfg: LflowConfig, sink: LflowSink) -> None:
    """Every flow a switch gets from its own configuration, in pipeline order."""
    _admission_control(flags, sink)
    sink.add(stg.LS_IN_LOOKUP_FDB, 0, "1", "next;")
    sink.add(stg.LS_IN_PUT_FDB, 0, "1", "next;")
    _pre_acls(flags, sink)
    _pre_lb(flags, sink)
    _pre_stateful(cfg, sink)
    _acl_hints(flags, cfg, sink)
    _acl_defaults(flags, cfg, sink)
    for stage in (stg.LS_IN_QOS_MARK, stg.LS_IN_QOS_METER, stg.LS_OUT_QOS_MARK,
                  stg.LS_OUT_QOS_METER, stg.LS_IN_LB_AFF_CHECK, stg.LS_IN_LB,
                  stg.LS_IN_LB_AFF_LEARN, stg.LS_IN_PRE_HAIRPIN, stg.LS_IN_NAT_HAIRPIN,
                  stg.LS_IN_HAIRPIN):
        sink.add(stage, 0, "1", "next;")
    _stateful(cfg, sink)
    for stage in (stg.LS_IN_ARP_ND_RSP, stg.LS_IN_DHCP_OPTIONS, stg.LS_IN_DHCP_RESPONSE,
                  stg.LS_IN_DNS_LOOKUP, stg.LS_IN_DNS_RESPONSE, stg.LS_IN_EXTERNAL_PORT):
        sink.add(stage, 0, "1", "next;")
    _l2_lookup(flags, sink)
    _output_port_sec(sink)


def _admission_control(flags: SwitchFlags, sink: LflowSink) -> None:
    if not flags.vlan_passthru:
        sink.add(stg.LS_IN_CHECK_PORT_SEC, 100, "vlan.present", DROP)
    # A broadcast or multicast source address is invalid.
    sink.add(stg.LS_IN_CHECK_PORT_SEC, 100, "eth.src[40]", DROP)
    sink.add(stg.LS_IN_CHECK_PORT_SEC, 50, "1",
             f"{REGBIT_PORT_SEC_DROP} = check_in_port_sec(); next;")
    sink.add(stg.LS_IN_APPLY_PORT_SEC, 50, f"{REGBIT_PORT_SEC_DROP} == 1", DROP)
    sink.add(stg.LS_IN_APPLY_PORT_SEC, 0, "1", "next;")


def _skip_port_from_conntrack(sink: LflowSink, name: str, uuid: str, in_stage: stg.Stage,
                              out_stage: stg.Stage, egress_action: str) -> None:
    key = json_key(name)
    sink.add(in_stage, 110, f"ip && inport == {key}", "next;", hint=uuid, io_port=name)
    sink.add(out_stage, 110, f"ip && outport == {key}", egress_action, hint=uuid,
             io_port=name)


def _pre_acls(flags: SwitchFlags, sink: LflowSink) -> None:
    sink.add(stg.LS_IN_PRE_ACL, 0, "1", "next;")
    sink.add(stg.LS_OUT_PRE_ACL, 0, "1", "next;")
    sink.add(stg.LS_IN_PRE_ACL, 110, "eth.dst == $svc_monitor_mac", "next;")
    sink.add(stg.LS_OUT_PRE_ACL, 110, "eth.src == $svc_monitor_mac", "next;")
    if not flags.has_stateful_acl:
        return
    # Stateful ACLs send IP through conntrack (which defragments), except traffic of
    # localnet ports, whose return path this chassis may never see.
    for name, uuid in flags.localnet_ports:
        _skip_port_from_conntrack(sink, name, uuid, stg.LS_IN_PRE_ACL, stg.LS_OUT_PRE_ACL,
                                  "next;")
    nd_dhcpv6 = f"{ND_MLD_PRE} || (udp && udp.src == 546 && udp.dst == 547)"
    for stage in (stg.LS_IN_PRE_ACL, stg.LS_OUT_PRE_ACL):
        sink.add(stage, 110, nd_dhcpv6, "next;")
        sink.add(stage, 110, "eth.mcast", "next;")
        sink.add(stage, 100, "ip", f"{REGBIT_CONNTRACK_DEFRAG} = 1; next;")


def _pre_lb(flags: SwitchFlags, sink: LflowSink) -> None:
    for stage in (stg.LS_IN_PRE_LB, stg.LS_OUT_PRE_LB):
        sink.add(stage, 110, "eth.mcast", "next;")
        sink.add(stage, 110, ND_MLD_PRE, "next;")
        # Stateless ACLs skip conntrack altogether.
        sink.add(stage, 110, f"{REGBIT_ACL_STATELESS} == 1", "next;")
        sink.add(stage, 0, "1", "next;")
    sink.add(stg.LS_IN_PRE_LB, 110, "eth.dst == $svc_monitor_mac", "next;")
    sink.add(stg.LS_OUT_PRE_LB, 110, "eth.src == $svc_monitor_mac", "next;")
    egress = "next;" if flags.has_stateful_acl else "ct_clear; next;"
    for name, uuid in flags.localnet_ports:
        _skip_port_from_conntrack(sink, name, uuid, stg.LS_IN_PRE_LB, stg.LS_OUT_PRE_LB, egress)
    if flags.has_lb_vip:
        for stage in (stg.LS_IN_PRE_LB, stg.LS_OUT_PRE_LB):
            sink.add(stage, 100, "ip", f"{REGBIT_CONNTRACK_NAT} = 1; next;")


def _pre_stateful(cfg: LflowConfig, sink: LflowSink) -> None:
    for stage in (stg.LS_IN_PRE_STATEFUL, stg.LS_OUT_PRE_STATEFUL):
        sink.add(stage, 0, "1", "next;")
        sink.add(stage, 110, f"{REGBIT_CONNTRACK_NAT} == 1", cfg.ct_lb_action)
        sink.add(stage, 100, f"{REGBIT_CONNTRACK_DEFRAG} == 1", "ct_next;")


def _acl_hints(flags: SwitchFlags, cfg: LflowConfig, sink: LflowSink) -> None:
    blocked = cfg.ct_blocked
    for stage in (stg.LS_IN_ACL_HINT, stg.LS_OUT_ACL_HINT):
        if not flags.has_acls and not flags.has_lb_vip:
            sink.add(stage, 65535, "1", "next;")
        else:
            sink.add(stage, 0, "1", "next;")
        if not flags.has_stateful:
            continue
        # New connections may hit allow ACLs (and must then be committed) or drops.
        sink.add(stage, 7, "ct.new && !ct.est",
                 f"{REGBIT_ACL_HINT_ALLOW_NEW} = 1; {REGBIT_ACL_HINT_DROP} = 1; next;")
        sink.add(stage, 6, f"!ct.new && ct.est && !ct.rpl && {blocked} == 1",
                 f"{REGBIT_ACL_HINT_ALLOW_NEW} = 1; {REGBIT_ACL_HINT_DROP} = 1; next;")
        sink.add(stage, 5, "!ct.trk",
                 f"{REGBIT_ACL_HINT_ALLOW} = 1; {REGBIT_ACL_HINT_DROP} = 1; next;")
        sink.add(stage, 4, f"!ct.new && ct.est && !ct.rpl && {blocked} == 0",
                 f"{REGBIT_ACL_HINT_ALLOW} = 1; {REGBIT_ACL_HINT_BLOCK} = 1; next;")
        sink.add(stage, 3, "!ct.est", f"{REGBIT_ACL_HINT_DROP} = 1; next;")
        sink.add(stage, 2, f"ct.est && {blocked} == 1", f"{REGBIT_ACL_HINT_DROP} = 1; next;")
        sink.add(stage, 1, f"ct.est && {blocked} == 0", f"{REGBIT_ACL_HINT_BLOCK} = 1; next;")


def _acl_defaults(flags: SwitchFlags, cfg: LflowConfig, sink: LflowSink) -> None:
    """The ACL stages' flows that do not come from one ACL (``build_acls``)."""
    blocked = cfg.ct_blocked
    default_action = DROP if cfg.default_acl_drop else "next;"
    if not flags.has_acls:
        priority = 65535 if not flags.has_lb_vip else 0
        sink.add(stg.LS_IN_ACL, priority, "1", "next;")
        sink.add(stg.LS_OUT_ACL, priority, "1", "next;")
        sink.add(stg.LS_IN_ACL_AFTER_LB, 0, "1", "next;")
    else:
        sink.add(stg.LS_IN_ACL, 0, "1", default_action)
        sink.add(stg.LS_OUT_ACL, 0, "1", default_action)
        sink.add(stg.LS_IN_ACL_AFTER_LB, 0, "1", default_action)
    # Neighbour discovery and MLD are never subject to ACLs.
    for stage in (stg.LS_IN_ACL, stg.LS_OUT_ACL, stg.LS_IN_ACL_AFTER_LB):
        sink.add(stage, 65532, ND_MLD, "next;")

    if flags.has_stateful:
        commit = f"{REGBIT_CONNTRACK_COMMIT} = 1; next;"
        inv = "ct.inv || " if cfg.use_ct_inv_match else ""
        not_inv = " && !ct.inv" if cfg.use_ct_inv_match else ""
        related = "ct_commit_nat;" if cfg.ct_lb_related else "next;"
        for stage in (stg.LS_IN_ACL, stg.LS_OUT_ACL):
            # Re-allowed connections that were blocked, and new ones, get committed.
            sink.add(stage, 1, f"ip && ct.est && {blocked} == 1", commit)
            sink.add(stage, 1, "ip && !ct.est", DROP if cfg.default_acl_drop else commit)
            sink.add(stage, 65532, f"{inv}(ct.est && ct.rpl && {blocked} == 1)", DROP)
        reply = f"ct.est && !ct.rel && !ct.new{not_inv} && ct.rpl && {blocked} == 0"
        sink.add(stg.LS_IN_ACL, 65532, reply,
                 f"{REGBIT_ACL_HINT_DROP} = 0; {REGBIT_ACL_HINT_BLOCK} = 0; "
                 f"{REGBIT_ACL_HINT_ALLOW_REL} = 1; next;")
        sink.add(stg.LS_OUT_ACL, 65532, reply, "next;")
        rel = f"!ct.est && ct.rel && !ct.new{not_inv} && {blocked} == 0"
        sink.add(stg.LS_IN_ACL, 65532, rel, f"{REGBIT_ACL_HINT_ALLOW_REL} = 1; {related}")
        sink.add(stg.LS_OUT_ACL, 65532, rel, related)
        # Replies already allowed by the ACL stage are not checked again after LB.
        sink.add(stg.LS_IN_ACL_AFTER_LB, 65532, f"{REGBIT_ACL_HINT_ALLOW_REL} == 1", "next;")

    if flags.has_acls or flags.has_lb_vip:
        # Service monitor packets skip ACLs.
        sink.add(stg.LS_IN_ACL, 34000, "eth.dst == $svc_monitor_mac", "next;")
        sink.add(stg.LS_OUT_ACL, 34000, "eth.src == $svc_monitor_mac", "next;")


def _stateful(cfg: LflowConfig, sink: LflowSink) -> None:
    blocked = cfg.ct_blocked
    for stage in (stg.LS_IN_STATEFUL, stg.LS_OUT_STATEFUL):
        sink.add(stage, 0, "1", "next;")
        sink.add(stage, 100,
                 f"{REGBIT_CONNTRACK_COMMIT} == 1 && {REGBIT_ACL_LABEL} == 0",
                 f"ct_commit {{ {blocked} = 0; }}; next;")
        sink.add(stage, 100,
                 f"{REGBIT_CONNTRACK_COMMIT} == 1 && {REGBIT_ACL_LABEL} == 1",
                 f"ct_commit {{ {blocked} = 0; ct_label.label = {REG_LABEL}; }}; next;")


def _l2_lookup(flags: SwitchFlags, sink: LflowSink) -> None:
    sink.add(stg.LS_IN_L2_LKUP, 110, "eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)",
             "handle_svc_check(inport);")
    sink.add(stg.LS_IN_L2_LKUP, 70, "eth.mcast", f'outport = "{MC_FLOOD}"; output;')
    sink.add(stg.LS_IN_L2_LKUP, 0, "1", "outport = get_fdb(eth.dst); next;")
    if flags.has_unknown:
        sink.add(stg.LS_IN_L2_UNKNOWN, 50, 'outport == "none"',
                 f'outport = "{MC_UNKNOWN}"; output;')
    else:
        sink.add(stg.LS_IN_L2_UNKNOWN, 50, 'outport == "none"', DROP)
    sink.add(stg.LS_IN_L2_UNKNOWN, 0, "1", "output;")


def _output_port_sec(sink: LflowSink) -> None:
    sink.add(stg.LS_OUT_CHECK_PORT_SEC, 100, "eth.mcast", f"{REGBIT_PORT_SEC_DROP} = 0; next;")
    sink.add(stg.LS_OUT_CHECK_PORT_SEC, 0, "1",
             f"{REGBIT_PORT_SEC_DROP} = check_out_port_sec(); next;")
    sink.add(stg.LS_OUT_APPLY_PORT_SEC, 50, f"{REGBIT_PORT_SEC_DROP} == 1", DROP)
    sink.add(stg.LS_OUT_APPLY_PORT_SEC, 0, "1", "output;")
