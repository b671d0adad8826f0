"""Port security flows (tables 73 to 75), against ovn-controller 23.03's.

The full expected set for one entry is the real 23.03.1 dump of a port with
``port_security="00:00:00:00:00:21 10.0.0.21 fd00::21"`` (key 5 in datapath 1); the
other forms are checked by what sets them apart (the functional oracle compares them
all with a real dump).
"""

# ruff: noqa: E501  (expected flows are real ovs-ofctl dump lines, kept whole)
from __future__ import annotations

from controller_rows import parse_dump, row, sb_db, texts
from pyovn.controller.physical_lookups import parse_port_security, port_security_flows
from pyovn.openflow import Flow
from pyovn.ovsdb import Row

PS1 = """
cookie=0x9da71818, table=73, priority=80,reg14=0x5,metadata=0x1 actions=set_field:0x1000/0x1000->reg10
cookie=0x9da71818, table=73, priority=90,icmp6,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,ipv6_src=::,ipv6_dst=ff02::/16,icmp_type=131,icmp_code=0 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=73, priority=90,icmp6,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,ipv6_src=::,ipv6_dst=ff02::/16,icmp_type=135,icmp_code=0 actions=resubmit(,74)
cookie=0x9da71818, table=73, priority=90,icmp6,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,ipv6_src=::,ipv6_dst=ff02::/16,icmp_type=143,icmp_code=0 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=73, priority=90,ip,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,nw_src=10.0.0.21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=73, priority=90,ipv6,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,ipv6_src=fd00::21 actions=resubmit(,74)
cookie=0x9da71818, table=73, priority=90,ipv6,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,ipv6_src=fe80::200:ff:fe00:21 actions=resubmit(,74)
cookie=0x9da71818, table=73, priority=90,udp,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=73, priority=95,arp,reg14=0x5,metadata=0x1 actions=resubmit(,74)
cookie=0x9da71818, table=74, priority=80,arp,reg14=0x5,metadata=0x1 actions=set_field:0x1000/0x1000->reg10
cookie=0x9da71818, table=74, priority=80,icmp6,reg14=0x5,metadata=0x1,nw_ttl=255,icmp_type=135 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=74, priority=80,icmp6,reg14=0x5,metadata=0x1,nw_ttl=255,icmp_type=136 actions=set_field:0x1000/0x1000->reg10
cookie=0x9da71818, table=74, priority=90,arp,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,arp_spa=10.0.0.21,arp_sha=00:00:00:00:00:21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=74, priority=90,icmp6,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,icmp_type=136,icmp_code=0,nd_target=fd00::21,nd_tll=00:00:00:00:00:00 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=74, priority=90,icmp6,reg14=0x5,metadata=0x1,dl_src=00:00:00:00:00:21,icmp_type=136,icmp_code=0,nd_target=fd00::21,nd_tll=00:00:00:00:00:21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=74, priority=90,icmp6,reg14=0x5,metadata=0x1,nw_ttl=225,icmp_type=135,icmp_code=0,nd_sll=00:00:00:00:00:00 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=74, priority=90,icmp6,reg14=0x5,metadata=0x1,nw_ttl=225,icmp_type=135,icmp_code=0,nd_sll=00:00:00:00:00:21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=74, priority=90,icmp6,reg14=0x5,metadata=0x1,nw_ttl=225,icmp_type=136,icmp_code=0,nd_target=fe80::200:ff:fe00:21,nd_tll=00:00:00:00:00:00 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=74, priority=90,icmp6,reg14=0x5,metadata=0x1,nw_ttl=225,icmp_type=136,icmp_code=0,nd_target=fe80::200:ff:fe00:21,nd_tll=00:00:00:00:00:21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=75, priority=80,reg15=0x5,metadata=0x1 actions=set_field:0x1000/0x1000->reg10
cookie=0x9da71818, table=75, priority=85,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=75, priority=90,ip,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21 actions=set_field:0x1000/0x1000->reg10
cookie=0x9da71818, table=75, priority=90,ipv6,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21 actions=set_field:0x1000/0x1000->reg10
cookie=0x9da71818, table=75, priority=95,ip,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21,nw_dst=10.0.0.21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=75, priority=95,ip,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21,nw_dst=224.0.0.0/4 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=75, priority=95,ip,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21,nw_dst=255.255.255.255 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=75, priority=95,ipv6,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21,ipv6_dst=fd00::21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=75, priority=95,ipv6,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21,ipv6_dst=fe80::200:ff:fe00:21 actions=set_field:0/0x1000->reg10
cookie=0x9da71818, table=75, priority=95,ipv6,reg15=0x5,metadata=0x1,dl_dst=00:00:00:00:00:21,ipv6_dst=ff00::/8 actions=set_field:0/0x1000->reg10
"""


