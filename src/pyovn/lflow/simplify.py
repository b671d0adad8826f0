"""Simplification of annotated expressions (OVN 23.03 ``expr_simplify``).

After annotation, an expression still uses every relational operator.
OpenFlow can only test bits for equality under a mask, so simplification
rewrites each comparison into equality tests:

- ``x == v/m`` stays, except that a zero mask makes it true;
- ``x != v/m`` becomes "some masked bit differs": one single-bit test per bit
  of the mask, lowest bit first (``x != 5`` on 3 bits is
  ``x[0] == 0 || x[1] == 1 || x[2] == 0``);
- ``x < c``, ``x <= c``, ``x > c``, ``x >= c`` over a bit range become a
  disjunction of prefix matches, one for each bit position where a larger
  (or smaller) value can first differ from ``c``, plus ``x == c`` for the
  non-strict operators; comparisons against the smallest or largest value of
  the range are true, or treated as ``!=``.

Comparisons on string fields (``inport``) are left alone.  And/Or nodes are
rebuilt with OVN's ``expr_fix`` rules: constant operands are absorbed and a
node left with one operand is replaced by it, so no Boolean survives inside
an And/Or.  :func:`evaluate_conditions` then decides ``is_chassis_resident()``
with the same rules.  Both keep the order of operands, which later decides
the order in which conjunction ids are allocated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyovn.lflow.expr import And, Boolean, ChassisResident, Cmp, Expr, Or, Relop

__all__ = ["FALSE", "TRUE", "evaluate_conditions", "fix_andor", "insert_term", "simplify"]

TRUE = Boolean(True)
FALSE = Boolean(False)


def insert_term(kind: type[And] | type[Or], out: list[Expr], e: Expr) -> None:
    """Append ``e`` to the operands ``out`` of a ``kind`` node, splicing a ``kind``."""
    if isinstance(e, And | Or) and type(e) is kind:
        out.extend(e.terms)
    else:
        out.append(e)


def fix_andor(kind: type[And] | type[Or], terms: Iterable[Expr]) -> Expr:
    """Build a ``kind`` node from ``terms`` as OVN's ``expr_fix`` leaves it.

    A Boolean equal to the short-circuit value (false for And, true for Or)
    decides the node; the other Boolean is dropped; no operand left gives the
    identity, one operand is returned as is.
    """
    short = kind is Or
    out: list[Expr] = []
    for t in terms:
        if isinstance(t, Boolean):
            if t.value is short:
                return TRUE if short else FALSE
            continue
        out.append(t)
    if not out:
        return FALSE if short else TRUE
    if len(out) == 1:
        return out[0]
    return kind(tuple(out))


def _low_bit_range(mask: int) -> tuple[int, int]:
    """``(start, end)`` of the contiguous run of 1-bits in ``mask``."""
    start = (mask & -mask).bit_length() - 1
    return start, mask.bit_length()


def _simplify_ne(e: Cmp) -> Expr:
    """``x != v/m`` as a disjunction of single-bit tests, lowest bit first."""
    terms: list[Expr] = []
    value, mask = e.value, e.mask
    while mask:
        bit = mask & -mask
        terms.append(Cmp(e.symbol, Relop.EQ, bit & ~value, bit))
        mask ^= bit
    if not terms:
        # "x != 0/0": the opposite of "x == 0/0", which every packet matches.
        return FALSE
    return terms[0] if len(terms) == 1 else Or(tuple(terms))


def _simplify_relational(e: Cmp) -> Expr:
    start, end = _low_bit_range(e.mask)
    lt = e.relop in (Relop.LT, Relop.LE)
    eq = e.relop in (Relop.LE, Relop.GE)
    value = e.value
    span = ((1 << (end - start)) - 1) << start
    if value == (span if lt else 0):
        # "x <= max" and "x >= 0" always hold; "x < max" and "x > 0" are "!=".
        return TRUE if eq else _simplify_ne(e)
    # The bits that can flip to make a value smaller (its 1-bits, for < and
    # <=) or larger (its 0-bits, for > and >=) than the constant.
    flips = value if lt else ~value & span
    terms: list[Expr] = []
    if eq:
        terms.append(Cmp(e.symbol, Relop.EQ, value, e.mask))
    while flips:
        bit = flips & -flips
        below = bit - (1 << start)  # bits start..z-1, which become wildcards
        terms.append(Cmp(e.symbol, Relop.EQ, (value ^ bit) & ~below, e.mask & ~below))
        flips ^= bit
    if not terms:
        return FALSE  # "x < 0" or "x > max"
    return terms[0] if len(terms) == 1 else Or(tuple(terms))


def _simplify_cmp(e: Cmp) -> Expr:
    if not e.symbol.width:
        return e
    if e.relop is Relop.EQ:
        # "ip4.dst == 0/0" is just true (its prerequisites stay).
        return e if e.mask else TRUE
    if e.relop is Relop.NE:
        return _simplify_ne(e)
    return _simplify_relational(e)


def simplify(e: Expr, is_chassis_resident: Callable[[str], bool] | None = None) -> Expr:
    """Return ``e`` with every numeric comparison turned into ``==`` tests.

    ``e`` must be annotated (prerequisites added, subfields and predicates
    expanded).  Without ``is_chassis_resident``, ``is_chassis_resident()`` is
    left for :func:`evaluate_conditions`; with it, it is decided on the way,
    which gives the same expression as OVN's two passes in one.
    """
    if isinstance(e, Cmp):
        return _simplify_cmp(e)
    if isinstance(e, And | Or):
        kind = type(e)
        out: list[Expr] = []
        changed = False
        for sub in e.terms:
            new = simplify(sub, is_chassis_resident)
            if new is not sub or isinstance(new, Boolean | kind):
                changed = True
            insert_term(kind, out, new)
        # Shared prerequisite expansions are mostly equality tests already:
        # reuse the node rather than rebuild an equal one.
        return fix_andor(kind, out) if changed else e
    if isinstance(e, ChassisResident) and is_chassis_resident is not None:
        return _resident(e, is_chassis_resident)
    return e


def _resident(e: ChassisResident, is_chassis_resident: Callable[[str], bool]) -> Boolean:
    return TRUE if bool(is_chassis_resident(e.port)) is not e.negated else FALSE


def evaluate_conditions(e: Expr, is_chassis_resident: Callable[[str], bool]) -> Expr:
    """Replace each ``is_chassis_resident(port)`` by its value on this chassis.

    OVN's ``expr_evaluate_condition``: And/Or nodes are fixed up afterwards,
    so the result contains no condition and no Boolean inside an And/Or.
    """
    if isinstance(e, ChassisResident):
        return _resident(e, is_chassis_resident)
    if isinstance(e, And | Or):
        kind = type(e)
        out: list[Expr] = []
        for sub in e.terms:
            insert_term(kind, out, evaluate_conditions(sub, is_chassis_resident))
        return fix_andor(kind, out)
    return e
