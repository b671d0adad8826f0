"""The match compiler: OVN's own expression-to-flows cases and its contract.

``OVN_CASES`` are the inputs of OVN's tests "converting expressions to flows"
(string fields, address sets, port groups, conjunction) and "simplification
special cases" (``tests/ovn.at``, now ``tests/ovn-components.at``) with test-ovn's
names: ports eth0 = 5, eth1 = 6, lsp1..3 = 0x11..0x13 (port group pg1), address
sets set1..set4.  Their expected flows are what the installed ovn-controller
23.03.1 installed for each (see ``test_lflow_compile_oracle.py`` for how),
not the upstream test's text, which differs where OVN changed after 23.03:

- 23.03 makes a conjunctive match of ``inport == {...} && tcp.dst == {...}``
  (two clauses); later OVN crossproducts port-name sets;
- test-ovn's port "LOCAL" (0xfffe) cannot exist in a Southbound database, so
  it is unknown here and matches nothing.

``TARGETED_CASES`` (same source) pin the corner cases: flows shared by two
conjunctions, a plain flow absorbing a conjunction flow, a clause whose ports
are all unknown (the earlier clauses stay, the id is used up), ``"none"``,
multicast groups, ``is_chassis_resident``, ``ip.dscp``/``ip.ecn`` (which
ovn-controller 23.03 silently does not match), 12- and 20-bit fields,
``must_crossproduct`` symbols, registers sharing one symbol, and the repeats
that crushing ``x != 80 && x == 22`` makes (23.03 removes them; the expr.c of
later releases does not).
"""

# ruff: noqa: E501  (one flow per line, as ovn-controller printed it)

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from pyovn.lflow import (
    LflowSemanticError,
    annotate,
    format_expr,
    parse_expr,
)
from pyovn.lflow.compile_match import CompiledMatch, compile_match
from pyovn.lflow.normalize import normalize
from pyovn.lflow.simplify import evaluate_conditions, simplify
from pyovn.openflow import Match, parse_flow

PORTS = {"lp1": 1, "eth0": 5, "eth1": 6, "lsp1": 0x11, "lsp2": 0x12, "lsp3": 0x13, "mc1": 32769}
ADDRESS_SETS = {
    "set1": ["10.0.0.1", "10.0.0.2", "10.0.0.3"], "set2": ["::1", "::2", "::3"],
    "set3": ["00:00:00:00:00:01", "00:00:00:00:00:02", "00:00:00:00:00:03"], "set4": []}
# Port groups as the translator hands them over: reduced to the local ports.
OVN_PORT_GROUPS = {"1_pg1": ["lsp1", "lsp2", "lsp3"], "1_pg_empty": []}
OVN_RESIDENT = {"eth1", "lsp1", "lsp2", "lsp3"}
TARGETED_PORT_GROUPS = {"1_pg1": ["lsp1", "lsp2"], "1_pg_empty": []}
TARGETED_RESIDENT = {"lp1", "lsp1", "lsp2"}

Pairs = set[tuple[Match, tuple[tuple[int, int, int], ...]]]


def compile_text(text: str, *, port_groups: dict[str, list[str]] = OVN_PORT_GROUPS,
                 resident: set[str] = OVN_RESIDENT, conj_id_base: int = 1,
                 lookup: Callable[[str], int | None] = PORTS.get,
                 ) -> tuple[list[CompiledMatch], int]:
    """Parse, annotate and compile ``text`` on datapath 1."""
    expr = annotate(parse_expr(text, address_sets=ADDRESS_SETS, port_groups=port_groups,
                               dp_key=1).expr)
    return compile_match(expr, lookup_port=lookup, conj_id_base=conj_id_base,
                         is_chassis_resident=resident.__contains__)


def pairs(matches: list[CompiledMatch]) -> Pairs:
    """The compiled matches as a set of (match, conjunctions)."""
    return {(m.match, m.conjunctions) for m in matches}


_CONJ = re.compile(r"conjunction\((\d+),(\d+)/(\d+)\)")


def expected(lines: list[str]) -> Pairs:
    """Parse ``match`` / ``match -> conjunction(...)`` lines into canonical pairs."""
    out = set()
    for line in lines:
        match, _, actions = line.partition(" -> ")
        conjs = tuple((int(i), int(k), int(n)) for i, k, n in _CONJ.findall(actions))
        out.add((parse_flow(f"{match} actions=drop").match, conjs))
    return out


