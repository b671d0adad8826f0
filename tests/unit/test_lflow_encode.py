"""Action encoding gives the OpenFlow actions real ovn-controller 23.03.1 installs.

The expected texts and userdata bytes below were copied from ``ovs-ofctl
dump-flows`` of a sandbox running real ovn-northd and ovn-controller 23.03.1;
the oracle test (tests/oracle/) checks the same thing live, for every flow.
"""

from __future__ import annotations

import pytest

from pyovn.lflow import ActionParams, Pipeline, parse_actions
from pyovn.lflow import actions as a
from pyovn.lflow import actions_ext as ax
from pyovn.lflow import actions_lookup as lk
from pyovn.lflow.action_parser import GenOptionDef
from pyovn.lflow.encode_actions import EncodeParams, encode_actions
from pyovn.lflow.encode_controller import Opcode, controller_op
from pyovn.lflow.encode_nx import DecTtlIds, StackPop, StackPush, parse_nx_action
from pyovn.lflow.encode_params import HANDLERS
from pyovn.lflow.errors import LflowSemanticError
from pyovn.openflow import parse_action
from pyovn.openflow.actions import Action, decode_actions
from pyovn.openflow.parse import split_top_level

PORTS = {"sw0-p1": 1, "sw0-p2": 2, "_MC_flood": 0x8000}
DHCP = {n: GenOptionDef(n, c, t) for n, c, t in (
    ("offerip", 0, "ipv4"), ("router", 3, "ipv4"), ("server_id", 54, "ipv4"),
    ("lease_time", 51, "uint32"), ("dns_server", 6, "ipv4"), ("mtu", 26, "uint16"),
    ("domain_name", 15, "str"), ("bootfile_name", 67, "str"), ("netmask", 1, "ipv4"),
    ("classless_static_route", 121, "static_routes"), ("ip_forward_enable", 19, "bool"),
    ("domain_search_list", 119, "domains"))}
DHCPV6 = {n: GenOptionDef(n, c, t) for n, c, t in (
    ("ia_addr", 5, "ipv6"), ("dns_server", 23, "ipv6"), ("domain_search", 24, "str"),
    ("server_id", 2, "mac"))}


def of_text(text: str) -> tuple[Action, ...]:
    """``ovs-ofctl`` action text as canonical actions (push/pop/dec_ttl() included)."""
    out: list[Action] = []
    for part in split_top_level(text):
        nx = parse_nx_action(part)
        out.append(nx if nx is not None else parse_action(part))
    return tuple(out)


def encode(text: str, pipeline: Pipeline = Pipeline.INGRESS, table: int = 10,
           **params: object) -> tuple[Action, ...]:
    parsed = parse_actions(text, params=ActionParams(pipeline, table, dhcp_opts=DHCP,
                                                     dhcpv6_opts=DHCPV6))
    ep = EncodeParams(pipeline=pipeline, table_id=table, lookup_port=PORTS.get,
                      **params)  # type: ignore[arg-type]
    return encode_actions(parsed.actions, ep)


def userdata(dotted: str) -> bytes:
    return bytes.fromhex(dotted.replace(".", ""))


@pytest.mark.parametrize(("actions", "pipeline", "table", "expected"), [
    ("next;", Pipeline.INGRESS, 10, "resubmit(,19)"),
    ("next(pipeline=egress, table=5);", Pipeline.INGRESS, 10, "resubmit(,47)"),
    ("output;", Pipeline.INGRESS, 26, "resubmit(,37)"),
    ("output;", Pipeline.EGRESS, 9, "resubmit(,64)"),
    ("drop;", Pipeline.INGRESS, 0, ""),
    ("ct_next;", Pipeline.EGRESS, 3, "ct(table=46,zone=NXM_NX_REG13[0..15])"),
    ("ct_lb_mark;", Pipeline.INGRESS, 6, "ct(table=15,zone=NXM_NX_REG13[0..15],nat)"),
    ("ct_commit_nat;", Pipeline.INGRESS, 8, "ct(commit,table=17,zone=NXM_NX_REG13[0..15],nat)"),
])
def test_control_flow_resubmits_to_ovn_tables(actions: str, pipeline: Pipeline, table: int,
                                              expected: str) -> None:
    assert encode(actions, pipeline, table) == (of_text(expected) if expected else ())


def test_assignments_load_masked_registers_and_port_keys() -> None:
    got = encode('reg0[3] = 1; outport = "sw0-p2"; outport = "_MC_flood"; outport = "none"; '
                 'outport = "nonexist"; flags.loopback = 1; eth.src = 50:54:00:00:00:02; '
                 "arp.op = 2;")
    assert got == of_text(
        "set_field:0x8000000000000000000000000/0x8000000000000000000000000->xxreg0,"
        "set_field:0x2->reg15,set_field:0x8000->reg15,set_field:0->reg15,"
        "set_field:0->reg15,set_field:0x1/0x1->reg10,"
        "set_field:50:54:00:00:00:02->eth_src,set_field:2->arp_op")


