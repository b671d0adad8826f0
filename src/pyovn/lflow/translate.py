"""Translate one Southbound logical flow into the OpenFlow flows ovn-controller 23.03 installs.

:func:`translate_lflow` runs ovn-controller's ``consider_logical_flow`` for one
logical flow on one local datapath:

1. expand chassis template variables, parse the actions (a bad action list
   rejects the flow before its match is looked at, as in OVN);
2. parse the match with the address sets and port groups, and-in the actions'
   prerequisites, annotate, and compile it (:mod:`pyovn.lflow.compile_match`);
3. allocate conjunction ids if the match needs any (:class:`ConjIdAllocator`);
4. encode the actions (:mod:`pyovn.lflow.encode_actions`) -- only if some
   match survived, because encoding may allocate groups and meters;
5. build the flows: OpenFlow table ``8+N`` (ingress) or ``42+N`` (egress),
   the lflow's priority, ``metadata`` = the datapath's tunnel key, cookie = the
   first 32 bits of the lflow UUID.  A conjunction clause flow carries only its
   ``conjunction(...)`` actions and cookie 0, as OVN gives it (several lflows
   may add conjunctions to one such flow; merging them is the flow table's job).

On a switch, a match on a logical inport (ingress) or outport (egress) that is
not related to this chassis is dropped, and an lflow tagged ``in_out_port``
with such a port yields nothing -- when the caller says what is related.

Anything wrong with the flow raises :class:`LflowTranslateError` naming the
lflow, the part (match or actions), the position and OVN's reason.  Nothing
else is raised: should the compiler or encoder fail on some input (a pyovn
bug), that too becomes an :class:`LflowTranslateError`, whose reason starts
with :data:`INTERNAL_ERROR`, so one odd lflow never stops a controller.

**Conjunction ids.** OVN's are arbitrary (a hash of lflow and datapath UUIDs,
first free id on collision).  pyovn's :class:`ConjIdAllocator` starts from
``crc32("<lflow uuid>/<datapath key>")`` (0 skipped) and takes the first run of
``n`` free ids from there, wrapping at 2**32; an allocation sticks to its lflow
until freed, so a recompute with the same allocator gives byte-identical flows.
Only when two lflows hash into each other's ids does the outcome depend on the
order they were first seen; :meth:`ConjIdAllocator.alloc_all` removes even that
by allocating in sorted (lflow, datapath) order.
"""

from __future__ import annotations

import contextlib
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyovn.lflow.action_parser import ActionParams, GenOptionDef, ParsedActions, parse_actions
from pyovn.lflow.actions import Pipeline
from pyovn.lflow.annotate import annotate
from pyovn.lflow.compile_match import CompiledMatch, compile_match
from pyovn.lflow.encode_actions import encode_actions
from pyovn.lflow.encode_params import EncodeParams, no_ids
from pyovn.lflow.errors import LflowError, LflowSemanticError
from pyovn.lflow.expr import And, Expr, combine
from pyovn.lflow.lexer import expand_templates
from pyovn.lflow.parser import AddressSets, PortGroups, parse_expr
from pyovn.lflow.symtab import SymbolTable, ovn_symtab
from pyovn.lflow.tables import (
    LOG_PIPELINE_LEN,
    MFF_LOG_DNAT_ZONE,
    MFF_LOG_INPORT,
    MFF_LOG_OUTPORT,
    MFF_LOG_SNAT_ZONE,
    check_lflow_flow,
    logical_table,
)
from pyovn.openflow.actions import Action as OfAction
from pyovn.openflow.errors import OpenFlowError
from pyovn.openflow.fields import FIELDS
from pyovn.openflow.flow import Flow
from pyovn.openflow.match import Match
from pyovn.openflow.nx_actions import Conjunction

__all__ = ["INTERNAL_ERROR", "ConjIdAllocator", "LflowTranslateError", "Lookups", "ParseCache",
           "conj_hash",
           "lflow_cookie", "translate_lflow"]


