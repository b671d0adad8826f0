"""Actions: OVN's own action-parsing test cases (tests/ovn.at, as of OVN 23.03).

Unindented lines are actions; indented lines say how they print
("formats as"; otherwise they print as written), which prerequisites they add
("has prereqs") or which error they raise.  Parsed as test-ovn parses them: in
logical ingress table 10 of 24, with test-ovn's extra symbols and DHCP options.
Cases for actions added after 23.03 (``ct_next(dnat)``, ``select(values=...)``,
``ct_commit_to_zone``...) are left out or expect 23.03's errors.
"""

# ruff: noqa: E501  (OVN's test cases are kept one per line, as in ovn.at)

from __future__ import annotations

import pytest

from pyovn.lflow import (
    ActionParams,
    GenOptionDef,
    LflowError,
    Pipeline,
    format_actions,
    format_expr,
    ovn_symtab,
    parse_actions,
)
from pyovn.lflow.symtab import field, string_field

TEST_SYMTAB = ovn_symtab().extended([
    field("bad_prereq", "xreg0", "xyzzy"),
    field("self_recurse", "xreg0", "self_recurse != 0"),
    field("mutual_recurse_1", "xreg0", "mutual_recurse_2 != 0"),
    field("mutual_recurse_2", "xreg0", "mutual_recurse_1 != 0"),
    string_field("big_string", "xreg0"),
])


def _opts(*defs: tuple[str, int, str]) -> dict[str, GenOptionDef]:
    return {n: GenOptionDef(n, c, t) for n, c, t in defs}


DHCPV4_OPTS = _opts(
    ("offerip", 0, "ipv4"), ("netmask", 1, "ipv4"), ("router", 3, "ipv4"),
    ("dns_server", 6, "ipv4"), ("log_server", 7, "ipv4"), ("lpr_server", 9, "ipv4"),
    ("hostname", 12, "str"), ("domain_name", 15, "str"), ("swap_server", 16, "ipv4"),
    ("policy_filter", 21, "ipv4"), ("router_solicitation", 32, "ipv4"),
    ("nis_server", 41, "ipv4"), ("ntp_server", 42, "ipv4"), ("server_id", 54, "ipv4"),
    ("tftp_server", 66, "host_id"), ("classless_static_route", 121, "static_routes"),
    ("ip_forward_enable", 19, "bool"), ("router_discovery", 31, "bool"),
    ("ethernet_encap", 36, "bool"), ("default_ttl", 23, "uint8"), ("tcp_ttl", 37, "uint8"),
    ("mtu", 26, "uint16"), ("lease_time", 51, "uint32"), ("wpad", 252, "str"),
    ("bootfile_name", 67, "str"), ("path_prefix", 210, "str"),
    ("tftp_server_address", 150, "ipv4"), ("arp_cache_timeout", 35, "uint32"),
    ("tcp_keepalive_interval", 38, "uint32"), ("domain_search_list", 119, "domains"),
    ("bootfile_name_alt", 254, "str"), ("broadcast_address", 28, "ipv4"),
    ("netbios_name_server", 44, "ipv4"), ("netbios_node_type", 46, "uint8"),
    ("next_server", 253, "ipv4"))
DHCPV6_OPTS = _opts(
    ("server_id", 2, "mac"), ("ia_addr", 5, "ipv6"), ("dns_server", 23, "ipv6"),
    ("domain_search", 24, "str"), ("bootfile_name", 59, "str"),
    ("bootfile_name_alt", 254, "str"), ("fqdn", 39, "domain"))
PARAMS = ActionParams(Pipeline.INGRESS, 10, 24, DHCPV4_OPTS, DHCPV6_OPTS)