def test_moves_exchanges_and_stack_actions() -> None:
    got = encode("eth.dst = eth.src; outport = inport; reg2 <-> reg3; push(reg0); pop(reg1);")
    assert got == of_text(
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],move:NXM_NX_REG14[]->NXM_NX_REG15[],"
        "push:NXM_NX_XXREG0[0..31],push:NXM_NX_XXREG0[32..63],"
        "pop:NXM_NX_XXREG0[0..31],pop:NXM_NX_XXREG0[32..63],"
        "push:NXM_NX_XXREG0[96..127],pop:NXM_NX_XXREG0[64..95]")


def test_ct_commit_adds_zero_snat_and_exec() -> None:
    got = encode("ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; };")
    assert got == of_text(
        "ct(commit,zone=NXM_NX_REG13[0..15],nat(src),exec(set_field:0/0x1->ct_mark,"
        "move:NXM_NX_XXREG0[0..31]->NXM_NX_CT_LABEL[96..127]))")


def test_router_conntrack_uses_dnat_and_snat_zones() -> None:
    got = encode("ct_next; ct_commit { ct_mark.blocked = 1; }; ct_dnat; ct_snat; "
                 "ct_snat_in_czone;", Pipeline.INGRESS, 3, is_switch=False)
    assert got == of_text(
        "ct(table=12,zone=NXM_NX_REG11[0..15]),ct(commit,zone=NXM_NX_REG11[0..15],nat(src),"
        "exec(set_field:0x1/0x1->ct_mark)),ct(table=12,zone=NXM_NX_REG11[0..15],nat),"
        "ct(table=12,zone=NXM_NX_REG12[0..15],nat),ct(table=12,zone=NXM_NX_REG11[0..15],nat)")


def test_nat_with_addresses_commits() -> None:
    got = encode("ct_dnat(10.0.0.5); ct_snat(10.0.0.6, 100-200); ct_dnat(fd00::1, 300);")
    assert got == of_text(
        "ct(commit,table=19,zone=NXM_NX_REG11[0..15],nat(dst=10.0.0.5)),"
        "ct(commit,table=19,zone=NXM_NX_REG12[0..15],nat(src=10.0.0.6:100-200)),"
        "ct(commit,table=19,zone=NXM_NX_REG11[0..15],nat(dst=[fd00::1]:300))")


def test_port_security_checks_go_through_their_tables() -> None:
    assert encode("reg0[15] = check_in_port_sec(); reg0[15] = check_out_port_sec();") == \
        of_text("set_field:0/0x1000->reg10,resubmit(,73),"
                "move:NXM_NX_REG10[12]->NXM_NX_XXREG0[111],"
                "set_field:0/0x1000->reg10,resubmit(,75),"
                "move:NXM_NX_REG10[12]->NXM_NX_XXREG0[111]")


def test_fdb_actions_move_arguments_and_results() -> None:
    got = encode("put_fdb(inport, eth.src); reg0[11] = lookup_fdb(inport, eth.src); "
                 "outport = get_fdb(eth.dst); reg1 = get_fdb(eth.src);")
    assert got == (controller_op(Opcode.PUT_FDB), *of_text(
        "set_field:0/0x100->reg10,resubmit(,72),move:NXM_NX_REG10[8]->NXM_NX_XXREG0[107],"
        "set_field:0->reg15,resubmit(,71),push:NXM_OF_ETH_DST[],push:NXM_OF_ETH_SRC[],"
        "pop:NXM_OF_ETH_DST[],set_field:0->reg15,resubmit(,71),pop:NXM_OF_ETH_DST[],"
        "move:NXM_NX_REG15[]->NXM_NX_XXREG0[64..95]"))


def test_mac_binding_actions_pass_arguments_in_23_03_registers() -> None:
    got = encode("get_nd(outport, xxreg0); reg9[4] = lookup_nd_ip(inport, xxreg0);")
    assert got == of_text(
        "set_field:00:00:00:00:00:00->eth_dst,resubmit(,66),push:NXM_NX_REG15[],"
        "push:NXM_NX_REG14[],pop:NXM_NX_REG15[],push:NXM_OF_ETH_DST[],"
        "set_field:0/0x40->reg10,resubmit(,66),move:NXM_NX_REG10[6]->OXM_OF_PKT_REG4[4],"
        "pop:NXM_OF_ETH_DST[],pop:NXM_NX_REG15[]")


