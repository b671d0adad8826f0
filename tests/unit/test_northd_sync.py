"""Tunnel key allocation and the SB row synchroniser (RowSync)."""

from __future__ import annotations

from typing import Any

from pyovn.northd.sb_sync import RowSync
from pyovn.northd.tunnel_keys import TunnelKeys
from pyovn.ovsdb import Delete, Insert, Op, Row, TableChanges, Update
from pyovn.ovsdb.rows import make_row_class

AS = make_row_class("Address_Set", ["name", "addresses"])


def _row(uuid: str, name: str, *addresses: str) -> Row:
    return AS.make(uuid, name=name, addresses=tuple(sorted(addresses)))


def _sync() -> RowSync[str]:
    return RowSync("Address_Set", ("name", "addresses"), lambda r: str(r["name"]))


def _want(sync: RowSync[str], name: str, *addresses: str) -> None:
    sync.desired[name] = {"name": name, "addresses": tuple(sorted(addresses))}


# -- tunnel keys ---------------------------------------------------------------------

def test_keys_are_allocated_after_the_largest_claimed_one_and_wrap_around() -> None:
    keys = TunnelKeys(1, 5)
    assert keys.claim(3, "a")
    assert [keys.allocate(n) for n in "bcd"] == [4, 5, 1]
    assert keys.allocate("b") == 4                  # an owner keeps its key
    keys.release_owner("c")
    assert keys.allocate("e") == 2                  # continues after the hint
    assert keys.allocate("f") == 5                  # wraps to the freed key
    assert keys.allocate("g") == 0                  # exhausted


def test_a_key_held_by_another_owner_or_out_of_range_cannot_be_claimed() -> None:
    keys = TunnelKeys(1, 10)
    assert keys.claim(7, "a")
    assert not keys.claim(7, "b")
    assert not keys.claim(11, "b")
    assert keys.claim(7, "a")


# -- RowSync -------------------------------------------------------------------------

def test_missing_rows_are_inserted_with_a_chosen_uuid_and_stale_ones_deleted() -> None:
    sync = _sync()
    sync.load([_row("00000000-0000-0000-0000-00000000000a", "old", "1.1.1.1")])
    _want(sync, "new", "2.2.2.2")
    ops: list[Op] = []
    changed = sync.sync_all(ops)
    insert = next(op for op in ops if isinstance(op, Insert))
    assert insert.row == {"name": "new", "addresses": ("2.2.2.2",)}
    assert insert.uuid == sync.uuid("new")
    assert Delete("Address_Set", "00000000-0000-0000-0000-00000000000a") in ops
    assert changed == {"new", "old"}


def test_an_update_names_only_the_columns_that_differ() -> None:
    sync = _sync()
    uuid = "00000000-0000-0000-0000-00000000000b"
    sync.load([_row(uuid, "s", "1.1.1.1")])
    _want(sync, "s", "1.1.1.1", "3.3.3.3")
    ops: list[Op] = []
    assert sync.sync_all(ops) == set()
    assert ops == [Update("Address_Set", uuid, {"addresses": ("1.1.1.1", "3.3.3.3")})]
    ops.clear()
    sync.sync_all(ops)
    assert ops == []                                # the view already has the write


def test_our_own_writes_coming_back_need_nothing_and_foreign_ones_are_repaired() -> None:
    sync = _sync()
    sync.load([])
    _want(sync, "s", "1.1.1.1")
    ops: list[Op] = []
    sync.sync_all(ops)
    uuid = sync.uuid("s")
    assert uuid is not None
    mine = _row(uuid, "s", "1.1.1.1")
    ops.clear()
    assert sync.sb_changed(TableChanges("Address_Set", inserted={uuid: mine}), ops) == set()
    assert ops == []
    tampered = _row(uuid, "s", "6.6.6.6")
    sync.sb_changed(TableChanges("Address_Set", modified={uuid: (mine, tampered)}), ops)
    assert ops == [Update("Address_Set", uuid, {"addresses": ("1.1.1.1",)})]
    ops.clear()
    changed = sync.sb_changed(TableChanges("Address_Set", deleted={uuid: tampered}), ops)
    assert changed == {"s"} and isinstance(ops[0], Insert) and sync.uuid("s") != uuid


def test_a_duplicate_row_for_one_key_is_deleted() -> None:
    sync = _sync()
    a, b = "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"
    sync.load([_row(b, "s", "1.1.1.1"), _row(a, "s", "1.1.1.1")])
    _want(sync, "s", "1.1.1.1")
    ops: list[Op] = []
    sync.sync_all(ops)
    assert ops == [Delete("Address_Set", b)] and sync.uuid("s") == a


def test_defaults_are_set_on_insert_and_repaired_only_when_empty() -> None:
    pb = make_row_class("Port_Binding", ["logical_port", "up"])
    sync: RowSync[str] = RowSync("Port_Binding", ("logical_port",),
                                 lambda r: str(r["logical_port"]), defaults={"up": False})
    uuid = "00000000-0000-0000-0000-00000000000c"
    sync.load([pb.make(uuid, logical_port="p", up=True)])
    sync.desired = {"p": {"logical_port": "p"}, "q": {"logical_port": "q"}}
    ops: list[Op] = []
    sync.sync_all(ops)
    assert [op for op in ops if isinstance(op, Update)] == []   # up=True is the controller's
    insert: Any = next(op for op in ops if isinstance(op, Insert))
    assert insert.row == {"logical_port": "q", "up": False}
    cleared = pb.make(uuid, logical_port="p", up=None)
    ops.clear()
    sync.sb_changed(TableChanges("Port_Binding", modified={
        uuid: (pb.make(uuid, logical_port="p", up=True), cleared)}), ops)
    assert ops == [Update("Port_Binding", uuid, {"up": False})]
