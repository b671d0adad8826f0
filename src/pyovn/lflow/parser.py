"""Parser for OVN match expressions (OVN 23.03 ``expr_parse``), to :mod:`.expr` nodes.

Grammar, loosest binding first::

    expr     := not ( ("&&" not)+ | ("||" not)+ )?        -- no mixing without ()
    not      := "!" primary | primary                      -- ! needs an atomic operand
    primary  := "(" expr ")" | "is_chassis_resident(" STRING ")"
              | field [relop constants]                     -- bare 1-bit field = "!= 0"
              | constants relop field [relop constants]     -- "80 == tcp.dst", ranges
              | "0" | "1"
    field    := ID ["[" INT [".." INT] "]"]
    constants:= constant | "{" constant [","] ... "}"
    constant := STRING | INTEGER | MASKED_INTEGER | $address_set | @port_group

``x == {a, b}`` becomes ``x == a || x == b``; ``!`` inverts the comparisons
beneath it (OVN's rule that nominal fields only compare positively, once
enclosing ``!`` are taken into account, is enforced here).  Address sets and
port groups are resolved through caller-supplied lookups, and every name looked
up is reported, found or not, for the controller's dependency index.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pyovn.lflow.errors import LflowSyntaxError
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
    flatten,
    negate,
)
from pyovn.lflow.lexer import Lexer
from pyovn.lflow.symtab import Level, Symbol, ovn_symtab
from pyovn.lflow.tokens import LexFormat, TokenType, next_token

__all__ = [
    "AddressSets",
    "ParsedExpr",
    "PortGroups",
    "constant_from_string",
    "parse_expr",
    "sb_port_group_name",
]

#: Address set name -> member addresses as strings (SB Address_Set.addresses).
AddressSets = Mapping[str, Iterable[str]] | Callable[[str], Iterable[str] | None]
#: Port group name -> logical port names (SB Port_Group.ports).
PortGroups = Mapping[str, Iterable[str]] | Callable[[str], Iterable[str] | None]

_MAX_PAREN_DEPTH = 100
_RELOPS = {TokenType.EQ: Relop.EQ, TokenType.NE: Relop.NE, TokenType.LT: Relop.LT,
           TokenType.LE: Relop.LE, TokenType.GT: Relop.GT, TokenType.GE: Relop.GE}
_LESS = (Relop.LT, Relop.LE)
_GREATER = (Relop.GT, Relop.GE)


@dataclass(frozen=True, slots=True)
class ParsedExpr:
    """A parsed match and the address sets / port groups it looked up."""

    expr: Expr
    address_sets_ref: frozenset[str] = frozenset()
    port_groups_ref: frozenset[str] = frozenset()


def sb_port_group_name(name: str, dp_key: int) -> str:
    """The SB Port_Group name ovn-northd 23.03 uses for NB port group ``name``."""
    return f"{dp_key}_{name}"


@functools.lru_cache(maxsize=65536)
def constant_from_string(text: str, as_name: str | None = None) -> IntConstant | None:
    """Lex an address set member as ovn-controller does, or None if invalid.

    Only the first token counts; anything but an integer (possibly masked) is
    skipped with a warning in OVN and returns None here.
    """
    tok = next_token(text.split("\0", 1)[0], 0)
    if tok.type is TokenType.INTEGER:
        return IntConstant(tok.value, tok.fmt, None, as_name)
    if tok.type is TokenType.MASKED_INTEGER:
        return IntConstant(tok.value, tok.fmt, tok.mask, as_name)
    return None


def _lookup(table: AddressSets | PortGroups | None, name: str) -> Iterable[str] | None:
    if table is None:
        return None
    if callable(table):
        return table(name)
    return table.get(name)


class ExprParser:
    """Recursive-descent parser over a :class:`Lexer`; one per parse."""

    __slots__ = ("address_sets", "as_refs", "dp_key", "lexer", "not_",
                 "paren_depth", "pg_refs", "port_groups", "symtab")

    def __init__(self, lexer: Lexer, symtab: Mapping[str, Symbol],
                 address_sets: AddressSets | None = None,
                 port_groups: PortGroups | None = None, dp_key: int = 0) -> None:
        self.lexer = lexer
        self.symtab = symtab
        self.address_sets = address_sets
        self.port_groups = port_groups
        self.dp_key = dp_key
        self.not_ = False  # inside an odd number of "!"
        self.paren_depth = 0
        self.as_refs: set[str] = set()
        self.pg_refs: set[str] = set()

    # --- expressions ------------------------------------------------------

    def parse(self) -> Expr:
        """Parse ``expr`` (see the module grammar)."""
        lx = self.lexer
        e = self.parse_not()
        op = lx.token.type
        if op is not TokenType.LOG_AND and op is not TokenType.LOG_OR:
            return e
        kind: type[And] | type[Or] = And if op is TokenType.LOG_AND else Or
        terms = flatten(kind, (e,))
        lx.get()
        while True:
            terms.extend(flatten(kind, (self.parse_not(),)))
            if not lx.match(op):
                break
        if lx.token.type in (TokenType.LOG_AND, TokenType.LOG_OR):
            lx.error("&& and || must be parenthesized when used together.",
                     LflowSyntaxError)
        return kind(tuple(terms))

    def parse_not(self) -> Expr:
        """Parse ``not``."""
        if not self.lexer.match(TokenType.LOG_NOT):
            return self.parse_primary()[0]
        self.not_ = not self.not_
        e, atomic = self.parse_primary()
        self.not_ = not self.not_
        if not atomic:
            self.lexer.error("Missing parentheses around operand of !.", LflowSyntaxError)
        return negate(e)

    def parse_primary(self) -> tuple[Expr, bool]:
        """Parse ``primary``; also say whether it is atomic (may follow ``!``)."""
        lx = self.lexer
        if lx.match(TokenType.LPAREN):
            if self.paren_depth >= _MAX_PAREN_DEPTH:
                lx.error("Parentheses nested too deeply.", LflowSyntaxError)
            self.paren_depth += 1
            e = self.parse()
            self.paren_depth -= 1
            lx.force_match(TokenType.RPAREN)
            return e, True
        first = lx.token
        if first.type is TokenType.ID:
            if lx.lookahead() is TokenType.LPAREN:
                if lx.match_id("is_chassis_resident"):
                    lx.get()
                    return self._chassis_resident(), True
                lx.error("parsing function name", LflowSyntaxError)
            f = self.parse_field()
            relop = _RELOPS.get(lx.token.type)
            if relop is None:
                if not f.n_bits or lx.token.type is TokenType.EQUALS:
                    lx.syntax_error("expecting relational operator")
                if f.n_bits > 1 and not self.not_:
                    lx.error("Explicit `!= 0' is required for inequality test of "
                             "multibit field against 0.")
                zero = ConstantSet((IntConstant(0, LexFormat.HEXADECIMAL),))
                return self.make_cmp(f, Relop.NE, zero), True
            lx.get()
            return self.make_cmp(f, relop, self.parse_constant_set()), False
        c1 = self.parse_constant_set()
        if lx.token.type not in _RELOPS and len(c1.values) == 1 and not c1.in_curlies:
            c = c1.values[0]
            if (isinstance(c, IntConstant) and c.fmt is LexFormat.DECIMAL
                    and c.mask is None and c.value <= 1):
                return Boolean(bool(c.value)), True
        r1 = self._parse_relop()
        f = self.parse_field()
        if lx.token.type not in _RELOPS:
            return self.make_cmp(f, r1.turned, c1), False
        r2 = self._parse_relop()
        c2 = self.parse_constant_set()
        if not ((r1 in _LESS and r2 in _LESS) or (r1 in _GREATER and r2 in _GREATER)):
            lx.error("Range expressions must have the form `x < field < y' or "
                     "`x > field > y', with each `<' optionally replaced by `<=' "
                     "or `>' by `>=').", LflowSyntaxError)
        e1 = self.make_cmp(f, r1.turned, c1)
        e2 = self.make_cmp(f, r2, c2)
        return And(tuple(flatten(And, (e1, e2)))), False

    def _chassis_resident(self) -> Expr:
        lx = self.lexer
        if lx.token.type is not TokenType.STRING:
            lx.syntax_error("expecting string")
        port = lx.token.s
        lx.get()
        lx.force_match(TokenType.RPAREN)
        return ChassisResident(port)

    def _parse_relop(self) -> Relop:
        relop = _RELOPS.get(self.lexer.token.type)
        if relop is None:
            self.lexer.syntax_error("expecting relational operator")
        self.lexer.get()
        return relop

    # --- fields -----------------------------------------------------------

    def parse_field(self) -> FieldRef:
        """Parse a field name with an optional ``[lo..hi]`` bit range."""
        lx = self.lexer
        tok = lx.token
        sym = self.symtab.get(tok.s) if tok.type is TokenType.ID else None
        if sym is None:
            lx.syntax_error("expecting field name")
        lx.get()
        if not lx.match(TokenType.LSQUARE):
            return FieldRef(sym, 0, sym.width)
        if not sym.width:
            lx.error(f"Cannot select subfield of string field {sym.name}.")
        low = lx.force_int()
        high = lx.force_int() if lx.match(TokenType.ELLIPSIS) else low
        lx.force_match(TokenType.RSQUARE)
        if low > high:
            lx.error(f"Invalid bit range {low} to {high}.")
        if high >= sym.width:
            lx.error(f"Cannot select bits {low} to {high} of {sym.width}-bit "
                     f"field {sym.name}.")
        if sym.level is Level.NOMINAL and (low != 0 or high != sym.width - 1):
            lx.error(f"Cannot select subfield of nominal field {sym.name}.")
        return FieldRef(sym, low, high - low + 1)

    # --- constants --------------------------------------------------------

    def parse_constant_set(self) -> ConstantSet:
        """Parse one constant or a ``{...}`` set of them."""
        lx = self.lexer
        acc = _Constants()
        if not lx.match(TokenType.LCURLY):
            self.parse_constant(acc)
            return acc.result(False)
        while True:
            self.parse_constant(acc)
            lx.match(TokenType.COMMA)
            if lx.match(TokenType.RCURLY):
                return acc.result(True)

    def parse_constant(self, acc: _Constants) -> None:
        """Parse one constant (or expand one address set / port group) into acc."""
        lx = self.lexer
        tok = lx.token
        if tok.type is TokenType.STRING:
            acc.add(lx, True, (tok.s,))
        elif tok.type is TokenType.INTEGER:
            acc.add(lx, False, (IntConstant(tok.value, tok.fmt),))
        elif tok.type is TokenType.MASKED_INTEGER:
            acc.add(lx, False, (IntConstant(tok.value, tok.fmt, tok.mask),))
        elif tok.type is TokenType.MACRO:
            self.as_refs.add(tok.s)
            members = _lookup(self.address_sets, tok.s)
            if members is None:
                lx.syntax_error("expecting address set name")
            consts = (constant_from_string(m, tok.s) for m in members)
            acc.add(lx, False, tuple(c for c in consts if c is not None))
        elif tok.type is TokenType.PORT_GROUP:
            sb_name = sb_port_group_name(tok.s, self.dp_key)
            self.pg_refs.add(sb_name)
            ports = None
            if self.port_groups is not None:
                ports = _lookup(self.port_groups, sb_name)
                if ports is None:
                    # Port groups named as in the NB, from older ovn-northd.
                    ports = _lookup(self.port_groups, tok.s)
                    self.pg_refs.add(tok.s)
            if ports is None:
                lx.syntax_error("expecting port group name")
            acc.add(lx, True, tuple(ports))
        else:
            lx.syntax_error("expecting constant")
        lx.get()

    def parse_one_constant(self, f: FieldRef) -> Constant:
        """Parse one constant suitable for ``f`` (OVN's expr_constant_parse)."""
        acc = _Constants()
        self.parse_constant(acc)
        cs = acc.result(False)
        self.type_check(f, cs)
        if not cs.values:
            self.lexer.syntax_error("expecting constant")
        return cs.values[0]

    def type_check(self, f: FieldRef, cs: ConstantSet) -> None:
        """Check that constants ``cs`` suit field ``f`` (OVN's type_check)."""
        sym = f.symbol
        if cs.is_string != (sym.width == 0):
            self.lexer.error(
                f"{'Integer' if sym.width else 'String'} field {sym.name} is not "
                f"compatible with {'string' if cs.is_string else 'integer'} constant.")
        for c in cs.values:
            if isinstance(c, IntConstant) and c.width > sym.width:
                self.lexer.error(f"{c.width}-bit constant is not compatible with "
                                 f"{sym.width}-bit field {sym.name}.")

    def make_cmp(self, f: FieldRef, relop: Relop, cs: ConstantSet) -> Expr:
        """Build the comparison(s) of ``f`` with each constant in ``cs``."""
        lx = self.lexer
        self.type_check(f, cs)
        sym = f.symbol
        if relop is not Relop.EQ and relop is not Relop.NE:
            if cs.in_curlies:
                lx.error("Only == and != operators may be used with value sets.")
            if sym.level is not Level.ORDINAL:
                level = "nominal" if sym.level is Level.NOMINAL else "Boolean"
                lx.error(f"Only == and != operators may be used with {level} "
                         f"field {sym.name}.")
            if not cs.values:
                lx.error("Only == and != operators may be used to compare a "
                         "field against an empty value set.")
            first = cs.values[0]
            if isinstance(first, IntConstant) and first.mask is not None:
                lx.error("Only == and != operators may be used with masked "
                         "constants.  Consider using subfields instead (e.g. "
                         "eth.src[0..15] > 0x1111 in place of eth.src > "
                         "00:00:00:00:11:11/00:00:00:00:ff:ff).")
        if sym.level is Level.NOMINAL:
            self._check_nominal(sym, relop, cs)
        if not cs.values:
            return Boolean(relop is Relop.NE)
        cmps = tuple(_cmp(f, relop, c) for c in cs.values)
        if len(cmps) == 1:
            return cmps[0]
        return Or(cmps) if relop is Relop.EQ else And(cmps)

    def _check_nominal(self, sym: Symbol, relop: Relop, cs: ConstantSet) -> None:
        if sym.predicate is not None:
            for c in cs.values:
                value = c.value if isinstance(c, IntConstant) else 0
                if not (value & 1) ^ (relop is Relop.NE) ^ self.not_:
                    n = sym.name
                    self.lexer.error(
                        f"Nominal predicate {n} may only be tested positively, e.g. "
                        f"`{n}' or `{n} == 1' but not `!{n}' or `{n} == 0'.")
        elif relop is not (Relop.NE if self.not_ else Relop.EQ):
            self.lexer.error(
                f"Nominal field {sym.name} may only be tested for equality "
                "(taking enclosing `!' operators into account).")


def _cmp(f: FieldRef, relop: Relop, c: Constant) -> Cmp:
    if isinstance(c, str):
        return Cmp(f.symbol, relop, string=c)
    # Bits of the constant beyond the selected bit range are dropped, as OVN
    # does (the width check is against the whole symbol).
    ones = (1 << f.n_bits) - 1
    mask = (c.mask if c.mask is not None else ones) & ones
    return Cmp(f.symbol, relop, (c.value & ones) << f.ofs, mask << f.ofs,
               as_name=c.as_name)


class _Constants:
    """Accumulates a constant set, enforcing one type (OVN's cs->type)."""

    __slots__ = ("is_string", "values")

    def __init__(self) -> None:
        self.values: list[Constant] = []
        self.is_string = False

    def add(self, lx: Lexer, is_string: bool, values: tuple[Constant, ...]) -> None:
        """Add constants of one type; mixing integers and strings is an error."""
        if self.values and self.is_string != is_string:
            lx.syntax_error(f"expecting {'string' if self.is_string else 'integer'}")
        self.is_string = is_string
        self.values.extend(values)

    def result(self, in_curlies: bool) -> ConstantSet:
        """The accumulated constants as a set."""
        return ConstantSet(tuple(self.values), self.is_string, in_curlies)


def parse_expr(text: str, symtab: Mapping[str, Symbol] | None = None, *,
               address_sets: AddressSets | None = None,
               port_groups: PortGroups | None = None,
               dp_key: int = 0) -> ParsedExpr:
    """Parse match ``text`` into an expression (not yet annotated).

    ``address_sets`` maps ``$name`` to member strings; ``port_groups`` maps SB
    port group names (``<dp_key>_<name>``, falling back to ``<name>``) to port
    names.  Either may be a mapping or a function returning None for unknown
    names.  Raises :class:`~pyovn.lflow.errors.LflowError` subclasses.
    """
    lexer = Lexer(text)
    parser = ExprParser(lexer, symtab if symtab is not None else ovn_symtab(),
                        address_sets, port_groups, dp_key)
    expr = parser.parse()
    lexer.force_end()
    return ParsedExpr(expr, frozenset(parser.as_refs), frozenset(parser.pg_refs))