OVN_CASES = [
    ('inport == "eth0"',
     ['reg14=0x5']),
    ('inport == "eth1"',
     ['reg14=0x6']),
    ('inport == "eth2"',
     []),
    ('inport == "eth0" && ip',
     ['ip,reg14=0x5',
      'ipv6,reg14=0x5']),
    ('inport == "eth1" && ip',
     ['ip,reg14=0x6',
      'ipv6,reg14=0x6']),
    ('inport == "eth2" && ip',
     []),
    ('inport == {"eth0", "eth1", "eth2", "LOCAL"}',
     ['reg14=0x5',
      'reg14=0x6']),
    ('inport == {"eth0", "eth1", "eth2"} && ip',
     ['ip,reg14=0x5',
      'ip,reg14=0x6',
      'ipv6,reg14=0x5',
      'ipv6,reg14=0x6']),
    ('inport == {"eth0", "eth1", "eth2"} && ip4 && tcp && tcp.dst == {500, 501}',
     ['conj_id=1,tcp',
      'tcp,reg14=0x5 -> conjunction(1,1/2)',
      'tcp,reg14=0x6 -> conjunction(1,1/2)',
      'tcp,tp_dst=500 -> conjunction(1,2/2)',
      'tcp,tp_dst=501 -> conjunction(1,2/2)']),
    ('outport == {"eth0", "eth1", "eth2"} && ip4 && tcp && tcp.src == {400, 401} && tcp.dst == {500, 501}',
     ['conj_id=1,tcp',
      'tcp,reg15=0x5 -> conjunction(1,1/3)',
      'tcp,reg15=0x6 -> conjunction(1,1/3)',
      'tcp,tp_dst=500 -> conjunction(1,2/3)',
      'tcp,tp_dst=501 -> conjunction(1,2/3)',
      'tcp,tp_src=400 -> conjunction(1,3/3)',
      'tcp,tp_src=401 -> conjunction(1,3/3)']),
    ('inport == "eth0" && inport == "eth1"',
     []),
    ('ip4.src == {10.0.0.1, 10.0.0.2, 10.0.0.3}',
     ['ip,nw_src=10.0.0.1',
      'ip,nw_src=10.0.0.2',
      'ip,nw_src=10.0.0.3']),
    ('ip4.src == $set1',
     ['ip,nw_src=10.0.0.1',
      'ip,nw_src=10.0.0.2',
      'ip,nw_src=10.0.0.3']),
    ('ip4.src == {1.2.3.4, $set1}',
     ['ip,nw_src=1.2.3.4',
      'ip,nw_src=10.0.0.1',
      'ip,nw_src=10.0.0.2',
      'ip,nw_src=10.0.0.3']),
    ('ip4.src == {1.2.0.0/20, 5.5.5.0/24, $set1}',
     ['ip,nw_src=1.2.0.0/20',
      'ip,nw_src=10.0.0.1',
      'ip,nw_src=10.0.0.2',
      'ip,nw_src=10.0.0.3',
      'ip,nw_src=5.5.5.0/24']),
    ('ip6.src == {::1, ::2, ::3}',
     ['ipv6,ipv6_src=::1',
      'ipv6,ipv6_src=::2',
      'ipv6,ipv6_src=::3']),
    ('ip6.src == {::1, $set2, ::4}',
     ['ipv6,ipv6_src=::1',
      'ipv6,ipv6_src=::2',
      'ipv6,ipv6_src=::3',
      'ipv6,ipv6_src=::4']),
    ('eth.src == {00:00:00:00:00:01, 00:00:00:00:00:02, 00:00:00:00:00:03}',
     ['dl_src=00:00:00:00:00:01',
      'dl_src=00:00:00:00:00:02',
      'dl_src=00:00:00:00:00:03']),
    ('eth.src == {$set3}',
     ['dl_src=00:00:00:00:00:01',
      'dl_src=00:00:00:00:00:02',
      'dl_src=00:00:00:00:00:03']),
    ('eth.src == {00:00:00:00:00:01, $set3, ba:be:be:ef:de:ad, $set3}',
     ['dl_src=00:00:00:00:00:01',
      'dl_src=00:00:00:00:00:02',
      'dl_src=00:00:00:00:00:03',
      'dl_src=ba:be:be:ef:de:ad']),
    ('ip4.src == {$set4}',
     []),
    ('ip4.src == {1.2.3.4, $set4}',
     ['ip,nw_src=1.2.3.4']),
    ('ip4.src == 1.2.3.4 || ip4.src == {$set4}',
     ['ip,nw_src=1.2.3.4']),
    ('ip4.src != {$set4}',
     ['']),
    ('ip4.src != {1.0.0.0/8, $set4}',
     ['ip,nw_src=0.0.0.0/1.0.0.0',
      'ip,nw_src=128.0.0.0/1',
      'ip,nw_src=16.0.0.0/16.0.0.0',
      'ip,nw_src=2.0.0.0/2.0.0.0',
      'ip,nw_src=32.0.0.0/32.0.0.0',
      'ip,nw_src=4.0.0.0/4.0.0.0',
      'ip,nw_src=64.0.0.0/64.0.0.0',
      'ip,nw_src=8.0.0.0/8.0.0.0']),
    ('ip4.src != 1.0.0.0/8 && ip4.src != {$set4}',
     ['ip,nw_src=0.0.0.0/1.0.0.0',
      'ip,nw_src=128.0.0.0/1',
      'ip,nw_src=16.0.0.0/16.0.0.0',
      'ip,nw_src=2.0.0.0/2.0.0.0',
      'ip,nw_src=32.0.0.0/32.0.0.0',
      'ip,nw_src=4.0.0.0/4.0.0.0',
      'ip,nw_src=64.0.0.0/64.0.0.0',
      'ip,nw_src=8.0.0.0/8.0.0.0']),
    ('outport == @pg1',
     ['reg15=0x11',
      'reg15=0x12',
      'reg15=0x13']),
    ('outport == @pg1 && ip4.src == {10.0.0.4, 10.0.0.5}',
     ['conj_id=1,ip',
      'ip,nw_src=10.0.0.4 -> conjunction(1,1/2)',
      'ip,nw_src=10.0.0.5 -> conjunction(1,1/2)',
      'ip,reg15=0x11 -> conjunction(1,2/2)',
      'ip,reg15=0x12 -> conjunction(1,2/2)',
      'ip,reg15=0x13 -> conjunction(1,2/2)']),
    ('outport == {@pg_empty}',
     []),
    ('outport == {"lsp1", @pg_empty}',
     ['reg15=0x11']),
    ('ip4.src == {10.0.0.1, 10.0.0.2, 10.0.0.3} && ip4.dst == {20.0.0.1, 20.0.0.2, 20.0.0.3}',
     ['conj_id=1,ip',
      'ip,nw_dst=20.0.0.1 -> conjunction(1,1/2)',
      'ip,nw_dst=20.0.0.2 -> conjunction(1,1/2)',
      'ip,nw_dst=20.0.0.3 -> conjunction(1,1/2)',
      'ip,nw_src=10.0.0.1 -> conjunction(1,2/2)',
      'ip,nw_src=10.0.0.2 -> conjunction(1,2/2)',
      'ip,nw_src=10.0.0.3 -> conjunction(1,2/2)']),
    ('ip && (!ct.est || (ct.est && ct_label.blocked == 1))',
     ['ct_state=+est+trk,ct_label=0x1/0x1,ip',
      'ct_state=+est+trk,ct_label=0x1/0x1,ipv6',
      'ct_state=-est+trk,ip',
      'ct_state=-est+trk,ipv6']),
    ('ip4.src == {10.0.0.1, 10.0.0.2, 10.0.0.3} && ip4.dst == {20.0.0.1, 20.0.0.2}',
     ['conj_id=1,ip',
      'ip,nw_dst=20.0.0.1 -> conjunction(1,1/2)',
      'ip,nw_dst=20.0.0.2 -> conjunction(1,1/2)',
      'ip,nw_src=10.0.0.1 -> conjunction(1,2/2)',
      'ip,nw_src=10.0.0.2 -> conjunction(1,2/2)',
      'ip,nw_src=10.0.0.3 -> conjunction(1,2/2)']),
    ('ip4 && ip4.src == {10.0.0.1, 10.0.0.2, 10.0.0.3} && ip4.dst == {20.0.0.1, 20.0.0.2, 20.0.0.3} && tcp.dst >= 1000 && tcp.dst <= 1010',
     ['conj_id=1,tcp',
      'tcp,nw_dst=20.0.0.1 -> conjunction(1,1/3)',
      'tcp,nw_dst=20.0.0.2 -> conjunction(1,1/3)',
      'tcp,nw_dst=20.0.0.3 -> conjunction(1,1/3)',
      'tcp,nw_src=10.0.0.1 -> conjunction(1,2/3)',
      'tcp,nw_src=10.0.0.2 -> conjunction(1,2/3)',
      'tcp,nw_src=10.0.0.3 -> conjunction(1,2/3)',
      'tcp,tp_dst=0x3ea/0xfffe -> conjunction(1,3/3)',
      'tcp,tp_dst=0x3ec/0xfffc -> conjunction(1,3/3)',
      'tcp,tp_dst=0x3f0/0xfffe -> conjunction(1,3/3)',
      'tcp,tp_dst=1000 -> conjunction(1,3/3)',
      'tcp,tp_dst=1001 -> conjunction(1,3/3)',
      'tcp,tp_dst=1010 -> conjunction(1,3/3)']),
    ('ip4 && ip4.src == {10.0.0.4, 10.0.0.5, 10.0.0.6} && ((ip4.dst == {20.0.0.4, 20.0.0.7, 20.0.0.8} && tcp.dst >= 1000 && tcp.dst <= 2000 && tcp.src >=1000 && tcp.src <= 2000) || ip4.dst == 20.0.0.5 || ip4.dst == 20.0.0.6)',
     ['conj_id=1,tcp',
      'ip,nw_src=10.0.0.4,nw_dst=20.0.0.5',
      'ip,nw_src=10.0.0.4,nw_dst=20.0.0.6',
      'ip,nw_src=10.0.0.5,nw_dst=20.0.0.5',
      'ip,nw_src=10.0.0.5,nw_dst=20.0.0.6',
      'ip,nw_src=10.0.0.6,nw_dst=20.0.0.5',
      'ip,nw_src=10.0.0.6,nw_dst=20.0.0.6',
      'tcp,nw_dst=20.0.0.4 -> conjunction(1,1/4)',
      'tcp,nw_dst=20.0.0.7 -> conjunction(1,1/4)',
      'tcp,nw_dst=20.0.0.8 -> conjunction(1,1/4)',
      'tcp,nw_src=10.0.0.4 -> conjunction(1,2/4)',
      'tcp,nw_src=10.0.0.5 -> conjunction(1,2/4)',
      'tcp,nw_src=10.0.0.6 -> conjunction(1,2/4)',
      'tcp,tp_dst=0x3ea/0xfffe -> conjunction(1,3/4)',
      'tcp,tp_dst=0x3ec/0xfffc -> conjunction(1,3/4)',
      'tcp,tp_dst=0x3f0/0xfff0 -> conjunction(1,3/4)',
      'tcp,tp_dst=0x400/0xfe00 -> conjunction(1,3/4)',
      'tcp,tp_dst=0x600/0xff00 -> conjunction(1,3/4)',
      'tcp,tp_dst=0x700/0xff80 -> conjunction(1,3/4)',
      'tcp,tp_dst=0x780/0xffc0 -> conjunction(1,3/4)',
      'tcp,tp_dst=0x7c0/0xfff0 -> conjunction(1,3/4)',
      'tcp,tp_dst=1000 -> conjunction(1,3/4)',
      'tcp,tp_dst=1001 -> conjunction(1,3/4)',
      'tcp,tp_dst=2000 -> conjunction(1,3/4)',
      'tcp,tp_src=0x3ea/0xfffe -> conjunction(1,4/4)',
      'tcp,tp_src=0x3ec/0xfffc -> conjunction(1,4/4)',
      'tcp,tp_src=0x3f0/0xfff0 -> conjunction(1,4/4)',
      'tcp,tp_src=0x400/0xfe00 -> conjunction(1,4/4)',
      'tcp,tp_src=0x600/0xff00 -> conjunction(1,4/4)',
      'tcp,tp_src=0x700/0xff80 -> conjunction(1,4/4)',
      'tcp,tp_src=0x780/0xffc0 -> conjunction(1,4/4)',
      'tcp,tp_src=0x7c0/0xfff0 -> conjunction(1,4/4)',
      'tcp,tp_src=1000 -> conjunction(1,4/4)',
      'tcp,tp_src=1001 -> conjunction(1,4/4)',
      'tcp,tp_src=2000 -> conjunction(1,4/4)']),
    ('eth.dst == 0/0',
     ['']),
    ('eth.dst != 0/0',
     []),
    ('tcp.dst >= 0',
     ['tcp',
      'tcp6']),
    ('tcp.dst <= 65535',
     ['tcp',
      'tcp6']),
    ('tcp.dst > 0',
     ['tcp,tp_dst=0x1/0x1',
      'tcp,tp_dst=0x10/0x10',
      'tcp,tp_dst=0x100/0x100',
      'tcp,tp_dst=0x1000/0x1000',
      'tcp,tp_dst=0x2/0x2',
      'tcp,tp_dst=0x20/0x20',
      'tcp,tp_dst=0x200/0x200',
      'tcp,tp_dst=0x2000/0x2000',
      'tcp,tp_dst=0x4/0x4',
      'tcp,tp_dst=0x40/0x40',
      'tcp,tp_dst=0x400/0x400',
      'tcp,tp_dst=0x4000/0x4000',
      'tcp,tp_dst=0x8/0x8',
      'tcp,tp_dst=0x80/0x80',
      'tcp,tp_dst=0x800/0x800',
      'tcp,tp_dst=0x8000/0x8000',
      'tcp6,tp_dst=0x1/0x1',
      'tcp6,tp_dst=0x10/0x10',
      'tcp6,tp_dst=0x100/0x100',
      'tcp6,tp_dst=0x1000/0x1000',
      'tcp6,tp_dst=0x2/0x2',
      'tcp6,tp_dst=0x20/0x20',
      'tcp6,tp_dst=0x200/0x200',
      'tcp6,tp_dst=0x2000/0x2000',
      'tcp6,tp_dst=0x4/0x4',
      'tcp6,tp_dst=0x40/0x40',
      'tcp6,tp_dst=0x400/0x400',
      'tcp6,tp_dst=0x4000/0x4000',
      'tcp6,tp_dst=0x8/0x8',
      'tcp6,tp_dst=0x80/0x80',
      'tcp6,tp_dst=0x800/0x800',
      'tcp6,tp_dst=0x8000/0x8000']),
    ('tcp.dst < 65535',
     ['tcp,tp_dst=0x0/0x1',
      'tcp,tp_dst=0x0/0x10',
      'tcp,tp_dst=0x0/0x100',
      'tcp,tp_dst=0x0/0x1000',
      'tcp,tp_dst=0x0/0x2',
      'tcp,tp_dst=0x0/0x20',
      'tcp,tp_dst=0x0/0x200',
      'tcp,tp_dst=0x0/0x2000',
      'tcp,tp_dst=0x0/0x4',
      'tcp,tp_dst=0x0/0x40',
      'tcp,tp_dst=0x0/0x400',
      'tcp,tp_dst=0x0/0x4000',
      'tcp,tp_dst=0x0/0x8',
      'tcp,tp_dst=0x0/0x80',
      'tcp,tp_dst=0x0/0x800',
      'tcp,tp_dst=0x0/0x8000',
      'tcp6,tp_dst=0x0/0x1',
      'tcp6,tp_dst=0x0/0x10',
      'tcp6,tp_dst=0x0/0x100',
      'tcp6,tp_dst=0x0/0x1000',
      'tcp6,tp_dst=0x0/0x2',
      'tcp6,tp_dst=0x0/0x20',
      'tcp6,tp_dst=0x0/0x200',
      'tcp6,tp_dst=0x0/0x2000',
      'tcp6,tp_dst=0x0/0x4',
      'tcp6,tp_dst=0x0/0x40',
      'tcp6,tp_dst=0x0/0x400',
      'tcp6,tp_dst=0x0/0x4000',
      'tcp6,tp_dst=0x0/0x8',
      'tcp6,tp_dst=0x0/0x80',
      'tcp6,tp_dst=0x0/0x800',
      'tcp6,tp_dst=0x0/0x8000']),
    ('is_chassis_resident("eth1")',
     ['']),
    ('is_chassis_resident("eth2")',
     []),
    ('!is_chassis_resident("eth1")',
     []),
    ('!is_chassis_resident("eth2")',
     ['']),
    ('vlan.pcp == {1, 2, 3, 4}',
     ['dl_vlan_pcp=1',
      'dl_vlan_pcp=2',
      'dl_vlan_pcp=3',
      'dl_vlan_pcp=4']),
    ('vlan.pcp != {1, 2, 3, 4}',
     ['dl_vlan_pcp=0',
      'dl_vlan_pcp=5',
      'dl_vlan_pcp=6',
      'dl_vlan_pcp=7']),
    ('ip4.src == {10.0.0.0/8, 192.168.0.0/16, 172.16.20.0/24, 8.8.8.8}',
     ['ip,nw_src=10.0.0.0/8',
      'ip,nw_src=172.16.20.0/24',
      'ip,nw_src=192.168.0.0/16',
      'ip,nw_src=8.8.8.8']),
    ('ip.first_frag',
     ['ip,nw_frag=first',
      'ipv6,nw_frag=first']),
    ('ip.proto == {123, 234}',
     ['ip,nw_proto=123',
      'ip,nw_proto=234',
      'ipv6,nw_proto=123',
      'ipv6,nw_proto=234']),
    ('tcp.dst == 1 || (tcp.dst >= 2 && tcp.dst <= 3)',
     ['tcp,tp_dst=1',
      'tcp,tp_dst=2',
      'tcp,tp_dst=3',
      'tcp6,tp_dst=1',
      'tcp6,tp_dst=2',
      'tcp6,tp_dst=3']),
    ('!reg0 && !reg1 && !reg2 && !reg3',
     ['reg0=0,reg1=0,reg2=0,reg3=0']),
    ('vlan.pcp == 1 && vlan.vid == 2',
     ['dl_vlan=2,dl_vlan_pcp=1']),
    ('ip4.src == 1.2.3.4 && ip4.dst == 5.6.7.8',
     ['ip,nw_src=1.2.3.4,nw_dst=5.6.7.8']),
    ('1',
     ['']),
    ('0',
     []),
]


