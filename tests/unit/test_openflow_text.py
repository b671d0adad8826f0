"""ovs-ofctl text: str(flow) as Open vSwitch prints it, and parsing it back."""

from __future__ import annotations

import pytest

from pyovn.openflow import (
    Ct,
    Flow,
    GroupMod,
    GroupModCommand,
    Match,
    Nat,
    OpenFlowEncodeError,
    Resubmit,
    load,
    parse_action,
    parse_flow,
    parse_flows,
)
from pyovn.openflow.parse import parse_group

# Lines printed by `ovs-ofctl -O OpenFlow15 --no-stats dump-flows` (Open vSwitch 3.1).
OVS_LINES = [
    "cookie=0x1234, table=8, priority=100,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01 "
    "actions=set_field:0x5->reg15,move:NXM_NX_REG14[0..15]->NXM_NX_REG13[0..15],"
    "set_field:0x8/0x8->reg10,resubmit(,9)",
    "table=1, priority=21,reg3=0x5/0xff,reg6=0,reg7=0x1 actions=drop",
    "table=1, priority=20,ipv6,ipv6_src=fd00::/64,ipv6_label=0x00005 actions=drop",
    "table=1, priority=19,in_port=LOCAL,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
    "table=1, priority=18,vlan_tci=0x1000/0x1000 actions=drop",
    "table=1, priority=17,dl_vlan=5,dl_vlan_pcp=3 actions=drop",
    "table=1, priority=16,vlan_tci=0x0000/0x1fff actions=drop",
    "table=1, priority=15,arp,arp_spa=10.0.0.0/8,arp_tpa=10.0.0.1,arp_op=1,"
    "arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
    "table=1, priority=14,icmp6,icmp_type=135,icmp_code=0,nd_target=fe80::1,"
    "nd_sll=00:00:00:00:00:01 actions=drop",
    "table=1, priority=13,ct_state=+est+trk,ct_nw_dst=10.0.0.1,ct_nw_proto=6,ct_tp_dst=80,ip "
    "actions=drop",
    "table=1, priority=12,tcp,nw_tos=8,nw_ecn=1,nw_ttl=3,nw_frag=no,tcp_flags=+syn-ack "
    "actions=drop",
    "table=1, priority=11,pkt_mark=0x3,recirc_id=0,conj_id=7,ct_state=+est-inv+trk,ct_zone=5,"
    "ct_mark=0x1/0x1,ct_label=0x1/0x1,tun_id=0x5,tun_metadata0=0x5 actions=drop",
    "table=1, priority=10,ct_state=+est+trk,ip actions=resubmit(1,3),resubmit:7,"
    "resubmit(,3,ct),output:1,LOCAL,CONTROLLER:100,group:1,set_field:10.0.0.1->ip_src,"
    "move:NXM_NX_XXREG0[]->NXM_NX_XXREG1[],move:OXM_OF_PKT_REG0[0..31]->NXM_NX_REG0[]",
    "table=1, priority=9,tcp,vlan_tci=0x1000/0x1000 actions=meter:3,pop_vlan,push_vlan:0x8100,"
    "set_field:4097->vlan_vid,set_field:00:00:00:00:00:01->eth_src,"
    "output:NXM_NX_REG15[0..15],fin_timeout(idle_timeout=10,hard_timeout=20),"
    "sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3),exit",
    "table=1, priority=8,ip actions=note:01.02.03.00.00.00,dec_ttl,"
    "clone(set_field:0x1->reg0,resubmit(,3)),check_pkt_larger(1500)->NXM_NX_REG9[1]",
    "table=1, priority=7 actions=controller(userdata=00.00.00.01.00.00.00.00,pause,meter_id=5),"
    "controller(reason=no_match,max_len=128,id=3),CONTROLLER:65535",
    "table=1, priority=5 actions=conjunction(1234,2/3)",
    "table=1, priority=3,ipv6 actions=ct(commit,nat(dst=[fd00::1]:80)),ct_clear",
    "table=1, priority=2,tcp actions=ct(commit,zone=5,nat(src=10.0.0.1-10.0.0.5:1000-2000,"
    "random),alg=ftp)",
    "table=1, priority=6,tcp actions=learn(table=69,delete_learned,cookie=0x1234,"
    "OXM_OF_METADATA[],eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.1,nw_proto=6,"
    "NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG10[7],output:NXM_NX_REG14[]),"
    "learn(table=10,idle_timeout=30,hard_timeout=60,fin_idle_timeout=5,fin_hard_timeout=6,"
    "priority=10,send_flow_rem,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
    "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15])",
    "table=1, priority=1,ip actions=ct(commit,table=9,zone=NXM_NX_REG13[0..15],"
    "exec(set_field:0x1/0x1->ct_mark,set_field:0x2/0xffffffff->ct_label))",
    "table=1, priority=4,ip actions=ct(table=10,zone=NXM_NX_REG11[0..15],nat)",
]


