"""Lexer: OVN 23.03's token rules, formats and messages, and template expansion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovn.lflow import LflowSyntaxError, expand_templates
from pyovn.lflow.format import format_token
from pyovn.lflow.lexer import Lexer, tokenize
from pyovn.lflow.tokens import LexFormat, TokenType, next_token, scan_exact

# OVN's own lexer test (tests/ovn.at "lexer"): input, or "input => output".
OVN_LEXER_CASES = r"""
foo bar baz quuxquuxquux _abcd_ a.b.c.d a123_.456
"abc\u0020def" => "abc def"
" => error("Input ends inside quoted string.")
$foo $bar $baz $quuxquuxquux $_abcd_ $a.b.c.d $a123_.456
$1 => error("`$' must be followed by a valid identifier.") 1
a/*b*/c => a c
a//b c => a
a/**/b => a b
a/*/b => a error("`/*' without matching `*/'.")
a/*/**/b => a b
a/b => a error("`/' is only valid as part of `//' or `/*'.") b
0 1 12345 18446744073709551615
18446744073709551616 => error("Decimal constants must be less than 2**64.")
9999999999999999999999 => error("Decimal constants must be less than 2**64.")
01 => error("Decimal constants must not have leading zeros.")
0/0
0/1
1/0 => 0/0
1/1
128/384
1/3
1/ => error("Integer constant expected.")
1/0x123 => error("Value and mask have incompatible formats.")
0x1234
0x01234 => 0x1234
0x0 => 0
0x000 => 0
0xfedcba9876543210
0XFEDCBA9876543210 => 0xfedcba9876543210
0xfedcba9876543210fedcba9876543210
0x0000fedcba9876543210fedcba9876543210 => 0xfedcba9876543210fedcba9876543210
0x => error("Hex digits expected following 0x.")
0X => error("Hex digits expected following 0X.")
0x0/0x0 => 0/0
0x0/0x1 => 0/0x1
0x1/0x0 => 0/0
0xffff/0x1ffff
0x. => error("Invalid syntax in hexadecimal constant.")
192.168.128.1 1.2.3.4 255.255.255.255 0.0.0.0
256.1.2.3 => error("Invalid numeric constant.")
192.168.0.0/16
192.168.0.0/255.255.0.0 => 192.168.0.0/16
192.168.0.0/255.255.255.0 => 192.168.0.0/24
192.168.0.0/255.255.0.255
192.168.0.0/255.0.0.0 => 192.0.0.0/8
192.168.0.0/32
192.168.0.0/255.255.255.255 => 192.168.0.0/32
192.168.0.2/32
192.168.0.2/30 => 192.168.0.0/30
192.168.0.2/24 => 192.168.0.0/24
1.2.3.4:5 => 1.2.3.4 : 5
::
::1
ff00::1234 => ff00::1234
2001:db8:85a3::8a2e:370:7334
2001:db8:85a3:0:0:8a2e:370:7334 => 2001:db8:85a3::8a2e:370:7334
2001:0db8:85a3:0000:0000:8a2e:0370:7334 => 2001:db8:85a3::8a2e:370:7334
::ffff:192.0.2.128
::ffff:c000:0280 => ::ffff:192.0.2.128
::1/::1
::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff => ::1/128
::1/128
ff00::/8
ff00::/ff00:: => ff00::/8
01:23:45:67:ab:cd
01:23:45:67:AB:CD => 01:23:45:67:ab:cd
fe:dc:ba:98:76:54
FE:DC:ba:98:76:54 => fe:dc:ba:98:76:54
01:00:00:00:00:00/01:00:00:00:00:00
ff:ff:ff:ff:ff:ff/ff:ff:ff:ff:ff:ff
fe:ff:ff:ff:ff:ff/ff:ff:ff:ff:ff:ff
ff:ff:ff:ff:ff:ff/fe:ff:ff:ff:ff:ff => fe:ff:ff:ff:ff:ff/fe:ff:ff:ff:ff:ff
fe:x => error("Invalid numeric constant.")
00:01:02:03:04:x => error("Invalid numeric constant.")
(){}[]==!=<<=>>=!&&||..,;=<->--: => ( ) { } [ ] == != < <= > >= ! && || .. , ; = <-> -- :
& => error("`&' is only valid as part of `&&'.")
| => error("`|' is only valid as part of `||'.")
^ => error("`^' must be followed by a valid identifier.")
"""


def _cases() -> list[tuple[str, str]]:
    out = []
    for line in OVN_LEXER_CASES.strip("\n").splitlines():
        if line:
            text, sep, expected = line.partition(" => ")
            out.append((text, expected if sep else text))
    return out


@pytest.mark.parametrize(("text", "expected"), _cases())
def test_tokens_print_back_as_ovn_lexer_test_expects(text: str, expected: str) -> None:
    assert " ".join(format_token(t) for t in tokenize(text)) == expected


def test_integer_tokens_keep_the_format_they_were_written_in() -> None:
    formats = [t.fmt for t in tokenize("80 0x50 10.0.0.1 fe80::1 00:00:00:00:00:01")]
    assert formats == [LexFormat.DECIMAL, LexFormat.HEXADECIMAL, LexFormat.IPV4,
                       LexFormat.IPV6, LexFormat.ETHERNET]


def test_cidr_prefix_becomes_a_masked_integer() -> None:
    (tok,) = tokenize("10.1.2.3/8")
    assert tok.type is TokenType.MASKED_INTEGER
    assert (tok.value, tok.mask) == (0x0A000000, 0xFF000000)
    (tok6,) = tokenize("fe80::/10")
    assert tok6.mask == ((1 << 10) - 1) << 118


def test_sigils_name_address_sets_port_groups_and_templates() -> None:
    kinds = [(t.type, t.s) for t in tokenize("$as1 @pg1 ^tmpl")]
    assert kinds == [(TokenType.MACRO, "as1"), (TokenType.PORT_GROUP, "pg1"),
                     (TokenType.TEMPLATE, "tmpl")]


def test_identifiers_may_contain_dots_and_hex_runs_before_colon_are_addresses() -> None:
    kinds = [(t.type, format_token(t)) for t in tokenize("ct.est abc ab:cd:ef:01:02:03")]
    assert kinds == [(TokenType.ID, "ct.est"), (TokenType.ID, "abc"),
                     (TokenType.INTEGER, "ab:cd:ef:01:02:03")]


def test_syntax_error_names_the_token_and_its_position() -> None:
    lexer = Lexer("ip4 && 123")
    lexer.get()
    lexer.get()
    with pytest.raises(LflowSyntaxError) as info:
        lexer.syntax_error("expecting field name")
    assert str(info.value) == "Syntax error at `123' expecting field name."
    assert info.value.position == 7
    assert info.value.caret().endswith("\n       ^")


def test_malformed_token_error_wins_over_what_the_parser_expected() -> None:
    lexer = Lexer("0x")
    with pytest.raises(LflowSyntaxError, match=r"^Hex digits expected following 0x\.$"):
        lexer.syntax_error("expecting constant")


def test_nul_character_ends_the_input_as_in_c() -> None:
    assert [format_token(t) for t in tokenize("ip4\0 garbage(")] == ["ip4"]


def test_non_ascii_outside_strings_is_an_invalid_byte() -> None:
    (tok,) = tokenize("\u00e9")
    assert tok.type is TokenType.ERROR
    assert tok.s == "Invalid byte 0x-61 in input."


def test_strings_are_json_unescaped_and_bad_escapes_are_errors() -> None:
    assert [t.s for t in tokenize(r'"a\"b\u00e9" "\ud83d\ude00"')] == ['a"b\u00e9', "\U0001f600"]
    assert tokenize(r'"\x"')[0].s == "bad escape \\x"
    assert tokenize(r'"\u0000"')[0].s == "null bytes not supported in quoted strings"


_TEXT = st.text(alphabet="abfgxyzABF_019.:/$@^\"()[]{}=!<>-&|,; \t\n*\\", max_size=24)


@settings(max_examples=400)
@given(_TEXT)
def test_fast_scanner_agrees_with_exact_scanner(text: str) -> None:
    for pos in range(len(text) + 1):
        assert next_token(text, pos) == scan_exact(text, pos)


@settings(max_examples=400)
@given(_TEXT)
def test_every_valid_token_reparses_from_its_printed_form(text: str) -> None:
    for tok in tokenize(text):
        if tok.type is TokenType.ERROR:
            continue
        again = next_token(format_token(tok), 0)
        assert (again.type, again.s, again.value, again.mask) == (
            tok.type, tok.s, tok.value, tok.mask)


def test_text_without_caret_is_not_touched_by_template_expansion() -> None:
    text = 'inport == "a"  /* comment */'
    assert expand_templates(text, {"x": "1"}) == (text, frozenset())


def test_templates_are_replaced_and_tokens_rejoined_without_separators() -> None:
    text, refs = expand_templates("ip4.dst == ^vip && tcp.dst == ^port",
                                  {"vip": "10.0.0.1"})
    assert text == "ip4.dst==10.0.0.1&&tcp.dst==port"
    assert refs == frozenset({"vip", "port"})


def test_a_bad_token_next_to_a_template_becomes_an_error_call() -> None:
    # ovn-controller 23.03 prints the error token, which then fails to parse.
    assert expand_templates("x^")[0] == 'xerror("`^\' must be followed by a valid identifier.")'