TARGETED_CASES = [
    ('(ip4.src == {10.0.0.1, 10.0.0.2} && ip4.dst == {10.0.0.3, 10.0.0.4}) || (ip4.src == {10.0.0.1, 10.0.0.2} && reg0[0..3] == {1, 2})',
     ['conj_id=1,ip',
      'conj_id=2,ip',
      'ip,nw_dst=10.0.0.3 -> conjunction(1,1/2)',
      'ip,nw_dst=10.0.0.4 -> conjunction(1,1/2)',
      'ip,nw_src=10.0.0.1 -> conjunction(1,2/2),conjunction(2,1/2)',
      'ip,nw_src=10.0.0.2 -> conjunction(1,2/2),conjunction(2,1/2)',
      'ip,reg0=0x1/0xf -> conjunction(2,2/2)',
      'ip,reg0=0x2/0xf -> conjunction(2,2/2)']),
    ('(ip4.src == {10.0.0.1, 10.0.0.2} && ip4.dst == {10.0.0.3, 10.0.0.4}) || ip4.src == 10.0.0.1',
     ['conj_id=1,ip',
      'ip,nw_dst=10.0.0.3 -> conjunction(1,1/2)',
      'ip,nw_dst=10.0.0.4 -> conjunction(1,1/2)',
      'ip,nw_src=10.0.0.1',
      'ip,nw_src=10.0.0.2 -> conjunction(1,2/2)']),
    ('ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443} && outport == {"nosuch", "nosuch2"}',
     ['tcp,nw_src=10.0.0.1 -> conjunction(1,1/3)',
      'tcp,nw_src=10.0.0.2 -> conjunction(1,1/3)']),
    ('(inport == {"nosuch", "nosuch2"} && ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}) || (inport == {"lp1", "lsp1"} && ip4.dst == {10.0.0.1, 10.0.0.2})',
     ['conj_id=2,ip',
      'ip,nw_dst=10.0.0.1 -> conjunction(2,2/2)',
      'ip,nw_dst=10.0.0.2 -> conjunction(2,2/2)',
      'ip,reg14=0x1 -> conjunction(2,1/2)',
      'ip,reg14=0x11 -> conjunction(2,1/2)']),
    ('ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443} && inport == "nosuch"',
     []),
    ('outport == "none"',
     ['reg15=0']),
    ('outport == {"mc1", "lp1", "none"} && ip',
     ['ip,reg15=0',
      'ip,reg15=0x1',
      'ip,reg15=0x8001',
      'ipv6,reg15=0',
      'ipv6,reg15=0x1',
      'ipv6,reg15=0x8001']),
    ('is_chassis_resident("lp1") && ip4',
     ['ip']),
    ('is_chassis_resident("eth0") && ip4',
     []),
    ('!is_chassis_resident("eth0") || tcp',
     ['']),
    ('ip.dscp == 10 && ip4',
     ['ip']),
    ('ip.ecn == 1',
     ['ip',
      'ipv6']),
    ('ip.dscp == 10 || ip.ecn == 2',
     ['ip',
      'ipv6']),
    ('tcp.flags == 2',
     ['tcp,tcp_flags=syn',
      'tcp6,tcp_flags=syn']),
    ('ip6.label == 5',
     ['ipv6,ipv6_label=0x00005']),
    ('(tcp.src == {1, 2} && tcp.dst == {3, 4}) || (udp.src == {1, 2} && udp.dst == {3, 4})',
     ['conj_id=1,tcp',
      'conj_id=2,tcp6',
      'conj_id=3,udp',
      'conj_id=4,udp6',
      'tcp,tp_dst=3 -> conjunction(1,1/2)',
      'tcp,tp_dst=4 -> conjunction(1,1/2)',
      'tcp,tp_src=1 -> conjunction(1,2/2)',
      'tcp,tp_src=2 -> conjunction(1,2/2)',
      'tcp6,tp_dst=3 -> conjunction(2,1/2)',
      'tcp6,tp_dst=4 -> conjunction(2,1/2)',
      'tcp6,tp_src=1 -> conjunction(2,2/2)',
      'tcp6,tp_src=2 -> conjunction(2,2/2)',
      'udp,tp_dst=3 -> conjunction(3,1/2)',
      'udp,tp_dst=4 -> conjunction(3,1/2)',
      'udp,tp_src=1 -> conjunction(3,2/2)',
      'udp,tp_src=2 -> conjunction(3,2/2)',
      'udp6,tp_dst=3 -> conjunction(4,1/2)',
      'udp6,tp_dst=4 -> conjunction(4,1/2)',
      'udp6,tp_src=1 -> conjunction(4,2/2)',
      'udp6,tp_src=2 -> conjunction(4,2/2)']),
    ('ip4.src == {10.0.0.1, 10.0.0.2} && ip4.dst == {10.0.0.3, 10.0.0.4} && (tcp || udp)',
     ['conj_id=1,tcp',
      'conj_id=2,udp',
      'tcp,nw_dst=10.0.0.3 -> conjunction(1,1/2)',
      'tcp,nw_dst=10.0.0.4 -> conjunction(1,1/2)',
      'tcp,nw_src=10.0.0.1 -> conjunction(1,2/2)',
      'tcp,nw_src=10.0.0.2 -> conjunction(1,2/2)',
      'udp,nw_dst=10.0.0.3 -> conjunction(2,1/2)',
      'udp,nw_dst=10.0.0.4 -> conjunction(2,1/2)',
      'udp,nw_src=10.0.0.1 -> conjunction(2,2/2)',
      'udp,nw_src=10.0.0.2 -> conjunction(2,2/2)']),
    ('icmp6.type == {135, 136} && ip6.src == {::1, ::2} && ip6.dst == {::3, ::4}',
     ['conj_id=1,icmp6,icmp_type=135',
      'conj_id=2,icmp6,icmp_type=136',
      'icmp6,ipv6_dst=::3,icmp_type=135 -> conjunction(1,1/2)',
      'icmp6,ipv6_dst=::3,icmp_type=136 -> conjunction(2,1/2)',
      'icmp6,ipv6_dst=::4,icmp_type=135 -> conjunction(1,1/2)',
      'icmp6,ipv6_dst=::4,icmp_type=136 -> conjunction(2,1/2)',
      'icmp6,ipv6_src=::1,icmp_type=135 -> conjunction(1,2/2)',
      'icmp6,ipv6_src=::1,icmp_type=136 -> conjunction(2,2/2)',
      'icmp6,ipv6_src=::2,icmp_type=135 -> conjunction(1,2/2)',
      'icmp6,ipv6_src=::2,icmp_type=136 -> conjunction(2,2/2)']),
    ('reg0 == {1, 2} && reg1 == {3, 4}',
     ['reg0=0x1,reg1=0x3',
      'reg0=0x1,reg1=0x4',
      'reg0=0x2,reg1=0x3',
      'reg0=0x2,reg1=0x4']),
    ('reg8 == {1, 2} && reg9 == {3, 4}',
     ['reg8=0x1,reg9=0x3',
      'reg8=0x1,reg9=0x4',
      'reg8=0x2,reg9=0x3',
      'reg8=0x2,reg9=0x4']),
    ('eth.src == {00:00:00:00:00:01, 00:00:00:00:00:02} && eth.dst == {00:00:00:00:00:03, 00:00:00:00:00:04} && vlan.vid == {1, 2}',
     ['conj_id=1',
      'dl_dst=00:00:00:00:00:03 -> conjunction(1,1/3)',
      'dl_dst=00:00:00:00:00:04 -> conjunction(1,1/3)',
      'dl_src=00:00:00:00:00:01 -> conjunction(1,2/3)',
      'dl_src=00:00:00:00:00:02 -> conjunction(1,2/3)',
      'dl_vlan=1 -> conjunction(1,3/3)',
      'dl_vlan=2 -> conjunction(1,3/3)']),
    ('ct.est && ct_label.blocked == 0 && ip4.src == {10.0.0.1, 10.0.0.2} && ip4.dst == {10.0.0.3, 10.0.0.4}',
     ['conj_id=1,ct_state=+est+trk,ct_label=0/0x1,ip',
      'ct_state=+est+trk,ct_label=0/0x1,ip,nw_dst=10.0.0.3 -> conjunction(1,1/2)',
      'ct_state=+est+trk,ct_label=0/0x1,ip,nw_dst=10.0.0.4 -> conjunction(1,1/2)',
      'ct_state=+est+trk,ct_label=0/0x1,ip,nw_src=10.0.0.1 -> conjunction(1,2/2)',
      'ct_state=+est+trk,ct_label=0/0x1,ip,nw_src=10.0.0.2 -> conjunction(1,2/2)']),
    ('ip4.src == {10.0.0.0/24, 10.0.0.1}',
     ['ip,nw_src=10.0.0.0/24',
      'ip,nw_src=10.0.0.1']),
    ('ip4.src == {10.0.0.1, 10.0.0.1, 10.0.0.2} && ip4.dst == {10.0.0.3, 10.0.0.3, 10.0.0.4}',
     ['conj_id=1,ip',
      'ip,nw_dst=10.0.0.3 -> conjunction(1,1/2)',
      'ip,nw_dst=10.0.0.4 -> conjunction(1,1/2)',
      'ip,nw_src=10.0.0.1 -> conjunction(1,2/2)',
      'ip,nw_src=10.0.0.2 -> conjunction(1,2/2)']),
    ('reg0[0..3] > 5 && reg1[0..3] < 3',
     ['reg0=0x6/0xe,reg1=0/0xe',
      'reg0=0x6/0xe,reg1=0x2/0xf',
      'reg0=0x8/0x8,reg1=0/0xe',
      'reg0=0x8/0x8,reg1=0x2/0xf']),
    ('xxreg0 == aef0::1 || xxreg0[0..7] == 5',
     ['reg0=0xaef00000,reg1=0,reg2=0,reg3=0x1',
      'reg3=0x5/0xff']),
    ('ip4.src == 10.0.0.1 && ip4.src == 10.0.0.0/24',
     ['ip,nw_src=10.0.0.1']),
    ('ip4.src == 10.0.0.1 && ip4.src == 10.0.1.0/24',
     []),
    ('inport == "lp1" && inport == {"lp1", "lsp1"}',
     ['reg14=0x1']),
    ('inport == {"lp1", "lsp1", "lsp2"} && inport == {"lsp1", "lsp2"} && inport == {"lsp2", "eth0"}',
     ['reg14=0x12']),
    ('ip4.mcast && ip4.dst == 224.0.0.0/24',
     ['ip,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_dst=224.0.0.0/24']),
    ('nd_ns && ip6.dst == {fe80::1, ff02::1:ff00:1} && nd.target == fe80::1',
     ['icmp6,ipv6_dst=fe80::1,nw_ttl=255,icmp_type=135,icmp_code=0,nd_target=fe80::1',
      'icmp6,ipv6_dst=ff02::1:ff00:1,nw_ttl=255,icmp_type=135,icmp_code=0,nd_target=fe80::1']),
    ('ct_mark.blocked == 1 && ct_label.label == 7',
     ['ct_mark=0x1/0x1,ct_label=0x7000000000000000000000000/0xffffffff000000000000000000000000']),
    ('flags.loopback == 0 && eth.bcast',
     ['reg10=0/0x1,dl_dst=ff:ff:ff:ff:ff:ff']),
    ('ip.first_frag && tcp',
     ['tcp,nw_frag=first',
      'tcp6,nw_frag=first']),
    ('ip4.src == {10.0.0.1, 10.0.0.2} && ip4.dst == {10.0.0.3, 10.0.0.4} && tcp.dst == {80, 443} && tcp.src == {1000, 2000}',
     ['conj_id=1,tcp',
      'tcp,nw_dst=10.0.0.3 -> conjunction(1,1/4)',
      'tcp,nw_dst=10.0.0.4 -> conjunction(1,1/4)',
      'tcp,nw_src=10.0.0.1 -> conjunction(1,2/4)',
      'tcp,nw_src=10.0.0.2 -> conjunction(1,2/4)',
      'tcp,tp_dst=443 -> conjunction(1,3/4)',
      'tcp,tp_dst=80 -> conjunction(1,3/4)',
      'tcp,tp_src=1000 -> conjunction(1,4/4)',
      'tcp,tp_src=2000 -> conjunction(1,4/4)']),
    ('tcp.dst != 80 && tcp.dst == 22 && ip4.src == {1.1.1.1, 2.2.2.2}',
     ['tcp,nw_src=1.1.1.1,tp_dst=22',
      'tcp,nw_src=2.2.2.2,tp_dst=22']),
    ('tcp.dst != 80 && ct_label.label == {1, 2} && tcp.dst == {22}',
     ['ct_label=0x1000000000000000000000000/0xffffffff000000000000000000000000,tcp,tp_dst=22',
      'ct_label=0x1000000000000000000000000/0xffffffff000000000000000000000000,tcp6,tp_dst=22',
      'ct_label=0x2000000000000000000000000/0xffffffff000000000000000000000000,tcp,tp_dst=22',
      'ct_label=0x2000000000000000000000000/0xffffffff000000000000000000000000,tcp6,tp_dst=22']),
    ('reg0[0..3] == 1 && reg0[4..7] == {3, 2, 3} && ip4.src == {1.1.1.1, 2.2.2.2}',
     ['conj_id=1,ip',
      'ip,nw_src=1.1.1.1 -> conjunction(1,1/2)',
      'ip,nw_src=2.2.2.2 -> conjunction(1,1/2)',
      'ip,reg0=0x21/0xff -> conjunction(1,2/2)',
      'ip,reg0=0x31/0xff -> conjunction(1,2/2)']),
    ('ip4.dst == 10.0.0.0/8 && ip4.dst == {10.0.0.0/24, 10.0.0.1}',
     ['ip,nw_dst=10.0.0.0/24',
      'ip,nw_dst=10.0.0.1']),
    ('ip4.dst == {10.0.0.0/8, 10.1.0.0/16} && ip4.dst == {10.0.0.0/16, 10.0.0.1}',
     ['ip,nw_dst=10.0.0.0/16',
      'ip,nw_dst=10.0.0.1']),
]



