"""Measuring what a control-plane event costs the data plane and the switch.

Two instruments, used together around a restart (of a controller, of the switch):

- :class:`BackgroundPing` runs ``ping -D -i 0.01`` from one namespace VM to another
  while something happens, and :meth:`~BackgroundPing.stop` returns
  :class:`PingStats`: packets sent, answered and lost, the longest run of unanswered
  requests, and the longest time without a reply (the outage as an application sees it).
- :class:`OpenFlowModCounter` counts the flow_mods, group_mods and meter_mods that
  ``ovs-vswitchd`` received over an interval, those inside bundles included. Open
  vSwitch 3.1 has no coverage counter for them (``ofproto_recv_openflow`` counts every
  message), and connmgr's "N flow_mods in the last S s" summary is logged up to 10 s late
  and leaves group_mods out; so the counter turns on ``vconn`` debug logging for the
  interval and reads the log (:mod:`~pyovn.sandbox.vconn_log`). It also reports whether
  the switch reconfigured meanwhile (:attr:`OpenFlowMods.switch_reconfigured`): with
  thousands of ports a reconfiguration, which any host interface event triggers, stalls
  the switch's forwarding of userspace ports long enough to lose packets.

:func:`add_bound_ports` creates many logical switch ports at once and binds each to a
``type=dummy`` interface of ``br-int`` — the scale behind the figures — with few
``ovn-nbctl`` and ``ovs-vsctl`` invocations. :func:`flow_table` reads ``dump-flows`` as
``{(table, match): "cookie=C actions=A"}``, to compare a table before and after an event
with the flow_mods the event caused.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

from pyovn.errors import SandboxError
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox
from pyovn.sandbox.vconn_log import (
    FlowKey,
    OpenFlowMod,
    OpenFlowMods,
    flow_key,
    parse_dump_flows,
    parse_vswitchd_log,
)
from pyovn.sandbox.vm import Vm

__all__ = [
    "COVERAGE_COUNTERS",
    "BackgroundPing",
    "FlowKey",
    "OpenFlowMod",
    "OpenFlowModCounter",
    "OpenFlowMods",
    "PingStats",
    "add_bound_ports",
    "batched",
    "flow_key",
    "flow_table",
    "parse_dump_flows",
    "parse_ping",
    "parse_vswitchd_log",
]

_REPLY_RE = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+) ")
_SUMMARY_RE = re.compile(r"(\d+) packets transmitted, (\d+) received")
_TIME_RE = re.compile(r"packet loss, time (\d+)ms")
_SEQ_MOD = 1 << 16


# -- ping -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PingStats:
    """What a background ping saw.

    ``lost`` does not count the requests still in flight when ping was stopped
    (``in_flight``: unanswered requests at the very end, at most ``grace`` seconds' worth);
    ``max_gap_ms`` is the longest time between two consecutive replies, i.e. the outage
    an application saw (about the interval when nothing happened), ``gap_end`` when
    (seconds since the epoch, from ``ping -D``) the reply that ended it came, and
    ``longest_loss_run`` the most consecutive requests that got no reply.
    """

    interval: float
    transmitted: int
    received: int
    in_flight: int
    lost: int
    longest_loss_run: int
    max_gap_ms: float
    duration_s: float
    missing: tuple[tuple[int, int], ...] = ()
    output: str = field(default="", repr=False)
    gap_end: float | None = None

    @property
    def loss_outage_ms(self) -> float:
        """The longest run of lost requests, in milliseconds of sending time."""
        per_packet = self.duration_s / self.transmitted if self.transmitted else self.interval
        return self.longest_loss_run * max(per_packet, self.interval) * 1000

    def summary(self) -> str:
        """One line for logs and reports."""
        return (f"{self.transmitted} sent, {self.received} received, {self.lost} lost "
                f"(longest run {self.longest_loss_run}), longest gap between replies "
                f"{self.max_gap_ms:.0f} ms over {self.duration_s:.1f} s")


def parse_ping(output: str, interval: float, grace: float = 0.2) -> PingStats:
    """Read the output of ``ping -n -D -i INTERVAL`` ended by SIGINT.

    icmp_seq is 16 bits and wraps; replies are unwrapped in arrival order. Duplicates
    are ignored. Raises :class:`SandboxError` when the output has no summary line.
    """
    summary = _SUMMARY_RE.search(output)
    if summary is None:
        raise SandboxError(f"ping gave no summary: {output[-300:].strip()!r}")
    transmitted = int(summary.group(1))
    seen: set[int] = set()
    times: list[float] = []
    last = 0
    for line in output.splitlines():
        match = _REPLY_RE.match(line)
        if match is None or line.endswith("(DUP!)"):
            continue
        raw = int(match.group(2))
        seq = last - last % _SEQ_MOD + raw
        if seq < last - _SEQ_MOD // 2:
            seq += _SEQ_MOD
        last = max(last, seq)
        if seq not in seen:
            seen.add(seq)
            times.append(float(match.group(1)))
    received = len(seen)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    longest = max(range(len(gaps)), key=gaps.__getitem__, default=None)
    # Requests after the last reply: in flight if few, an outage if many.
    trailing = max(0, transmitted - max(seen, default=0))
    in_flight = min(trailing, max(1, math.ceil(grace / interval)))
    missing = _runs(n for n in range(1, transmitted - in_flight + 1) if n not in seen)
    time_match = _TIME_RE.search(output)
    duration = int(time_match.group(1)) / 1000 if time_match else transmitted * interval
    return PingStats(
        interval=interval, transmitted=transmitted, received=received, in_flight=in_flight,
        lost=max(0, transmitted - received - in_flight),
        longest_loss_run=max((b - a + 1 for a, b in missing), default=0),
        max_gap_ms=max(gaps, default=0.0) * 1000, duration_s=duration,
        missing=tuple(missing), output=output,
        gap_end=times[longest + 1] if longest is not None else None)


def _runs(numbers: Iterator[int]) -> list[tuple[int, int]]:
    """Ascending numbers as inclusive ranges."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


class BackgroundPing:
    """``ping -n -D -i INTERVAL DST`` inside ``vm``'s namespace, from :meth:`start` to
    :meth:`stop`; also a context manager (stops on exit, even on error)."""

    def __init__(self, vm: Vm, dst: str, *, interval: float = 0.01,
                 output: Path | None = None) -> None:
        self.vm = vm
        self.dst = dst.split("/")[0]
        self.interval = interval
        self.output = output
        self._proc: subprocess.Popen[bytes] | None = None
        self._path: Path | None = None

    @property
    def running(self) -> bool:
        """Whether the ping process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start pinging (sub-0.2 s intervals need root, as the e2e tests have)."""
        if self._proc is not None:
            raise SandboxError("this background ping was already started")
        if self.output is None:
            fd, name = tempfile.mkstemp(prefix="pyovn-ping-", suffix=".out")
            self._path = Path(name)
            with open(fd, "wb"):
                pass
        else:
            self._path = self.output
        argv = [procs.find_program("ip"), "netns", "exec", self.vm.netns,
                procs.find_program("ping"), "-n", "-D", "-i", f"{self.interval:g}", self.dst]
        with self._path.open("wb") as out:
            # ip netns exec execs ping: SIGINT to this pid reaches ping itself.
            self._proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def replies(self) -> int:
        """Replies so far (iputils flushes each line)."""
        if self._path is None:
            return 0
        text = self._path.read_text(errors="replace")
        return sum(1 for line in text.splitlines() if _REPLY_RE.match(line))

    def wait_replies(self, count: int = 20, timeout: float = 10.0) -> None:
        """Wait until ``count`` replies came back (connectivity is there to begin with)."""
        procs.wait_until(lambda: self.replies() >= count or not self.running, timeout,
                         f"{count} ping replies from {self.dst}")
        if not self.running:
            raise SandboxError(f"ping from {self.vm.name} exited: {self._read()[-300:]!r}")

    def stop(self, grace: float = 0.2) -> PingStats:
        """Stop ping (SIGINT, so it prints its summary) and return what it saw."""
        proc = self._proc
        if proc is None:
            raise SandboxError("this background ping was not started")
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        text = self._read()
        if self.output is None and self._path is not None:
            self._path.unlink(missing_ok=True)
        return parse_ping(text, self.interval, grace)

    def _read(self) -> str:
        return self._path.read_text(errors="replace") if self._path is not None else ""

    def __enter__(self) -> BackgroundPing:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if self.output is None and self._path is not None:
            self._path.unlink(missing_ok=True)


# -- OpenFlow modifications received by ovs-vswitchd ----------------------------------------

#: Coverage counters :class:`OpenFlowModCounter` reports the growth of: bridge
#: reconfigurations, and the host interface (rtnetlink) events that trigger them.
COVERAGE_COUNTERS = ("bridge_reconfigure", "nln_changed")

class OpenFlowModCounter:
    """Counts the OpenFlow modifications a sandbox's ovs-vswitchd receives from
    :meth:`start` to :meth:`stop` (also a context manager; read :attr:`result`).

    While it counts, ovs-vswitchd logs every OpenFlow message it sends or receives,
    which costs it time in proportion to the messages (a flow dump is printed whole);
    the previous ``vconn`` file level and rate limiting are restored at the end.
    """

    def __init__(self, sandbox: Sandbox, daemon: str = "ovs-vswitchd",
                 counters: Sequence[str] = COVERAGE_COUNTERS) -> None:
        self.sandbox = sandbox
        self.daemon = daemon
        self.counters = tuple(counters)
        self._coverage: dict[str, int] = {}
        self.logfile = procs.daemon_in(sandbox.dir, daemon).logfile
        self.result: OpenFlowMods | None = None
        self._offset: int | None = None
        self._level = "info"
        self._rate_limited = True

    def _appctl(self, *args: str) -> str:
        return self.sandbox.appctl(self.daemon, *args)

    def start(self) -> None:
        """Turn on vconn debug logging and remember where the log ends."""
        for line in self._appctl("vlog/list").splitlines():
            words = line.split()
            if words[:1] == ["vconn"] and len(words) >= 4:
                self._level = words[3].lower()
                self._rate_limited = "disabled" not in line
        self._coverage = self._read_coverage()
        self._offset = self.logfile.stat().st_size
        self._appctl("vlog/disable-rate-limit", "vconn")
        self._appctl("vlog/set", "vconn:file:dbg")

    def stop(self) -> OpenFlowMods:
        """Restore the logging, read what was logged since :meth:`start`, count."""
        if self._offset is None:
            raise SandboxError("the OpenFlow modification counter was not started")
        after = self._read_coverage()
        coverage = {c: after[c] - self._coverage.get(c, 0) for c in self.counters}
        self._appctl("vlog/set", f"vconn:file:{self._level}")
        if self._rate_limited:
            self._appctl("vlog/enable-rate-limit", "vconn")
        # ovs-vswitchd writes its log from another thread: let it catch up.
        size, deadline = -1, time.monotonic() + 10
        while size != (size := self.logfile.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.1)
        with self.logfile.open("rb") as log:
            log.seek(self._offset)
            text = log.read().decode(errors="replace")
        self._offset = None
        self.result = replace(parse_vswitchd_log(text), coverage=coverage)
        return self.result

    def _read_coverage(self) -> dict[str, int]:
        return {c: int(self._appctl("coverage/read-counter", c).strip() or 0)
                for c in self.counters}

    def __enter__(self) -> OpenFlowModCounter:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._offset is not None:
            if exc is None:
                self.stop()
            else:
                with contextlib.suppress(SandboxError):  # keep the original error
                    self.stop()


def flow_table(sandbox: Sandbox, bridge: str = "br-int") -> dict[FlowKey, str]:
    """``dump-flows`` of ``bridge`` as {(table, match): "cookie=C actions=A"}
    (:func:`~pyovn.sandbox.vconn_log.parse_dump_flows`)."""
    return parse_dump_flows(sandbox.ofctl("dump-flows", bridge, "--no-stats"))


# -- many bound ports ---------------------------------------------------------------------

def add_bound_ports(sandbox: Sandbox, n_ports: int, *, switches: int = 4,
                    prefix: str = "lp", batch: int = 1000,
                    timeout: float = 600.0) -> list[str]:
    """Create ``n_ports`` logical switch ports (MAC and IPv4 each) spread over switches
    ``{prefix}sw0..`` and bind each to a ``type=dummy`` interface of br-int; return their
    names. Returns once every port is bound to a chassis in the Southbound.

    Few invocations, since each ``ovs-vsctl`` transaction makes ovs-vswitchd reconfigure
    every port: ``batch`` ports per ``ovn-nbctl`` and per ``ovs-vsctl`` run.
    """
    if not 0 < switches <= 100:
        raise SandboxError(f"switches={switches}: expected 1..100")
    names = [f"{prefix}{i}" for i in range(n_ports)]
    nb: list[list[str]] = [["--may-exist", "ls-add", f"{prefix}sw{s}"] for s in range(switches)]
    for i, name in enumerate(names):
        s, j = i % switches, i // switches
        mac = f"0a:{s:02x}:00:{j >> 16 & 255:02x}:{j >> 8 & 255:02x}:{j & 255:02x}"
        ip = f"10.{100 + s}.{j // 250}.{j % 250 + 1}"
        nb.append(["lsp-add", f"{prefix}sw{s}", name])
        nb.append(["lsp-set-addresses", name, f"{mac} {ip}"])
    for argv in batched(nb, 2 * batch):
        sandbox.nbctl(*argv, timeout=timeout)
    ovs = [["add-port", "br-int", name, "--", "set", "Interface", name, "type=dummy",
            f"external_ids:iface-id={name}"] for name in names]
    for argv in batched(ovs, batch):
        # --no-wait: ovs-vswitchd then reconfigures once for several batches.
        sandbox.vsctl("--no-wait", *argv, timeout=timeout)
    procs.wait_until(lambda: _bound(sandbox, prefix) >= n_ports, timeout,
                     f"{n_ports} ports bound")
    return names


def _bound(sandbox: Sandbox, prefix: str) -> int:
    out = sandbox.sbctl("--bare", "--columns=logical_port", "find", "Port_Binding",
                        "chassis!=[]")
    return sum(1 for name in out.split() if name.startswith(prefix))


def batched(commands: Sequence[Sequence[str]], per_call: int) -> Iterator[list[str]]:
    """``ovn-nbctl`` / ``ovs-vsctl`` arguments running ``commands`` ``per_call`` at a time,
    each call one transaction."""
    for start in range(0, len(commands), per_call):
        argv: list[str] = []
        for command in commands[start:start + per_call]:
            argv += ["--", *command] if argv else command
        yield argv
