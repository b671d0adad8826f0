"""A sandbox for the length of a test: started, and always stopped with nothing left."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig
from pyovn.sandbox.vm import leftovers

__all__ = ["running_sandbox"]


@contextmanager
def running_sandbox(directory: Path, config: SandboxConfig | None = None) -> Iterator[Sandbox]:
    """Start a sandbox in ``directory`` (default config: pyovn's daemons); stop every
    process in it afterwards, even when the body failed, and check that no namespace or
    veth of its VMs is left."""
    procs.become_subreaper()
    box = Sandbox(directory)
    try:
        box.start(config or SandboxConfig())
        yield box
    finally:
        box.stop()
        procs.stop_all_in(box.dir)
    left = leftovers(box)
    assert not left, f"left behind by {directory}: {left}"
