"""Logical flows as values, the sink generators write them to, and the global settings
that shape them.

A logical flow is identified, as in ovn-northd 23.03 (``ovn_lflow_find``), by its
pipeline, table, priority, match, actions and controller meter — not by its datapath:
the same flow on several switches is one flow with a set of datapaths. What else a SB
Logical_Flow row carries (``external_ids:stage-hint``, ``tags:in_out_port``) is an
attribute of the flow, not part of its identity.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from pyovn.northd.lflow.stages import Stage, stage_of
from pyovn.northd.model import MeterInfo, NorthdGlobals

__all__ = [
    "NO_ATTRS",
    "LflowAttrs",
    "LflowConfig",
    "LflowKey",
    "LflowSink",
    "Link",
    "json_key",
    "smap_get_bool",
]


class LflowKey(NamedTuple):
    """What makes a logical flow itself (one SB Logical_Flow row at most per key)."""

    pipeline: str
    table_id: int
    priority: int
    match: str
    actions: str
    controller_meter: str | None = None

    @property
    def stage_name(self) -> str:
        """``external_ids:stage-name`` as ovn-northd writes it."""
        stage = stage_of(self.pipeline, self.table_id)
        return stage.name if stage is not None else f"{self.pipeline}_{self.table_id}"


class LflowAttrs(NamedTuple):
    """What a flow's row carries besides its identity: the first 8 hex digits of the NB
    row that caused it (``stage-hint``) and the logical port it is about
    (``tags:in_out_port``, used by ovn-controller to skip flows of remote ports)."""

    stage_hint: str | None = None
    in_out_port: str | None = None


NO_ATTRS = LflowAttrs()

#: One generated flow: (datapath name, flow, attributes).
Link = tuple[str, LflowKey, LflowAttrs]


class LflowSink:
    """Collects the flows a generator produces for one datapath (``ovn_lflow_add``)."""

    __slots__ = ("dp", "links")

    def __init__(self, dp: str, links: list[Link] | None = None) -> None:
        self.dp = dp
        self.links: list[Link] = [] if links is None else links

    def add(self, stage: Stage, priority: int, match: str, actions: str, *,
            hint: str | None = None, io_port: str | None = None,
            meter: str | None = None) -> None:
        """Add a flow on this sink's datapath; ``hint`` is the UUID of the NB row that
        asked for it, ``io_port`` the port name for ``tags:in_out_port``."""
        attrs = NO_ATTRS if hint is None and io_port is None else LflowAttrs(
            hint[:8] if hint is not None else None, io_port)
        self.links.append((self.dp, LflowKey(stage.pipeline, stage.table, priority, match,
                                             actions, meter), attrs))


def json_key(name: str) -> str:
    """A port name as a quoted string in the flow language (OVN's ``op->json_key``)."""
    return json.dumps(name, ensure_ascii=False)


def smap_get_bool(smap: Mapping[str, str], key: str, default: bool) -> bool:
    """OVS ``smap_get_bool``: with default True anything but "false" is True, with
    default False only "true" is (case-insensitively); a missing key gives the default."""
    value = smap.get(key)
    if value is None:
        return default
    if default:
        return value.lower() != "false"
    return value.lower() == "true"


@dataclass(frozen=True, slots=True)
class LflowConfig:
    """The global settings that shape switch flows (NB_Global options, chassis features,
    fair meters). A change of any of them regenerates every flow."""

    ct_blocked: str = "ct_mark.blocked"
    ct_lb_action: str = "ct_lb_mark;"
    ct_lb_related: bool = True
    use_ct_inv_match: bool = True
    default_acl_drop: bool = False
    check_lsp_is_up: bool = False
    fair_meters: frozenset[str] = frozenset()

    @classmethod
    def from_globals(cls, glob: NorthdGlobals, meters: Mapping[str, MeterInfo]) -> LflowConfig:
        """The settings ovn-northd 23.03 derives from NB_Global options and the
        features every chassis supports (a feature counts as supported unless a chassis
        lacks it)."""
        no_masked_label = glob.features.get("ct_no_masked_label", True)
        return cls(
            ct_blocked="ct_mark.blocked" if no_masked_label else "ct_label.blocked",
            ct_lb_action="ct_lb_mark;" if no_masked_label else "ct_lb;",
            ct_lb_related=glob.features.get("ct_lb_related", True),
            use_ct_inv_match=smap_get_bool(glob.options, "use_ct_inv_match", True),
            default_acl_drop=smap_get_bool(glob.options, "default_acl_drop", False),
            check_lsp_is_up=not smap_get_bool(glob.options, "ignore_lsp_down", True),
            fair_meters=frozenset(m.name for m in meters.values() if m.fair),
        )
