"""Chassis registration as ops: 23.03's columns, idempotence, in-place updates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller_rows import row, sb_db
from pyovn.controller.chassis import (
    FEATURES,
    ChassisSettings,
    chassis_cleanup_ops,
    chassis_ops,
    chassis_settings,
    external_id,
    nb_cfg_ops,
)
from pyovn.controller.chassis_config import ChassisConfig
from pyovn.northd.fakedb import FakeDb
from pyovn.ovsdb import Delete, Insert, NamedUuid, Op, Row, Update

CONFIG = ChassisConfig("hv1", "unix:sb.sock", ("geneve",), ("127.0.0.1",), "br-int")
TYPES = ("dummy", "geneve", "internal", "patch")


def _settings(**ids: str) -> ChassisSettings:
    return chassis_settings(CONFIG, ids, TYPES, "dummy", hostname="vm")


def test_other_config_has_23_03s_keys_defaults_and_features() -> None:
    other = _settings().other_config_map
    assert other == {
        "ct-no-masked-label": "true", "datapath-type": "dummy",
        "iface-types": "dummy,geneve,internal,patch", "is-interconn": "false",
        "mac-binding-timestamp": "true", "ovn-bridge-mappings": "",
        "ovn-chassis-mac-mappings": "", "ovn-cms-options": "", "ovn-ct-lb-related": "true",
        "ovn-enable-lflow-cache": "true", "ovn-limit-lflow-cache": "",
        "ovn-memlimit-lflow-cache-kb": "", "ovn-monitor-all": "false",
        "ovn-trim-limit-lflow-cache": "", "ovn-trim-timeout-ms": "",
        "ovn-trim-wmark-perc-lflow-cache": "", "port-up-notif": "true"}
    assert set(FEATURES) <= set(other)


def test_per_chassis_keys_win_and_hostname_and_zones_are_read() -> None:
    s = _settings(**{"ovn-cms-options": "a", "ovn-cms-options-hv1": "b", "hostname": "h",
                     "ovn-transport-zones": "tz2, tz1", "ovn-is-interconn": "True"})
    assert s.other_config_map["ovn-cms-options"] == "b"
    assert s.other_config_map["is-interconn"] == "true"
    assert (s.hostname, s.transport_zones) == ("h", ("tz1", "tz2"))
    assert external_id({"k": "1", "k-hv2": "2"}, "hv1", "k") == "1"


def _apply(db: FakeDb, ops: list[Op]) -> None:
    """Insert/Update with named UUIDs resolved, as the server would."""
    names: dict[str, str] = {}

    def fix(value: object) -> object:
        if isinstance(value, list):
            return tuple(sorted(names.get(v, v) for v in value))
        return names.get(value, value) if isinstance(value, str) else value

    for op in ops:
        if isinstance(op, Insert):
            values: dict[str, Any] = {k: fix(v) for k, v in op.row.items()}
            uuid = db.insert(op.table, **values)
            if op.uuid_name:
                names[op.uuid_name] = uuid
        elif isinstance(op, Update):
            db.update(op.table, op.uuid, **{k: fix(v) for k, v in op.row.items()})


def _tables(db: FakeDb) -> tuple[Iterable[Row], Mapping[str, Row], Iterable[Row]]:
    return (db.tables["Chassis"].rows.values(), db.tables["Encap"].rows,
            db.tables["Chassis_Private"].rows.values())


def test_a_fresh_southbound_gets_chassis_encap_and_private_then_nothing_more() -> None:
    db = sb_db()
    ops = chassis_ops(_settings(), *_tables(db))
    assert [type(op).__name__ + ":" + getattr(op, "table", "") for op in ops] == [
        "Insert:Encap", "Insert:Chassis", "Insert:Chassis_Private"]
    assert ops[1].row["encaps"] == [NamedUuid("encap0")]  # type: ignore[union-attr]
    _apply(db, ops)
    (chassis,) = db.tables["Chassis"].rows.values()
    (encap,) = db.tables["Encap"].rows.values()
    (private,) = db.tables["Chassis_Private"].rows.values()
    assert (chassis["name"], chassis["hostname"], chassis["encaps"]) == ("hv1", "vm",
                                                                        (encap.uuid,))
    assert (encap["type"], encap["ip"], encap["chassis_name"], encap["options"]) == (
        "geneve", "127.0.0.1", "hv1", {"csum": "true"})
    assert (private["name"], private["chassis"]) == ("hv1", chassis.uuid)
    assert chassis_ops(_settings(), *_tables(db)) == []


def test_changes_update_the_row_keeping_foreign_keys_and_replacing_encaps() -> None:
    db = sb_db()
    _apply(db, chassis_ops(_settings(), *_tables(db)))
    (chassis,) = db.tables["Chassis"].rows.values()
    db.update("Chassis", chassis.uuid, other_config={**chassis["other_config"], "x": "1"})
    settings = chassis_settings(ChassisConfig("hv1", "r", ("geneve",), ("10.0.0.1",),
                                              "br-int"), {"ovn-encap-csum": "false"}, TYPES,
                                "dummy", hostname="vm")
    ops = chassis_ops(settings, *_tables(db))
    assert isinstance(ops[0], Insert) and ops[0].row["options"] == {"csum": "false"}
    update = ops[1]
    assert isinstance(update, Update) and set(update.row) == {"encaps"}
    assert chassis_ops(_settings(**{"ovn-monitor-all": "true"}), *_tables(db)) == [
        Update("Chassis", chassis.uuid, {"other_config": {
            **db.tables["Chassis"].rows[chassis.uuid]["other_config"],
            "ovn-monitor-all": "true"}})]


def test_private_row_is_created_or_repointed_when_missing_or_stale() -> None:
    db = sb_db()
    chassis = row(db, "Chassis", name="hv1")
    stale = row(db, "Chassis_Private", name="hv1", chassis=None)
    ops = chassis_ops(_settings(), *_tables(db))
    assert ops[-1] == Update("Chassis_Private", stale.uuid, {"chassis": chassis.uuid})


def test_nb_cfg_and_cleanup_ops() -> None:
    db = sb_db()
    chassis = row(db, "Chassis", name="hv1")
    private = row(db, "Chassis_Private", name="hv1", chassis=chassis.uuid, nb_cfg=3)
    assert nb_cfg_ops(private, 3, 99) == []
    assert nb_cfg_ops(private, 4, 99) == [
        Update("Chassis_Private", private.uuid, {"nb_cfg": 4, "nb_cfg_timestamp": 99})]
    assert chassis_cleanup_ops("hv1", [chassis], [private]) == [
        Delete("Chassis_Private", private.uuid), Delete("Chassis", chassis.uuid)]
