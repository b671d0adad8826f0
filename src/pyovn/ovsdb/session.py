"""A JSON-RPC session that keeps itself connected.

:class:`Session` owns the stream, the framer, the back-off and the inactivity probe. It
answers the server's ``echo`` requests itself and hands every other message to its
:class:`SessionHandler` (the client), together with connect and disconnect events.
Driven like every pyovn component: ``run()`` does what is possible now without
blocking, ``wait(poller)`` says what should wake the main loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import ovs.poller

from pyovn.ovsdb.errors import ProtocolError
from pyovn.ovsdb.framing import Framer, encode
from pyovn.ovsdb.stream import Backoff, Remote, Stream

__all__ = ["Session", "SessionHandler"]

log = logging.getLogger("pyovn.ovsdb")

#: At most this many reads per run(), so one busy connection cannot starve a main loop
#: (the poller wakes us again at once while data is waiting).
_MAX_READS_PER_RUN = 64


class SessionHandler(Protocol):
    """What a :class:`Session` reports to its owner."""

    def on_connected(self) -> None:
        """The stream is connected; send the opening requests."""

    def on_message(self, msg: dict[str, Any]) -> None:
        """A message other than an echo request arrived."""

    def on_disconnected(self, reason: str) -> None:
        """The stream went away (it is already closed)."""


class Session:
    """A reconnecting JSON-RPC connection to one of ``remotes`` (tried in turn)."""

    def __init__(self, remotes: list[Remote], handler: SessionHandler, *, name: str = "",
                 probe_interval: float | None = None,
                 backoff: tuple[float, float] = (0.1, 8.0),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.remotes = remotes
        self.name = name or str(remotes[0])
        self._handler = handler
        self._clock = clock
        self._backoff = Backoff(*backoff)
        if probe_interval is None:
            # As OVS: unix sockets fail visibly, TCP peers can vanish silently.
            probe_interval = 0.0 if all(r.kind == "unix" for r in remotes) else 5.0
        self.probe_interval = probe_interval
        self._stream: Stream | None = None
        self._framer = Framer()
        self._remote_idx = 0
        self._next_attempt = clock()
        self._next_id = 0
        self._last_rx = 0.0
        self._probe_sent: float | None = None
        self._closed = False
        self._failures = 0
        self.established = False

    # --- state ----------------------------------------------------------------------

    @property
    def remote(self) -> Remote:
        """The remote in use (or to be tried next)."""
        return self.remotes[self._remote_idx]

    def fileno(self) -> int:
        """The socket's descriptor, or -1 when not connected."""
        return self._stream.fileno() if self._stream is not None else -1

    @property
    def backlog(self) -> int:
        """Bytes queued for sending."""
        return self._stream.backlog if self._stream is not None else 0

    # --- sending ----------------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        """Send one message (dropped when not connected: the caller's state machine
        re-sends what matters after the next connect)."""
        if self._stream is None or not self.established:
            return
        try:
            self._stream.send(encode(msg))
        except OSError as exc:
            self._lost(f"send failed: {exc.strerror or exc}")

    def request(self, method: str, params: Any) -> int:
        """Send a request; return its id (replies carry it back)."""
        self._next_id += 1
        self.send({"method": method, "params": params, "id": self._next_id})
        return self._next_id

    # --- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Connect if due, read and dispatch what arrived, send what is queued."""
        if self._closed:
            return
        now = self._clock()
        if self._stream is None:
            if now < self._next_attempt:
                return
            self._connect()
            if self._stream is None:
                return
        stream = self._stream
        if stream.connecting:
            try:
                if not stream.finish_connect():
                    return
            except OSError as exc:
                self._failed(f"connect failed: {exc.strerror or exc}")
                return
            self._established()
        for _ in range(_MAX_READS_PER_RUN):
            if self._stream is not stream:
                return
            try:
                data = stream.recv()
            except OSError as exc:
                self._lost(f"receive failed: {exc.strerror or exc}")
                return
            if data is None:
                self._lost("connection closed by peer")
                return
            if not data:
                break
            self._last_rx = self._clock()
            self._probe_sent = None
            try:
                messages = self._framer.feed(data)
            except ProtocolError as exc:
                self._lost(f"protocol error: {exc}")
                return
            for msg in messages:
                if self._stream is not stream:
                    return
                self._dispatch(msg)
        if self._stream is stream:
            self._probe()
        if self._stream is stream:
            try:
                stream.flush()
            except OSError as exc:
                self._lost(f"send failed: {exc.strerror or exc}")

    def wait(self, poller: ovs.poller.Poller) -> None:
        """Register what should wake the main loop: socket readiness and timers."""
        if self._closed:
            return
        now = self._clock()
        stream = self._stream
        if stream is None:
            poller.timer_wait(_ms(self._next_attempt - now))
            return
        events = ovs.poller.POLLIN
        if stream.connecting or stream.backlog:
            events |= ovs.poller.POLLOUT
        poller.fd_wait(stream.sock, events)
        if self.established and self.probe_interval > 0:
            since = self._probe_sent if self._probe_sent is not None else self._last_rx
            poller.timer_wait(_ms(since + self.probe_interval - now))

    def drop(self, reason: str) -> None:
        """Drop the connection because the peer misbehaved; reconnect after back-off."""
        if self._stream is not None:
            self._lost(reason)

    def force_reconnect(self, reason: str = "reconnect requested") -> None:
        """Drop the connection now; the next run() reconnects at once."""
        if self._stream is not None:
            self._lost(reason)
        self._next_attempt = self._clock()

    def close(self) -> None:
        """Disconnect for good."""
        if self._stream is not None:
            self._lost("closed")
        self._closed = True

    # --- internals -----------------------------------------------------------------

    def _connect(self) -> None:
        try:
            self._stream = Stream(self.remote)
        except OSError as exc:
            self._failed(f"connect failed: {exc.strerror or exc}")
            return
        if not self._stream.connecting:
            self._established()

    def _established(self) -> None:
        self.established = True
        self._last_rx = self._clock()
        self._probe_sent = None
        self._framer.reset()
        log.info("%s: connected to %s", self.name, self.remote)
        self._failures = 0
        self._handler.on_connected()

    def connection_good(self) -> None:
        """The owner got what it connected for: reset the back-off."""
        self._backoff.reset()

    def _failed(self, reason: str) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._failures += 1
        level = logging.INFO if self._failures == 1 else logging.DEBUG
        log.log(level, "%s: %s: %s", self.name, self.remote, reason)
        self._schedule()

    def _lost(self, reason: str) -> None:
        was = self.established
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self.established = False
        self._framer.reset()
        self._schedule()
        if was:
            log.info("%s: disconnected from %s: %s", self.name, self.remote, reason)
            self._handler.on_disconnected(reason)

    def _schedule(self) -> None:
        if len(self.remotes) > 1:
            self._remote_idx = (self._remote_idx + 1) % len(self.remotes)
        self._next_attempt = self._clock() + self._backoff.next_delay()

    def _dispatch(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            self._lost("protocol error: message is not a JSON object")
            return
        if msg.get("method") == "echo" and msg.get("id") is not None:
            self.send({"result": msg.get("params", []), "error": None, "id": msg["id"]})
            return
        try:
            self._handler.on_message(msg)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            # A message of the wrong shape: the server is not speaking OVSDB as we know
            # it. Reconnecting (with back-off) beats stopping the daemon.
            log.exception("%s: cannot handle message from %s: %.200r", self.name,
                          self.remote, msg)
            self.drop("protocol error: unexpected message")

    def _probe(self) -> None:
        if not self.established or self.probe_interval <= 0:
            return
        now = self._clock()
        if self._probe_sent is None:
            if now - self._last_rx >= self.probe_interval:
                self._probe_sent = now
                self.send({"method": "echo", "params": [], "id": "echo"})
        elif now - self._probe_sent >= self.probe_interval:
            self._lost(f"no response to inactivity probe after {self.probe_interval:g} s")


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000) + 1)
