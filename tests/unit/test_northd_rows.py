"""What ovn-northd 23.03 writes for a port, a switch and the globals (observed with the
real daemon), from pyovn-northd's builders."""

from __future__ import annotations

import random

import pytest

from pyovn.northd.datapaths import datapath_binding_row, mcast_switch_info, smap_get_bool
from pyovn.northd.global_config import (
    chassis_features,
    fill_options,
    sb_global_options,
)
from pyovn.northd.model import McastSwitchInfo, NorthdGlobals, SwitchDatapath, SwitchPort
from pyovn.northd.nb_port_sync import lsp_up
from pyovn.northd.ports import port_binding_row, requested_chassis
from pyovn.northd.sb_sync_mcast import port_groups
from pyovn.ovsdb.rows import make_row_class


def _port(**kw: object) -> SwitchPort:
    base: dict[str, object] = dict(
        name="p", uuid="u", datapath="sw", tunnel_key=1, type="", addresses=("unknown",),
        lsp_addrs=(), has_unknown=True, dynamic_addresses=None, port_security=(),
        ps_addrs=(), enabled=True, up=None, options={}, parent_name=None, tag=None,
        external_ids={})
    base.update(kw)
    return SwitchPort(**base)  # type: ignore[arg-type]


def _switch(other_config: dict[str, str]) -> SwitchDatapath:
    return SwitchDatapath("sw", "u", 1, other_config, {}, {}, (), frozenset(), (), False,
                          False, False, False, False, McastSwitchInfo())


def test_port_binding_copies_options_external_ids_and_adds_vlan_passthru_and_name() -> None:
    port = _port(options={"foo": "bar"}, type="bogus",
                 external_ids={"neutron:port_name": "web", "x": "1"})
    row = port_binding_row(port, _switch({"vlan-passthru": "TRUE"}), "dp", (None, ()))
    assert row["options"] == {"foo": "bar", "vlan-passthru": "true"}
    assert row["external_ids"] == {"neutron:port_name": "web", "x": "1", "name": "web"}
    assert row["type"] == ""                     # unknown types are not copied
    assert row["mac"] == ("unknown",) and row["datapath"] == "dp"


def test_requested_chassis_resolves_names_then_hostnames_first_is_main() -> None:
    by_name, by_host = {"hv1": "c1", "hv2": "c2"}, {"host3": "c3"}
    assert requested_chassis("host3,hv1,nowhere", by_name, by_host) == ("c3", ("c1",))
    assert requested_chassis("nowhere", by_name, by_host) == (None, ())
    assert requested_chassis(None, by_name, by_host) == (None, ())


def test_datapath_binding_external_ids() -> None:
    row = datapath_binding_row("uuid", "sw", 7, {"neutron:network_name": "net", "a": "b"},
                               {"interconn-ts": "ts", "mcast_snoop": "true"})
    assert row == {"tunnel_key": 7, "external_ids": {
        "logical-switch": "uuid", "name": "sw", "name2": "net", "interconn-ts": "ts"}}


def test_smap_get_bool_is_ovs_s() -> None:
    assert smap_get_bool({"k": "yes"}, "k", True) and not smap_get_bool({"k": "yes"}, "k", False)
    assert not smap_get_bool({"k": "False"}, "k", True)
    assert mcast_switch_info({"mcast_snoop": "true", "mcast_idle_timeout": "100"}) \
        == McastSwitchInfo(enabled=True, idle_timeout=100, query_interval=50)


def test_multicast_groups_of_a_port() -> None:
    assert port_groups(_port()) == ("_MC_flood", "_MC_unknown", "_MC_flood_l2")
    assert port_groups(_port(enabled=False)) == ()
    assert port_groups(_port(has_unknown=False, options={
        "mcast_flood": "true", "mcast_flood_reports": "true"})) == (
        "_MC_flood", "_MC_mrouter_flood", "_MC_static", "_MC_flood_l2")


@pytest.mark.parametrize("given, expected", [
    ("A:B:c", "0a:0b:0c"), ("12:34:56:78", "12:34:56"), ("0:0:0", None), ("12:34", None),
    ("xx:34:56", None), (None, None)])
def test_mac_prefix_as_ovn_northd_fills_it(given: str | None, expected: str | None) -> None:
    options = {} if given is None else {"mac_prefix": given}
    generated: dict[str, str] = {}
    out = fill_options(options, generated, random.Random(1))
    if expected is None:
        assert out["mac_prefix"] == generated["mac_prefix"]
        assert int(out["mac_prefix"][:2], 16) & 3 == 2      # unicast, local
        again = fill_options(options, generated, random.Random(2))
        assert again["mac_prefix"] == out["mac_prefix"]      # made once
    else:
        assert out["mac_prefix"] == expected
    assert out["max_tunid"] == "16711680"
    assert out["northd_internal_version"] == "23.03.1-20.27.0-70.6"


def test_svc_monitor_mac_is_kept_when_it_parses() -> None:
    out = fill_options({"svc_monitor_mac": "AA:BB:CC:DD:EE:FF"}, {}, random.Random(1))
    assert out["svc_monitor_mac"] == "AA:BB:CC:DD:EE:FF"
    out = fill_options({"svc_monitor_mac": "zz"}, {}, random.Random(1))
    assert out["svc_monitor_mac"] != "zz"


def test_chassis_features_and_the_sb_global_options_they_imply() -> None:
    chassis = make_row_class("Chassis", ["name", "other_config"])
    assert all(chassis_features([]).values())
    old = chassis.make("c", name="old", other_config={"ct-no-masked-label": "false"})
    features = chassis_features([old])
    assert not features["ct_no_masked_label"]
    globals_ = NorthdGlobals({"a": "b"}, "", "", features)
    assert sb_global_options(globals_) == {"a": "b", "lb_hairpin_use_ct_mark": "false"}


def test_nb_up_follows_the_binding_and_the_chassis_port_up_feature() -> None:
    pb = make_row_class("Port_Binding", ["chassis", "up"])
    ch = make_row_class("Chassis", ["other_config"])
    plain, modern = ch.make("a", other_config={}), ch.make("b", other_config={"port-up": "true"})
    assert lsp_up(pb.make("p", chassis=None, up=True), None) is False
    assert lsp_up(pb.make("p", chassis="a", up=False), plain) is True
    assert lsp_up(pb.make("p", chassis="b", up=False), modern) is False
    assert lsp_up(pb.make("p", chassis="b", up=True), modern) is True
