"""Localnet patch ports: which pairs are wanted, and the OVS ops that make them so."""

from __future__ import annotations

from controller_rows import ovs_db, row, sb_db
from pyovn.controller.binding import (
    LocalDatapath,
    PatchPort,
    desired_patch_ports,
    parse_bridge_mappings,
    patch_port_ops,
)
from pyovn.ovsdb import Insert, Mutate

DP = "1f83b2eb-c307-4488-b0b6-b338652d5d41"


def test_bridge_mappings_parse_and_skip_malformed_entries() -> None:
    assert parse_bridge_mappings("physnet1:br-phys, bad,:x,physnet2:br-ex") == {
        "physnet1": "br-phys", "physnet2": "br-ex"}


def test_a_mapped_localnet_port_of_a_local_datapath_wants_a_pair() -> None:
    db = sb_db()
    ln = row(db, "Port_Binding", logical_port="ln1", type="localnet", datapath=DP,
             options={"network_name": "physnet1"})
    unmapped = row(db, "Port_Binding", logical_port="ln2", type="localnet", datapath=DP,
                   options={"network_name": "physnet9"})
    want = desired_patch_ports("br-int", {"physnet1": "br-phys"}, [LocalDatapath(DP, 1)],
                               {DP: [ln, unmapped]}, ["br-int", "br-phys"])
    assert want == [
        PatchPort("br-int", "patch-br-int-to-ln1", "patch-ln1-to-br-int", "ln1"),
        PatchPort("br-phys", "patch-ln1-to-br-int", "patch-br-int-to-ln1", "ln1")]
    assert desired_patch_ports("br-int", {"physnet1": "br-phys"}, [LocalDatapath(DP, 1)],
                               {DP: [ln]}, ["br-int"]) == []


def test_ops_create_missing_pairs_and_remove_stale_marked_ports() -> None:
    db = ovs_db()
    stale_if = db.insert("Interface", name="patch-br-int-to-old", type="patch",
                         options={"peer": "patch-old-to-br-int"})
    stale = db.insert("Port", name="patch-br-int-to-old", interfaces=(stale_if,),
                      external_ids={"ovn-localnet-port": "old"})
    plain_if = db.insert("Interface", name="vm1")
    plain = db.insert("Port", name="vm1", interfaces=(plain_if,))
    br_int = row(db, "Bridge", name="br-int", ports=tuple(sorted((stale, plain))))
    br_phys = row(db, "Bridge", name="br-phys", ports=())
    want = [PatchPort("br-int", "patch-br-int-to-ln1", "patch-ln1-to-br-int", "ln1")]
    ops = patch_port_ops(want, [br_int, br_phys], db.tables["Port"].rows,
                         db.tables["Interface"].rows)
    assert ops[0] == Mutate("Bridge", br_int.uuid, [("ports", "delete", [stale])])
    iface, port, attach = ops[1:]
    assert isinstance(iface, Insert) and iface.row == {
        "name": "patch-br-int-to-ln1", "type": "patch",
        "options": {"peer": "patch-ln1-to-br-int"}}
    assert isinstance(port, Insert) and port.row["external_ids"] == {
        "ovn-localnet-port": "ln1"}
    assert attach == Mutate("Bridge", br_int.uuid, [("ports", "insert", [port.uuid_name])])


def test_an_existing_correct_pair_is_left_alone() -> None:
    db = ovs_db()
    iface = db.insert("Interface", name="patch-br-int-to-ln1", type="patch",
                      options={"peer": "patch-ln1-to-br-int"})
    port = db.insert("Port", name="patch-br-int-to-ln1", interfaces=(iface,),
                     external_ids={"ovn-localnet-port": "ln1"})
    br_int = row(db, "Bridge", name="br-int", ports=(port,))
    want = [PatchPort("br-int", "patch-br-int-to-ln1", "patch-ln1-to-br-int", "ln1")]
    assert patch_port_ops(want, [br_int], db.tables["Port"].rows,
                          db.tables["Interface"].rows) == []
