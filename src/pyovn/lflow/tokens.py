"""Token types and the scanner for OVN logical flow text (OVN 23.03 ``lib/lex.c``).

:func:`next_token` scans one token (:func:`pyovn.lflow.format.format_token`
prints one back in a form the scanner reads losslessly).  Integers are
Python ints of up to 1024 bits (OVN's ``mf_subvalue``); the ``fmt`` of an integer
token records how it was written so that it can be printed the same way.
"""

from __future__ import annotations

import enum
import re
import socket
import string
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["LexFormat", "Token", "TokenType", "next_token", "scan_exact"]


class TokenType(enum.Enum):
    """Kinds of tokens (OVN's ``enum lex_type``)."""

    END = "$"
    ID = "id"
    STRING = "string"
    INTEGER = "integer"
    MASKED_INTEGER = "masked integer"
    MACRO = "address set"
    PORT_GROUP = "port group"
    TEMPLATE = "template"
    ERROR = "error"
    LPAREN = "("
    RPAREN = ")"
    LCURLY = "{"
    RCURLY = "}"
    LSQUARE = "["
    RSQUARE = "]"
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LOG_NOT = "!"
    LOG_AND = "&&"
    LOG_OR = "||"
    ELLIPSIS = ".."
    COMMA = ","
    SEMICOLON = ";"
    EQUALS = "="
    EXCHANGE = "<->"
    DECREMENT = "--"
    COLON = ":"
    HYPHEN = "-"


class LexFormat(enum.Enum):
    """How an integer constant was written (OVN's ``enum lex_format``)."""

    DECIMAL = "decimal"
    HEXADECIMAL = "hexadecimal"
    IPV4 = "IPv4"
    IPV6 = "IPv6"
    ETHERNET = "Ethernet"


class Token(NamedTuple):
    """One token: its type, where it is in the text, and its value.

    ``s`` holds the identifier, the unescaped string, the address set / port
    group / template name (without the sigil) or the error message.  ``value``,
    ``mask`` and ``fmt`` describe integers (``mask`` only for MASKED_INTEGER).
    A named tuple rather than a dataclass: the scanner makes many of them.
    """

    type: TokenType
    start: int
    end: int
    s: str = ""
    value: int = 0
    mask: int = 0
    fmt: LexFormat = LexFormat.DECIMAL


_MAX_BITS = 1024  # OVN's union mf_subvalue
_DIGITS = frozenset(string.digits)
_HEXITS = frozenset(string.hexdigits)
_ALNUM = frozenset(string.ascii_letters + string.digits)
_ID1 = frozenset(string.ascii_letters + "_.")
_IDN = _ID1 | _DIGITS
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))
_SIMPLE = {
    "(": TokenType.LPAREN,
    ")": TokenType.RPAREN,
    "{": TokenType.LCURLY,
    "}": TokenType.RCURLY,
    "[": TokenType.LSQUARE,
    "]": TokenType.RSQUARE,
    ",": TokenType.COMMA,
    ";": TokenType.SEMICOLON,
}
_SPACE = frozenset(" \t\n\r\v\f")


def _err(start: int, end: int, message: str) -> Token:
    return Token(TokenType.ERROR, start, end, s=message)


# --- integers -------------------------------------------------------------


def _scan_mac(s: str) -> int | None:
    """Parse ``s`` as OVS's ``ovs_scan("%hhx:%hhx:...")`` would, or None."""
    parts = s.split(":")
    if len(parts) != 6:
        return None
    value = 0
    for part in parts:
        digits = part[2:] if part[:2] in ("0x", "0X") else part
        if not digits or not all(c in _HEXITS for c in digits):
            return None
        value = (value << 8) | (int(digits, 16) & 0xFF)
    return value


