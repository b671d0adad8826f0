"""Symbol table: ovn-controller 23.03's fields, subfields, predicates and their rules."""

from __future__ import annotations

import pytest

from pyovn.lflow import Level, WriteScope, format_symbol, ovn_symtab
from pyovn.lflow.symtab import OVN_SYMBOLS, OVS_FIELDS, SymbolTable, field, subfield

SYMTAB = ovn_symtab()


def _dump(prefix: str) -> list[str]:
    return sorted(format_symbol(s) for name, s in SYMTAB.items() if name.startswith(prefix))


def test_registers_overlay_the_wider_registers_as_ovn_declares() -> None:
    # tests/ovn.at "registers" (OVS field names instead of NXM names for fields).
    assert _dump("reg") + _dump("xreg") + _dump("xxreg") == [
        "reg0 = xxreg0[96..127]", "reg1 = xxreg0[64..95]", "reg2 = xxreg0[32..63]",
        "reg3 = xxreg0[0..31]", "reg4 = xxreg1[96..127]", "reg5 = xxreg1[64..95]",
        "reg6 = xxreg1[32..63]", "reg7 = xxreg1[0..31]", "reg8 = xreg4[32..63]",
        "reg9 = xreg4[0..31]", "xreg0 = xxreg0[64..127]", "xreg1 = xxreg0[0..63]",
        "xreg2 = xxreg1[64..127]", "xreg3 = xxreg1[0..63]", "xreg4 = xreg4",
        "xxreg0 = xxreg0", "xxreg1 = xxreg1",
    ]


def test_conntrack_symbols_are_those_of_23_03() -> None:
    assert _dump("ct") == [
        "ct.dnat = ct_state[7]", "ct.est = ct_state[1]", "ct.inv = ct_state[4]",
        "ct.new = ct_state[0]", "ct.rel = ct_state[2]", "ct.rpl = ct_state[3]",
        "ct.snat = ct_state[6]", "ct.trk = ct_state[5]", "ct_label = ct_label",
        "ct_label.blocked = ct_label[0]", "ct_label.ecmp_reply_eth = ct_label[32..79]",
        "ct_label.ecmp_reply_port = ct_label[80..95]", "ct_label.force_snat = ct_label[3]",
        "ct_label.label = ct_label[96..127]", "ct_label.natted = ct_label[1]",
        "ct_label.skip_snat = ct_label[2]", "ct_mark = ct_mark",
        "ct_mark.blocked = ct_mark[0]", "ct_mark.ecmp_reply_port = ct_mark[16..31]",
        "ct_mark.force_snat = ct_mark[3]", "ct_mark.natted = ct_mark[1]",
        "ct_mark.skip_snat = ct_mark[2]", "ct_state = ct_state",
    ]


def test_logical_flags_and_ports_live_in_the_registers_ovn_uses() -> None:
    assert _dump("flags") == [
        "flags = reg10", "flags.force_snat_for_dnat = flags[2]",
        "flags.force_snat_for_lb = flags[3]", "flags.loopback = flags[0]",
        "flags.skip_snat_for_lb = flags[9]", "flags.use_snat_zone = flags[11]",
    ]
    assert format_symbol(SYMTAB["inport"]) == "inport = reg14"
    assert format_symbol(SYMTAB["outport"]) == "outport = reg15"
    assert SYMTAB["inport"].width == 0 and SYMTAB["inport"].level is Level.NOMINAL


def test_symbols_added_after_23_03_are_absent() -> None:
    for name in ("flags.localnet", "flags.from_ctrl", "ct_mark.obs_stage",
                 "ct_label.obs_point_id", "nd_ns_mcast", "ct_mark.allow_established"):
        assert name not in SYMTAB


@pytest.mark.parametrize(("name", "ovs", "width"), [
    ("eth.src", "eth_src", 48), ("eth.type", "eth_type", 16), ("vlan.tci", "vlan_tci", 16),
    ("ip.proto", "nw_proto", 8), ("ip.dscp", "ip_dscp", 6), ("ip.ecn", "nw_ecn", 2),
    ("ip.ttl", "nw_ttl", 8), ("ip.frag", "ip_frag", 2), ("ip4.src", "ip_src", 32),
    ("ip6.dst", "ipv6_dst", 128), ("ip6.label", "ipv6_label", 20),
    ("icmp4.type", "icmp_type", 8), ("icmp6.code", "icmpv6_code", 8),
    ("arp.op", "arp_op", 16), ("arp.sha", "arp_sha", 48), ("rarp.tpa", "arp_tpa", 32),
    ("nd.target", "nd_target", 128), ("nd.tll", "nd_tll", 48), ("tcp.flags", "tcp_flags", 12),
    ("udp.dst", "udp_dst", 16), ("sctp.src", "sctp_src", 16), ("pkt.mark", "pkt_mark", 32),
    ("ct_state", "ct_state", 32), ("ct_label", "ct_label", 128), ("xxreg1", "xxreg1", 128),
])
def test_fields_map_to_ovs_fields_of_their_width(name: str, ovs: str, width: int) -> None:
    sym = SYMTAB[name]
    assert sym.field is not None and sym.field.name == ovs
    assert sym.width == width == OVS_FIELDS[ovs].n_bits


