"""Parsing and formatting of field values the way ``ovs-ofctl`` writes them.

Values are plain ``int`` everywhere in the codec (a MAC is a 48-bit int, an IPv6
address a 128-bit int); this module converts between those ints and the text forms
of ``ovs-fields(7)``: ``00:00:00:00:00:01``, ``10.0.0.0/8``, ``+trk-inv``,
``not_later``, ``LOCAL`` …
"""

from __future__ import annotations

import ipaddress

from pyovn.openflow.constants import PORT_NAMES, PORT_NUMBERS, port_from_ofp10
from pyovn.openflow.errors import OpenFlowEncodeError
from pyovn.openflow.fields import Field

CT_STATE_BITS: dict[str, int] = {
    "new": 0x01,
    "est": 0x02,
    "rel": 0x04,
    "rpl": 0x08,
    "inv": 0x10,
    "trk": 0x20,
    "snat": 0x40,
    "dnat": 0x80,
}
TCP_FLAG_BITS: dict[str, int] = {
    "fin": 0x001,
    "syn": 0x002,
    "rst": 0x004,
    "psh": 0x008,
    "ack": 0x010,
    "urg": 0x020,
    "ece": 0x040,
    "cwr": 0x080,
    "ns": 0x100,
    "[200]": 0x200,
    "[400]": 0x400,
    "[800]": 0x800,
}
_FLAG_TABLES = {"ct_state": (CT_STATE_BITS, 0xFF), "tcp_flags": (TCP_FLAG_BITS, 0xFFF)}

# (value, mask) of NXM_NX_IP_FRAG for each ovs-ofctl keyword.
FRAG_KEYWORDS: dict[str, tuple[int, int]] = {
    "no": (0, 3),
    "yes": (1, 1),
    "first": (1, 3),
    "later": (3, 3),
    "not_later": (0, 2),
}

Value = int | str | bytes


def _parse_int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise OpenFlowEncodeError(f"invalid number {text!r}") from None


def _parse_mac(text: str) -> int:
    parts = text.split(":")
    if len(parts) != 6:
        raise OpenFlowEncodeError(f"invalid Ethernet address {text!r}")
    try:
        return int("".join(p.zfill(2) for p in parts), 16)
    except ValueError:
        raise OpenFlowEncodeError(f"invalid Ethernet address {text!r}") from None


def _parse_ip(text: str, version: int) -> int:
    try:
        if version == 4:
            return int(ipaddress.IPv4Address(text))
        return int(ipaddress.IPv6Address(text.strip("[]")))
    except ValueError:
        raise OpenFlowEncodeError(f"invalid IPv{version} address {text!r}") from None


def _parse_flags(fmt: str, text: str) -> tuple[int, int | None]:
    names, full = _FLAG_TABLES[fmt]
    if text and text[0] in "+-":
        value = mask = 0
        token = ""
        sign = ""
        for ch in text + "+":
            if ch in "+-":
                if token:
                    bit = names.get(token)
                    if bit is None:
                        raise OpenFlowEncodeError(f"unknown {fmt} flag {token!r}")
                    mask |= bit
                    if sign == "+":
                        value |= bit
                sign, token = ch, ""
            else:
                token += ch
        return value, mask
    if "/" in text:
        v, m = text.split("/", 1)
        return _parse_int(v), _parse_int(m)
    if text[:1].isdigit():
        return _parse_int(text), None
    value = 0
    for token in text.split("|"):
        bit = names.get(token)
        if bit is None:
            raise OpenFlowEncodeError(f"unknown {fmt} flag {token!r}")
        value |= bit
    return value, full


def parse_value(fl: Field, value: Value) -> tuple[int, int | None]:
    """Convert ``value`` (int, bytes or ovs-ofctl text) into ``(value, mask)``.

    Text may carry a mask (``10.0.0.0/8``, ``0x1/0xff``, ``+trk-inv``); the mask is
    ``None`` when none was given.  Raises :class:`OpenFlowEncodeError` on bad text.
    """
    if isinstance(value, bool):
        return int(value), None
    if isinstance(value, int):
        return value, None
    if isinstance(value, bytes | bytearray):
        return int.from_bytes(value, "big"), None
    text = value.strip()
    fmt = fl.fmt
    if fmt in _FLAG_TABLES:
        return _parse_flags(fmt, text)
    if fmt == "frag" and text in FRAG_KEYWORDS:
        return FRAG_KEYWORDS[text]
    if fmt in ("port", "port16"):
        number = PORT_NUMBERS.get(text.upper())
        if number is not None:
            return (number if fmt == "port" else number & 0xFFFF), None
    mask: int | None = None
    if "/" in text:
        text, mask_text = text.split("/", 1)
        if fmt in ("ipv4", "ipv6") and mask_text.isdigit():
            bits = int(mask_text)
            width = 32 if fmt == "ipv4" else 128
            if bits > width:
                raise OpenFlowEncodeError(f"invalid prefix length /{bits}")
            mask = ((1 << bits) - 1) << (width - bits)
        else:
            mask = _parse_scalar(fmt, mask_text)
    return _parse_scalar(fmt, text), mask


