"""The flows one ACL generates on one switch (``consider_acl`` and
``build_stateless_filter`` of ovn-northd 23.03).

An ACL's flows depend on the ACL, on whether its switch is stateful (any
``allow-related`` ACL there), and on the global :class:`LflowConfig`. ACLs of a port
group give the same flows on every switch of the group with the same statefulness, so
those flows end up shared through a datapath group.
"""

from __future__ import annotations

import functools

from pyovn.lflow import LflowError, parse_expr
from pyovn.northd.lflow import stages as stg
from pyovn.northd.lflow.flows import LflowConfig, LflowSink
from pyovn.northd.lflow.switch_flows import (
    REG_LABEL,
    REGBIT_ACL_HINT_ALLOW,
    REGBIT_ACL_HINT_ALLOW_NEW,
    REGBIT_ACL_HINT_BLOCK,
    REGBIT_ACL_HINT_DROP,
    REGBIT_ACL_LABEL,
    REGBIT_ACL_STATELESS,
    REGBIT_CONNTRACK_COMMIT,
    SwitchFlags,
)
from pyovn.northd.model import AclInfo

__all__ = ["ACL_PRI_OFFSET", "acl_match_error", "build_acl_flows", "build_acl_log"]

#: NB ACL priorities (0..32767) sit above the stage's own flows.
ACL_PRI_OFFSET = 1000

_VERDICTS = {"drop": "drop", "reject": "reject", "allow": "allow",
             "allow-related": "allow", "allow-stateless": "allow"}
_IMPLICIT_DROP = "/* drop */"


def _any_members(_name: str) -> list[str]:
    return []


@functools.lru_cache(maxsize=16384)
def acl_match_error(match: str) -> str | None:
    """Why an ACL's match is not valid in OVN's flow language (syntax, field names,
    prerequisites of the fields), or None. Address sets and port groups are taken to
    exist: their contents do not make a match valid or not, and ovn-controller resolves
    them."""
    try:
        parse_expr(match, address_sets=_any_members, port_groups=_any_members)
    except LflowError as exc:
        return str(exc)
    return None


def build_acl_log(acl: AclInfo, cfg: LflowConfig) -> str:
    """The ``log(...); `` prefix of an ACL's actions, or "" when it does not log."""
    if not acl.log:
        return ""
    args = []
    if acl.name is not None:
        args.append(f'name="{acl.name}"')
    args.append(f"severity={acl.severity or 'info'}")
    verdict = _VERDICTS.get(acl.action)
    if verdict is not None:
        args.append(f"verdict={verdict}")
    if acl.meter is not None:
        # A fair meter is instantiated once per ACL, under a name of its own.
        meter = f"{acl.meter}__{acl.uuid}" if acl.meter in cfg.fair_meters else acl.meter
        args.append(f'meter="{meter}"')
    return f"log({', '.join(args)}); "


def _acl_stage(acl: AclInfo) -> stg.Stage:
    if acl.direction == "from-lport":
        if acl.options.get("apply-after-lb", "").lower() == "true":
            return stg.LS_IN_ACL_AFTER_LB
        return stg.LS_IN_ACL
    return stg.LS_OUT_ACL


def build_acl_flows(acl: AclInfo, flags: SwitchFlags, cfg: LflowConfig,
                    sink: LflowSink) -> None:
    """Every flow ``acl`` generates on the switch of ``sink`` (with ``flags``)."""
    stage = _acl_stage(acl)
    priority = acl.priority + ACL_PRI_OFFSET
    log = build_acl_log(acl, cfg)
    action = acl.action
    hint = acl.uuid
    if action == "allow-stateless":
        if flags.has_stateful_acl:
            # Stateless filters take precedence: mark the packet to skip conntrack.
            pre = stg.LS_IN_PRE_ACL if acl.direction == "from-lport" else stg.LS_OUT_PRE_ACL
            sink.add(pre, priority, acl.match, f"{REGBIT_ACL_STATELESS} = 1; next;",
                     hint=hint)
        sink.add(stage, priority, acl.match, f"{log}next;", hint=hint)
    elif action in ("allow", "allow-related"):
        _allow(acl, stage, priority, log, flags, cfg, sink)
    elif action in ("drop", "reject"):
        _drop_or_reject(acl, stage, priority, log, flags, cfg, sink)


