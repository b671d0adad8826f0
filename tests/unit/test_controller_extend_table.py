"""IdTable: equal descriptions share an id while some lflow uses them; a description's
id comes from its text (the same in a restarted controller, whatever the order); a
re-translation that keeps a description keeps its id."""

from __future__ import annotations

import zlib

from pyovn.controller.extend_table import IdTable


def test_equal_texts_share_an_id_until_the_last_user_goes() -> None:
    table = IdTable("group")
    a = table.use("lf1", "a")
    assert a is not None and table.use("lf2", "a") == a
    b = table.use("lf2", "b")
    assert b not in (None, a)
    table.release("lf1")
    assert table.id_of("a") == a  # lf2 still uses it
    table.keep_only("lf2", {"b"})
    assert table.id_of("a") is None and table.id_of("b") == b
    assert len(table) == 1


def test_ids_come_from_the_text_not_from_the_order() -> None:
    texts = [f"type=select,bucket=actions=output:{n}" for n in range(50)]
    one, other = IdTable("group"), IdTable("group")
    first = {t: one.use("lf", t) for t in texts}
    second = {t: other.use("lf", t) for t in reversed(texts)}
    assert first == second
    assert first[texts[0]] == zlib.crc32(texts[0].encode()) % 0xFFFFFFFE + 1


def test_colliding_texts_get_the_next_free_id() -> None:
    table = IdTable("meter", max_id=3)
    ids = [table.use("lf", t) for t in "abc"]
    assert sorted(ids) == [1, 2, 3]  # type: ignore[type-var]
    assert table.use("lf", "d") is None  # none left
    table.keep_only("lf", {"a", "b"})
    assert table.use("lf", "d") == ids[2]


def test_keep_only_keeps_the_ids_a_retranslation_still_uses() -> None:
    table = IdTable("group")
    first = table.use("lf1", "x")
    table.use("lf1", "y")
    # Re-translated: x again (same id), y no longer.
    assert table.use("lf1", "x") == first
    table.keep_only("lf1", {"x"})
    assert table.id_of("x") == first and table.id_of("y") is None