def _parse_scalar(fmt: str, text: str) -> int:
    if fmt == "mac":
        return _parse_mac(text)
    if fmt == "ipv4":
        return _parse_ip(text, 4)
    if fmt == "ipv6":
        return _parse_ip(text, 6)
    return _parse_int(text)


def parse_port(text: str) -> int:
    """Parse an OpenFlow 1.1+ port: a number or a reserved name such as ``LOCAL``."""
    number = PORT_NUMBERS.get(text.upper())
    if number is not None:
        return number
    port = _parse_int(text)
    return port_from_ofp10(port) if 0xFF00 <= port <= 0xFFFF else port


def format_port(port: int) -> str:
    """Render a 32-bit port number as ``ovs-ofctl`` does (``LOCAL``, ``5``)."""
    return PORT_NAMES.get(port) or str(port)


def format_mac(value: int) -> str:
    """``00:00:00:00:00:01`` for a 48-bit int."""
    raw = value.to_bytes(6, "big")
    return ":".join(f"{b:02x}" for b in raw)


def format_ipv4(value: int) -> str:
    """Dotted quad for a 32-bit int."""
    return str(ipaddress.IPv4Address(value))


def format_ipv6(value: int) -> str:
    """Compressed IPv6 text for a 128-bit int."""
    return str(ipaddress.IPv6Address(value))


def _prefix_len(mask: int, width: int) -> int | None:
    inverted = ~mask & ((1 << width) - 1)
    if inverted & (inverted + 1):
        return None
    return width - inverted.bit_length()


def format_ip_masked(value: int, mask: int | None, version: int) -> str:
    """``10.0.0.0/8`` or ``10.0.0.1/255.0.0.255``, like Open vSwitch's formatter."""
    fmt = format_ipv4 if version == 4 else format_ipv6
    width = 32 if version == 4 else 128
    if mask is None or mask == (1 << width) - 1:
        return fmt(value)
    plen = _prefix_len(mask, width)
    if plen is not None:
        return f"{fmt(value)}/{plen}"
    return f"{fmt(value)}/{fmt(mask)}"


def format_flags(fmt: str, value: int, mask: int | None) -> str:
    """``+est+trk`` (masked) or ``est|trk`` (exact), as ``format_flags_masked``."""
    names, full = _FLAG_TABLES[fmt]
    by_bit = {bit: name for name, bit in names.items()}
    if mask is None or mask == full:
        if not value:
            return "0"
        parts = []
        bit = 1
        while bit <= value:
            if value & bit:
                parts.append(by_bit.get(bit, f"0x{bit:x}"))
            bit <<= 1
        return "|".join(parts)
    if not mask:
        return "0/0"
    out = []
    bit = 1
    while bit <= mask:
        if mask & bit:
            out.append(("+" if value & bit else "-") + by_bit.get(bit, f"0x{bit:x}"))
        bit <<= 1
    return "".join(out)


def format_frag(value: int, mask: int | None) -> str:
    """``no`` / ``first`` / ``later`` / ``yes`` / ``not_later`` for ip_frag."""
    mask = 3 if mask is None else mask
    if mask == 3:
        return ("later" if value & 2 else "first") if value & 1 else (
            "<error>" if value & 2 else "no")
    if mask == 1:
        return "yes" if value & 1 else "no"
    return "later" if value & 2 else "not_later"


def format_value(fl: Field, value: int, mask: int | None = None) -> str:
    """Render a value (and optional mask) as ``mf_format`` does, e.g. in set_field."""
    fmt = fl.fmt
    if fmt == "mac":
        text = format_mac(value)
        return text if mask is None else f"{text}/{format_mac(mask)}"
    if fmt == "ipv4":
        return format_ip_masked(value, mask, 4)
    if fmt == "ipv6":
        return format_ip_masked(value, mask, 6)
    if fmt in _FLAG_TABLES:
        return format_flags(fmt, value, mask)
    if fmt == "frag":
        return format_frag(value, mask)
    if fmt == "port" and mask is None:
        return format_port(value)
    if fmt == "port16" and mask is None:
        return format_port(port_from_ofp10(value))
    text = f"0x{value:x}" if fmt == "hex" else str(value)
    if mask is not None:
        text += f"/0x{mask:x}"
    return text
