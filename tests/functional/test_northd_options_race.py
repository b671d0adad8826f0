"""pyovn-northd's own NB_Global.options writes never overwrite options a user wrote
meanwhile: the write is verified (TRY_AGAIN and recompute when the row moved on)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig
from pyovn.sandbox.testing import running_sandbox

pytestmark = pytest.mark.functional


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "sb", SandboxConfig(controller="none")) as box:
        box.nbctl("--wait=sb", "sync")
        yield box


def test_user_options_written_while_northd_writes_its_own_survive(sandbox: Sandbox) -> None:
    for round_ in range(16):
        # A fresh northd finds its own keys missing and writes them from its first view
        # of NB_Global, while a user's option is on its way: the race ovn-northd's IDL
        # verify guards against.
        procs.stop_daemon(procs.daemon_in(sandbox.dir, "northd"))
        sandbox.nbctl("clear", "NB_Global", ".", "options")
        sandbox.start_northd("pyovn")
        sandbox.nbctl("set", "NB_Global", ".", f"options:user_key={round_}")
        sandbox.nbctl("--wait=sb", "--timeout=20", "sync", timeout=30)
        options = sandbox.nbctl("get", "NB_Global", ".", "options")
        assert f'user_key="{round_}"' in options, (round_, options)
        assert "svc_monitor_mac" in options, options