def _parse_hex(text: str, start: int, end: int, digits: str) -> Token:
    # Scan from the least significant digit, as OVN does, so that an invalid
    # digit and an over-long constant are reported in the same order.
    for i, c in enumerate(reversed(digits)):
        if c not in _HEXITS:
            return _err(start, end, "Invalid syntax in hexadecimal constant.")
        if c != "0" and i // 2 >= _MAX_BITS // 8:
            return _err(
                start, end, f"Hexadecimal constant requires more than {_MAX_BITS} bits."
            )
    return Token(TokenType.INTEGER, start, end, value=int(digits, 16),
                  fmt=LexFormat.HEXADECIMAL)


def _parse_plain_integer(text: str, start: int) -> Token:
    end = start
    n = len(text)
    saw_dot = False
    while end < n:
        c = text[end]
        if c == ".":
            # ".." is the ellipsis token, never part of a number.
            if end + 1 < n and text[end + 1] == ".":
                break
            saw_dot = True
        elif c == ":":
            # "1.2.3.4:80" is an address, a colon and a port.
            if saw_dot:
                break
        elif c not in _ALNUM:
            break
        end += 1
    s = text[start:end]
    if not s:
        return _err(start, end, "Integer constant expected.")
    if len(s) == 17 and (mac := _scan_mac(s)) is not None:
        return Token(TokenType.INTEGER, start, end, value=mac, fmt=LexFormat.ETHERNET)
    if all(c in _DIGITS for c in s):
        if s[0] == "0" and len(s) > 1:
            return _err(start, end, "Decimal constants must not have leading zeros.")
        # 2**64 has 20 digits; checking the length first also keeps int() away
        # from Python's limit on very long decimal strings.
        value = int(s) if len(s) <= 20 else 1 << 64
        if value >= 1 << 64:
            return _err(start, end, "Decimal constants must be less than 2**64.")
        return Token(TokenType.INTEGER, start, end, value=value)
    if s[0] == "0" and s[1] in "xX":
        if len(s) > 2:
            return _parse_hex(text, start, end, s[2:])
        return _err(start, end, f"Hex digits expected following 0{s[1]}.")
    if len(s) < 46:  # INET6_ADDRSTRLEN
        for family, fmt in ((socket.AF_INET, LexFormat.IPV4),
                            (socket.AF_INET6, LexFormat.IPV6)):
            try:
                packed = socket.inet_pton(family, s)
            except OSError:
                continue
            return Token(TokenType.INTEGER, start, end,
                         value=int.from_bytes(packed, "big"), fmt=fmt)
    return _err(start, end, "Invalid numeric constant.")


def _parse_integer(text: str, start: int) -> Token:
    tok = _parse_plain_integer(text, start)
    if tok.type is not TokenType.INTEGER or text[tok.end:tok.end + 1] != "/":
        return tok
    mtok = _parse_plain_integer(text, tok.end + 1)
    if mtok.type is TokenType.ERROR:
        return _err(start, mtok.end, mtok.s)
    fmt = tok.fmt
    # OVN reads a decimal prefix length as a 32-bit unsigned integer.
    prefix = mtok.value & 0xFFFFFFFF
    if fmt is mtok.fmt:
        mask = mtok.value
    elif fmt is LexFormat.IPV4 and mtok.fmt is LexFormat.DECIMAL and prefix <= 32:
        mask = ((1 << prefix) - 1) << (32 - prefix)
    elif fmt is LexFormat.IPV6 and mtok.fmt is LexFormat.DECIMAL and prefix <= 128:
        mask = ((1 << prefix) - 1) << (128 - prefix)
    elif (fmt is LexFormat.DECIMAL and mtok.fmt is LexFormat.HEXADECIMAL
          and tok.value == 0):
        fmt = LexFormat.HEXADECIMAL
        mask = mtok.value
    else:
        return _err(start, mtok.end, "Value and mask have incompatible formats.")
    return Token(TokenType.MASKED_INTEGER, start, mtok.end,
                 value=tok.value & mask, mask=mask, fmt=fmt)


# --- strings ----------------------------------------------------------------

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}