def test_only_maskable_fields_are_ordinal() -> None:
    assert SYMTAB["eth.type"].level is Level.NOMINAL
    assert SYMTAB["ip.ttl"].level is Level.NOMINAL
    assert SYMTAB["tcp.dst"].level is Level.ORDINAL
    assert SYMTAB["ct.est"].level is Level.ORDINAL
    assert SYMTAB["icmp4.frag_mtu"].level is Level.NOMINAL


NOMINAL_PREDICATES = {"ip4", "ip6", "ip", "icmp4", "icmp6", "icmp", "igmp", "arp",
                      "rarp", "nd", "nd_ns", "nd_na", "nd_rs", "nd_ra", "mldv1", "mldv2",
                      "tcp", "udp", "sctp"}


def test_predicates_over_nominal_fields_are_nominal_others_boolean() -> None:
    predicates = {n: s for n, s in SYMTAB.items() if s.predicate is not None}
    assert {n for n, s in predicates.items() if s.level is Level.NOMINAL} == NOMINAL_PREDICATES
    assert {s.level for n, s in predicates.items()
            if n not in NOMINAL_PREDICATES} == {Level.BOOLEAN}
    assert all(s.width == 1 and s.rw is WriteScope.NONE for s in predicates.values())


@pytest.mark.parametrize(("name", "expansion"), [
    ("ip", "ip4 || ip6"), ("tcp", "ip.proto == 6"),
    ("icmp4", "ip4 && ip.proto == 1"), ("igmp", "ip4 && ip.proto == 2"),
    ("ip4.mcast", "eth.mcast && ip4.dst[28..31] == 0xe"),
    ("nd_ns", "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255"),
    ("mldv1", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}"),
    ("ip.first_frag", "ip.is_frag && !ip.later_frag"),
])
def test_predicate_expansions_are_23_03s(name: str, expansion: str) -> None:
    assert SYMTAB[name].predicate == expansion


@pytest.mark.parametrize(("name", "prereqs"), [
    ("tcp.dst", "tcp"), ("ip.proto", "ip"), ("ip4.src", "ip4"), ("icmp6.type", "icmp6"),
    ("nd.target", "nd"), ("nd.sll", "nd_ns"), ("nd.tll", "nd_na"),
    ("vlan.vid", "vlan.present"), ("ct.est", "ct.trk"), ("ct.trk", None),
    ("eth.src", None), ("inport", None), ("reg0", None),
])
def test_fields_carry_ovn_prerequisites(name: str, prereqs: str | None) -> None:
    assert SYMTAB[name].prereqs == prereqs


def test_only_nominal_prerequisite_fields_must_crossproduct() -> None:
    assert {n for n, s in SYMTAB.items() if s.must_crossproduct} == {
        "eth.type", "ip.proto", "icmp6.type", "icmp6.code"}


def test_read_only_fields_cannot_be_written_in_any_scope() -> None:
    for name in ("eth.type", "ip.proto", "ip.frag", "tcp.flags", "ct_state", "ct.est",
                 "ip4", "vlan.present"):
        assert SYMTAB[name].rw is WriteScope.NONE, name


def test_conntrack_marks_are_writable_only_inside_ct_commit() -> None:
    for name in ("ct_mark", "ct_mark.blocked", "ct_label", "ct_label.label"):
        assert SYMTAB[name].rw is WriteScope.CT_COMMIT, name
    for name in ("eth.src", "inport", "reg0", "flags.loopback", "ip.ttl"):
        assert SYMTAB[name].rw is WriteScope.DEFAULT, name
    assert SYMTAB["icmp4.frag_mtu"].rw is WriteScope.ALL


def test_every_declaration_builds_a_symbol_in_order() -> None:
    assert list(SYMTAB) == [d.name for d in OVN_SYMBOLS]
    assert len(SYMTAB) == len(OVN_SYMBOLS)


def test_extended_table_adds_symbols_without_changing_the_original() -> None:
    table = SYMTAB.extended([field("extra", "reg5"), subfield("extra.bit", "extra[3]")])
    assert table["extra.bit"].parent is table["extra"]
    assert "extra" not in SYMTAB


def test_bad_declarations_are_rejected_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        SymbolTable([field("x", "reg0"), field("x", "reg1")])
    with pytest.raises(ValueError, match="bad subfield"):
        SymbolTable([field("x", "reg0"), subfield("y", "x[31..40]")])
    with pytest.raises(ValueError, match="bad subfield"):
        SymbolTable([field("x", "eth_type"), subfield("y", "x[3]")])
