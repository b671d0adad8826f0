"""Parser for OVN logical flow actions (OVN 23.03 ``ovnacts_parse``).

``actions := "drop;" | (action ";")*``; an action is either an assignment
(``field = constant``, ``field = field``, ``field <-> field``, or ``field =
function(...)`` for the result-returning functions) or a named action
(``next(...)``, ``ct_commit { ... }``, ``log(...)``...).  Every operand is
checked as OVN checks it (width, string vs integer, writability) with OVN's
messages.  Parsing also collects *prerequisites*: conditions the flow's match
must imply for the actions to make sense (``tcp.dst = 80`` needs ``tcp``,
``ct_next`` needs ``ip``); the controller and-s them onto the match before
annotating it.

The named actions with elaborate arguments are parsed in
:mod:`pyovn.lflow.action_parser_ext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyovn.lflow import actions_lookup as lk
from pyovn.lflow.actions import (
    NESTED_ACTIONS,
    NULL_ACTIONS,
    Action,
    CtCommit,
    CtCommitNat,
    CtNext,
    DecTtl,
    Exchange,
    HandleBfdMsg,
    Load,
    Move,
    Nested,
    Next,
    OvnFieldLoad,
    Pipeline,
    Pop,
    Push,
)
from pyovn.lflow.annotate import annotated_prerequisites
from pyovn.lflow.errors import LflowError, LflowSyntaxError
from pyovn.lflow.expr import And, Expr, FieldRef, IntConstant, combine
from pyovn.lflow.lexer import Lexer
from pyovn.lflow.parser import ExprParser, parse_expr
from pyovn.lflow.symtab import Symbol, SymbolTable, WriteScope, ovn_symtab
from pyovn.lflow.tokens import TokenType

__all__ = ["LOG_PIPELINE_LEN", "ActionParams", "ActionParser", "GenOptionDef",
           "ParsedActions", "parse_actions"]

#: Logical tables per pipeline in ovn-controller 23.03 (OpenFlow 8..36).
LOG_PIPELINE_LEN = 29
_MAX_NESTED_DEPTH = 32


@dataclass(frozen=True, slots=True)
class GenOptionDef:
    """An option an action accepts (SB DHCP_Options / DHCPv6_Options row)."""

    name: str
    code: int
    type: str  # "ipv4", "str", "bool", "uint8", "mac", "ipv6", "domains"...


def _opts(*defs: tuple[str, int, str]) -> Mapping[str, GenOptionDef]:
    return {n: GenOptionDef(n, c, t) for n, c, t in defs}


#: IPv6 ND RA options (built into OVN; ``ovn-l7.h`` nd_ra_opts_init).
ND_RA_OPTS = _opts(("addr_mode", 0, "str"), ("router_preference", 255, "str"),
                   ("slla", 1, "mac"), ("prefix", 3, "ipv6"), ("mtu", 5, "uint32"),
                   ("rdnss", 25, "ipv6"), ("dnssl", 31, "str"),
                   ("route_info", 24, "str"))
#: Controller event options by event name (``controller_event_opts_init``).
EVENT_OPTS: Mapping[str, Mapping[str, GenOptionDef]] = {
    "empty_lb_backends": _opts(("vip", 1, "str"), ("protocol", 2, "str"),
                               ("load_balancer", 3, "str")),
}


@dataclass(frozen=True, slots=True)
class ActionParams:
    """Where the flow is (pipeline, logical table) and the option tables.

    ``dhcp_opts``/``dhcpv6_opts`` come from the SB DHCP_Options and
    DHCPv6_Options tables; without them ``put_dhcp_opts`` knows no option.
    """

    pipeline: Pipeline = Pipeline.INGRESS
    table: int = 0
    n_tables: int = LOG_PIPELINE_LEN
    dhcp_opts: Mapping[str, GenOptionDef] | None = None
    dhcpv6_opts: Mapping[str, GenOptionDef] | None = None
    nd_ra_opts: Mapping[str, GenOptionDef] = field(default_factory=lambda: ND_RA_OPTS)


@dataclass(frozen=True, slots=True)
class ParsedActions:
    """Parsed actions and the prerequisites they impose on the match."""

    actions: tuple[Action, ...]
    prereqs: Expr | None = None


class ActionParser:
    """Parses actions from a :class:`Lexer`; one per parse."""

    __slots__ = ("depth", "exprs", "lexer", "params", "prereqs", "scope", "symtab")

    def __init__(self, lexer: Lexer, symtab: SymbolTable, params: ActionParams) -> None:
        self.lexer = lexer
        self.symtab = symtab
        self.params = params
        self.exprs = ExprParser(lexer, symtab)
        self.prereqs: Expr | None = None
        self.depth = 0
        self.scope = WriteScope.DEFAULT

    # --- helpers shared by the action parsers ------------------------------

    def add_prerequisite(self, text: str) -> None:
        """And ``text`` (parsed, not annotated, as OVN does) onto the prereqs."""
        key = (text, "parse")
        cached = self.symtab.expansion_cache.get(key)
        if cached is None:
            cached = self.symtab.expansion_cache[key] = parse_expr(text, self.symtab).expr
        self.prereqs = combine(And, self.prereqs, cached)

    def field(self) -> FieldRef:
        """Parse a field operand and add its (annotated) prerequisites."""
        f = self.exprs.parse_field()
        sym: Symbol | None = f.symbol
        if f.symbol.predicate is not None:
            self.lexer.error(f"Predicate symbol {f.symbol.name} used where lvalue "
                             "required.")
        while sym is not None:
            if sym.prereqs is not None:
                try:
                    e = annotated_prerequisites(sym.prereqs, self.symtab)
                except LflowError as err:
                    self.lexer.error(err.reason)
                self.prereqs = combine(And, self.prereqs, e)
            sym = sym.parent
        return f

    def type_check(self, f: FieldRef, n_bits: int, rw: bool) -> None:
        """Require ``f`` to be ``n_bits`` wide (0: string) and, if rw, writable."""
        if n_bits != f.n_bits:
            name = f.symbol.name
            if n_bits and f.n_bits:
                self.lexer.error(
                    f"Cannot use {f.n_bits}-bit field {name}[{f.ofs}.."
                    f"{f.ofs + f.n_bits - 1}] where {n_bits}-bit field is required.")
            if n_bits:
                self.lexer.error(f"Cannot use string field {name} where numeric "
                                 "field is required.")
            self.lexer.error(f"Cannot use numeric field {name} where string field "
                             "is required.")
        if rw and not f.symbol.rw & self.scope:
            self.lexer.error(f"Field {f.symbol.name} is not modifiable.")

    def checked_field(self, n_bits: int, rw: bool = False) -> FieldRef:
        """Parse a field operand that must be ``n_bits`` wide (0: string)."""
        f = self.field()
        self.type_check(f, n_bits, rw)
        return f

    def uint16(self, what: str) -> int:
        """Consume a decimal 0..65535 or raise "expecting WHAT"."""
        lx = self.lexer
        if lx.is_int() and lx.token.value <= 0xFFFF:
            value = lx.token.value
            lx.get()
            return value
        lx.syntax_error(f"expecting {what}")

    def skip_function_head(self) -> None:
        """Skip ``name(`` of a ``field = name(...)`` function (already checked)."""
        self.lexer.get()
        self.lexer.get()

    def last_table_check(self, name: str) -> None:
        """Raise if the flow is in the last table (nowhere to continue)."""
        if self.params.table >= self.params.n_tables:
            self.lexer.error(f'"{name}" action not allowed in last table.')

    # --- action lists -------------------------------------------------------

    def parse_actions(self, sentinel: TokenType) -> list[Action]:
        """Parse actions up to and including ``sentinel`` (END or ``}``)."""
        lx = self.lexer
        out: list[Action] = []
        # "drop;" alone is the empty action list; it combines with nothing.
        if (lx.token.type is TokenType.ID and lx.token.s == "drop"
                and lx.lookahead() is TokenType.SEMICOLON):
            lx.get()
            lx.get()
            lx.force_match(sentinel)
            return out
        while not lx.match(sentinel):
            action = self.parse_action()
            if action is not None:
                out.append(action)
        return out

    def parse_action(self) -> Action | None:
        """Parse one action and its ``;``.

        None means OVN would accept the text but add no usable action (a few
        actions give up silently on malformed arguments).
        """
        lx = self.lexer
        tok = lx.token
        if tok.type is TokenType.TEMPLATE:
            lx.error("Unexpanded template.", LflowSyntaxError)
        if tok.type is not TokenType.ID:
            lx.syntax_error()
        if lx.lookahead() in (TokenType.EQUALS, TokenType.EXCHANGE, TokenType.LSQUARE):
            action = self.parse_set_action()
        else:
            handler = _NAMED.get(tok.s)
            if handler is None:
                lx.syntax_error("expecting action")
            lx.get()
            action = handler(self)
        lx.force_match(TokenType.SEMICOLON)
        return action

    def parse_nested(self, cls: type[Nested]) -> Nested:
        """Parse ``{ actions }`` for nested action ``cls``."""
        lx = self.lexer
        lx.force_match(TokenType.LCURLY)
        if self.depth + 1 == _MAX_NESTED_DEPTH:
            lx.error("maximum depth of nested actions reached", LflowSyntaxError)
        outer, self.prereqs = self.prereqs, None
        outer_scope = self.scope
        if cls.scope is not None:
            self.scope = cls.scope
        self.depth += 1
        inner = self.parse_actions(TokenType.RCURLY)
        self.depth -= 1
        self.scope = outer_scope
        inner_prereqs, self.prereqs = self.prereqs, outer
        if cls.prereq is not None:
            # The nested actions act on a new packet; only its kind matters.
            self.add_prerequisite(cls.prereq)
        else:
            self.prereqs = combine(And, inner_prereqs, outer)
        return cls(tuple(inner))

    # --- assignments --------------------------------------------------------

    def parse_set_action(self) -> Action | None:
        """Parse ``field = ...`` or ``field <-> field``."""
        lx = self.lexer
        lhs = self.field()
        if lx.match(TokenType.EXCHANGE):
            return self._assignment(lhs, exchange=True)
        if not lx.match(TokenType.EQUALS):
            lx.syntax_error("expecting `=' or `<->'")
        if lx.token.type is not TokenType.ID:
            return self._load(lhs)
        func = _FUNCTIONS.get(lx.token.s)
        if func is not None and lx.lookahead() is TokenType.LPAREN:
            return func(self, lhs)
        return self._assignment(lhs, exchange=False)

    def _load(self, lhs: FieldRef) -> Action:
        self.type_check(lhs, lhs.n_bits, True)
        value = self.exprs.parse_one_constant(lhs)
        if lhs.symbol.is_ovn_field:
            assert isinstance(value, IntConstant)
            return OvnFieldLoad(lhs, value.value)
        return Load(lhs, value)

    def _assignment(self, lhs: FieldRef, exchange: bool) -> Action:
        lx = self.lexer
        rhs = self.field()
        ls, rs = lhs.symbol, rhs.symbol
        if bool(ls.width) != bool(rs.width):
            def kind(s: Symbol) -> str:
                return "integer" if s.width else "string"
            if exchange:
                lx.error(f"Can't exchange {kind(ls)} field ({ls.name}) with "
                         f"{kind(rs)} field ({rs.name}).")
            lx.error(f"Can't assign {kind(rs)} field ({rs.name}) to {kind(ls)} "
                     f"field ({ls.name}).")
        if lhs.n_bits != rhs.n_bits:
            if exchange:
                lx.error(f"Can't exchange {lhs.n_bits}-bit field with "
                         f"{rhs.n_bits}-bit field.")
            lx.error(f"Can't assign {rhs.n_bits}-bit value to {lhs.n_bits}-bit "
                     "destination.")
        if not lhs.n_bits and _of_bits(ls) != _of_bits(rs):
            lx.error(f"String fields {ls.name} and {rs.name} are incompatible for "
                     f"{'exchange' if exchange else 'assignment'}.")
        self.type_check(lhs, lhs.n_bits, True)
        self.type_check(rhs, rhs.n_bits, exchange)
        return Exchange(lhs, rhs) if exchange else Move(lhs, rhs)


def _of_bits(sym: Symbol) -> int:
    return sym.field.n_bits if sym.field is not None else sym.width


# --- simple named actions ------------------------------------------------------------


def _parse_next(p: ActionParser) -> Action:
    lx, params = p.lexer, p.params
    if not params.n_tables:
        lx.error('"next" action not allowed here.')
    pipeline, table = params.pipeline, params.table + 1
    if lx.match(TokenType.LPAREN):
        number = lx.get_int()
        if number is not None:
            table = number
        else:
            while True:
                if lx.match_id("pipeline"):
                    lx.force_match(TokenType.EQUALS)
                    if lx.match_id("ingress"):
                        pipeline = Pipeline.INGRESS
                    elif lx.match_id("egress"):
                        pipeline = Pipeline.EGRESS
                    else:
                        lx.syntax_error('expecting "ingress" or "egress"')
                elif lx.match_id("table"):
                    lx.force_match(TokenType.EQUALS)
                    table = lx.force_int()
                else:
                    lx.syntax_error('expecting "pipeline" or "table"')
                if not lx.match(TokenType.COMMA):
                    break
        lx.force_match(TokenType.RPAREN)
    if table >= params.n_tables:
        lx.error(f'"next" action cannot advance beyond table {params.n_tables - 1}.')
    return Next(pipeline, table, params.pipeline, params.table)


def _parse_push_pop(p: ActionParser, push: bool) -> Action:
    p.lexer.force_match(TokenType.LPAREN)
    f = p.field()
    p.type_check(f, f.n_bits, not push)
    p.lexer.force_match(TokenType.RPAREN)
    return Push(f) if push else Pop(f)


def _parse_dec_ttl(p: ActionParser) -> Action:
    p.lexer.force_match(TokenType.DECREMENT)
    p.add_prerequisite("ip")
    return DecTtl()


def _parse_ct_next(p: ActionParser) -> Action:
    p.last_table_check("ct_next")
    p.add_prerequisite("ip")
    return CtNext(p.params.table + 1)


def _parse_ct_commit_nat(p: ActionParser) -> Action:
    # 23.03 still names the action by its old name in this message.
    p.add_prerequisite("ip")
    p.last_table_check("ct_commit_related")
    return CtCommitNat()


def _parse_ct_commit(p: ActionParser) -> Action:
    tok = p.lexer.token.type
    if tok is TokenType.LCURLY:
        return p.parse_nested(CtCommit)
    if tok is TokenType.LPAREN:
        from pyovn.lflow.action_parser_ext import parse_ct_commit_v1

        return parse_ct_commit_v1(p)
    p.add_prerequisite("ip")
    return CtCommit(())


def _parse_mac_bind(p: ActionParser, cls: type[lk.GetArp] | type[lk.PutArp],
                    width: int) -> Action:
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    port = p.checked_field(0)
    lx.force_match(TokenType.COMMA)
    ip = p.checked_field(width)
    if issubclass(cls, lk.PutArp):
        lx.force_match(TokenType.COMMA)
        mac = p.checked_field(48)
        lx.force_match(TokenType.RPAREN)
        return cls(port, ip, mac)
    lx.force_match(TokenType.RPAREN)
    return cls(port, ip)


def _parse_port_arg(p: ActionParser) -> Action:
    p.lexer.force_match(TokenType.LPAREN)
    port = p.checked_field(0)
    p.lexer.force_match(TokenType.RPAREN)
    return lk.HandleSvcCheck(port)


def _parse_put_fdb(p: ActionParser) -> Action:
    lx = p.lexer
    lx.force_match(TokenType.LPAREN)
    port = p.checked_field(0)
    lx.force_match(TokenType.COMMA)
    mac = p.checked_field(48)
    lx.force_match(TokenType.RPAREN)
    return lk.PutFdb(port, mac)


def _parse_bfd(p: ActionParser) -> Action:
    p.lexer.force_match(TokenType.LPAREN)
    p.lexer.force_match(TokenType.RPAREN)
    return HandleBfdMsg()


def _null(cls: type[Action]) -> Callable[[ActionParser], Action]:
    return lambda p: cls()


def _nested(cls: type[Nested]) -> Callable[[ActionParser], Action]:
    return lambda p: p.parse_nested(cls)


_NAMED: dict[str, Callable[[ActionParser], Action | None]] = {
    "next": _parse_next,
    "push": lambda p: _parse_push_pop(p, True),
    "pop": lambda p: _parse_push_pop(p, False),
    "ip.ttl": _parse_dec_ttl,
    "ct_next": _parse_ct_next,
    "ct_commit": _parse_ct_commit,
    "get_arp": lambda p: _parse_mac_bind(p, lk.GetArp, 32),
    "put_arp": lambda p: _parse_mac_bind(p, lk.PutArp, 32),
    "get_nd": lambda p: _parse_mac_bind(p, lk.GetNd, 128),
    "put_nd": lambda p: _parse_mac_bind(p, lk.PutNd, 128),
    "handle_svc_check": _parse_port_arg,
    "handle_bfd_msg": _parse_bfd,
    "put_fdb": _parse_put_fdb,
    **{name: _null(cls) for name, cls in NULL_ACTIONS.items()},
    "ct_commit_nat": _parse_ct_commit_nat,
    **{name: _nested(cls) for name, cls in NESTED_ACTIONS.items()},
}
# ``field = name(...)`` functions, by name.
_FUNCTIONS: dict[str, Callable[[ActionParser, FieldRef], Action | None]] = {}


def _register_extensions() -> None:
    from pyovn.lflow import action_parser_ext as ext

    _NAMED.update(ext.NAMED)
    _FUNCTIONS.update(ext.FUNCTIONS)


def parse_actions(text: str, symtab: SymbolTable | None = None,
                  params: ActionParams | None = None) -> ParsedActions:
    """Parse an actions string as ovn-controller 23.03 does.

    ``params`` says where the flow is (pipeline and logical table, for
    ``next``) and which DHCP options exist.  Raises
    :class:`~pyovn.lflow.errors.LflowError` subclasses with OVN's messages.
    """
    if not _FUNCTIONS:
        _register_extensions()
    lexer = Lexer(text)
    parser = ActionParser(lexer, symtab if symtab is not None else ovn_symtab(),
                          params if params is not None else ActionParams())
    actions = parser.parse_actions(TokenType.END)
    return ParsedActions(tuple(actions), parser.prereqs)