def _hex4(raw: str, i: int) -> tuple[int, str | None]:
    if i + 4 > len(raw):
        return 0, "quoted string ends within \\u escape"
    chunk = raw[i:i + 4]
    if not all(c in _HEXITS for c in chunk):
        return 0, "malformed \\u escape"
    value = int(chunk, 16)
    if not value:
        return 0, "null bytes not supported in quoted strings"
    return value, None


def _json_unescape(raw: str) -> tuple[bool, str]:
    """OVS's ``json_string_unescape``: (True, text) or (False, error)."""
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = raw[i + 1]
        i += 2
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            continue
        if e != "u":
            return False, f"bad escape \\{e}"
        c0, error = _hex4(raw, i)
        if error:
            return False, error
        i += 4
        if not 0xD800 <= c0 < 0xDC00:
            out.append(chr(c0))
            continue
        if raw[i:i + 2] != "\\u":
            return False, "malformed escaped surrogate pair"
        c1, error = _hex4(raw, i + 2)
        if error:
            return False, error
        i += 6
        if not 0xDC00 <= c1 < 0xE000:
            return False, ("second half of escaped surrogate pair is not "
                           "trailing surrogate")
        out.append(chr(0x10000 + ((c0 - 0xD800) << 10) + (c1 - 0xDC00)))
    return True, "".join(out)


def _parse_string(text: str, start: int) -> Token:
    p = start + 1
    n = len(text)
    while p < n:
        c = text[p]
        if c == '"':
            ok, s = _json_unescape(text[start + 1:p])
            return Token(TokenType.STRING if ok else TokenType.ERROR, start, p + 1, s=s)
        p += 2 if c == "\\" else 1
    return _err(start, n, "Input ends inside quoted string.")


# --- the scanner ------------------------------------------------------------


def _parse_id(text: str, start: int, ttype: TokenType, skip: int = 0) -> Token:
    p = start + skip
    if p >= len(text) or text[p] not in _ID1:
        sigil = text[start]
        return _err(start, p, f"`{sigil}' must be followed by a valid identifier.")
    n = len(text)
    p += 1
    while p < n and text[p] in _IDN:
        p += 1
    return Token(ttype, start, p, s=text[start + skip:p])


def _skip_space_and_comments(text: str, p: int) -> tuple[int, Token | None]:
    n = len(text)
    while p < n:
        c = text[p]
        if c in _SPACE:
            p += 1
        elif c == "/" and text[p + 1:p + 2] == "/":
            nl = text.find("\n", p)
            p = n if nl < 0 else nl
        elif c == "/" and text[p + 1:p + 2] == "*":
            close = text.find("*/", p + 2)
            nl = text.find("\n", p + 2)
            if close < 0 or 0 <= nl < close:
                stop = n if nl < 0 else nl
                return stop, _err(p, stop, "`/*' without matching `*/'.")
            p = close + 2
        else:
            break
    return p, None


_TWO_CHAR = {"==": TokenType.EQ, "!=": TokenType.NE, "<=": TokenType.LE,
             ">=": TokenType.GE, "&&": TokenType.LOG_AND, "||": TokenType.LOG_OR,
             "..": TokenType.ELLIPSIS, "--": TokenType.DECREMENT}
_ONE_CHAR = {"=": TokenType.EQUALS, "!": TokenType.LOG_NOT, "<": TokenType.LT,
             ">": TokenType.GT, "-": TokenType.HYPHEN}
_LONE_ERRORS = {"&": "`&' is only valid as part of `&&'.",
                "|": "`|' is only valid as part of `||'.",
                ".": "`.' is only valid as part of `..' or a number.",
                "/": "`/' is only valid as part of `//' or `/*'."}


def _scan_operator(text: str, p: int) -> Token:
    if text.startswith("<->", p):
        return Token(TokenType.EXCHANGE, p, p + 3)
    ttype = _TWO_CHAR.get(text[p:p + 2])
    if ttype is not None:
        return Token(ttype, p, p + 2)
    c = text[p]
    if c in _ONE_CHAR:
        return Token(_ONE_CHAR[c], p, p + 1)
    return _err(p, p + 1, _LONE_ERRORS[c])