@pytest.mark.parametrize(("text", "flows"), OVN_CASES)
def test_ovn_expression_to_flows_case_gives_ovn_controller_flows(
        text: str, flows: list[str]) -> None:
    assert pairs(compile_text(text)[0]) == expected(flows)


@pytest.mark.parametrize(("text", "flows"), TARGETED_CASES)
def test_corner_case_gives_ovn_controller_flows(text: str, flows: list[str]) -> None:
    matches, _ = compile_text(text, port_groups=TARGETED_PORT_GROUPS,
                              resident=TARGETED_RESIDENT)
    assert pairs(matches) == expected(flows)


@pytest.mark.parametrize(("text", "simplified"), [
    ("eth.dst == 0/0", "1"),
    ("eth.dst != 0/0", "0"),
    ("tcp.dst >= 0", "ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)"),
    ("tcp.dst <= 65535", "ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)"),
    ("tcp.dst > 0", "(" + " || ".join(f"tcp.dst[{i}]" for i in range(16))
     + ") && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)"),
    ("tcp.dst < 65535", "(" + " || ".join(f"!tcp.dst[{i}]" for i in range(16))
     + ") && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)"),
    ('is_chassis_resident("eth1")', "1"),
    ('is_chassis_resident("eth2")', "0"),
    ('!is_chassis_resident("eth1")', "0"),
    ('!is_chassis_resident("eth2")', "1"),
    ("vlan.pcp > 2", "(vlan.tci[13..15] == 0x3 || vlan.tci[15]) && vlan.tci[12]"),
    ("reg0[4..7] != 5", "!xxreg0[100] || xxreg0[101] || !xxreg0[102] || xxreg0[103]"),
])
def test_simplification_special_case_prints_as_ovn(text: str, simplified: str) -> None:
    # OVN's "simplification special cases" and "is_chassis_resident
    # simplification" (test-ovn simplify-expr: eth1 resident, eth2 not).
    expr = annotate(parse_expr(text).expr)
    assert format_expr(simplify(expr, lambda port: port == "eth1")) == simplified


