"""Non-blocking stream sockets to ovsdb-server (``unix:PATH``, ``tcp:HOST:PORT``), and the
reconnection back-off.

The only module of the OVSDB layer that touches sockets. A :class:`Stream` connects
without blocking, queues what it cannot send yet, and reads whatever is available.
"""

from __future__ import annotations

import errno
import socket
from collections import deque
from dataclasses import dataclass

from pyovn.ovsdb.errors import OvsdbError

__all__ = ["Backoff", "Remote", "Stream", "parse_remotes"]

_READ_SIZE = 1 << 20
# Only TCP connects complete later; a unix socket that cannot connect at once failed.
_IN_PROGRESS = (errno.EINPROGRESS, errno.EALREADY)


@dataclass(frozen=True, slots=True)
class Remote:
    """One place a database can be reached."""

    kind: str  # "unix" or "tcp"
    address: str | tuple[str, int]

    def __str__(self) -> str:
        if isinstance(self.address, tuple):
            host, port = self.address
            return f"tcp:[{host}]:{port}" if ":" in host else f"tcp:{host}:{port}"
        return f"unix:{self.address}"


def parse_remotes(text: str) -> list[Remote]:
    """Parse ``unix:PATH`` / ``tcp:HOST:PORT`` remotes, comma-separated for a cluster."""
    remotes = []
    for item in text.split(","):
        part = item.strip()
        kind, _, rest = part.partition(":")
        if kind == "unix" and rest:
            remotes.append(Remote("unix", rest))
        elif kind == "tcp" and rest:
            host, _, port = rest.rpartition(":")
            host = host.strip("[]")
            if not host or not port.isdigit():
                raise OvsdbError(f"bad remote {part!r}: expected tcp:HOST:PORT")
            remotes.append(Remote("tcp", (host, int(port))))
        else:
            raise OvsdbError(f"unsupported remote {part!r}: use unix:PATH or tcp:HOST:PORT")
    if not remotes:
        raise OvsdbError("no remote given")
    return remotes


class Stream:
    """A connected (or connecting) non-blocking socket with a send queue."""

    __slots__ = ("_out", "connecting", "remote", "sock")

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self._out: deque[memoryview] = deque()
        if remote.kind == "unix":
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            assert isinstance(remote.address, tuple)
            family = socket.AF_INET6 if ":" in remote.address[0] else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        err = self.sock.connect_ex(remote.address)
        if err == 0:
            self.connecting = False
        elif err in _IN_PROGRESS and remote.kind == "tcp":
            self.connecting = True
        else:
            self.sock.close()
            raise OSError(err, f"{remote}: {errno.errorcode.get(err, err)}")

    def fileno(self) -> int:
        """The socket's file descriptor."""
        return self.sock.fileno()

    def finish_connect(self) -> bool:
        """Whether a connection in progress has completed; OSError if it failed."""
        if not self.connecting:
            return True
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err in _IN_PROGRESS:
            return False
        if err:
            raise OSError(err, f"{self.remote}: {errno.errorcode.get(err, err)}")
        # SO_ERROR is 0 both when connected and while still trying; ask the peer.
        try:
            self.sock.getpeername()
        except OSError as exc:
            if exc.errno == errno.ENOTCONN:
                return False
            raise
        self.connecting = False
        return True

    @property
    def backlog(self) -> int:
        """Bytes queued but not yet sent."""
        return sum(len(m) for m in self._out)

    def send(self, data: bytes) -> None:
        """Queue ``data`` and send as much as the socket takes now."""
        self._out.append(memoryview(data))
        self.flush()

    def flush(self) -> None:
        """Send queued data until the socket would block; OSError when it fails."""
        if self.connecting:
            return
        out = self._out
        while out:
            head = out[0]
            try:
                n = self.sock.send(head)
            except (BlockingIOError, InterruptedError):
                return
            if n == len(head):
                out.popleft()
            else:
                out[0] = head[n:]
                return

    def recv(self) -> bytes | None:
        """Bytes available now (b"" if none); None when the peer closed."""
        try:
            data = self.sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return b""
        return data if data else None

    def close(self) -> None:
        """Close the socket; queued data is dropped."""
        self._out.clear()
        self.sock.close()


class Backoff:
    """Exponential back-off between connection attempts: ``min_s`` doubling to ``max_s``,
    back to ``min_s`` once a connection has been fully established."""

    __slots__ = ("current", "max_s", "min_s")

    def __init__(self, min_s: float = 0.1, max_s: float = 8.0) -> None:
        self.min_s = min_s
        self.max_s = max(max_s, min_s)
        self.current = 0.0

    def next_delay(self) -> float:
        """The delay before the next attempt (0 for the first one after a success)."""
        delay = self.current
        self.current = self.min_s if delay == 0 else min(delay * 2, self.max_s)
        return delay

    def reset(self) -> None:
        """A connection worked: the next failure retries at once, then at ``min_s``."""
        self.current = 0.0
