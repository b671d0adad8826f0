"""``pyovn demo`` (the README's main job) passes and leaves nothing behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pyovn.cli.main import main
from pyovn.sandbox.sandbox import Sandbox
from pyovn.sandbox.vm import leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.functional]


def _processes_in(directory: Path) -> list[str]:
    """Live (non-zombie) processes whose command line names ``directory``."""
    out = subprocess.run(["ps", "-eo", "pid,stat,args"], capture_output=True, text=True,
                         check=False).stdout
    return [line for line in out.splitlines()
            if str(directory) in line and line.split()[1][0] != "Z"]


@pytest.mark.parametrize(("northd", "controller"), [
    ("ovn", "ovn"),     # the reference
    ("pyovn", "ovn"),   # interop: real ovn-controller on pyovn-northd's Southbound
    ("pyovn", "pyovn"),  # pyovn alone (the demo's default)
])
def test_demo_pings_blocks_with_acl_and_cleans_up(northd: str, controller: str,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--dir", str(tmp_path / "demo"),
                   "--northd", northd, "--controller", controller])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "[ok] ping passes: 5/5 replies" in out
    assert "[ok] ACL drops: 0/5 replies" in out
    assert "[ok] ping restored: 5/5 replies" in out
    assert _processes_in(tmp_path / "demo") == []
    assert leftovers(Sandbox(tmp_path / "demo")) == []
