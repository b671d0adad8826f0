"""The compiled flows match exactly the packets the expression matches (exhaustive).

As OVN's ``test-ovn exhaustive``: random expressions over a few narrow fields are
compiled, and for *every* possible packet (every value of those fields) the
expression and the OpenFlow flows must agree, conjunctive matches included
(a packet takes a ``conj_id=N`` flow when every clause of conjunction N has a
flow that matches it).  The symbol table is made for it: 3-, 1-, 2- and 2-bit
subfields of three registers (two on one register, so they are crushed together;
one register ``must_crossproduct``), a subfield with prerequisites, predicates,
and a port-name field with known, unknown and ``"none"`` ports.

Packet sets are Python ints used as bit sets over all 2,048 packets, so a whole
expression is evaluated at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyovn.lflow import And, Boolean, ChassisResident, Cmp, Expr, Or, Relop, annotate, parse_expr
from pyovn.lflow.compile_match import CompiledMatch, compile_match
from pyovn.lflow.symtab import SymbolTable, field, predicate, string_field, subfield

SYMTAB = SymbolTable([
    string_field("port", "reg14"),
    field("ra", "reg0"),
    field("rb", "reg1"),
    field("rm", "reg2", must_crossproduct=True),
    subfield("a", "ra[0..2]"),
    subfield("a3", "ra[3]"),
    subfield("b", "rb[0..1]"),
    subfield("bq", "rb[2]", prereqs="m == 1 || m == 2"),
    subfield("m", "rm[0..1]"),
    predicate("pa", "a == 1 || b == 2"),
    predicate("pm", "m != 0 && a3"),
])
# Field -> the values a packet can have (all others bits are zero).
DOMAIN = {"reg0": 16, "reg1": 8, "reg2": 4, "reg14": 4}
ROOT_FIELD = {"ra": "reg0", "rb": "reg1", "rm": "reg2", "port": "reg14"}
PORT_KEYS = {"p1": 1, "p2": 2, "p3": 3}
RESIDENT = {"p1"}
N_PACKETS = 16 * 8 * 4 * 4
ALL = (1 << N_PACKETS) - 1


def _packets() -> list[dict[str, int]]:
    return [{"reg0": a, "reg1": b, "reg2": m, "reg14": p}
            for a in range(16) for b in range(8) for m in range(4) for p in range(4)]


PACKETS = _packets()
# BY_VALUE[field][v]: the packets whose field equals v.
BY_VALUE = {f: [sum(1 << i for i, pkt in enumerate(PACKETS) if pkt[f] == v)
                for v in range(n)] for f, n in DOMAIN.items()}

_TEST: dict[Relop, Callable[[int, int], bool]] = {
    Relop.EQ: lambda x, v: x == v, Relop.NE: lambda x, v: x != v,
    Relop.LT: lambda x, v: x < v, Relop.LE: lambda x, v: x <= v,
    Relop.GT: lambda x, v: x > v, Relop.GE: lambda x, v: x >= v}


@functools.cache
def _field_set(name: str, relop: Relop, value: int, mask: int) -> int:
    """Packets whose ``name`` field, masked, stands in ``relop`` to ``value``."""
    test = _TEST[relop]
    out = 0
    for v, packets in enumerate(BY_VALUE[name]):
        if test(v & mask, value):
            out |= packets
    return out


def lookup(name: str) -> int | None:
    """Port keys; "none" is handled by the compiler, as by ovn-controller."""
    return PORT_KEYS.get(name)


def expr_packets(e: Expr) -> int:
    """The packets an annotated expression matches (OVN's ``expr_evaluate``)."""
    if isinstance(e, Cmp):
        name = ROOT_FIELD[e.symbol.name]
        if e.string is not None:
            key = 0 if e.string == "none" else lookup(e.string)
            return 0 if key is None else _field_set(name, e.relop, key, 0xFFFFFFFF)
        return _field_set(name, e.relop, e.value, e.mask)
    if isinstance(e, And):
        out = ALL
        for t in e.terms:
            out &= expr_packets(t)
        return out
    if isinstance(e, Or):
        out = 0
        for t in e.terms:
            out |= expr_packets(t)
        return out
    if isinstance(e, Boolean):
        return ALL if e.value else 0
    assert isinstance(e, ChassisResident)
    return ALL if (e.port in RESIDENT) != e.negated else 0


def match_packets(m: CompiledMatch) -> int:
    """The packets a flow's match (without ``conj_id``) matches."""
    out = ALL
    for name, value, mask in m.match:
        if name == "conj_id":
            continue
        out &= _field_set(name, Relop.EQ, value, 0xFFFFFFFF if mask is None else mask)
    return out


def flow_packets(matches: list[CompiledMatch]) -> int:
    """The packets the flows send to the logical flow's actions (conjunctions included)."""
    out = 0
    clauses: dict[int, dict[int, int]] = {}
    n_clauses: dict[int, int] = {}
    conj_flows: dict[int, int] = {}
    for m in matches:
        packets = match_packets(m)
        conj_id = m.match.get("conj_id")
        if conj_id is not None:
            conj_flows[conj_id[0]] = packets
        elif not m.conjunctions:
            out |= packets
        for conj, k, n in m.conjunctions:
            clauses.setdefault(conj, {}).setdefault(k, 0)
            clauses[conj][k] |= packets
            n_clauses[conj] = n
    for conj, packets in conj_flows.items():
        if conj not in n_clauses:
            # conj_id is set only by a completed conjunction: with no clause flows (all
            # absorbed by plain flows), the conj_id flow matches nothing.
            continue
        satisfied = packets
        for k in range(1, n_clauses.get(conj, 0) + 1):
            satisfied &= clauses[conj].get(k, 0)
        out |= satisfied
    return out


# -- expressions ----------------------------------------------------------------------

_WIDTH = {"a": 3, "a3": 1, "b": 2, "bq": 1, "m": 2, "ra[0..3]": 4, "rb[1..2]": 2}
_RELOPS = ["==", "!=", "<", "<=", ">", ">="]
_PORTS = ['"p1"', '"p2"', '"p3"', '"px"', '"none"']


def _numeric(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(_WIDTH)))
    top = (1 << _WIDTH[name]) - 1
    kind = draw(st.integers(0, 3))
    if kind == 0:
        relop = draw(st.sampled_from(_RELOPS))
        return f"{name} {relop} {draw(st.integers(0, top))}"
    if kind == 1:
        values = draw(st.lists(st.integers(0, top), min_size=1, max_size=3))
        relop = draw(st.sampled_from(["==", "!="]))
        return f"{name} {relop} {{{', '.join(map(str, values))}}}"
    if kind == 2:
        mask = draw(st.integers(0, top))
        value = draw(st.integers(0, top)) & mask
        return f"{name} == {value}/{mask}"
    lo, hi = sorted((draw(st.integers(0, top)), draw(st.integers(0, top))))
    return f"{lo} <= {name} <= {hi}"


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3, negated: bool = False) -> str:
    """Random expression text; string comparisons only where OVN allows them."""
    kind = draw(st.integers(0, 9 if depth else 6))
    if kind <= 2:
        return _numeric(draw)
    if kind == 3:
        return draw(st.sampled_from(["a3", "!a3", "bq", "!bq", "pa", "!pa", "pm", "0", "1"]))
    if kind == 4:
        port = draw(st.sampled_from(_PORTS))
        return f"{draw(st.sampled_from(['', '!']))}is_chassis_resident({port})"
    if kind <= 6:
        if negated:
            return _numeric(draw)
        ports = draw(st.lists(st.sampled_from(_PORTS), min_size=1, max_size=3))
        return f"port == {{{', '.join(ports)}}}" if len(ports) > 1 else f"port == {ports[0]}"
    op = draw(st.sampled_from([" && ", " || "]))
    if kind == 9:
        return f"!({draw(expressions(depth - 1, not negated))})"
    n = draw(st.integers(2, 4))
    return op.join(f"({draw(expressions(depth - 1, negated))})" for _ in range(n))