def _allow(acl: AclInfo, stage: stg.Stage, priority: int, log: str, flags: SwitchFlags,
           cfg: LflowConfig, sink: LflowSink) -> None:
    hint = acl.uuid
    if not flags.has_stateful:
        sink.add(stage, priority, acl.match, f"{log}next;", hint=hint)
        return
    # Even "allow" must commit when the switch is stateful: the other direction may have
    # stateful ACLs, and its replies would be invalid without a conntrack entry.
    label = f"{REGBIT_ACL_LABEL} = 1; {REG_LABEL} = {acl.label}; " if acl.label else ""
    sink.add(stage, priority, f"{REGBIT_ACL_HINT_ALLOW_NEW} == 1 && ({acl.match})",
             f"{REGBIT_CONNTRACK_COMMIT} = 1; {label}{log}next;", hint=hint)
    # Established connections in the request direction: still allowed by policy? With
    # a label, commit again so that the label follows the ACL that allows them now.
    recommit = f"{REGBIT_CONNTRACK_COMMIT} = 1; {label}" if acl.label else ""
    sink.add(stage, priority, f"{REGBIT_ACL_HINT_ALLOW} == 1 && ({acl.match})",
             f"{recommit}{log}next;", hint=hint)
    if acl.log and acl.label and acl.options.get("log-related", "").lower() == "true":
        # Replies and related traffic pass the opposite pipeline's high-priority flows;
        # log them there, identified by the label.
        opposite = stg.LS_OUT_ACL if stage.pipeline == stg.INGRESS else stg.LS_IN_ACL
        not_inv = " && !ct.inv" if cfg.use_ct_inv_match else ""
        blocked = cfg.ct_blocked
        sink.add(opposite, 65533,
                 f"ct.est && !ct.rel && !ct.new{not_inv} && ct.rpl && {blocked} == 0 "
                 f"&& ct_label.label == {acl.label}", f"{log}next;", hint=hint)
        sink.add(opposite, 65533,
                 f"!ct.est && ct.rel && !ct.new{not_inv} && {blocked} == 0 "
                 f"&& ct_label.label == {acl.label}", f"{log}next;", hint=hint)


def _reject_action(stage: stg.Stage) -> str:
    if stage.pipeline == stg.INGRESS:
        nxt = f"next(pipeline=egress,table={stg.LS_OUT_QOS_MARK.table});"
    else:
        nxt = f"next(pipeline=ingress,table={stg.LS_IN_L2_LKUP.table});"
    return ("reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ "
            f"outport <-> inport; {nxt} }};")


def _drop_or_reject(acl: AclInfo, stage: stg.Stage, priority: int, log: str,
                    flags: SwitchFlags, cfg: LflowConfig, sink: LflowSink) -> None:
    hint = acl.uuid
    reject = acl.action == "reject"
    verdict = _reject_action(stage) if reject else _IMPLICIT_DROP
    if not flags.has_stateful:
        sink.add(stage, priority, acl.match, f"{log}{verdict}", hint=hint)
        return
    block = f"ct_commit {{ {cfg.ct_blocked} = 1; }}; "
    for hint_bit, commit in ((REGBIT_ACL_HINT_DROP, ""), (REGBIT_ACL_HINT_BLOCK, block)):
        # Untracked or not established: just drop. Established and allowed so far: mark
        # the connection blocked, so that its replies are dropped too.
        if reject:
            # ovn-northd appends the commit to a reject with one more space.
            extra = f"{commit} " if commit else ""
            sink.add(stage, priority, f"({hint_bit} == 1) && {acl.match}",
                     f"{log}{extra}{verdict}", hint=hint)
        else:
            sink.add(stage, priority, f"{hint_bit} == 1 && ({acl.match})",
                     f"{commit}{log}{verdict}", hint=hint)
