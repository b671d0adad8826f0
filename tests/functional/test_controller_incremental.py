"""pyovn-controller as a daemon handles the everyday changes without translating every
logical flow again: engine stats read over unixctl, and the switch's flows after the
changes equal those after ``inc-engine/recompute``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pyovn.engine.testing import parse_show_stats, recomputed_nodes
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox
from pyovn.sandbox.testing import running_sandbox

pytestmark = pytest.mark.functional

#: Nodes that must never recompute for these changes: the flow translation and the table.
TRANSLATION = ("lflow_output", "flow_output")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "sb") as box:
        yield box


def _lsp(name: str, n: int) -> list[str]:
    return ["--", "lsp-add", "sw0", name, "--", "lsp-set-addresses", name,
            f"00:00:00:00:00:{n:02x} 10.0.0.{n}"]


def _bind(box: Sandbox, iface: str, lport: str, ofport: int) -> None:
    box.vsctl("add-port", "br-int", iface, "--", "set", "Interface", iface, "type=dummy",
              f"ofport_request={ofport}", f"external_ids:iface-id={lport}")


def _up(box: Sandbox, lport: str) -> bool:
    return box.nbctl("get", "Logical_Switch_Port", lport, "up").strip() == "true"


def _flows(box: Sandbox) -> list[str]:
    return sorted(line.strip() for line in box.ofctl("dump-flows", "br-int", "--no-stats")
                  .splitlines() if "actions=" in line)


def _wait_hv(box: Sandbox) -> None:
    box.nbctl("--wait=hv", "--timeout=30", "sync", timeout=40)


def test_everyday_changes_do_not_recompute_the_flow_translation(sandbox: Sandbox) -> None:
    args = ["ls-add", "sw0"]
    for n in range(1, 5):
        args += _lsp(f"p{n}", n)
    sandbox.nbctl(*args)
    sandbox.nbctl("create", "Address_Set", "name=as1", 'addresses="10.0.0.1"')
    sandbox.nbctl("pg-add", "pg1", "p1")
    sandbox.nbctl("acl-add", "sw0", "to-lport", "1001", "ip4.src == $as1", "allow")
    sandbox.nbctl("acl-add", "pg1", "from-lport", "1002", 'inport == @pg1 && ip4', "drop")
    for n in range(1, 4):
        _bind(sandbox, f"p{n}", f"p{n}", n)
    procs.wait_until(lambda: all(_up(sandbox, f"p{n}") for n in range(1, 4)), timeout=30,
                     what="p1..p3 up")
    _wait_hv(sandbox)
    sandbox.appctl("controller", "inc-engine/clear-stats")

    def add_port() -> None:
        sandbox.nbctl(*_lsp("p5", 5)[1:])
        _bind(sandbox, "p5", "p5", 5)

    def rebind() -> None:
        sandbox.vsctl("del-port", "br-int", "p3")
        _bind(sandbox, "p3b", "p3", 13)

    steps: list[tuple[str, Callable[[], object]]] = [
        ("port add and bind", add_port),
        ("port delete", lambda: (sandbox.nbctl("lsp-del", "p2"),
                                 sandbox.vsctl("del-port", "br-int", "p2"))),
        ("port re-bind", rebind),
        ("address set member add", lambda: sandbox.nbctl(
            "add", "Address_Set", "as1", "addresses", '"10.0.0.5"')),
        ("port group member add", lambda: sandbox.nbctl(
            "pg-set-ports", "pg1", "p1", "p5")),
        ("ACL add", lambda: sandbox.nbctl(
            "acl-add", "sw0", "to-lport", "1003", 'outport == "p5" && tcp.dst == 22', "drop")),
    ]
    for what, change in steps:
        change()
        _wait_hv(sandbox)
        stats = sandbox.appctl("controller", "inc-engine/show-stats")
        assert not set(recomputed_nodes(stats)) & set(TRANSLATION), (what, stats)
        assert parse_show_stats(stats)["lflow_output"]["compute"] > 0, what
    procs.wait_until(lambda: _up(sandbox, "p5") and _up(sandbox, "p3"), timeout=30,
                     what="p5 and re-bound p3 up")
    flows = _flows(sandbox)
    # The changes reached the switch: p3's new ofport, p5's ACL, p2 gone.
    assert any("in_port=13" in f for f in flows)
    assert any("tp_dst=22" in f for f in flows)
    assert not any("in_port=2," in f for f in flows)

    sandbox.appctl("controller", "inc-engine/recompute")
    _wait_hv(sandbox)
    assert _flows(sandbox) == flows
