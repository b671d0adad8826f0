"""``put_dhcp_opts``, ``put_dhcpv6_opts``, ``put_nd_ra_opts``: replies ovn-controller builds.

All three are paused controller actions.  After the 8-byte action header come the
OpenFlow 1.5 header of the result field and the bit offset in it (32 bits),
then:

- DHCPv4: the offered address (4 bytes), the ``bootfile_name`` (67),
  ``bootfile_name_alt`` (254) and ``next_server`` (253) options if present --
  PXE clients want them first -- then every other option as ``code``,
  ``length`` (one byte each) and the value: one byte for ``bool``/``uint8``,
  big-endian integers for ``uint16``/``uint32``, addresses for ``ipv4``,
  RFC 3442 routes for ``static_routes``, the text for ``str``/``host_id``,
  RFC 1035 names with compression for ``domains``;
- DHCPv6: every option as ``code`` and ``length`` (16 bits each) and the
  value: addresses for ``ipv6``, 6 bytes for ``mac``, the text for ``str``.

- ND RA: a 16-byte Router Advertisement (type 134, hop limit 255, lifetime
  65535, the M/O and preference flags from ``addr_mode`` and
  ``router_preference``) followed by its options (source link-layer address,
  MTU, prefix information, RDNSS, DNSSL) in the order given.

Option codes and types come from the Southbound DHCP_Options/DHCPv6_Options
rows through the parser (:class:`~pyovn.lflow.actions_ext.GenOption`).
"""

from __future__ import annotations

import struct

from pyovn.lflow import actions_ext as ax
from pyovn.lflow.encode_controller import Opcode, controller_op, result_field_header
from pyovn.lflow.encode_params import Encoder, handles, resolve_field
from pyovn.lflow.errors import LflowSemanticError
from pyovn.lflow.expr import IntConstant

__all__ = ["dhcpv4_option", "dhcpv6_option", "encode_domains", "nd_ra_message"]

OFFERIP, BOOTFILE, BOOTFILE_ALT, NEXT_SERVER = 0, 67, 254, 253
_FIRST = (BOOTFILE, BOOTFILE_ALT, NEXT_SERVER)


def _ints(opt: ax.GenOption) -> list[IntConstant]:
    return [v for v in opt.value.values if isinstance(v, IntConstant)]


def _text(opt: ax.GenOption) -> bytes:
    value = opt.value.values[0] if opt.value.values else ""
    return str(value).encode()


def _prefix_len(mask: int | None) -> int:
    return 32 if mask is None else bin(mask & 0xFFFFFFFF).count("1")


def encode_domains(text: str) -> bytes:
    """RFC 1035 encoding of a comma-separated domain list, with suffix compression."""
    out = bytearray()
    offsets: dict[str, int] = {}
    for domain in (d for d in text.split(",") if d):
        labels = [label for label in domain.split(".") if label]
        rest = domain
        for i in range(len(labels)):
            # OVN keys its compression table by the remaining text minus its last
            # character (an ovs_strlcpy size quirk); do the same, to the byte.
            suffix = rest[:-1]
            rest = rest.split(".", 1)[1] if "." in rest else ""
            if suffix in offsets:
                out += struct.pack("!H", 0xC000 | offsets[suffix])
                break
            offsets[suffix] = len(out)
            label = labels[i].encode()
            out += bytes([len(label) & 0xFF]) + label
        else:
            out.append(0)
    return bytes(out)


