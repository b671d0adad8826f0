"""Port address parsing as OVN's extract_lsp_addresses does it."""

from __future__ import annotations

import ipaddress

import pytest

from pyovn.northd.addresses import (
    extract_lsp_addresses,
    is_dynamic_lsp_address,
    ntop6,
    parse_mac,
    split_addresses,
)


def test_mac_is_normalised_to_lower_case_two_digit_octets() -> None:
    assert parse_mac("0A:b:C:00:00:1") == ("0a:0b:0c:00:00:01", 14)
    assert parse_mac("not-a-mac") is None


def test_ipv4_keeps_host_bits_and_derives_network_and_broadcast() -> None:
    addrs, clean = extract_lsp_addresses("00:00:00:00:00:01 10.0.0.5/24 192.168.1.1")
    assert clean and addrs is not None
    first, second = addrs.ipv4_addrs
    assert (first.addr_s, first.plen, first.network_s, first.bcast_s, first.mask_s) == (
        "10.0.0.5", 24, "10.0.0.0", "10.0.0.255", "255.255.255.0")
    assert (second.plen, second.network_s) == (32, "192.168.1.1")


def test_ipv4_mask_form_and_ipv6_prefix_and_mask_forms() -> None:
    addrs, clean = extract_lsp_addresses(
        "00:00:00:00:00:01 10.1.2.3/255.255.0.0 fd00::6/64 fd01::1/ffff:ffff::")
    assert clean and addrs is not None
    assert addrs.ipv4_addrs[0].plen == 16
    assert [(a.addr_s, a.plen, a.network_s) for a in addrs.ipv6_addrs] == [
        ("fd00::6", 64, "fd00::"), ("fd01::1", 32, "fd01::")]


def test_ipv6_solicited_node_and_link_local_flag() -> None:
    addrs, _ = extract_lsp_addresses("00:00:00:00:00:01 fe80::1234:5678 fd00::1")
    assert addrs is not None
    lla, gua = addrs.ipv6_addrs
    assert lla.is_lla and not gua.is_lla
    assert lla.sn_addr_s == "ff02::1:ff34:5678"


@pytest.mark.parametrize("entry", ["00:00:00:00:00:01 10.0.0.1 junk",
                                   "00:00:00:00:00:01 10.0.0.1/33",
                                   "00:00:00:00:00:01 fd00::1/129"])
def test_parsing_stops_at_the_first_bad_token_and_keeps_the_rest(entry: str) -> None:
    addrs, clean = extract_lsp_addresses(entry)
    assert addrs is not None and not clean
    assert addrs.ea_s == "00:00:00:00:00:01"
    assert len(addrs.ipv4_addrs) == (1 if entry.endswith("junk") else 0)


@pytest.mark.parametrize("entry", ["unknown", "router", "10.0.0.1", "", "dynamic"])
def test_an_entry_without_a_leading_mac_is_rejected(entry: str) -> None:
    assert extract_lsp_addresses(entry) == (None, False)


@pytest.mark.parametrize("entry, dynamic", [
    ("dynamic", True), ("dynamic 10.0.0.1", True), ("dynamic 10.0.0.1 fd00::1", True),
    ("dynamic fd00::1", True), ("00:00:00:00:00:01 dynamic", True),
    ("dynamic junk", False), ("00:00:00:00:00:01", False), ("unknown", False),
    ("dynamic fd00::1 10.0.0.1", False)])
def test_dynamic_address_forms(entry: str, dynamic: bool) -> None:
    assert is_dynamic_lsp_address(entry) is dynamic


@pytest.mark.parametrize("text, expected", [
    ("::2", "::2"), ("::1.2.3.4", "::1.2.3.4"), ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
    ("::ffff", "::ffff"), ("::1:2", "::0.1.0.2"), ("::fffe:1.2.3.4", "::fffe:102:304"),
    ("fe80::0:1", "fe80::1"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::", "::")])
def test_ipv6_text_is_what_glibc_inet_ntop_writes(text: str, expected: str) -> None:
    assert ntop6(ipaddress.IPv6Address(text)) == expected


def test_split_addresses_gives_the_ip_strings_of_an_entry() -> None:
    assert split_addresses("00:00:00:00:00:01 10.0.0.1/24 fd00::1") == (
        ["10.0.0.1"], ["fd00::1"])
    assert split_addresses("unknown") == ([], [])
