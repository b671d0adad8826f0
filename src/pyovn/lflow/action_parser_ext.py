"""Parsers for the OVN actions with their own argument syntax (OVN 23.03).

Each ``_parse_*`` function continues after the action's name has been consumed
(``NAMED``), or after ``field =`` for result-returning functions
(``FUNCTIONS``, called with the destination field and the function name still
current).  Errors use OVN's wording, including its quirks.  Option-list and
keyword-argument actions are in :mod:`pyovn.lflow.action_parser_opts`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from pyovn.lflow import action_parser_opts as opts
from pyovn.lflow import actions_ext as ax
from pyovn.lflow import actions_lookup as lk
from pyovn.lflow.action_parser import ActionParser
from pyovn.lflow.actions import Action
from pyovn.lflow.expr import FieldRef
from pyovn.lflow.tokens import LexFormat, TokenType

__all__ = ["FUNCTIONS", "NAMED", "parse_ct_commit_v1"]

_LOG_VERDICTS = ("drop", "reject", "allow")
_LOG_SEVERITIES = ("alert", "warning", "notice", "info", "debug")


# --- connection tracking ----------------------------------------------------------


def parse_ct_commit_v1(p: ActionParser) -> Action:
    """Legacy ``ct_commit(ct_mark=V[/M], ct_label=V[/M])`` (still in 23.03)."""
    lx = p.lexer
    p.add_prerequisite("ip")
    values = {"ct_mark": (0, 0), "ct_label": (0, 0)}
    lx.force_match(TokenType.LPAREN)
    while not lx.match(TokenType.RPAREN):
        name = next((n for n in values if lx.match_id(n)), None)
        if name is None:
            lx.syntax_error()
        lx.force_match(TokenType.EQUALS)
        tok = lx.token
        bits = 32 if name == "ct_mark" else 128
        ones = (1 << bits) - 1
        if tok.type is TokenType.INTEGER:
            values[name] = (tok.value & ones, ones)
        elif tok.type is TokenType.MASKED_INTEGER:
            values[name] = (tok.value & ones, tok.mask & ones)
        else:
            lx.syntax_error("expecting integer")
        lx.get()
        lx.match(TokenType.COMMA)
    (mark, mark_mask), (label, label_mask) = values["ct_mark"], values["ct_label"]
    return ax.CtCommitV1(mark, mark_mask, label, label_mask)


def _parse_ct_nat(p: ActionParser, cls: type[ax.CtNat]) -> Action:
    lx = p.lexer
    p.add_prerequisite("ip")
    p.last_table_check(cls.name)
    table = p.params.table + 1
    if not lx.match(TokenType.LPAREN):
        return cls(table)
    tok = lx.token
    if tok.type is not TokenType.INTEGER or tok.fmt not in (LexFormat.IPV4,
                                                             LexFormat.IPV6):
        lx.syntax_error("expecting IPv4 or IPv6 address")
    ip, ipv6 = tok.value, tok.fmt is LexFormat.IPV6
    lx.get()
    port_lo = port_hi = None
    if lx.match(TokenType.COMMA):
        tok = lx.token
        if tok.type is not TokenType.INTEGER or tok.fmt is not LexFormat.DECIMAL:
            lx.syntax_error("expecting Integer for port range")
        port_lo = tok.value & 0xFFFF
        if not port_lo:
            lx.syntax_error("range can't be 0")
        lx.get()
        if lx.match(TokenType.HYPHEN):
            if lx.token.type is not TokenType.INTEGER:
                lx.syntax_error("expecting Integer for port range")
            port_hi = lx.token.value & 0xFFFF
            if port_hi <= port_lo:
                lx.syntax_error("range high should be greater than range low")
            lx.get()
    lx.force_match(TokenType.RPAREN)
    return cls(table, ip, ipv6, port_lo, port_hi)


def _parse_backend(p: ActionParser) -> ax.Backend:
    lx = p.lexer
    if lx.match(TokenType.LSQUARE):
        if lx.token.type is not TokenType.INTEGER or lx.token.fmt is not LexFormat.IPV6:
            lx.syntax_error("expecting IPv6 address")
        ip = lx.token.value
        lx.get()
        if not lx.match(TokenType.RSQUARE):
            lx.syntax_error("no closing square bracket")
        port = p.uint16("port number") if lx.match(TokenType.COLON) else 0
        return ax.Backend(ip, True, port)
    tok = lx.token
    if tok.type is not TokenType.INTEGER or tok.fmt not in (LexFormat.IPV4,
                                                             LexFormat.IPV6):
        lx.syntax_error("expecting IP address")
    ipv6 = tok.fmt is LexFormat.IPV6
    lx.get()
    port = 0
    if lx.match(TokenType.COLON):
        if ipv6:
            lx.syntax_error("IPv6 address needs square brackets if port is included")
        port = p.uint16("port number")
    return ax.Backend(tok.value, ipv6, port)


def _parse_ct_lb(p: ActionParser, cls: type[ax.CtLb]) -> Action:
    lx = p.lexer
    p.last_table_check("ct_lb")
    p.add_prerequisite("ip")
    table = p.params.table + 1
    backends: list[ax.Backend] = []
    hash_fields = ct_flag = None
    if lx.match(TokenType.LPAREN) and not lx.match(TokenType.RPAREN):
        if not lx.match_id("backends"):
            lx.syntax_error("expecting backends")
        lx.force_match(TokenType.EQUALS)
        while not lx.match(TokenType.SEMICOLON) and not lx.match(TokenType.RPAREN):
            backends.append(_parse_backend(p))
            lx.match(TokenType.COMMA)
        if lx.match_id("hash_fields"):
            if not lx.match(TokenType.EQUALS) or lx.token.type is not TokenType.STRING:
                lx.syntax_error("invalid hash_fields")
            hash_fields = lx.token.s
            lx.get()
            # OVN skips whatever follows, normally ";" or ")".
            if not lx.match(TokenType.SEMICOLON):
                lx.get()
        for flag in ("skip_snat", "force_snat"):
            if lx.match_id(flag):
                ct_flag = flag
                lx.get()
                break
    return cls(table, tuple(backends), hash_fields, ct_flag)


# --- logging, queues, meters, events ------------------------------------------------


def _parse_log(p: ActionParser) -> Action:
    lx = p.lexer
    args: dict[str, str] = {"severity": "info"}
    if lx.match(TokenType.LPAREN):
        while not lx.match(TokenType.RPAREN):
            key = next((k for k in ("verdict", "name", "severity", "meter")
                        if lx.match_id(k)), None)
            if key is None:
                lx.syntax_error()
            lx.force_match(TokenType.EQUALS)
            tok = lx.token
            if key == "verdict":
                if tok.type is not TokenType.ID or tok.s not in _LOG_VERDICTS:
                    lx.syntax_error("unknown verdict")
            elif key == "severity":
                if tok.type is not TokenType.ID:
                    lx.syntax_error("expecting severity")
                if tok.s not in _LOG_SEVERITIES:
                    lx.syntax_error("unknown severity")
            elif tok.type is not TokenType.STRING:
                lx.syntax_error("expecting string")
            elif key == "name" and len(tok.s.encode()) >= 64:
                lx.syntax_error("name must be shorter than 64 characters")
            args[key] = tok.s
            lx.get()
            lx.match(TokenType.COMMA)
    if "verdict" not in args:
        lx.syntax_error("expecting verdict")
    return ax.Log(args["verdict"], args["severity"], args.get("name"), args.get("meter"))


def _parse_set_queue(p: ActionParser) -> Action | None:
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    queue = lx.get_int()
    if queue is None:
        return None  # OVN adds nothing; the ";" check reports the token.
    lx.force_match(TokenType.RPAREN)
    if not 0 <= queue <= 61440:
        lx.error(f"Queue ID {queue} for set_queue is not in valid range 0 to 61440.")
    return ax.SetQueue(queue)


def _parse_set_meter(p: ActionParser) -> Action:
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    numbers = []
    while True:
        tok = lx.token
        decimal = tok.type is TokenType.INTEGER and tok.fmt is LexFormat.DECIMAL
        numbers.append(tok.value if decimal else 0)
        lx.get()
        if len(numbers) == 2 or not lx.match(TokenType.COMMA):
            break
    lx.force_match(TokenType.RPAREN)
    if not numbers[0]:
        lx.error("Rate 0 for set_meter is not in valid.")
    return ax.SetMeter(numbers[0], numbers[1] if len(numbers) == 2 else 0)


# --- ports and groups -------------------------------------------------------------------


def _parse_bind_vport(p: ActionParser) -> Action:
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    if lx.token.type is not TokenType.STRING:
        lx.syntax_error("expecting port name string")
    vport = lx.token.s
    lx.get()
    lx.force_match(TokenType.COMMA)
    parent = p.checked_field(0)
    lx.force_match(TokenType.RPAREN)
    return ax.BindVport(vport, parent)


def _parse_fwd_group(p: ActionParser) -> Action:
    lx = p.lexer
    liveness = False
    ports: list[str] = []
    if lx.match(TokenType.LPAREN):
        if lx.match_id("liveness"):
            lx.force_match(TokenType.EQUALS)
            liveness = opts.parse_bool(p)
            lx.force_match(TokenType.COMMA)
        if lx.match_id("childports"):
            lx.force_match(TokenType.EQUALS)
            while not lx.match(TokenType.RPAREN):
                if lx.token.type is not TokenType.STRING:
                    lx.syntax_error("expecting logical switch port")
                ports.append(lx.token.s)
                lx.get()
                lx.match(TokenType.COMMA)
    return ax.FwdGroup(p.params.table + 1, liveness, tuple(ports))


# --- "field = function(...)" -----------------------------------------------------------


def _result(cls: type[lk.ResultAction]) -> Callable[[ActionParser, FieldRef], Action]:
    def parse(p: ActionParser, dst: FieldRef) -> Action:
        p.skip_function_head()
        if not p.lexer.match(TokenType.RPAREN):
            p.lexer.error(f"{cls.name} doesn't take any parameters")
        p.type_check(dst, cls.n_bits, True)
        if cls.prereq is not None:
            p.add_prerequisite(cls.prereq)
        return cls(dst)
    return parse


def _parse_lookup_mac(cls: type[lk.LookupArp] | type[lk.LookupArpIp], width: int
                      ) -> Callable[[ActionParser, FieldRef], Action]:
    def parse(p: ActionParser, dst: FieldRef) -> Action:
        p.type_check(dst, 1, True)
        p.skip_function_head()
        port = p.checked_field(0)
        p.lexer.force_match(TokenType.COMMA)
        ip = p.checked_field(width)
        if issubclass(cls, lk.LookupArp):
            p.lexer.force_match(TokenType.COMMA)
            mac = p.checked_field(48)
            p.lexer.force_match(TokenType.RPAREN)
            return cls(dst, port, ip, mac)
        p.lexer.force_match(TokenType.RPAREN)
        return cls(dst, port, ip)
    return parse


def _parse_get_fdb(p: ActionParser, dst: FieldRef) -> Action:
    p.skip_function_head()
    if dst.n_bits:
        p.type_check(dst, 32, True)
    mac = p.checked_field(48)
    p.lexer.force_match(TokenType.RPAREN)
    return lk.GetFdb(dst, mac)


def _parse_lookup_fdb(p: ActionParser, dst: FieldRef) -> Action:
    p.skip_function_head()
    p.type_check(dst, 1, True)
    port = p.checked_field(0)
    p.lexer.force_match(TokenType.COMMA)
    mac = p.checked_field(48)
    p.lexer.force_match(TokenType.RPAREN)
    return lk.LookupFdb(dst, port, mac)


def _parse_check_pkt_larger(p: ActionParser, dst: FieldRef) -> Action | None:
    lx = p.lexer
    p.type_check(dst, 1, True)
    lx.get()
    lx.force_match(TokenType.LPAREN)
    pkt_len = lx.get_int()
    if pkt_len is None:
        return None  # OVN gives up silently; the ";" check reports the token.
    lx.force_match(TokenType.RPAREN)
    return ax.CheckPktLarger(dst, pkt_len)


def _parse_select(p: ActionParser, dst: FieldRef) -> Action:
    lx = p.lexer
    p.type_check(dst, dst.n_bits, True)
    if dst.n_bits < 16:
        lx.error(f"cannot use {dst.n_bits}-bit field {dst.symbol.name}[{dst.ofs}.."
                 f"{dst.ofs + dst.n_bits - 1}] for \"select\", which requires at "
                 "least 16 bits.")
    p.last_table_check("select")
    p.skip_function_head()
    members = []
    while not lx.match(TokenType.RPAREN):
        member = p.uint16("id")
        weight = 0
        if lx.match(TokenType.EQUALS):
            weight = p.uint16("weight")
            if not weight:
                lx.syntax_error("weight can't be 0")
        members.append((member, weight or 100))
        lx.match(TokenType.COMMA)
    if len(members) <= 1:
        lx.syntax_error("expecting at least 2 group members")
    return ax.Select(dst, tuple(members), p.params.table + 1)


NAMED: dict[str, Callable[[ActionParser], Action | None]] = {
    **{cls.name: functools.partial(_parse_ct_nat, cls=cls)
       for cls in (ax.CtDnat, ax.CtSnat, ax.CtDnatInCzone, ax.CtSnatInCzone)},
    "ct_lb": lambda p: _parse_ct_lb(p, ax.CtLb),
    "ct_lb_mark": lambda p: _parse_ct_lb(p, ax.CtLbMark),
    "log": _parse_log,
    "set_queue": _parse_set_queue,
    "set_meter": _parse_set_meter,
    "trigger_event": opts.trigger_event,
    "bind_vport": _parse_bind_vport,
    "fwd_group": _parse_fwd_group,
    "commit_ecmp_nh": opts.commit_ecmp_nh,
    "commit_lb_aff": opts.commit_lb_aff,
    "sample": opts.sample,
}
FUNCTIONS: dict[str, Callable[[ActionParser, FieldRef], Action | None]] = {
    "select": _parse_select,
    "put_dhcp_opts": opts.put_opts(ax.PutDhcpOpts),
    "put_dhcpv6_opts": opts.put_opts(ax.PutDhcpv6Opts),
    "put_nd_ra_opts": opts.put_opts(ax.PutNdRaOpts),
    "check_pkt_larger": _parse_check_pkt_larger,
    "lookup_arp": _parse_lookup_mac(lk.LookupArp, 32),
    "lookup_nd": _parse_lookup_mac(lk.LookupNd, 128),
    "lookup_arp_ip": _parse_lookup_mac(lk.LookupArpIp, 32),
    "lookup_nd_ip": _parse_lookup_mac(lk.LookupNdIp, 128),
    "get_fdb": _parse_get_fdb,
    "lookup_fdb": _parse_lookup_fdb,
    **{name: _result(cls) for name, cls in lk.RESULT_ACTIONS.items()},
}
