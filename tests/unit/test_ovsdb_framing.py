"""JSON-RPC framing: messages split across reads, or several in one read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovn.ovsdb import Framer, ProtocolError
from pyovn.ovsdb.framing import encode

# Strings full of what a structure scanner could trip on: braces, quotes, escapes,
# backslashes at the end, multi-byte characters.
TRICKY = [
    {"id": 1, "result": {"match": 'inport == "sw0-p1" && ip4.src == {10.0.0.1, 10.0.0.2}'}},
    {"method": "update2", "params": ["m", {"T": {"u": {"modify": {"s": "}}}{{"}}}}], "id": None},
    {"id": 2, "result": ["back\\slash\\", "quote\"", "\\\"", "\\\\\\\"}", "é€😀"]},
    {"id": 3, "result": {"": {"": [{}, [], {"a": {"b": {"c": {"d": {"e": {}}}}}}]}}},
    {"id": 4, "result": "\n\t\u0001{"},
]


def wire(messages: list[Any], sep: bytes = b"") -> bytes:
    return sep.join(json.dumps(m).encode() for m in messages)


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[Any]:
    framer = Framer()
    out: list[Any] = []
    prev = 0
    for cut in [*sorted(cuts), len(data)]:
        out += framer.feed(data[prev:cut])
        prev = cut
    assert framer.buffered == 0
    return out


def test_one_message_in_one_read() -> None:
    assert Framer().feed(b'{"id":1,"result":[]}') == [{"id": 1, "result": []}]


def test_concatenated_messages_in_one_read_all_come_out_in_order() -> None:
    assert Framer().feed(wire(TRICKY)) == TRICKY


def test_whitespace_between_messages_is_ignored() -> None:
    assert Framer().feed(wire(TRICKY, b" \n\t")) == TRICKY


@pytest.mark.parametrize("index", range(len(TRICKY)))
def test_message_split_at_every_byte_comes_out_once(index: int) -> None:
    data = wire([TRICKY[index]])
    for cut in range(1, len(data)):
        assert feed_in_pieces(data, [cut]) == [TRICKY[index]], cut


def test_byte_by_byte_stream_yields_each_message_when_it_ends() -> None:
    framer = Framer()
    data = wire(TRICKY)
    ends = set()
    pos = 0
    for m in TRICKY:
        pos += len(json.dumps(m).encode())
        ends.add(pos)
    got: list[Any] = []
    for i in range(len(data)):
        out = framer.feed(data[i:i + 1])
        assert bool(out) == (i + 1 in ends)
        got += out
    assert got == TRICKY


def test_partial_message_stays_buffered() -> None:
    framer = Framer()
    assert framer.feed(b'{"id":1,"res') == []
    assert framer.buffered == len(b'{"id":1,"res')
    assert framer.feed(b'ult":2}{"id"') == [{"id": 1, "result": 2}]
    assert framer.feed(b':3}') == [{"id": 3}]


def test_reset_forgets_a_partial_message() -> None:
    framer = Framer()
    framer.feed(b'{"id":1, "x": "abc\\')
    framer.reset()
    assert framer.feed(b'{"id":2}') == [{"id": 2}]


@pytest.mark.parametrize("bad", [b"[1,2]", b'"text"', b"{}}", b'{"a":tru}'])
def test_non_object_or_invalid_json_is_a_protocol_error(bad: bytes) -> None:
    with pytest.raises(ProtocolError):
        Framer().feed(bad)


def test_oversized_partial_message_is_a_protocol_error() -> None:
    framer = Framer(max_message=100)
    with pytest.raises(ProtocolError, match="larger than"):
        framer.feed(b'{"x":"' + b"a" * 200)


def test_encode_is_compact_utf8() -> None:
    assert encode({"a": ["é", 1]}) == '{"a":["é",1]}'.encode()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='{}[]"\\ab é\n', max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(alphabet='{}"\\k', max_size=4), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.dictionaries(st.text(alphabet='{}"\\ab', max_size=4), _json,
                                min_size=1, max_size=4), min_size=1, max_size=5),
       st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_any_split_of_any_message_stream_yields_the_messages(
        messages: list[dict[str, Any]], cuts: list[int]) -> None:
    data = wire(messages, b"\n")
    cuts = [c % (len(data) + 1) for c in cuts]
    assert feed_in_pieces(data, cuts) == messages
