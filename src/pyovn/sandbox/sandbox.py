"""A throw-away OVN deployment in one directory: the thing ``pyovn sandbox`` manages.

A sandbox is three ``ovsdb-server`` processes (OVN_Northbound ``nb.sock``,
OVN_Southbound ``sb.sock``, Open_vSwitch ``db.sock``), a userspace ``ovs-vswitchd`` with
``br-int`` (``fail-mode=secure``) and the chassis ``external_ids`` an OVN controller reads,
plus a northd and a controller: pyovn's or the real OVN 23.03 ones. Everything lives in
the directory: sockets, databases, pidfiles, logs. ``sandbox.json`` records how it was
started; it is the only state, and losing it loses nothing that matters (stop works from
the pidfiles alone).

The bridge uses ``datapath_type=dummy`` by default: the same userspace datapath code as
``netdev`` (veths of namespace VMs carry traffic through it), but its internal ports are
dummies instead of system tap devices, so sandboxes do not collide with each other or
with a host's own ``br-int``. ``datapath_type=netdev`` is available for who wants it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from pyovn.errors import SandboxError
from pyovn.sandbox import procs

Stack = Literal["pyovn", "ovn", "none"]
STACKS: tuple[Stack, ...] = ("pyovn", "ovn", "none")
STATE_FILE = "sandbox.json"
CHASSIS_NAME = "hv1"
ENCAP_IP = "127.0.0.1"

#: Real ovn-controller must live this long after start to count as started.
OVN_CONTROLLER_SETTLE = 1.0
OVN_CONTROLLER_TRIES = 5

#: Start order; stop order is the reverse.
DAEMON_ORDER = ("nb", "sb", "db", "ovs-vswitchd", "northd", "controller")


@dataclass
class SandboxConfig:
    """How a sandbox was (or is to be) started; saved as ``sandbox.json``."""

    northd: Stack = "pyovn"
    controller: Stack = "pyovn"
    datapath_type: str = "dummy"
    chassis: str = CHASSIS_NAME
    vms: list[str] = field(default_factory=list)


class Sandbox:
    """One sandbox directory and the processes running in it."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory.resolve()
        #: How often real ovn-controller died right after start and was started again.
        self.controller_crashes = 0

    # -- addresses ------------------------------------------------------------------------

    @property
    def nb_remote(self) -> str:
        """OVSDB remote of the Northbound database."""
        return f"unix:{self.dir / 'nb.sock'}"

    @property
    def sb_remote(self) -> str:
        """OVSDB remote of the Southbound database."""
        return f"unix:{self.dir / 'sb.sock'}"

    @property
    def ovs_remote(self) -> str:
        """OVSDB remote of the local Open_vSwitch database."""
        return f"unix:{self.dir / 'db.sock'}"

    def env(self) -> dict[str, str]:
        """Variables that make ovn-nbctl, ovn-sbctl, ovs-vsctl, ovs-ofctl use this sandbox."""
        env = {k: v for k, v in procs.ovs_env(self.dir, {}).items()}
        env["OVN_NB_DB"] = self.nb_remote
        env["OVN_SB_DB"] = self.sb_remote
        env["OVS_DB"] = self.ovs_remote  # informational; ovs-vsctl uses $OVS_RUNDIR/db.sock
        return env

    def export_lines(self) -> str:
        """Shell ``export`` lines for :meth:`env`, to ``eval`` in a shell."""
        return "".join(f"export {k}={v}\n" for k, v in sorted(self.env().items()))

    # -- state ----------------------------------------------------------------------------

    def load_config(self) -> SandboxConfig:
        """The saved configuration, or a default one when there is none."""
        try:
            raw = json.loads((self.dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return SandboxConfig()
        return SandboxConfig(**raw)

    def save_config(self, config: SandboxConfig) -> None:
        """Write ``sandbox.json``."""
        (self.dir / STATE_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")

    def daemons(self) -> list[procs.Daemon]:
        """The daemons this directory's pidfiles name, in start order."""
        found = {p.stem: procs.daemon_in(self.dir, p.stem) for p in self.dir.glob("*.pid")}
        order = {name: i for i, name in enumerate(DAEMON_ORDER)}
        return sorted(found.values(), key=lambda d: (order.get(d.name, 99), d.name))

    def running(self) -> list[procs.Daemon]:
        """The daemons of this sandbox that are alive."""
        return [d for d in self.daemons() if d.is_alive()]

    # -- commands -------------------------------------------------------------------------

    def run(self, argv: Sequence[str], *, timeout: float = 60.0, check: bool = True) -> str:
        """Run an OVS/OVN command line against this sandbox; return its stdout."""
        prog = argv[0]
        extra: list[str] = []
        if prog in ("ovn-nbctl",):
            extra = [f"--db={self.nb_remote}"]
        elif prog in ("ovn-sbctl",):
            extra = [f"--db={self.sb_remote}"]
        elif prog in ("ovs-vsctl",):
            extra = [f"--db={self.ovs_remote}"]
        return procs.run([prog, *extra, *argv[1:]], self.dir, timeout=timeout, check=check)

    def nbctl(self, *args: str, timeout: float = 60.0) -> str:
        """``ovn-nbctl`` on this sandbox's Northbound database."""
        return self.run(["ovn-nbctl", *args], timeout=timeout)

    def sbctl(self, *args: str, timeout: float = 60.0) -> str:
        """``ovn-sbctl`` on this sandbox's Southbound database."""
        return self.run(["ovn-sbctl", *args], timeout=timeout)

    def vsctl(self, *args: str, timeout: float = 60.0) -> str:
        """``ovs-vsctl`` on this sandbox's Open_vSwitch database."""
        return self.run(["ovs-vsctl", *args], timeout=timeout)

    def ofctl(self, *args: str, timeout: float = 60.0) -> str:
        """``ovs-ofctl`` (OpenFlow 1.5) on this sandbox's switch."""
        return self.run(["ovs-ofctl", "-O", "OpenFlow15", *args], timeout=timeout)

    def appctl(self, daemon: str, *args: str, timeout: float = 10.0) -> str:
        """``ovn-appctl`` to one of the sandbox's daemons (``northd``, ``controller`` …)."""
        ctl = procs.daemon_in(self.dir, daemon).ctl
        return procs.run(["ovn-appctl", "-T", f"{timeout:g}", "-t", str(ctl), *args],
                         self.dir, timeout=timeout + 5)

    # -- life cycle -----------------------------------------------------------------------

    def start(self, config: SandboxConfig) -> None:
        """Create fresh databases and start every process; refuse if already running.

        On failure, whatever was started is stopped again before the error propagates.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        alive = self.running()
        if alive:
            names = ", ".join(f"{d.name} (pid {d.pid()})" for d in alive)
            raise SandboxError(
                f"a sandbox is already running in {self.dir}: {names}; "
                f"stop it first with: pyovn sandbox stop --dir {self.dir}"
            )
        for stack, what in ((config.northd, "northd"), (config.controller, "controller")):
            if stack not in STACKS:
                raise SandboxError(f"--{what}={stack}: expected one of {', '.join(STACKS)}")
        try:
            self._start(config)
        except BaseException:
            self.stop()
            raise

    def _start(self, config: SandboxConfig) -> None:
        for name in ("nb", "sb", "db"):
            for stale in (f"{name}.sock", f"{name}.ctl"):
                (self.dir / stale).unlink(missing_ok=True)
        procs.start_ovsdb_server(self.dir, "nb", procs.NB_SCHEMA)
        procs.start_ovsdb_server(self.dir, "sb", procs.SB_SCHEMA)
        self.run(["ovn-nbctl", "--no-wait", "init"])
        self.run(["ovn-sbctl", "init"])
        ovs_db = procs.start_ovsdb_server(self.dir, "db", procs.VSWITCH_SCHEMA)
        procs.start_vswitchd(self.dir, ovs_db)
        self.vsctl(
            "--", "add-br", "br-int",
            "--", "set", "Bridge", "br-int", f"datapath_type={config.datapath_type}",
            "fail-mode=secure", "other-config:disable-in-band=true",
            "--", "set", "Open_vSwitch", ".",
            f"external_ids:system-id={config.chassis}",
            f"external_ids:ovn-remote={self.sb_remote}",
            "external_ids:ovn-encap-type=geneve",
            f"external_ids:ovn-encap-ip={ENCAP_IP}",
            "external_ids:ovn-bridge=br-int",
            f"external_ids:ovn-bridge-datapath-type={config.datapath_type}",
        )
        self.save_config(config)
        self.start_northd(config.northd)
        self.start_controller(config.controller)

    def start_northd(self, stack: Stack) -> procs.Daemon | None:
        """Start pyovn-northd or ovn-northd (named ``northd`` in the directory)."""
        if stack == "none":
            return None
        prog = "ovn-northd" if stack == "ovn" else pyovn_program("pyovn-northd")
        return procs.start_detached(
            self.dir, "northd",
            [prog, f"--ovnnb-db={self.nb_remote}", f"--ovnsb-db={self.sb_remote}"],
        )

    def start_controller(self, stack: Stack) -> procs.Daemon | None:
        """Start pyovn-controller or ovn-controller (named ``controller``)."""
        if stack == "none":
            return None
        if stack == "pyovn":
            return procs.start_detached(
                self.dir, "controller", [pyovn_program("pyovn-controller"), self.ovs_remote])
        # ovn-controller 23.03 has no --unixctl option: it names its socket itself.
        # Debian's 23.03.1 sometimes segfaults within a second of start-up: start it again.
        for _ in range(OVN_CONTROLLER_TRIES):
            daemon = procs.start_detached(self.dir, "controller",
                                          ["ovn-controller", self.ovs_remote], default_ctl=True)
            deadline = time.monotonic() + OVN_CONTROLLER_SETTLE
            while daemon.is_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if daemon.is_alive():
                return daemon
            self.controller_crashes += 1
            pid = daemon.pid()
            if pid is not None:
                procs.reap(pid)
        raise SandboxError(f"ovn-controller died {self.controller_crashes} times at start-up;"
                           f" see {self.dir / 'controller.log'}")

    def restart_vswitchd(self, *, restore_flows: bool = False, timeout: float = 30.0) -> None:
        """Restart ``ovs-vswitchd`` as ``ovs-ctl restart`` does.

        With ``restore_flows`` (``ovs-ctl --save-flows``): every bridge's groups and
        flows are saved, ``other_config:flow-restore-wait`` is set while the new switch
        starts, the saved groups and flows are added back (one bundle), and the key is
        removed.  Without it the new switch starts with empty tables.
        """
        saved: dict[str, tuple[str, str]] = {}
        if restore_flows:
            for bridge in self.vsctl("list-br").split():
                of = ("-O", "OpenFlow15")
                flows = self.ofctl(*of, "dump-flows", "--no-names", "--no-stats", bridge)
                groups = self.ofctl(*of, "dump-groups", bridge)
                saved[bridge] = (
                    "".join(f"{line.strip()}\n" for line in flows.splitlines()
                            if "actions=" in line),
                    "".join(f"{line.strip()}\n" for line in groups.splitlines()
                            if "group_id=" in line))
        procs.stop_daemon(procs.daemon_in(self.dir, "ovs-vswitchd"))
        for stale in self.dir.glob("*.mgmt"):  # left behind if it had to be killed
            stale.unlink(missing_ok=True)
        if restore_flows:
            self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                       "other_config:flow-restore-wait=true")
        procs.start_vswitchd(self.dir, procs.OvsdbServer(
            procs.daemon_in(self.dir, "db"), self.dir / "db.db", self.dir / "db.sock"))
        for bridge in self.vsctl("list-br").split():
            mgmt = self.dir / f"{bridge}.mgmt"
            procs.wait_until(mgmt.exists, timeout=timeout, what=f"{bridge}'s management socket")
        if restore_flows:
            for bridge, (flows, groups) in saved.items():
                for kind, text in (("groups", groups), ("flows", flows)):
                    path = self.dir / f"saved-{kind}-{bridge}.txt"
                    path.write_text(text)
                    bundle = ["--bundle"] if kind == "flows" else []
                    self.ofctl("-O", "OpenFlow15", f"add-{kind}", *bundle, bridge, str(path))
            self.vsctl("--no-wait", "remove", "Open_vSwitch", ".", "other_config",
                       "flow-restore-wait")

    def stop(self) -> list[str]:
        """Stop every process and remove the namespace VMs; return what was stopped."""
        from pyovn.sandbox.vm import remove_all_vms  # vm imports this module

        removed = remove_all_vms(self)
        stopped: list[str] = []
        for daemon in reversed(self.daemons()):
            if daemon.is_alive():
                procs.stop_daemon(daemon)
                stopped.append(daemon.name)
        return [*stopped, *(f"vm {name}" for name in removed)]

    def status(self) -> str:
        """A human-readable table of the sandbox's processes."""
        config = self.load_config()
        lines = [f"sandbox {self.dir} (northd={config.northd}, controller={config.controller},"
                 f" datapath_type={config.datapath_type})"]
        daemons = self.daemons()
        if not daemons:
            lines.append("  nothing was started here")
        for d in daemons:
            state = "running" if d.is_alive() else "stopped"
            lines.append(f"  {d.name:<14} pid {d.pid() or '-':<8} {state:<8} log {d.logfile}")
        for vm in config.vms:
            lines.append(f"  vm {vm}")
        return "\n".join(lines)


def pyovn_program(name: str) -> str:
    """The path of a pyovn console script: next to this interpreter, else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists() and os.access(candidate, os.X_OK):
        return str(candidate)
    return procs.find_program(name)