class LflowTranslateError(LflowError):
    """A logical flow that cannot be translated; names the flow, where and why.

    Raised by: :func:`translate_lflow`, for an actions or match text that does
    not parse, names unknown fields, or cannot be expressed in OpenFlow, and
    for a flow in a table outside the logical pipelines.
    What to do: log ``str(error)`` once for the lflow and skip it; retranslate
    when the lflow or what it references changes.

    ``part`` is ``"actions"``, ``"match"`` or ``"table"`` (table, pipeline or
    priority); ``position`` the
    character offset in ``text`` (None if not tied to a place); ``reason``
    OVN's wording.
    """

    def __init__(self, lflow_uuid: str, part: str, reason: str, *, text: str = "",
                 position: int | None = None) -> None:
        super().__init__(reason, text=text, position=position)
        self.lflow_uuid = lflow_uuid
        self.part = part
        where = f" at position {position}" if position is not None else ""
        self.args = (f'logical flow {lflow_uuid}: error parsing {part} "{text}"{where}: '
                     f"{reason}",)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.lflow_uuid, self.part, self.reason, self.text,
                           self.position))


def _rebuild(uuid: str, part: str, reason: str, text: str,
             position: int | None) -> LflowTranslateError:
    return LflowTranslateError(uuid, part, reason, text=text, position=position)


#: How the reason of an error caused by a pyovn bug (not by the lflow) begins.
INTERNAL_ERROR = "pyovn internal error: "


def lflow_cookie(lflow_uuid: str) -> int:
    """The OpenFlow cookie of an lflow's flows: the first 32 bits of its UUID."""
    return int(lflow_uuid[:8], 16)


def conj_hash(lflow_uuid: str, dp_key: int) -> int:
    """Where the conjunction ids of an lflow on a datapath start looking (never 0)."""
    return zlib.crc32(f"{lflow_uuid}/{dp_key}".encode()) or 1


class ConjIdAllocator:
    """Chassis-wide conjunction ids, deterministic (see the module docstring).

    ``start`` picks the first id to try (default :func:`conj_hash`).
    """

    __slots__ = ("_by_lflow", "_dps_of", "_start", "_taken")

    def __init__(self, start: Callable[[str, int], int] = conj_hash) -> None:
        self._start = start
        self._taken: set[int] = set()
        # (lflow uuid, datapath key) -> (first id, count)
        self._by_lflow: dict[tuple[str, int], tuple[int, int]] = {}
        # lflow uuid -> datapath keys it holds ids on, so that free() costs its own ids
        self._dps_of: dict[str, set[int]] = {}

    def alloc(self, lflow_uuid: str, dp_key: int, n: int) -> int:
        """The first of ``n`` consecutive ids for the lflow on the datapath."""
        key = (lflow_uuid, dp_key)
        held = self._by_lflow.get(key)
        if held is not None:
            if held[1] == n:
                return held[0]
            self._release(key)
        start = self._start(lflow_uuid, dp_key) & 0xFFFFFFFF or 1
        tried = 0
        while True:
            ids = range(start, start + n)
            clash = next((i for i in ids if i in self._taken or i > 0xFFFFFFFF), None)
            if clash is None:
                break
            tried += clash - start + 1
            if tried > 0xFFFFFFFF:
                raise LflowSemanticError("32-bit conjunction ids exhausted")
            start = clash + 1 if clash < 0xFFFFFFFF else 1
        self._taken.update(ids)
        self._by_lflow[key] = (start, n)
        self._dps_of.setdefault(lflow_uuid, set()).add(dp_key)
        return start

    def alloc_all(self, wanted: Iterable[tuple[str, int, int]]) -> None:
        """Allocate for many (lflow uuid, datapath key, n) in an order-free way."""
        for uuid, dp_key, n in sorted(wanted):
            self.alloc(uuid, dp_key, n)

    def _release(self, key: tuple[str, int]) -> None:
        start, n = self._by_lflow.pop(key)
        self._taken.difference_update(range(start, start + n))
        dps = self._dps_of[key[0]]
        dps.discard(key[1])
        if not dps:
            del self._dps_of[key[0]]

    def free(self, lflow_uuid: str) -> None:
        """Release every id the lflow holds, on every datapath."""
        for dp_key in list(self._dps_of.get(lflow_uuid, ())):
            self._release((lflow_uuid, dp_key))

    def __len__(self) -> int:
        return len(self._taken)


