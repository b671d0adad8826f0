"""Normalization of simplified expressions (OVN 23.03 ``expr_normalize``).

The result is a disjunction of conjunctions whose operands are *clauses*: a
single ``==`` comparison, or a disjunction of comparisons on one symbol.  That
is the form OpenFlow can express with conjunctive matches (see
:mod:`pyovn.lflow.compile_match`).  The rules, exactly OVN's:

- In a conjunction the operands are sorted (comparisons and single-symbol
  subexpressions by symbol name, then conjunctions, then disjunctions by their
  number of operands; ties keep their order) and the operands on one symbol
  are *crushed* into one clause: masks intersected, disjunctions distributed
  (``x[0] == 1 && (x[1] == 0 || x[1] == 1)`` becomes ``x == 0x1/0x3 || x ==
  0x3/0x3``), duplicates removed, a contradiction making everything false.
- A conjunction keeps a disjunction over one symbol as a clause, unless that
  symbol is ``must_crossproduct`` (``eth.type``, ``ip.proto``,
  ``icmp6.type``, ``icmp6.code``: prerequisites must appear in every flow).
  The first disjunction that is over several symbols, or over such a symbol,
  is multiplied out (``a && (b || c)`` becomes ``(a && b) || (a && c)``) and
  each product normalized again.

Operand order is preserved wherever OVN preserves it, because it decides which
conjunction gets which id and which clause gets which number.
"""

from __future__ import annotations

from typing import cast

from pyovn.lflow.expr import And, Boolean, Cmp, Expr, Or, Relop
from pyovn.lflow.simplify import FALSE, TRUE, fix_andor, insert_term
from pyovn.lflow.symtab import Symbol

__all__ = ["normalize", "unique_symbol"]

# OVN's enum expr_type order, used when sorting the operands of an And.
_RANK_SYMBOL, _RANK_AND, _RANK_OR, _RANK_OTHER = 0, 1, 2, 3


def unique_symbol(e: Expr) -> Symbol | None:
    """The one symbol every comparison in ``e`` tests, else None (OVN's rule)."""
    if isinstance(e, Cmp):
        return e.symbol
    if not isinstance(e, And | Or):
        return None
    found: Symbol | None = None
    for sub in e.terms:
        s = unique_symbol(sub)
        if s is None or (found is not None and s is not found):
            return None
        found = s
    return found


def _eq(symbol: Symbol, value: int, mask: int) -> Cmp:
    return Cmp(symbol, Relop.EQ, value, mask)


def _cmps(clause: Or) -> tuple[Cmp, ...]:
    """The comparisons of a crushed disjunction (it holds nothing else)."""
    return cast(tuple[Cmp, ...], clause.terms)


# -- crushing: all operands on one symbol into one clause ---------------------------


def _crush(e: Expr, symbol: Symbol) -> Expr:
    """``e`` (over ``symbol`` only) as a comparison, a disjunction of them, or a Boolean."""
    if isinstance(e, Or):
        return _crush_or(e.terms, symbol)
    if isinstance(e, And):
        if symbol.width:
            return _crush_and_numeric(e.terms, symbol)
        return _crush_and_string(e.terms, symbol)
    return e


def _cmp_key(c: Cmp) -> tuple[int, int] | str:
    return (c.value, c.mask) if c.string is None else c.string


def _crush_or(terms: tuple[Expr, ...], symbol: Symbol) -> Expr:
    if not all(isinstance(sub, Cmp) for sub in terms):
        out: list[Expr] = []
        for sub in terms:
            insert_term(Or, out, _crush(sub, symbol))
        fixed = fix_andor(Or, out)
        if not isinstance(fixed, Or):
            return fixed
        terms = fixed.terms
    # Sort by value then mask (OVN compares the big-endian bytes) to bring
    # duplicates together; Python's sort is stable like glibc's merge sort.
    cmps = sorted(cast(tuple[Cmp, ...], terms), key=_cmp_key)
    unique: list[Expr] = [cmps[0]]
    last = _cmp_key(cmps[0])
    for c in cmps[1:]:
        key = _cmp_key(c)
        if key != last:
            unique.append(c)
            last = key
    return fix_andor(Or, unique)


def _crush_and_string(terms: tuple[Expr, ...], symbol: Symbol) -> Expr:
    singleton: Cmp | None = None
    ors: list[Or] = []
    for sub in terms:
        new = _crush(sub, symbol)
        if isinstance(new, Cmp):
            if singleton is None:
                singleton = new
            elif new.string != singleton.string:
                return FALSE
        elif isinstance(new, Or):
            ors.append(new)
        elif isinstance(new, Boolean) and not new.value:
            return FALSE
    if singleton is not None:
        for o in ors:
            if all(c.string != singleton.string for c in _cmps(o)):
                return FALSE
        return singleton
    common: set[str | None] | None = None
    for o in ors:
        strings = {c.string for c in _cmps(o)}
        common = strings if common is None else common & strings
        if not common:
            return FALSE
    # OVN lists the surviving names in hash order; sorted is as good (the
    # order of a clause's flows has no effect) and deterministic.
    names = sorted(s for s in common or () if s is not None)
    return fix_andor(Or, (Cmp(symbol, Relop.EQ, string=s) for s in names))


