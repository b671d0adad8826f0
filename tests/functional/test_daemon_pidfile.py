"""The locked pidfile across real processes: live owners refuse, dead ones are replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pyovn.daemon import DaemonError, pidfile_owner
from pyovn.daemon.process import Pidfile

pytestmark = pytest.mark.functional

HOLDER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from pyovn.daemon.process import Pidfile\n"
    "pidfile = Pidfile.create(Path(sys.argv[1]))\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
)


@contextmanager
def holder(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds ``path`` as its pidfile until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_pidfile_holds_our_pid_and_is_seen_locked_by_others(tmp_path: Path) -> None:
    path = tmp_path / "d.pid"
    pidfile = Pidfile.create(path)
    try:
        # Read from another process: opening the file here would drop our own lock
        # (fcntl locks die with any descriptor of the file the process closes).
        check = subprocess.run(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; from pyovn.daemon import pidfile_owner;"
             " p = Path(sys.argv[1]); print(pidfile_owner(p), p.read_text().strip())",
             str(path)],
            capture_output=True, text=True, check=True, timeout=30)
        assert check.stdout.split() == [str(os.getpid())] * 2
        assert pidfile_owner(path) == os.getpid()
    finally:
        pidfile.remove()
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_live_owner_makes_a_second_start_fail_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "d.pid"
    with holder(path) as proc:
        with pytest.raises(DaemonError, match=rf"{path}: already running as pid {proc.pid}"):
            Pidfile.create(path)
        assert pidfile_owner(path) == proc.pid
        assert path.read_text() == f"{proc.pid}\n"
    assert list(tmp_path.iterdir()) == [path]


def test_pidfile_of_a_killed_owner_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "d.pid"
    with holder(path) as proc:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert path.exists()
    assert pidfile_owner(path) is None
    pidfile = Pidfile.create(path)
    try:
        assert path.read_text() == f"{os.getpid()}\n"
    finally:
        pidfile.remove()


def test_unlocked_pidfile_naming_a_live_pid_is_stale(tmp_path: Path) -> None:
    # A recycled pid must not block a restart: only the lock proves a live owner.
    path = tmp_path / "d.pid"
    path.write_text(f"{os.getppid()}\n")
    assert pidfile_owner(path) is None
    pidfile = Pidfile.create(path)
    pidfile.remove()


def test_overwrite_takes_the_pidfile_even_from_a_live_owner(tmp_path: Path) -> None:
    path = tmp_path / "d.pid"
    with holder(path):
        pidfile = Pidfile.create(path, overwrite=True)
        try:
            assert path.read_text() == f"{os.getpid()}\n"
        finally:
            pidfile.remove()


def test_remove_leaves_a_pidfile_that_is_no_longer_ours(tmp_path: Path) -> None:
    path = tmp_path / "d.pid"
    pidfile = Pidfile.create(path)
    path.unlink()
    path.write_text("12345\n")
    pidfile.remove()
    pidfile.remove()
    assert path.read_text() == "12345\n"


def test_missing_pidfile_has_no_owner_and_a_bad_directory_is_reported(tmp_path: Path) -> None:
    assert pidfile_owner(tmp_path / "none.pid") is None
    with pytest.raises(DaemonError, match="create failed"):
        Pidfile.create(tmp_path / "no-such-dir" / "d.pid")