def _pb(*entries: str) -> Row:
    return row(sb_db(), "Port_Binding", "9da71818-0000-4000-8000-000000000000",
               logical_port="ps1", tunnel_key=5, port_security=entries)


def _lines(flows: list[Flow], table: int | None = None) -> list[str]:
    return [str(f) for f in flows if table is None or f.table_id == table]


def test_mac_ipv4_ipv6_entry_gives_exactly_23_03s_flows() -> None:
    flows = port_security_flows(_pb("00:00:00:00:00:21 10.0.0.21 fd00::21"), 1)
    assert texts(flows) == texts(parse_dump(PS1))


def test_a_subnet_allows_the_whole_prefix_and_a_host_in_it_gets_its_broadcast() -> None:
    subnet = " ".join(_lines(port_security_flows(
        _pb("00:00:00:00:00:23 10.0.0.0/24 fd00::/64"), 1)))
    assert "nw_src=10.0.0.0/24" in subnet and "arp_spa=10.0.0.0/24" in subnet
    assert "ipv6_src=fd00::/64" in subnet and "nd_target=fd00::/64" in subnet
    assert "nw_dst=10.0.0.0/24" in subnet
    host = " ".join(_lines(port_security_flows(_pb("00:00:00:00:00:24 10.0.0.24/24"), 1)))
    assert "nw_src=10.0.0.24 " in host and "nw_dst=10.0.0.255 " in host


def test_a_mac_only_entry_checks_the_mac_and_lets_any_ip_through() -> None:
    flows = port_security_flows(_pb("00:00:00:00:00:22"), 1)
    in_sec = _lines(flows, 73)
    assert any("dl_src=00:00:00:00:00:22 actions=resubmit(,74)" in f for f in in_sec)
    assert any("arp_sha=00:00:00:00:00:22 actions=set_field:" in f
               for f in _lines(flows, 74))
    # Out: only the MAC is checked (no per-protocol drops).
    assert sorted(f.priority for f in flows if f.table_id == 75) == [80, 85]


def test_an_ipv6_only_entry_allows_no_arp() -> None:
    flows = port_security_flows(_pb("00:00:00:00:00:25 fd00::25"), 1)
    assert not any("arp_s" in f for f in _lines(flows, 74))
    assert any("ipv6_dst=fd00::25" in f for f in _lines(flows, 75))


def test_entries_without_a_mac_are_ignored_and_none_left_means_no_flows() -> None:
    assert parse_port_security("10.0.0.1") is None
    assert parse_port_security("00:00:00:00:00:01 not-an-ip") is None
    assert port_security_flows(_pb("garbage", "10.0.0.1"), 1) == []
    two = port_security_flows(_pb("00:00:00:00:00:26 10.0.0.26", "x",
                                  "00:00:00:00:00:27 10.0.0.27"), 1)
    assert {f.cookie for f in two} == {0x9DA71818}
    text = " ".join(_lines(two))
    assert "dl_src=00:00:00:00:00:26" in text and "dl_src=00:00:00:00:00:27" in text


def test_the_link_local_address_comes_from_the_mac() -> None:
    ps = parse_port_security("0A:00:00:00:00:21")
    assert ps is not None and ps.mac == "0a:00:00:00:00:21"
    assert ps.lla == "fe80::800:ff:fe00:21"
