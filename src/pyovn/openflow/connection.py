"""The sans-I/O OpenFlow 1.5 connection: bytes in, messages out; messages in, bytes out.

Shaped like h11's ``Connection``: it never touches a socket.  Feed it what the
socket read with :meth:`OFConnection.receive_data` and collect decoded messages
from :meth:`OFConnection.next_event` / :meth:`OFConnection.events`; turn messages
into bytes to write with :meth:`OFConnection.send`.  It frames the byte stream,
negotiates the version (OpenFlow 1.5 only), allocates xids and bundle ids, and
joins the parts of multipart replies.

States (the only transitions there are)::

    AWAITING_HELLO --peer HELLO with 1.5--> ESTABLISHED
    AWAITING_HELLO --peer HELLO without--> FAILED   (RemoteProtocolError)
    any            --receive_data(b"")---> CLOSED
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import NoReturn

from pyovn.openflow.constants import OFP_VERSION, OFPT, BundleCtrlType, BundleFlags
from pyovn.openflow.errors import LocalProtocolError, OpenFlowDecodeError, RemoteProtocolError
from pyovn.openflow.message import Message, MultipartReply, decode_message
from pyovn.openflow.messages import EchoReply, EchoRequest, ErrorMsg, Hello
from pyovn.openflow.mods import BundleAddMessage, BundleControl

_MAX_MESSAGE = 0xFFFF


class State(Enum):
    """Connection states."""

    AWAITING_HELLO = "awaiting_hello"
    ESTABLISHED = "established"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class BundleTransaction:
    """The bytes of one bundle (open, adds, commit) and the xids to expect replies on.

    ``message_xids[i]`` is the xid of ``messages[i]``: an error with that
    ``failed_xid`` names the message the switch rejected.
    """

    bundle_id: int
    data: bytes
    open_xid: int
    message_xids: tuple[int, ...]
    commit_xid: int


class OFConnection:
    """One OpenFlow 1.5 connection, without I/O.

    Typical use::

        conn = OFConnection()
        sock.sendall(conn.hello())
        while True:
            conn.receive_data(sock.recv(65536))
            for msg in conn.events():
                if isinstance(msg, EchoRequest):
                    sock.sendall(conn.echo_reply(msg))
    """

    def __init__(self, *, first_xid: int = 1, first_bundle_id: int = 1) -> None:
        self.state = State.AWAITING_HELLO
        self.version: int | None = None
        self._buf = bytearray()
        self._pos = 0
        self._xid = first_xid - 1
        self._bundle_id = first_bundle_id - 1
        self._hello_sent = False
        self._parts: dict[tuple[int, type[Message]], list[object]] = {}
        self._pending_error: RemoteProtocolError | None = None

    # -- sending ---------------------------------------------------------------------
    def next_xid(self) -> int:
        """A fresh transaction id (never 0)."""
        self._xid = self._xid % 0xFFFFFFFF + 1
        return self._xid

    def next_bundle_id(self) -> int:
        """A fresh bundle id."""
        self._bundle_id = self._bundle_id % 0xFFFFFFFF + 1
        return self._bundle_id

    def hello(self) -> bytes:
        """Our HELLO (OpenFlow 1.5 only); send it first."""
        self._hello_sent = True
        return Hello().encode(self.next_xid())

    def send(self, message: Message, *, xid: int | None = None) -> bytes:
        """The bytes of ``message`` with ``xid`` (a fresh one by default)."""
        return self.send_with_xid(message, xid=xid)[1]

    def send_with_xid(self, message: Message, *, xid: int | None = None) -> tuple[int, bytes]:
        """Like :meth:`send` but also return the xid used."""
        if not self._hello_sent:
            raise LocalProtocolError("send our HELLO (OFConnection.hello()) first")
        if self.state in (State.FAILED, State.CLOSED):
            raise LocalProtocolError(f"cannot send on a {self.state.value} connection")
        if xid is None:
            xid = self.next_xid()
        return xid, message.encode(xid)

    def echo_reply(self, request: EchoRequest) -> bytes:
        """The ECHO_REPLY answering ``request`` (same xid and payload)."""
        return self.send(EchoReply(request.data), xid=request.xid)

    def bundle(self, messages: Iterable[Message], *,
               flags: int = BundleFlags.ATOMIC | BundleFlags.ORDERED) -> BundleTransaction:
        """Open, fill and commit one bundle; returns all bytes and the xids involved.

        The switch answers the open and commit with BUNDLE_CONTROL replies on
        ``open_xid`` / ``commit_xid``; a rejected message yields an ERROR whose
        ``failed_xid`` is one of ``message_xids``, then the commit fails.
        """
        bundle_id = self.next_bundle_id()
        open_xid, data = self.send_with_xid(
            BundleControl(bundle_id, BundleCtrlType.OPEN_REQUEST, flags))
        parts = [data]
        xids = []
        for message in messages:
            xid, data = self.send_with_xid(BundleAddMessage(bundle_id, message, flags))
            xids.append(xid)
            parts.append(data)
        commit_xid, data = self.send_with_xid(
            BundleControl(bundle_id, BundleCtrlType.COMMIT_REQUEST, flags))
        parts.append(data)
        return BundleTransaction(bundle_id, b"".join(parts), open_xid, tuple(xids), commit_xid)

    # -- receiving -------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the switch; ``b""`` means the peer closed."""
        if not data:
            self.state = State.CLOSED
            return
        if self._pos > 65536 and self._pos * 2 > len(self._buf):
            del self._buf[:self._pos]
            self._pos = 0
        self._buf += data

    def next_event(self) -> Message | None:
        """The next complete message, or None when more data is needed.

        Raises :class:`RemoteProtocolError` for broken framing or a failed version
        negotiation (its ``data_to_send`` holds the HELLO_FAILED error to send), and
        :class:`OpenFlowDecodeError` for one undecodable message (which is skipped;
        the connection stays usable).
        """
        while True:
            if self._pending_error is not None:
                raise self._pending_error
            buf, pos = self._buf, self._pos
            if len(buf) - pos < 8:
                return None
            version, msg_type, length = struct.unpack_from("!BBH", buf, pos)
            if length < 8:
                self._fail(RemoteProtocolError(f"bad message length {length}"))
            if len(buf) - pos < length:
                return None
            raw = bytes(buf[pos:pos + length])
            self._pos = pos + length
            if msg_type == OFPT.HELLO:
                self._negotiate(raw)
            elif self.state == State.AWAITING_HELLO and msg_type != OFPT.ERROR:
                self._fail(RemoteProtocolError(f"message type {msg_type} before HELLO"))
            try:
                message = decode_message(raw)
            except OpenFlowDecodeError as exc:
                raise OpenFlowDecodeError(f"{exc} (message type {msg_type}, version "
                                          f"0x{version:02x}, {length} bytes)") from exc
            if isinstance(message, MultipartReply):
                joined = self._join(message)
                if joined is None:
                    continue
                message = joined
            return message

    def events(self) -> Iterator[Message]:
        """Every complete message received so far."""
        while True:
            message = self.next_event()
            if message is None:
                return
            yield message

    def _negotiate(self, raw: bytes) -> None:
        hello = decode_message(raw)
        assert isinstance(hello, Hello)
        if OFP_VERSION in hello.versions:
            self.version = OFP_VERSION
            if self.state == State.AWAITING_HELLO:
                self.state = State.ESTABLISHED
            return
        error = ErrorMsg(0, 0, b"We support only OpenFlow 1.5 (0x06).")
        self._fail(RemoteProtocolError(
            f"no common OpenFlow version (peer supports {sorted(hello.versions)})",
            error.encode(hello.xid)))

    def _fail(self, error: RemoteProtocolError) -> NoReturn:
        """Enter FAILED for good: this and every later next_event() raise ``error``."""
        self.state = State.FAILED
        self._pending_error = error
        raise error

    def _join(self, part: MultipartReply) -> MultipartReply | None:
        key = (part.xid, type(part))
        if part.more:
            self._parts.setdefault(key, []).extend(part.entries)
            return None
        earlier = self._parts.pop(key, None)
        if earlier is None:
            return part
        return dataclasses.replace(part, entries=(*earlier, *part.entries))
