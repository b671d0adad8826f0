"""Abstract syntax of OVN match expressions (OVN 23.03 ``include/ovn/expr.h``).

An expression is one of

- :class:`Cmp`: a symbol compared with a constant by a relational operator.  The
  value and mask are positioned in the symbol's full width, so ``reg0[4..7] ==
  3`` is ``reg0`` with value ``0x30`` and mask ``0xf0``; string symbols compare
  against ``string`` instead;
- :class:`And` / :class:`Or` of two or more sub-expressions, never directly
  containing a node of their own type;
- :class:`Boolean` true or false;
- :class:`ChassisResident`: ``is_chassis_resident("port")``, possibly negated,
  decided on each chassis.

There is no NOT node: as in OVN, the parser pushes ``!`` down into the operands.
All nodes are immutable and hashable, so parsed and annotated matches can be
cached per logical flow and shared.  Simplification, normalization and
conversion to OpenFlow (later, in sibling modules) consume these nodes.

This module also defines the constants the parser produces
(:class:`IntConstant`, :class:`ConstantSet`) and :class:`FieldRef`, a reference
to a symbol or some of its bits, used by actions.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import overload

from pyovn.lflow.symtab import Symbol
from pyovn.lflow.tokens import LexFormat

__all__ = [
    "And",
    "Boolean",
    "ChassisResident",
    "Cmp",
    "ConstantSet",
    "Expr",
    "FieldRef",
    "IntConstant",
    "Or",
    "Relop",
    "combine",
    "negate",
]


class Relop(enum.Enum):
    """Relational operators."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    @property
    def inverse(self) -> Relop:
        """The operator for the negated comparison (``<`` becomes ``>=``)."""
        return _INVERSE[self]

    @property
    def turned(self) -> Relop:
        """The operator with operands swapped (``a < b`` is ``b > a``)."""
        return _TURNED[self]


_INVERSE = {Relop.EQ: Relop.NE, Relop.NE: Relop.EQ, Relop.LT: Relop.GE,
            Relop.LE: Relop.GT, Relop.GT: Relop.LE, Relop.GE: Relop.LT}
_TURNED = {Relop.EQ: Relop.EQ, Relop.NE: Relop.NE, Relop.LT: Relop.GT,
           Relop.LE: Relop.GE, Relop.GT: Relop.LT, Relop.GE: Relop.LE}


@dataclass(frozen=True, slots=True)
class IntConstant:
    """An integer constant as written: value, optional mask, and format.

    ``as_name`` names the address set it came from, if any (not part of
    equality; for incremental processing of address set changes).
    """

    value: int
    fmt: LexFormat = LexFormat.DECIMAL
    mask: int | None = None
    as_name: str | None = field(default=None, compare=False)

    @property
    def width(self) -> int:
        """Minimum width a field needs to hold this constant (OVN's rule)."""
        if self.mask is not None:
            return self.mask.bit_length()
        if self.fmt in (LexFormat.DECIMAL, LexFormat.HEXADECIMAL):
            return self.value.bit_length()
        return {LexFormat.IPV4: 32, LexFormat.IPV6: 128, LexFormat.ETHERNET: 48}[self.fmt]


Constant = IntConstant | str


@dataclass(frozen=True, slots=True)
class ConstantSet:
    """Constants parsed from one operand: a single constant or ``{...}``.

    All values are integers or all are strings (``is_string``).  An empty set
    (from an empty address set) has ``is_string`` False.
    """

    values: tuple[Constant, ...]
    is_string: bool = False
    in_curlies: bool = False


@dataclass(frozen=True, slots=True)
class Cmp:
    """``symbol relop constant``; see the module docstring for value layout."""

    symbol: Symbol
    relop: Relop
    value: int = 0
    mask: int = 0
    string: str | None = None
    as_name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction of two or more expressions, none of them an And."""

    terms: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction of two or more expressions, none of them an Or."""

    terms: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Boolean:
    """The constant true (``1``) or false (``0``)."""

    value: bool


@dataclass(frozen=True, slots=True)
class ChassisResident:
    """``is_chassis_resident(port)``, or its negation."""

    port: str
    negated: bool = False


Expr = Cmp | And | Or | Boolean | ChassisResident


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A symbol or a bit range of it (OVN's ``struct expr_field``).

    For string symbols ``ofs`` and ``n_bits`` are 0.
    """

    symbol: Symbol
    ofs: int
    n_bits: int

    @property
    def is_whole(self) -> bool:
        """True if the reference covers the whole symbol."""
        return self.ofs == 0 and self.n_bits == self.symbol.width


def flatten(kind: type[And] | type[Or], exprs: Iterable[Expr]) -> list[Expr]:
    """Return ``exprs`` with nested ``kind`` nodes spliced in (no combining)."""
    out: list[Expr] = []
    for e in exprs:
        if type(e) is kind and isinstance(e, And | Or):
            out.extend(e.terms)
        else:
            out.append(e)
    return out


@overload
def combine(kind: type[And] | type[Or], a: Expr, b: Expr | None) -> Expr: ...
@overload
def combine(kind: type[And] | type[Or], a: Expr | None, b: Expr) -> Expr: ...
@overload
def combine(kind: type[And] | type[Or], a: Expr | None, b: Expr | None) -> Expr | None: ...
def combine(kind: type[And] | type[Or], a: Expr | None, b: Expr | None) -> Expr | None:
    """``a`` and-ed or or-ed with ``b``, keeping the invariants (OVN's expr_combine).

    None stands for "no expression", so the other operand is returned as is.
    """
    if a is None:
        return b
    if b is None:
        return a
    return kind(tuple(flatten(kind, (a, b))))


def join(kind: type[And] | type[Or], exprs: Iterable[Expr]) -> Expr | None:
    """Combine ``exprs`` left to right with ``kind``; None if there are none."""
    terms = flatten(kind, exprs)
    if not terms:
        return None
    if len(terms) == 1:
        return terms[0]
    return kind(tuple(terms))


def negate(e: Expr) -> Expr:
    """The logical negation of ``e`` with ``!`` pushed to the leaves."""
    if isinstance(e, Cmp):
        return Cmp(e.symbol, e.relop.inverse, e.value, e.mask, e.string, e.as_name)
    if isinstance(e, And):
        return Or(tuple(negate(t) for t in e.terms))
    if isinstance(e, Or):
        return And(tuple(negate(t) for t in e.terms))
    if isinstance(e, Boolean):
        return Boolean(not e.value)
    return ChassisResident(e.port, not e.negated)