def dhcpv4_option(opt: ax.GenOption) -> bytes:
    """One DHCPv4 option: code, length and value (the length wraps at 256, as OVN's)."""
    t = opt.type
    ints = _ints(opt)
    if t in ("bool", "uint8"):
        value = bytes([ints[0].value & 0xFF])
    elif t == "uint16":
        value = struct.pack("!H", ints[0].value & 0xFFFF)
    elif t == "uint32":
        value = struct.pack("!I", ints[0].value & 0xFFFFFFFF)
    elif t == "ipv4":
        value = b"".join(struct.pack("!I", c.value & 0xFFFFFFFF) for c in ints)
    elif t == "static_routes":
        value = b""
        for dst, gw in zip(ints[0::2], ints[1::2], strict=False):
            plen = _prefix_len(dst.mask)
            value += bytes([plen]) + struct.pack("!I", dst.value)[:(plen + 7) // 8]
            value += struct.pack("!I", gw.value & 0xFFFFFFFF)
    elif t == "str" or (t == "host_id" and opt.value.is_string):
        value = _text(opt)
    elif t == "host_id":
        value = struct.pack("!I", ints[0].value & 0xFFFFFFFF)
    elif t == "domains":
        value = encode_domains(_text(opt).decode())
    else:
        raise LflowSemanticError(f"DHCPv4 option {opt.name} has unknown type {t}")
    return bytes([opt.code & 0xFF, len(value) & 0xFF]) + value


_U48 = (1 << 48) - 1
_U128 = (1 << 128) - 1


def dhcpv6_option(opt: ax.GenOption) -> bytes:
    """One DHCPv6 option: code, length (16 bits each) and value."""
    t = opt.type
    if t == "ipv6":
        # Like ovn-controller, the option takes the low-order bytes of any
        # integer constant (an IPv6 address given for a MAC keeps its last 48 bits).
        value = b"".join((c.value & _U128).to_bytes(16, "big") for c in _ints(opt))
    elif t == "mac":
        value = (_ints(opt)[0].value & _U48).to_bytes(6, "big")
    elif t == "str":
        value = _text(opt)
    else:
        raise LflowSemanticError(f"DHCPv6 option {opt.name} has unsupported type {t}")
    return struct.pack("!HH", opt.code, len(value)) + value


@handles(ax.PutDhcpOpts)
def _put_dhcp_opts(enc: Encoder, act: ax.PutDhcpOpts) -> None:
    payload = result_field_header(resolve_field(act.dst))
    offer = next(o for o in act.options if o.code == OFFERIP)
    payload += struct.pack("!I", _ints(offer)[0].value & 0xFFFFFFFF)
    first = {code: next((o for o in act.options if o.code == code), None) for code in _FIRST}
    for code in _FIRST:
        opt = first[code]
        if opt is None:
            continue
        if code == NEXT_SERVER:
            payload += bytes([code, 4]) + struct.pack("!I", _ints(opt)[0].value & 0xFFFFFFFF)
        else:
            text = _text(opt)
            payload += bytes([code, len(text) & 0xFF]) + text
    special = {id(offer), *(id(o) for o in first.values() if o is not None)}
    for opt in act.options:
        if id(opt) not in special:
            payload += dhcpv4_option(opt)
    enc.emit(controller_op(Opcode.PUT_DHCP_OPTS, payload, pause=True,
                           meter_id=enc.params.ctrl_meter_id))


@handles(ax.PutDhcpv6Opts)
def _put_dhcpv6_opts(enc: Encoder, act: ax.PutDhcpv6Opts) -> None:
    payload = result_field_header(resolve_field(act.dst))
    payload += b"".join(dhcpv6_option(o) for o in act.options)
    enc.emit(controller_op(Opcode.PUT_DHCPV6_OPTS, payload, pause=True,
                           meter_id=enc.params.ctrl_meter_id))


_RA_MANAGED, _RA_OTHER = 0x80, 0x40
_RA_PRF = {"HIGH": 0x08, "LOW": 0x18}
_ON_LINK, _AUTONOMOUS = 0x80, 0x40
_INFINITE = 0xFFFFFFFF


def _dnssl(text: str) -> bytes:
    size = 8
    body = b""
    for domain in (d for d in text.split(",") if d):
        size += len(domain) + 2
        body += b"".join(bytes([min(len(label), 255)]) + label.encode()[:255]
                         for label in domain.split(".") if label) + b"\0"
    size += -size % 8
    return struct.pack("!BBHI", 31, size // 8, 0, _INFINITE) + body.ljust(size - 8, b"\0")


def nd_ra_message(options: tuple[ax.GenOption, ...]) -> bytes:
    """The Router Advertisement ``put_nd_ra_opts`` hands to ovn-controller."""
    flags = 0
    opts = b""
    for opt in options:
        ints = _ints(opt)
        text = _text(opt).decode() if opt.value.is_string else ""
        if opt.name == "addr_mode":
            flags |= {"dhcpv6_stateful": _RA_MANAGED, "dhcpv6_stateless": _RA_OTHER}.get(text, 0)
        elif opt.name == "router_preference":
            flags |= _RA_PRF.get(text, 0)
        elif opt.name == "slla":
            opts += bytes([1, 1]) + ints[0].value.to_bytes(6, "big")
        elif opt.name == "mtu":
            opts += struct.pack("!BBHI", 5, 1, 0, ints[0].value & 0xFFFFFFFF)
        elif opt.name == "prefix":
            c = ints[0]
            plen = bin(c.mask or 0).count("1")
            la = _ON_LINK | (0 if flags & _RA_MANAGED else _AUTONOMOUS)
            opts += struct.pack("!BBBBIII", 3, 4, plen, la, _INFINITE, _INFINITE, 0)
            opts += c.value.to_bytes(16, "big")
        elif opt.name == "rdnss":
            opts += struct.pack("!BBHI", 25, 3, 0, _INFINITE) + ints[0].value.to_bytes(16, "big")
        elif opt.name == "dnssl":
            opts += _dnssl(text)
        else:
            raise LflowSemanticError(f"IPv6 ND RA option {opt.name} is not supported by pyovn")
    header = struct.pack("!BBHBBHII", 134, 0, 0, 255, flags, 0xFFFF, 0, 0)
    return header + opts


@handles(ax.PutNdRaOpts)
def _put_nd_ra_opts(enc: Encoder, act: ax.PutNdRaOpts) -> None:
    payload = result_field_header(resolve_field(act.dst)) + nd_ra_message(act.options)
    enc.emit(controller_op(Opcode.PUT_ND_RA_OPTS, payload, pause=True,
                           meter_id=enc.params.ctrl_meter_id))