def test_range_becomes_ovn_prefix_matches() -> None:
    expr = annotate(parse_expr("tcp.dst >= 1000 && tcp.dst <= 1010").expr)
    assert format_expr(normalize(simplify(expr))) == (
        "(eth.type == 0x800 && ip.proto == 0x6 && (tcp.dst == 0x3e8 || tcp.dst == 0x3e9"
        " || tcp.dst[1..15] == 0x1f5 || tcp.dst[2..15] == 0xfb || tcp.dst[1..15] == 0x1f8"
        " || tcp.dst == 0x3f2)) || (eth.type == 0x86dd && ip.proto == 0x6"
        " && (tcp.dst == 0x3e8 || tcp.dst == 0x3e9 || tcp.dst[1..15] == 0x1f5"
        " || tcp.dst[2..15] == 0xfb || tcp.dst[1..15] == 0x1f8 || tcp.dst == 0x3f2))")


@pytest.mark.parametrize("text", [t for t, _ in OVN_CASES + TARGETED_CASES])
def test_deciding_residency_while_simplifying_equals_ovn_two_passes(text: str) -> None:
    expr = annotate(parse_expr(text, address_sets=ADDRESS_SETS,
                               port_groups=OVN_PORT_GROUPS, dp_key=1).expr)
    for resident in (OVN_RESIDENT, TARGETED_RESIDENT, set()):
        decide = resident.__contains__
        assert simplify(expr, decide) == evaluate_conditions(simplify(expr), decide)


