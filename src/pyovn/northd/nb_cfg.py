"""Sequence numbers between the databases, as ovn-northd 23.03 keeps them.

``ovn-nbctl --wait=sb`` bumps ``NB_Global.nb_cfg`` and waits for ``sb_cfg`` to reach it;
``--wait=hv`` waits for ``hv_cfg``. northd copies ``nb_cfg`` to ``SB_Global.nb_cfg`` (in the
same transaction as the Southbound contents it compiled from that NB state), then reports
back: ``NB_Global.sb_cfg`` is what the Southbound has acknowledged, and ``hv_cfg`` the
smallest ``Chassis_Private.nb_cfg`` of the chassis that are not remote (each controller
writes it once the switch has its flows). These functions compute the ops; the engine
nodes in :mod:`pyovn.northd.graph` decide when to call them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from pyovn.ovsdb import Insert, Op, Row, Update


def _now_ms() -> int:
    return int(time.time() * 1000)


def sync_sb_global(nb_global: Row | None, sb_global: Row | None) -> list[Op]:
    """Ops that make ``SB_Global.nb_cfg`` equal ``NB_Global.nb_cfg`` (creating SB_Global)."""
    if nb_global is None:
        return []
    nb_cfg = int(nb_global["nb_cfg"])
    if sb_global is None:
        return [Insert("SB_Global", {"nb_cfg": nb_cfg})]
    if int(sb_global["nb_cfg"]) != nb_cfg:
        return [Update("SB_Global", sb_global.uuid, {"nb_cfg": nb_cfg})]
    return []


def hv_cfg_of(nb_cfg: int, chassis_private: Iterable[Row],
              chassis: Mapping[str, Row]) -> tuple[int, int]:
    """(hv_cfg, hv_cfg_timestamp): the lowest nb_cfg any non-remote chassis acknowledged.

    ``nb_cfg`` is the value the Southbound holds: with no chassis, every hypervisor has
    (vacuously) caught up once the Southbound has (ovn-northd starts from the NB's value,
    which lets ``--wait=hv`` return before the Southbound was written).
    The timestamp is the latest acknowledgement among chassis that are up to date.
    """
    hv_cfg, stamp = nb_cfg, 0
    for priv in chassis_private:
        ch = chassis.get(priv["chassis"]) if priv["chassis"] else None
        if ch is not None and ch["other_config"].get("is-remote") == "true":
            continue
        cfg = int(priv["nb_cfg"])
        if cfg < hv_cfg:
            hv_cfg = cfg
        elif int(priv["nb_cfg_timestamp"]) > stamp:
            stamp = int(priv["nb_cfg_timestamp"])
    return hv_cfg, stamp


def report_to_nb(nb_global: Row | None, sb_global: Row | None,
                 chassis_private: Iterable[Row], chassis: Mapping[str, Row]) -> list[Op]:
    """Ops that bring ``NB_Global.sb_cfg`` and ``hv_cfg`` (with timestamps) up to date."""
    if nb_global is None or sb_global is None:
        return []
    changes: dict[str, int] = {}
    sb_cfg = int(sb_global["nb_cfg"])
    if int(nb_global["sb_cfg"]) != sb_cfg:
        changes["sb_cfg"] = sb_cfg
        changes["sb_cfg_timestamp"] = _now_ms()
    hv_cfg, stamp = hv_cfg_of(sb_cfg, chassis_private, chassis)
    if int(nb_global["hv_cfg"]) != hv_cfg:
        changes["hv_cfg"] = hv_cfg
        changes["hv_cfg_timestamp"] = stamp or _now_ms()
    return [Update("NB_Global", nb_global.uuid, changes)] if changes else []
