"""Chassis registration: pyovn writes the rows ovn-controller 23.03 writes, once.

Real ovn-controller registers the chassis of a sandbox first; its rows are kept, the
daemon stopped and the rows deleted; then pyovn's nodes (run in this process,
writing) register the same chassis on the same databases, and the rows are compared
on every column pyovn replicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller_support import NodeDriver
from pyovn.controller.chassis import chassis_cleanup_ops
from pyovn.ovsdb import Client
from pyovn.sandbox import procs
from pyovn.sandbox.procs import SB_SCHEMA
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.functional

TABLES = {"Chassis": None, "Encap": None, "Chassis_Private": None}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path / "sb")
    sb.start(SandboxConfig(northd="none", controller="ovn"))
    try:
        yield sb
    finally:
        sb.stop()
        procs.stop_all_in(sb.dir)


def _rows(sb: Sandbox) -> dict[str, Any]:
    """The chassis rows, without UUIDs (references resolved), and nb_cfg left out."""
    with Client(sb.sb_remote, SB_SCHEMA, TABLES) as client:
        client.run_until(lambda: client.synced, 10)
        chassis = [r.as_dict() for r in client.tables["Chassis"].rows.values()]
        encaps = client.tables["Encap"].rows
        for row in chassis:
            row["encaps"] = sorted((encaps[u]["type"], encaps[u]["ip"],
                                    encaps[u]["chassis_name"],
                                    tuple(sorted(encaps[u]["options"].items())))
                                   for u in row["encaps"])
            row.pop("nb_cfg")
        names = {r.uuid: r["name"] for r in client.tables["Chassis"].rows.values()}
        private = [{**r.as_dict(), "chassis": names.get(r["chassis"])}
                   for r in client.tables["Chassis_Private"].rows.values()]
        for row in private:
            row.pop("nb_cfg")
            row.pop("nb_cfg_timestamp")
        return {"chassis": chassis, "private": private,
                "n_encaps": len(client.tables["Encap"].rows)}


def _forget_chassis(sb: Sandbox) -> None:
    procs.stop_daemon(procs.daemon_in(sb.dir, "controller"))
    with Client(sb.sb_remote, SB_SCHEMA, TABLES) as client:
        client.commit(lambda: chassis_cleanup_ops(
            "hv1", client.tables["Chassis"].rows.values(),
            client.tables["Chassis_Private"].rows.values()))


def _wait_registered(sb: Sandbox) -> None:
    procs.wait_until(lambda: "hv1" in sb.sbctl("--bare", "--columns=name", "list",
                                                "Chassis_Private"))


def test_rows_written_on_a_fresh_southbound_equal_ovn_controllers(sandbox: Sandbox) -> None:
    sandbox.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-cms-options=enable-chassis-as-gw",
                  "external_ids:ovn-transport-zones=tz1,tz2")
    _wait_registered(sandbox)
    procs.wait_until(lambda: "tz1" in sandbox.sbctl("list", "Chassis"))
    theirs = _rows(sandbox)
    _forget_chassis(sandbox)
    assert _rows(sandbox)["chassis"] == []
    driver = NodeDriver(sandbox)
    try:
        driver.converge()
        assert _rows(sandbox) == theirs
        # Unchanged configuration, and a restart: nothing more is written.
        assert driver.run_once() == ([], [])
        again = NodeDriver(sandbox)
        try:
            again.converge()
            assert again.run_once() == ([], [])
        finally:
            again.close()
    finally:
        driver.close()


def test_configuration_changes_update_the_rows_in_place(sandbox: Sandbox) -> None:
    _wait_registered(sandbox)
    _forget_chassis(sandbox)
    driver = NodeDriver(sandbox)
    try:
        driver.converge()
        uuid = sandbox.sbctl("--bare", "--columns=_uuid", "list", "Chassis").strip()
        sandbox.vsctl("set", "Open_vSwitch", ".",
                      "external_ids:ovn-encap-ip=127.0.0.2,127.0.0.3",
                      "external_ids:ovn-encap-type=geneve,vxlan",
                      "external_ids:ovn-cms-options-hv1=per-chassis",
                      "external_ids:hostname=myhost")
        driver.converge()
        rows = _rows(sandbox)
        (chassis,) = rows["chassis"]
        assert chassis["hostname"] == "myhost"
        assert chassis["other_config"]["ovn-cms-options"] == "per-chassis"
        assert [e[:2] for e in chassis["encaps"]] == [
            ("geneve", "127.0.0.2"), ("geneve", "127.0.0.3"),
            ("vxlan", "127.0.0.2"), ("vxlan", "127.0.0.3")]
        assert rows["n_encaps"] == 4  # the old Encap went with its last reference
        assert sandbox.sbctl("--bare", "--columns=_uuid", "list", "Chassis").strip() == uuid
        # Keys other writers put in other_config survive our updates.
        sandbox.sbctl("set", "Chassis", "hv1", "other_config:foreign=1")
        sandbox.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-monitor-all=true")
        driver.converge()
        (chassis,) = _rows(sandbox)["chassis"]
        assert chassis["other_config"]["foreign"] == "1"
        assert chassis["other_config"]["ovn-monitor-all"] == "true"
    finally:
        driver.close()
