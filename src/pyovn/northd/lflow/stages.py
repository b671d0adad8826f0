"""The logical switch pipeline of OVN 23.03, as data.

A stage is a table of one pipeline; its number is its index in the pipeline. The names
and numbers are what ovn-northd 23.03.1 writes (``external_ids:stage-name`` and
``table_id`` of SB Logical_Flow) and what ovn-controller 23.03 maps to OpenFlow tables
(ingress N → table 8+N, egress N → table 40+N), verified against the real daemon's
``ovn-sbctl lflow-list``. Code names a stage by its constant (``LS_IN_ACL``), never by
a number.
"""

from __future__ import annotations

from typing import Final, NamedTuple

INGRESS: Final = "ingress"
EGRESS: Final = "egress"


class Stage(NamedTuple):
    """One table of a logical pipeline: ``ls_in_acl`` is ingress table 8."""

    name: str
    pipeline: str
    table: int


_INGRESS_NAMES = (
    "ls_in_check_port_sec",
    "ls_in_apply_port_sec",
    "ls_in_lookup_fdb",
    "ls_in_put_fdb",
    "ls_in_pre_acl",
    "ls_in_pre_lb",
    "ls_in_pre_stateful",
    "ls_in_acl_hint",
    "ls_in_acl",
    "ls_in_qos_mark",
    "ls_in_qos_meter",
    "ls_in_lb_aff_check",
    "ls_in_lb",
    "ls_in_lb_aff_learn",
    "ls_in_pre_hairpin",
    "ls_in_nat_hairpin",
    "ls_in_hairpin",
    "ls_in_acl_after_lb",
    "ls_in_stateful",
    "ls_in_arp_rsp",
    "ls_in_dhcp_options",
    "ls_in_dhcp_response",
    "ls_in_dns_lookup",
    "ls_in_dns_response",
    "ls_in_external_port",
    "ls_in_l2_lkup",
    "ls_in_l2_unknown",
)

_EGRESS_NAMES = (
    "ls_out_pre_acl",
    "ls_out_pre_lb",
    "ls_out_pre_stateful",
    "ls_out_acl_hint",
    "ls_out_acl",
    "ls_out_qos_mark",
    "ls_out_qos_meter",
    "ls_out_stateful",
    "ls_out_check_port_sec",
    "ls_out_apply_port_sec",
)

LS_INGRESS_STAGES: Final = tuple(Stage(n, INGRESS, i) for i, n in enumerate(_INGRESS_NAMES))
LS_EGRESS_STAGES: Final = tuple(Stage(n, EGRESS, i) for i, n in enumerate(_EGRESS_NAMES))
STAGES_BY_NAME: Final = {s.name: s for s in (*LS_INGRESS_STAGES, *LS_EGRESS_STAGES)}
_BY_TABLE: Final = {(s.pipeline, s.table): s for s in STAGES_BY_NAME.values()}


def stage_of(pipeline: str, table: int) -> Stage | None:
    """The switch stage at ``table`` of ``pipeline``, or None if there is none."""
    return _BY_TABLE.get((pipeline, table))


def _s(name: str) -> Stage:
    return STAGES_BY_NAME[name]


LS_IN_CHECK_PORT_SEC: Final = _s("ls_in_check_port_sec")
LS_IN_APPLY_PORT_SEC: Final = _s("ls_in_apply_port_sec")
LS_IN_LOOKUP_FDB: Final = _s("ls_in_lookup_fdb")
LS_IN_PUT_FDB: Final = _s("ls_in_put_fdb")
LS_IN_PRE_ACL: Final = _s("ls_in_pre_acl")
LS_IN_PRE_LB: Final = _s("ls_in_pre_lb")
LS_IN_PRE_STATEFUL: Final = _s("ls_in_pre_stateful")
LS_IN_ACL_HINT: Final = _s("ls_in_acl_hint")
LS_IN_ACL: Final = _s("ls_in_acl")
LS_IN_QOS_MARK: Final = _s("ls_in_qos_mark")
LS_IN_QOS_METER: Final = _s("ls_in_qos_meter")
LS_IN_LB_AFF_CHECK: Final = _s("ls_in_lb_aff_check")
LS_IN_LB: Final = _s("ls_in_lb")
LS_IN_LB_AFF_LEARN: Final = _s("ls_in_lb_aff_learn")
LS_IN_PRE_HAIRPIN: Final = _s("ls_in_pre_hairpin")
LS_IN_NAT_HAIRPIN: Final = _s("ls_in_nat_hairpin")
LS_IN_HAIRPIN: Final = _s("ls_in_hairpin")
LS_IN_ACL_AFTER_LB: Final = _s("ls_in_acl_after_lb")
LS_IN_STATEFUL: Final = _s("ls_in_stateful")
LS_IN_ARP_ND_RSP: Final = _s("ls_in_arp_rsp")
LS_IN_DHCP_OPTIONS: Final = _s("ls_in_dhcp_options")
LS_IN_DHCP_RESPONSE: Final = _s("ls_in_dhcp_response")
LS_IN_DNS_LOOKUP: Final = _s("ls_in_dns_lookup")
LS_IN_DNS_RESPONSE: Final = _s("ls_in_dns_response")
LS_IN_EXTERNAL_PORT: Final = _s("ls_in_external_port")
LS_IN_L2_LKUP: Final = _s("ls_in_l2_lkup")
LS_IN_L2_UNKNOWN: Final = _s("ls_in_l2_unknown")

LS_OUT_PRE_ACL: Final = _s("ls_out_pre_acl")
LS_OUT_PRE_LB: Final = _s("ls_out_pre_lb")
LS_OUT_PRE_STATEFUL: Final = _s("ls_out_pre_stateful")
LS_OUT_ACL_HINT: Final = _s("ls_out_acl_hint")
LS_OUT_ACL: Final = _s("ls_out_acl")
LS_OUT_QOS_MARK: Final = _s("ls_out_qos_mark")
LS_OUT_QOS_METER: Final = _s("ls_out_qos_meter")
LS_OUT_STATEFUL: Final = _s("ls_out_stateful")
LS_OUT_CHECK_PORT_SEC: Final = _s("ls_out_check_port_sec")
LS_OUT_APPLY_PORT_SEC: Final = _s("ls_out_apply_port_sec")
