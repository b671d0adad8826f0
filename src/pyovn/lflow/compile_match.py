"""Compile an annotated match expression into OpenFlow matches (ovn-controller 23.03).

This is OVN's pipeline from ``lflow.c`` and ``expr.c``, in the same order and
with the same decisions, so that the flows equal ovn-controller's:

1. :func:`~pyovn.lflow.simplify.simplify` (``expr_simplify``): only ``==``
   comparisons remain;
2. ``expr_evaluate_condition``: ``is_chassis_resident()`` decided (in the same
   pass as simplification, which gives the same expression; see
   :func:`~pyovn.lflow.simplify.evaluate_conditions` for OVN's separate pass);
3. :func:`~pyovn.lflow.normalize.normalize` (``expr_normalize``): a disjunction
   of conjunctions of clauses;
4. ``expr_to_matches``, here: each conjunction becomes

   - one flow, if all its clauses are single comparisons;
   - one flow per comparison of its one disjunctive clause, if it has one;
   - a *conjunctive match* if it has several disjunctive clauses: for clause
     ``k`` of ``n`` one flow per comparison, carrying the action
     ``conjunction(id, k/n)``, plus one flow matching ``conj_id=id`` that
     carries the logical flow's actions.  Each flow also matches every
     single-comparison clause of the conjunction.

   String comparisons (``inport == "lp1"``) match the port's tunnel key in
   ``reg14``/``reg15``; ``"none"`` is 0 and any other name comes from the
   caller's ``lookup_port``.  An unknown name makes its comparison match
   nothing: the flow is skipped, and so is the rest of a conjunctive match whose
   clause is left without flows (the clauses already emitted stay, as in OVN).
   Identical matches are merged: a plain flow absorbs conjunction flows with the
   same match; conjunction flows with the same match collect all conjunctions.

Conjunction ids are ``conj_id_base``, ``conj_id_base + 1``, ... in the order
OVN allocates them, so a recompilation gives identical results.  The flows
come out in a deterministic order; OpenFlow treats them as a set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyovn.lflow.errors import LflowSemanticError
from pyovn.lflow.expr import And, Boolean, Cmp, Expr, Or
from pyovn.lflow.normalize import normalize, unique_symbol
from pyovn.lflow.simplify import simplify
from pyovn.lflow.symtab import OVS_FIELDS, SymbolTable
from pyovn.openflow.errors import OpenFlowEncodeError
from pyovn.openflow.match import Match

__all__ = ["CompiledMatch", "compile_match", "compile_normalized"]

#: (conj_id, clause 1-based, n_clauses), as in ``conjunction(id, clause/n)``.
Conj = tuple[int, int, int]
# OVS field name -> (value, mask), each field set whole (OVN's mf_mask_subfield).
_Fields = dict[str, tuple[int, int]]
_Key = tuple[tuple[str, tuple[int, int]], ...]


@dataclass(frozen=True, slots=True)
class CompiledMatch:
    """One OpenFlow match of a logical flow.

    ``match`` holds the OpenFlow fields, without ``metadata`` (the translator
    adds the datapath's tunnel key).  ``conjunctions`` is empty for a flow that
    carries the logical flow's actions (a plain match, or a ``conj_id=`` match);
    otherwise the flow's actions are exactly these ``conjunction(id, k/n)``
    actions, ``k`` counting from 1.
    """

    match: Match
    conjunctions: tuple[Conj, ...] = ()


def _byte_mask(n_bits: int) -> int:
    """All ones over the whole bytes that hold an ``n_bits``-bit field."""
    return (1 << ((n_bits + 7) // 8 * 8)) - 1


class _Builder:
    """OVN's ``expr_to_matches`` state: the hash of matches, in insertion order."""

    __slots__ = ("_lookup", "_ports", "flows", "n_conjs")

    def __init__(self, lookup_port: Callable[[str], int | None]) -> None:
        self._lookup = lookup_port
        self._ports: dict[str, int | None] = {}
        # Match key -> conjunctions, or None for a flow with the lflow's actions.
        self.flows: dict[_Key, list[Conj] | None] = {}
        self.n_conjs = 0

    def port(self, name: str) -> int | None:
        """The tunnel key of logical port (or multicast group) ``name``, or None."""
        if name == "none":  # ovn-controller's lookup_port_cb: "none" is 0
            return 0
        if name not in self._ports:
            self._ports[name] = self._lookup(name)
        return self._ports[name]

    def constrain(self, fields: _Fields, cmp: Cmp) -> bool:
        """Set ``cmp``'s field in ``fields``; False for an unknown port name."""
        field = cmp.symbol.field
        if field is None:
            # An OVN field (icmp4.frag_mtu) in a match: the parser lets it
            # through, as OVN's does, and ovn-controller 23.03 then crashes.
            raise LflowSemanticError(
                f"Field {cmp.symbol.name} cannot be matched (it is not an OpenFlow field).")
        if cmp.string is None:
            if field.maskable or cmp.mask == _byte_mask(field.n_bits):
                fields[field.name] = (cmp.value, cmp.mask)
            # else: Open vSwitch's mf_set() ignores a partial mask on a
            # field it cannot mask, and a 6-bit ip_dscp or 2-bit nw_ecn
            # mask is partial over its byte, so ovn-controller 23.03 emits no
            # match on ip.dscp / ip.ecn at all.  Done the same, on purpose.
            return True
        key = self.port(cmp.string)
        if key is None:
            return False
        fields[field.name] = (key, (1 << field.n_bits) - 1)
        return True

    def add(self, fields: _Fields, conj: Conj | None) -> None:
        """OVN's ``expr_match_add``: insert a flow or merge it with an equal one."""
        key = tuple(sorted(fields.items()))
        if key not in self.flows:
            self.flows[key] = None if conj is None else [conj]
            return
        existing = self.flows[key]
        if existing is None or conj is None:
            self.flows[key] = None
        else:
            existing.append(conj)

    def add_cmp(self, cmp: Cmp) -> None:
        """One flow for one comparison."""
        fields: _Fields = {}
        if self.constrain(fields, cmp):
            self.add(fields, None)

    def add_disjunction(self, clause: Or, base: _Fields, conj: Conj | None) -> bool:
        """One flow per comparison of ``clause``; False if none was possible."""
        n = 0
        for sub in clause.terms:
            assert isinstance(sub, Cmp), sub
            fields = dict(base)
            if self.constrain(fields, sub):
                self.add(fields, conj)
                n += 1
        return n > 0

    def add_conjunction(self, conj_expr: And) -> None:
        """Flows for one normalized conjunction (OVN's ``add_conjunction``)."""
        base: _Fields = {}
        clauses: list[Or] = []
        for sub in conj_expr.terms:
            if isinstance(sub, Cmp):
                if not self.constrain(base, sub):
                    return
            else:
                assert isinstance(sub, Or), sub
                clauses.append(sub)
        if not clauses:
            self.add(base, None)
        elif len(clauses) == 1:
            self.add_disjunction(clauses[0], base, None)
        else:
            self.n_conjs += 1
            conj_id = self.n_conjs
            n = len(clauses)
            for k, clause in enumerate(clauses, 1):
                if not self.add_disjunction(clause, base, (conj_id, k, n)):
                    # The conjunction can never match; OVN leaves the
                    # clauses already added in place and adds no conj_id flow.
                    return
            self.add({**base, "conj_id": (conj_id, 0xFFFFFFFF)}, None)


def _to_matches(e: Expr, builder: _Builder) -> None:
    if isinstance(e, Cmp):
        builder.add_cmp(e)
    elif isinstance(e, And):
        builder.add_conjunction(e)
    elif isinstance(e, Or):
        single = unique_symbol(e) is not None
        for sub in e.terms:
            if not single and isinstance(sub, And):
                builder.add_conjunction(sub)
            else:
                assert isinstance(sub, Cmp), sub
                builder.add_cmp(sub)
    elif isinstance(e, Boolean):
        if e.value:
            builder.add({}, None)
    else:
        raise AssertionError(f"not a normalized expression: {e!r}")


def _register_parts(name: str) -> tuple[tuple[str, int], ...] | None:
    """For ``xxregN``/``xregN``: the 32-bit registers it spans, with their shifts."""
    if name.startswith("xxreg"):
        base = int(name[5:]) * 4
        return tuple((f"reg{base + i}", 96 - 32 * i) for i in range(4))
    if name.startswith("xreg"):
        base = int(name[4:]) * 2
        return ((f"reg{base}", 32), (f"reg{base + 1}", 0))
    return None


_PARTS = {name: _register_parts(name) for name in OVS_FIELDS}
_FULL = {name: (1 << f.n_bits) - 1 for name, f in OVS_FIELDS.items()}
_REG32 = 0xFFFFFFFF


def _match(key: _Key, conj_offset: int) -> Match:
    # Exact values go in as plain ints, the codec's fast path; registers wider
    # than 32 bits are split into the 32-bit ones the codec keeps.
    items: list[tuple[str, object]] = []
    for name, (value, mask) in key:
        if name == "conj_id":
            items.append((name, value + conj_offset))
            continue
        parts = _PARTS.get(name)
        if parts is None:
            items.append((name, value if mask == _FULL[name] else (value, mask)))
            continue
        for reg, shift in parts:
            m = mask >> shift & _REG32
            if m:
                v = value >> shift & _REG32
                items.append((reg, v if m == _REG32 else (v, m)))
    try:
        return Match(items)
    except OpenFlowEncodeError as err:
        raise LflowSemanticError(f"Match cannot be expressed in OpenFlow: {err}") from None


def compile_normalized(expr: Expr, *, lookup_port: Callable[[str], int | None],
                       conj_id_base: int) -> tuple[list[CompiledMatch], int]:
    """Convert a normalized expression (:func:`~pyovn.lflow.normalize.normalize`)
    to matches; see :func:`compile_match`."""
    builder = _Builder(lookup_port)
    _to_matches(expr, builder)
    offset = conj_id_base - 1
    out: dict[Match, tuple[Conj, ...] | None] = {}
    for key, conjs in builder.flows.items():
        match = _match(key, offset)
        cs = None if conjs is None else tuple((i + offset, k, n) for i, k, n in conjs)
        if match in out:
            # Open vSwitch matches that OpenFlow 1.5 writes alike (VLAN priority
            # tests without the VLAN-present bit become "dl_vlan_pcp=N"): the
            # switch ends up with one flow, and so do we.
            seen = out[match]
            cs = None if seen is None or cs is None else (
                seen + tuple(c for c in cs if c not in seen))
        out[match] = cs
    return [CompiledMatch(m, cs or ()) for m, cs in out.items()], builder.n_conjs


def compile_match(expr: Expr, *, lookup_port: Callable[[str], int | None],
                  conj_id_base: int, symtab: SymbolTable | None = None,
                  is_chassis_resident: Callable[[str], bool] = lambda _: True,
                  ) -> tuple[list[CompiledMatch], int]:
    """Compile annotated ``expr`` into the OpenFlow matches ovn-controller 23.03 makes.

    ``expr`` is ``annotate(parse_expr(...).expr)`` (with the actions'
    prerequisites and-ed on first, as ovn-controller does).  ``lookup_port``
    maps a logical port or multicast group name to its tunnel key, or None if
    there is none on this datapath (it is not asked about ``"none"``, which is
    0).  ``is_chassis_resident`` decides ``is_chassis_resident(port)``.

    Returns the matches and the number of conjunction ids used; the ids are
    ``conj_id_base`` .. ``conj_id_base + n - 1``.  No match at all means the
    logical flow installs nothing.  ``symtab`` is accepted for symmetry with
    the parser; the expression's symbols carry everything needed.

    Raises :class:`~pyovn.lflow.errors.LflowSemanticError` if a resulting
    match cannot be expressed in OpenFlow 1.5 or tests an OVN-only field
    (never for what ovn-northd emits).
    """
    del symtab  # the annotated comparisons name their OVS fields already
    e = simplify(expr, is_chassis_resident)
    return compile_normalized(normalize(e), lookup_port=lookup_port,
                              conj_id_base=conj_id_base)