def _scan_colon(text: str, p: int) -> Token:
    if text.startswith("::", p):
        return _parse_integer(text, p)
    return Token(TokenType.COLON, p, p + 1)


def _scan_hex_letter(text: str, p: int) -> Token:
    # A hex-digit run followed by ':' is a MAC or IPv6 address; identifiers
    # never contain ':'.
    q = p
    n = len(text)
    while q < n and text[q] in _HEXITS:
        q += 1
    if q < n and text[q] == ":":
        return _parse_integer(text, p)
    return _parse_id(text, p, TokenType.ID)


def _simple(ttype: TokenType) -> Callable[[str, int], Token]:
    return lambda text, p: Token(ttype, p, p + 1)


_SCANNERS: dict[str, Callable[[str, int], Token]] = {
    **{c: _simple(t) for c, t in _SIMPLE.items()},
    **dict.fromkeys("=!<>-&|./", _scan_operator),
    "$": lambda text, p: _parse_id(text, p, TokenType.MACRO, 1),
    "@": lambda text, p: _parse_id(text, p, TokenType.PORT_GROUP, 1),
    "^": lambda text, p: _parse_id(text, p, TokenType.TEMPLATE, 1),
    ":": _scan_colon,
    '"': _parse_string,
    **dict.fromkeys(string.digits, _parse_integer),
    **dict.fromkeys("abcdefABCDEF", _scan_hex_letter),
    **dict.fromkeys(_ID1 - _HEXITS - {"."}, lambda text, p: _parse_id(text, p, TokenType.ID)),
}
_SKIP_START = _SPACE | {"/"}
_OPERATORS = {**{k: v for k, v in _SIMPLE.items()}, **_TWO_CHAR, **_ONE_CHAR,
              "<->": TokenType.EXCHANGE}
# The common tokens, recognized in one regex match; anything else (numbers
# other than small decimals, strings, comments, errors...) takes the exact
# path below.  A decimal must not run on into a longer numeric token, and an
# identifier starting with hex digits must not be the start of an address.
_FAST = re.compile(r"""[ \t\n\r\v\f]*+(?:
    (?P<id>(?:[g-zG-Z_]|[a-fA-F][0-9a-fA-F]*+(?!:))[A-Za-z0-9_.]*+)
  | (?P<dec>(?:[1-9][0-9]{0,18}|0)(?![A-Za-z0-9_:/]|\.(?!\.)))
  | (?P<op><->|==|!=|<=|>=|&&|\|\||\.\.|--|[(){}\[\],;=!<>-])
)""", re.VERBOSE)


def next_token(text: str, pos: int) -> Token:
    """Scan the token that starts at or after ``pos`` (OVN's ``lex_token_parse``)."""
    m = _FAST.match(text, pos)
    if m is not None:
        kind = m.lastgroup
        assert kind is not None
        start, end = m.span(kind)
        if kind == "id":
            return Token(TokenType.ID, start, end, text[start:end])
        if kind == "dec":
            return Token(TokenType.INTEGER, start, end, value=int(text[start:end]))
        return Token(_OPERATORS[text[start:end]], start, end)
    return scan_exact(text, pos)


def scan_exact(text: str, pos: int) -> Token:
    """The exact scanner that :func:`next_token` short-cuts (kept for tests)."""
    p = pos
    if p < len(text) and text[p] in _SKIP_START:
        p, comment_error = _skip_space_and_comments(text, p)
        if comment_error is not None:
            return comment_error
    if p >= len(text):
        return Token(TokenType.END, p, p)
    c = text[p]
    scanner = _SCANNERS.get(c)
    if scanner is not None:
        return scanner(text, p)
    if c in _PRINTABLE:
        return _err(p, p + 1, f"Invalid character `{c}' in input.")
    # OVN prints the (signed) first byte of the offending character.
    byte = c.encode("utf-8", "surrogatepass")[0]
    return _err(p, p + 1, f"Invalid byte 0x{byte - 256 if byte > 127 else byte} in input.")
