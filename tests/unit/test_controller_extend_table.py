"""IdTable: equal descriptions share an id while some lflow uses them; freed ids are
reused smallest first; a re-translation that keeps a description keeps its id."""

from __future__ import annotations

from pyovn.controller.extend_table import IdTable


def test_equal_texts_share_an_id_until_the_last_user_goes() -> None:
    table = IdTable("group")
    assert table.use("lf1", "a") == 1
    assert table.use("lf2", "a") == 1
    assert table.use("lf2", "b") == 2
    table.release("lf1")
    assert table.id_of("a") == 1  # lf2 still uses it
    table.keep_only("lf2", {"b"})
    assert table.id_of("a") is None and table.id_of("b") == 2
    assert table.use("lf3", "c") == 1  # the smallest free id
    assert len(table) == 2


def test_keep_only_keeps_the_ids_a_retranslation_still_uses() -> None:
    table = IdTable("group")
    first = table.use("lf1", "x")
    table.use("lf1", "y")
    # Re-translated: x again (same id), y no longer.
    assert table.use("lf1", "x") == first
    table.keep_only("lf1", {"x"})
    assert table.id_of("x") == first and table.id_of("y") is None


def test_ids_run_out_at_max_id() -> None:
    table = IdTable("meter", max_id=2)
    assert [table.use("lf", t) for t in "abc"] == [1, 2, None]