def test_nd_na_userdata_is_byte_exact() -> None:
    got = encode("nd_na { eth.src = 50:54:00:00:00:01; ip6.src = aef0::3; nd.target = aef0::3;"
                 " nd.tll = 50:54:00:00:00:01; outport = inport; flags.loopback = 1; output; };",
                 Pipeline.INGRESS, 19)
    assert got == (controller_op(Opcode.ND_NA, userdata(
        "00.19.00.10.80.00.08.06.50.54.00.00.00.01.00.00.00.19.00.18.80.00.34.10.ae.f0.00.00"
        ".00.00.00.00.00.00.00.00.00.00.00.03.00.19.00.18.80.00.3e.10.ae.f0.00.00.00.00.00.00"
        ".00.00.00.00.00.00.00.03.00.19.00.10.80.00.42.06.50.54.00.00.00.01.00.00.00.1c.00.18"
        ".00.20.00.00.00.00.00.00.00.01.1c.04.00.01.1e.04.00.00.00.00.00.19.00.10.00.01.15.08"
        ".00.00.00.01.00.00.00.01.ff.ff.00.10.00.00.23.20.00.0e.ff.f8.25.00.00.00")),)


def test_log_userdata_and_meter() -> None:
    meters = {"acl_meter": 1}
    got = encode('log(name="acl_log", severity=alert, verdict=drop, meter="acl_meter"); '
                 "log(severity=info, verdict=allow);", meter_id=meters.get)
    assert [x.userdata for x in got] == [  # type: ignore[attr-defined]
        userdata("00.00.00.07.00.00.00.00.01.01.61.63.6c.5f.6c.6f.67"),
        userdata("00.00.00.07.00.00.00.00.00.06")]
    assert [x.meter_id for x in got] == [1, 0]  # type: ignore[attr-defined]


def test_log_with_unallocatable_meter_encodes_nothing() -> None:
    assert encode('log(verdict=drop, meter="m"); next;') == of_text("resubmit(,19)")


def test_trigger_event_userdata_is_byte_exact() -> None:
    got = encode('trigger_event(event = "empty_lb_backends", vip = "10.0.0.103:80", '
                 'protocol = "tcp", load_balancer = "7e089a54-8619-4359-99d3-3f9e7ba3cb83");')
    assert got[0].userdata == userdata(  # type: ignore[attr-defined]
        "00.00.00.0f.00.00.00.00.00.00.00.00.00.01.00.0d.31.30.2e.30.2e.30.2e.31.30.33.3a.38"
        ".30.00.02.00.03.74.63.70.00.03.00.24.37.65.30.38.39.61.35.34.2d.38.36.31.39.2d.34.33"
        ".35.39.2d.39.39.64.33.2d.33.66.39.65.37.62.61.33.63.62.38.33")


def test_put_dhcp_opts_is_byte_exact() -> None:
    got = encode(
        "reg0[3] = put_dhcp_opts(offerip = 10.0.0.3, bootfile_name = \"pxe.efi\", "
        "classless_static_route = {30.0.0.0/24,10.0.0.4, 0.0.0.0/0,10.0.0.1}, "
        "dns_server = {8.8.8.8, 8.8.4.4}, domain_name = \"ovn.org\", "
        "domain_search_list = \"ovn.org,abc.ovn.org,xyz.org\", ip_forward_enable = 1, "
        "lease_time = 3600, mtu = 1400, netmask = 255.255.255.0, router = 10.0.0.1, "
        "server_id = 10.0.0.1);", Pipeline.INGRESS, 20)
    assert got == (controller_op(Opcode.PUT_DHCP_OPTS, userdata(
        "00.01.de.10.00.00.00.63.0a.00.00.03.43.07.70.78.65.2e.65.66.69.79.0d.18.1e.00.00.0a"
        ".00.00.04.00.0a.00.00.01.06.08.08.08.08.08.08.08.04.04.0f.07.6f.76.6e.2e.6f.72.67.77"
        ".15.03.6f.76.6e.03.6f.72.67.00.03.61.62.63.c0.00.03.78.79.7a.c0.04.13.01.01.33.04.00"
        ".00.0e.10.1a.02.05.78.01.04.ff.ff.ff.00.03.04.0a.00.00.01.36.04.0a.00.00.01"),
        pause=True),)


def test_put_dhcpv6_opts_is_byte_exact() -> None:
    got = encode("reg0[3] = put_dhcpv6_opts(ia_addr = aef0::3, dns_server = {aef0::100, "
                 "aef0::101}, domain_search = \"ovn.org\", server_id = 00:00:00:10:00:01);")
    assert got == (controller_op(Opcode.PUT_DHCPV6_OPTS, userdata(
        "00.01.de.10.00.00.00.63.00.05.00.10.ae.f0.00.00.00.00.00.00.00.00.00.00.00.00.00.03"
        ".00.17.00.20.ae.f0.00.00.00.00.00.00.00.00.00.00.00.00.01.00.ae.f0.00.00.00.00.00.00"
        ".00.00.00.00.00.00.01.01.00.18.00.07.6f.76.6e.2e.6f.72.67.00.02.00.06.00.00.00.10.00"
        ".01"), pause=True),)