def _value_set(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(_WIDTH)))
    top = (1 << _WIDTH[name]) - 1
    if draw(st.booleans()):
        lo, hi = sorted((draw(st.integers(0, top)), draw(st.integers(0, top))))
        return f"{lo} <= {name} <= {hi}"
    values = draw(st.lists(st.integers(0, top), min_size=2, max_size=4))
    return f"{name} == {{{', '.join(map(str, values))}}}"


@st.composite
def conjunctions(draw: st.DrawFn) -> str:
    """Value sets on several fields and-ed together: what becomes conjunctive matches."""
    parts = [_value_set(draw) for _ in range(draw(st.integers(2, 4)))]
    if draw(st.booleans()):
        ports = draw(st.lists(st.sampled_from(_PORTS), min_size=2, max_size=3))
        parts.append(f"port == {{{', '.join(ports)}}}")
    parts += draw(st.lists(expressions(1), max_size=2))
    text = " && ".join(f"({p})" for p in draw(st.permutations(parts)))
    if draw(st.integers(0, 3)) == 0:
        # Two conjunctions sharing a clause share its flows.
        text = f"({text}) || ({parts[0]} && {_value_set(draw)})"
    elif draw(st.booleans()):
        text = f"({text}) || ({draw(conjunctions())})" if draw(st.booleans()) else (
            f"({text}) || ({draw(expressions(2))})")
    return text