class ParseCache:
    """Parsed actions and annotated matches by their text, shared by lflows and datapaths.

    An lflow on several datapaths (a Logical_DP_Group), or lflows with the same text,
    are parsed once.  A match that names no address set or port group depends on its
    text, the actions' prerequisites and the symbol table only, so its annotated
    expression is kept; one that names some is parsed each time (its members live in
    the caller's look-ups).  Only successes are kept, the ``max_entries`` most recently
    used of each kind: what repeats (``next;``, an lflow's datapaths one after the
    other) stays, while the parse of every other lflow, only useful if that lflow is
    translated again, does not cost memory for as long as the lflow lives.
    """

    __slots__ = ("_actions", "_matches", "hits", "max_entries", "misses")

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._actions: OrderedDict[tuple[object, ...], ParsedActions] = OrderedDict()
        self._matches: OrderedDict[tuple[object, ...], Expr] = OrderedDict()
        self.hits = self.misses = 0

    def actions(self, key: tuple[object, ...], parse: Callable[[], ParsedActions]
                ) -> ParsedActions:
        """The parsed actions for ``key``, parsing them on a miss."""
        found = self._actions.get(key)
        if found is not None:
            self.hits += 1
            self._actions.move_to_end(key)
            return found
        self.misses += 1
        parsed = parse()
        self._keep(self._actions, key, parsed)
        return parsed

    def match(self, key: tuple[object, ...]) -> Expr | None:
        """The annotated match kept for ``key``, if any."""
        found = self._matches.get(key)
        if found is not None:
            self.hits += 1
            self._matches.move_to_end(key)
        return found

    def keep_match(self, key: tuple[object, ...], expr: Expr) -> None:
        """Keep an annotated match that depends on nothing but ``key``."""
        self.misses += 1
        self._keep(self._matches, key, expr)

    def _keep(self, table: OrderedDict[tuple[object, ...], Any], key: tuple[object, ...],
              value: object) -> None:
        table[key] = value
        if len(table) > self.max_entries:
            table.popitem(last=False)

    def clear(self) -> None:
        """Forget every parse (what they depend on changed)."""
        self._actions.clear()
        self._matches.clear()

    def __len__(self) -> int:
        return len(self._actions) + len(self._matches)


def _no_port(_dp_key: int, _name: str) -> int | None:
    return None


@dataclass(frozen=True)
class Lookups:
    """What the chassis knows that a translation depends on.

    - ``lookup_port(dp_key, name)``: tunnel key of a port binding or multicast
      group of that datapath, None if there is none;
    - ``is_related_port(dp_key, port_key)``: whether a switch port is related
      to this chassis (None: every port is);
    - ``address_sets``/``port_groups``: SB Address_Set and Port_Group contents;
    - ``is_chassis_resident(port)``: decides ``is_chassis_resident()``;
    - ``template_vars``: this chassis' Chassis_Template_Var values;
    - ``meter_id``/``group_id``/``tunnel_ofport``/``collector_ids``: see
      :class:`~pyovn.lflow.encode_params.EncodeParams`;
    - ``conj_ids``: the chassis' allocator; None hashes without tracking (no
      collision handling, for one-off translations and tests);
    - ``parse_cache``: a :class:`ParseCache` to reuse parses across calls.
    """

    lookup_port: Callable[[int, str], int | None] = _no_port
    is_related_port: Callable[[int, int], bool] | None = None
    address_sets: AddressSets | None = None
    port_groups: PortGroups | None = None
    is_chassis_resident: Callable[[str], bool] = lambda _port: True
    template_vars: Mapping[str, str] | None = None
    dhcp_opts: Mapping[str, GenOptionDef] | None = None
    dhcpv6_opts: Mapping[str, GenOptionDef] | None = None
    meter_id: Callable[[str], int | None] = no_ids
    group_id: Callable[[str], int | None] = no_ids
    tunnel_ofport: Callable[[str], int | None] = lambda _port: None
    collector_ids: frozenset[int] = frozenset()
    conj_ids: ConjIdAllocator | None = None
    symtab: SymbolTable = field(default_factory=ovn_symtab)
    parse_cache: ParseCache | None = None


