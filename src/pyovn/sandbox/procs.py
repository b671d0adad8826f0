"""Start and stop the real Open vSwitch / OVN processes a sandbox is made of.

Every process is started detached with a pidfile, a log file and a unixctl socket inside
the sandbox directory, so that nothing outside it is touched and :func:`stop_daemon` can
always find and stop it: first politely (``ovs-appctl exit``), then SIGTERM, then SIGKILL.
Callers (the sandbox, test fixtures, benchmarks) own the :class:`Daemon` handles and must
stop them; :func:`stop_all_in` is the safety net that stops whatever a directory's
pidfiles still name.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyovn.errors import SandboxError

_PR_SET_CHILD_SUBREAPER = 36

OVN_SCHEMA_DIR = Path("/usr/share/ovn")
OVS_SCHEMA_DIR = Path("/usr/share/openvswitch")
NB_SCHEMA = OVN_SCHEMA_DIR / "ovn-nb.ovsschema"
SB_SCHEMA = OVN_SCHEMA_DIR / "ovn-sb.ovsschema"
VSWITCH_SCHEMA = OVS_SCHEMA_DIR / "vswitch.ovsschema"

#: Debian package that ships each program pyovn runs, so errors can name it.
PROGRAM_PACKAGES: Mapping[str, str] = {
    "ovsdb-server": "openvswitch-common",
    "ovsdb-tool": "openvswitch-common",
    "ovs-appctl": "openvswitch-common",
    "ovs-vsctl": "openvswitch-switch",
    "ovs-ofctl": "openvswitch-common",
    "ovs-vswitchd": "openvswitch-switch",
    "ovn-nbctl": "ovn-common",
    "ovn-sbctl": "ovn-common",
    "ovn-appctl": "ovn-common",
    "ovn-northd": "ovn-central",
    "ovn-controller": "ovn-host",
    "ip": "iproute2",
    "ping": "iputils-ping",
}


def find_program(name: str) -> str:
    """Return the path of ``name`` or raise a :class:`SandboxError` naming its package."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if path is None:
        if name.startswith("pyovn"):
            raise SandboxError(f"{name} not found: install pyovn (./dev setup does)")
        pkg = PROGRAM_PACKAGES.get(name, "?")
        raise SandboxError(
            f"{name} not found: install the Debian package {pkg} (./dev setup does)"
        )
    return path