@pytest.mark.parametrize("line", OVS_LINES, ids=[line[:32] for line in OVS_LINES])
def test_ovs_ofctl_lines_parse_and_print_back_identically(line: str) -> None:
    assert str(parse_flow(line)) == line


def test_stats_are_skipped_when_parsing_a_full_dump() -> None:
    text = ("OFPST_FLOW reply (OF1.5) (xid=0x2):\n"
            " cookie=0x0, duration=0.004s, table=8, n_packets=0, n_bytes=0, idle_age=0, "
            "priority=100,reg14=0x1,metadata=0x1 actions=resubmit(,9)\n")
    assert parse_flows(text) == [Flow(8, 100, Match(reg14=1, metadata=1), [Resubmit(table=9)])]


def test_default_priority_and_table_zero_are_omitted_like_ovs_ofctl() -> None:
    assert str(Flow(0, 32768, Match(), [Resubmit(table=1)])) == "actions=resubmit(,1)"
    assert str(Flow(0, 32768, Match(reg0=1))) == "reg0=0x1 actions=drop"
    assert parse_flow("reg0=0x1 actions=drop") == Flow(0, 32768, Match(reg0=1))


def test_add_flow_syntax_with_legacy_actions() -> None:
    flow = parse_flow("table=8,priority=5,ip,nw_src=10.0.0.1 actions=load:0x1->NXM_NX_REG0[0],"
                      "mod_dl_dst:00:00:00:00:00:02,2")
    assert flow.actions[0] == load(1, "reg0[0]")
    assert str(flow) == ("table=8, priority=5,ip,nw_src=10.0.0.1 actions=set_field:0x1/0x1->reg0,"
                         "set_field:00:00:00:00:00:02->eth_dst,output:2")


def test_nested_ct_nat_and_exec_parse() -> None:
    assert parse_action("ct(commit,zone=NXM_NX_REG13[0..15],nat(src=10.0.0.1),"
                        "exec(set_field:0x1/0x1->ct_mark))") == Ct(
        commit=True, zone="NXM_NX_REG13[0..15]", nat=Nat("src", "10.0.0.1"),
        exec=(load(1, "NXM_NX_CT_MARK[0]"),))


def test_unsupported_action_is_named_in_the_error() -> None:
    with pytest.raises(OpenFlowEncodeError, match="unsupported action 'bundle"):
        parse_action("bundle(eth_src,0,hrw,ofport,members:4,8)")


def test_ovn_group_descriptions_parse_like_ovs_ofctl() -> None:
    text = ("type=select,selection_method=dp_hash,bucket=bucket_id=0,weight:100,actions="
            "ct(nat(dst=10.0.0.2:80),commit,table=22,zone=NXM_NX_REG13[0..15],"
            "exec(set_field:2/2->ct_mark)),bucket=bucket_id=1,weight:100,actions="
            "ct(nat(dst=aef0::3),commit,table=22,zone=NXM_NX_REG13[0..15])")
    group = parse_group(text, 7)
    assert str(group) == (
        "group_id=7,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,"
        "actions=ct(commit,table=22,zone=NXM_NX_REG13[0..15],nat(dst=10.0.0.2:80),"
        "exec(set_field:0x2/0x2->ct_mark)),bucket=bucket_id:1,weight:100,actions="
        "ct(commit,table=22,zone=NXM_NX_REG13[0..15],nat(dst=aef0::3))")
    # fwd_group: actions without "actions=", key=value spelling, a watched port.
    fwd = parse_group("type=select,selection_method=dp_hash,bucket=watch_port:5,"
                      "load=0x1->NXM_NX_REG15[0..15],resubmit(,37)", 2)
    assert fwd.buckets[0].watch_port == 5 and len(fwd.buckets[0].actions) == 2
    with pytest.raises(OpenFlowEncodeError):
        parse_group("type=select,selection_method=hash,fields(ip_src),bucket=actions=drop", 1)


def test_a_group_delete_carries_no_buckets_and_no_properties() -> None:
    group = parse_group("type=select,selection_method=dp_hash,bucket=actions=output:1", 3)
    delete = GroupMod(GroupModCommand.DELETE, group).body()
    assert len(delete) == 16  # header fields only: Open vSwitch refuses properties here
    assert len(GroupMod(GroupModCommand.ADD, group).body()) > 16 + 40