_DEFAULT_LOOKUPS = Lookups()




def _pipeline(pipeline: Pipeline | str, uuid: str) -> Pipeline:
    if isinstance(pipeline, Pipeline):
        return pipeline
    try:
        return Pipeline(pipeline)
    except ValueError:
        raise LflowTranslateError(uuid, "table", f"unknown pipeline {pipeline!r}",
                                  text=str(pipeline)) from None


def _conj_start(lookups: Lookups, uuid: str, dp_key: int, n: int) -> int:
    if lookups.conj_ids is not None:
        return lookups.conj_ids.alloc(uuid, dp_key, n)
    return conj_hash(uuid, dp_key)


def _shift_conj_ids(matches: list[CompiledMatch], delta: int) -> list[CompiledMatch]:
    """Renumber conjunctions compiled from id 1 to start at ``1 + delta``."""
    out = []
    for m in matches:
        match = m.match
        conj = match.get("conj_id")
        if conj is not None:
            match = match.replace(conj_id=conj[0] + delta)
        out.append(CompiledMatch(match, tuple((i + delta, k, n)
                                              for i, k, n in m.conjunctions)))
    return out


@contextlib.contextmanager
def _reported(uuid: str, part: str, text: str) -> Iterator[None]:
    """Turn whatever goes wrong while handling ``part`` into an LflowTranslateError."""
    try:
        yield
    except LflowTranslateError:
        raise
    except LflowError as err:
        raise LflowTranslateError(uuid, part, err.reason, text=text,
                                  position=err.position) from None
    except OpenFlowError as err:
        raise LflowTranslateError(uuid, part, str(err), text=text) from None
    except Exception as err:
        # A bug in pyovn must cost one lflow, not the controller; the reason
        # says so, and the fuzz tests fail on it.
        raise LflowTranslateError(uuid, part, f"{INTERNAL_ERROR}{type(err).__name__}: {err}",
                                  text=text) from err


def translate_lflow(uuid: str, pipeline: Pipeline | str, table_id: int, priority: int,
                    match: str, actions: str, *, dp_key: int,
                    lookups: Lookups = _DEFAULT_LOOKUPS, is_switch: bool = True,
                    snat_ct_zone: bool = False, controller_meter: str | None = None,
                    in_out_port: str | None = None) -> list[Flow]:
    """The OpenFlow flows of Logical_Flow ``uuid`` on the datapath with ``dp_key``.

    ``pipeline``, ``table_id``, ``priority``, ``match``, ``actions``,
    ``controller_meter`` and ``in_out_port`` (``tags:in_out_port``) are the
    lflow's columns; ``is_switch`` and ``snat_ct_zone`` describe the datapath
    (a logical switch; ``external_ids:snat-ct-zone`` set).  An empty list means
    the lflow installs nothing here (its match can never be true, or names
    ports that do not concern this chassis).  Raises :class:`LflowTranslateError`.
    """
    pl = _pipeline(pipeline, uuid)
    of_table = _of_table(uuid, pl, table_id, priority)

    def lookup_port(name: str) -> int | None:
        return lookups.lookup_port(dp_key, name)

    related = lookups.is_related_port if is_switch else None
    if in_out_port is not None and lookups.is_related_port is not None:
        key = lookup_port(in_out_port)
        if key is None or not lookups.is_related_port(dp_key, key):
            return []

    symtab = lookups.symtab
    cache = lookups.parse_cache
    actions_text = expand_templates(actions, lookups.template_vars)[0]
    with _reported(uuid, "actions", actions_text):
        def parse() -> ParsedActions:
            return parse_actions(actions_text, symtab, ActionParams(
                pl, table_id, dhcp_opts=lookups.dhcp_opts, dhcpv6_opts=lookups.dhcpv6_opts))
        parsed = parse() if cache is None else cache.actions(
            (actions_text, pl, table_id, id(lookups.dhcp_opts), id(lookups.dhcpv6_opts),
             id(symtab)), parse)

    match_text = expand_templates(match, lookups.template_vars)[0]
    with _reported(uuid, "match", match_text):
        mkey = (match_text, actions_text, pl, table_id, id(symtab))
        expr = cache.match(mkey) if cache is not None else None
        if expr is None:
            found = parse_expr(match_text, symtab, address_sets=lookups.address_sets,
                               port_groups=lookups.port_groups, dp_key=dp_key)
            expr = annotate(combine(And, found.expr, parsed.prereqs), symtab)
            if cache is not None and not found.address_sets_ref \
                    and not found.port_groups_ref:
                cache.keep_match(mkey, expr)
        compiled, n_conjs = compile_match(expr, lookup_port=lookup_port, conj_id_base=1,
                                          symtab=symtab,
                                          is_chassis_resident=lookups.is_chassis_resident)
        if not compiled:
            return []
        if n_conjs:
            start = _conj_start(lookups, uuid, dp_key, n_conjs)
            if start != 1:
                compiled = _shift_conj_ids(compiled, start - 1)

    ctrl_meter_id = 0
    if controller_meter:
        ctrl_meter_id = lookups.meter_id(controller_meter) or 0
    params = EncodeParams(
        pipeline=pl, table_id=table_id, is_switch=is_switch, lookup_port=lookup_port,
        ctrl_meter_id=ctrl_meter_id, meter_id=lookups.meter_id, group_id=lookups.group_id,
        tunnel_ofport=lookups.tunnel_ofport, collector_ids=lookups.collector_ids,
        lflow_uuid=uuid, dp_key=dp_key,
        common_nat_zone=MFF_LOG_SNAT_ZONE if snat_ct_zone else MFF_LOG_DNAT_ZONE)
    with _reported(uuid, "actions", actions_text):
        of_actions = encode_actions(parsed.actions, params)
        return _flows(compiled, of_table, priority, of_actions, lflow_cookie(uuid), dp_key,
                      related, MFF_LOG_INPORT if pl is Pipeline.INGRESS else MFF_LOG_OUTPORT)


