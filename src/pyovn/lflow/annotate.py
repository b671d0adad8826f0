"""Annotation of parsed expressions (OVN 23.03 ``expr_annotate``).

Annotation makes an expression self-contained for conversion to OpenFlow:

- each comparison on a symbol with prerequisites gets them and-ed on
  (``tcp.dst == 80`` becomes ``tcp.dst == 0x50 && ip.proto == 0x6 &&
  (eth.type == 0x800 || eth.type == 0x86dd)``);
- subfield symbols are replaced by their parent field, value and mask shifted
  (``reg0`` is ``xxreg0[96..127]``);
- predicates are replaced by their (annotated) expansion, negated when tested
  negatively.

When every comparison in an And/Or is on the same symbol, its prerequisites
are added once for the whole group rather than to each comparison, exactly as
OVN does (this changes the shape, and hence the OpenFlow flows).  A symbol that
is reached again while expanding itself is an error ("Recursive expansion").

Annotated expansions of each symbol are pure functions of the symbol table, so
successful ones are cached on the table.
"""

from __future__ import annotations

from pyovn.lflow.errors import LflowError, LflowSemanticError
from pyovn.lflow.expr import And, Cmp, Expr, Or, Relop, flatten, join, negate
from pyovn.lflow.parser import parse_expr
from pyovn.lflow.symtab import Symbol, SymbolTable, ovn_symtab

__all__ = ["annotate", "annotated_prerequisites"]


class _AnnotationError(Exception):
    """Internal: an annotation failure, carrying OVN's (nested) message."""


def _unique_symbol(e: Expr) -> Symbol | None:
    """The one symbol every comparison in ``e`` tests, else None."""
    if isinstance(e, Cmp):
        return e.symbol
    if not isinstance(e, And | Or):
        return None
    found: Symbol | None = None
    for t in e.terms:
        s = _unique_symbol(t)
        if s is None or (found is not None and s is not found):
            return None
        found = s
    return found


def _parse_and_annotate(symtab: SymbolTable, key: tuple[str, str], source: str,
                        nesting: tuple[Symbol, ...]) -> Expr:
    """OVN's parse_and_annotate: ``source`` parsed and annotated, or an error."""
    cached = symtab.expansion_cache.get(key)
    if cached is not None:
        return cached
    try:
        e = _annotate(parse_expr(source, symtab).expr, symtab, True, nesting)
    except _AnnotationError as err:
        msg = str(err)
    except LflowError as err:
        msg = err.reason
    else:
        # A success does not depend on 'nesting' (a symbol that could reach an
        # enclosing one would reach itself), so it can be shared.
        symtab.expansion_cache[key] = e
        return e
    raise _AnnotationError(
        f"Error parsing expression `{source}' encountered as prerequisite or "
        f"predicate of initial expression: {msg}")


def _expand(symtab: SymbolTable, sym: Symbol, what: str, source: str,
            nesting: tuple[Symbol, ...]) -> Expr:
    """Parse and annotate ``source``, symbol ``sym``'s prerequisites or predicate."""
    return _parse_and_annotate(symtab, (sym.name, what), source, nesting)


def _prereqs(symtab: SymbolTable, sym: Symbol, nesting: tuple[Symbol, ...]) -> Expr | None:
    if sym.prereqs is None:
        return None
    return _expand(symtab, sym, "prereqs", sym.prereqs, nesting)


def _annotate_cmp(e: Cmp, symtab: SymbolTable, append_prereqs: bool,
                  nesting: tuple[Symbol, ...]) -> Expr:
    sym = e.symbol
    if sym in nesting:
        raise _AnnotationError(f"Recursive expansion of symbol `{sym.name}'.")
    inner = (*nesting, sym)
    prereqs = _prereqs(symtab, sym, inner) if append_prereqs else None
    result: Expr = e
    if sym.parent is not None:
        result = Cmp(sym.parent, e.relop, e.value << sym.parent_ofs,
                     e.mask << sym.parent_ofs, e.string, e.as_name)
    elif sym.predicate is not None:
        result = _expand(symtab, sym, "predicate", sym.predicate, inner)
        if not (e.value & 1) ^ (e.relop is Relop.NE):
            result = negate(result)
    return result if prereqs is None else And(tuple(flatten(And, (result, prereqs))))


def _annotate(e: Expr, symtab: SymbolTable, append_prereqs: bool,
              nesting: tuple[Symbol, ...]) -> Expr:
    if isinstance(e, Cmp):
        return _annotate_cmp(e, symtab, append_prereqs, nesting)
    if not isinstance(e, And | Or):
        return e
    kind = type(e)
    terms: tuple[Expr, ...] = e.terms
    if append_prereqs:
        sym = _unique_symbol(e)
        if sym is not None:
            append_prereqs = False
            prereqs = _prereqs(symtab, sym, nesting)
            if prereqs is not None:
                grouped = join(And, (e, prereqs))
                assert grouped is not None
                if not isinstance(grouped, kind):
                    # An Or gained an And around it: annotate the And's terms.
                    kind = And
                assert isinstance(grouped, And | Or)
                terms = grouped.terms
    out = flatten(kind, (_annotate(t, symtab, append_prereqs, nesting) for t in terms))
    return kind(tuple(out))


def annotate(expr: Expr, symtab: SymbolTable | None = None) -> Expr:
    """Return ``expr`` with prerequisites added, subfields and predicates expanded.

    Raises :class:`~pyovn.lflow.errors.LflowSemanticError` (OVN's message, no
    position) if the symbol table's prerequisites or predicates are broken.
    """
    table = symtab if symtab is not None else ovn_symtab()
    try:
        return _annotate(expr, table, True, ())
    except _AnnotationError as err:
        raise LflowSemanticError(str(err)) from None


def annotated_prerequisites(source: str, symtab: SymbolTable | None = None) -> Expr:
    """Parse and annotate a symbol's prerequisite text (for action operands).

    Raises :class:`~pyovn.lflow.errors.LflowSemanticError` with OVN's message
    ("Error parsing expression `...' encountered as prerequisite ...").
    """
    table = symtab if symtab is not None else ovn_symtab()
    try:
        return _parse_and_annotate(table, (source, "source"), source, ())
    except _AnnotationError as err:
        raise LflowSemanticError(str(err)) from None