@pytest.mark.parametrize("text", [t for t, flows in OVN_CASES + TARGETED_CASES if flows])
def test_recompiling_gives_byte_identical_flows(text: str) -> None:
    first, n_first = compile_text(text, conj_id_base=77)
    again, n_again = compile_text(text, conj_id_base=77)
    assert first == again
    assert n_first == n_again
    assert [m.match.encode() for m in first] == [m.match.encode() for m in again]


def test_conjunction_ids_count_from_the_base() -> None:
    text = ("(tcp.src == {1, 2} && tcp.dst == {3, 4}) || "
            "(udp.src == {1, 2} && udp.dst == {3, 4})")
    matches, n = compile_text(text, conj_id_base=1000)
    assert n == 4
    ids = {c[0] for m in matches for c in m.conjunctions}
    ids |= {m.match.get("conj_id")[0] for m in matches if "conj_id" in m.match}  # type: ignore[index]
    assert ids == {1000, 1001, 1002, 1003}


def test_conjunction_whose_first_clause_cannot_match_still_uses_its_id() -> None:
    text = ('(inport == {"nosuch", "nosuch2"} && ip4.src == {10.0.0.1, 10.0.0.2} '
            '&& tcp.dst == {80, 443}) || '
            '(inport == {"lp1", "lsp1"} && ip4.dst == {10.0.0.1, 10.0.0.2})')
    matches, n = compile_text(text, conj_id_base=10)
    assert n == 2
    assert {c[0] for m in matches for c in m.conjunctions} == {11}


