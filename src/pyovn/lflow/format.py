"""Canonical text of expressions and constants, as OVN 23.03 prints them.

:func:`format_expr` is OVN's ``expr_format``: comparisons print their value in
hexadecimal (``ip4.src == 0x1020304``), a test of one bit prints as ``field[n]``
or ``!field[n]``, a contiguous mask prints as a bit range (``vlan.tci[12..15] ==
0x3``), and nested And/Or are parenthesized.  The text parses back to an
equivalent expression, and it is what OVN's own tests expect, so pyovn's tests
compare against it.  :func:`format_token` and the integer printers are OVN's
``lex_token_format``: constants print in the format they were written in.
"""

from __future__ import annotations

import socket

from pyovn.lflow.expr import (
    And,
    Boolean,
    ChassisResident,
    Cmp,
    Constant,
    ConstantSet,
    Expr,
    FieldRef,
    IntConstant,
    Or,
    Relop,
)
from pyovn.lflow.tokens import LexFormat, Token, TokenType

__all__ = [
    "format_constant",
    "format_constant_set",
    "format_expr",
    "format_field",
    "format_int",
    "format_masked_int",
    "format_token",
    "json_escape",
]

# Width in bits that each format can print; wider values print in hex.
_FORMAT_BITS = {
    LexFormat.DECIMAL: 64,
    LexFormat.HEXADECIMAL: 1024,  # the widest constant the lexer accepts
    LexFormat.IPV4: 32,
    LexFormat.IPV6: 128,
    LexFormat.ETHERNET: 48,
}


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f",
                 "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_escape(s: str) -> str:
    """Return ``s`` as a JSON string literal, as OVS's ``json_string_escape``."""
    out = ['"']
    for c in s:
        if c in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _effective_format(fmt: LexFormat, value: int, mask: int = 0) -> LexFormat:
    bits = _FORMAT_BITS[fmt]
    return fmt if value >> bits == 0 and mask >> bits == 0 else LexFormat.HEXADECIMAL


def format_int(value: int, fmt: LexFormat) -> str:
    """Print ``value`` in format ``fmt`` (hex if it does not fit the format)."""
    fmt = _effective_format(fmt, value)
    if fmt is LexFormat.DECIMAL:
        return str(value)
    if fmt is LexFormat.HEXADECIMAL:
        return f"0x{value:x}" if value else "0"
    if fmt is LexFormat.IPV4:
        return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))
    if fmt is LexFormat.IPV6:
        return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))
    return ":".join(f"{b:02x}" for b in value.to_bytes(6, "big"))


def _cidr_len(mask: int, bits: int) -> int | None:
    inverted = ~mask & ((1 << bits) - 1)
    if inverted & (inverted + 1):
        return None
    return bits - inverted.bit_length()


def format_masked_int(value: int, mask: int, fmt: LexFormat) -> str:
    """Print ``value/mask`` as OVN does, with ``/N`` for CIDR address masks."""
    eff = _effective_format(fmt, value, mask)
    head = format_int(value, eff)
    if eff is LexFormat.IPV4 and (n := _cidr_len(mask, 32)) is not None:
        return f"{head}/{n}"
    if fmt is LexFormat.IPV6 and (n := _cidr_len(mask, 128)) is not None:
        return f"{head}/{n}"
    return f"{head}/{format_int(mask, eff)}"


def format_token(tok: Token) -> str:
    """Print ``tok`` so that :func:`next_token` reads it back unchanged."""
    t = tok.type
    if t is TokenType.ID:
        return tok.s
    if t is TokenType.ERROR:
        return f"error({json_escape(tok.s)})"
    if t is TokenType.STRING:
        return json_escape(tok.s)
    if t is TokenType.INTEGER:
        return format_int(tok.value, tok.fmt)
    if t is TokenType.MASKED_INTEGER:
        return format_masked_int(tok.value, tok.mask, tok.fmt)
    if t is TokenType.MACRO:
        return f"${tok.s}"
    if t is TokenType.PORT_GROUP:
        return f"@{tok.s}"
    if t is TokenType.TEMPLATE:
        return f"^{tok.s}"
    return str(t.value)



def _hex(value: int) -> str:
    return f"0x{value:x}" if value else "0"


def _bit_range(mask: int) -> tuple[int, int]:
    """(first bit, number of bits) of a single run of 1-bits, else (0, 0)."""
    if not mask:
        return 0, 0
    low = (mask & -mask).bit_length() - 1
    run = mask >> low
    if run & (run + 1):
        return 0, 0
    return low, run.bit_length()


def _format_cmp(e: Cmp) -> str:
    sym = e.symbol
    if not sym.width:
        return f"{sym.name} {e.relop.value} {json_escape(e.string or '')}"
    ofs, n = _bit_range(e.mask & ((1 << sym.width) - 1))
    if n == 1 and e.relop in (Relop.EQ, Relop.NE):
        positive = bool((e.value >> ofs) & 1) ^ (e.relop is Relop.NE)
        bit = f"[{ofs}]" if sym.width > 1 else ""
        return f"{'' if positive else '!'}{sym.name}{bit}"
    name = sym.name
    if 0 < n < sym.width:
        name += f"[{ofs}..{ofs + n - 1}]" if n > 1 else f"[{ofs}]"
    # A mask that is not one run of bits cannot be a bit range.
    value = (_hex((e.value >> ofs) & ((1 << n) - 1)) if n
             else f"{_hex(e.value)}/{_hex(e.mask)}")
    return f"{name} {e.relop.value} {value}"


def _format_terms(terms: tuple[Expr, ...], op: str) -> str:
    parts = []
    for t in terms:
        text = format_expr(t)
        parts.append(f"({text})" if isinstance(t, And | Or) else text)
    return f" {op} ".join(parts)


def format_expr(e: Expr) -> str:
    """Return OVN's text for expression ``e`` (``expr_format``)."""
    if isinstance(e, Cmp):
        return _format_cmp(e)
    if isinstance(e, And):
        return _format_terms(e.terms, "&&")
    if isinstance(e, Or):
        return _format_terms(e.terms, "||")
    if isinstance(e, Boolean):
        return "1" if e.value else "0"
    assert isinstance(e, ChassisResident)
    return f"{'!' if e.negated else ''}is_chassis_resident({json_escape(e.port)})"


def format_field(f: FieldRef) -> str:
    """Return ``name`` or ``name[lo..hi]`` / ``name[bit]`` (``expr_field_format``)."""
    if f.ofs == 0 and f.n_bits == f.symbol.width:
        return f.symbol.name
    if f.n_bits != 1:
        return f"{f.symbol.name}[{f.ofs}..{f.ofs + f.n_bits - 1}]"
    return f"{f.symbol.name}[{f.ofs}]"


def format_constant(c: Constant) -> str:
    """Return constant ``c`` as written back by OVN (``expr_constant_format``)."""
    if isinstance(c, str):
        return json_escape(c)
    return _format_int_constant(c)


def _format_int_constant(c: IntConstant) -> str:
    if c.mask is None:
        return format_int(c.value, c.fmt)
    return format_masked_int(c.value, c.mask, c.fmt)


def format_constant_set(cs: ConstantSet) -> str:
    """Return ``c`` or ``{c1, c2}`` (``expr_constant_set_format``)."""
    body = ", ".join(format_constant(c) for c in cs.values)
    if cs.in_curlies or len(cs.values) != 1:
        return f"{{{body}}}"
    return body
