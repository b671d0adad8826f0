"""Conntrack zone assignment: lowest free zone, persistence in br-int, restore."""

from __future__ import annotations

from controller_rows import ovs_db, row
from pyovn.controller.ct_zones import MAX_ZONE, CtZones, zone_users
from pyovn.ovsdb import Mutate

DP = "1f83b2eb-c307-4488-b0b6-b338652d5d41"


def test_users_are_the_local_ports_and_two_nat_zones_per_local_datapath() -> None:
    assert zone_users({"p1", "lp"}, [DP]) == {"p1", "lp", f"{DP}_dnat", f"{DP}_snat"}


def test_new_users_get_the_lowest_free_zones_never_zero_in_sorted_order() -> None:
    zones = CtZones()
    assert zones.update({"b", "a", "c"}) == {"a", "b", "c"}
    assert zones.zones == {"a": 1, "b": 2, "c": 3}


def test_a_freed_zone_is_reused_and_others_keep_theirs() -> None:
    zones = CtZones()
    zones.update({"a", "b", "c"})
    assert zones.update({"a", "c"}) == {"b"}
    assert zones.update({"a", "c", "d"}) == {"d"}
    assert zones.zones == {"a": 1, "c": 3, "d": 2}
    assert zones.update({"a", "c", "d"}) == set()


def test_a_requested_zone_is_given_and_its_holder_moves() -> None:
    zones = CtZones()
    zones.update({"a", "b"})
    assert zones.update({"a", "b", "gw"}, {"gw": 2}) == {"b", "gw"}
    assert zones.zones == {"a": 1, "gw": 2, "b": 3}


def test_restore_reads_the_bridge_keys_and_skips_bad_ones() -> None:
    ids = {"ct-zone-p1": "5", "ct-zone-p2": "2", "ct-zone-bad": "x", "ct-zone-zero": "0",
           "ct-zone-x2": "5", "ovn-nb-cfg": "3"}  # x2 repeats p1's zone: first key wins
    zones = CtZones.restore(ids)
    assert zones.zones == {"p1": 5, "p2": 2}
    zones.update({"p1", "p2", "n1", "n2", "n3", "n4"})
    # The gaps below the highest restored zone are filled first.
    assert zones.zones == {"p1": 5, "p2": 2, "n1": 1, "n2": 3, "n3": 4, "n4": 6}
    assert zones.take_new_zones() == {1, 3, 4, 6}
    assert zones.take_new_zones() == set()


def test_ops_write_only_the_differences_to_the_bridge() -> None:
    db = ovs_db()
    bridge = row(db, "Bridge", name="br-int",
                 external_ids={"ct-zone-old": "9", "ct-zone-p1": "7", "other": "x"})
    zones = CtZones.restore({"ct-zone-p1": "1"})
    zones.update({"p1", "p2"})
    assert zones.ops(bridge) == [Mutate("Bridge", bridge.uuid, [
        ("external_ids", "delete", ["ct-zone-old", "ct-zone-p1"]),
        ("external_ids", "insert", {"ct-zone-p1": "1", "ct-zone-p2": "2"})])]
    done = row(db, "Bridge", name="br-x",
               external_ids={"ct-zone-p1": "1", "ct-zone-p2": "2", "other": "x"})
    assert zones.ops(done) == []


def test_users_beyond_the_last_zone_get_none() -> None:
    zones = CtZones.restore({f"ct-zone-u{i}": str(i) for i in range(1, MAX_ZONE + 1)})
    users = set(zones.zones) | {"late"}
    assert zones.update(users) == set()
    assert "late" not in zones.zones