def ovs_env(rundir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment that points every OVS/OVN tool at ``rundir`` instead of /var/run.

    With it, ``ovs-ofctl dump-flows br-int`` finds ``rundir/br-int.mgmt`` and
    ``ovs-appctl -t ovs-vswitchd`` finds the sandbox's switch.
    """
    env = dict(os.environ if base is None else base)
    for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR",
                "OVN_RUNDIR", "OVN_DBDIR", "OVN_LOGDIR", "OVN_SYSCONFDIR"):
        env[var] = str(rundir)
    return env


def run(argv: Sequence[str], rundir: Path, *, timeout: float = 60.0,
        check: bool = True, input_text: str | None = None) -> str:
    """Run one OVS/OVN command with the sandbox environment; return its stdout.

    Raises :class:`SandboxError` with the command's stderr when it fails and ``check``.
    """
    prog = find_program(argv[0])
    try:
        proc = subprocess.run(
            [prog, *argv[1:]], env=ovs_env(rundir), capture_output=True, text=True,
            timeout=timeout, input=input_text, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"{' '.join(argv)}: no answer within {timeout:g} s") from exc
    if check and proc.returncode != 0:
        raise SandboxError(
            f"{' '.join(argv)} failed (exit {proc.returncode}): {proc.stderr.strip()}"
        )
    return proc.stdout


@dataclass(frozen=True)
class Daemon:
    """A detached process of the sandbox, found through its pidfile and unixctl socket.

    ``ctl_path`` is None for daemons that use OVS's default control socket name,
    ``<rundir>/<name>.<pid>.ctl`` (what ``ovs-appctl -t NAME`` looks for).
    """

    name: str
    pidfile: Path
    ctl_path: Path | None
    logfile: Path

    @property
    def ctl(self) -> Path:
        """The daemon's unixctl socket."""
        if self.ctl_path is not None:
            return self.ctl_path
        # The program's own name, not ours, is in the default: ovn-controller.PID.ctl.
        found = sorted(self.pidfile.parent.glob(f"*.{self.pid()}.ctl"))
        return found[0] if found else self.pidfile.parent / f"{self.name}.{self.pid()}.ctl"

    def pid(self) -> int | None:
        """The pid from the pidfile, or None when there is no pidfile or it is empty."""
        try:
            text = self.pidfile.read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def is_alive(self) -> bool:
        """Whether the pidfile names a process that still exists (and is no zombie)."""
        pid = self.pid()
        return pid is not None and pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` names a live, non-zombie process."""
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
               what: str = "condition") -> None:
    """Poll ``predicate`` every 50 ms until it is true; SandboxError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SandboxError(f"{what} not met within {timeout:g} s")
        time.sleep(0.05)


def become_subreaper() -> bool:
    """Make this process the reaper of the daemons it starts (Linux PR_SET_CHILD_SUBREAPER).

    OVS daemons ``--detach`` by forking, so their parent exits and they are re-parented;
    on machines whose PID 1 does not reap (containers, micro-VMs) they would stay as
    zombies after they stop. A long-lived pyovn process (pytest, ``pyovn demo``) calls
    this once; :func:`stop_daemon` then reaps what it stopped. Returns False where the
    call is not available.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def reap(pid: int, timeout: float = 2.0) -> None:
    """Collect the exit status of ``pid`` if it is our (sub-reaped) child. Never raises."""
    # A multi-threaded daemon's leader shows as a zombie before its other threads have
    # exited, and only then can it be reaped: poll briefly.
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except (ChildProcessError, OSError):
            return  # not our child (no subreaper) or already reaped
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.02)
    return not pid_alive(pid)


def stop_daemon(daemon: Daemon, *, timeout: float = 5.0) -> None:
    """Stop ``daemon``: ``ovs-appctl exit``, then SIGTERM, then SIGKILL. Never raises."""
    pid = daemon.pid()
    if pid is None:
        return
    try:
        _terminate(daemon, pid, timeout)
    finally:
        reap(pid)


def _terminate(daemon: Daemon, pid: int, timeout: float) -> None:
    if not pid_alive(pid):
        return
    if daemon.ctl.exists():
        # A netdev-datapath switch that exits without --cleanup leaves its system tap
        # devices (ovs-netdev, the bridges) behind, and the next switch cannot create them.
        cleanup = ["--cleanup"] if _program(daemon) == "ovs-vswitchd" else []
        with contextlib.suppress(Exception):
            subprocess.run(
                [find_program("ovs-appctl"), "-T", "3", "-t", str(daemon.ctl), "exit",
                 *cleanup],
                capture_output=True, timeout=5, check=False,
            )
        if _wait_gone(pid, timeout / 2):
            return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _wait_gone(pid, timeout / 2):
            return


def stop_all_in(rundir: Path) -> list[str]:
    """Stop every process whose pidfile lies in ``rundir``; return the names stopped."""
    stopped = []
    daemons = [daemon_in(rundir, pidfile.stem) for pidfile in sorted(rundir.glob("*.pid"))]
    # Clients first, database servers last, so nobody logs a lost connection in vain.
    daemons.sort(key=lambda d: _program(d) == "ovsdb-server")
    for daemon in daemons:
        if daemon.is_alive():
            stop_daemon(daemon)
            stopped.append(daemon.name)
    return stopped


def _program(daemon: Daemon) -> str:
    try:
        return Path(f"/proc/{daemon.pid()}/comm").read_text().strip()
    except OSError:
        return ""


def daemon_in(rundir: Path, name: str) -> Daemon:
    """The :class:`Daemon` whose pidfile is ``rundir/NAME.pid`` (running or not)."""
    ctl = rundir / f"{name}.ctl"
    # A daemon started with the default socket name has no NAME.ctl.
    return Daemon(name, rundir / f"{name}.pid", ctl if ctl.exists() else None,
                  rundir / f"{name}.log")


def start_detached(rundir: Path, name: str, argv: Sequence[str],
                   *, env: Mapping[str, str] | None = None,
                   default_ctl: bool = False) -> Daemon:
    """Start an OVS-style daemon (one that understands ``--detach``) named ``name``.

    ``argv`` is the program and its own options; the pidfile, log file, unixctl socket
    and ``--detach`` are added here. With ``default_ctl`` the daemon names its control
    socket itself (``NAME.PID.ctl``, so ``ovs-appctl -t NAME`` finds it). Returns when the
    daemon has detached, i.e. is ready.
    """
    ctl = None if default_ctl else rundir / f"{name}.ctl"
    daemon = Daemon(name, rundir / f"{name}.pid", ctl, rundir / f"{name}.log")
    if daemon.is_alive():
        raise SandboxError(f"{name} is already running in {rundir} (pid {daemon.pid()})")
    full = [find_program(argv[0]), *argv[1:],
            f"--pidfile={daemon.pidfile}", f"--log-file={daemon.logfile}",
            "--detach", "--no-chdir"]
    if ctl is not None:
        full.append(f"--unixctl={ctl}")
    proc = subprocess.run(full, env=dict(env) if env is not None else ovs_env(rundir),
                          capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise SandboxError(f"{name} did not start (exit {proc.returncode}): "
                           f"{proc.stderr.strip() or _log_tail(daemon.logfile)}")
    return daemon


def _log_tail(logfile: Path, lines: int = 5) -> str:
    try:
        return " | ".join(logfile.read_text().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def create_db(rundir: Path, name: str, schema: Path) -> Path:
    """Create ``rundir/name.db`` from ``schema`` (replacing an old one)."""
    if not schema.exists():
        pkg = "openvswitch-common" if schema.parent == OVS_SCHEMA_DIR else "ovn-common"
        raise SandboxError(f"schema {schema} not found: install the Debian package {pkg}")
    db = rundir / f"{name}.db"
    db.unlink(missing_ok=True)
    run(["ovsdb-tool", "create", str(db), str(schema)], rundir)
    return db


@dataclass(frozen=True)
class OvsdbServer:
    """An ``ovsdb-server`` serving one database on a unix socket."""

    daemon: Daemon
    db: Path
    socket: Path

    @property
    def remote(self) -> str:
        """The OVSDB remote clients connect to (``unix:PATH``)."""
        return f"unix:{self.socket}"


def start_ovsdb_server(rundir: Path, name: str, schema: Path) -> OvsdbServer:
    """Create a fresh database from ``schema`` and serve it on ``rundir/name.sock``.

    (Name the Open_vSwitch database ``db``: ``ovs-vsctl`` looks for ``$OVS_RUNDIR/db.sock``.)
    """
    rundir.mkdir(parents=True, exist_ok=True)
    db = create_db(rundir, name, schema)
    sock = rundir / f"{name}.sock"
    daemon = start_detached(rundir, name, ["ovsdb-server", str(db), f"--remote=punix:{sock}"])
    return OvsdbServer(daemon, db, sock)


def start_vswitchd(rundir: Path, ovs_db: OvsdbServer, name: str = "ovs-vswitchd") -> Daemon:
    """Start a userspace ``ovs-vswitchd`` on ``ovs_db``.

    ``--enable-dummy`` (never ``=override``, which turns veths into dummies) with
    ``--disable-system`` gives a switch where ``type=dummy`` test ports and real veths
    both work on ``datapath_type=netdev`` bridges.
    """
    run(["ovs-vsctl", f"--db={ovs_db.remote}", "--no-wait", "init"], rundir)
    return start_detached(
        rundir, name,
        ["ovs-vswitchd", ovs_db.remote, "--enable-dummy", "--disable-system", "-vconsole:off"],
        default_ctl=True,
    )