def test_match_leaves_metadata_to_the_translator() -> None:
    matches, _ = compile_text('inport == "eth0" && ip4')
    assert [str(m.match) for m in matches] == ["ip,reg14=0x5"]
    assert all("metadata" not in m.match for m in matches)


def test_port_lookup_is_asked_once_per_name_and_never_for_none() -> None:
    asked: list[str] = []

    def lookup(name: str) -> int | None:
        asked.append(name)
        return PORTS.get(name)

    text = ('(outport == {"eth0", "eth1", "none", "nosuch"} && tcp.dst == {1, 2}'
            ' && tcp.src == {3, 4}) || outport == "eth0"')
    matches, _ = compile_text(text, lookup=lookup)
    assert sorted(asked) == ["eth0", "eth1", "nosuch"]
    assert {m.match.get("reg15") for m in matches} >= {(0, None), (5, None), (6, None)}


def test_unknown_port_makes_only_its_comparison_match_nothing() -> None:
    assert compile_text('inport == "nosuch" && ip4') == ([], 0)
    matches, _ = compile_text('inport == {"nosuch", "eth0"} && ip4')
    assert [str(m.match) for m in matches] == ["ip,reg14=0x5"]


def test_false_expression_compiles_to_no_flow_and_true_to_a_catch_all() -> None:
    assert compile_text("0") == ([], 0)
    assert compile_text('ip4 && is_chassis_resident("nosuch")') == ([], 0)
    assert compile_text("1") == ([CompiledMatch(Match())], 0)


def test_match_the_codec_cannot_express_is_a_semantic_error() -> None:
    # A VLAN priority test without the VLAN-present bit: OpenFlow 1.5 OXM
    # cannot say it, and pyovn's canonical Match refuses it.
    with pytest.raises(LflowSemanticError, match="cannot be expressed"):
        compile_text("vlan.tci[13..15] == 5")


def test_ovn_only_field_in_a_match_is_a_semantic_error() -> None:
    # ovn-controller 23.03 dies on this one; pyovn refuses the flow instead.
    with pytest.raises(LflowSemanticError, match="icmp4.frag_mtu"):
        compile_text("icmp4.frag_mtu == 1400 && ip4")