def _of_table(uuid: str, pipeline: Pipeline, table_id: int, priority: int) -> int:
    """The OpenFlow table of the lflow, checked, as is its priority."""
    if not 0 <= priority <= 0xFFFF:
        raise LflowTranslateError(uuid, "table", f"priority {priority} is not 0..65535",
                                  text=str(priority))
    if not 0 <= table_id < LOG_PIPELINE_LEN:
        raise LflowTranslateError(uuid, "table", f"table {table_id} is outside the "
                                  f"logical pipeline (0..{LOG_PIPELINE_LEN - 1})",
                                  text=str(table_id))
    of_table = logical_table(pipeline, table_id)
    try:
        check_lflow_flow(of_table)
    except ValueError as err:
        raise LflowTranslateError(uuid, "table", str(err), text=str(table_id)) from None
    return of_table


def _flows(compiled: list[CompiledMatch], of_table: int, priority: int,
           of_actions: tuple[OfAction, ...], cookie: int, dp_key: int,
           related: Callable[[int, int], bool] | None, port_reg: str) -> list[Flow]:
    flows = []
    for m in compiled:
        if related is not None:
            port = m.match.get(port_reg)
            if port is not None and port[0] and not related(dp_key, port[0]):
                continue
        match = _with_metadata(m.match, dp_key)
        if m.conjunctions:
            conj = tuple(Conjunction(i, k, n) for i, k, n in m.conjunctions)
            flows.append(Flow(of_table, priority, match, conj, 0))
        else:
            flows.append(Flow(of_table, priority, match, of_actions, cookie))
    return flows


_FULL_MASK = {name: fl.full_mask for name, fl in FIELDS.items()}


def _with_metadata(match: Match, dp_key: int) -> Match:
    # The compiled match was validated when it was built and metadata needs no
    # prerequisite, so the canonical entries go in as they are (a tenth of the
    # translation time otherwise goes to re-checking them).
    acc = {n: (v, _FULL_MASK[n] if mask is None else mask) for n, v, mask in match}
    acc["metadata"] = (dp_key, _FULL_MASK["metadata"])
    return Match._trusted(acc)
