"""Parsers for OVN actions whose arguments are option lists or endpoints.

``put_dhcp_opts``/``put_dhcpv6_opts``/``put_nd_ra_opts`` and
``trigger_event`` take ``name = value`` options checked against option tables;
``commit_lb_aff``/``commit_ecmp_nh``/``sample`` take keyword arguments.  As in
:mod:`pyovn.lflow.action_parser_ext`, each parser starts after the action name
(or after ``field =`` with the function name still current).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping

from pyovn.lflow import actions_ext as ax
from pyovn.lflow.action_parser import EVENT_OPTS, ActionParser, GenOptionDef
from pyovn.lflow.actions import Action
from pyovn.lflow.expr import FieldRef, IntConstant
from pyovn.lflow.tokens import LexFormat, TokenType

__all__ = ["commit_ecmp_nh", "commit_lb_aff", "parse_bool", "put_opts", "sample",
           "trigger_event"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")


def _parse_gen_opt(p: ActionParser, table: Mapping[str, GenOptionDef] | None,
                   kind: str) -> ax.GenOption:
    lx = p.lexer
    if lx.token.type is not TokenType.ID:
        lx.syntax_error()
    opt = table.get(lx.token.s) if table is not None else None
    if opt is None:
        lx.syntax_error(f"expecting {kind} option name")
    lx.get()
    lx.force_match(TokenType.EQUALS)
    value = p.exprs.parse_constant_set()
    if opt.type in ("str", "domains", "domain"):
        if not value.is_string:
            lx.error(f"{kind} option {opt.name} requires string value.")
    elif opt.type != "host_id" and value.is_string:
        lx.error(f"{kind} option {opt.name} requires numeric value.")
    return ax.GenOption(opt.name, opt.code, opt.type, value)


def _parse_ip(text: str) -> tuple[int, bool] | None:
    """(address, is IPv6) of an IPv4 or IPv6 address string, or None."""
    for family, ipv6 in ((socket.AF_INET, False), (socket.AF_INET6, True)):
        try:
            return int.from_bytes(socket.inet_pton(family, text), "big"), ipv6
        except (OSError, ValueError):
            continue
    return None


def _parse_endpoint(text: str) -> tuple[int, bool, int] | None:
    """Parse ``ip``, ``ip:port`` or ``[ip6]:port`` (OVS inet_parse_active)."""
    host, port = text, None
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return None
        host, rest = text[1:close], text[close + 1:]
        if rest:
            if not rest.startswith(":"):
                return None
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    address = _parse_ip(host)
    if address is None:
        return None
    value, ipv6 = address
    if port is None:
        return value, ipv6, 0
    if not port.isascii() or not port.isdigit() or int(port) > 0xFFFF:
        return None
    return value, ipv6, int(port)


def trigger_event(p: ActionParser) -> Action:
    """Parse ``trigger_event(event = "...", option = value, ...)``."""
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    if not lx.match_id("event"):
        lx.syntax_error("Expecting 'event' option")
    lx.force_match(TokenType.EQUALS)
    tok = lx.token
    if tok.type is not TokenType.STRING or len(tok.s.encode()) >= 64:
        lx.syntax_error("Expecting string")
    if tok.s not in EVENT_OPTS:
        lx.syntax_error("Unknown event '-1'")
    event = tok.s
    lx.get()
    lx.match(TokenType.COMMA)
    options = []
    while not lx.match(TokenType.RPAREN):
        options.append(_parse_gen_opt(p, EVENT_OPTS[event], event))
        lx.match(TokenType.COMMA)
    for o in options:
        if len(o.value.values) != 1 or not o.value.is_string:
            lx.error(f'Invalid value for "{o.name}" option')
        s = str(o.value.values[0])
        if o.name == "vip" and _parse_endpoint(s) is None:
            lx.error(f"Invalid load balancer VIP '{s}'")
        if o.name == "protocol" and s not in ("tcp", "udp", "sctp"):
            lx.error(f"Load balancer protocol '{s}' is not 'tcp', 'udp', or 'sctp'")
        if o.name == "load_balancer" and not _UUID.match(s):
            lx.error(f"Load balancer '{s}' is not a UUID")
    return ax.TriggerEvent(event, tuple(options))


def parse_bool(p: ActionParser) -> bool:
    """Parse ``true``/``false``, bare or quoted (``fwd_group``, ``commit_ecmp_nh``)."""
    lx = p.lexer
    if lx.match_string("true") or lx.match_id("true"):
        return True
    if lx.match_string("false") or lx.match_id("false"):
        return False
    lx.syntax_error("expecting true or false")


def commit_ecmp_nh(p: ActionParser) -> Action:
    """Parse ``commit_ecmp_nh(ipv6 = BOOL, proto = tcp|udp|sctp)``."""
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    if not lx.match_id("ipv6"):
        lx.syntax_error("invalid parameter")
    lx.force_match(TokenType.EQUALS)
    ipv6 = parse_bool(p)
    lx.force_match(TokenType.COMMA)
    proto = _parse_proto(p, "proto")
    lx.force_match(TokenType.RPAREN)
    return ax.CommitEcmpNh(ipv6, proto)


def _parse_proto(p: ActionParser, keyword: str) -> str:
    lx = p.lexer
    if not lx.match_id(keyword):
        lx.syntax_error("invalid parameter")
    lx.force_match(TokenType.EQUALS)
    for proto in ("tcp", "udp", "sctp"):
        if lx.match_id(proto):
            return proto
    lx.syntax_error("invalid protocol")


def _parse_lb_endpoint(p: ActionParser, keyword: str) -> tuple[int, bool, int]:
    lx = p.lexer
    if not lx.match_id(keyword):
        lx.syntax_error("invalid parameter")
    lx.force_match(TokenType.EQUALS)
    if lx.token.type is not TokenType.STRING:
        lx.syntax_error("invalid parameter")
    endpoint = _parse_endpoint(lx.token.s)
    if endpoint is None:
        lx.syntax_error("invalid parameter")
    return endpoint


def commit_lb_aff(p: ActionParser) -> Action:
    """Parse ``commit_lb_aff(vip = "...", backend = "...", [proto = P,] timeout = T)``."""
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    vip, ipv6, vip_port = _parse_lb_endpoint(p, "vip")
    lx.get()
    lx.force_match(TokenType.COMMA)
    backend, backend_v6, backend_port = _parse_lb_endpoint(p, "backend")
    if backend_v6 != ipv6:
        lx.syntax_error("invalid protocol family")
    lx.get()
    lx.force_match(TokenType.COMMA)
    proto = None
    if vip_port:
        proto = _parse_proto(p, "proto")
        lx.force_match(TokenType.COMMA)
    if not lx.match_id("timeout"):
        lx.syntax_error("invalid parameter")
    lx.force_match(TokenType.EQUALS)
    timeout = p.uint16("affinity timeout")
    lx.force_match(TokenType.RPAREN)
    return ax.CommitLbAff(ipv6, vip, vip_port, backend, backend_port, proto, timeout)


def sample(p: ActionParser) -> Action:
    """Parse ``sample(probability=N, collector_set=, obs_domain=, obs_point=)``."""
    lx = p.lexer
    values = {"probability": 0, "collector_set": 0, "obs_domain": 0, "obs_point": 0}
    cookie = False
    if lx.match(TokenType.LPAREN):
        while not lx.match(TokenType.RPAREN):
            key = next((k for k in values if lx.match_id(k)), None)
            if key is None:
                lx.syntax_error("unknown argument")
            lx.force_match(TokenType.EQUALS)
            tok = lx.token
            decimal = tok.type is TokenType.INTEGER and tok.fmt is LexFormat.DECIMAL
            if key == "probability":
                if decimal:
                    values[key] = p.uint16("probability")
            else:
                if key == "obs_point" and tok.type is TokenType.MACRO and tok.s == "cookie":
                    cookie = True
                elif key == "obs_point" and not decimal:
                    lx.syntax_error("malformed sample observation_point_id")
                elif key == "obs_domain" and decimal and tok.value > 0xFF:
                    lx.syntax_error("obs_domain must be 8-bit long")
                elif decimal:
                    values[key] = tok.value & 0xFFFFFFFF
                lx.get()
            lx.match(TokenType.COMMA)
    if not values["probability"]:
        lx.error("probability must be greater than zero")
    return ax.Sample(values["probability"], values["collector_set"],
                     values["obs_domain"], values["obs_point"], cookie)


def put_opts(cls: type[ax.PutOpts]) -> Callable[[ActionParser, FieldRef], Action]:
    """Return the parser of ``R = put_*_opts(name = value, ...)`` for ``cls``."""
    def parse(p: ActionParser, dst: FieldRef) -> Action:
        lx = p.lexer
        p.skip_function_head()
        p.type_check(dst, 1, True)
        table, kind = {
            ax.PutDhcpOpts: (p.params.dhcp_opts, "DHCPv4"),
            ax.PutDhcpv6Opts: (p.params.dhcpv6_opts, "DHCPv6"),
        }.get(cls, (p.params.nd_ra_opts, "IPv6 ND RA"))
        options = []
        while not lx.match(TokenType.RPAREN):
            options.append(_parse_gen_opt(p, table, kind))
            lx.match(TokenType.COMMA)
        if cls is ax.PutDhcpOpts and not any(o.code == 0 for o in options):
            lx.error("put_dhcp_opts requires offerip to be specified.")
        if cls is ax.PutNdRaOpts:
            _check_nd_ra_opts(p, options)
        return cls(dst, tuple(options))
    return parse


def _check_nd_ra_opts(p: ActionParser, options: list[ax.GenOption]) -> None:
    lx = p.lexer
    stateful = prefix = slla = False
    for o in options:
        if len(o.value.values) > 1:
            lx.error(f'Invalid value for "{o.name}" option')
        c = o.value.values[0] if o.value.values else None
        i = c if isinstance(c, IntConstant) else None
        if o.name == "addr_mode":
            ok = c in ("slaac", "dhcpv6_stateful", "dhcpv6_stateless")
            stateful |= ok and c == "dhcpv6_stateful"
        elif o.name == "router_preference":
            ok = c in ("MEDIUM", "HIGH", "LOW")
        elif o.name == "slla":
            ok, slla = i is not None and i.fmt is LexFormat.ETHERNET, True
        elif o.name == "prefix":
            ok = i is not None and i.fmt is LexFormat.IPV6 and i.mask is not None
            prefix = True
        elif o.name == "mtu":
            ok = i is not None and i.fmt is LexFormat.DECIMAL
        elif o.name == "rdnss":
            ok = i is not None and i.fmt is LexFormat.IPV6
        else:
            ok = isinstance(c, str)
        if not ok:
            lx.error(f'Invalid value for "{o.name}" option')
    if not slla:
        lx.error("slla option not present")
    if not stateful and not prefix:
        lx.error("prefix option needs to be set when address mode is "
                 "slaac/dhcpv6_stateless.")
    p.add_prerequisite("ip6")
