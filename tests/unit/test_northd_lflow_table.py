"""The desired flow table: links, refcounts, dirty tracking; and the stage layout."""

from __future__ import annotations

from pyovn.northd.lflow import stages as stg
from pyovn.northd.lflow.flows import LflowAttrs, LflowKey, LflowSink, json_key, smap_get_bool
from pyovn.northd.lflow.table import LflowRef, LflowTable

K1 = LflowKey("ingress", 0, 100, "1", "next;")
K2 = LflowKey("egress", 4, 1100, "ip", "drop;")


def test_switch_pipeline_is_ovn_23_03_layout() -> None:
    assert len(stg.LS_INGRESS_STAGES) == 27 and len(stg.LS_EGRESS_STAGES) == 10
    assert stg.LS_IN_CHECK_PORT_SEC.table == 0
    assert stg.LS_IN_ACL.table == 8 and stg.LS_IN_ACL_AFTER_LB.table == 17
    assert stg.Stage("ls_in_arp_rsp", "ingress", 19) == stg.LS_IN_ARP_ND_RSP
    assert stg.LS_IN_L2_UNKNOWN.table == 26
    assert stg.LS_OUT_PRE_ACL.table == 0 and stg.LS_OUT_APPLY_PORT_SEC.table == 9
    assert stg.stage_of("egress", 4) == stg.LS_OUT_ACL
    assert stg.stage_of("ingress", 27) is None
    assert LflowKey("ingress", 25, 0, "1", "x").stage_name == "ls_in_l2_lkup"


def test_a_flow_lives_until_its_last_link_goes() -> None:
    table = LflowTable()
    a, b = LflowRef(), LflowRef()
    table.replace(a, [("dp1", K1, LflowAttrs())])
    table.replace(b, [("dp1", K1, LflowAttrs()), ("dp2", K1, LflowAttrs())])
    assert table.flows[K1].dps == {"dp1": 2, "dp2": 1}
    table.unlink(b)
    assert table.flows[K1].dps == {"dp1": 1}
    table.unlink(a)
    assert K1 not in table.flows and len(table) == 0


def test_regenerating_to_the_same_links_touches_nothing() -> None:
    table = LflowTable()
    ref = LflowRef()
    links = [("dp1", K1, LflowAttrs()), ("dp1", K2, LflowAttrs("abcd0123", "p1"))]
    assert table.replace(ref, links)
    assert table.take_dirty() == {K1, K2}
    assert not table.replace(ref, list(links))
    assert table.take_dirty() == set()


def test_replacing_links_marks_old_and_new_flows_dirty() -> None:
    table = LflowTable()
    ref = LflowRef()
    table.replace(ref, [("dp1", K1, LflowAttrs())])
    table.take_dirty()
    table.replace(ref, [("dp1", K2, LflowAttrs())])
    assert table.take_dirty() == {K1, K2}
    assert set(table) == {K2}


def test_disagreeing_attributes_resolve_to_the_smallest_stably() -> None:
    table = LflowTable()
    a, b = LflowRef(), LflowRef()
    table.replace(a, [("dp1", K1, LflowAttrs("bbbbbbbb", None))])
    table.replace(b, [("dp2", K1, LflowAttrs("aaaaaaaa", None))])
    assert table.flows[K1].effective_attrs() == LflowAttrs("aaaaaaaa", None)
    table.unlink(b)
    assert table.flows[K1].effective_attrs() == LflowAttrs("bbbbbbbb", None)


def test_sink_records_datapath_hint_prefix_and_port() -> None:
    sink = LflowSink("dp-uuid")
    sink.add(stg.LS_IN_L2_LKUP, 50, "eth.dst == 00:00:00:00:00:01", "drop;",
             hint="0123456789ab-cdef", io_port="p1")
    sink.add(stg.LS_OUT_ACL, 0, "1", "next;", meter="m")
    (dp, key, attrs), (_, key2, attrs2) = sink.links
    assert dp == "dp-uuid" and key.table_id == 25 and key.pipeline == "ingress"
    assert attrs == LflowAttrs("01234567", "p1")
    assert key2.controller_meter == "m" and attrs2 == LflowAttrs()


def test_port_names_are_quoted_as_json_strings() -> None:
    assert json_key("p1") == '"p1"'
    assert json_key('a"b\\c') == '"a\\"b\\\\c"'


def test_smap_get_bool_follows_ovs() -> None:
    assert smap_get_bool({}, "k", True) and not smap_get_bool({}, "k", False)
    assert smap_get_bool({"k": "TRUE"}, "k", False)
    assert not smap_get_bool({"k": "yes"}, "k", False)
    assert smap_get_bool({"k": "yes"}, "k", True)
    assert not smap_get_bool({"k": "False"}, "k", True)
