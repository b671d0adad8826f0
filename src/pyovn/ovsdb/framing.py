"""JSON-RPC framing for OVSDB: a stream of concatenated JSON objects, no delimiters.

Sans-I/O: :meth:`Framer.feed` takes the bytes a socket produced and returns the complete
messages they finish; :func:`encode` turns a message into bytes.

Why not just try to parse after every read? A 10 MB monitor reply arrives in dozens of
reads; re-parsing the growing buffer each time is quadratic. Instead each chunk is
scanned once, at C speed, to learn whether a message ended in it: escapes are dropped
(``bytes.replace``), everything but quotes and braces is deleted (``bytes.translate``),
adjacent ``""`` and ``{}`` pairs are cancelled (neither changes the structure outside
strings), and what little is left is walked in Python. Only a chunk in which the
nesting depth returned to zero is handed to the C JSON decoder, which then parses each
message exactly once (plus, at worst, the part of the next message in the same chunk).
"""

from __future__ import annotations

import json
from typing import Any

from pyovn.ovsdb.errors import ProtocolError

__all__ = ["Framer", "encode"]

_QUOTE, _OPEN, _CLOSE = ord('"'), ord("{"), ord("}")
_DROP_ALL_BUT_STRUCTURE = bytes(b for b in range(256) if b not in (_QUOTE, _OPEN, _CLOSE))
_WHITESPACE = " \t\r\n"
#: Cancelling passes before the Python walk; ovsdb messages nest about 7 deep.
_CANCEL_PASSES = 8

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                            check_circular=False)


def encode(message: Any) -> bytes:
    """Serialize one JSON-RPC message compactly."""
    return _encoder.encode(message).encode("utf-8")


class Framer:
    """Splits a byte stream into JSON objects (JSON-RPC messages).

    State between chunks: nesting depth, whether the stream is inside a string, and
    whether the last byte was an unfinished escape. ``max_message`` bounds the bytes
    buffered for one message (ProtocolError beyond it).
    """

    __slots__ = ("_chunks", "_decoder", "_depth", "_escape", "_in_string", "_size",
                 "max_message")

    def __init__(self, max_message: int = 1 << 31) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._decoder = json.JSONDecoder()
        self.max_message = max_message

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return self._size

    def reset(self) -> None:
        """Forget any partial message (after a reconnect)."""
        self._chunks.clear()
        self._size = 0
        self._depth = 0
        self._in_string = False
        self._escape = False

    def feed(self, data: bytes) -> list[Any]:
        """Add ``data``; return the messages it completed, in order."""
        if not data:
            return []
        self._chunks.append(data)
        self._size += len(data)
        if not self._scan(data):
            if self._size > self.max_message:
                raise ProtocolError(f"message larger than {self.max_message} bytes")
            return []
        return self._decode()

    def _scan(self, data: bytes) -> bool:
        """Advance the structure state over ``data``; True if a message ended in it."""
        if self._escape:
            data = data[1:]
            self._escape = False
        elif self._depth == 0 and not self._in_string:
            head = data.lstrip(b" \t\r\n")[:1]
            if head and head != b"{":
                raise ProtocolError("received data that is not a JSON object")
        if b"\\" in data:
            run = len(data) - len(data.rstrip(b"\\"))
            if run % 2:
                # The odd last backslash escapes the first byte of the next chunk.
                self._escape = True
                data = data[:-1]
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        tokens = data.translate(None, _DROP_ALL_BUT_STRUCTURE)
        if self._in_string:
            end = tokens.find(b'"')
            if end < 0:
                return False
            tokens = tokens[end + 1:]
            self._in_string = False
        complete = False
        if self._depth == 0:
            if not tokens:
                return False
            if tokens[0] != _OPEN:
                raise ProtocolError("received data that is not a JSON object")
            # Keeping the first message's opening brace out of the cancelling below
            # leaves its closing brace unpaired, so its end stays visible.
            tokens = tokens[1:]
            self._depth = 1
        for _ in range(_CANCEL_PASSES):
            shorter = tokens.replace(b'""', b"").replace(b"{}", b"")
            if len(shorter) == len(tokens):
                break
            tokens = shorter
        depth, in_string = self._depth, False
        for t in tokens:
            if in_string:
                in_string = t != _QUOTE
            elif t == _QUOTE:
                in_string = True
            elif t == _OPEN:
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    complete = True
                elif depth < 0:
                    raise ProtocolError("unbalanced '}' in the JSON stream")
        self._depth, self._in_string = depth, in_string
        return complete

    def _decode(self) -> list[Any]:
        buf = b"".join(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        # Each copy of a big reply is megabytes: keep only one alive at a time.
        self._chunks = []
        # surrogateescape keeps a multi-byte character cut at the end of the buffer
        # intact when the unparsed tail is encoded back.
        text = buf.decode("utf-8", "surrogateescape")
        del buf
        messages: list[Any] = []
        pos, end = 0, len(text)
        decode = self._decoder.raw_decode
        while True:
            while pos < end and text[pos] in _WHITESPACE:
                pos += 1
            if pos == end:
                break
            if text[pos] != "{":
                raise ProtocolError("received data that is not a JSON object")
            try:
                msg, pos = decode(text, pos)
            except json.JSONDecodeError as exc:
                if self._depth == 0 and not self._in_string:
                    raise ProtocolError(f"invalid JSON from peer: {exc}") from None
                break
            messages.append(msg)
        tail = text[pos:].encode("utf-8", "surrogateescape") if pos < end else b""
        self._chunks = [tail] if tail else []
        self._size = len(tail)
        return messages