def compile_text(text: str, conj_id_base: int = 1) -> tuple[Expr, list[CompiledMatch], int]:
    """Annotate and compile ``text`` with the test symbol table."""
    expr = annotate(parse_expr(text, SYMTAB).expr, SYMTAB)
    matches, n = compile_match(expr, lookup_port=lookup, conj_id_base=conj_id_base,
                               symtab=SYMTAB, is_chassis_resident=RESIDENT.__contains__)
    return expr, matches, n


_SETTINGS = settings(max_examples=400, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(expressions())
def test_flows_match_exactly_the_packets_the_expression_matches(text: str) -> None:
    expr, matches, _ = compile_text(text)
    assert flow_packets(matches) == expr_packets(expr), text


@_SETTINGS
@given(conjunctions())
def test_conjunctive_flows_match_exactly_the_packets_the_expression_matches(
        text: str) -> None:
    expr, matches, _ = compile_text(text)
    assert flow_packets(matches) == expr_packets(expr), text


@_SETTINGS
@given(st.one_of(expressions(), conjunctions()), st.integers(1, 1 << 31))
def test_recompiling_is_identical_and_ids_stay_in_range(text: str, base: int) -> None:
    _, first, n = compile_text(text, base)
    _, again, n_again = compile_text(text, base)
    assert first == again and n == n_again
    ids = {c[0] for m in first for c in m.conjunctions}
    ids |= {m.match.get("conj_id")[0] for m in first if "conj_id" in m.match}  # type: ignore[index]
    assert ids <= set(range(base, base + n))


def test_property_symbols_do_make_conjunctions_and_crossproducts() -> None:
    # Guards the property tests against passing vacuously.
    _, matches, n = compile_text("a == {1, 2, 5} && b == {1, 2}")
    assert n == 1 and sum(bool(m.conjunctions) for m in matches) == 5
    _, matches, n = compile_text("m == {1, 2} && a == {1, 2} && b == {1, 2}")
    assert n == 2  # m is must_crossproduct: one conjunction per value of m
    _, matches, n = compile_text("a == {1, 2} && a3 == 1 && port == {\"p1\", \"p2\"}")
    assert n == 1 and all(m.match.get("reg0") in (None, (9, 0xF), (10, 0xF))
                          for m in matches)
