"""The exception tree of the OpenFlow codec.

::

    OpenFlowError
    ├── OpenFlowEncodeError     (ValueError) we refused to build or encode something
    ├── OpenFlowDecodeError     bytes from the switch that we cannot decode
    ├── LocalProtocolError      we used the connection in a way OpenFlow forbids
    └── RemoteProtocolError     the switch broke the protocol (e.g. no common version)

Errors say whose fault they are, as h11's do: an ``OpenFlowEncodeError`` or a
``LocalProtocolError`` is a bug or bad input on our side and nothing was sent; an
``OpenFlowDecodeError`` or ``RemoteProtocolError`` comes from the peer.
"""

from __future__ import annotations


class OpenFlowError(Exception):
    """Base class of every error raised by :mod:`pyovn.openflow`."""


class OpenFlowEncodeError(OpenFlowError, ValueError):
    """A match, action, flow or message is invalid and was not encoded.

    Raised by constructors and ``encode()`` methods before anything reaches the
    switch: unknown field, mask on a field that cannot be masked, value wider than
    its field, missing prerequisite, table id out of range.  The caller should log
    the offending object (it is the caller's input that is wrong) and skip it.
    """


class OpenFlowDecodeError(OpenFlowError):
    """Bytes received from the switch could not be decoded.

    Raised by ``decode()`` functions and :class:`~pyovn.openflow.OFConnection`.  The
    message is malformed or uses something this codec does not know.  The
    connection's framing is still intact; the caller may skip the message.
    """


class LocalProtocolError(OpenFlowError):
    """We tried to do something the OpenFlow protocol does not allow.

    Raised by :class:`~pyovn.openflow.OFConnection` (for example sending a message
    before our HELLO).  This is a bug in the caller.
    """


class RemoteProtocolError(OpenFlowError):
    """The switch broke the OpenFlow protocol.

    Raised by :class:`~pyovn.openflow.OFConnection` when the peer sends something
    impossible (bad framing, no common version).  ``data_to_send`` holds the bytes
    (an OFPT_ERROR) that should be sent before closing the connection, if any.
    """

    def __init__(self, message: str, data_to_send: bytes = b"") -> None:
        super().__init__(message)
        self.data_to_send = data_to_send
