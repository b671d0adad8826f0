"""NB_Global options as ovn-northd 23.03 fills them, and the chassis feature flags.

ovn-northd makes sure ``NB_Global.options`` holds:

- ``mac_prefix``: three hex bytes; an unparsable or all-zero value is replaced by a
  random locally administered prefix, written back as ``%02x:%02x:%02x``;
- ``svc_monitor_mac``: a MAC (kept as written when it parses), else a random one;
- ``max_tunid``: the largest datapath tunnel key (no VXLAN support here: 16711680);
- ``northd_internal_version``: the version string of the northd that wrote the SB.

The Southbound copy (``SB_Global.options``) is the NB options plus
``lb_hairpin_use_ct_mark=false`` when some chassis lacks ``ct-no-masked-label``.
Random values are generated once per process and reused until the NB has them, so a
retried transaction writes the same value.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pyovn.engine import HandlerResult, Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.addresses import parse_mac
from pyovn.northd.model import NorthdGlobals
from pyovn.northd.tunnel_keys import DP_KEY_MAX
from pyovn.ovsdb import Op, Row, Update, Verify

__all__ = [
    "CHASSIS_FEATURES",
    "NORTHD_INTERNAL_VERSION",
    "GlobalConfig",
    "chassis_features",
    "fill_options",
    "sb_global_ops",
    "sb_global_options",
]

#: What ovn-northd 23.03.1 (Debian) writes; ovn-controller compares it to its own.
NORTHD_INTERNAL_VERSION = "23.03.1-20.27.0-70.6"

#: Chassis ``other_config`` keys of OVN's ``struct chassis_features`` → model names.
CHASSIS_FEATURES = {
    "ct-no-masked-label": "ct_no_masked_label",
    "mac-binding-timestamp": "mac_binding_timestamp",
    # The one feature 23.03 spells with an "ovn-" prefix (OVN_FEATURE_CT_LB_RELATED).
    "ovn-ct-lb-related": "ct_lb_related",
    "fdb-timestamp": "fdb_timestamp",
    "ls-dpg-column": "ls_dpg_column",
}

_PREFIX_RE = re.compile(r"\s*([0-9a-fA-F]+):\s*([0-9a-fA-F]+):\s*([0-9a-fA-F]+)")


def _random_mac(rng: random.Random, n: int) -> list[int]:
    octets = [rng.randrange(256) for _ in range(n)]
    octets[0] = (octets[0] & 0xfe) | 0x02     # unicast, locally administered
    return octets


def _fmt(octets: Iterable[int]) -> str:
    return ":".join(f"{o:02x}" for o in octets)


def fill_options(options: Mapping[str, str], generated: dict[str, str],
                 rng: random.Random) -> dict[str, str]:
    """NB_Global ``options`` as ovn-northd leaves them. ``generated`` keeps the random
    values made so far (and is updated), so each is made once."""
    out = dict(options)
    m = _PREFIX_RE.match(options.get("mac_prefix", ""))
    octets = [int(g, 16) & 0xff for g in m.groups()] if m else [0, 0, 0]
    if any(octets):
        out["mac_prefix"] = _fmt(octets)
    else:
        out["mac_prefix"] = generated.setdefault("mac_prefix", _fmt(_random_mac(rng, 3)))
    svc = options.get("svc_monitor_mac")
    if svc is None or parse_mac(svc) is None:
        svc = generated.setdefault("svc_monitor_mac", _fmt(_random_mac(rng, 6)))
    out["svc_monitor_mac"] = svc
    out["max_tunid"] = str(DP_KEY_MAX)
    out["northd_internal_version"] = NORTHD_INTERNAL_VERSION
    return out


def chassis_features(chassis: Iterable[Row]) -> dict[str, bool]:
    """OVN's chassis features: each true unless some chassis does not claim it."""
    features = dict.fromkeys(CHASSIS_FEATURES.values(), True)
    for row in chassis:
        config = row["other_config"]
        for key, name in CHASSIS_FEATURES.items():
            if config.get(key, "false").lower() != "true":
                features[name] = False
    return features


def sb_global_options(globals_: NorthdGlobals) -> dict[str, str]:
    """``SB_Global.options`` for these globals."""
    out = dict(globals_.options)
    if not globals_.features.get("ct_no_masked_label", True):
        out["lb_hairpin_use_ct_mark"] = "false"
    return out


class GlobalConfig(Node[NorthdGlobals]):
    """Fills ``NB_Global.options`` (an NB write) and derives :class:`NorthdGlobals`."""

    def __init__(self, nb_global: TableInput, chassis: TableInput,
                 rng: random.Random | None = None) -> None:
        super().__init__("global_config", NorthdGlobals({}, "", "", {}),
                         needs_txn=lambda ctx: ctx.nb_ops)
        self.nb_global, self.chassis = nb_global, chassis
        self.rng = rng or random.Random()
        self.generated: dict[str, str] = {}
        self.add_input(nb_global, self.nb_global_handler)
        # No handler: O(#chassis), and chassis come and go rarely.
        self.add_input(chassis)

    def run(self, ctx: Any) -> bool:
        """Recompute the globals and emit the NB_Global write, if any."""
        nb = self.nb_global.only_row()
        if nb is None:
            new = NorthdGlobals({}, "", "", chassis_features(self.chassis.rows.values()))
        else:
            options = fill_options(nb["options"], self.generated, self.rng)
            if options != nb["options"]:
                assert ctx.nb_ops is not None
                # Verified, as ovn-northd's IDL does: a user's options:… written meanwhile
                # must not be overwritten with this older view (TRY_AGAIN, recompute).
                ctx.nb_ops.append(Verify("NB_Global", nb.uuid, ["options"]))
                ctx.nb_ops.append(Update("NB_Global", nb.uuid, {"options": options}))
            new = NorthdGlobals(options, options["svc_monitor_mac"], options["mac_prefix"],
                                chassis_features(self.chassis.rows.values()))
        changed, self.data = new != self.data, new
        return changed

    def nb_global_handler(self, ctx: Any) -> HandlerResult:
        """Only ``options`` matter: nb_cfg bumps (every ``--wait``) are ignored."""
        changes = self.nb_global.changes
        if changes is None or changes.inserted or changes.deleted:
            return HandlerResult.UNHANDLED
        for old, new in changes.modified.values():
            if old["options"] != new["options"]:
                return HandlerResult.UNHANDLED
        return HandlerResult.HANDLED_UNCHANGED


def nb_global_ipsec(nb_global: Row | None) -> bool:
    """``NB_Global.ipsec`` (copied to SB_Global)."""
    return bool(nb_global["ipsec"]) if nb_global is not None else False


def sb_global_ops(nb_global: Row | None, sb_global: Row | None,
                  globals_: NorthdGlobals) -> list[Op]:
    """Ops that bring SB_Global ``options`` and ``ipsec`` up to date (``nb_cfg`` is
    :mod:`pyovn.northd.nb_cfg`'s)."""
    if nb_global is None or sb_global is None:
        return []
    want: dict[str, Any] = {"options": sb_global_options(globals_),
                            "ipsec": nb_global_ipsec(nb_global)}
    diff = {c: v for c, v in want.items() if sb_global[c] != v}
    return [Update("SB_Global", sb_global.uuid, diff)] if diff else []