def _crush_and_numeric(terms: tuple[Expr, ...], symbol: Symbol) -> Expr:
    value = mask = 0
    ors: list[Or] = []
    for sub in terms:
        new = _crush(sub, symbol)
        if isinstance(new, Cmp):
            if (value ^ new.value) & mask & new.mask:
                return FALSE
            value |= new.value
            mask |= new.mask
        elif isinstance(new, Or):
            ors.append(new)
        elif isinstance(new, Boolean) and not new.value:
            return FALSE
    if not ors:
        return TRUE if not mask else _eq(symbol, value, mask)
    if len(ors) == 1:
        # "a && (b || c)" becomes "ab || ac".  The products can repeat
        # ("x != 80 && x == 22" is "x == 22" once per differing bit):
        # ovn-controller 23.03 removes the repeats (the expr.c of later
        # releases read here does not), so sort and deduplicate as crush_or.
        kept = tuple(_eq(symbol, value | c.value, mask | c.mask) for c in _cmps(ors[0])
                     if not (value ^ c.value) & mask & c.mask)
        return _crush_or(kept, symbol) if kept else FALSE
    # "x && (a0 || a1) && (b0 || b1) && rest" becomes
    # "(xa0b0 || xa0b1 || xa1b0 || xa1b1) && rest", crushed again.
    products: list[Expr] = []
    for a in _cmps(ors[0]):
        if (value ^ a.value) & mask & a.mask:
            continue
        av = value | a.value
        am = mask | a.mask
        for b in _cmps(ors[1]):
            if not (av ^ b.value) & am & b.mask:
                products.append(_eq(symbol, av | b.value, am | b.mask))
    rest = ors[2:]
    if not products:
        return FALSE
    first = products[0] if len(products) == 1 else Or(tuple(products))
    if not rest:
        return _crush(first, symbol)
    return _crush(And((first, *rest)), symbol)


# -- sorting the operands of a conjunction ----------------------------------------------


def _sort_key(item: tuple[Expr, Symbol | None]) -> tuple[int, str | int]:
    e, symbol = item
    if symbol is not None:
        return _RANK_SYMBOL, symbol.name
    if isinstance(e, And):
        return _RANK_AND, len(e.terms)
    if isinstance(e, Or):
        return _RANK_OR, len(e.terms)
    return _RANK_OTHER, 0


def _expr_sort(terms: tuple[Expr, ...]) -> list[Expr] | Boolean:
    """OVN's ``expr_sort``: the operands of an And, sorted, each symbol crushed.

    Returns the new operand list (possibly of length 0 or 1) or false.
    """
    items = sorted(((t, unique_symbol(t)) for t in terms), key=_sort_key)
    out: list[Expr] = []
    i, n = 0, len(items)
    while i < n:
        e, symbol = items[i]
        if symbol is None:
            out.append(e)
            i += 1
            continue
        j = i + 1
        while j < n and items[j][1] is symbol:
            j += 1
        if j == i + 1:
            crushed = _crush(e, symbol)
        else:
            group: list[Expr] = []
            for k in range(i, j):
                insert_term(And, group, items[k][0])
            crushed = _crush(And(tuple(group)), symbol)
        i = j
        if isinstance(crushed, Boolean):
            if not crushed.value:
                return FALSE
            continue
        out.append(crushed)
    return out


# -- normalization ------------------------------------------------------------------------


def _normalize_and(terms: tuple[Expr, ...]) -> Expr:
    sorted_terms = _expr_sort(terms)
    if isinstance(sorted_terms, Boolean):
        return sorted_terms
    if not sorted_terms:
        return TRUE  # cannot happen after simplification (OVN would crash)
    if len(sorted_terms) == 1:
        return sorted_terms[0]
    # Adjacent comparisons on one symbol are merged (or contradict).
    out: list[Expr] = []
    for t in sorted_terms:
        prev = out[-1] if out else None
        if isinstance(t, Cmp) and isinstance(prev, Cmp) and prev.symbol is t.symbol:
            if t.symbol.width:
                if (prev.value ^ t.value) & prev.mask & t.mask:
                    return FALSE
                out[-1] = _eq(t.symbol, prev.value | t.value, prev.mask | t.mask)
            elif prev.string == t.string:
                out[-1] = t
            else:
                return FALSE
        else:
            out.append(t)
    if len(out) == 1:
        return out[0]
    for idx, sub in enumerate(out):
        if not isinstance(sub, Or):
            continue
        symbol = unique_symbol(sub)
        if symbol is not None and not symbol.must_crossproduct:
            continue
        products: list[Expr] = []
        for k in sub.terms:
            parts: list[Expr] = []
            for j, m in enumerate(out):
                insert_term(And, parts, k if j == idx else m)
            products.append(And(tuple(parts)))
        return _normalize_or(products)
    return And(tuple(out))


def _normalize_or(terms: list[Expr] | tuple[Expr, ...]) -> Expr:
    out: list[Expr] = []
    for t in terms:
        if isinstance(t, And):
            new = _normalize_and(t.terms)
            if isinstance(new, Boolean):
                if new.value:
                    return TRUE
                continue
            insert_term(Or, out, new)
        else:
            out.append(t)
    if not out:
        return FALSE
    if len(out) == 1:
        return out[0]
    return Or(tuple(out))


def normalize(e: Expr) -> Expr:
    """Return ``e`` in OVN's normal form (a clause, a conjunction of clauses,
    a disjunction of those, or a Boolean).

    ``e`` must be simplified and have its conditions evaluated
    (:mod:`pyovn.lflow.simplify`).
    """
    if isinstance(e, And):
        return _normalize_and(e.terms)
    if isinstance(e, Or):
        return _normalize_or(e.terms)
    return e