OVN_ACTION_CASES = r"""
drop;
drop; next;
    Syntax error at `next' expecting end of input.
next; drop;
    Syntax error at `drop' expecting action.
output;
next;
next(11);
    formats as next;
next(0);
next(23);
next();
    Syntax error at `)' expecting "pipeline" or "table".
next(10;
    Syntax error at `;' expecting `)'.
next(24);
    "next" action cannot advance beyond table 23.
next(table=11);
    formats as next;
next(pipeline=ingress);
    formats as next;
next(table=11, pipeline=ingress);
    formats as next;
next(pipeline=ingress, table=11);
    formats as next;
next(pipeline=egress);
    formats as next(pipeline=egress, table=11);
next(pipeline=egress, table=5);
next(table=10);
    formats as next(10);
tcp.dst=80;
    formats as tcp.dst = 80;
    has prereqs ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)
eth.dst[40] = 1;
vlan.pcp = 2;
    has prereqs vlan.tci[12]
vlan.tci[13..15] = 2;
inport = "";
ip.ttl=4;
    formats as ip.ttl = 4;
    has prereqs eth.type == 0x800 || eth.type == 0x86dd
outport="eth0"; next; outport="LOCAL"; next;
    formats as outport = "eth0"; next; outport = "LOCAL"; next;
inport[1] = 1;
    Cannot select subfield of string field inport.
ip.proto[1] = 1;
    Cannot select subfield of nominal field ip.proto.
eth.dst[40] == 1;
    Syntax error at `==' expecting `=' or `<->'.
ip = 1;
    Predicate symbol ip used where lvalue required.
ip.proto = 6;
    Field ip.proto is not modifiable.
inport = {"a", "b"};
    Syntax error at `{' expecting constant.
inport = {};
    Syntax error at `{' expecting constant.
bad_prereq = 123;
    Error parsing expression `xyzzy' encountered as prerequisite or predicate of initial expression: Syntax error at `xyzzy' expecting field name.
self_recurse = 123;
    Error parsing expression `self_recurse != 0' encountered as prerequisite or predicate of initial expression: Error parsing expression `self_recurse != 0' encountered as prerequisite or predicate of initial expression: Recursive expansion of symbol `self_recurse'.
vlan.present = 0;
    Predicate symbol vlan.present used where lvalue required.
reg0=reg1;
    formats as reg0 = reg1;
vlan.pcp = reg0[0..2];
    has prereqs vlan.tci[12]
reg0[10] = vlan.pcp[1];
    has prereqs vlan.tci[12]
outport = inport;
reg0[0] = vlan.present;
    Predicate symbol vlan.present used where lvalue required.
reg0 = reg1[0..10];
    Can't assign 11-bit value to 32-bit destination.
inport = reg0;
    Can't assign integer field (reg0) to string field (inport).
inport = big_string;
    String fields inport and big_string are incompatible for assignment.
ip.proto = reg0[0..7];
    Field ip.proto is not modifiable.
reg0 <-> reg1;
vlan.pcp <-> reg0[0..2];
    has prereqs vlan.tci[12]
reg0[10] <-> vlan.pcp[1];
    has prereqs vlan.tci[12]
outport <-> inport;
reg0[0] <-> vlan.present;
    Predicate symbol vlan.present used where lvalue required.
reg0 <-> reg1[0..10];
    Can't exchange 32-bit field with 11-bit field.
inport <-> reg0;
    Can't exchange string field (inport) with integer field (reg0).
inport <-> big_string;
    String fields inport and big_string are incompatible for exchange.
ip.proto <-> reg0[0..7];
    Field ip.proto is not modifiable.
reg0[0..7] <-> ip.proto;
    Field ip.proto is not modifiable.
ip.ttl--;
    has prereqs ip
ip.ttl
    Syntax error at end of input expecting `--'.
pkt.mark=1;
    formats as pkt.mark = 1;
pkt.mark = 1000;
pkt.mark;
    Syntax error at `pkt.mark' expecting action.
pkt.mark = foo;
    Syntax error at `foo' expecting field name.
pkt.mark = "foo";
    Integer field pkt.mark is not compatible with string constant.
ct_lb;
    has prereqs ip
ct_lb();
    formats as ct_lb;
    has prereqs ip
ct_clear; ct_lb; reg8[7] = 1;
    has prereqs ip
ct_lb(192.168.1.2:80, 192.168.1.3:80);
    Syntax error at `192.168.1.2' expecting backends.
ct_lb(backends=192.168.1.2:80,192.168.1.3:80);
    has prereqs ip
ct_lb(backends=192.168.1.2:80,192.168.1.3:80; skip_snat);
    has prereqs ip
ct_lb(backends=192.168.1.2:80,192.168.1.3:80; force_snat);
    has prereqs ip
ct_lb(backends=192.168.1.2, 192.168.1.3, );
    formats as ct_lb(backends=192.168.1.2,192.168.1.3);
    has prereqs ip
ct_lb(backends=fd0f::2, fd0f::3, );
    formats as ct_lb(backends=fd0f::2,fd0f::3);
    has prereqs ip
ct_lb(backends=192.168.1.2:);
    Syntax error at `)' expecting port number.
ct_lb(backends=192.168.1.2:123456);
    Syntax error at `123456' expecting port number.
ct_lb(backends=foo);
    Syntax error at `foo' expecting IP address.
ct_lb(backends=[192.168.1.2]);
    Syntax error at `192.168.1.2' expecting IPv6 address.
ct_lb(backends=192.168.1.2:80,192.168.1.3:80; hash_fields=eth_src,eth_dst,ip_src);
    Syntax error at `eth_src' invalid hash_fields.
ct_lb(backends=192.168.1.2:80,192.168.1.3:80; hash_fields="eth_src,eth_dst,ip_src");
    has prereqs ip
ct_lb(backends=fd0f::2,fd0f::3; hash_fields="eth_src,eth_dst,ip_src,ip_dst,sctp_src,sctp_dst"; skip_snat);
    has prereqs ip
ct_lb_mark(backends=192.168.1.2:80,192.168.1.3:80);
    has prereqs ip
ct_lb_mark(backends=192.168.1.2:80,192.168.1.3:80; hash_fields="eth_src,eth_dst,ip_src,ip_dst,sctp_src,sctp_dst"; force_snat);
    has prereqs ip
ct_next;
    has prereqs ip
ct_clear; ct_next;
    has prereqs ip
ct_next(dnat);
    Syntax error at `(' expecting `;'.
ct_commit;
    has prereqs ip
ct_commit { };
    formats as ct_commit;
    has prereqs ip
ct_commit { ct_mark=1; };
    formats as ct_commit { ct_mark = 1; };
    has prereqs ip
ct_commit { ct_mark=1/1; };
    formats as ct_commit { ct_mark = 1/1; };
    has prereqs ip
ct_commit { ct_label=1; };
    formats as ct_commit { ct_label = 1; };
    has prereqs ip
ct_commit { ct_label=1/1; };
    formats as ct_commit { ct_label = 1/1; };
    has prereqs ip
ct_commit { ct_mark=1; ct_label=2; };
    formats as ct_commit { ct_mark = 1; ct_label = 2; };
    has prereqs ip
ct_commit { ct_label=0x01020304050607080910111213141516; };
    formats as ct_commit { ct_label = 0x1020304050607080910111213141516; };
    has prereqs ip
ct_commit { ct_label=0x1000000000000000000000000000000/0x1000000000000000000000000000000; };
    formats as ct_commit { ct_label = 0x1000000000000000000000000000000/0x1000000000000000000000000000000; };
    has prereqs ip
ct_commit { ct_label=18446744073709551615; };
    formats as ct_commit { ct_label = 18446744073709551615; };
    has prereqs ip
ct_commit { ct_label[0..47] = 0x00000f040201; ct_label[48..63] = 0x0002; };
    formats as ct_commit { ct_label[0..47] = 0xf040201; ct_label[48..63] = 0x2; };
    has prereqs ip
ct_commit { ct_label=18446744073709551616; };
    Decimal constants must be less than 2**64.
ct_commit { ct_label=0x181716151413121110090807060504030201; };
    141-bit constant is not compatible with 128-bit field ct_label.
ct_commit { ip4.dst = 192.168.0.1; };
    Field ip4.dst is not modifiable.
reg8[17] = 1; ct_commit { ct_mark.blocked = 1; };
    has prereqs ip
ct_clear; ct_commit { }; next;
    formats as ct_clear; ct_commit; next;
    has prereqs ip
ct_commit(ct_mark=1);
    formats as ct_commit(ct_mark=0x1);
    has prereqs ip
ct_commit(ct_mark=1/1);
    formats as ct_commit(ct_mark=0x1/0x1);
    has prereqs ip
ct_commit();
    formats as ct_commit;
    has prereqs ip
ct_dnat;
    has prereqs ip
ct_dnat(192.168.1.2);
    has prereqs ip
ct_dnat(fd11::2);
    has prereqs ip
ct_dnat(192.168.1.2, 1-3000);
    formats as ct_dnat(192.168.1.2,1-3000);
    has prereqs ip
ct_clear; ct_dnat;
    has prereqs ip
ct_dnat(192.168.1.2, 192.168.1.3);
    Syntax error at `192.168.1.3' expecting Integer for port range.
ct_dnat(foo);
    Syntax error at `foo' expecting IPv4 or IPv6 address.
ct_dnat(foo, bar);
    Syntax error at `foo' expecting IPv4 or IPv6 address.
ct_dnat();
    Syntax error at `)' expecting IPv4 or IPv6 address.
ct_dnat(192.168.1.2, foo);
    Syntax error at `foo' expecting Integer for port range.
ct_dnat(192.168.1.2, 1000-foo);
    Syntax error at `foo' expecting Integer for port range.
ct_dnat(192.168.1.2, 1000);
    formats as ct_dnat(192.168.1.2,1000);
    has prereqs ip
ct_dnat(192.168.1.2, 1000-100);
    Syntax error at `100' range high should be greater than range low.
ct_dnat_in_czone(192.168.1.2, 1-3000);
    formats as ct_dnat_in_czone(192.168.1.2,1-3000);
    has prereqs ip
ct_snat(192.168.1.2);
    has prereqs ip
ct_snat(fd11::2);
    has prereqs ip
ct_snat_in_czone(192.168.1.2, 1000);
    formats as ct_snat_in_czone(192.168.1.2,1000);
    has prereqs ip
ct_snat();
    Syntax error at `)' expecting IPv4 or IPv6 address.
ct_clear;
ct_commit_nat;
    has prereqs ip
clone { ip4.dst = 255.255.255.255; output; }; next;
    has prereqs eth.type == 0x800
arp { eth.dst = ff:ff:ff:ff:ff:ff; output; }; output;
    has prereqs ip
arp { };
    formats as arp { drop; };
    has prereqs ip
get_arp(outport, ip4.dst);
    has prereqs eth.type == 0x800
get_arp(inport, reg0);
get_arp;
    Syntax error at `;' expecting `('.
get_arp();
    Syntax error at `)' expecting field name.
get_arp(inport);
    Syntax error at `)' expecting `,'.
get_arp(inport ip4.dst);
    Syntax error at `ip4.dst' expecting `,'.
get_arp(inport, ip4.dst;
    Syntax error at `;' expecting `)'.
get_arp(inport, eth.dst);
    Cannot use 48-bit field eth.dst[0..47] where 32-bit field is required.
get_arp(inport, outport);
    Cannot use string field outport where numeric field is required.
get_arp(reg0, ip4.dst);
    Cannot use numeric field reg0 where string field is required.
put_arp(inport, arp.spa, arp.sha);
    has prereqs eth.type == 0x806 && eth.type == 0x806
reg0[0] = lookup_arp(inport, ip4.dst, eth.src);
    has prereqs eth.type == 0x800
reg1[1] = lookup_arp(inport, arp.spa, arp.sha);
    has prereqs eth.type == 0x806 && eth.type == 0x806
lookup_arp;
    Syntax error at `lookup_arp' expecting action.
reg0[0] = lookup_arp;
    Syntax error at `lookup_arp' expecting field name.
reg0[0] = lookup_arp();
    Syntax error at `)' expecting field name.
reg0[0] = lookup_arp(inport);
    Syntax error at `)' expecting `,'.
reg0[0] = lookup_arp(inport ip4.dst);
    Syntax error at `ip4.dst' expecting `,'.
reg0[0] = lookup_arp(inport, ip4.dst;
    Syntax error at `;' expecting `,'.
reg0[0] = lookup_arp(inport, ip4.dst, eth.src;
    Syntax error at `;' expecting `)'.
reg0[0] = lookup_arp(inport, eth.dst);
    Cannot use 48-bit field eth.dst[0..47] where 32-bit field is required.
reg0[0] = lookup_arp(inport, ip4.src, ip4.dst);
    Cannot use 32-bit field ip4.dst[0..31] where 48-bit field is required.
reg0[0] = lookup_arp_ip(inport, ip4.dst);
    has prereqs eth.type == 0x800
reg1[1] = lookup_arp_ip(inport, arp.spa);
    has prereqs eth.type == 0x806
reg0[0] = lookup_arp_ip(inport, ip4.dst, eth.src;
    Syntax error at `,' expecting `)'.
reg1[0] = put_dhcp_opts(offerip = 1.2.3.4, router = 10.0.0.1);
reg2[5] = put_dhcp_opts(offerip=10.0.0.4,router=10.0.0.1,netmask=255.255.254.0,mtu=1400,domain_name="ovn.org",wpad="https://example.org",bootfile_name="https://127.0.0.1/boot.ipxe",path_prefix="/tftpboot", next_server=10.0.0.9);
    formats as reg2[5] = put_dhcp_opts(offerip = 10.0.0.4, router = 10.0.0.1, netmask = 255.255.254.0, mtu = 1400, domain_name = "ovn.org", wpad = "https://example.org", bootfile_name = "https://127.0.0.1/boot.ipxe", path_prefix = "/tftpboot", next_server = 10.0.0.9);
reg0[15] = put_dhcp_opts(offerip=10.0.0.4,router=10.0.0.1,netmask=255.255.255.0,mtu=1400,ip_forward_enable=1,default_ttl=121,dns_server={8.8.8.8,7.7.7.7},classless_static_route={30.0.0.0/24,10.0.0.4,40.0.0.0/16,10.0.0.6,0.0.0.0/0,10.0.0.1},ethernet_encap=1,router_discovery=0,tftp_server_address={10.0.0.4,10.0.0.5},arp_cache_timeout=10,tcp_keepalive_interval=10);
    formats as reg0[15] = put_dhcp_opts(offerip = 10.0.0.4, router = 10.0.0.1, netmask = 255.255.255.0, mtu = 1400, ip_forward_enable = 1, default_ttl = 121, dns_server = {8.8.8.8, 7.7.7.7}, classless_static_route = {30.0.0.0/24, 10.0.0.4, 40.0.0.0/16, 10.0.0.6, 0.0.0.0/0, 10.0.0.1}, ethernet_encap = 1, router_discovery = 0, tftp_server_address = {10.0.0.4, 10.0.0.5}, arp_cache_timeout = 10, tcp_keepalive_interval = 10);
reg0[15] = put_dhcp_opts(offerip=10.0.0.4,router=10.0.0.1,netmask=255.255.255.0,mtu=1400,ip_forward_enable=1,default_ttl=121,dns_server={8.8.8.8,7.7.7.7},classless_static_route={30.0.0.0/24,10.0.0.4,40.0.0.0/16,10.0.0.6,0.0.0.0/0,10.0.0.1},ethernet_encap=1,router_discovery=0,tftp_server="tftp_server_test");
    formats as reg0[15] = put_dhcp_opts(offerip = 10.0.0.4, router = 10.0.0.1, netmask = 255.255.255.0, mtu = 1400, ip_forward_enable = 1, default_ttl = 121, dns_server = {8.8.8.8, 7.7.7.7}, classless_static_route = {30.0.0.0/24, 10.0.0.4, 40.0.0.0/16, 10.0.0.6, 0.0.0.0/0, 10.0.0.1}, ethernet_encap = 1, router_discovery = 0, tftp_server = "tftp_server_test");
reg1[0..1] = put_dhcp_opts(offerip = 1.2.3.4, router = 10.0.0.1);
    Cannot use 2-bit field reg1[0..1] where 1-bit field is required.
reg1[0] = put_dhcp_opts();
    put_dhcp_opts requires offerip to be specified.
reg1[0] = put_dhcp_opts(x = 1.2.3.4, router = 10.0.0.1);
    Syntax error at `x' expecting DHCPv4 option name.
reg1[0] = put_dhcp_opts(router = 10.0.0.1);
    put_dhcp_opts requires offerip to be specified.
reg1[0] = put_dhcp_opts(offerip=1.2.3.4, "hi");
    Syntax error at `"hi"'.
reg1[0] = put_dhcp_opts(offerip=1.2.3.4, xyzzy);
    Syntax error at `xyzzy' expecting DHCPv4 option name.
reg1[0] = put_dhcp_opts(offerip="xyzzy");
    DHCPv4 option offerip requires numeric value.
reg1[0] = put_dhcp_opts(offerip=1.2.3.4, domain_name=1.2.3.4);
    DHCPv4 option domain_name requires string value.
nd_ns { nd.target = xxreg0; output; };
    has prereqs ip
nd_ns { };
    formats as nd_ns { drop; };
    has prereqs ip
nd_na { eth.src = 12:34:56:78:9a:bc; nd.tll = 12:34:56:78:9a:bc; outport = inport; inport = ""; /* Allow sending out inport. */ output; };
    formats as nd_na { eth.src = 12:34:56:78:9a:bc; nd.tll = 12:34:56:78:9a:bc; outport = inport; inport = ""; output; };
    has prereqs nd_ns
nd_na_router { eth.src = 12:34:56:78:9a:bc; nd.tll = 12:34:56:78:9a:bc; outport = inport; inport = ""; /* Allow sending out inport. */ output; };
    formats as nd_na_router { eth.src = 12:34:56:78:9a:bc; nd.tll = 12:34:56:78:9a:bc; outport = inport; inport = ""; output; };
    has prereqs nd_ns
get_nd(outport, ip6.dst);
    has prereqs eth.type == 0x86dd
get_nd(inport, eth.dst);
    Cannot use 48-bit field eth.dst[0..47] where 128-bit field is required.
put_nd(inport, nd.target, nd.sll);
    has prereqs (icmp6.type == 0x87 || icmp6.type == 0x88) && eth.type == 0x86dd && ip.proto == 0x3a && (eth.type == 0x800 || eth.type == 0x86dd) && icmp6.code == 0 && eth.type == 0x86dd && ip.proto == 0x3a && (eth.type == 0x800 || eth.type == 0x86dd) && ip.ttl == 0xff && (eth.type == 0x800 || eth.type == 0x86dd) && icmp6.type == 0x87 && eth.type == 0x86dd && ip.proto == 0x3a && (eth.type == 0x800 || eth.type == 0x86dd) && icmp6.code == 0 && eth.type == 0x86dd && ip.proto == 0x3a && (eth.type == 0x800 || eth.type == 0x86dd) && ip.ttl == 0xff && (eth.type == 0x800 || eth.type == 0x86dd)
reg1[0] = put_dhcpv6_opts(ia_addr = ae70::4, server_id = 00:00:00:00:10:02);
reg1[0] = put_dhcpv6_opts();
reg1[0] = put_dhcpv6_opts(dns_server={ae70::1,ae70::2});
    formats as reg1[0] = put_dhcpv6_opts(dns_server = {ae70::1, ae70::2});
reg1[0] = put_dhcpv6_opts(x = 1.2.3.4);
    Syntax error at `x' expecting DHCPv6 option name.
reg1[0] = put_dhcpv6_opts(ia_addr="ae70::4");
    DHCPv6 option ia_addr requires numeric value.
reg2[0] = lookup_nd(inport, ip6.dst, eth.src);
    has prereqs eth.type == 0x86dd
reg0[0] = lookup_nd(inport, ip6.src, ip6.dst);
    Cannot use 128-bit field ip6.dst[0..127] where 48-bit field is required.
reg2[0] = lookup_nd_ip(inport, ip6.dst);
    has prereqs eth.type == 0x86dd
set_queue(0);
set_queue(61440);
set_queue(65535);
    Queue ID 65535 for set_queue is not in valid range 0 to 61440.
reg1[0] = dns_lookup();
    has prereqs udp
reg1[0] = dns_lookup("foo");
    dns_lookup doesn't take any parameters
set_meter(0);
    Rate 0 for set_meter is not in valid.
set_meter(1);
set_meter(100, 1000);
set_meter(100, 1000, );
    Syntax error at `,' expecting `)'.
set_meter(4294967295, 4294967295);
log(verdict=allow, severity=warning);
log(name="test1", verdict=drop, severity=info);
log(verdict=drop, severity=info, meter="meter1");
log(name="test1", verdict=drop, severity=info, meter="meter1");
log(verdict=drop);
    formats as log(verdict=drop, severity=info);
log(verdict=bad_verdict, severity=info);
    Syntax error at `bad_verdict' unknown verdict.
log(verdict=drop, severity=bad_severity);
    Syntax error at `bad_severity' unknown severity.
log(severity=notice);
    Syntax error at `;' expecting verdict.
reg1[0] = put_nd_ra_opts(addr_mode = "slaac", mtu = 1500, router_preference = "HIGH", prefix = aef0::/64, slla = ae:01:02:03:04:05);
    has prereqs ip6
reg1[0] = put_nd_ra_opts(addr_mode = "slaac", mtu = 1500, prefix = aef0::/64);
    slla option not present
reg1[0] = put_nd_ra_opts(addr_mode = "slaac", slla = ae:01:02:03:04:10);
    prefix option needs to be set when address mode is slaac/dhcpv6_stateless.
reg1[0] = put_nd_ra_opts(addr_mode = dhcpv6_stateless, prefix = aef0::/64, slla = ae:01:02:03:04:10);
    Syntax error at `dhcpv6_stateless' expecting constant.
reg1[0] = put_nd_ra_opts(addr_mode = "slaac", mtu = 1500, prefix = aef0::, slla = ae:01:02:03:04:10);
    Invalid value for "prefix" option
reg1[0] = put_nd_ra_opts(addr_mode = "foo", mtu = 1500, slla = ae:01:02:03:04:10);
    Invalid value for "addr_mode" option
reg1[0] = put_nd_ra_opts(addr_mode = "slaac", mtu = "1500", slla = ae:01:02:03:04:10);
    IPv6 ND RA option mtu requires numeric value.
reg1[0] = put_nd_ra_opts(addr_mode = "slaac", mtu = 10.0.0.4, slla = ae:01:02:03:04:10);
    Invalid value for "mtu" option
icmp4 { eth.dst = ff:ff:ff:ff:ff:ff; output; }; output;
    has prereqs ip4
icmp4 { };
    formats as icmp4 { drop; };
    has prereqs ip4
icmp4 { eth.dst = ff:ff:ff:ff:ff:ff; icmp4.frag_mtu = 1500; output; }; output;
    has prereqs ip4
icmp4_error { };
    formats as icmp4_error { drop; };
    has prereqs ip4
icmp4.frag_mtu = 1500;
icmp6 { };
    formats as icmp6 { drop; };
    has prereqs ip6
icmp6_error { eth.dst = ff:ff:ff:ff:ff:ff; icmp6.frag_mtu = 1500; output; }; output;
    has prereqs ip6
icmp6.frag_mtu = 1500;
tcp_reset { eth.dst = ff:ff:ff:ff:ff:ff; output; }; output;
    has prereqs tcp
tcp_reset { };
    formats as tcp_reset { drop; };
    has prereqs tcp
sctp_abort {eth.dst = ff:ff:ff:ff:ff:ff; output; }; output;
    formats as sctp_abort { eth.dst = ff:ff:ff:ff:ff:ff; output; }; output;
    has prereqs sctp
reject { eth.dst = ff:ff:ff:ff:ff:ff; output; }; output;
reject { };
    formats as reject { drop; };
trigger_event(event = "empty_lb_backends", vip = "10.0.0.1:80", protocol = "tcp", load_balancer = "12345678-abcd-9876-fedc-11119f8e7d6c");
trigger_event(event = "empty_lb_backends", vip = "10.0.0.1:80", protocol = "aarp", load_balancer = "12345678-abcd-9876-fedc-11119f8e7d6c");
    Load balancer protocol 'aarp' is not 'tcp', 'udp', or 'sctp'
trigger_event(event = "empty_lb_backends", vip = "10.0.0.1:80", protocol = "tcp", load_balancer = "bacon");
    Load balancer 'bacon' is not a UUID
igmp;
ip4.src = ip6.src[0..31];
    has prereqs eth.type == 0x800 && eth.type == 0x86dd
ip4.src <-> ip6.src[0..31];
    has prereqs eth.type == 0x800 && eth.type == 0x86dd
reg0[0] = check_pkt_larger(1500);
reg0 = check_pkt_larger(1500);
    Cannot use 32-bit field reg0[0..31] where 1-bit field is required.
reg0 = check_pkt_larger(foo);
    Cannot use 32-bit field reg0[0..31] where 1-bit field is required.
reg0[0] = check_pkt_larger(foo);
    Syntax error at `foo' expecting `;'.
bind_vport("lsp1", inport);
bind_vport;
    Syntax error at `;' expecting `('.
bind_vport(;
    Syntax error at `;' expecting port name string.
bind_vport("xyzzy";
    Syntax error at `;' expecting `,'.
bind_vport("xyzzy",;
    Syntax error at `;' expecting field name.
bind_vport("xyzzy", inport;
    Syntax error at `;' expecting `)'.
handle_svc_check(inport);
handle_svc_check(outport);
handle_svc_check();
    Syntax error at `)' expecting field name.
handle_svc_check(reg0);
    Cannot use numeric field reg0 where string field is required.
reg9[16..31] = select(1=50, 2=100, 3, );
    formats as reg9[16..31] = select(1=50, 2=100, 3=100);
reg0 = select(1, 2);
    formats as reg0 = select(1=100, 2=100);
reg0 = select(1=, 2);
    Syntax error at `,' expecting weight.
reg0 = select(1=0, 2);
    Syntax error at `,' weight can't be 0.
reg0 = select(1=123456, 2);
    Syntax error at `123456' expecting weight.
reg0 = select(123);
    Syntax error at `;' expecting at least 2 group members.
ip.proto = select(1, 2, 3);
    Field ip.proto is not modifiable.
reg0[0..14] = select(1, 2, 3);
    cannot use 15-bit field reg0[0..14] for "select", which requires at least 16 bits.
fwd_group(liveness=true, childports="eth0", "lsp1");
    formats as fwd_group(liveness="true", childports="eth0", "lsp1");
fwd_group(childports="eth0", "lsp1");
fwd_group(childports=eth0);
    Syntax error at `eth0' expecting logical switch port.
fwd_group();
    Syntax error at `)' expecting `;'.
fwd_group(liveness=xyzzy, childports="eth0", "lsp1");
    Syntax error at `xyzzy' expecting true or false.
fwd_group(liveness=false childports="eth0", "lsp1");
    Syntax error at `childports' expecting `,'.
handle_dhcpv6_reply;
reg0[0] = chk_lb_hairpin();
reg2[2] = chk_lb_hairpin();
reg0 = chk_lb_hairpin();
    Cannot use 32-bit field reg0[0..31] where 1-bit field is required.
reg0[0] = chk_lb_hairpin(foo);
    chk_lb_hairpin doesn't take any parameters
chk_lb_hairpin;
    Syntax error at `chk_lb_hairpin' expecting action.
reg0[0] = chk_lb_hairpin_reply();
reg2[2..3] = chk_lb_hairpin_reply();
    Cannot use 2-bit field reg2[2..3] where 1-bit field is required.
ct_snat_to_vip;
ct_snat_to_vip(foo);
    Syntax error at `(' expecting `;'.
handle_bfd_msg();
put_fdb(inport, arp.sha);
    has prereqs eth.type == 0x806
put_fdb(inport, eth.src);
put_fdb(inport, ip4.src);
    Cannot use 32-bit field ip4.src[0..31] where 48-bit field is required.
outport = get_fdb(eth.dst);
outport = get_fdb(eth.src);
inport = get_fdb(arp.sha);
    has prereqs eth.type == 0x806
reg0 = get_fdb(arp.tha);
    has prereqs eth.type == 0x806
reg0[1..3] = get_fdb(eth.src);
    Cannot use 3-bit field reg0[1..3] where 32-bit field is required.
reg15 = get_fdb(eth.dst);
    Syntax error at `reg15' expecting field name.
outport = get_fdb(ip4.dst);
    Cannot use 32-bit field ip4.dst[0..31] where 48-bit field is required.
reg0[0] = lookup_fdb(inport, eth.src);
reg1[4] = lookup_fdb(outport, eth.dst);
reg0[0] = lookup_fdb(outport, arp.sha);
    has prereqs eth.type == 0x806
reg0 = lookup_fdb(outport, arp.sha);
    Cannot use 32-bit field reg0[0..31] where 1-bit field is required.
outport = lookup_fdb(outport, arp.sha);
    Cannot use string field outport where numeric field is required.
reg1[1] = lookup_fdb(outport, ip4.src);
    Cannot use 32-bit field ip4.src[0..31] where 48-bit field is required.
reg1[1] = lookup_fdb(ip4.src, eth.src);
    Cannot use numeric field ip4.src where string field is required.
reg0[0] = check_in_port_sec();
reg2[2] = check_in_port_sec();
reg0 = check_in_port_sec();
    Cannot use 32-bit field reg0[0..31] where 1-bit field is required.
reg0[0] = check_in_port_sec(foo);
    check_in_port_sec doesn't take any parameters
check_in_port_sec;
    Syntax error at `check_in_port_sec' expecting action.
reg0[0] = check_out_port_sec();
reg2[2..3] = check_out_port_sec();
    Cannot use 2-bit field reg2[2..3] where 1-bit field is required.
reg0 = check_out_port_sec();
    Cannot use 32-bit field reg0[0..31] where 1-bit field is required.
reg0[0] = check_out_port_sec(foo);
    check_out_port_sec doesn't take any parameters
check_out_port_sec;
    Syntax error at `check_out_port_sec' expecting action.
commit_ecmp_nh(ipv6 = "false", proto = tcp);
    formats as commit_ecmp_nh(ipv6 = false, proto = tcp);
commit_ecmp_nh(ipv6 = "true", proto = udp);
    formats as commit_ecmp_nh(ipv6 = true, proto = udp);
commit_ecmp_nh(proto = sctp);
    Syntax error at `proto' invalid parameter.
reg9[5] = chk_ecmp_nh_mac();
reg9[5] = chk_ecmp_nh();
commit_lb_aff(vip = "172.16.0.123:8080", backend = "10.0.0.3:8080", proto = tcp, timeout = 30);
commit_lb_aff(vip = "172.16.0.123", backend = "10.0.0.3", timeout = 30);
commit_lb_aff(vip = "[::1]:8080", backend = "[::2]:8080", proto = tcp, timeout = 30);
reg9[6] = chk_lb_aff();
push(xxreg0);push(xxreg1[10..20]);push(eth.src);pop(xxreg0[0..47]);pop(xxreg0[48..57]);pop(xxreg1);
    formats as push(xxreg0); push(xxreg1[10..20]); push(eth.src); pop(xxreg0[0..47]); pop(xxreg0[48..57]); pop(xxreg1);
pop(eth.type);
    Field eth.type is not modifiable.
push(abc);
    Syntax error at `abc' expecting field name.
sample(probability=100,collector_set=200,obs_domain=0,obs_point=1000);
sample(probability=100,collector_set=200,obs_domain=10,obs_point=$cookie);
sample(probability=10);
    formats as sample(probability=10,collector_set=0,obs_domain=0,obs_point=0);
sample(probability=0,collector_set=200,obs_domain=0,obs_point=1000);
    probability must be greater than zero
"""


