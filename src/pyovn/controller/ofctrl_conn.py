"""ofctrl's I/O edge: the OpenFlow connection to a bridge's management socket.

:class:`SwitchConnection` owns a non-blocking unix socket and an
:class:`~pyovn.openflow.OFConnection` (the sans-I/O codec). It connects, sends HELLO,
answers echo requests, probes an idle peer when asked to, reconnects when the switch
goes away — every ``min_backoff`` while nothing listens at the path (``ovs-vswitchd``
restarting is the common case: its socket appears only once its ports are configured,
and every moment between that and the connection is outage), with an exponential
back-off after other failures — buffers what the socket cannot take yet
(:attr:`~SwitchConnection.backlog`), and hands every other message to its caller.
It plugs into ``ovs.poller`` like everything else in the daemon: :meth:`run` does what
is possible now, :meth:`wait` says what would make more possible.

:func:`read_switch` is the blocking counterpart for one-off questions (``ofctrl/audit``,
benchmarks): a second connection that dumps the flows, groups and meters.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import ovs.poller

from pyovn.controller.ofctrl_meters import MeterConfigReply, MeterConfigRequest, MeterEntry
from pyovn.daemon import RateLimitedLogger
from pyovn.openflow import (
    BarrierReply,
    BarrierRequest,
    EchoReply,
    EchoRequest,
    Flow,
    FlowStatsReply,
    FlowStatsRequest,
    GroupDescReply,
    GroupDescRequest,
    GroupEntry,
    Hello,
    Message,
    OFConnection,
    OpenFlowDecodeError,
    RemoteProtocolError,
)
from pyovn.openflow import State as OFState

log = logging.getLogger("pyovn.controller.ofctrl")

_READ_CHUNK = 1 << 18
_READ_BUDGET = 64 << 20  # per run(): a 40k-flow dump is ~8 MB; keep other work going


#: connect() errors that mean no switch listens at the path (absent, or a stale socket).
_SWITCH_ABSENT = frozenset({errno.ENOENT, errno.ECONNREFUSED})


def mgmt_path(bridge: str, rundir: str | Path | None = None) -> str:
    """``<OVS_RUNDIR>/<bridge>.mgmt``: the socket ovn-controller talks to."""
    base = rundir if rundir is not None else os.environ.get("OVS_RUNDIR", "/var/run/openvswitch")
    return str(Path(base) / f"{bridge}.mgmt")


class ConnState(Enum):
    """Where a :class:`SwitchConnection` is."""

    BACKOFF = "backoff"          # not connected; next attempt at ``retry_at``
    HANDSHAKE = "handshake"      # socket open, HELLO sent, waiting for the peer's
    CONNECTED = "connected"      # OpenFlow 1.5 negotiated


class SwitchConnection:
    """A reconnecting OpenFlow 1.5 connection to ``path`` (a unix socket).

    ``seqno`` counts established connections: when it changes, everything the caller
    knew about the switch may be stale.
    """

    def __init__(self, path: str, *, clock: Callable[[], float] = time.monotonic,
                 min_backoff: float = 0.05, max_backoff: float = 1.0,
                 probe_interval: float = 0.0) -> None:
        self.path = path
        self.clock = clock
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.probe_interval = probe_interval
        self.state = ConnState.BACKOFF
        self.seqno = 0
        self.of = OFConnection()
        self._sock: socket.socket | None = None
        self._out = bytearray()
        self._out_pos = 0
        self._backoff = min_backoff
        self._retry_at = clock()
        self._last_rx = clock()
        self._probe_sent = False
        self._rl = RateLimitedLogger(log)

    # -- public --------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether OpenFlow 1.5 is negotiated."""
        return self.state is ConnState.CONNECTED

    @property
    def backlog(self) -> int:
        """Bytes queued but not yet taken by the socket."""
        return len(self._out) - self._out_pos

    def send(self, data: bytes) -> None:
        """Queue ``data`` (complete messages) and write what the socket takes now."""
        if self._sock is None:
            return
        self._out += data
        self._flush()

    def send_message(self, message: Message) -> int:
        """Queue ``message`` with a fresh xid; return the xid."""
        xid, data = self.of.send_with_xid(message)
        self.send(data)
        return xid

    def set_path(self, path: str) -> None:
        """Connect to ``path`` from now on (reconnecting if it differs)."""
        if path != self.path:
            self.path = path
            self.disconnect("bridge changed", backoff=False)

    def run(self) -> list[Message]:
        """Connect, write, read; return the messages received (HELLO and echo are
        handled here)."""
        if self._sock is None:
            if self.clock() >= self._retry_at:
                self._connect()
            if self._sock is None:
                return []
        self._flush()
        messages = self._read()
        if self._sock is not None and self.probe_interval > 0:
            self._probe()
        return messages

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Wake for input, for room to write, or at the next attempt or probe."""
        now = self.clock()
        if self._sock is None:
            poller.timer_wait(max(0, int((self._retry_at - now) * 1000)) + 1)
            return
        events = select.POLLIN
        if self.backlog:
            events |= select.POLLOUT
        poller.fd_wait(self._sock.fileno(), events)
        if self.probe_interval > 0:
            due = self._last_rx + self.probe_interval * (2 if self._probe_sent else 1)
            poller.timer_wait(max(0, int((due - now) * 1000)) + 1)

    def disconnect(self, reason: str, *, backoff: bool = True) -> None:
        """Close the socket; try again after the back-off (at once with ``backoff``
        False)."""
        if self._sock is not None:
            log.info("%s: disconnected (%s)", self.path, reason)
            self._sock.close()
            self._sock = None
        self.state = ConnState.BACKOFF
        self._out = bytearray()
        self._out_pos = 0
        self._retry_at = self.clock() + (self._backoff if backoff else 0.0)
        if backoff:
            self._backoff = min(self._backoff * 2, self.max_backoff)

    def close(self) -> None:
        """Close for good (until the next :meth:`run`)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self.state = ConnState.BACKOFF

    # -- internals -----------------------------------------------------------------------
    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            self._rl.info(("connect", exc.errno), "%s: connection failed (%s)", self.path,
                          exc.strerror or exc)
            if exc.errno in _SWITCH_ABSENT:
                # No switch listens (yet): ovs-vswitchd (re)starting creates the socket
                # only once it has configured its ports, and the sooner we see it the
                # sooner the flows are back. Trying again costs one syscall.
                self._retry_at = self.clock() + self.min_backoff
                return
            self._retry_at = self.clock() + self._backoff
            self._backoff = min(self._backoff * 2, self.max_backoff)
            return
        self._sock = sock
        self.of = OFConnection()
        self.state = ConnState.HANDSHAKE
        self._last_rx = self.clock()
        self._probe_sent = False
        self.send(self.of.hello())

    def _flush(self) -> None:
        sock = self._sock
        if sock is None:
            return
        view = memoryview(self._out)
        while self._out_pos < len(self._out):
            try:
                sent = sock.send(view[self._out_pos:self._out_pos + (4 << 20)])
            except BlockingIOError:
                break
            except OSError as exc:
                view.release()
                self.disconnect(f"send failed: {exc.strerror or exc}")
                return
            self._out_pos += sent
        view.release()
        if self._out_pos == len(self._out):
            self._out = bytearray()
            self._out_pos = 0
        elif self._out_pos > (16 << 20):
            del self._out[:self._out_pos]
            self._out_pos = 0

    def _read(self) -> list[Message]:
        messages: list[Message] = []
        budget = _READ_BUDGET
        while self._sock is not None and budget > 0:
            try:
                data = self._sock.recv(_READ_CHUNK)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                self.disconnect(f"receive failed: {exc.strerror or exc}")
                break
            budget -= len(data)
            self._last_rx = self.clock()
            self._probe_sent = False
            self.of.receive_data(data)
            self._collect(messages)
            if not data:
                was_connected = self.connected
                self.disconnect("connection closed by the switch", backoff=not was_connected)
                if was_connected:
                    self._backoff = self.min_backoff
                    # ovs-vswitchd restarting: its new socket appears shortly.
                    self._retry_at = self.clock() + self.min_backoff
        return messages

    def _collect(self, messages: list[Message]) -> None:
        while True:
            try:
                message = self.of.next_event()
            except OpenFlowDecodeError as exc:
                self._rl.warning("decode", "%s: could not decode a message: %s", self.path, exc)
                continue
            except RemoteProtocolError as exc:
                if exc.data_to_send and self._sock is not None:
                    self._out += exc.data_to_send
                    self._flush()
                self.disconnect(str(exc))
                return
            if message is None:
                break
            if self.state is ConnState.HANDSHAKE and self.of.state is OFState.ESTABLISHED:
                self.state = ConnState.CONNECTED
                self.seqno += 1
                self._backoff = self.min_backoff
                log.info("%s: connected (OpenFlow 1.5)", self.path)
            if isinstance(message, EchoRequest):
                self.send(self.of.echo_reply(message))
            elif not isinstance(message, EchoReply | Hello) and self.connected:
                messages.append(message)

    def _probe(self) -> None:
        idle = self.clock() - self._last_rx
        if self._probe_sent and idle >= 2 * self.probe_interval:
            self.disconnect(f"no response to inactivity probe after {idle:.1f} s")
        elif not self._probe_sent and idle >= self.probe_interval and self.connected:
            self._probe_sent = True
            self.send_message(EchoRequest(b"probe"))


