"""Fixtures shared by every test directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from pyovn.sandbox import procs

# CI runs the property tests on a fixed sequence of examples, so a submission is
# judged on what was run before it; everywhere else they explore new examples
# (PYOVN_HYPOTHESIS=ci reproduces CI's run, =random explores under CI too).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("random", print_blob=True)
settings.load_profile(os.environ.get("PYOVN_HYPOTHESIS",
                                     "ci" if os.environ.get("CI") else "random"))


@pytest.fixture(scope="session", autouse=True)
def _reap_daemons() -> None:
    """Detached daemons become our children, so the tests can reap them (no zombies)."""
    procs.become_subreaper()


@pytest.fixture
def rundir(tmp_path: Path) -> Iterator[Path]:
    """A temporary run directory; every daemon whose pidfile is in it is stopped after."""
    d = tmp_path / "run"
    d.mkdir()
    try:
        yield d
    finally:
        procs.stop_all_in(d)


@pytest.fixture
def sb_server(rundir: Path) -> procs.OvsdbServer:
    """A fresh OVN_Southbound ovsdb-server on a unix socket."""
    return procs.start_ovsdb_server(rundir, "sb", procs.SB_SCHEMA)


@pytest.fixture
def nb_server(rundir: Path) -> procs.OvsdbServer:
    """A fresh OVN_Northbound ovsdb-server on a unix socket."""
    return procs.start_ovsdb_server(rundir, "nb", procs.NB_SCHEMA)


@pytest.fixture
def ovs_server(rundir: Path) -> procs.OvsdbServer:
    """A fresh Open_vSwitch ovsdb-server on a unix socket."""
    return procs.start_ovsdb_server(rundir, "conf", procs.VSWITCH_SCHEMA)