def _cases() -> list[tuple[str, str, str | None, str | None]]:
    """(actions, how they print, prerequisites, error)."""
    cases: list[tuple[str, list[str]]] = []
    for line in OVN_ACTION_CASES.strip("\n").splitlines():
        if line.startswith("    "):
            cases[-1][1].append(line.strip())
        else:
            cases.append((line, []))
    out = []
    for text, notes in cases:
        printed, prereqs, error = text, None, None
        for note in notes:
            if note.startswith("formats as "):
                printed = note.removeprefix("formats as ")
            elif note.startswith("has prereqs "):
                prereqs = note.removeprefix("has prereqs ")
            else:
                error = note
        out.append((text, printed, prereqs, error))
    return out


@pytest.mark.parametrize(("text", "printed", "prereqs", "error"), _cases())
def test_actions_parse_print_and_fail_as_in_ovn_test_suite(
        text: str, printed: str, prereqs: str | None, error: str | None) -> None:
    if error is not None:
        with pytest.raises(LflowError) as info:
            parse_actions(text, TEST_SYMTAB, PARAMS)
        assert str(info.value) == error
        return
    parsed = parse_actions(text, TEST_SYMTAB, PARAMS)
    assert format_actions(parsed.actions) == printed
    assert (format_expr(parsed.prereqs) if parsed.prereqs else None) == prereqs
    # The printed form is canonical: it parses back and prints the same.
    assert format_actions(parse_actions(printed, TEST_SYMTAB, PARAMS).actions) == printed