@dataclass(frozen=True)
class SwitchState:
    """A bridge's flows, groups and meters at one moment, and how long reading took."""

    flows: tuple[Flow, ...]
    groups: tuple[GroupEntry, ...]
    meters: tuple[MeterEntry, ...]
    seconds: float


def read_switch(path: str, timeout: float = 10.0) -> SwitchState:
    """Dump the flows, groups and meters of the bridge at ``path`` over a new, blocking
    connection. Raises OSError (no switch) or TimeoutError."""
    start = time.monotonic()
    of = OFConnection()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(of.hello())
        fxid, fdata = of.send_with_xid(FlowStatsRequest())
        gxid, gdata = of.send_with_xid(GroupDescRequest())
        mxid, mdata = of.send_with_xid(MeterConfigRequest())
        bxid, bdata = of.send_with_xid(BarrierRequest())
        sock.sendall(fdata + gdata + mdata + bdata)
        flows: tuple[Flow, ...] = ()
        groups: tuple[GroupEntry, ...] = ()
        meters: tuple[MeterEntry, ...] = ()
        deadline = start + timeout
        while True:
            for message in of.events():
                if isinstance(message, FlowStatsReply) and message.xid == fxid:
                    flows = message.flows
                elif isinstance(message, GroupDescReply) and message.xid == gxid:
                    groups = message.entries
                elif isinstance(message, MeterConfigReply) and message.xid == mxid:
                    meters = message.entries
                elif isinstance(message, BarrierReply) and message.xid == bxid:
                    return SwitchState(flows, groups, meters, time.monotonic() - start)
                elif isinstance(message, EchoRequest):
                    sock.sendall(of.echo_reply(message))
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path}: no complete dump within {timeout:g} s")
            data = sock.recv(_READ_CHUNK)
            if not data:
                raise ConnectionError(f"{path}: connection closed during the dump")
            of.receive_data(data)
