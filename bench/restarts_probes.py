"""The instruments of the ``restarts`` benchmark (:mod:`bench.restarts`) beside
:mod:`pyovn.sandbox.outage`'s: host interface events, a ``--wait=hv`` sync timed in the
background, a restarted ovs-vswitchd that logs its OpenFlow messages from the first one,
and the readers of what they record (pure, unit-tested).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from unittest import mock

from pyovn.errors import SandboxError
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox
from pyovn.sandbox.vconn_log import FlowKey, OpenFlowMod

Figures = dict[str, Any]

#: Everything ``ovs-ofctl add-groups`` / ``add-flows --bundle`` send. A controller's
#: connection always sends something else as well (ovn-controller: the TLV table request,
#: the switch configuration, meter features; pyovn-controller: a flow dump and monitor).
OFCTL_MESSAGES = frozenset({
    "OFPT_HELLO", "OFPT_ECHO_REQUEST", "OFPT_ECHO_REPLY", "OFPT_BARRIER_REQUEST",
    "OFPT_BUNDLE_CONTROL", "OFPT_BUNDLE_ADD_MESSAGE", "OFPT_GROUP_MOD",
    "OFPST_TABLE_FEATURES", "OFPST_PORT_DESC"})
#: The first request of a controller's own synchronisation with a (new) switch:
#: ovn-controller asks for the TLV table, pyovn-controller dumps the flows back.
RESYNC_MESSAGES = frozenset({"NXT_TLV_TABLE_REQUEST", "OFPST_FLOW"})
#: How long the switch's log must stay still after that for the resync to count as done.
RESYNC_QUIET = 1.0
_RECEIVED_RE = re.compile(r"\|vconn\|DBG\|(\S+): received: (\w+)")
#: An entry saying that the vconn rate limit dropped messages (counts are then short).
VCONN_DROPPED_RE = re.compile(r"\|vconn\|\w+\|Dropped \d+ log messages")
_LINK_RE = re.compile(r"^(?:Deleted\s+)?\d+:\s+([^:@\s]+)")


# --- readers -----------------------------------------------------------------------------

def link_events(text: str, ours: Iterable[str]) -> list[str]:
    """The interfaces other than ``ours`` that ``ip -o monitor link`` reported."""
    mine = set(ours)
    names = {m.group(1) for line in text.splitlines() if (m := _LINK_RE.match(line.strip()))}
    return sorted(names - mine)


def ofctl_connections(log_text: str) -> set[str]:
    """The OpenFlow connections of a ``vconn`` debug log that sent nothing but what
    ``ovs-ofctl add-groups`` / ``add-flows --bundle`` send (:data:`OFCTL_MESSAGES`)."""
    sent = _received(log_text, {})
    return {conn for conn, types in sent.items() if types <= OFCTL_MESSAGES}


def _received(log_text: str, into: dict[str, set[str]]) -> dict[str, set[str]]:
    for match in _RECEIVED_RE.finditer(log_text):
        into.setdefault(match.group(1), set()).add(match.group(2))
    return into


def controller_connected(sent: dict[str, set[str]]) -> bool:
    """Whether a controller began synchronising with the switch, given the message
    types each connection sent (see :data:`RESYNC_MESSAGES`)."""
    return any(types & RESYNC_MESSAGES for types in sent.values())


def table_figures(before: dict[FlowKey, str], after: dict[FlowKey, str],
                  sample: int = 5) -> Figures:
    """How br-int's flow table compares after an attempt with before it: sizes, whether
    it is the same, and a few of the flows that differ."""
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return {"flows_before": len(before), "flows_after": len(after),
            "table_restored": not changed, "table_changed": len(changed),
            "table_changed_sample": [
                f"table={table} {match}: {before.get((table, match), '(none)')} -> "
                f"{after.get((table, match), '(none)')}" for table, match in changed[:sample]]}


def mod_figures(mods: Sequence[OpenFlowMod]) -> Figures:
    """flow_mods (and how many of each command), group_mods and meter_mods."""
    commands: dict[str, int] = {}
    for m in mods:
        if m.kind == "flow":
            commands[m.command] = commands.get(m.command, 0) + 1
    return {"flow_mods": sum(1 for m in mods if m.kind == "flow"),
            "group_mods": sum(1 for m in mods if m.kind == "group"),
            "meter_mods": sum(1 for m in mods if m.kind == "meter"),
            "flow_mod_commands": dict(sorted(commands.items()))}


# --- instruments -------------------------------------------------------------------------

class HostLinkMonitor:
    """``ip -o monitor link`` in the host's namespace while it is open: :meth:`stop`
    says which interfaces other than ``ours`` changed meanwhile. Each such event makes
    ovs-vswitchd reconfigure every bridge."""

    def __init__(self, ours: Iterable[str]) -> None:
        self.ours = frozenset(ours)
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> HostLinkMonitor:
        self._proc = subprocess.Popen([procs.find_program("ip"), "-o", "monitor", "link"],
                                      stdout=self._out, stderr=subprocess.DEVNULL)
        return self

    def stop(self) -> list[str]:
        """Stop monitoring; the other interfaces that changed."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        self._out.seek(0)
        return link_events(self._out.read().decode(errors="replace"), self.ours)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._out.close()


