"""The daemons' engine graphs are held against golden DOT files; nb_cfg arithmetic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyovn.controller import graph as controller_graph
from pyovn.northd import graph as northd_graph
from pyovn.northd import nb_cfg
from pyovn.ovsdb import Client, Insert, Row, Update
from pyovn.ovsdb.rows import make_row_class
from pyovn.sandbox.procs import NB_SCHEMA, SB_SCHEMA, VSWITCH_SCHEMA

GOLDEN = Path(__file__).parent.parent / "golden"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PYOVN_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), (
        f"{name} changed; if that is intended, rerun with PYOVN_UPDATE_GOLDEN=1 and review")


def test_northd_graph_matches_golden() -> None:
    nb = Client("unix:/nonexistent/nb.sock", NB_SCHEMA, northd_graph.NB_TABLES)
    sb = Client("unix:/nonexistent/sb.sock", SB_SCHEMA, northd_graph.SB_TABLES)
    _check_golden("northd_graph.dot", northd_graph.build_graph(nb, sb).engine.to_dot())


def test_controller_graph_matches_golden() -> None:
    ovs = Client("unix:/nonexistent/db.sock", VSWITCH_SCHEMA, controller_graph.OVS_TABLES)
    sb = Client("unix:/nonexistent/sb.sock", SB_SCHEMA, controller_graph.SB_TABLES)
    _check_golden("controller_graph.dot",
                  controller_graph.build_graph(ovs, sb).engine.to_dot())


def _row(uuid: str, **values: object) -> Row:
    return make_row_class("T", sorted(values)).make(uuid, **values)


@pytest.mark.parametrize(("nb", "sb", "expected"), [
    (None, None, []),
    (5, None, [Insert("SB_Global", {"nb_cfg": 5})]),
    (5, 4, [Update("SB_Global", "s", {"nb_cfg": 5})]),
    (5, 5, []),
])
def test_sb_global_follows_nb_cfg(nb: int | None, sb: int | None, expected: list[object]) -> None:
    nb_row = _row("n", nb_cfg=nb) if nb is not None else None
    sb_row = _row("s", nb_cfg=sb) if sb is not None else None
    assert nb_cfg.sync_sb_global(nb_row, sb_row) == expected


def test_hv_cfg_is_the_slowest_non_remote_chassis() -> None:
    chassis = {"c1": _row("c1", other_config={}), "c2": _row("c2", other_config={}),
               "cr": _row("cr", other_config={"is-remote": "true"})}
    privs = [_row("p1", chassis="c1", nb_cfg=7, nb_cfg_timestamp=100),
             _row("p2", chassis="c2", nb_cfg=6, nb_cfg_timestamp=200),
             _row("pr", chassis="cr", nb_cfg=0, nb_cfg_timestamp=0)]
    assert nb_cfg.hv_cfg_of(7, privs, chassis)[0] == 6
    assert nb_cfg.hv_cfg_of(7, privs[:1] + privs[2:], chassis) == (7, 100)
    assert nb_cfg.hv_cfg_of(7, [], chassis)[0] == 7


def test_report_writes_nothing_when_nb_global_is_up_to_date() -> None:
    nb_row = _row("n", nb_cfg=3, sb_cfg=3, hv_cfg=3)
    assert nb_cfg.report_to_nb(nb_row, _row("s", nb_cfg=3), [], {}) == []
    ops = nb_cfg.report_to_nb(_row("n", nb_cfg=4, sb_cfg=3, hv_cfg=3),
                              _row("s", nb_cfg=4), [], {})
    assert len(ops) == 1 and isinstance(ops[0], Update)
    assert ops[0].row["sb_cfg"] == 4 and ops[0].row["hv_cfg"] == 4
