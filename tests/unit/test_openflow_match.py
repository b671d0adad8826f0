"""Canonical matches: normalisation, validation, OXM wire form and text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovn.openflow import OFPP_LOCAL, Match, OpenFlowDecodeError, OpenFlowEncodeError

# Bytes Open vSwitch 3.1 itself put in OpenFlow 1.5 flow-stats replies (ofp_match).
OVS_REG14_METADATA_DL_SRC = (
    "0001002e8000080600000000000180010f100000000100000000ffffffff00000000"
    "800004080000000000000001" + "0000")
OVS_VLAN_TCI_0 = "0001000a80000c020000" + "000000000000"
OVS_DL_VLAN_5_PCP_3 = "0001000f80000c02100580000e0103" + "00"
OVS_XXREG0_XREG3 = (
    "0001002480010310000000000000000500000000000000ff800106080000000000000001" + "00000000")
OVS_CT_FIELDS = (
    "0001002980000a0208000001d30800000022000000220001f2040a0000010001ee01060001fa020050"
    + "00000000000000")


def test_field_order_does_not_change_the_match() -> None:
    a = Match(reg14=1, metadata=1, eth_src="00:00:00:00:00:01")
    b = Match(eth_src="00:00:00:00:00:01", metadata=1, reg14=1)
    assert a == b
    assert hash(a) == hash(b)
    assert list(a) == list(b)


def test_aliases_name_the_same_field() -> None:
    assert Match(dl_src="00:00:00:00:00:01") == Match(eth_src=1)
    assert Match(ip=True, nw_src="10.0.0.1") == Match(eth_type=0x800, ip_src="10.0.0.1")
    assert Match(ip=True, ip_proto=6) == Match(tcp=True)


def test_exact_mask_is_dropped_and_value_is_masked() -> None:
    assert Match(reg0=(0x1F, 0xFFFFFFFF)) == Match(reg0=0x1F)
    assert Match(reg0=(0x1F, 0x0F)).get("reg0") == (0x0F, 0x0F)


def test_zero_mask_removes_the_field() -> None:
    assert Match(reg0=(5, 0), reg1=1) == Match(reg1=1)


def test_text_values_and_cidr_masks() -> None:
    m = Match(ip=True, ip_dst="10.0.0.0/8", eth_dst="01:00:00:00:00:00/01:00:00:00:00:00")
    assert m.get("ip_dst") == (0x0A000000, 0xFF000000)
    assert m.get("eth_dst") == (1 << 40, 1 << 40)


def test_xreg_and_xxreg_split_into_32_bit_registers() -> None:
    assert Match(xreg7=0x0000000500000006) == Match(reg14=5, reg15=6)
    assert Match(xxreg0=(5, 0xFF), xreg3=1) == Match(reg3=(5, 0xFF), reg6=0, reg7=1)


def test_in_port_names_and_16_bit_numbers() -> None:
    assert Match(in_port="LOCAL") == Match(in_port=OFPP_LOCAL)
    assert Match(in_port="LOCAL").get("in_port_oxm") == (0xFFFFFFFE, None)


def test_nw_tos_is_stored_as_ip_dscp() -> None:
    assert Match(ip=True, nw_tos=8) == Match(ip=True, ip_dscp=2)


def test_vlan_tci_zero_reads_back_as_ovs_dumps_it() -> None:
    m = Match(vlan_tci=0)
    assert m.get("vlan_tci") == (0, 0x1FFF)
    assert str(m) == "vlan_tci=0x0000/0x1fff"


def test_vlan_vid_and_pcp_become_one_vlan_tci() -> None:
    assert Match(dl_vlan=5, dl_vlan_pcp=3) == Match(vlan_tci=(0x7005, 0xFFFF))
    assert str(Match(dl_vlan=5, dl_vlan_pcp=3)) == "dl_vlan=5,dl_vlan_pcp=3"


def test_tp_src_and_icmp_type_follow_the_protocol() -> None:
    assert Match(udp=True, tp_dst=53) == Match(udp=True, udp_dst=53)
    assert Match(icmp6=True, icmp_type=135) == Match(icmp6=True, icmpv6_type=135)


def test_arp_nw_src_is_arp_spa() -> None:
    assert Match(arp=True, nw_src="10.0.0.1") == Match(arp=True, arp_spa="10.0.0.1")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"nonsense": 1}, "unknown field"),
        ({"eth_type": (0x800, 0xFF00)}, "cannot be masked"),
        ({"ip": True, "nw_proto": (6, 0xF)}, "cannot be masked"),
        ({"reg0": 1 << 32}, "wider than field reg0"),
        ({"ip": True, "ip_dscp": 64}, "wider than field ip_dscp"),
        ({"ip_src": "10.0.0.1"}, "requires ip"),
        ({"tcp_dst": 80}, "requires tcp"),
        ({"udp": True, "tcp_dst": 80}, "requires tcp"),
        ({"tcp": True, "ip_frag": "later", "tcp_dst": 80}, "later fragments"),
        ({"udp": True, "ip_frag": "later", "udp_src": 1}, "later fragments"),
        ({"icmp6": True, "nd_sll": 1}, "icmp_type=135"),
        ({"ip": True, "ct_nw_src": "10.0.0.1"}, "valid ct_state"),
        ({"ip": True, "ct_state": "+trk", "ct_nw_src": "10.0.0.1"}, "valid ct_state"),
        ({"ip": True, "ct_state": "+trk+est", "ct_tp_dst": 80}, "ct_nw_proto"),
        ({"reg0": 1, "xreg0": 2}, "conflicting"),
        ({"ct_state": "+bogus"}, "unknown ct_state flag"),
    ],
)
def test_invalid_matches_are_rejected_before_encoding(fields: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(OpenFlowEncodeError, match=message):
        Match(fields)


def test_valid_ct_prerequisite_with_explicit_not_invalid() -> None:
    Match(ip=True, ct_state="+trk-inv", ct_nw_dst="10.0.0.1")


def test_l4_fields_on_first_or_not_later_fragments_and_icmp_on_later_ones_are_valid() -> None:
    # As Open vSwitch 3.1 takes them (checked with ovs-ofctl add-flow on a real switch).
    Match(tcp=True, ip_frag="first", tcp_dst=80)
    Match(tcp=True, ip_frag="not_later", tcp_dst=80)
    Match(icmp=True, ip_frag="later", icmp_type=8)


@pytest.mark.parametrize(
    ("match", "wire"),
    [
        (Match(reg14=1, metadata=1, dl_src="00:00:00:00:00:01"), OVS_REG14_METADATA_DL_SRC),
        (Match(vlan_tci=0), OVS_VLAN_TCI_0),
        (Match(dl_vlan=5, dl_vlan_pcp=3), OVS_DL_VLAN_5_PCP_3),
        (Match(xxreg0=(5, 0xFF), xreg3=1), OVS_XXREG0_XREG3),
        (Match(ip=True, ct_state="+trk+est", ct_nw_proto=6, ct_tp_dst=80,
               ct_nw_dst="10.0.0.1"), OVS_CT_FIELDS),
    ],
)
def test_encoding_is_byte_identical_to_open_vswitch(match: Match, wire: str) -> None:
    assert match.encode().hex() == wire
    decoded, end = Match.decode(bytes.fromhex(wire))
    assert decoded == match
    assert end == len(wire) // 2


def test_exact_ct_state_decodes_from_ovs_byte_mask() -> None:
    # Open vSwitch stores ct_state in 8 bits and dumps an exact match as mask 0xff.
    wire = bytes.fromhex("00010010" "0001d308" "00000022" "000000ff")
    assert Match.decode(wire)[0] == Match(ct_state=0x22)


def test_decode_rejects_unknown_field_and_bad_lengths() -> None:
    with pytest.raises(OpenFlowDecodeError, match="unknown NXM/OXM field"):
        Match.decode(bytes.fromhex("0001000c0005ff04000000010000"))
    with pytest.raises(OpenFlowDecodeError, match="bad ofp_match length"):
        Match.decode(bytes.fromhex("00010040"))


def test_match_is_immutable() -> None:
    m = Match(reg0=1)
    with pytest.raises(AttributeError):
        m._entries = ()


def test_replace_and_without() -> None:
    m = Match(reg14=1, metadata=1, in_port=3)
    assert m.replace(reg14=2) == Match(reg14=2, metadata=1, in_port=3)
    assert m.replace(in_port=4).get("in_port_oxm") == (4, None)
    assert m.without("reg14") == Match(metadata=1, in_port=3)


def test_text_follows_ovs_ofctl_order_and_names() -> None:
    m = Match(tun_metadata0=5, ct_state="+trk+est-inv", ct_zone=5, ct_mark=(1, 1),
              ct_label=(1, 1), pkt_mark=3, tun_id=5, conj_id=7, recirc_id=0)
    assert str(m) == ("pkt_mark=0x3,recirc_id=0,conj_id=7,ct_state=+est-inv+trk,ct_zone=5,"
                      "ct_mark=0x1/0x1,ct_label=0x1/0x1,tun_id=0x5,tun_metadata0=0x5")
    m = Match(tcp=True, tcp_flags="+syn-ack", ip_frag="no", nw_tos=8, nw_ecn=1, nw_ttl=3)
    assert str(m) == "tcp,nw_tos=8,nw_ecn=1,nw_ttl=3,nw_frag=no,tcp_flags=+syn-ack"
    m = Match(arp=True, arp_op=1, arp_spa="10.0.0.0/8", arp_tpa="10.0.0.1",
              arp_sha="00:00:00:00:00:01", arp_tha=(0, 1 << 40))
    assert str(m) == ("arp,arp_spa=10.0.0.0/8,arp_tpa=10.0.0.1,arp_op=1,"
                      "arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00/01:00:00:00:00:00")
    assert str(Match(ipv6=True, ipv6_src="fd00::/64", ipv6_label=5)) == (
        "ipv6,ipv6_src=fd00::/64,ipv6_label=0x00005")
    assert str(Match(udp=True, ip_src="10.0.0.0/255.0.0.255", udp_src=53)) == (
        "udp,nw_src=10.0.0.0/255.0.0.255,tp_src=53")


_REG_VALUES = st.tuples(st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF))
_SCALARS = {
    "metadata": st.integers(0, 2**64 - 1),
    "tun_id": st.integers(0, 2**64 - 1),
    "pkt_mark": st.integers(0, 2**32 - 1),
    "ct_mark": _REG_VALUES,
    "ct_label": st.tuples(st.integers(0, 2**128 - 1), st.integers(0, 2**128 - 1)),
    "eth_src": st.integers(0, 2**48 - 1),
    "eth_dst": st.tuples(st.integers(0, 2**48 - 1), st.integers(0, 2**48 - 1)),
    "in_port": st.integers(1, 0xFFFF),
    **{f"reg{i}": _REG_VALUES for i in range(16)},
}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(_SCALARS)), st.data(), max_size=8), st.data())
def test_any_match_survives_encode_and_decode(keys: dict[str, object], data: st.DataObject,
                                              ) -> None:
    fields = {name: data.draw(_SCALARS[name]) for name in keys}
    match = Match(fields)
    decoded, _ = Match.decode(match.encode())
    assert decoded == match
    assert Match(dict(reversed(list(fields.items())))) == match