def test_put_nd_ra_opts_is_byte_exact() -> None:
    got = encode('reg0[5] = put_nd_ra_opts(addr_mode = "dhcpv6_stateful", '
                 "slla = 00:00:00:00:ff:01, prefix = aef0::/64);")
    assert got == (controller_op(Opcode.PUT_ND_RA_OPTS, userdata(
        "00.01.de.10.00.00.00.65.86.00.00.00.ff.80.ff.ff.00.00.00.00.00.00.00.00.01.01.00.00"
        ".00.00.ff.01.03.04.40.80.ff.ff.ff.ff.ff.ff.ff.ff.00.00.00.00.ae.f0.00.00.00.00.00.00"
        ".00.00.00.00.00.00.00.00"), pause=True),)


def test_frag_mtu_is_a_paused_controller_action_in_23_03() -> None:
    got = encode("icmp4 { icmp4.frag_mtu = 1442; output; };")
    inner = decode_actions(got[0].userdata, 8, len(got[0].userdata))  # type: ignore[attr-defined]
    assert inner[0] == controller_op(Opcode.PUT_ICMP4_FRAG_MTU, b"\x05\xa2", pause=True)


def test_groups_get_ovn_descriptions() -> None:
    seen: list[str] = []

    def group_id(text: str) -> int:
        seen.append(text)
        return 7

    got = encode("ct_lb_mark(backends=10.0.0.3:80,[fd00::2]:80; skip_snat);", group_id=group_id)
    assert got == of_text("group:7")
    assert seen == [
        "type=select,selection_method=dp_hash,bucket=bucket_id=0,weight:100,actions=ct("
        "nat(dst=10.0.0.3:80),commit,table=19,zone=NXM_NX_REG13[0..15],exec(set_field:2/2->"
        "ct_mark,set_field:4/4->ct_mark)),bucket=bucket_id=1,weight:100,actions=ct(nat(dst="
        "[fd00::2]:80),commit,table=19,zone=NXM_NX_REG13[0..15],exec(set_field:2/2->ct_mark,"
        "set_field:4/4->ct_mark))"]


def test_groups_and_meters_without_ids_encode_nothing() -> None:
    assert encode("reg0 = select(1=50, 2=100); set_meter(100); next;") == of_text(
        "resubmit(,19)")


def test_ip_ttl_decrement_keeps_an_empty_controller_id_list() -> None:
    assert encode("ip.ttl--;") == (DecTtlIds(()),)
    assert str(DecTtlIds(())) == "dec_ttl()"


def test_stack_actions_round_trip_through_the_codec() -> None:
    acts = (StackPush("NXM_NX_XXREG0[96..127]"), StackPop("reg15"), DecTtlIds((1, 2)))
    wire = b"".join(x.encode() for x in acts)
    assert decode_actions(wire, 0, len(wire)) == acts
    assert [str(x) for x in acts] == ["push:NXM_NX_XXREG0[96..127]", "pop:NXM_NX_REG15[]",
                                      "dec_ttl(1,2)"]
    assert of_text(",".join(str(x) for x in acts)) == acts


def _action_classes() -> set[type[a.Action]]:
    from pyovn.lflow.actions import NESTED_ACTIONS, NULL_ACTIONS

    classes: set[type[a.Action]] = {*NESTED_ACTIONS.values(), *NULL_ACTIONS.values(),
                                    *lk.RESULT_ACTIONS.values()}
    for module in (a, ax, lk):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, a.Action) and obj.__subclasses__() == []:
                classes.add(obj)
    return {c for c in classes if c not in (a.NullAction, a.Nested, lk.ResultAction)}


def test_every_parsed_action_class_has_an_encoder() -> None:
    missing = sorted(c.__name__ for c in _action_classes() if c not in HANDLERS)
    assert missing == []


def test_unknown_action_class_is_a_semantic_error() -> None:
    class Bogus(a.NullAction):
        text = "bogus;"

    with pytest.raises(LflowSemanticError, match="bogus; cannot be translated"):
        encode_actions((Bogus(),), EncodeParams())


def test_dhcpv6_options_take_the_low_order_bytes_of_a_wider_constant() -> None:
    # ovn-controller copies the last 6 (MAC) or 16 (IPv6) bytes of the constant.
    got = encode("reg0[3] = put_dhcpv6_opts(server_id = aef0::10:1);")
    assert got[0].userdata.endswith(userdata("00.02.00.06.00.00.00.10.00.01"))  # type: ignore[attr-defined]