class BackgroundSync:
    """``ovn-nbctl --wait=hv sync`` started now; :meth:`wait` returns the
    ``time.monotonic()`` at which it returned (a thread notes it)."""

    def __init__(self, box: Sandbox, timeout: float = 600.0) -> None:
        self.timeout = timeout
        self._proc = subprocess.Popen(
            [procs.find_program("ovn-nbctl"), f"--db={box.nb_remote}",
             f"--timeout={int(timeout)}", "--wait=hv", "sync"],
            env=procs.ovs_env(box.dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._stderr = b""
        self._done: float | None = None
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def __enter__(self) -> BackgroundSync:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._thread.join()

    def _watch(self) -> None:
        self._stderr = self._proc.communicate()[1]
        self._done = time.monotonic()

    def wait(self) -> float:
        """When the sync returned; raises SandboxError when it failed or hung."""
        self._thread.join(self.timeout + 10)
        if self._done is None:
            self._proc.kill()
            self._thread.join()
            raise SandboxError(f"ovn-nbctl --wait=hv sync hung for {self.timeout:g} s")
        if self._proc.returncode != 0:
            raise SandboxError(f"ovn-nbctl --wait=hv sync failed: {self._stderr.decode()}")
        return self._done


@dataclass
class _Split:
    #: Size of ovs-vswitchd's log when the new switch was started (None until then).
    offset: int | None = None


@contextmanager
def vconn_debug_from_start(box: Sandbox) -> Iterator[_Split]:
    """While open, an ovs-vswitchd that the sandbox starts logs ``vconn`` at debug level
    from its very first message, without rate limit (turned off at once after it
    detached), so that the flow_mods a controller sends it on connecting are all logged.

    Sandbox.restart_vswitchd starts the switch through procs.start_detached and takes no
    extra options: the call is wrapped here (what is logged is otherwise unchanged).
    """
    original = procs.start_detached
    split = _Split()
    logfile = procs.daemon_in(box.dir, "ovs-vswitchd").logfile

    def start_detached(rundir: Path, name: str, argv: Sequence[str],
                       **kwargs: Any) -> procs.Daemon:
        if name != "ovs-vswitchd":
            return original(rundir, name, argv, **kwargs)
        split.offset = logfile.stat().st_size if logfile.exists() else 0
        daemon = original(rundir, name, [*argv, "--verbose=vconn:file:dbg"], **kwargs)
        box.appctl(name, "vlog/disable-rate-limit", "vconn")
        return daemon

    with mock.patch.object(procs, "start_detached", start_detached):
        yield split


def wait_controller_resynced(logfile: Path, offset: int, timeout: float = 300.0) -> None:
    """Wait until a controller began its synchronisation with the switch whose log starts
    at ``offset`` of ``logfile`` and the log then stayed still for :data:`RESYNC_QUIET`
    (its flow_mods, if any, are in). A controller may reconnect well after
    ``--wait=hv`` returned and traffic flows (from restored flows)."""
    sent: dict[str, set[str]] = {}
    deadline = time.monotonic() + timeout
    still_since = time.monotonic()
    while True:
        with logfile.open("rb") as log:
            log.seek(offset)
            chunk = log.read()
        complete = chunk.rfind(b"\n") + 1
        now = time.monotonic()
        if complete:
            _received(chunk[:complete].decode(errors="replace"), sent)
            offset += complete
            still_since = now
        if controller_connected(sent) and now - still_since >= RESYNC_QUIET:
            return
        if now > deadline:
            raise SandboxError(f"no controller synchronised with the new switch in {timeout:g} s")
        time.sleep(0.05)
